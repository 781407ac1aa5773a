//! Network warnings for `check`: the NetworkPolicy restrictions the Pods of a checked object would
//! live under, per direction — which policies default-deny it, what they still allow (ports and
//! peers), and for egress whether DNS is reachable. Warnings only: they never change the
//! admission verdict. Policies are matched to the new Pods by the index (podSelector against the
//! template's labels, in the object's namespace). DNS is asked of the reach engine
//! (`engine/network`: NetworkPolicy, AdminNetworkPolicy and Baseline, Cilium) with a stand-in Pod
//! for each manifest object laid over the cluster state, towards the cluster DNS Service
//! (`kube-system/kube-dns`) on UDP 53; without a DNS Service in the state read, the NetworkPolicy
//! rules are read for port 53 instead.

use serde_json::Value;

use crate::adapters::AdapterOutput;
use crate::engine::network::verdict::Verdict as ReachVerdict;
use crate::engine::network::{NetworkModel, ReachOptions};
use crate::model::constraint::{NetworkPeer, NetworkPolicyDetails, NetworkPort, NetworkRule};
use crate::model::finding::NetworkWarning;
use crate::model::{Constraint, Details};
use crate::source::Snapshot;
use crate::source::snapshot::object_from_value;

use super::dispatch::{CheckContext, ObjectUnderCheck};
use super::{CheckRequest, podtemplate};

/// The Services that answer cluster DNS, as `namespace/name`, in the order they are tried.
const DNS_SERVICES: &[(&str, &str)] = &[
    ("kube-system", "kube-dns"),
    ("kube-system", "coredns"),
    ("kube-system", "rke2-coredns-rke2-coredns"),
];

/// The name of the stand-in Pod for the manifest object at `index` (0-based).
fn stand_in_name(index: usize) -> String {
    format!("potoo-check-{index}")
}

/// The cluster state with a stand-in Pod for every manifest object that creates Pods (the Pod
/// itself, or the Pod its controller would create), named `potoo-check-<index>` so it never
/// collides with a running Pod; `None` when no manifest creates Pods.
pub fn snapshot_with_stand_ins(merged: &Snapshot, request: &CheckRequest) -> Option<Snapshot> {
    let mut stand_ins = Vec::new();
    for (index, manifest) in request.manifests.iter().enumerate() {
        let Some(namespace) = super::target_namespace(&manifest.object, &request.default_namespace)
        else {
            continue;
        };
        let group_kind = manifest.object.group_kind();
        let mut pod = if group_kind.group.is_empty() && group_kind.kind == "Pod" {
            manifest.object.value.clone()
        } else {
            match podtemplate::pod_from_template(
                &group_kind.group,
                &group_kind.kind,
                &manifest.object.value,
                Some(&namespace),
            ) {
                Some(template) if template.kind.creates_pods => template.pod,
                _ => continue,
            }
        };
        if let Some(metadata) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("name".to_string(), Value::String(stand_in_name(index)));
            metadata.insert("namespace".to_string(), Value::String(namespace));
            metadata.remove("generateName");
            metadata.remove("ownerReferences");
        }
        if let Ok(object) = object_from_value(pod) {
            stand_ins.push(object);
        }
    }
    if stand_ins.is_empty() {
        return None;
    }
    let mut snapshot = Snapshot::new(merged.source.clone());
    for object in merged.objects() {
        snapshot.insert(object.clone());
    }
    for object in stand_ins {
        snapshot.insert(object);
    }
    for gap in &merged.gaps {
        snapshot.add_gap(gap.clone());
    }
    Some(snapshot)
}

/// The reach engine over the state with stand-ins.
pub fn model<'a>(snapshot: &'a Snapshot, adapted: &AdapterOutput) -> NetworkModel<'a> {
    NetworkModel::new(snapshot, &adapted.constraints, ReachOptions::default())
}

/// What the reach engine says of DNS from the stand-in Pod of the object at `index`: `None`
/// when it cannot say (no DNS Service with Pods in the state read, no stand-in).
fn dns_answer(model: &NetworkModel<'_>, namespace: &str, index: usize) -> Option<String> {
    let source = format!("{namespace}/pod/{}", stand_in_name(index));
    DNS_SERVICES.iter().find_map(|(service_namespace, name)| {
        let destination = format!("{service_namespace}/svc/{name}:53/UDP");
        let result = model.reach(&source, &destination, namespace).ok()?;
        match result.verdict {
            ReachVerdict::Allowed => Some(String::new()),
            ReachVerdict::Denied => Some(format!(
                "DNS egress (UDP 53 to Service {service_namespace}/{name}) is denied: {}",
                result.reason
            )),
            ReachVerdict::Unknown => Some(format!(
                "DNS egress (UDP 53 to Service {service_namespace}/{name}) may be denied: {}",
                result.reason
            )),
        }
    })
}

/// The warnings for an object that creates Pods (none for other objects). `model` is the reach
/// engine over `snapshot_with_stand_ins`, `index` the object's position in the request.
pub fn warnings(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    model: Option<&NetworkModel<'_>>,
    index: usize,
) -> Vec<NetworkWarning> {
    if !object.creates_pods {
        return Vec::new();
    }
    let dns = model.and_then(|model| dns_answer(model, object.namespace, index));
    let matched = context.index.for_workload(object.workload);
    let mut warnings = Vec::new();
    for direction in ["ingress", "egress"] {
        let policies: Vec<(&Constraint, &NetworkPolicyDetails)> = matched
            .iter()
            .filter_map(|matched| match &matched.constraint.details {
                Details::NetworkPolicy(details) if details.direction == direction => {
                    Some((matched.constraint, details))
                }
                _ => None,
            })
            .collect();
        let dns = if direction == "egress" {
            dns.as_deref()
        } else {
            None
        };
        if let Some(warning) = direction_warning(direction, &policies, dns) {
            warnings.push(warning);
        }
    }
    warnings
}

/// The warning for one direction: `None` when no policy selects the Pods in that direction or
/// one of them allows everything (and, for egress, DNS is not denied). `dns` is the reach
/// engine's answer for egress DNS (empty: allowed), when it had one.
pub fn direction_warning(
    direction: &str,
    policies: &[(&Constraint, &NetworkPolicyDetails)],
    dns: Option<&str>,
) -> Option<NetworkWarning> {
    let dns_denial = dns.filter(|answer| !answer.is_empty());
    if policies.is_empty() || policies.iter().any(|(_, details)| details.allow_all) {
        // Other policy kinds (AdminNetworkPolicy, Cilium) may still deny DNS.
        return dns_denial.map(|denial| NetworkWarning {
            direction: direction.to_string(),
            constraint_ids: Vec::new(),
            message: denial.to_string(),
        });
    }
    let names: Vec<String> = policies
        .iter()
        .map(|(constraint, _)| format!("`{}`", constraint.source.name))
        .collect();
    let rules: Vec<&NetworkRule> = policies
        .iter()
        .flat_map(|(_, details)| details.rules.iter())
        .collect();
    let (subject, preposition) = if direction == "egress" {
        ("egress from these pods", "to")
    } else {
        ("ingress to these pods", "from")
    };
    let mut message = format!(
        "{subject} is default-denied by NetworkPolicy {}",
        names.join(", ")
    );
    if rules.is_empty() {
        message.push_str("; nothing is allowed");
    } else {
        let allowed: Vec<String> = rules
            .iter()
            .map(|rule| {
                format!(
                    "{} {preposition} {}",
                    ports_text(&rule.ports),
                    peers_text(&rule.peers)
                )
            })
            .collect();
        message.push_str(&format!("; allowed: {}", allowed.join(", ")));
    }
    match dns {
        Some("") => {}
        Some(denial) => {
            message.push_str("; ");
            message.push_str(denial);
        }
        None if direction == "egress" && !rules.iter().any(|rule| allows_dns(rule)) => {
            message.push_str("; no DNS (UDP/TCP 53) egress allowed");
        }
        None => {}
    }
    Some(NetworkWarning {
        direction: direction.to_string(),
        constraint_ids: policies
            .iter()
            .map(|(constraint, _)| constraint.id.clone())
            .collect(),
        message,
    })
}

fn port_text(port: &NetworkPort) -> String {
    match (&port.port, port.end_port) {
        (Some(start), Some(end)) => format!("{} {start}-{end}", port.protocol),
        (Some(single), None) => format!("{} {single}", port.protocol),
        (None, _) => format!("all {} ports", port.protocol),
    }
}

fn ports_text(ports: &[NetworkPort]) -> String {
    if ports.is_empty() {
        return "any port".to_string();
    }
    ports
        .iter()
        .map(port_text)
        .collect::<Vec<_>>()
        .join(" and ")
}

fn peer_text(peer: &NetworkPeer) -> String {
    let mut parts = Vec::new();
    if let Some(selector) = &peer.namespace_selector {
        let text = selector.to_string();
        parts.push(if text.is_empty() {
            "all namespaces".to_string()
        } else {
            format!("namespaces {text}")
        });
    }
    if let Some(selector) = &peer.pod_selector {
        let text = selector.to_string();
        parts.push(if text.is_empty() {
            "all pods".to_string()
        } else {
            text
        });
    }
    if let Some(block) = &peer.ip_block {
        if block.except.is_empty() {
            parts.push(block.cidr.clone());
        } else {
            parts.push(format!("{} except {}", block.cidr, block.except.join(", ")));
        }
    }
    parts.join(" ")
}

fn peers_text(peers: &[NetworkPeer]) -> String {
    if peers.is_empty() {
        return "anywhere".to_string();
    }
    peers.iter().map(peer_text).collect::<Vec<_>>().join(" or ")
}

/// Whether a rule lets DNS queries out: port 53 (or every port) of UDP or TCP, to any peer
/// (which peers serve DNS is not known here).
fn allows_dns(rule: &NetworkRule) -> bool {
    rule.ports.is_empty()
        || rule.ports.iter().any(|port| {
            let start = port
                .port
                .as_deref()
                .and_then(|port| port.parse::<i64>().ok());
            match (port.port.as_deref(), start, port.end_port) {
                (None, _, _) => true,
                (Some("dns" | "dns-tcp"), _, _) => true,
                (_, Some(start), Some(end)) => (start..=end).contains(&53),
                (_, Some(start), None) => start == 53,
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConstraintType, Effect, LabelSelector, Scope, Severity, SourceReference};

    fn policy(name: &str) -> Constraint {
        let source = SourceReference {
            api_version: "networking.k8s.io/v1".to_string(),
            kind: "NetworkPolicy".to_string(),
            namespace: Some("team-a".to_string()),
            name: name.to_string(),
            uid: None,
        };
        Constraint {
            id: format!("NetworkPolicy/team-a/{name}#egress"),
            rule: Some("egress".to_string()),
            constraint_type: ConstraintType::NetworkEgress,
            effect: Effect::Deny,
            severity: Severity::Warning,
            scope: Scope::default(),
            summary: String::new(),
            details: Details::Generic(crate::model::constraint::GenericDetails {
                engine: String::new(),
                scope_source: String::new(),
                spec: None,
            }),
            remediation_hint: None,
            source,
        }
    }

    fn port(protocol: &str, number: &str) -> NetworkPort {
        NetworkPort {
            protocol: protocol.to_string(),
            port: Some(number.to_string()),
            end_port: None,
        }
    }

    #[test]
    fn egress_lists_what_is_allowed_and_missing_dns() {
        let deny = policy("deny-all");
        let database = policy("to-db");
        let deny_details = NetworkPolicyDetails {
            direction: "egress".to_string(),
            default_deny: true,
            allow_all: false,
            rules: Vec::new(),
        };
        let database_details = NetworkPolicyDetails {
            direction: "egress".to_string(),
            default_deny: false,
            allow_all: false,
            rules: vec![NetworkRule {
                peers: vec![NetworkPeer {
                    pod_selector: Some(
                        LabelSelector::from_value(
                            &serde_json::json!({"matchLabels": {"app": "db"}}),
                        )
                        .unwrap(),
                    ),
                    namespace_selector: None,
                    ip_block: None,
                }],
                ports: vec![port("TCP", "5432")],
            }],
        };
        let warning = direction_warning(
            "egress",
            &[(&deny, &deny_details), (&database, &database_details)],
            None,
        )
        .unwrap();
        assert_eq!(
            warning.message,
            "egress from these pods is default-denied by NetworkPolicy `deny-all`, `to-db`; allowed: TCP 5432 to app=db; no DNS (UDP/TCP 53) egress allowed"
        );
        assert_eq!(warning.constraint_ids.len(), 2);

        let mut with_dns = database_details.clone();
        with_dns.rules.push(NetworkRule {
            peers: Vec::new(),
            ports: vec![port("UDP", "53")],
        });
        let warning = direction_warning("egress", &[(&database, &with_dns)], None).unwrap();
        assert!(!warning.message.contains("no DNS"), "{}", warning.message);
        assert!(warning.message.contains("UDP 53 to anywhere"));

        let mut everything = deny_details.clone();
        everything.allow_all = true;
        assert!(direction_warning("egress", &[(&deny, &everything)], None).is_none());
        assert!(direction_warning("egress", &[], None).is_none());
        assert!(direction_warning("egress", &[], Some("")).is_none());
        assert_eq!(
            direction_warning("egress", &[], Some("DNS egress … is denied: x"))
                .unwrap()
                .message,
            "DNS egress … is denied: x"
        );
        // The reach engine's answer replaces the port-53 reading of the rules.
        let allowed = direction_warning("egress", &[(&deny, &deny_details)], Some("")).unwrap();
        assert!(!allowed.message.contains("DNS"), "{}", allowed.message);
        let only_deny = direction_warning("ingress", &[(&deny, &deny_details)], None).unwrap();
        assert_eq!(
            only_deny.message,
            "ingress to these pods is default-denied by NetworkPolicy `deny-all`; nothing is allowed"
        );
    }
}
