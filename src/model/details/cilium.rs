//! Typed details of Cilium constraints (filled by `adapters/cilium.rs`): one rule set's allow or
//! deny section in one direction, with its subject, peers, ports and L7 rules normalized so a
//! reachability engine can decide a flow without re-reading the policy object.
//!
//! Semantics carried here (Cilium `cilium.io/v2`):
//! - Within a section, a flow matches when it matches any rule; within a rule, a flow matches when
//!   its peer matches any of `peers` (or `anyPeer`) and its port matches any of `ports` (or
//!   `ports` is empty).
//! - A rule with no peer and no port (`ingress: [{}]`) matches nothing; a rule with ports but no
//!   peer matches every peer on those ports (`anyPeer`).
//! - Deny sections win over every allow rule of every policy kind; allow rules add up.
//! - `defaultDeny`: the section puts its subjects in default-deny for `direction`, so traffic no
//!   allow rule (of any policy) permits is dropped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::LabelSelector;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumDetails {
    /// `ingress` or `egress`.
    pub direction: String,
    /// An `ingressDeny`/`egressDeny` section: matching traffic is dropped whatever allows it.
    pub deny: bool,
    /// Index of the rule set in `specs`; absent for `spec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_index: Option<usize>,
    /// From a CiliumClusterwideNetworkPolicy.
    pub clusterwide: bool,
    /// What the rule set selects: pods (`endpointSelector`) or nodes (`nodeSelector`).
    pub subject: CiliumSubject,
    /// Whether the rule set puts its subjects in default-deny for `direction`
    /// (`enableDefaultDeny`; by default true for each direction the rule set has rules in).
    pub default_deny: bool,
    /// The section's rules; a flow matches the section when it matches any of them.
    pub rules: Vec<CiliumRule>,
    /// Parts of the section potoo does not interpret (`toGroups` …), as field paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The endpoints a rule set applies to: exactly one of the two is set.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumSubject {
    /// Pods selected by `endpointSelector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<CiliumEndpointSelector>,
    /// Nodes selected by `nodeSelector` (a host policy: it applies to nodes, and so to
    /// host-network pods, never to ordinary pods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<LabelSelector>,
}

/// A Cilium endpoint selector split by what its label keys mean.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumEndpointSelector {
    /// Pod labels, with Cilium's `k8s:`/`any:` source prefixes removed.
    pub pod_selector: LabelSelector,
    /// Labels the pod's namespace must carry; the namespace name is `kubernetes.io/metadata.name`.
    /// Absent: any namespace. A CiliumNetworkPolicy's subject, and its peers without a namespace
    /// requirement, get the policy's own namespace here, as Cilium adds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Requirements on Cilium identity labels that are neither pod nor namespace labels:
    /// `io.cilium.k8s.policy.serviceaccount`, `io.cilium.k8s.policy.cluster`, `reserved:host`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_selector: Option<LabelSelector>,
}

/// One rule of a section.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumRule {
    /// Any of these peers matches. Empty and `anyPeer` false: the rule matches nothing.
    pub peers: Vec<CiliumPeer>,
    /// The rule names ports or ICMP types but no peer: it applies to every peer.
    pub any_peer: bool,
    /// `fromRequires`/`toRequires`: endpoint peers must also match every one of these (Cilium
    /// applies them to every rule that selects the same subject, in every policy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<CiliumEndpointSelector>,
    /// `toPorts`; empty: every port and protocol.
    pub ports: Vec<CiliumPortRule>,
    /// `icmps`: ICMP types the rule covers (in addition to `ports`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub icmps: Vec<CiliumIcmp>,
    /// `authentication.mode` (`required` needs mutual authentication before traffic flows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<String>,
}

/// One peer, by how Cilium identifies it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CiliumPeer {
    /// `fromEndpoints`/`toEndpoints`.
    Endpoints(CiliumEndpointSelector),
    /// `fromEntities`/`toEntities`: `world`, `cluster`, `host`, `remote-node`, `kube-apiserver`,
    /// `init`, `health`, `unmanaged`, `ingress`, `all`, `none`, `world-ipv4`, `world-ipv6`.
    Entity { entity: String },
    /// `fromCIDR`/`toCIDR`, or a `fromCIDRSet`/`toCIDRSet` entry with `cidr`.
    Cidr { cidr: String, except: Vec<String> },
    /// A `fromCIDRSet`/`toCIDRSet` entry naming CiliumCIDRGroups (by name or by labels).
    CidrGroup {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        selector: Option<LabelSelector>,
    },
    /// `toFQDNs`: a DNS name or a pattern with `*` wildcards.
    Fqdn {
        #[serde(skip_serializing_if = "Option::is_none")]
        match_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        match_pattern: Option<String>,
    },
    /// `toServices`: a Kubernetes Service by name, or Services by labels; the namespace as written.
    Service {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        selector: Option<LabelSelector>,
    },
    /// `fromNodes`/`toNodes`: nodes by their labels.
    Nodes { node_selector: LabelSelector },
    /// A peer kind potoo does not interpret (`fromGroups`/`toGroups`: cloud security groups).
    Unsupported { field: String },
}

/// One `toPorts` entry.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumPortRule {
    /// Empty: every port.
    pub ports: Vec<CiliumPort>,
    /// L7 rules the traffic must also satisfy (through Cilium's proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l7: Option<CiliumL7Rules>,
    /// TLS SNI names the traffic must carry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumPort {
    /// `TCP`, `UDP`, `SCTP` or `ANY` (the default).
    pub protocol: String,
    /// A number or a named port; absent (or `0` in the object) means every port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i64>,
}

/// `toPorts[].rules`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumL7Rules {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<CiliumHttpRule>,
    /// Kafka rules as written (`role`, `apiKey`, `apiVersion`, `clientID`, `topic`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kafka: Vec<BTreeMap<String, String>>,
    /// DNS names the pod may look up (through Cilium's DNS proxy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<CiliumDnsRule>,
    /// `l7proto`: a proxylib parser name, with its key-value rules in `l7`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l7_protocol: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub l7: Vec<BTreeMap<String, String>>,
}

/// One HTTP rule: every field set must match (method, path and host are extended POSIX regexes).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumHttpRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Headers that must be present, as `Name` or `Name: value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// `headerMatches` names (values may come from Secrets and are not copied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header_matches: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumDnsRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_pattern: Option<String>,
}

/// One ICMP type a rule covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumIcmp {
    /// `IPv4` (the default) or `IPv6`.
    pub family: String,
    /// A number or a name (`EchoRequest`).
    #[serde(rename = "type")]
    pub icmp_type: String,
}
