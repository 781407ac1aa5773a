//! Cilium remediation: a CiliumNetworkPolicy allowing the flow for the user's endpoint labels,
//! DNS through Cilium's proxy (which `toFQDNs` rules need), and deny sections only their owners
//! can change.

use serde_json::json;

use super::{Context, apply_command, labels_value, object_name, yaml};
use crate::model::details::cilium::CiliumDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &CiliumDetails) -> Vec<Step> {
    let direction = details.direction.as_str();
    let egress = direction == "egress";
    let mut steps = vec![
        Step::new(
            Privilege::Developer,
            format!(
                "See what {} `{}` selects and allows ({direction})",
                context.constraint.source.kind, context.constraint.source.name
            ),
        )
        .command(context.policy_get_command()),
    ];
    if details.deny {
        steps.push(Step::new(
            if details.clusterwide {
                Privilege::ClusterAdmin
            } else {
                context.policy_owner_privilege()
            },
            "Deny rules win over every allow rule of every policy: only the policy's owners (see contacts) can lift it",
        ));
        return steps;
    }
    let labels = context.pod_selector_labels();
    let app = labels.values().next().cloned().unwrap_or_default();
    let name = object_name(&["allow", &app, direction]);
    let peer_key = if egress {
        "toEndpoints"
    } else {
        "fromEndpoints"
    };
    let role = if egress { "destination" } else { "source" };
    let manifest = json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": context.namespace_text()},
        "spec": {
            "endpointSelector": {"matchLabels": labels_value(&labels)},
            direction: [{
                peer_key: [{"matchLabels": {
                    "k8s:io.kubernetes.pod.namespace": format!("<{role} namespace>"),
                    "app.kubernetes.io/name": format!("<{role} app>"),
                }}],
                "toPorts": [{"ports": [{"port": "<port>", "protocol": "TCP"}]}],
            }],
        },
    });
    steps.push(
        Step::new(
            Privilege::NamespaceAdmin,
            format!(
                "Allow the {direction} {} needs with a CiliumNetworkPolicy selecting its endpoints (allow rules add up); fill in the {role} and port",
                context.workload_label()
            ),
        )
        .command(apply_command(&context.kubectl()))
        .patch(Patch {
            target: format!(
                "new CiliumNetworkPolicy {}/{name}",
                context.namespace_text()
            ),
            format: PatchFormat::Manifest,
            body: yaml(&manifest),
        }),
    );
    if egress && details.default_deny {
        let dns = json!({
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": object_name(&["allow", &app, "dns"]), "namespace": context.namespace_text()},
            "spec": {
                "endpointSelector": {"matchLabels": labels_value(&labels)},
                "egress": [{
                    "toEndpoints": [{"matchLabels": {
                        "k8s:io.kubernetes.pod.namespace": "kube-system",
                        "k8s:k8s-app": "kube-dns",
                    }}],
                    "toPorts": [{
                        "ports": [{"port": "53", "protocol": "ANY"}],
                        "rules": {"dns": [{"matchPattern": "*"}]},
                    }],
                }],
            },
        });
        steps.push(
            Step::new(
                Privilege::NamespaceAdmin,
                "Egress is denied by default for these endpoints: allow DNS to kube-dns through Cilium's DNS proxy (toFQDNs rules only work when lookups go through it)",
            )
            .command(apply_command(&context.kubectl()))
            .patch(Patch {
                target: format!("new CiliumNetworkPolicy in {}", context.namespace_text()),
                format: PatchFormat::Manifest,
                body: yaml(&dns),
            }),
        );
    }
    steps
}
