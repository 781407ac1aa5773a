//! Typed details of AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy
//! constraints (filled by `adapters/adminnetworkpolicy.rs`): one rule each, with what a
//! reachability engine needs to order it (tier, priority, rule index) and to match a flow.
//!
//! Evaluation order (policy.networking.k8s.io): Admin tier rules by ascending `priority`, then by
//! `ruleIndex` (the first matching rule decides: `Allow` accepts, `Deny` drops, `Pass` skips the
//! remaining Admin rules); then NetworkPolicy for pods it selects; then Baseline tier rules by
//! `ruleIndex`; otherwise the traffic is allowed. Two Admin policies with the same priority that
//! match the same flow have no defined order.

use serde::Serialize;

use crate::model::LabelSelector;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicyDetails {
    /// `ingress` or `egress`.
    pub direction: String,
    /// `Allow`, `Deny` or `Pass` (a ClusterNetworkPolicy's `Accept` is reported as `Allow`).
    pub action: String,
    /// `Admin` (before NetworkPolicy) or `Baseline` (after NetworkPolicy).
    pub tier: String,
    /// A BaselineAdminNetworkPolicy (or a ClusterNetworkPolicy in the Baseline tier).
    pub baseline: bool,
    /// 0–1000, lower first; absent for BaselineAdminNetworkPolicy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Position among the policy's rules of this direction: earlier rules take precedence.
    pub rule_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    pub subject: AdminNetworkPolicySubject,
    /// A flow matches when its peer matches any of these.
    pub peers: Vec<AdminNetworkPolicyPeer>,
    /// Empty: every port.
    pub ports: Vec<AdminNetworkPolicyPort>,
    /// Some peer had no field potoo knows; as the API requires, an `Allow` rule then matches no
    /// traffic through that peer and a `Deny`/`Pass` rule denies all traffic (`action` is `Deny`).
    pub fails_closed: bool,
}

/// The pods the policy applies to: pods matching `podSelector` (every pod when absent) in
/// namespaces matching `namespaceSelector`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicySubject {
    pub namespace_selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AdminNetworkPolicyPeer {
    /// Every pod in the matching namespaces (host-network pods excluded).
    Namespaces { namespace_selector: LabelSelector },
    /// Matching pods in the matching namespaces (host-network pods excluded).
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
    },
    /// Egress only: the addresses of the matching nodes.
    Nodes { node_selector: LabelSelector },
    /// Egress only: CIDRs (cluster-internal addresses included).
    Networks { cidrs: Vec<String> },
    /// Egress only, `Allow` rules only: DNS names, exact or `*.` prefixed.
    DomainNames { domain_names: Vec<String> },
    /// A peer with no field potoo knows (the field names found).
    Unknown { fields: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AdminNetworkPolicyPort {
    PortNumber {
        protocol: String,
        port: i64,
    },
    /// A container port name, resolved on the destination pod.
    NamedPort {
        name: String,
    },
    PortRange {
        protocol: String,
        start: i64,
        end: i64,
    },
}
