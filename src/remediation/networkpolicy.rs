//! NetworkPolicy remediation: a new policy (or an added rule) allowing the peer and port the
//! user's pods need, the DNS egress every default-deny namespace needs, and for a policy in
//! another namespace, the rule its owners would add for the user's pods.

use serde_json::{Value, json};

use super::{Context, apply_command, labels_value, object_name, patch_command, yaml};
use crate::model::constraint::NetworkPolicyDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &NetworkPolicyDetails) -> Vec<Step> {
    let direction = details.direction.as_str();
    let egress = direction == "egress";
    let mut steps = vec![inspect(context, direction)];
    if details.allow_all {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "This policy allows all {direction}: it blocks nothing by itself. If traffic is still refused, another policy or the peer's own ingress rules decide; run `kubectl potoo query --type {direction}` to list them."
            ),
        ));
        return steps;
    }
    if context.policy_is_elsewhere() && context.workload.is_some() {
        steps.push(ask_other_namespace(context, direction));
        return steps;
    }
    steps.push(new_allow_policy(context, direction));
    if !details.default_deny && !details.rules.is_empty() {
        steps.push(extend_policy(context, direction));
    }
    if egress && details.default_deny {
        steps.push(dns_egress(context));
    }
    steps
}

/// See what the policy selects and allows, and test the flow.
fn inspect(context: &Context, direction: &str) -> Step {
    let source = &context.constraint.source;
    let mut step = Step::new(
        Privilege::Developer,
        format!(
            "See which pods NetworkPolicy `{}` selects and what {direction} it allows, then test the flow you need",
            source.name
        ),
    )
    .command(format!(
        "{} describe {}",
        context.policy_kubectl(),
        context.policy_reference()
    ));
    let reach = if direction == "egress" {
        format!(
            "kubectl potoo -n {} reach {} <destination>:<port>",
            context.namespace_text(),
            context.workload_reference()
        )
    } else {
        format!(
            "kubectl potoo -n {} reach <source> {}:<port>",
            context.namespace_text(),
            context.workload_reference()
        )
    };
    step = step.command(reach);
    step
}

/// The peer of a new rule: the destination (egress) or source (ingress), by namespace and labels.
fn placeholder_peer(direction: &str) -> Value {
    let role = if direction == "egress" {
        "destination"
    } else {
        "source"
    };
    json!({
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": format!("<{role} namespace>")}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": format!("<{role} app>")}},
    })
}

/// Ports of a new rule: for ingress, the ports the workload's containers declare.
fn rule_ports(context: &Context, direction: &str) -> Value {
    if direction == "ingress" {
        let mut ports = Vec::new();
        for (_, container) in context.containers() {
            if let Some(Value::Array(declared)) = container.get("ports") {
                for port in declared {
                    if let Some(number) = port.get("containerPort").and_then(Value::as_i64) {
                        let protocol = port
                            .get("protocol")
                            .and_then(Value::as_str)
                            .unwrap_or("TCP");
                        ports.push(json!({"protocol": protocol, "port": number}));
                    }
                }
            }
        }
        if !ports.is_empty() {
            return Value::Array(ports);
        }
    }
    json!([{"protocol": "TCP", "port": "<port>"}])
}

fn rule(context: &Context, direction: &str, peer: Value) -> Value {
    let peer_key = if direction == "egress" { "to" } else { "from" };
    json!({ peer_key: [peer], "ports": rule_ports(context, direction) })
}

/// A new NetworkPolicy in the user's namespace allowing the flow for the user's pods.
fn new_allow_policy(context: &Context, direction: &str) -> Step {
    let labels = context.pod_selector_labels();
    let app = labels.values().next().cloned().unwrap_or_default();
    let name = object_name(&["allow", &app, direction]);
    let policy_type = if direction == "egress" {
        "Egress"
    } else {
        "Ingress"
    };
    let manifest = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": context.namespace_text()},
        "spec": {
            "podSelector": {"matchLabels": labels_value(&labels)},
            "policyTypes": [policy_type],
            direction: [rule(context, direction, placeholder_peer(direction))],
        },
    });
    let what = if direction == "egress" {
        "to the destination"
    } else {
        "from the source"
    };
    Step::new(
        Privilege::NamespaceAdmin,
        format!(
            "Allow the {direction} {} needs with a new NetworkPolicy selecting its pods: NetworkPolicies add up, so this opens only that flow; fill in the peer {what} and the port",
            context.workload_label()
        ),
    )
    .command(apply_command(&context.kubectl()))
    .patch(Patch {
        target: format!("new NetworkPolicy {}/{name}", context.namespace_text()),
        format: PatchFormat::Manifest,
        body: yaml(&manifest),
    })
}

/// Or append the rule to this policy.
fn extend_policy(context: &Context, direction: &str) -> Step {
    let operations = json!([{
        "op": "add",
        "path": format!("/spec/{direction}/-"),
        "value": rule(context, direction, placeholder_peer(direction)),
    }]);
    Step::new(
        Privilege::NamespaceAdmin,
        format!(
            "Or add the rule to NetworkPolicy `{}` itself (it then allows the flow for every pod it selects, not only {})",
            context.constraint.source.name,
            context.workload_label()
        ),
    )
    .command(patch_command(
        &context.policy_kubectl(),
        &context.policy_reference(),
        "json",
        &operations,
    ))
    .patch(Patch {
        target: format!(
            "NetworkPolicy {}/{}",
            context.constraint.source.namespace.as_deref().unwrap_or_default(),
            context.constraint.source.name
        ),
        format: PatchFormat::JsonPatch,
        body: yaml(&operations),
    })
}

/// Whether some NetworkPolicy of the namespace already allows egress on port 53.
fn dns_allowed(context: &Context) -> Option<String> {
    let namespace = context.namespace()?;
    context
        .snapshot
        .of_kind("networking.k8s.io", "NetworkPolicy")
        .filter(|policy| policy.namespace.as_deref() == Some(namespace))
        .find(|policy| {
            policy
                .value
                .pointer("/spec/egress")
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules.iter().any(|rule| {
                        rule.get("ports")
                            .and_then(Value::as_array)
                            .is_some_and(|ports| {
                                ports.iter().any(|port| {
                                    port.get("port") == Some(&json!(53))
                                        || port.get("port") == Some(&json!("dns"))
                                })
                            })
                    })
                })
        })
        .map(|policy| policy.name.clone())
}

/// DNS egress to kube-dns, unless a policy of the namespace already allows port 53.
fn dns_egress(context: &Context) -> Step {
    if let Some(existing) = dns_allowed(context) {
        return Step::new(
            Privilege::Developer,
            format!(
                "DNS egress (port 53) is already allowed by NetworkPolicy `{existing}`; check it selects {}",
                context.workload_label()
            ),
        );
    }
    let manifest = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-dns-egress", "namespace": context.namespace_text()},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }],
        },
    });
    Step::new(
        Privilege::NamespaceAdmin,
        "With egress denied by default, pods cannot resolve names either: allow DNS to kube-dns in every pod of the namespace",
    )
    .command(apply_command(&context.kubectl()))
    .patch(Patch {
        target: format!(
            "new NetworkPolicy {}/allow-dns-egress",
            context.namespace_text()
        ),
        format: PatchFormat::Manifest,
        body: yaml(&manifest),
    })
}

/// The policy lives in the peer's namespace: its owners add a rule for the user's pods.
fn ask_other_namespace(context: &Context, direction: &str) -> Step {
    let policy_namespace = context
        .constraint
        .source
        .namespace
        .clone()
        .unwrap_or_default();
    let peer = json!({
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": context.namespace_text()}},
        "podSelector": {"matchLabels": labels_value(&context.pod_selector_labels())},
    });
    let peer_key = if direction == "egress" { "to" } else { "from" };
    let policy_type = if direction == "egress" {
        "Egress"
    } else {
        "Ingress"
    };
    let name = object_name(&["allow", &context.namespace_text(), direction]);
    let manifest = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": policy_namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "<their pods>"}},
            "policyTypes": [policy_type],
            direction: [{ peer_key: [peer], "ports": [{"protocol": "TCP", "port": "<port>"}] }],
        },
    });
    Step::new(
        Privilege::NamespaceAdmin,
        format!(
            "This policy is in namespace `{policy_namespace}`: only its admins can open it. Ask them (see contacts) to allow {} with a policy like this one",
            context.workload_label()
        ),
    )
    .command(apply_command(&format!("kubectl -n {policy_namespace}")))
    .patch(Patch {
        target: format!("new NetworkPolicy {policy_namespace}/{name}"),
        format: PatchFormat::Manifest,
        body: yaml(&manifest),
    })
}
