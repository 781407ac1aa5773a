//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`), and
//! the newer ClusterNetworkPolicy of the same group (`tier: Admin|Baseline`): one constraint per
//! rule, identified `ingress/<rule name>` or `egress/<rule name>` (the index when unnamed).
//!
//! Semantics (sigs.k8s.io/network-policy-api): Admin tier rules are evaluated by ascending
//! priority, then in the order written, before NetworkPolicy; the first matching rule decides
//! (`Allow` accepts even what a NetworkPolicy would deny, `Deny` drops, `Pass` hands the traffic
//! to NetworkPolicy). Baseline rules apply only to pods no NetworkPolicy selects. A peer with no
//! known field fails closed: an `Allow` rule matches nothing through it, `Deny`/`Pass` deny all.

use std::collections::BTreeMap;

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::details::adminnetworkpolicy::{
    AdminNetworkPolicyDetails, AdminNetworkPolicyPeer, AdminNetworkPolicyPort,
    AdminNetworkPolicySubject,
};
use crate::model::selector::SelectorError;
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{Object, Snapshot};

const GROUP: &str = "policy.networking.k8s.io";
const ADMIN: &str = "AdminNetworkPolicy";
const BASELINE: &str = "BaselineAdminNetworkPolicy";
const CLUSTER: &str = "ClusterNetworkPolicy";

pub struct AdminNetworkPolicyAdapter;

impl Adapter for AdminNetworkPolicyAdapter {
    fn name(&self) -> &'static str {
        "adminnetworkpolicy"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[(GROUP, ADMIN), (GROUP, BASELINE), (GROUP, CLUSTER)]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let mut messages = Vec::new();
        let constraints = policy_constraints(object, &mut messages);
        output.constraints.extend(constraints);
        for message in messages {
            output.diagnose(self, object, message);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Allow,
    Deny,
    Pass,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// What every rule of one policy shares.
struct Policy<'a> {
    object: &'a Object,
    baseline: bool,
    priority: Option<i64>,
    subject: AdminNetworkPolicySubject,
    scope: Scope,
    /// "pods in namespaces with env=prod".
    subject_text: String,
}

fn policy_constraints(object: &Object, messages: &mut Vec<String>) -> Vec<Constraint> {
    let spec = object.spec();
    if !spec.is_object() {
        messages.push("spec: missing; policy ignored".to_string());
        return Vec::new();
    }
    let baseline = match object.kind.as_str() {
        BASELINE => {
            if object.name != "default" {
                messages.push(format!(
                    "metadata.name: a BaselineAdminNetworkPolicy must be named `default`, not `{}`; \
                     the API server rejects it; read anyway",
                    object.name
                ));
            }
            true
        }
        CLUSTER => match spec.get("tier").and_then(Value::as_str) {
            Some("Admin") => false,
            Some("Baseline") => true,
            Some(other) => {
                messages.push(format!(
                    "spec.tier: unknown tier `{other}` (expected `Admin` or `Baseline`); policy ignored"
                ));
                return Vec::new();
            }
            None => {
                messages.push("spec.tier: missing; policy ignored".to_string());
                return Vec::new();
            }
        },
        _ => false,
    };
    let priority = if object.kind == BASELINE {
        None
    } else {
        match spec.get("priority") {
            Some(Value::Number(number)) => match number.as_i64() {
                Some(priority) if (0..=1000).contains(&priority) => Some(priority),
                Some(priority) => {
                    messages.push(format!(
                        "spec.priority: {priority} is outside 0–1000; the API server rejects it; \
                         read anyway"
                    ));
                    Some(priority)
                }
                None => {
                    messages.push(
                        "spec.priority: must be an integer; rules read without a priority".into(),
                    );
                    None
                }
            },
            _ => {
                messages.push("spec.priority: missing; rules read without a priority".to_string());
                None
            }
        }
    };
    let (subject, scope, subject_text) = match parse_subject(spec.get("subject")) {
        Ok(parsed) => parsed,
        Err(message) => {
            messages.push(format!("{message}; policy ignored"));
            return Vec::new();
        }
    };
    let policy = Policy {
        object,
        baseline,
        priority,
        subject,
        scope,
        subject_text,
    };
    let mut constraints = Vec::new();
    for direction in ["ingress", "egress"] {
        let items = match spec.get(direction) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(_) => {
                messages.push(format!(
                    "spec.{direction}: must be a list; direction ignored"
                ));
                continue;
            }
        };
        let mut name_counts: BTreeMap<&str, usize> = BTreeMap::new();
        for item in items {
            if let Some(name) = item
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
            {
                *name_counts.entry(name).or_default() += 1;
            }
        }
        for (index, item) in items.iter().enumerate() {
            let path = format!("spec.{direction}[{index}]");
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty());
            let rule_id = match name {
                Some(name) if name_counts.get(name).copied().unwrap_or(0) > 1 => {
                    format!("{direction}/{name}[{index}]")
                }
                Some(name) => format!("{direction}/{name}"),
                None => format!("{direction}/{index}"),
            };
            match policy.rule(item, &path, direction, index, messages) {
                Ok(rule) => constraints.push(policy.constraint(rule_id, name, rule)),
                Err(message) => messages.push(format!("{message}; rule ignored")),
            }
        }
    }
    constraints
}

/// `path.field: problem`, or `path: problem` when the problem is the selector itself.
fn selector_problem(path: &str, error: &SelectorError) -> String {
    if error.field.is_empty() {
        format!("{path}: {}", error.problem)
    } else {
        format!("{path}.{}: {}", error.field, error.problem)
    }
}

/// A label selector at `field` of `parent`; absent means empty (everything).
fn selector(parent: &Value, field: &str, path: &str) -> Result<LabelSelector, String> {
    LabelSelector::from_value(parent.get(field).unwrap_or(&Value::Null))
        .map_err(|error| selector_problem(&format!("{path}.{field}"), &error))
}

fn describe_pods(
    namespace_selector: &LabelSelector,
    pod_selector: Option<&LabelSelector>,
) -> String {
    let pods = match pod_selector {
        Some(selector) if !selector.is_empty() => format!("pods with {selector}"),
        _ => "all pods".to_string(),
    };
    if namespace_selector.is_empty() {
        format!("{pods} in all namespaces")
    } else {
        format!("{pods} in namespaces with {namespace_selector}")
    }
}

fn parse_subject(
    value: Option<&Value>,
) -> Result<(AdminNetworkPolicySubject, Scope, String), String> {
    let path = "spec.subject";
    let subject = match value {
        None | Some(Value::Null) => return Err(format!("{path}: missing")),
        Some(subject) if subject.is_object() => subject,
        Some(_) => return Err(format!("{path}: must be a mapping")),
    };
    let present = |field: &str| subject.get(field).filter(|value| !value.is_null());
    let (namespace_selector, pod_selector) = match (present("namespaces"), present("pods")) {
        (Some(_), Some(_)) => return Err(format!("{path}: sets both `namespaces` and `pods`")),
        (None, None) => return Err(format!("{path}: needs `namespaces` or `pods`")),
        (Some(_), None) => (selector(subject, "namespaces", path)?, None),
        (None, Some(pods)) => {
            let pods_path = format!("{path}.pods");
            (
                selector(pods, "namespaceSelector", &pods_path)?,
                Some(selector(pods, "podSelector", &pods_path)?),
            )
        }
    };
    let text = describe_pods(&namespace_selector, pod_selector.as_ref());
    let scope = Scope {
        namespace_selector: Some(namespace_selector.clone()),
        workload_selector: pod_selector.clone(),
        ..Scope::default()
    };
    Ok((
        AdminNetworkPolicySubject {
            namespace_selector,
            pod_selector,
        },
        scope,
        text,
    ))
}

/// One rule, parsed.
struct Rule {
    direction: &'static str,
    index: usize,
    action: Action,
    peers: Vec<AdminNetworkPolicyPeer>,
    ports: Vec<AdminNetworkPolicyPort>,
    fails_closed: bool,
}

impl Policy<'_> {
    fn tier(&self) -> &'static str {
        if self.baseline { "Baseline" } else { "Admin" }
    }

    fn rule(
        &self,
        item: &Value,
        path: &str,
        direction: &'static str,
        index: usize,
        messages: &mut Vec<String>,
    ) -> Result<Rule, String> {
        if !item.is_object() {
            return Err(format!("{path}: must be a mapping"));
        }
        let action = match item.get("action").and_then(Value::as_str) {
            None => return Err(format!("{path}.action: missing")),
            Some("Allow" | "Accept") => Action::Allow,
            Some("Deny") => Action::Deny,
            Some("Pass") if self.object.kind == BASELINE => {
                return Err(format!(
                    "{path}.action: `Pass` is not allowed in a BaselineAdminNetworkPolicy"
                ));
            }
            Some("Pass") => Action::Pass,
            Some(other) => return Err(format!("{path}.action: unknown action `{other}`")),
        };
        let peers_field = if direction == "ingress" { "from" } else { "to" };
        let peer_values = match item.get(peers_field) {
            Some(Value::Array(peers)) if !peers.is_empty() => peers,
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                return Err(format!(
                    "{path}.{peers_field}: missing; a rule needs at least one peer"
                ));
            }
            Some(_) => return Err(format!("{path}.{peers_field}: must be a list")),
        };
        let mut peers = Vec::new();
        for (peer_index, peer) in peer_values.iter().enumerate() {
            peers.push(parse_peer(
                peer,
                &format!("{path}.{peers_field}[{peer_index}]"),
            )?);
        }
        let unknown_peers: Vec<usize> = peers
            .iter()
            .enumerate()
            .filter(|(_, peer)| matches!(peer, AdminNetworkPolicyPeer::Unknown { .. }))
            .map(|(peer_index, _)| peer_index)
            .collect();
        for peer_index in &unknown_peers {
            let consequence = if action == Action::Allow {
                "the peer matches no traffic"
            } else {
                "the rule denies all traffic"
            };
            messages.push(format!(
                "{path}.{peers_field}[{peer_index}]: no peer field potoo knows; fails closed: \
                 {consequence}"
            ));
        }
        if action != Action::Allow
            && peers
                .iter()
                .any(|peer| matches!(peer, AdminNetworkPolicyPeer::DomainNames { .. }))
        {
            messages.push(format!(
                "{path}.{peers_field}: `domainNames` peers are only allowed in `Allow` rules; \
                 the API server rejects this rule; read anyway"
            ));
        }
        let mut ports = Vec::new();
        for (port_index, port) in list(item, "ports", path)?.iter().enumerate() {
            ports.push(parse_port(port, &format!("{path}.ports[{port_index}]"))?);
        }
        for (protocol_index, protocol) in list(item, "protocols", path)?.iter().enumerate() {
            ports.push(parse_protocol(
                protocol,
                &format!("{path}.protocols[{protocol_index}]"),
            )?);
        }
        if item.get("match").is_some_and(|value| !value.is_null()) {
            return Err(format!(
                "{path}.match: the draft `match` shape is not interpreted (use `protocols`)"
            ));
        }
        let fails_closed = !unknown_peers.is_empty();
        let (action, ports) = if fails_closed && action != Action::Allow {
            (Action::Deny, Vec::new())
        } else {
            (action, ports)
        };
        Ok(Rule {
            direction,
            index,
            action,
            peers,
            ports,
            fails_closed,
        })
    }

    fn constraint(&self, rule_id: String, name: Option<&str>, rule: Rule) -> Constraint {
        let source = SourceReference::from_object(self.object);
        let direction = rule.direction;
        let (towards, from_or_to) = if direction == "ingress" {
            ("to", "from")
        } else {
            ("from", "to")
        };
        let subject = &self.subject_text;
        let peers = rule
            .peers
            .iter()
            .map(describe_peer)
            .collect::<Vec<_>>()
            .join(" or ");
        let ports = describe_ports(&rule.ports);
        let traffic = format!("{direction} {towards} {subject} {from_or_to} {peers} on {ports}");
        let priority = match self.priority {
            Some(priority) => format!("priority {priority}"),
            None => "no priority".to_string(),
        };
        let policy_name = format!("{}/{}", self.object.kind, self.object.name);
        let (effect, severity, summary, hint) = match (rule.action, self.baseline) {
            (Action::Deny, _) if rule.fails_closed => (
                Effect::Deny,
                Severity::Critical,
                format!(
                    "denies all {direction} {towards} {subject}: a peer of rule `{rule_id}` has no \
                     field potoo knows, and the API says to fail closed"
                ),
                Some(format!(
                    "ask a cluster admin to check `{policy_name}` against the installed \
                     network-policy API version"
                )),
            ),
            (Action::Deny, false) => (
                Effect::Deny,
                Severity::Critical,
                format!("denies {traffic} ({priority}; NetworkPolicies cannot allow it)"),
                Some(format!(
                    "only a cluster admin can change this: NetworkPolicies cannot override an \
                     AdminNetworkPolicy `Deny`; ask for an `Allow` or `Pass` rule that takes \
                     precedence over `{policy_name}` (a lower priority number, or an earlier rule)"
                )),
            ),
            (Action::Allow, false) => (
                Effect::Restrict,
                Severity::Info,
                format!("allows {traffic}, overriding NetworkPolicies ({priority})"),
                None,
            ),
            (Action::Pass, false) => (
                Effect::Restrict,
                Severity::Info,
                format!("delegates {traffic} to NetworkPolicy ({priority})"),
                Some(
                    "NetworkPolicies in the pods' namespace decide this traffic, then the baseline"
                        .to_string(),
                ),
            ),
            (Action::Deny, true) => (
                Effect::Deny,
                Severity::Critical,
                format!("baseline: denies {traffic} unless a NetworkPolicy selects the pods"),
                Some(
                    "add a NetworkPolicy that selects the pods and allows this traffic: \
                     NetworkPolicies take precedence over the baseline"
                        .to_string(),
                ),
            ),
            (Action::Allow, true) => (
                Effect::Restrict,
                Severity::Info,
                format!("baseline: allows {traffic} unless a NetworkPolicy selects the pods"),
                None,
            ),
            (Action::Pass, true) => (
                Effect::Restrict,
                Severity::Info,
                format!("baseline: passes {traffic} on (no baseline decision)"),
                None,
            ),
        };
        Constraint {
            id: Constraint::make_id(&source, Some(&rule_id)),
            rule: Some(rule_id),
            constraint_type: if direction == "ingress" {
                ConstraintType::NetworkIngress
            } else {
                ConstraintType::NetworkEgress
            },
            effect,
            severity,
            scope: self.scope.clone(),
            summary,
            details: Details::AdminNetworkPolicy(AdminNetworkPolicyDetails {
                direction: direction.to_string(),
                action: rule.action.as_str().to_string(),
                tier: self.tier().to_string(),
                baseline: self.baseline,
                priority: self.priority,
                rule_index: rule.index,
                rule_name: name.map(str::to_string),
                subject: self.subject.clone(),
                peers: rule.peers,
                ports: rule.ports,
                fails_closed: rule.fails_closed,
            }),
            remediation_hint: hint,
            source,
        }
    }
}

/// `field` of `item` as a list; absent or null is empty.
fn list<'a>(item: &'a Value, field: &str, path: &str) -> Result<&'a [Value], String> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{path}.{field}: must be a list")),
    }
}

fn strings(item: &Value, field: &str, path: &str) -> Result<Vec<String>, String> {
    list(item, field, path)?
        .iter()
        .enumerate()
        .map(|(index, value)| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{path}.{field}[{index}]: must be a string"))
        })
        .collect()
}

const PEER_FIELDS: &[&str] = &["namespaces", "pods", "nodes", "networks", "domainNames"];

fn parse_peer(peer: &Value, path: &str) -> Result<AdminNetworkPolicyPeer, String> {
    let Some(fields) = peer.as_object() else {
        return Err(format!("{path}: must be a mapping"));
    };
    let known: Vec<&str> = PEER_FIELDS
        .iter()
        .copied()
        .filter(|field| fields.get(*field).is_some_and(|value| !value.is_null()))
        .collect();
    match known.as_slice() {
        [] => Ok(AdminNetworkPolicyPeer::Unknown {
            fields: fields.keys().cloned().collect(),
        }),
        ["namespaces"] => Ok(AdminNetworkPolicyPeer::Namespaces {
            namespace_selector: selector(peer, "namespaces", path)?,
        }),
        ["pods"] => {
            let pods = &peer["pods"];
            let pods_path = format!("{path}.pods");
            Ok(AdminNetworkPolicyPeer::Pods {
                namespace_selector: selector(pods, "namespaceSelector", &pods_path)?,
                pod_selector: selector(pods, "podSelector", &pods_path)?,
            })
        }
        ["nodes"] => Ok(AdminNetworkPolicyPeer::Nodes {
            node_selector: selector(peer, "nodes", path)?,
        }),
        ["networks"] => Ok(AdminNetworkPolicyPeer::Networks {
            cidrs: strings(peer, "networks", path)?,
        }),
        ["domainNames"] => Ok(AdminNetworkPolicyPeer::DomainNames {
            domain_names: strings(peer, "domainNames", path)?,
        }),
        several => Err(format!(
            "{path}: sets more than one of {}; exactly one is allowed",
            several
                .iter()
                .map(|field| format!("`{field}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn protocol_of(value: &Value) -> String {
    value
        .get("protocol")
        .and_then(Value::as_str)
        .filter(|protocol| !protocol.is_empty())
        .unwrap_or("TCP")
        .to_string()
}

fn port_number(value: &Value, field: &str, path: &str) -> Result<i64, String> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{path}.{field}: missing"))
}

/// An AdminNetworkPolicy `ports` entry: `portNumber`, `namedPort` or `portRange`.
fn parse_port(port: &Value, path: &str) -> Result<AdminNetworkPolicyPort, String> {
    if let Some(number) = port.get("portNumber").filter(|value| value.is_object()) {
        return Ok(AdminNetworkPolicyPort::PortNumber {
            protocol: protocol_of(number),
            port: port_number(number, "port", &format!("{path}.portNumber"))?,
        });
    }
    if let Some(name) = port.get("namedPort").and_then(Value::as_str) {
        return Ok(AdminNetworkPolicyPort::NamedPort {
            name: name.to_string(),
        });
    }
    if let Some(range) = port.get("portRange").filter(|value| value.is_object()) {
        let range_path = format!("{path}.portRange");
        return Ok(AdminNetworkPolicyPort::PortRange {
            protocol: protocol_of(range),
            start: port_number(range, "start", &range_path)?,
            end: port_number(range, "end", &range_path)?,
        });
    }
    Err(format!(
        "{path}: needs `portNumber`, `namedPort` or `portRange`"
    ))
}

/// A ClusterNetworkPolicy `protocols` entry: `tcp`/`udp`/`sctp` with an optional
/// `destinationPort` (`number` or `range`), or `destinationNamedPort`.
fn parse_protocol(protocol: &Value, path: &str) -> Result<AdminNetworkPolicyPort, String> {
    if let Some(name) = protocol.get("destinationNamedPort").and_then(Value::as_str) {
        return Ok(AdminNetworkPolicyPort::NamedPort {
            name: name.to_string(),
        });
    }
    for (field, name) in [("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")] {
        let Some(matcher) = protocol.get(field).filter(|value| !value.is_null()) else {
            continue;
        };
        let matcher_path = format!("{path}.{field}");
        let Some(port) = matcher
            .get("destinationPort")
            .filter(|value| !value.is_null())
        else {
            // Every port of the protocol.
            return Ok(AdminNetworkPolicyPort::PortRange {
                protocol: name.to_string(),
                start: 1,
                end: 65535,
            });
        };
        let port_path = format!("{matcher_path}.destinationPort");
        if let Some(number) = port.get("number").and_then(Value::as_i64) {
            return Ok(AdminNetworkPolicyPort::PortNumber {
                protocol: name.to_string(),
                port: number,
            });
        }
        if let Some(range) = port.get("range").filter(|value| value.is_object()) {
            let range_path = format!("{port_path}.range");
            return Ok(AdminNetworkPolicyPort::PortRange {
                protocol: name.to_string(),
                start: port_number(range, "start", &range_path)?,
                end: port_number(range, "end", &range_path)?,
            });
        }
        return Err(format!("{port_path}: needs `number` or `range`"));
    }
    Err(format!(
        "{path}: needs `tcp`, `udp`, `sctp` or `destinationNamedPort`"
    ))
}

fn describe_peer(peer: &AdminNetworkPolicyPeer) -> String {
    match peer {
        AdminNetworkPolicyPeer::Namespaces { namespace_selector }
            if namespace_selector.is_empty() =>
        {
            "all namespaces".to_string()
        }
        AdminNetworkPolicyPeer::Namespaces { namespace_selector } => {
            format!("namespaces with {namespace_selector}")
        }
        AdminNetworkPolicyPeer::Pods {
            namespace_selector,
            pod_selector,
        } => describe_pods(namespace_selector, Some(pod_selector)),
        AdminNetworkPolicyPeer::Nodes { node_selector } if node_selector.is_empty() => {
            "all nodes".to_string()
        }
        AdminNetworkPolicyPeer::Nodes { node_selector } => format!("nodes with {node_selector}"),
        AdminNetworkPolicyPeer::Networks { cidrs } => cidrs.join(","),
        AdminNetworkPolicyPeer::DomainNames { domain_names } => domain_names.join(","),
        AdminNetworkPolicyPeer::Unknown { fields } => {
            format!("an unknown peer ({})", fields.join(","))
        }
    }
}

/// "TCP/80,UDP/53,TCP/8000-8080,port `http`", or "any port".
fn describe_ports(ports: &[AdminNetworkPolicyPort]) -> String {
    if ports.is_empty() {
        return "any port".to_string();
    }
    ports
        .iter()
        .map(|port| match port {
            AdminNetworkPolicyPort::PortNumber { protocol, port } => format!("{protocol}/{port}"),
            AdminNetworkPolicyPort::NamedPort { name } => format!("port `{name}`"),
            AdminNetworkPolicyPort::PortRange {
                protocol,
                start,
                end,
            } => format!("{protocol}/{start}-{end}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}
