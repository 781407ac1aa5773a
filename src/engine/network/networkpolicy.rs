//! NetworkPolicy semantics (networking.k8s.io/v1) over the adapter's normalized constraints: a pod
//! is isolated in a direction when a policy selecting it covers that direction; what is allowed
//! is the union of the selecting policies' rules; peers are OR-ed, a peer's namespaceSelector
//! and podSelector are AND-ed, a podSelector alone means the policy's namespace; ipBlocks match
//! only addresses outside the cluster; named ports resolve on the destination pod.

use std::collections::BTreeMap;

use super::addresses::{AddressSet, Coverage};
use super::connections::{ConnectionSet, Protocol};
use super::endpoints::{
    ClassSet, Classes, DEFAULT_NAMESPACE, Endpoint, PeerMatch, PortRule, Remote, RulePort,
    port_rules_connections,
};
use super::verdict::{Direction, PolicyReference};
use crate::adapters::networkpolicy::describe_peers_and_ports;
use crate::model::constraint::{NetworkPeer, NetworkRule};
use crate::model::{Constraint, Details, LabelSelector};

/// One NetworkPolicy direction, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub reference: PolicyReference,
    pub constraint_id: String,
    pub namespace: String,
    pub direction: Direction,
    pub selector: LabelSelector,
    pub rules: Vec<CompiledRule>,
}

#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// 1-based, as np-guard and people count rules.
    pub number: usize,
    /// Empty: every peer.
    pub peers: Vec<CompiledPeer>,
    /// Empty: every port.
    pub ports: Vec<PortRule>,
    /// The rule's connections when it names no port by name (independent of the destination).
    pub fixed_connections: Option<ConnectionSet>,
    /// "from pods with app=web in namespaces with team=frontend on TCP/8443".
    pub description: String,
    /// Every address block the rule names (for the external-address partition).
    pub address_blocks: Vec<AddressSet>,
}

#[derive(Debug, Clone)]
pub enum CompiledPeer {
    Selectors {
        namespace_selector: Option<LabelSelector>,
        pod_selector: Option<LabelSelector>,
    },
    Addresses(AddressSet),
    /// A peer that can match nothing (no selector and no block, or an unparsable CIDR).
    Nothing,
}

/// What one rule contributes for one pair.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    pub number: usize,
    pub connections: ConnectionSet,
    /// Some of the rule's named ports have no match on the destination pod.
    pub named_ports_unresolved: bool,
    /// The peer match is uncertain (`PeerMatch::Maybe`).
    pub uncertain: bool,
}

/// One selecting policy and its rules whose peers match.
#[derive(Debug, Clone)]
pub struct PolicyOutcome {
    pub policy: usize,
    pub rules_defined: usize,
    pub matching_rules: Vec<RuleOutcome>,
}

/// NetworkPolicy's answer for one direction of one pair.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub isolated: bool,
    pub allowed: ConnectionSet,
    /// Allowed only if an uncertain peer match holds.
    pub uncertain: ConnectionSet,
    /// Selecting policies, when details were asked for.
    pub policies: Vec<PolicyOutcome>,
}

/// Every NetworkPolicy, with selections precomputed per pod class.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicies {
    pub policies: Vec<CompiledPolicy>,
    /// Per class: indices of policies selecting it, for ingress and for egress.
    selected_ingress: Vec<Vec<usize>>,
    selected_egress: Vec<Vec<usize>>,
    /// Per policy, per rule: the classes its peers match.
    rule_classes: Vec<Vec<ClassSet>>,
    pub diagnostics: Vec<String>,
}

impl NetworkPolicies {
    pub fn build(constraints: &[Constraint], classes: &Classes) -> NetworkPolicies {
        let mut result = NetworkPolicies::default();
        for constraint in constraints {
            let Details::NetworkPolicy(details) = &constraint.details else {
                continue;
            };
            if constraint.source.kind != "NetworkPolicy" {
                continue;
            }
            let direction = match details.direction.as_str() {
                "ingress" => Direction::Ingress,
                "egress" => Direction::Egress,
                other => {
                    result.diagnostics.push(format!(
                        "`{}`: unknown direction `{other}`; ignored",
                        constraint.id
                    ));
                    continue;
                }
            };
            let namespace = constraint
                .source
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
            let rules = details
                .rules
                .iter()
                .enumerate()
                .map(|(index, rule)| {
                    compile_rule(
                        index + 1,
                        rule,
                        direction,
                        &mut result.diagnostics,
                        &constraint.id,
                    )
                })
                .collect();
            result.policies.push(CompiledPolicy {
                reference: PolicyReference {
                    kind: "NetworkPolicy".to_string(),
                    namespace: Some(namespace.clone()),
                    name: constraint.source.name.clone(),
                },
                constraint_id: constraint.id.clone(),
                namespace,
                direction,
                selector: constraint
                    .scope
                    .workload_selector
                    .clone()
                    .unwrap_or_default(),
                rules,
            });
        }
        result.policies.sort_by(|left, right| {
            (&left.reference, left.direction).cmp(&(&right.reference, right.direction))
        });

        let class_count = classes.classes.len();
        result.selected_ingress = vec![Vec::new(); class_count];
        result.selected_egress = vec![Vec::new(); class_count];
        let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, policy) in result.policies.iter().enumerate() {
            by_namespace
                .entry(policy.namespace.as_str())
                .or_default()
                .push(index);
        }
        for (class_index, class) in classes.classes.iter().enumerate() {
            let Some(candidates) = by_namespace.get(class.namespace.as_str()) else {
                continue;
            };
            for policy_index in candidates {
                let policy = &result.policies[*policy_index];
                if policy.selector.matches(&class.labels) {
                    match policy.direction {
                        Direction::Ingress => {
                            result.selected_ingress[class_index].push(*policy_index)
                        }
                        Direction::Egress => {
                            result.selected_egress[class_index].push(*policy_index)
                        }
                    }
                }
            }
        }
        result.rule_classes = rule_classes(&result.policies, classes);
        result
    }

    /// Policies selecting a pod of `class` in `direction`.
    pub fn selecting(&self, class: usize, direction: Direction) -> &[usize] {
        let table = match direction {
            Direction::Ingress => &self.selected_ingress,
            Direction::Egress => &self.selected_egress,
        };
        table.get(class).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether rule `rule_index` of policy `policy` selects pods of `class` (precomputed).
    pub fn rule_selects_class(&self, policy: usize, rule_index: usize, class: usize) -> bool {
        self.rule_classes
            .get(policy)
            .and_then(|rules| rules.get(rule_index))
            .is_some_and(|classes| classes.contains(class))
    }

    /// Policies selecting a pod given by namespace and labels (one not in the inventory).
    pub fn selecting_labels(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        direction: Direction,
    ) -> Vec<usize> {
        self.policies
            .iter()
            .enumerate()
            .filter(|(_, policy)| {
                policy.direction == direction
                    && policy.namespace == namespace
                    && policy.selector.matches(labels)
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// Evaluates `direction` for the pod on whose side it is enforced, given the policies
    /// selecting it, the remote side, and the destination pod (for named ports).
    pub fn evaluate(
        &self,
        selecting: &[usize],
        remote: Remote<'_>,
        destination: Option<&Endpoint>,
        details: bool,
    ) -> Evaluation {
        let mut evaluation = Evaluation {
            isolated: !selecting.is_empty(),
            ..Evaluation::default()
        };
        if selecting.is_empty() {
            evaluation.allowed = ConnectionSet::all();
            return evaluation;
        }
        for policy_index in selecting {
            let policy = &self.policies[*policy_index];
            let mut outcome = PolicyOutcome {
                policy: *policy_index,
                rules_defined: policy.rules.len(),
                matching_rules: Vec::new(),
            };
            for (rule_index, rule) in policy.rules.iter().enumerate() {
                let matched = match remote {
                    Remote::Pod {
                        class: Some(class), ..
                    } => {
                        if self.rule_classes[*policy_index][rule_index].contains(class) {
                            PeerMatch::Yes
                        } else {
                            PeerMatch::No
                        }
                    }
                    _ => rule_selects(rule, &policy.namespace, remote),
                };
                if matched == PeerMatch::No {
                    continue;
                }
                if !details && matched == PeerMatch::Yes {
                    // Fast path for connectivity lists: no copy of fixed connections.
                    match &rule.fixed_connections {
                        Some(fixed) => evaluation.allowed.union_with(fixed),
                        None => evaluation
                            .allowed
                            .union_with(&rule_connections(rule, destination).0),
                    }
                    continue;
                }
                let (connections, named_ports_unresolved) = rule_connections(rule, destination);
                if matched == PeerMatch::Yes {
                    evaluation.allowed.union_with(&connections);
                } else {
                    evaluation.uncertain.union_with(&connections);
                }
                if details {
                    outcome.matching_rules.push(RuleOutcome {
                        number: rule.number,
                        connections,
                        named_ports_unresolved,
                        uncertain: matched == PeerMatch::Maybe,
                    });
                }
            }
            if details {
                evaluation.policies.push(outcome);
            }
        }
        evaluation.uncertain = evaluation.uncertain.difference(&evaluation.allowed);
        evaluation
    }

    /// Address blocks named by rules of one direction (the partition of external peers).
    pub fn address_blocks(&self, direction: Direction) -> Vec<&AddressSet> {
        self.policies
            .iter()
            .filter(|policy| policy.direction == direction)
            .flat_map(|policy| policy.rules.iter())
            .flat_map(|rule| rule.address_blocks.iter())
            .collect()
    }
}

fn compile_rule(
    number: usize,
    rule: &NetworkRule,
    direction: Direction,
    diagnostics: &mut Vec<String>,
    constraint_id: &str,
) -> CompiledRule {
    let mut address_blocks = Vec::new();
    let peers: Vec<CompiledPeer> = rule
        .peers
        .iter()
        .map(|peer| {
            compile_peer(
                peer,
                &mut address_blocks,
                diagnostics,
                constraint_id,
                number,
            )
        })
        .collect();
    let mut ports = Vec::new();
    for port in &rule.ports {
        let Some(protocol) = Protocol::parse(&port.protocol) else {
            diagnostics.push(format!(
                "`{constraint_id}` rule {number}: unknown protocol `{}`; port ignored",
                port.protocol
            ));
            continue;
        };
        let compiled = match &port.port {
            None => RulePort::All,
            Some(text) => match text.parse::<u32>() {
                Ok(start) => {
                    let end = port
                        .end_port
                        .and_then(|end| u32::try_from(end).ok())
                        .unwrap_or(start);
                    if start == 0 || start > 65535 || end < start || end > 65535 {
                        diagnostics.push(format!(
                            "`{constraint_id}` rule {number}: invalid port range {start}-{end}; port ignored"
                        ));
                        continue;
                    }
                    RulePort::Range(start as u16, end as u16)
                }
                Err(_) => RulePort::Named(text.clone()),
            },
        };
        ports.push(PortRule {
            protocol: Some(protocol),
            port: compiled,
        });
    }
    let has_named = ports
        .iter()
        .any(|port| matches!(port.port, RulePort::Named(_)));
    let mut compiled = CompiledRule {
        number,
        peers,
        ports,
        fixed_connections: None,
        description: describe_rule(rule, direction),
        address_blocks,
    };
    if !has_named {
        compiled.fixed_connections = Some(rule_connections(&compiled, None).0);
    }
    compiled
}

fn compile_peer(
    peer: &NetworkPeer,
    address_blocks: &mut Vec<AddressSet>,
    diagnostics: &mut Vec<String>,
    constraint_id: &str,
    number: usize,
) -> CompiledPeer {
    if let Some(block) = &peer.ip_block {
        return match AddressSet::from_block(&block.cidr, &block.except) {
            Ok(addresses) => {
                address_blocks.push(addresses.clone());
                CompiledPeer::Addresses(addresses)
            }
            Err(problem) => {
                diagnostics.push(format!(
                    "`{constraint_id}` rule {number}: ipBlock {problem}; peer ignored"
                ));
                CompiledPeer::Nothing
            }
        };
    }
    if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
        return CompiledPeer::Nothing;
    }
    CompiledPeer::Selectors {
        namespace_selector: peer.namespace_selector.clone(),
        pod_selector: peer.pod_selector.clone(),
    }
}

/// "from pods with app=web on TCP/8443", "to 10.0.0.0/8 on any port", "from anywhere on UDP/53".
fn describe_rule(rule: &NetworkRule, direction: Direction) -> String {
    let preposition = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    format!("{preposition} {}", describe_peers_and_ports(rule))
}

/// Whether any of the rule's peers matches the remote side.
pub fn rule_selects(rule: &CompiledRule, policy_namespace: &str, remote: Remote<'_>) -> PeerMatch {
    if rule.peers.is_empty() {
        return PeerMatch::Yes;
    }
    let mut result = PeerMatch::No;
    for peer in &rule.peers {
        let matched = match (peer, remote) {
            (
                CompiledPeer::Selectors {
                    namespace_selector,
                    pod_selector,
                },
                Remote::Pod {
                    namespace,
                    labels,
                    namespace_labels,
                    ..
                },
            ) => {
                let namespace_matches = match namespace_selector {
                    None => namespace == policy_namespace,
                    Some(selector) => selector.matches(namespace_labels),
                };
                let pod_matches = pod_selector
                    .as_ref()
                    .is_none_or(|selector| selector.matches(labels));
                if namespace_matches && pod_matches {
                    PeerMatch::Yes
                } else {
                    PeerMatch::No
                }
            }
            (CompiledPeer::Addresses(addresses), Remote::Address(range)) => {
                match addresses.coverage(&range) {
                    Coverage::Full => PeerMatch::Yes,
                    Coverage::Partial => PeerMatch::Maybe,
                    Coverage::None => PeerMatch::No,
                }
            }
            (CompiledPeer::Addresses(addresses), Remote::Host(_, Some(range))) => {
                match addresses.coverage(&range) {
                    Coverage::Full => PeerMatch::Yes,
                    Coverage::Partial => PeerMatch::Maybe,
                    Coverage::None => PeerMatch::No,
                }
            }
            (CompiledPeer::Addresses(_), Remote::Unresolved | Remote::Host(_, None)) => {
                PeerMatch::Maybe
            }
            _ => PeerMatch::No,
        };
        match matched {
            PeerMatch::Yes => return PeerMatch::Yes,
            PeerMatch::Maybe => result = PeerMatch::Maybe,
            PeerMatch::No => {}
        }
    }
    result
}

/// For every rule of every policy, the pod classes it selects as its peer — what
/// [`rule_selects`] answers `Yes` for each class, computed per namespace rather than per class:
/// a peer without a namespaceSelector can only select classes of the policy's namespace, one
/// with a namespaceSelector only classes of namespaces it matches (each distinct selector
/// evaluated once per namespace), and address peers never select a class.
fn rule_classes(policies: &[CompiledPolicy], classes: &Classes) -> Vec<Vec<ClassSet>> {
    let mut by_namespace = ClassesByNamespace::new(classes);
    policies
        .iter()
        .map(|policy| {
            policy
                .rules
                .iter()
                .map(|rule| by_namespace.selected_by(rule, &policy.namespace))
                .collect()
        })
        .collect()
}

/// Pod classes grouped by namespace (a namespace's labels are the same for each of its classes),
/// and the namespaces each distinct namespaceSelector matches, found once.
struct ClassesByNamespace<'c> {
    classes: &'c Classes,
    /// Namespace name, its labels, its classes; in first-seen order.
    namespaces: Vec<(&'c str, &'c BTreeMap<String, String>, Vec<usize>)>,
    position: std::collections::HashMap<&'c str, usize>,
    /// Positions in `namespaces` per namespaceSelector (keyed by its `Debug` form).
    selected: std::collections::HashMap<String, Vec<usize>>,
}

impl<'c> ClassesByNamespace<'c> {
    fn new(classes: &'c Classes) -> ClassesByNamespace<'c> {
        let mut grouped = ClassesByNamespace {
            classes,
            namespaces: Vec::new(),
            position: std::collections::HashMap::new(),
            selected: std::collections::HashMap::new(),
        };
        for (class_index, class) in classes.classes.iter().enumerate() {
            let namespaces = &mut grouped.namespaces;
            let position = *grouped
                .position
                .entry(class.namespace.as_str())
                .or_insert_with(|| {
                    namespaces.push((
                        class.namespace.as_str(),
                        &class.namespace_labels,
                        Vec::new(),
                    ));
                    namespaces.len() - 1
                });
            grouped.namespaces[position].2.push(class_index);
        }
        grouped
    }

    /// The classes `rule` selects as its peer, for a policy in `policy_namespace`.
    fn selected_by(&mut self, rule: &CompiledRule, policy_namespace: &str) -> ClassSet {
        let class_count = self.classes.classes.len();
        let mut set = ClassSet::with_capacity(class_count);
        if rule.peers.is_empty() {
            (0..class_count).for_each(|class| set.insert(class));
            return set;
        }
        for peer in &rule.peers {
            // Address peers never select a pod class.
            let CompiledPeer::Selectors {
                namespace_selector,
                pod_selector,
            } = peer
            else {
                continue;
            };
            let own = self.position.get(policy_namespace).copied();
            let positions: &[usize] = match namespace_selector {
                None => own.as_slice(),
                Some(selector) => {
                    let namespaces = &self.namespaces;
                    self.selected
                        .entry(format!("{selector:?}"))
                        .or_insert_with(|| {
                            (0..namespaces.len())
                                .filter(|position| selector.matches(namespaces[*position].1))
                                .collect()
                        })
                }
            };
            for position in positions {
                for class in &self.namespaces[*position].2 {
                    if pod_selector.as_ref().is_none_or(|selector| {
                        selector.matches(&self.classes.classes[*class].labels)
                    }) {
                        set.insert(*class);
                    }
                }
            }
        }
        set
    }
}

/// The connections a rule allows towards `destination` (named ports resolve on it, protocol
/// included); and whether some named port found no match.
pub fn rule_connections(
    rule: &CompiledRule,
    destination: Option<&Endpoint>,
) -> (ConnectionSet, bool) {
    if let Some(fixed) = &rule.fixed_connections {
        return (fixed.clone(), false);
    }
    port_rules_connections(&rule.ports, destination)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::network::addresses::IpRange;
    use crate::model::constraint::{IpBlock, NetworkPort};

    fn selector(pairs: &[(&str, &str)]) -> LabelSelector {
        LabelSelector::from_labels(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        )
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn pod_in<'a>(
        namespace: &'a str,
        labels: &'a BTreeMap<String, String>,
        namespace_labels: &'a BTreeMap<String, String>,
    ) -> Remote<'a> {
        Remote::Pod {
            namespace,
            labels,
            namespace_labels,
            class: None,
            endpoint: None,
        }
    }

    fn rule(peers: Vec<NetworkPeer>, ports: Vec<NetworkPort>) -> CompiledRule {
        let mut diagnostics = Vec::new();
        compile_rule(
            1,
            &NetworkRule { peers, ports },
            Direction::Ingress,
            &mut diagnostics,
            "test",
        )
    }

    fn pods(
        pod_selector: Option<LabelSelector>,
        namespace_selector: Option<LabelSelector>,
    ) -> NetworkPeer {
        NetworkPeer {
            pod_selector,
            namespace_selector,
            ip_block: None,
        }
    }

    fn port(protocol: &str, port: Option<&str>, end_port: Option<i64>) -> NetworkPort {
        NetworkPort {
            protocol: protocol.to_string(),
            port: port.map(str::to_string),
            end_port,
        }
    }

    #[test]
    fn peer_selectors_follow_kubernetes_semantics() {
        let web = labels(&[("app", "web")]);
        let frontend_namespace = labels(&[("team", "frontend")]);
        let other_namespace = labels(&[("team", "other")]);
        let empty = BTreeMap::new();
        let web = &web;
        let frontend_namespace = &frontend_namespace;
        let other_namespace = &other_namespace;
        let empty = &empty;
        // (rule, remote, expected)
        let cases: Vec<(&str, CompiledRule, Remote<'_>, PeerMatch)> = vec![
            (
                "podSelector alone: the policy's namespace only",
                rule(vec![pods(Some(selector(&[("app", "web")])), None)], vec![]),
                pod_in("payments", web, other_namespace),
                PeerMatch::Yes,
            ),
            (
                "podSelector alone: other namespaces do not match",
                rule(vec![pods(Some(selector(&[("app", "web")])), None)], vec![]),
                pod_in("frontend", web, frontend_namespace),
                PeerMatch::No,
            ),
            (
                "namespaceSelector and podSelector in one peer: AND",
                rule(
                    vec![pods(
                        Some(selector(&[("app", "web")])),
                        Some(selector(&[("team", "frontend")])),
                    )],
                    vec![],
                ),
                pod_in("frontend", empty, frontend_namespace),
                PeerMatch::No,
            ),
            (
                "separate peers: OR",
                rule(
                    vec![
                        pods(Some(selector(&[("app", "web")])), None),
                        pods(None, Some(selector(&[("team", "frontend")]))),
                    ],
                    vec![],
                ),
                pod_in("frontend", empty, frontend_namespace),
                PeerMatch::Yes,
            ),
            (
                "empty namespaceSelector: every namespace",
                rule(vec![pods(None, Some(LabelSelector::default()))], vec![]),
                pod_in("anything", empty, other_namespace),
                PeerMatch::Yes,
            ),
            (
                "empty podSelector: every pod of the policy's namespace",
                rule(vec![pods(Some(LabelSelector::default()), None)], vec![]),
                pod_in("payments", empty, other_namespace),
                PeerMatch::Yes,
            ),
            (
                "no peers: everyone, addresses included",
                rule(vec![], vec![]),
                Remote::Address(IpRange::parse("8.8.8.8").unwrap()),
                PeerMatch::Yes,
            ),
            (
                "ipBlock never matches pods",
                rule(
                    vec![NetworkPeer {
                        pod_selector: None,
                        namespace_selector: None,
                        ip_block: Some(IpBlock {
                            cidr: "0.0.0.0/0".to_string(),
                            except: vec![],
                        }),
                    }],
                    vec![],
                ),
                pod_in("payments", web, other_namespace),
                PeerMatch::No,
            ),
            (
                "ipBlock except excludes",
                rule(
                    vec![NetworkPeer {
                        pod_selector: None,
                        namespace_selector: None,
                        ip_block: Some(IpBlock {
                            cidr: "10.0.0.0/8".to_string(),
                            except: vec!["10.1.0.0/16".to_string()],
                        }),
                    }],
                    vec![],
                ),
                Remote::Address(IpRange::parse("10.1.2.3").unwrap()),
                PeerMatch::No,
            ),
            (
                "IPv6 ipBlock",
                rule(
                    vec![NetworkPeer {
                        pod_selector: None,
                        namespace_selector: None,
                        ip_block: Some(IpBlock {
                            cidr: "2001:db8::/32".to_string(),
                            except: vec!["2001:db8:1::/48".to_string()],
                        }),
                    }],
                    vec![],
                ),
                Remote::Address(IpRange::parse("2001:db8:2::1").unwrap()),
                PeerMatch::Yes,
            ),
            (
                "a host name may or may not fall in a block",
                rule(
                    vec![NetworkPeer {
                        pod_selector: None,
                        namespace_selector: None,
                        ip_block: Some(IpBlock {
                            cidr: "10.0.0.0/8".to_string(),
                            except: vec![],
                        }),
                    }],
                    vec![],
                ),
                Remote::Unresolved,
                PeerMatch::Maybe,
            ),
        ];
        for (name, compiled, remote, expected) in cases {
            assert_eq!(
                rule_selects(&compiled, "payments", remote),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn ports_default_to_tcp_and_named_ports_resolve_on_the_destination() {
        let destination = Endpoint {
            namespace: "a".to_string(),
            pod_name: "web".to_string(),
            workload: super::super::endpoints::WorkloadReference {
                kind: "Pod".to_string(),
                namespace: "a".to_string(),
                name: "web".to_string(),
            },
            owners: Vec::new(),
            labels: BTreeMap::new(),
            ports: vec![
                super::super::endpoints::ContainerPort {
                    name: Some("http".to_string()),
                    port: 8080,
                    protocol: Protocol::Tcp,
                },
                super::super::endpoints::ContainerPort {
                    name: Some("dns".to_string()),
                    port: 53,
                    protocol: Protocol::Udp,
                },
            ],
            host_network: false,
            pod_ips: Vec::new(),
            host_ip: None,
            service_account: "default".to_string(),
            from_template: false,
            in_mesh: false,
        };
        let cases = [
            (vec![port("TCP", Some("80"), None)], "TCP 80", false),
            (
                vec![port("TCP", Some("8000"), Some(8080))],
                "TCP 8000-8080",
                false,
            ),
            (vec![port("UDP", None, None)], "UDP 1-65535", false),
            (vec![port("TCP", Some("http"), None)], "TCP 8080", false),
            (vec![port("TCP", Some("dns"), None)], "No Connections", true),
            (
                vec![
                    port("UDP", Some("dns"), None),
                    port("SCTP", Some("9"), None),
                ],
                "SCTP 9,UDP 53",
                false,
            ),
            (vec![], "All Connections", false),
        ];
        for (ports, expected, unresolved) in cases {
            let compiled = rule(vec![], ports);
            let (connections, named_unresolved) = rule_connections(&compiled, Some(&destination));
            assert_eq!(connections.connlist_text(), expected);
            assert_eq!(named_unresolved, unresolved, "{expected}");
        }
        // Without a destination pod (an address), named ports match nothing.
        let compiled = rule(vec![], vec![port("TCP", Some("http"), None)]);
        assert!(rule_connections(&compiled, None).0.is_empty());
    }
}
