//! NetworkPolicy (`networking.k8s.io/v1`): one constraint per direction in `policyTypes`.

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::constraint::{
    IpBlock, NetworkPeer, NetworkPolicyDetails, NetworkPort, NetworkRule,
};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{Object, Snapshot};

pub struct NetworkPolicyAdapter;

impl Adapter for NetworkPolicyAdapter {
    fn name(&self) -> &'static str {
        "networkpolicy"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[("networking.k8s.io", "NetworkPolicy")]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let spec = object.spec();
        let pod_selector =
            match LabelSelector::from_value(spec.get("podSelector").unwrap_or(&Value::Null)) {
                Ok(selector) => selector,
                Err(error) => {
                    output.diagnose(
                        self,
                        object,
                        format!("spec.podSelector.{error}; policy ignored"),
                    );
                    return;
                }
            };
        for direction in policy_types(spec) {
            let rules_field = if direction == "ingress" {
                "ingress"
            } else {
                "egress"
            };
            let rules = match parse_rules(spec.get(rules_field), direction) {
                Ok(rules) => rules,
                Err(message) => {
                    output.diagnose(
                        self,
                        object,
                        format!("spec.{rules_field}{message}; direction ignored"),
                    );
                    continue;
                }
            };
            output
                .constraints
                .push(constraint(object, &pod_selector, direction, rules));
        }
    }
}

/// `policyTypes`, lowercased; when absent: ingress always, egress when `spec.egress` is non-empty.
fn policy_types(spec: &Value) -> Vec<&'static str> {
    match spec.get("policyTypes").and_then(Value::as_array) {
        Some(types) if !types.is_empty() => {
            let mut directions = Vec::new();
            if types.iter().any(|item| item.as_str() == Some("Ingress")) {
                directions.push("ingress");
            }
            if types.iter().any(|item| item.as_str() == Some("Egress")) {
                directions.push("egress");
            }
            directions
        }
        _ => {
            let has_egress = spec
                .get("egress")
                .and_then(Value::as_array)
                .is_some_and(|rules| !rules.is_empty());
            if has_egress {
                vec!["ingress", "egress"]
            } else {
                vec!["ingress"]
            }
        }
    }
}

fn parse_rules(value: Option<&Value>, direction: &str) -> Result<Vec<NetworkRule>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(": must be a list".to_string()),
    };
    let peers_field = if direction == "ingress" { "from" } else { "to" };
    let mut rules = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut peers = Vec::new();
        if let Some(Value::Array(peer_values)) = item.get(peers_field) {
            for (peer_index, peer) in peer_values.iter().enumerate() {
                let location = format!("[{index}].{peers_field}[{peer_index}]");
                peers.push(parse_peer(peer).map_err(|message| format!("{location}.{message}"))?);
            }
        }
        let mut ports = Vec::new();
        if let Some(Value::Array(port_values)) = item.get("ports") {
            for port in port_values {
                ports.push(NetworkPort {
                    protocol: port
                        .get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("TCP")
                        .to_string(),
                    port: match port.get("port") {
                        Some(Value::Number(number)) => Some(number.to_string()),
                        Some(Value::String(name)) => Some(name.clone()),
                        _ => None,
                    },
                    end_port: port.get("endPort").and_then(Value::as_i64),
                });
            }
        }
        rules.push(NetworkRule { peers, ports });
    }
    Ok(rules)
}

fn parse_peer(peer: &Value) -> Result<NetworkPeer, String> {
    let selector = |field: &str| -> Result<Option<LabelSelector>, String> {
        match peer.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => LabelSelector::from_value(value)
                .map(Some)
                .map_err(|error| format!("{field}.{error}")),
        }
    };
    let ip_block = match peer.get("ipBlock") {
        None | Some(Value::Null) => None,
        Some(block) => Some(IpBlock {
            cidr: block
                .get("cidr")
                .and_then(Value::as_str)
                .ok_or_else(|| "ipBlock.cidr: missing".to_string())?
                .to_string(),
            except: block
                .get("except")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }),
    };
    Ok(NetworkPeer {
        pod_selector: selector("podSelector")?,
        namespace_selector: selector("namespaceSelector")?,
        ip_block,
    })
}

fn constraint(
    object: &Object,
    pod_selector: &LabelSelector,
    direction: &'static str,
    rules: Vec<NetworkRule>,
) -> Constraint {
    let source = SourceReference::from_object(object);
    let default_deny = rules.is_empty();
    let allow_all = rules
        .iter()
        .any(|rule| rule.peers.is_empty() && rule.ports.is_empty());
    let (effect, severity) = if default_deny {
        (Effect::Deny, Severity::Critical)
    } else if allow_all {
        (Effect::Restrict, Severity::Info)
    } else {
        (Effect::Restrict, Severity::Warning)
    };
    let pods = if pod_selector.is_empty() {
        "all pods".to_string()
    } else {
        format!("pods with {pod_selector}")
    };
    let (towards, from_or_to) = if direction == "ingress" {
        ("to", "from")
    } else {
        ("from", "to")
    };
    let summary = if default_deny {
        format!("denies all {direction} {towards} {pods} (default deny)")
    } else if allow_all {
        format!("allows all {direction} {towards} {pods}")
    } else {
        format!(
            "allows {direction} {towards} {pods} only {from_or_to} {}",
            describe_rules(&rules)
        )
    };
    let constraint_type = if direction == "ingress" {
        ConstraintType::NetworkIngress
    } else {
        ConstraintType::NetworkEgress
    };
    let hint = if default_deny {
        Some(format!(
            "add a NetworkPolicy in `{}` that allows the {direction} traffic your pods need",
            object.namespace.as_deref().unwrap_or_default()
        ))
    } else {
        None
    };
    Constraint {
        id: Constraint::make_id(&source, Some(direction)),
        rule: Some(direction.to_string()),
        constraint_type,
        effect,
        severity,
        scope: Scope {
            // A manifest without a namespace lands in `default`, as kubectl would put it.
            namespaces: Some(vec![
                object
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_string()),
            ]),
            workload_selector: Some(pod_selector.clone()),
            ..Scope::default()
        },
        summary,
        details: Details::NetworkPolicy(NetworkPolicyDetails {
            direction: direction.to_string(),
            default_deny,
            allow_all,
            rules,
        }),
        remediation_hint: hint,
        source,
    }
}

/// "pods with app=api in namespaces with team=a on TCP/8080; 10.0.0.0/8 on any port".
pub fn describe_rules(rules: &[NetworkRule]) -> String {
    rules
        .iter()
        .map(describe_peers_and_ports)
        .collect::<Vec<_>>()
        .join("; ")
}

/// "pods with app=api on TCP/8080", "anywhere on any port": the peers and ports of one rule.
pub fn describe_peers_and_ports(rule: &NetworkRule) -> String {
    let peers = if rule.peers.is_empty() {
        "anywhere".to_string()
    } else {
        rule.peers
            .iter()
            .map(describe_peer)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let ports = if rule.ports.is_empty() {
        "any port".to_string()
    } else {
        rule.ports
            .iter()
            .map(describe_port)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!("{peers} on {ports}")
}

pub fn describe_peer(peer: &NetworkPeer) -> String {
    if let Some(block) = &peer.ip_block {
        return if block.except.is_empty() {
            block.cidr.clone()
        } else {
            format!("{} except {}", block.cidr, block.except.join(","))
        };
    }
    match (&peer.pod_selector, &peer.namespace_selector) {
        (Some(pods), Some(namespaces)) => {
            format!("pods with {pods} in namespaces with {namespaces}")
        }
        (Some(pods), None) => format!("pods with {pods}"),
        (None, Some(namespaces)) => format!("namespaces with {namespaces}"),
        (None, None) => "nothing".to_string(),
    }
}

pub fn describe_port(port: &NetworkPort) -> String {
    match (&port.port, port.end_port) {
        (Some(start), Some(end)) => format!("{}/{start}-{end}", port.protocol),
        (Some(number), None) => format!("{}/{number}", port.protocol),
        (None, _) => format!("{}/any", port.protocol),
    }
}
