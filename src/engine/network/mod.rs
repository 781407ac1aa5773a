//! Network reachability: which traffic NetworkPolicies, AdminNetworkPolicies (and Baseline),
//! Cilium policies and Istio AuthorizationPolicies allow between pods, Services, namespaces and
//! outside addresses, and which policy and rule decides each side. Pure functions of the
//! Snapshot and the adapters' output.
//!
//! - [`NetworkModel`] reads endpoints and compiles policies once (selections precomputed per
//!   group of pods with the same namespace and labels);
//! - [`NetworkModel::reach`] answers `reach SRC DST[:PORT[/PROTO]]`;
//! - [`connlist::connectivity`] lists every allowed connection (`reach --all`, `-o connlist`);
//! - [`verdict_for`] is the entry point other engines (explain) call with text peers.

pub mod addresses;
pub mod adminnetworkpolicy;
pub mod cilium;
pub mod connections;
pub mod connlist;
pub mod decision;
pub mod endpoints;
pub mod istio;
pub mod networkpolicy;
pub mod verdict;

use std::collections::BTreeMap;

use addresses::IpRange;
use adminnetworkpolicy::AdminPolicies;
use cilium::CiliumPolicies;
use connections::{ConnectionSet, PortSet};
use decision::{PairEvaluation, SideEvaluation, SideStatus};
use endpoints::{Classes, Endpoint, Inventory, PeerQuery, PortQuery, PortValue, Remote};
use istio::MeshPolicies;
use networkpolicy::NetworkPolicies;
use verdict::{
    Attribution, Direction, Outcome, PairVerdict, PeerSummary, PortSummary, ReachResult, Verdict,
    Wording, side_verdict,
};

use crate::model::Constraint;
use crate::source::Snapshot;

/// How to treat pods with `hostNetwork: true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostNetworkMode {
    /// Pod network policies do not apply to them; their traffic comes from the node's address
    /// (what most network plugins do, as the Kubernetes documentation describes).
    #[default]
    Exempt,
    /// Treat them like any other pod (np-guard's netpol-analyzer does this).
    Subject,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReachOptions {
    pub host_network: HostNetworkMode,
}

/// One end of the traffic, concretely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// An endpoint (pod) of the inventory, by index.
    Endpoint(usize),
    /// An address or range outside the pod network.
    Address(IpRange),
    /// A host name that is not a Service of the Snapshot.
    Host(String),
    /// A pod without labels in a namespace (for `ns:NAMESPACE` where the Snapshot has no pod),
    /// with the namespace's labels.
    NamespacePod(String, BTreeMap<String, String>),
    /// The stand-in for the cluster's ingress controller (Routes and Ingresses).
    IngressController,
}

/// Why a `reach` question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReachError {
    #[error("invalid {role} `{text}`: {problem}")]
    Invalid {
        role: &'static str,
        text: String,
        problem: String,
    },
    #[error("{role} `{text}` not found: {problem}")]
    NotFound {
        role: &'static str,
        text: String,
        problem: String,
    },
}

/// Kinds whose absence from a Snapshot makes a reachability answer unreliable.
const REACH_KINDS: &[&str] = &[
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "AuthorizationPolicy",
    "Pod",
    "Namespace",
    "Service",
];

/// Indices of the policies (or rules, or sections) of one family selecting a pod.
type Selection<'a> = std::borrow::Cow<'a, [usize]>;

/// Every compiled policy family.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    pub network: NetworkPolicies,
    pub admin: AdminPolicies,
    pub cilium: CiliumPolicies,
    pub mesh: MeshPolicies,
}

impl Policies {
    pub fn network_attribution(
        &self,
        policy: usize,
        rule: Option<usize>,
        outcome: Outcome,
    ) -> Attribution {
        let compiled = &self.network.policies[policy];
        let (display, description) = match rule {
            Some(number) => (
                format!(
                    "{}#{} rule {number}",
                    compiled.reference.display(),
                    compiled.direction
                ),
                compiled
                    .rules
                    .iter()
                    .find(|candidate| candidate.number == number)
                    .map(|rule| rule.description.clone())
                    .unwrap_or_default(),
            ),
            None => (compiled.reference.display(), String::new()),
        };
        Attribution {
            policy: compiled.reference.clone(),
            rule,
            rule_name: None,
            outcome,
            display,
            description,
            constraint_id: compiled.constraint_id.clone(),
        }
    }

    pub fn admin_attribution(&self, rule: usize, outcome: Outcome) -> Attribution {
        let compiled = &self.admin.rules[rule];
        Attribution {
            policy: compiled.reference.clone(),
            rule: None,
            rule_name: Some(compiled.rule_name.clone()),
            outcome,
            display: format!(
                "{} {} rule `{}`",
                compiled.reference.display(),
                compiled.direction,
                compiled.rule_name
            ),
            description: compiled.description.clone(),
            constraint_id: compiled.constraint_id.clone(),
        }
    }

    pub fn cilium_attribution(&self, section: usize, rule: usize, outcome: Outcome) -> Attribution {
        let compiled = &self.cilium.sections[section];
        let display = if rule == 0 {
            format!("{}#{}", compiled.reference.display(), compiled.label)
        } else {
            format!(
                "{}#{} rule {rule}",
                compiled.reference.display(),
                compiled.label
            )
        };
        Attribution {
            policy: compiled.reference.clone(),
            rule: (rule > 0).then_some(rule),
            rule_name: None,
            outcome,
            display,
            description: compiled.description.clone(),
            constraint_id: compiled.constraint_id.clone(),
        }
    }

    pub fn mesh_display(&self, policy: usize, rule: usize) -> String {
        let compiled = &self.mesh.policies[policy];
        if rule == 0 {
            compiled.reference.display()
        } else {
            format!("{} rule {rule}", compiled.reference.display())
        }
    }

    pub fn mesh_attribution(&self, policy: usize, rule: usize, outcome: Outcome) -> Attribution {
        let compiled = &self.mesh.policies[policy];
        Attribution {
            policy: compiled.reference.clone(),
            rule: (rule > 0).then_some(rule),
            rule_name: None,
            outcome,
            display: self.mesh_display(policy, rule),
            description: compiled.description.clone(),
            constraint_id: compiled.constraint_id.clone(),
        }
    }
}

/// Endpoints and compiled policies, built once per Snapshot.
pub struct NetworkModel<'a> {
    pub snapshot: &'a Snapshot,
    pub inventory: Inventory,
    pub classes: Classes,
    pub policies: Policies,
    pub options: ReachOptions,
    empty_labels: BTreeMap<String, String>,
}

impl<'a> NetworkModel<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        constraints: &[Constraint],
        options: ReachOptions,
    ) -> NetworkModel<'a> {
        let inventory = Inventory::build(snapshot);
        let classes = Classes::build(&inventory, snapshot);
        let policies = Policies {
            network: NetworkPolicies::build(constraints, &classes),
            admin: AdminPolicies::build(constraints, &classes),
            cilium: CiliumPolicies::build(constraints, &inventory, &|namespace| {
                snapshot.namespace_labels(namespace)
            }),
            mesh: MeshPolicies::build(constraints),
        };
        NetworkModel {
            snapshot,
            inventory,
            classes,
            policies,
            options,
            empty_labels: BTreeMap::new(),
        }
    }

    /// Everything the policy families reported while compiling.
    pub fn diagnostics(&self) -> Vec<String> {
        self.policies
            .network
            .diagnostics
            .iter()
            .chain(&self.policies.admin.diagnostics)
            .chain(&self.policies.cilium.diagnostics)
            .chain(&self.policies.mesh.diagnostics)
            .cloned()
            .collect()
    }

    /// Address blocks rules of `direction` name (NetworkPolicy ipBlocks, AdminNetworkPolicy
    /// networks, Cilium CIDRs): the edges of the external ranges a connectivity list shows.
    pub fn address_blocks(&self, direction: Direction) -> Vec<&addresses::AddressSet> {
        let mut blocks = self.policies.network.address_blocks(direction);
        for rule in &self.policies.admin.rules {
            if rule.direction != direction {
                continue;
            }
            for peer in &rule.peers {
                if let adminnetworkpolicy::AdminPeer::Networks(sets) = peer {
                    blocks.extend(sets.iter());
                }
            }
        }
        for section in &self.policies.cilium.sections {
            if section.direction == direction {
                for rule in &section.rules {
                    blocks.extend(rule.blocks.iter().flatten());
                }
            }
        }
        blocks
    }

    /// `payments/api[Deployment]`, `10.0.0.0-10.255.255.255`, `{ingress-controller}`.
    pub fn peer_display(&self, peer: &Peer) -> String {
        match peer {
            Peer::Endpoint(index) => self.inventory.endpoints[*index].workload.display(),
            Peer::Address(range) => range.to_string(),
            Peer::Host(name) => name.clone(),
            Peer::NamespacePod(namespace, _) => format!("a pod in namespace `{namespace}`"),
            Peer::IngressController => "{ingress-controller}".to_string(),
        }
    }

    fn endpoint(&self, peer: &Peer) -> Option<&Endpoint> {
        match peer {
            Peer::Endpoint(index) => self.inventory.endpoints.get(*index),
            _ => None,
        }
    }

    pub fn host_network_exempt(&self, endpoint: &Endpoint) -> bool {
        endpoint.host_network && self.options.host_network == HostNetworkMode::Exempt
    }

    /// How rules on the other side see `peer`.
    fn remote_of<'m>(&'m self, peer: &'m Peer) -> Remote<'m> {
        match peer {
            Peer::Endpoint(index) => {
                let endpoint = &self.inventory.endpoints[*index];
                if self.host_network_exempt(endpoint) {
                    return match endpoint.host_ip {
                        Some(address) => Remote::Address(IpRange::address(address)),
                        None => Remote::Unresolved,
                    };
                }
                let class_index = self.classes.endpoint_class[*index];
                let class = &self.classes.classes[class_index];
                Remote::Pod {
                    namespace: &class.namespace,
                    labels: &class.labels,
                    namespace_labels: &class.namespace_labels,
                    class: Some(class_index),
                    endpoint: Some(endpoint),
                }
            }
            Peer::IngressController => match self.classes.ingress_controller {
                Some(class_index) => {
                    let class = &self.classes.classes[class_index];
                    Remote::Pod {
                        namespace: &class.namespace,
                        labels: &class.labels,
                        namespace_labels: &class.namespace_labels,
                        class: Some(class_index),
                        endpoint: None,
                    }
                }
                None => Remote::Unresolved,
            },
            Peer::NamespacePod(namespace, namespace_labels) => Remote::Pod {
                namespace,
                labels: &self.empty_labels,
                namespace_labels,
                class: None,
                endpoint: None,
            },
            Peer::Address(range) => Remote::Address(*range),
            Peer::Host(name) => Remote::Host(name, None),
        }
    }

    /// One side of a pair: `subject` is where the direction is enforced, `remote` the other end.
    fn side(
        &self,
        subject: &Peer,
        remote: &Peer,
        destination: Option<&Endpoint>,
        direction: Direction,
        details: bool,
    ) -> SideEvaluation {
        let policies = &self.policies;
        // Which policies select the subject, per family.
        use std::borrow::Cow;
        let (network, admin, cilium): (Selection<'_>, Selection<'_>, Selection<'_>) = match subject
        {
            Peer::Endpoint(index) => {
                let endpoint = &self.inventory.endpoints[*index];
                if self.host_network_exempt(endpoint) {
                    return SideEvaluation::unrestricted(direction, SideStatus::HostNetwork);
                }
                let class = self.classes.endpoint_class[*index];
                (
                    Cow::Borrowed(policies.network.selecting(class, direction)),
                    Cow::Borrowed(policies.admin.selecting(class, direction)),
                    Cow::Borrowed(policies.cilium.selecting(*index, direction)),
                )
            }
            Peer::IngressController => match self.classes.ingress_controller {
                Some(class) => (
                    Cow::Borrowed(policies.network.selecting(class, direction)),
                    Cow::Borrowed(policies.admin.selecting(class, direction)),
                    Cow::Borrowed(&[][..]),
                ),
                None => (
                    Cow::Borrowed(&[][..]),
                    Cow::Borrowed(&[][..]),
                    Cow::Borrowed(&[][..]),
                ),
            },
            Peer::NamespacePod(namespace, namespace_labels) => (
                Cow::Owned(policies.network.selecting_labels(
                    namespace,
                    &self.empty_labels,
                    direction,
                )),
                Cow::Owned(policies.admin.selecting_labels(
                    namespace_labels,
                    &self.empty_labels,
                    direction,
                )),
                Cow::Owned(policies.cilium.selecting_labels(
                    namespace,
                    &self.empty_labels,
                    namespace_labels,
                    direction,
                )),
            ),
            Peer::Address(_) | Peer::Host(_) => {
                return SideEvaluation::unrestricted(direction, SideStatus::External);
            }
        };
        let remote_view = self.remote_of(remote);
        let quick = network.is_empty()
            && admin.is_empty()
            && cilium.is_empty()
            && (direction == Direction::Egress || self.policies.mesh.is_empty());
        if quick {
            return SideEvaluation::unrestricted(direction, SideStatus::Evaluated);
        }
        // An address potoo cannot know: one scenario per range the rules tell apart.
        let scenarios: Vec<Remote<'_>> = match remote_view {
            Remote::Host(name, None) => self
                .address_scenarios(direction)
                .into_iter()
                .map(|address| Remote::Host(name, Some(address)))
                .collect(),
            Remote::Unresolved => self
                .address_scenarios(direction)
                .into_iter()
                .map(Remote::Address)
                .collect(),
            _ => Vec::new(),
        };
        let layers = |view: Remote<'_>| {
            let mut side = SideEvaluation::unrestricted(direction, SideStatus::Evaluated);
            if !network.is_empty() {
                side.network_policy = Some(policies.network.evaluate(
                    &network,
                    view,
                    destination,
                    details,
                ));
            }
            if !admin.is_empty() {
                side.admin = policies
                    .admin
                    .evaluate(&admin, view, destination, &self.inventory);
            }
            if !cilium.is_empty() {
                side.cilium = policies
                    .cilium
                    .evaluate(&cilium, view, destination, &self.inventory);
            }
            if direction == Direction::Ingress
                && !policies.mesh.is_empty()
                && let Some(endpoint) = destination
            {
                side.mesh = policies.mesh.evaluate(endpoint, view, &self.inventory);
            }
            side.finish(policies)
        };
        if scenarios.is_empty() {
            return layers(remote_view);
        }
        let mut side = layers(remote_view);
        side.scenarios = scenarios.into_iter().map(layers).collect();
        side.finish(policies)
    }

    /// One address per range the address blocks of `direction`'s rules tell apart (the
    /// addresses a host name or an unrecorded node address could have); none when too many.
    fn address_scenarios(&self, direction: Direction) -> Vec<IpRange> {
        let blocks = self.address_blocks(direction);
        let pieces = addresses::partition(&blocks);
        if pieces.len() > 256 {
            return Vec::new();
        }
        pieces
            .into_iter()
            .map(|piece| IpRange {
                end: piece.start,
                ..piece
            })
            .collect()
    }

    /// Both sides of `source → destination`. With `details`, every selecting policy and
    /// matching rule is recorded (for explanations); without, only what decides the sets.
    pub fn evaluate_pair(
        &self,
        source: &Peer,
        destination: &Peer,
        details: bool,
    ) -> PairEvaluation {
        let destination_endpoint = self.endpoint(destination);
        PairEvaluation {
            egress: self.side(
                source,
                destination,
                destination_endpoint,
                Direction::Egress,
                details,
            ),
            ingress: self.side(
                destination,
                source,
                destination_endpoint,
                Direction::Ingress,
                details,
            ),
        }
    }

    /// Resolves a parsed peer to concrete peers. `role` is `source` or `destination`.
    pub fn resolve(
        &self,
        query: &PeerQuery,
        text: &str,
        default_namespace: &str,
        role: &'static str,
    ) -> Result<ResolvedPeer, ReachError> {
        let not_found = |problem: String| ReachError::NotFound {
            role,
            text: text.to_string(),
            problem,
        };
        match query {
            PeerQuery::Object {
                namespace,
                kind,
                name,
            } => {
                let namespace = namespace.as_deref().unwrap_or(default_namespace);
                if kind == "Service" {
                    let (service_index, service) = self
                        .inventory
                        .services
                        .iter()
                        .enumerate()
                        .find(|(_, service)| {
                            service.namespace == namespace && service.name == *name
                        })
                        .ok_or_else(|| {
                            not_found(format!("no Service `{name}` in namespace `{namespace}`"))
                        })?;
                    return Ok(self.service_peer(
                        service_index,
                        text,
                        &format!("Service {}/{}", service.namespace, service.name),
                    ));
                }
                let peers: Vec<Peer> = self
                    .inventory
                    .endpoints
                    .iter()
                    .enumerate()
                    .filter(|(_, endpoint)| {
                        endpoint.namespace == namespace
                            && if kind == "Pod" {
                                (endpoint.pod_name == *name && !endpoint.from_template)
                                    || (endpoint.workload.kind == "Pod"
                                        && endpoint.workload.name == *name)
                            } else {
                                (endpoint.workload.kind == *kind && endpoint.workload.name == *name)
                                    || endpoint.owners.iter().any(|(owner_kind, owner_name)| {
                                        owner_kind == kind && owner_name == name
                                    })
                            }
                    })
                    .map(|(index, _)| Peer::Endpoint(index))
                    .collect();
                let Some(Peer::Endpoint(first)) = peers.first() else {
                    return Err(not_found(format!(
                        "no {kind} `{name}` (or pods of it) in namespace `{namespace}`"
                    )));
                };
                let display = if kind == "Pod" {
                    format!("{namespace}/{name}[Pod]")
                } else {
                    self.inventory.endpoints[*first].workload.display()
                };
                Ok(ResolvedPeer {
                    summary: PeerSummary {
                        query: text.to_string(),
                        display,
                        kind: if kind == "Pod" { "pod" } else { "workload" }.to_string(),
                        pods: peers.len(),
                        from_template: peers.iter().all(|peer| {
                            self.endpoint(peer)
                                .is_some_and(|endpoint| endpoint.from_template)
                        }),
                    },
                    peers,
                    service: None,
                })
            }
            PeerQuery::Namespace(namespace) => {
                let mut peers: Vec<Peer> = self
                    .inventory
                    .endpoints
                    .iter()
                    .enumerate()
                    .filter(|(_, endpoint)| endpoint.namespace == *namespace)
                    .map(|(index, _)| Peer::Endpoint(index))
                    .collect();
                let pods = peers.len();
                if peers.is_empty() {
                    peers.push(Peer::NamespacePod(
                        namespace.clone(),
                        self.snapshot.namespace_labels(namespace),
                    ));
                }
                Ok(ResolvedPeer {
                    summary: PeerSummary {
                        query: text.to_string(),
                        display: format!("namespace {namespace}"),
                        kind: "namespace".to_string(),
                        pods,
                        from_template: false,
                    },
                    peers,
                    service: None,
                })
            }
            PeerQuery::Address(range) => {
                if range.is_single_address() {
                    let address = range_address(range);
                    if let Some(index) = self.inventory.endpoint_with_address(address) {
                        let endpoint = &self.inventory.endpoints[index];
                        return Ok(ResolvedPeer {
                            summary: PeerSummary {
                                query: text.to_string(),
                                display: format!(
                                    "{}/{}[Pod]",
                                    endpoint.namespace, endpoint.pod_name
                                ),
                                kind: "pod".to_string(),
                                pods: 1,
                                from_template: false,
                            },
                            peers: vec![Peer::Endpoint(index)],
                            service: None,
                        });
                    }
                    if let Some((service_index, service)) = self
                        .inventory
                        .services
                        .iter()
                        .enumerate()
                        .find(|(_, service)| service.cluster_ips.contains(&address))
                    {
                        return Ok(self.service_peer(
                            service_index,
                            text,
                            &format!("Service {}/{}", service.namespace, service.name),
                        ));
                    }
                }
                Ok(ResolvedPeer {
                    summary: PeerSummary {
                        query: text.to_string(),
                        display: range.to_string(),
                        kind: "address".to_string(),
                        pods: 0,
                        from_template: false,
                    },
                    peers: vec![Peer::Address(*range)],
                    service: None,
                })
            }
            PeerQuery::Host(name) => {
                if let Some(service_index) = self.service_for_host(name, default_namespace) {
                    let service = &self.inventory.services[service_index];
                    let display = format!("Service {}/{}", service.namespace, service.name);
                    return Ok(self.service_peer(service_index, text, &display));
                }
                Ok(ResolvedPeer {
                    summary: PeerSummary {
                        query: text.to_string(),
                        display: name.clone(),
                        kind: "host".to_string(),
                        pods: 0,
                        from_template: false,
                    },
                    peers: vec![Peer::Host(name.clone())],
                    service: None,
                })
            }
        }
    }

    fn service_peer(&self, service_index: usize, text: &str, display: &str) -> ResolvedPeer {
        let service = &self.inventory.services[service_index];
        let peers: Vec<Peer> = self
            .inventory
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, endpoint)| service.selects(endpoint))
            .map(|(index, _)| Peer::Endpoint(index))
            .collect();
        ResolvedPeer {
            summary: PeerSummary {
                query: text.to_string(),
                display: display.to_string(),
                kind: "service".to_string(),
                pods: peers.len(),
                from_template: !peers.is_empty()
                    && peers.iter().all(|peer| {
                        self.endpoint(peer)
                            .is_some_and(|endpoint| endpoint.from_template)
                    }),
            },
            peers,
            service: Some(service_index),
        }
    }

    /// `api`, `api.payments`, `api.payments.svc`, `api.payments.svc.cluster.local`.
    fn service_for_host(&self, host: &str, default_namespace: &str) -> Option<usize> {
        let trimmed = host.trim_end_matches('.');
        let trimmed = trimmed.strip_suffix(".cluster.local").unwrap_or(trimmed);
        let trimmed = trimmed.strip_suffix(".svc").unwrap_or(trimmed);
        let (name, namespace) = match trimmed.split_once('.') {
            Some((name, namespace)) if !namespace.contains('.') => (name, namespace),
            Some(_) => return None,
            None => (trimmed, default_namespace),
        };
        self.inventory
            .services
            .iter()
            .position(|service| service.name == name && service.namespace == namespace)
    }

    /// Answers `reach`: parses and resolves both peers, translates the port, evaluates every
    /// source pod × destination pod pair, and reduces them to one verdict.
    pub fn reach(
        &self,
        source_text: &str,
        destination_text: &str,
        default_namespace: &str,
    ) -> Result<ReachResult, ReachError> {
        let source_query =
            endpoints::parse_peer(source_text).map_err(|problem| ReachError::Invalid {
                role: "source",
                text: source_text.to_string(),
                problem,
            })?;
        let (destination_query, port) =
            endpoints::parse_destination(destination_text).map_err(|problem| {
                ReachError::Invalid {
                    role: "destination",
                    text: destination_text.to_string(),
                    problem,
                }
            })?;
        let source = self.resolve(&source_query, source_text, default_namespace, "source")?;
        let destination = self.resolve(
            &destination_query,
            destination_text,
            default_namespace,
            "destination",
        )?;
        self.reach_resolved(&source, &destination, port.as_ref())
    }

    /// `reach` on resolved peers.
    pub fn reach_resolved(
        &self,
        source: &ResolvedPeer,
        destination: &ResolvedPeer,
        port: Option<&PortQuery>,
    ) -> Result<ReachResult, ReachError> {
        let mut notes = Vec::new();
        if destination.peers.is_empty() {
            return Err(ReachError::NotFound {
                role: "destination",
                text: destination.summary.query.clone(),
                problem: format!("{} selects no pod", destination.summary.display),
            });
        }
        if source.peers.is_empty() {
            return Err(ReachError::NotFound {
                role: "source",
                text: source.summary.query.clone(),
                problem: format!("{} selects no pod", source.summary.display),
            });
        }
        let service = destination
            .service
            .map(|index| &self.inventory.services[index]);
        let mut translations = Vec::new();
        let mut pairs = Vec::new();
        let source_peers = distinct_peers(self, &source.peers);
        let destination_peers = distinct_peers(self, &destination.peers);
        for destination_peer in &destination_peers {
            let destination_endpoint = self.endpoint(destination_peer);
            let query = match self.requested_connections(
                port,
                service,
                destination_endpoint,
                &destination.summary,
            ) {
                Ok((query, translation)) => {
                    if let Some(translation) = translation
                        && !translations.contains(&translation)
                    {
                        translations.push(translation);
                    }
                    query
                }
                Err(problem) => {
                    notes.push(problem);
                    continue;
                }
            };
            for source_peer in &source_peers {
                if source_peer == destination_peer {
                    continue;
                }
                let evaluation = self.evaluate_pair(source_peer, destination_peer, true);
                let source_name = self.pair_name(source_peer);
                let destination_name = self.pair_name(destination_peer);
                let traffic = match port {
                    Some(_) => query.to_string(),
                    None => "any port".to_string(),
                };
                let egress = side_verdict(
                    &evaluation.egress,
                    &self.policies,
                    &query,
                    &Wording {
                        subject: &source_name,
                        remote: &destination_name,
                        traffic: &traffic,
                    },
                );
                let ingress = side_verdict(
                    &evaluation.ingress,
                    &self.policies,
                    &query,
                    &Wording {
                        subject: &destination_name,
                        remote: &source_name,
                        traffic: &traffic,
                    },
                );
                let connections = egress.allowed.intersection(&ingress.allowed);
                let mut verdict = egress.verdict.and(ingress.verdict);
                if verdict == Verdict::Allowed && connections.is_empty() {
                    verdict = Verdict::Denied;
                }
                let segments = if port.is_none() {
                    evaluation.segments(&self.policies)
                } else {
                    Vec::new()
                };
                pairs.push(PairVerdict {
                    segments,
                    source: source_name,
                    source_pod: self.pod_name(source_peer),
                    destination: destination_name,
                    destination_pod: self.pod_name(destination_peer),
                    verdict,
                    egress,
                    ingress,
                    connections,
                });
            }
        }
        if pairs.is_empty() {
            return Err(ReachError::NotFound {
                role: "destination",
                text: destination.summary.query.clone(),
                problem: if notes.is_empty() {
                    "source and destination are the same pod".to_string()
                } else {
                    notes.join("; ")
                },
            });
        }
        let first = pairs[0].clone();
        let all_same = pairs.iter().all(|pair| pair.verdict == first.verdict);
        let verdict = if all_same {
            first.verdict
        } else {
            Verdict::Unknown
        };
        let reason = if !all_same {
            let counts =
                |wanted: Verdict| pairs.iter().filter(|pair| pair.verdict == wanted).count();
            let example = pairs
                .iter()
                .find(|pair| pair.verdict != Verdict::Allowed)
                .unwrap_or(&first);
            format!(
                "the pods differ: {} of {} pod pairs allowed, {} denied, {} unknown; e.g. {} → {}: {}",
                counts(Verdict::Allowed),
                pairs.len(),
                counts(Verdict::Denied),
                counts(Verdict::Unknown),
                example.source,
                example.destination,
                overall_reason(example)
            )
        } else {
            overall_reason(&first)
        };
        // Unreadable policy kinds (or pods, namespaces) could change any answer.
        // A gap in a namespace neither side is in cannot matter (except Istio's root namespace).
        let mut involved: Vec<&str> = vec!["istio-system"];
        for peer in source_peers.iter().chain(&destination_peers) {
            match peer {
                Peer::Endpoint(index) => involved.push(&self.inventory.endpoints[*index].namespace),
                Peer::NamespacePod(namespace, _) => involved.push(namespace),
                _ => {}
            }
        }
        let blind_spots: Vec<String> = self
            .snapshot
            .gaps
            .iter()
            .filter(|gap| REACH_KINDS.contains(&gap.kind.as_str()))
            .filter(|gap| {
                gap.namespace
                    .as_deref()
                    .is_none_or(|namespace| involved.contains(&namespace))
            })
            .map(|gap| gap.describe())
            .collect();
        let (verdict, reason) = if blind_spots.is_empty() {
            (verdict, reason)
        } else {
            notes.extend(blind_spots.iter().cloned());
            (
                Verdict::Unknown,
                format!(
                    "potoo could not read everything that decides this ({}); from what it could read: {} ({reason})",
                    blind_spots.join("; "),
                    verdict.as_str().to_ascii_lowercase()
                ),
            )
        };
        let mut connections = first.connections.clone();
        for pair in &pairs[1..] {
            connections = connections.intersection(&pair.connections);
        }
        let port_summary = port.map(|port| {
            let mut resolved = ConnectionSet::empty();
            for destination_peer in &destination_peers {
                if let Ok((query, _)) = self.requested_connections(
                    Some(port),
                    service,
                    self.endpoint(destination_peer),
                    &destination.summary,
                ) {
                    resolved.union_with(&query);
                }
            }
            PortSummary {
                requested: format!("{}/{}", port.protocol, port.port),
                protocol: port.protocol,
                resolved,
                translation: (!translations.is_empty()).then(|| translations.join("; ")),
            }
        });
        notes.extend(
            self.inventory
                .notes
                .iter()
                .filter(|note| {
                    pairs.iter().any(|pair| {
                        note.contains(&format!("`{}`", pair.source))
                            || note.contains(&format!("`{}`", pair.destination))
                    })
                })
                .cloned(),
        );
        let mut conditions = first.egress.conditions.clone();
        for condition in &first.ingress.conditions {
            if !conditions.contains(condition) {
                conditions.push(condition.clone());
            }
        }
        Ok(ReachResult {
            api_version: ReachResult::API_VERSION,
            kind: ReachResult::KIND,
            incomplete: self.snapshot.is_incomplete(),
            gaps: self.snapshot.gaps.clone(),
            source: source.summary.clone(),
            destination: destination.summary.clone(),
            port: port_summary,
            verdict,
            reason,
            egress: first.egress.clone(),
            ingress: first.ingress.clone(),
            connections,
            conditions,
            pairs,
            notes,
        })
    }

    /// A pair member's name: a pod's workload (np-guard's form), or the peer itself.
    fn pair_name(&self, peer: &Peer) -> String {
        self.peer_display(peer)
    }

    /// The pod's own name, when the peer is a real pod.
    fn pod_name(&self, peer: &Peer) -> Option<String> {
        match peer {
            Peer::Endpoint(index) => {
                let endpoint = &self.inventory.endpoints[*index];
                (!endpoint.from_template).then(|| endpoint.pod_name.clone())
            }
            _ => None,
        }
    }

    /// The connections asked about, on one destination pod: the port as given, a named port
    /// resolved on the pod, or a Service port translated to the pod's target port.
    fn requested_connections(
        &self,
        port: Option<&PortQuery>,
        service: Option<&endpoints::Service>,
        destination: Option<&Endpoint>,
        destination_summary: &PeerSummary,
    ) -> Result<(ConnectionSet, Option<String>), String> {
        match (service, port) {
            (Some(service), port) => {
                let Some(endpoint) = destination else {
                    return Err(format!(
                        "Service {}/{} has no pod",
                        service.namespace, service.name
                    ));
                };
                let service_ports: Vec<&endpoints::ServicePort> = match port {
                    None => service.ports.iter().collect(),
                    Some(port) => match service.port(&port.port, Some(port.protocol)) {
                        Some(service_port) => vec![service_port],
                        None => {
                            return Err(format!(
                                "Service {}/{} has no port {} ({}); its ports: {}",
                                service.namespace,
                                service.name,
                                port.port,
                                port.protocol,
                                service
                                    .ports
                                    .iter()
                                    .map(|port| format!(
                                        "{}{}/{}",
                                        port.port,
                                        port.name
                                            .as_ref()
                                            .map(|name| format!(" ({name})"))
                                            .unwrap_or_default(),
                                        port.protocol
                                    ))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                    },
                };
                if service_ports.is_empty() {
                    return Ok((ConnectionSet::all(), None));
                }
                let mut set = ConnectionSet::empty();
                let mut translations = Vec::new();
                for service_port in service_ports {
                    let target = match &service_port.target {
                        PortValue::Number(number) => Some(*number),
                        PortValue::Name(name) => endpoint
                            .named_port_any(name)
                            .filter(|container| container.protocol == service_port.protocol)
                            .map(|container| container.port),
                    };
                    let Some(target) = target else {
                        translations.push(format!(
                            "Service {}/{} port {} → targetPort `{}`, which pod {} does not declare",
                            service.namespace, service.name, service_port.port, service_port.target, endpoint.pod_name
                        ));
                        continue;
                    };
                    set.union_with(&ConnectionSet::of(
                        service_port.protocol,
                        PortSet::single(target),
                    ));
                    translations.push(format!(
                        "Service {}/{} port {} → targetPort {}",
                        service.namespace, service.name, service_port.port, target
                    ));
                }
                if set.is_empty() {
                    return Err(translations.join("; "));
                }
                Ok((set, Some(translations.join("; "))))
            }
            (None, None) => Ok((ConnectionSet::all(), None)),
            (None, Some(port)) => match &port.port {
                PortValue::Number(number) => Ok((
                    ConnectionSet::of(port.protocol, PortSet::single(*number)),
                    None,
                )),
                PortValue::Name(name) => {
                    let Some(endpoint) = destination else {
                        return Err(format!(
                            "a named port (`{name}`) needs a pod destination; `{}` is not one",
                            destination_summary.display
                        ));
                    };
                    match endpoint.named_port(name, port.protocol) {
                        Some(number) => Ok((
                            ConnectionSet::of(port.protocol, PortSet::single(number)),
                            Some(format!(
                                "named port `{name}` → {number} on pod {}",
                                endpoint.pod_name
                            )),
                        )),
                        None => Err(format!(
                            "pod {} declares no {} port named `{name}`",
                            endpoint.pod_name, port.protocol
                        )),
                    }
                }
            },
        }
    }
}

/// Pods that are indistinguishable to policies (same workload, labels, ports) are evaluated once.
fn distinct_peers(model: &NetworkModel<'_>, peers: &[Peer]) -> Vec<Peer> {
    let mut seen = Vec::new();
    let mut result = Vec::new();
    for peer in peers {
        let key = match peer {
            Peer::Endpoint(index) => {
                let endpoint = &model.inventory.endpoints[*index];
                Some((
                    endpoint.workload.clone(),
                    model.classes.endpoint_class[*index],
                    endpoint.ports.clone(),
                    endpoint.host_network,
                    endpoint.host_ip,
                ))
            }
            _ => None,
        };
        match key {
            Some(key) if seen.contains(&key) => {}
            Some(key) => {
                seen.push(key);
                result.push(peer.clone());
            }
            None => result.push(peer.clone()),
        }
    }
    result
}

fn range_address(range: &IpRange) -> std::net::IpAddr {
    match range.family {
        addresses::Family::V4 => std::net::IpAddr::V4(std::net::Ipv4Addr::from(range.start as u32)),
        addresses::Family::V6 => std::net::IpAddr::V6(std::net::Ipv6Addr::from(range.start)),
    }
}

fn overall_reason(pair: &PairVerdict) -> String {
    match (pair.egress.verdict, pair.ingress.verdict) {
        (Verdict::Denied, Verdict::Denied) => {
            format!(
                "denied on both sides: egress: {}; ingress: {}",
                pair.egress.reason, pair.ingress.reason
            )
        }
        (Verdict::Denied, _) => format!("egress denied: {}", pair.egress.reason),
        (_, Verdict::Denied) => format!("ingress denied: {}", pair.ingress.reason),
        (Verdict::Unknown, _) => format!("egress unknown: {}", pair.egress.reason),
        (_, Verdict::Unknown) => format!("ingress unknown: {}", pair.ingress.reason),
        _ if pair.connections.is_empty() => format!(
            "the sides allow no common traffic: egress allows {}, ingress allows {}",
            pair.egress.allowed, pair.ingress.allowed
        ),
        _ => format!("both sides allow {}", pair.connections),
    }
}

/// A peer resolved to the concrete peers it stands for.
#[derive(Debug, Clone)]
pub struct ResolvedPeer {
    pub summary: PeerSummary,
    pub peers: Vec<Peer>,
    /// The Service, when the peer was named as one (its ports translate to target ports).
    pub service: Option<usize>,
}

/// For other engines (explain): is traffic from `source` to `destination[:port]` allowed?
/// Peers as on the command line (`deploy/web`, `payments/svc/api:443`, `10.0.0.1:5432`,
/// `api.github.com:443/tcp`), resolved in `namespace`.
pub fn verdict_for(
    snapshot: &Snapshot,
    constraints: &[Constraint],
    source: &str,
    destination: &str,
    namespace: &str,
) -> Result<ReachResult, ReachError> {
    NetworkModel::new(snapshot, constraints, ReachOptions::default()).reach(
        source,
        destination,
        namespace,
    )
}
