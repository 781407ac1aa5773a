//! The connectivity list: every allowed connection between workloads, external address ranges
//! and the stand-in ingress controller (`reach --all`), in the shape of np-guard's
//! netpol-analyzer `list` (`src => dst : conns`). External ranges are the pieces of the address
//! space cut at every ipBlock edge (ingress rules' blocks for sources, egress rules' for
//! destinations); connections of a workload to itself are left out.

use serde::Serialize;

use super::addresses::{self, IpRange};
use super::connections::{ConnectionSet, PortSet};
use super::endpoints::PortValue;
use super::verdict::Direction;
use super::{NetworkModel, Peer};
use crate::model::report::API_VERSION;
use crate::source::Gap;

/// One allowed connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionEntry {
    /// `payments/api[Deployment]`, `0.0.0.0-255.255.255.255[External]`, `{ingress-controller}`.
    pub source: String,
    pub destination: String,
    pub connections: ConnectionSet,
}

impl ConnectionEntry {
    /// `src => dst : conns`.
    pub fn line(&self) -> String {
        format!(
            "{} => {} : {}",
            self.source,
            self.destination,
            self.connections.connlist_text()
        )
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectivityScope {
    /// `null` with `-A`.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

/// What `reach --all` answers (`kind: ConnectivityList`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectivityList {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    pub scope: ConnectivityScope,
    pub workloads: usize,
    /// Sorted as np-guard sorts its lines.
    pub connections: Vec<ConnectionEntry>,
    pub notes: Vec<String>,
}

/// Source workloads per thread below which the pairs are listed on one thread.
const SOURCES_PER_THREAD: usize = 32;

/// Every allowed connection involving a workload of `namespace` (all workloads when `None`).
pub fn connectivity(model: &NetworkModel<'_>, namespace: Option<&str>) -> ConnectivityList {
    let inventory = &model.inventory;
    let in_scope = |peer_namespace: &str| namespace.is_none_or(|wanted| wanted == peer_namespace);
    // One representative pod per workload.
    let workloads: Vec<(String, usize, bool)> = inventory
        .workloads
        .iter()
        .map(|group| {
            (
                group.reference.display(),
                group.endpoints[0],
                in_scope(&group.reference.namespace),
            )
        })
        .collect();
    let mut entries = Vec::new();

    // Workload pairs dominate (n²): split the sources across the machine's cores.
    let fast = FastPairs::new(model, &workloads);
    let pair_entries = |sources: &[(String, usize, bool)]| {
        let mut found = Vec::new();
        let mut memo = fast.as_ref().map(FastPairs::memo);
        for (source_name, source_index, source_in_scope) in sources {
            let source = Peer::Endpoint(*source_index);
            let mut egress_memo = std::collections::HashMap::new();
            for (position, (destination_name, destination_index, destination_in_scope)) in
                workloads.iter().enumerate()
            {
                if source_name == destination_name || !(*source_in_scope || *destination_in_scope) {
                    continue;
                }
                let destination = Peer::Endpoint(*destination_index);
                let allowed = match (&fast, &mut memo) {
                    (Some(fast), Some(memo)) => fast.allowed(
                        *source_index,
                        *destination_index,
                        position,
                        &mut egress_memo,
                        memo,
                    ),
                    _ => None,
                }
                .unwrap_or_else(|| allowed_between(model, &source, &destination));
                if !allowed.is_empty() {
                    found.push(ConnectionEntry {
                        source: source_name.clone(),
                        destination: destination_name.clone(),
                        connections: allowed,
                    });
                }
            }
        }
        found
    };
    for part in crate::parallel::map_chunks(&workloads, SOURCES_PER_THREAD, pair_entries) {
        entries.extend(part);
    }

    let ingress_blocks = model.address_blocks(Direction::Ingress);
    let egress_blocks = model.address_blocks(Direction::Egress);
    let source_ranges = addresses::partition(&ingress_blocks);
    let destination_ranges = addresses::partition(&egress_blocks);
    for (workload_name, workload_index, workload_in_scope) in &workloads {
        if !workload_in_scope {
            continue;
        }
        let workload = Peer::Endpoint(*workload_index);
        for range in &source_ranges {
            let allowed = allowed_between(model, &Peer::Address(*range), &workload);
            if !allowed.is_empty() {
                entries.push(ConnectionEntry {
                    source: external_name(range),
                    destination: workload_name.clone(),
                    connections: allowed,
                });
            }
        }
        for range in &destination_ranges {
            let allowed = allowed_between(model, &workload, &Peer::Address(*range));
            if !allowed.is_empty() {
                entries.push(ConnectionEntry {
                    source: workload_name.clone(),
                    destination: external_name(range),
                    connections: allowed,
                });
            }
        }
    }

    for (workload_name, workload_index, workload_in_scope) in &workloads {
        if !workload_in_scope {
            continue;
        }
        let exposed = exposed_connections(model, *workload_index);
        if exposed.is_empty() {
            continue;
        }
        let allowed = allowed_between(
            model,
            &Peer::IngressController,
            &Peer::Endpoint(*workload_index),
        )
        .intersection(&exposed);
        if !allowed.is_empty() {
            entries.push(ConnectionEntry {
                source: "{ingress-controller}".to_string(),
                destination: workload_name.clone(),
                connections: allowed,
            });
        }
    }

    let mut keyed: Vec<(String, ConnectionEntry)> = entries
        .into_iter()
        .map(|entry| (entry.line(), entry))
        .collect();
    keyed.sort_by(|left, right| left.0.cmp(&right.0));
    keyed.dedup_by(|left, right| left.0 == right.0);
    let notes = inventory
        .notes
        .iter()
        .cloned()
        .chain(model.diagnostics())
        .collect();
    ConnectivityList {
        api_version: API_VERSION,
        kind: "ConnectivityList",
        incomplete: model.snapshot.is_incomplete(),
        gaps: model.snapshot.gaps.clone(),
        scope: ConnectivityScope {
            namespace: namespace.map(str::to_string),
            all_namespaces: namespace.is_none(),
        },
        workloads: workloads
            .iter()
            .filter(|(_, _, in_scope)| *in_scope)
            .count(),
        connections: keyed.into_iter().map(|(_, entry)| entry).collect(),
        notes,
    }
}

/// Connectivity between workloads when NetworkPolicy is the only policy family (the common
/// case), without building explanations: a side's answer depends only on which of the rules
/// selecting its pod match the other pod's class, so answers are remembered by that set of
/// rules. Gives the same result as [`NetworkModel::evaluate_pair`] (the connectivity tests and
/// the conformance corpus run through it).
struct FastPairs<'m> {
    model: &'m NetworkModel<'m>,
    /// Per workload position: the ingress rules selecting its pod, with their connections
    /// resolved on it (`None`: not isolated for ingress).
    ingress: Vec<Option<Vec<(usize, usize, ConnectionSet)>>>,
}

/// Per-thread memory of ingress answers, per workload position, by matched-rule mask.
type IngressMemo = Vec<std::collections::HashMap<u64, ConnectionSet>>;

impl<'m> FastPairs<'m> {
    fn new(
        model: &'m NetworkModel<'m>,
        workloads: &[(String, usize, bool)],
    ) -> Option<FastPairs<'m>> {
        let policies = &model.policies;
        if !policies.admin.is_empty() || !policies.cilium.is_empty() || !policies.mesh.is_empty() {
            return None;
        }
        let network = &policies.network;
        let ingress = workloads
            .iter()
            .map(|(_, endpoint_index, _)| {
                let endpoint = &model.inventory.endpoints[*endpoint_index];
                let class = model.classes.endpoint_class[*endpoint_index];
                let selecting = network.selecting(class, Direction::Ingress);
                if selecting.is_empty() {
                    return None;
                }
                let mut rules = Vec::new();
                for policy in selecting {
                    for (rule_index, rule) in network.policies[*policy].rules.iter().enumerate() {
                        let connections =
                            super::networkpolicy::rule_connections(rule, Some(endpoint)).0;
                        rules.push((*policy, rule_index, connections));
                    }
                }
                Some(rules)
            })
            .collect();
        Some(FastPairs { model, ingress })
    }

    fn memo(&self) -> IngressMemo {
        vec![std::collections::HashMap::new(); self.ingress.len()]
    }

    /// `None` when the pair needs the general evaluation (host-network pods, many rules).
    fn allowed(
        &self,
        source_index: usize,
        destination_index: usize,
        destination_position: usize,
        egress_memo: &mut std::collections::HashMap<u64, ConnectionSet>,
        ingress_memo: &mut IngressMemo,
    ) -> Option<ConnectionSet> {
        let model = self.model;
        let network = &model.policies.network;
        let source = &model.inventory.endpoints[source_index];
        let destination = &model.inventory.endpoints[destination_index];
        if model.host_network_exempt(source) || model.host_network_exempt(destination) {
            return None;
        }
        let source_class = model.classes.endpoint_class[source_index];
        let destination_class = model.classes.endpoint_class[destination_index];
        // Egress of the source towards the destination's class.
        let selecting = network.selecting(source_class, Direction::Egress);
        let egress = if selecting.is_empty() {
            None
        } else {
            let mut mask: u64 = 0;
            let mut bit = 0;
            let mut fixed = true;
            for policy in selecting {
                for (rule_index, rule) in network.policies[*policy].rules.iter().enumerate() {
                    if bit == 64 {
                        return None;
                    }
                    if network.rule_selects_class(*policy, rule_index, destination_class) {
                        mask |= 1 << bit;
                        fixed &= rule.fixed_connections.is_some();
                    }
                    bit += 1;
                }
            }
            if mask == 0 {
                return Some(ConnectionSet::empty());
            }
            let compute = || {
                let mut allowed = ConnectionSet::empty();
                let mut bit = 0;
                for policy in selecting {
                    for rule in &network.policies[*policy].rules {
                        if mask & (1 << bit) != 0 {
                            match &rule.fixed_connections {
                                Some(connections) => allowed.union_with(connections),
                                None => allowed.union_with(
                                    &super::networkpolicy::rule_connections(
                                        rule,
                                        Some(destination),
                                    )
                                    .0,
                                ),
                            }
                        }
                        bit += 1;
                    }
                }
                allowed
            };
            Some(if fixed {
                egress_memo.entry(mask).or_insert_with(compute).clone()
            } else {
                compute()
            })
        };
        if egress.as_ref().is_some_and(ConnectionSet::is_empty) {
            return Some(ConnectionSet::empty());
        }
        // Ingress of the destination from the source's class.
        let ingress = match &self.ingress[destination_position] {
            None => None,
            Some(rules) => {
                if rules.len() > 64 {
                    return None;
                }
                let mut mask: u64 = 0;
                for (bit, (policy, rule_index, _)) in rules.iter().enumerate() {
                    if network.rule_selects_class(*policy, *rule_index, source_class) {
                        mask |= 1 << bit;
                    }
                }
                if mask == 0 {
                    return Some(ConnectionSet::empty());
                }
                let memo = &mut ingress_memo[destination_position];
                Some(
                    memo.entry(mask)
                        .or_insert_with(|| {
                            let mut allowed = ConnectionSet::empty();
                            for (bit, (_, _, connections)) in rules.iter().enumerate() {
                                if mask & (1 << bit) != 0 {
                                    allowed.union_with(connections);
                                }
                            }
                            allowed
                        })
                        .clone(),
                )
            }
        };
        Some(match (egress, ingress) {
            (None, None) => ConnectionSet::all(),
            (Some(only), None) | (None, Some(only)) => only,
            (Some(egress), Some(ingress)) => egress.intersection(&ingress),
        })
    }
}

/// `10.0.0.0-10.255.255.255[External]`.
pub fn external_name(range: &IpRange) -> String {
    format!("{}[External]", range.range_text())
}

/// What both sides allow, without collecting explanations.
fn allowed_between(model: &NetworkModel<'_>, source: &Peer, destination: &Peer) -> ConnectionSet {
    let evaluation = model.evaluate_pair(source, destination, false);
    if evaluation.egress.allowed.is_empty() {
        return ConnectionSet::empty();
    }
    evaluation.allowed()
}

/// The traffic Routes and Ingresses send to a pod: the target ports of the Service ports they
/// name (every port when they name none), resolved on the pod.
pub fn exposed_connections(model: &NetworkModel<'_>, endpoint_index: usize) -> ConnectionSet {
    let inventory = &model.inventory;
    let endpoint = &inventory.endpoints[endpoint_index];
    let mut exposed = ConnectionSet::empty();
    for exposure in &inventory.exposures {
        if exposure.namespace != endpoint.namespace {
            continue;
        }
        let Some(service) = inventory.services.iter().find(|service| {
            service.namespace == exposure.namespace && service.name == exposure.service
        }) else {
            continue;
        };
        if !service.selects(endpoint) {
            continue;
        }
        for service_port in &service.ports {
            let named = match &exposure.port {
                None => true,
                Some(PortValue::Name(name)) => service_port.name.as_deref() == Some(name.as_str()),
                Some(PortValue::Number(number)) => {
                    service_port.port == *number
                        || service_port.target == PortValue::Number(*number)
                }
            };
            if !named {
                continue;
            }
            let target = match &service_port.target {
                PortValue::Number(number) => Some(*number),
                PortValue::Name(name) => endpoint
                    .named_port_any(name)
                    .filter(|container| container.protocol == service_port.protocol)
                    .map(|container| container.port),
            };
            if let Some(target) = target {
                exposed.union_with(&ConnectionSet::of(
                    service_port.protocol,
                    PortSet::single(target),
                ));
            }
        }
    }
    exposed
}
