//! CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2) at L3/L4, over the
//! adapter's per-section details: a pod is default-deny in a direction when a section selecting
//! it says so (as for NetworkPolicy, which Cilium enforces alongside); allow rules of every
//! policy add up; deny sections drop what they match whatever allows it. Peers: endpoints
//! (pod, namespace and identity labels, `fromRequires`), entities, CIDRs (addresses outside the
//! cluster only), FQDNs (host names), Services. L7 rules, SNI, DNS-learned addresses and
//! authentication make an allowance conditional; the condition is named.

use std::collections::BTreeMap;

use super::addresses::{AddressSet, Coverage, Family};
use super::connections::{ConnectionSet, Protocol};
use super::endpoints::{
    DEFAULT_NAMESPACE, Endpoint, Inventory, PeerMatch, PortRule, Remote, RulePort,
    port_rules_connections,
};
use super::verdict::{Direction, PolicyReference};
use crate::model::details::cilium::{
    CiliumEndpointSelector, CiliumL7Rules, CiliumPeer, CiliumPortRule,
};
use crate::model::{Constraint, Details};

/// One allow or deny section of one rule set, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CiliumSection {
    pub reference: PolicyReference,
    pub constraint_id: String,
    /// `ingress`, `specs[1].egress-deny`…
    pub label: String,
    pub direction: Direction,
    pub deny: bool,
    /// A CiliumNetworkPolicy selects pods of its own namespace only.
    pub namespace: Option<String>,
    /// `None`: a host policy (it selects nodes, not pods).
    pub subject: Option<CiliumEndpointSelector>,
    pub default_deny: bool,
    pub rules: Vec<CiliumCompiledRule>,
    /// Parts potoo does not interpret.
    pub unsupported: Vec<String>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct CiliumCompiledRule {
    /// 1-based within the section.
    pub number: usize,
    pub peers: Vec<CiliumPeer>,
    pub blocks: Vec<Option<AddressSet>>,
    pub any_peer: bool,
    pub requires: Vec<CiliumEndpointSelector>,
    /// Port rules with the condition (L7, SNI) attached to each, if any.
    pub port_rules: Vec<(Vec<PortRule>, Option<String>)>,
    pub authentication: Option<String>,
}

/// A rule matching the pair, with what it covers and under which conditions.
#[derive(Debug, Clone)]
pub struct CiliumRuleOutcome {
    pub section: usize,
    pub rule: usize,
    pub connections: ConnectionSet,
    pub uncertain: bool,
    pub named_ports_unresolved: bool,
    /// Parts of `connections` allowed only under a condition, and the condition.
    pub conditions: Vec<(ConnectionSet, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct CiliumEvaluation {
    /// Sections selecting the pod that put it in default-deny for the direction.
    pub isolating: Vec<usize>,
    pub allows: Vec<CiliumRuleOutcome>,
    pub denies: Vec<CiliumRuleOutcome>,
}

#[derive(Debug, Clone, Default)]
pub struct CiliumPolicies {
    pub sections: Vec<CiliumSection>,
    /// Per endpoint and direction: the sections whose subject selects it.
    selected: Vec<[Vec<usize>; 2]>,
    pub diagnostics: Vec<String>,
}

/// Cilium's identity labels of a pod that are neither pod nor namespace labels.
fn identity_labels(namespace: &str, endpoint: Option<&Endpoint>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert(
        "io.cilium.k8s.policy.serviceaccount".to_string(),
        endpoint
            .map(|endpoint| endpoint.service_account.clone())
            .unwrap_or_else(|| "default".to_string()),
    );
    labels.insert(
        "io.cilium.k8s.policy.cluster".to_string(),
        "default".to_string(),
    );
    labels.insert(
        "io.kubernetes.pod.namespace".to_string(),
        namespace.to_string(),
    );
    labels
}

fn selector_matches(
    selector: &CiliumEndpointSelector,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    namespace_labels: &BTreeMap<String, String>,
    endpoint: Option<&Endpoint>,
) -> bool {
    selector.pod_selector.matches(labels)
        && selector
            .namespace_selector
            .as_ref()
            .is_none_or(|namespaces| namespaces.matches(namespace_labels))
        && selector
            .identity_selector
            .as_ref()
            .is_none_or(|identity| identity.matches(&identity_labels(namespace, endpoint)))
}

fn port_rule(port: &crate::model::details::cilium::CiliumPort) -> Vec<PortRule> {
    let protocol = match port.protocol.to_ascii_uppercase().as_str() {
        "" | "ANY" => None,
        other => match Protocol::parse(other) {
            Some(protocol) => Some(protocol),
            // ICMP and other protocols are not modelled: the port rule covers nothing here.
            None => return Vec::new(),
        },
    };
    let rule_port = match &port.port {
        None => RulePort::All,
        Some(text) => match text.parse::<u32>() {
            Ok(0) => RulePort::All,
            Ok(start) => {
                let end = port
                    .end_port
                    .and_then(|end| u32::try_from(end).ok())
                    .filter(|end| *end >= start)
                    .unwrap_or(start);
                RulePort::Range(start.min(65535) as u16, end.min(65535) as u16)
            }
            Err(_) => RulePort::Named(text.clone()),
        },
    };
    vec![PortRule {
        protocol,
        port: rule_port,
    }]
}

fn l7_condition(l7: &CiliumL7Rules) -> Option<String> {
    let mut parts = Vec::new();
    if !l7.http.is_empty() {
        let rules: Vec<String> = l7
            .http
            .iter()
            .map(|rule| {
                let mut words = Vec::new();
                if let Some(method) = &rule.method {
                    words.push(method.clone());
                }
                if let Some(path) = &rule.path {
                    words.push(path.clone());
                }
                if let Some(host) = &rule.host {
                    words.push(format!("host {host}"));
                }
                for header in &rule.headers {
                    words.push(format!("header {header}"));
                }
                if words.is_empty() {
                    "any request".to_string()
                } else {
                    words.join(" ")
                }
            })
            .collect();
        parts.push(format!("HTTP requests {}", rules.join(" | ")));
    }
    if !l7.kafka.is_empty() {
        parts.push(format!("{} Kafka rule(s)", l7.kafka.len()));
    }
    if !l7.dns.is_empty() {
        let names: Vec<String> = l7
            .dns
            .iter()
            .filter_map(|rule| {
                rule.match_name
                    .clone()
                    .or_else(|| rule.match_pattern.clone())
            })
            .collect();
        parts.push(format!("DNS lookups of {}", names.join(", ")));
    }
    if let Some(protocol) = &l7.l7_protocol {
        parts.push(format!("{protocol} rules"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl CiliumPolicies {
    pub fn build(
        constraints: &[Constraint],
        inventory: &Inventory,
        namespace_labels: &dyn Fn(&str) -> BTreeMap<String, String>,
    ) -> CiliumPolicies {
        let mut result = CiliumPolicies::default();
        for constraint in constraints {
            let Details::Cilium(details) = &constraint.details else {
                continue;
            };
            let direction = match details.direction.as_str() {
                "ingress" => Direction::Ingress,
                "egress" => Direction::Egress,
                _ => continue,
            };
            let reference = PolicyReference {
                kind: constraint.source.kind.clone(),
                namespace: constraint.source.namespace.clone(),
                name: constraint.source.name.clone(),
            };
            if details.subject.endpoints.is_none() {
                result.diagnostics.push(format!(
                    "`{}` is a host policy (it selects nodes); reachability between pods ignores it",
                    constraint.id
                ));
            }
            let rules = details
                .rules
                .iter()
                .enumerate()
                .map(|(index, rule)| {
                    let port_rules: Vec<(Vec<PortRule>, Option<String>)> = rule
                        .ports
                        .iter()
                        .map(|entry: &CiliumPortRule| {
                            let ports: Vec<PortRule> = if entry.ports.is_empty() {
                                Vec::new()
                            } else {
                                entry.ports.iter().flat_map(port_rule).collect()
                            };
                            let mut conditions = Vec::new();
                            if let Some(l7) = entry.l7.as_ref().and_then(l7_condition) {
                                conditions.push(format!(
                                    "allowed at L3/L4; further filtered by the L7 rules of {{rule}}: {l7}"
                                ));
                            }
                            if !entry.server_names.is_empty() {
                                conditions.push(format!(
                                    "only TLS connections with server name {} ({{rule}})",
                                    entry.server_names.join(", ")
                                ));
                            }
                            let ports = if !entry.ports.is_empty() && ports.is_empty() {
                                // Only protocols potoo does not model (ICMP…): covers no TCP/UDP/SCTP.
                                vec![PortRule {
                                    protocol: Some(Protocol::Tcp),
                                    port: RulePort::Range(1, 0),
                                }]
                            } else {
                                ports
                            };
                            (
                                ports,
                                (!conditions.is_empty()).then(|| conditions.join("; ")),
                            )
                        })
                        .collect();
                    CiliumCompiledRule {
                        number: index + 1,
                        blocks: rule
                            .peers
                            .iter()
                            .map(|peer| match peer {
                                CiliumPeer::Cidr { cidr, except } => {
                                    AddressSet::from_block(cidr, except).ok()
                                }
                                _ => None,
                            })
                            .collect(),
                        peers: rule.peers.clone(),
                        any_peer: rule.any_peer,
                        requires: rule.requires.clone(),
                        port_rules,
                        authentication: rule.authentication.clone(),
                    }
                })
                .collect();
            result.sections.push(CiliumSection {
                reference,
                constraint_id: constraint.id.clone(),
                label: constraint.rule.clone().unwrap_or_default(),
                direction,
                deny: details.deny,
                namespace: if details.clusterwide {
                    None
                } else {
                    Some(
                        constraint
                            .source
                            .namespace
                            .clone()
                            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
                    )
                },
                subject: details.subject.endpoints.clone(),
                default_deny: details.default_deny,
                rules,
                unsupported: details.unsupported.clone(),
                description: constraint.summary.clone(),
            });
        }
        result
            .sections
            .sort_by(|left, right| left.constraint_id.cmp(&right.constraint_id));
        let mut labels_cache: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        result.selected = inventory
            .endpoints
            .iter()
            .map(|endpoint| {
                let namespace_labels = labels_cache
                    .entry(endpoint.namespace.clone())
                    .or_insert_with(|| namespace_labels(&endpoint.namespace))
                    .clone();
                let mut selected: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
                for (index, section) in result.sections.iter().enumerate() {
                    if section.selects(
                        &endpoint.namespace,
                        &endpoint.labels,
                        &namespace_labels,
                        Some(endpoint),
                    ) {
                        selected[section.direction.index()].push(index);
                    }
                }
                selected
            })
            .collect();
        result
    }

    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Sections selecting endpoint `index` for `direction`.
    pub fn selecting(&self, index: usize, direction: Direction) -> &[usize] {
        self.selected
            .get(index)
            .map(|selected| selected[direction.index()].as_slice())
            .unwrap_or(&[])
    }

    /// Sections selecting a pod not in the inventory.
    pub fn selecting_labels(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        namespace_labels: &BTreeMap<String, String>,
        direction: Direction,
    ) -> Vec<usize> {
        self.sections
            .iter()
            .enumerate()
            .filter(|(_, section)| {
                section.direction == direction
                    && section.selects(namespace, labels, namespace_labels, None)
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// What the selecting sections say about traffic with `remote`.
    pub fn evaluate(
        &self,
        selecting: &[usize],
        remote: Remote<'_>,
        destination: Option<&Endpoint>,
        inventory: &Inventory,
    ) -> CiliumEvaluation {
        let mut evaluation = CiliumEvaluation::default();
        let requires: Vec<&CiliumEndpointSelector> = selecting
            .iter()
            .flat_map(|index| self.sections[*index].rules.iter())
            .flat_map(|rule| rule.requires.iter())
            .collect();
        for index in selecting {
            let section = &self.sections[*index];
            if section.default_deny && !section.deny {
                evaluation.isolating.push(*index);
            }
            for rule in &section.rules {
                let matched = rule_matches(section, rule, remote, &requires, inventory);
                if matched == PeerMatch::No {
                    continue;
                }
                let mut connections = ConnectionSet::empty();
                let mut conditions = Vec::new();
                let mut named_ports_unresolved = false;
                let port_rules: Vec<(Vec<PortRule>, Option<String>)> = if rule.port_rules.is_empty()
                {
                    vec![(Vec::new(), None)]
                } else {
                    rule.port_rules.clone()
                };
                for (ports, condition) in &port_rules {
                    let (covered, unresolved) = port_rules_connections(ports, destination);
                    named_ports_unresolved |= unresolved;
                    if let Some(condition) = condition
                        && !covered.is_empty()
                    {
                        conditions.push((covered.clone(), condition.clone()));
                    }
                    connections.union_with(&covered);
                }
                if let Some(mode) = &rule.authentication
                    && !section.deny
                {
                    conditions.push((
                        connections.clone(),
                        format!("only after mutual authentication (`{mode}`, {{rule}})"),
                    ));
                }
                if let Remote::Host(host, _) = remote
                    && let Some(pattern) = rule.peers.iter().find_map(|peer| match peer {
                        CiliumPeer::Fqdn {
                            match_name,
                            match_pattern,
                        } if fqdn_matches(
                            match_name.as_deref(),
                            match_pattern.as_deref(),
                            host,
                        ) =>
                        {
                            match_name.clone().or_else(|| match_pattern.clone())
                        }
                        _ => None,
                    })
                {
                    conditions.push((
                        connections.clone(),
                        format!(
                            "allowed at L3/L4 only at the addresses the pod resolved for `{pattern}` through Cilium's DNS proxy ({{rule}}; a DNS rule must allow the lookup)"
                        ),
                    ));
                }
                let outcome = CiliumRuleOutcome {
                    section: *index,
                    rule: rule.number,
                    connections,
                    uncertain: matched == PeerMatch::Maybe,
                    named_ports_unresolved,
                    conditions,
                };
                if section.deny {
                    evaluation.denies.push(outcome);
                } else {
                    evaluation.allows.push(outcome);
                }
            }
            if !section.unsupported.is_empty() {
                let outcome = CiliumRuleOutcome {
                    section: *index,
                    rule: 0,
                    connections: ConnectionSet::all(),
                    uncertain: true,
                    named_ports_unresolved: false,
                    conditions: Vec::new(),
                };
                if section.deny {
                    evaluation.denies.push(outcome);
                } else {
                    evaluation.allows.push(outcome);
                }
            }
        }
        evaluation
    }
}

impl CiliumSection {
    fn selects(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        namespace_labels: &BTreeMap<String, String>,
        endpoint: Option<&Endpoint>,
    ) -> bool {
        let Some(subject) = &self.subject else {
            return false;
        };
        self.namespace.as_deref().is_none_or(|own| own == namespace)
            && selector_matches(subject, namespace, labels, namespace_labels, endpoint)
    }
}

fn rule_matches(
    section: &CiliumSection,
    rule: &CiliumCompiledRule,
    remote: Remote<'_>,
    requires: &[&CiliumEndpointSelector],
    inventory: &Inventory,
) -> PeerMatch {
    if rule.any_peer {
        return PeerMatch::Yes;
    }
    let mut result = PeerMatch::No;
    for (peer, block) in rule.peers.iter().zip(&rule.blocks) {
        let matched = peer_matches(section, peer, block.as_ref(), remote, requires, inventory);
        result = result.or(matched);
        if result == PeerMatch::Yes {
            break;
        }
    }
    result
}

fn peer_matches(
    section: &CiliumSection,
    peer: &CiliumPeer,
    block: Option<&AddressSet>,
    remote: Remote<'_>,
    requires: &[&CiliumEndpointSelector],
    inventory: &Inventory,
) -> PeerMatch {
    match peer {
        CiliumPeer::Endpoints(selector) => match remote {
            Remote::Pod {
                namespace,
                labels,
                namespace_labels,
                endpoint,
                ..
            } => PeerMatch::from_bool(
                selector_matches(selector, namespace, labels, namespace_labels, endpoint)
                    && requires.iter().all(|required| {
                        selector_matches(required, namespace, labels, namespace_labels, endpoint)
                    }),
            ),
            _ => PeerMatch::No,
        },
        CiliumPeer::Entity { entity } => entity_matches(entity, remote, inventory),
        CiliumPeer::Cidr { .. } => match (remote, block) {
            (Remote::Address(range), Some(block)) => match block.coverage(&range) {
                Coverage::Full => PeerMatch::Yes,
                Coverage::Partial => PeerMatch::Maybe,
                Coverage::None => PeerMatch::No,
            },
            (Remote::Host(_, Some(range)), Some(block)) => match block.coverage(&range) {
                Coverage::Full => PeerMatch::Yes,
                Coverage::Partial => PeerMatch::Maybe,
                Coverage::None => PeerMatch::No,
            },
            (Remote::Host(..), _) => PeerMatch::Maybe,
            _ => PeerMatch::No,
        },
        CiliumPeer::CidrGroup { .. } => match remote {
            Remote::Address(_) | Remote::Host(..) => PeerMatch::Maybe,
            _ => PeerMatch::No,
        },
        CiliumPeer::Fqdn {
            match_name,
            match_pattern,
        } => match remote {
            Remote::Host(host, _) => PeerMatch::from_bool(fqdn_matches(
                match_name.as_deref(),
                match_pattern.as_deref(),
                host,
            )),
            Remote::Address(_) => PeerMatch::Maybe,
            _ => PeerMatch::No,
        },
        CiliumPeer::Service {
            name,
            namespace,
            selector,
        } => match remote {
            Remote::Pod {
                endpoint: Some(endpoint),
                ..
            } => {
                let wanted_namespace = namespace
                    .clone()
                    .or_else(|| section.namespace.clone())
                    .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
                PeerMatch::from_bool(inventory.services.iter().any(|service| {
                    let named = match (name, selector) {
                        (Some(name), _) => {
                            service.name == *name && service.namespace == wanted_namespace
                        }
                        (None, Some(selector)) => {
                            selector.matches(&service.labels)
                                && (namespace.is_none() || service.namespace == wanted_namespace)
                        }
                        (None, None) => false,
                    };
                    named && service.selects(endpoint)
                }))
            }
            Remote::Address(_) => PeerMatch::Maybe,
            _ => PeerMatch::No,
        },
        CiliumPeer::Nodes { .. } => match remote {
            Remote::Address(_) | Remote::Unresolved => PeerMatch::Maybe,
            _ => PeerMatch::No,
        },
        CiliumPeer::Unsupported { .. } => PeerMatch::Maybe,
    }
}

/// Cilium entities: `world` is outside the cluster, `cluster` every pod and node, `all`
/// everything; `host`/`remote-node` are nodes, which potoo sees only as addresses.
fn entity_matches(entity: &str, remote: Remote<'_>, inventory: &Inventory) -> PeerMatch {
    match entity {
        "all" => PeerMatch::Yes,
        "none" => PeerMatch::No,
        "world" | "world-ipv4" | "world-ipv6" => {
            let family_ok = |family: Family| match entity {
                "world-ipv4" => family == Family::V4,
                "world-ipv6" => family == Family::V6,
                _ => true,
            };
            match remote {
                Remote::Address(range) => PeerMatch::from_bool(family_ok(range.family)),
                Remote::Host(_, Some(range)) => PeerMatch::from_bool(family_ok(range.family)),
                Remote::Host(..) if entity == "world" => PeerMatch::Yes,
                Remote::Host(..) => PeerMatch::Maybe,
                _ => PeerMatch::No,
            }
        }
        "cluster" => match remote {
            Remote::Pod { .. } | Remote::Unresolved => PeerMatch::Yes,
            _ => PeerMatch::No,
        },
        "host" | "remote-node" => match remote {
            Remote::Unresolved => PeerMatch::Maybe,
            Remote::Address(range) => PeerMatch::from_bool(inventory.nodes.iter().any(|node| {
                node.addresses
                    .iter()
                    .any(|address| range.contains_address(*address))
            }))
            .or(if inventory.nodes.is_empty() {
                PeerMatch::Maybe
            } else {
                PeerMatch::No
            }),
            _ => PeerMatch::No,
        },
        "kube-apiserver" => match remote {
            Remote::Address(range) => {
                PeerMatch::from_bool(inventory.services.iter().any(|service| {
                    service.namespace == "default"
                        && service.name == "kubernetes"
                        && service
                            .cluster_ips
                            .iter()
                            .any(|address| range.contains_address(*address))
                }))
            }
            _ => PeerMatch::No,
        },
        "init" | "health" | "unmanaged" | "ingress" => PeerMatch::No,
        _ => PeerMatch::Maybe,
    }
}

/// `matchName` exactly (case-insensitive, trailing dot ignored); `matchPattern` with `*`
/// standing for any characters but a dot (and `*` alone for every name).
pub fn fqdn_matches(name: Option<&str>, pattern: Option<&str>, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(name) = name
        && name.trim_end_matches('.').eq_ignore_ascii_case(&host)
    {
        return true;
    }
    let Some(pattern) = pattern else {
        return false;
    };
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern == "*" {
        return true;
    }
    glob_without_dots(pattern.as_bytes(), host.as_bytes())
}

fn glob_without_dots(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            let mut index = 0;
            loop {
                if glob_without_dots(rest, &text[index..]) {
                    return true;
                }
                if index >= text.len() || text[index] == b'.' {
                    return false;
                }
                index += 1;
            }
        }
        Some((character, rest)) => {
            text.first() == Some(character) && glob_without_dots(rest, &text[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_patterns() {
        assert!(fqdn_matches(
            Some("api.github.com"),
            None,
            "API.github.com."
        ));
        assert!(fqdn_matches(None, Some("*.github.com"), "api.github.com"));
        assert!(!fqdn_matches(None, Some("*.github.com"), "a.b.github.com"));
        assert!(fqdn_matches(None, Some("*"), "anything.example"));
        assert!(fqdn_matches(None, Some("api-*.corp"), "api-eu.corp"));
        assert!(!fqdn_matches(None, Some("api-*.corp"), "web.corp"));
    }
}
