//! AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy
//! (policy.networking.k8s.io) over the adapter's one-constraint-per-rule details: Admin tier
//! rules by ascending priority then written order, where the first matching rule decides
//! (`Allow`, `Deny`, or `Pass` to NetworkPolicy); Baseline rules decide only what no
//! NetworkPolicy isolates. Host-network pods are neither subjects nor pod peers.

use std::collections::BTreeMap;

use super::addresses::{AddressSet, Coverage, Family, IpRange};
use super::connections::{ConnectionSet, Protocol};
use super::endpoints::{
    Classes, Endpoint, Inventory, PeerMatch, PortRule, Remote, RulePort, port_rules_connections,
};
use super::verdict::{Direction, PolicyReference};
use crate::model::details::adminnetworkpolicy::{AdminNetworkPolicyPeer, AdminNetworkPolicyPort};
use crate::model::{Constraint, Details, LabelSelector};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAction {
    Allow,
    Deny,
    Pass,
}

impl AdminAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::Allow => "Allow",
            AdminAction::Deny => "Deny",
            AdminAction::Pass => "Pass",
        }
    }
}

#[derive(Debug, Clone)]
pub enum AdminPeer {
    Namespaces(LabelSelector),
    Pods {
        namespaces: LabelSelector,
        pods: LabelSelector,
    },
    Nodes(LabelSelector),
    Networks(Vec<AddressSet>),
    DomainNames(Vec<String>),
    /// A peer potoo cannot read: it matches everything for `Deny`/`Pass`, nothing for `Allow`.
    Unknown,
}

/// One rule of one Admin or Baseline policy.
#[derive(Debug, Clone)]
pub struct AdminRule {
    pub reference: PolicyReference,
    pub constraint_id: String,
    /// `allow-from-monitoring`, or the rule's index when unnamed.
    pub rule_name: String,
    pub direction: Direction,
    pub action: AdminAction,
    pub baseline: bool,
    pub priority: i64,
    pub rule_index: usize,
    pub subject_namespaces: LabelSelector,
    pub subject_pods: Option<LabelSelector>,
    pub peers: Vec<AdminPeer>,
    pub ports: Vec<PortRule>,
    /// The constraint's summary ("denies ingress to … from …").
    pub description: String,
}

/// A rule whose peers match the remote side, with the connections it covers.
#[derive(Debug, Clone)]
pub struct TierOutcome {
    pub rule: usize,
    pub connections: ConnectionSet,
    pub uncertain: bool,
    pub named_ports_unresolved: bool,
}

/// The Admin and Baseline rules that match one pair, in precedence order.
#[derive(Debug, Clone, Default)]
pub struct AdminEvaluation {
    pub admin: Vec<TierOutcome>,
    pub baseline: Vec<TierOutcome>,
}

impl AdminEvaluation {
    pub fn is_empty(&self) -> bool {
        self.admin.is_empty() && self.baseline.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct AdminPolicies {
    /// Admin tier rules first (by priority, policy name, rule index), then Baseline rules.
    pub rules: Vec<AdminRule>,
    /// Per class and direction: indices of the rules whose subject selects it, in order.
    selected: Vec<[Vec<usize>; 2]>,
    pub diagnostics: Vec<String>,
}

impl AdminPolicies {
    pub fn build(constraints: &[Constraint], classes: &Classes) -> AdminPolicies {
        let mut result = AdminPolicies::default();
        for constraint in constraints {
            let Details::AdminNetworkPolicy(details) = &constraint.details else {
                continue;
            };
            let direction = match details.direction.as_str() {
                "ingress" => Direction::Ingress,
                "egress" => Direction::Egress,
                _ => continue,
            };
            let action = match details.action.as_str() {
                "Allow" | "Accept" => AdminAction::Allow,
                "Deny" => AdminAction::Deny,
                "Pass" => AdminAction::Pass,
                other => {
                    result.diagnostics.push(format!(
                        "`{}`: unknown action `{other}`; rule ignored",
                        constraint.id
                    ));
                    continue;
                }
            };
            let peers = details
                .peers
                .iter()
                .map(|peer| match peer {
                    AdminNetworkPolicyPeer::Namespaces { namespace_selector } => {
                        AdminPeer::Namespaces(namespace_selector.clone())
                    }
                    AdminNetworkPolicyPeer::Pods {
                        namespace_selector,
                        pod_selector,
                    } => AdminPeer::Pods {
                        namespaces: namespace_selector.clone(),
                        pods: pod_selector.clone(),
                    },
                    AdminNetworkPolicyPeer::Nodes { node_selector } => {
                        AdminPeer::Nodes(node_selector.clone())
                    }
                    AdminNetworkPolicyPeer::Networks { cidrs } => AdminPeer::Networks(
                        cidrs
                            .iter()
                            .filter_map(|cidr| AddressSet::from_block(cidr, &[]).ok())
                            .collect(),
                    ),
                    AdminNetworkPolicyPeer::DomainNames { domain_names } => {
                        AdminPeer::DomainNames(domain_names.clone())
                    }
                    AdminNetworkPolicyPeer::Unknown { .. } => AdminPeer::Unknown,
                })
                .collect();
            let ports = details
                .ports
                .iter()
                .filter_map(|port| match port {
                    AdminNetworkPolicyPort::PortNumber { protocol, port } => Some(PortRule {
                        protocol: Some(Protocol::parse(protocol).unwrap_or(Protocol::Tcp)),
                        port: RulePort::Range(
                            u16::try_from(*port).ok()?,
                            u16::try_from(*port).ok()?,
                        ),
                    }),
                    AdminNetworkPolicyPort::PortRange {
                        protocol,
                        start,
                        end,
                    } => Some(PortRule {
                        protocol: Some(Protocol::parse(protocol).unwrap_or(Protocol::Tcp)),
                        port: RulePort::Range(
                            u16::try_from(*start).ok()?,
                            u16::try_from(*end).ok()?,
                        ),
                    }),
                    AdminNetworkPolicyPort::NamedPort { name } => Some(PortRule {
                        protocol: None,
                        port: RulePort::Named(name.clone()),
                    }),
                })
                .collect();
            result.rules.push(AdminRule {
                reference: PolicyReference {
                    kind: constraint.source.kind.clone(),
                    namespace: None,
                    name: constraint.source.name.clone(),
                },
                constraint_id: constraint.id.clone(),
                rule_name: details
                    .rule_name
                    .clone()
                    .unwrap_or_else(|| details.rule_index.to_string()),
                direction,
                action,
                baseline: details.baseline,
                priority: details.priority.unwrap_or(i64::MAX),
                rule_index: details.rule_index,
                subject_namespaces: details.subject.namespace_selector.clone(),
                subject_pods: details.subject.pod_selector.clone(),
                peers,
                ports,
                description: constraint.summary.clone(),
            });
        }
        result.rules.sort_by(|left, right| {
            (
                left.baseline,
                left.priority,
                &left.reference.name,
                left.direction,
                left.rule_index,
            )
                .cmp(&(
                    right.baseline,
                    right.priority,
                    &right.reference.name,
                    right.direction,
                    right.rule_index,
                ))
        });
        result.selected = classes
            .classes
            .iter()
            .map(|class| {
                let mut selected: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
                for (index, rule) in result.rules.iter().enumerate() {
                    let subject = rule.subject_namespaces.matches(&class.namespace_labels)
                        && rule
                            .subject_pods
                            .as_ref()
                            .is_none_or(|pods| pods.matches(&class.labels));
                    if subject {
                        selected[rule.direction.index()].push(index);
                    }
                }
                selected
            })
            .collect();
        result
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules whose subject selects a pod of `class`, for `direction`, in precedence order.
    pub fn selecting(&self, class: usize, direction: Direction) -> &[usize] {
        self.selected
            .get(class)
            .map(|selected| selected[direction.index()].as_slice())
            .unwrap_or(&[])
    }

    /// Rules selecting a pod given by namespace labels and labels (one not in the inventory).
    pub fn selecting_labels(
        &self,
        namespace_labels: &BTreeMap<String, String>,
        labels: &BTreeMap<String, String>,
        direction: Direction,
    ) -> Vec<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| {
                rule.direction == direction
                    && rule.subject_namespaces.matches(namespace_labels)
                    && rule
                        .subject_pods
                        .as_ref()
                        .is_none_or(|pods| pods.matches(labels))
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// The selected rules whose peers match `remote`, split by tier, in precedence order.
    pub fn evaluate(
        &self,
        selecting: &[usize],
        remote: Remote<'_>,
        destination: Option<&Endpoint>,
        inventory: &Inventory,
    ) -> AdminEvaluation {
        let mut evaluation = AdminEvaluation::default();
        for index in selecting {
            let rule = &self.rules[*index];
            let matched = rule.peers.iter().fold(PeerMatch::No, |found, peer| {
                found.or(peer_matches(peer, rule.action, remote, inventory))
            });
            if matched == PeerMatch::No {
                continue;
            }
            let (connections, named_ports_unresolved) =
                port_rules_connections(&rule.ports, destination);
            let outcome = TierOutcome {
                rule: *index,
                connections,
                uncertain: matched == PeerMatch::Maybe,
                named_ports_unresolved,
            };
            if rule.baseline {
                evaluation.baseline.push(outcome);
            } else {
                evaluation.admin.push(outcome);
            }
        }
        evaluation
    }
}

fn peer_matches(
    peer: &AdminPeer,
    action: AdminAction,
    remote: Remote<'_>,
    inventory: &Inventory,
) -> PeerMatch {
    match (peer, remote) {
        (AdminPeer::Unknown, _) => PeerMatch::from_bool(action != AdminAction::Allow),
        (
            AdminPeer::Namespaces(namespaces),
            Remote::Pod {
                namespace_labels, ..
            },
        ) => PeerMatch::from_bool(namespaces.matches(namespace_labels)),
        (
            AdminPeer::Pods { namespaces, pods },
            Remote::Pod {
                labels,
                namespace_labels,
                ..
            },
        ) => PeerMatch::from_bool(namespaces.matches(namespace_labels) && pods.matches(labels)),
        (AdminPeer::Networks(blocks), Remote::Pod { endpoint, .. }) => {
            match endpoint.filter(|endpoint| !endpoint.pod_ips.is_empty()) {
                Some(endpoint) => PeerMatch::from_bool(endpoint.pod_ips.iter().any(|address| {
                    blocks
                        .iter()
                        .any(|block| block.coverage(&IpRange::address(*address)) == Coverage::Full)
                })),
                // Without a recorded address, only a block spanning a whole family is sure.
                None => {
                    if blocks.iter().any(|block| {
                        block.ranges().contains(&IpRange::whole(Family::V4))
                            || block.ranges().contains(&IpRange::whole(Family::V6))
                    }) {
                        PeerMatch::Yes
                    } else {
                        PeerMatch::Maybe
                    }
                }
            }
        }
        (AdminPeer::Networks(blocks), Remote::Address(range) | Remote::Host(_, Some(range))) => {
            blocks.iter().fold(PeerMatch::No, |found, block| {
                found.or(match block.coverage(&range) {
                    Coverage::Full => PeerMatch::Yes,
                    Coverage::Partial => PeerMatch::Maybe,
                    Coverage::None => PeerMatch::No,
                })
            })
        }
        (AdminPeer::Networks(_), Remote::Host(_, None) | Remote::Unresolved) => PeerMatch::Maybe,
        (AdminPeer::Nodes(selector), Remote::Address(range)) => {
            if inventory.nodes.is_empty() {
                return PeerMatch::Maybe;
            }
            PeerMatch::from_bool(inventory.nodes.iter().any(|node| {
                selector.matches(&node.labels)
                    && node
                        .addresses
                        .iter()
                        .any(|address| range.contains_address(*address))
            }))
        }
        (AdminPeer::Nodes(_), Remote::Unresolved) => PeerMatch::Maybe,
        (AdminPeer::DomainNames(names), Remote::Host(host, _)) => {
            PeerMatch::from_bool(names.iter().any(|name| domain_matches(name, host)))
        }
        _ => PeerMatch::No,
    }
}

/// `example.com` matches itself; `*.example.com` matches one more label (`www.example.com`).
pub fn domain_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_patterns_match_one_label() {
        assert!(domain_matches("api.github.com", "API.github.com."));
        assert!(domain_matches("*.github.com", "api.github.com"));
        assert!(!domain_matches("*.github.com", "github.com"));
        assert!(!domain_matches("*.github.com", "a.b.github.com"));
        assert!(!domain_matches("github.com", "api.github.com"));
    }
}
