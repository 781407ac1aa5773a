//! The normalized Constraint every adapter produces (DESIGN §4), and its typed per-family details.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::selector::LabelSelector;

/// The policy object a constraint came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceReference {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl SourceReference {
    pub fn from_object(object: &crate::source::Object) -> SourceReference {
        SourceReference {
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid().map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ConstraintType {
    NetworkIngress,
    NetworkEgress,
    Admission,
    ResourceLimit,
    MeshPolicy,
    MissingResource,
    Unknown,
}

impl ConstraintType {
    pub const ALL: [ConstraintType; 7] = [
        ConstraintType::NetworkIngress,
        ConstraintType::NetworkEgress,
        ConstraintType::Admission,
        ConstraintType::ResourceLimit,
        ConstraintType::MeshPolicy,
        ConstraintType::MissingResource,
        ConstraintType::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintType::NetworkIngress => "NetworkIngress",
            ConstraintType::NetworkEgress => "NetworkEgress",
            ConstraintType::Admission => "Admission",
            ConstraintType::ResourceLimit => "ResourceLimit",
            ConstraintType::MeshPolicy => "MeshPolicy",
            ConstraintType::MissingResource => "MissingResource",
            ConstraintType::Unknown => "Unknown",
        }
    }

    /// Parses a `--type` value, case-insensitively, with short forms (`ingress`, `network`…).
    pub fn parse_filter(text: &str) -> Option<Vec<ConstraintType>> {
        let lowered = text.to_ascii_lowercase();
        let matched: Vec<ConstraintType> = match lowered.as_str() {
            "network" | "net" => vec![
                ConstraintType::NetworkIngress,
                ConstraintType::NetworkEgress,
            ],
            "ingress" => vec![ConstraintType::NetworkIngress],
            "egress" => vec![ConstraintType::NetworkEgress],
            "quota" | "limit" | "limits" | "resource" => vec![ConstraintType::ResourceLimit],
            "mesh" => vec![ConstraintType::MeshPolicy],
            _ => ConstraintType::ALL
                .into_iter()
                .filter(|candidate| candidate.as_str().to_ascii_lowercase() == lowered)
                .collect(),
        };
        if matched.is_empty() {
            None
        } else {
            Some(matched)
        }
    }
}

impl fmt::Display for ConstraintType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Deny,
    Restrict,
    Require,
    Limit,
    Warn,
    Audit,
    Mutate,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Deny => "deny",
            Effect::Restrict => "restrict",
            Effect::Require => "require",
            Effect::Limit => "limit",
            Effect::Warn => "warn",
            Effect::Audit => "audit",
            Effect::Mutate => "mutate",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Ordered most severe first, so sorting by severity puts critical on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Where a constraint applies. Absent fields mean "no restriction on that axis".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// Explicit namespace list (a namespaced policy's own namespace, or a cluster policy's list;
    /// globs allowed). An empty list matches no namespace (an unbound admission policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
    /// Namespaces excluded by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_namespaces: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Selects pods by labels; absent means every workload in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<LabelSelector>,
    /// Resource kinds the constraint concerns (`pods`, `apps/deployments`, `*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Object names the constraint concerns, with `*`/`?` wildcards (Kyverno `names`, Gatekeeper `name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    /// Alternatives: the constraint applies only where at least one of these also matches
    /// (Kyverno `match.any`). Empty: no alternatives to satisfy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Scope>,
    /// Exclusions: the constraint does not apply where any of these matches (Kyverno `exclude`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Scope>,
    /// Why the scope applies, in words, when the generic reasons would mislead
    /// ("mesh-wide: defined in the root namespace `istio-system`").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A normalized constraint. `id` is `<kind>/<namespace>/<name>#<rule>`, stable and unique.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    pub id: String,
    pub source: SourceReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(rename = "type")]
    pub constraint_type: ConstraintType,
    pub effect: Effect,
    pub severity: Severity,
    pub scope: Scope,
    pub summary: String,
    pub details: Details,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_hint: Option<String>,
}

impl Constraint {
    /// Builds the stable id: `<kind>/<namespace or _cluster>/<name>#<rule>`.
    pub fn make_id(source: &SourceReference, rule: Option<&str>) -> String {
        let namespace = source.namespace.as_deref().unwrap_or("_cluster");
        match rule {
            Some(rule) => format!("{}/{}/{}#{}", source.kind, namespace, source.name, rule),
            None => format!("{}/{}/{}", source.kind, namespace, source.name),
        }
    }

    /// `Kind/name`, or `Kind/namespace/name` for namespaced sources, plus `#rule`.
    pub fn display_name(&self) -> String {
        let base = match &self.source.namespace {
            Some(namespace) => format!("{}/{}/{}", self.source.kind, namespace, self.source.name),
            None => format!("{}/{}", self.source.kind, self.source.name),
        };
        match &self.rule {
            Some(rule) => format!("{base}#{rule}"),
            None => base,
        }
    }
}

/// Family-specific details, tagged by `family` in JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "family", rename_all = "camelCase")]
pub enum Details {
    NetworkPolicy(NetworkPolicyDetails),
    ResourceQuota(ResourceQuotaDetails),
    LimitRange(LimitRangeDetails),
    Webhook(WebhookDetails),
    Cilium(super::details::cilium::CiliumDetails),
    AdminNetworkPolicy(super::details::adminnetworkpolicy::AdminNetworkPolicyDetails),
    Gatekeeper(super::details::gatekeeper::GatekeeperDetails),
    Kyverno(super::details::kyverno::KyvernoDetails),
    Istio(super::details::istio::IstioDetails),
    AdmissionPolicy(super::details::admissionpolicy::AdmissionPolicyDetails),
    PodSecurity(super::details::podsecurity::PodSecurityDetails),
    PolicyReport(super::details::policyreport::PolicyReportDetails),
    Generic(GenericDetails),
    /// Details after `--detail` redaction: what is left of the family's fields.
    #[serde(untagged)]
    Redacted(Value),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyDetails {
    /// `ingress` or `egress`.
    pub direction: String,
    /// Selects pods and allows nothing in this direction.
    pub default_deny: bool,
    /// Allows everything in this direction (a rule with no peers and no ports).
    pub allow_all: bool,
    pub rules: Vec<NetworkRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRule {
    /// Empty: any peer.
    pub peers: Vec<NetworkPeer>,
    /// Empty: any port.
    pub ports: Vec<NetworkPort>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPeer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpBlock {
    pub cidr: String,
    pub except: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPort {
    pub protocol: String,
    /// A number or a named port; absent means every port of the protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuotaDetails {
    pub resources: Vec<QuotaResource>,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_selector: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaResource {
    pub name: String,
    pub hard: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<String>,
    /// `used / hard × 100`, when both are known and hard is not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_used: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeDetails {
    pub limits: Vec<LimitRangeItem>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeItem {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    #[serde(rename = "type")]
    pub limit_type: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_limit_request_ratio: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDetails {
    /// `validating` or `mutating`.
    pub webhook_type: String,
    pub webhook_name: String,
    pub rules: Vec<WebhookRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_selector: Option<LabelSelector>,
    pub match_conditions: Vec<MatchCondition>,
    /// `Fail` (the default) or `Ignore`.
    pub failure_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side_effects: Option<String>,
    /// Seconds; the apiserver's default is 10.
    pub timeout_seconds: i64,
    /// `service ns/name[:port][path]` or the URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The policy engine the webhook belongs to, when recognizable (`kyverno`, `gatekeeper`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRule {
    pub operations: Vec<String>,
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchCondition {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericDetails {
    /// The engine or project the kind belongs to (`cilium`, `gatekeeper`, `kyverno`, `istio`…).
    pub engine: String,
    /// How the scope was found: `field spec.podSelector`, `ConstraintProfile x`, or why it could not be.
    pub scope_source: String,
    /// The `spec` as read, for `-o json` and `--detail full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
}
