//! Typed details of Istio constraints (filled by `adapters/istio.rs`): AuthorizationPolicy
//! actions and rules, PeerAuthentication mTLS modes, Sidecar listeners and outbound policy.

use serde::Serialize;

use crate::model::LabelSelector;

/// What an Istio policy says, with what potoo assumed to place it (the root namespace).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioDetails {
    /// `AuthorizationPolicy`, `PeerAuthentication` or `Sidecar`.
    pub resource: String,
    /// Where Istio applies the policy: `mesh` (root namespace, no selector), `namespace`
    /// (no selector), `workload` (selector) or `target` (`targetRefs`).
    pub level: String,
    /// The root namespace potoo assumed. Istio's MeshConfig `rootNamespace` cannot be read
    /// client-side; `istio-system` is its default.
    pub root_namespace: String,
    /// `selector.matchLabels` (AuthorizationPolicy, PeerAuthentication) or
    /// `workloadSelector.labels` (Sidecar); absent: every workload at the level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `targetRefs` (and the older single `targetRef`), each with how potoo resolved it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<TargetReference>,
    /// The `istio.io/dry-run: "true"` annotation: evaluated and logged, never enforced.
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_authentication: Option<PeerAuthenticationDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<SidecarDetails>,
    /// What potoo could not know or resolve, in words.
    pub notes: Vec<String>,
}

/// One `targetRefs` entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetReference {
    pub group: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// How the target became a scope ("pods labelled `gateway.networking.k8s.io/gateway-name=x`").
    pub resolution: String,
}

/// An AuthorizationPolicy. Istio evaluates CUSTOM policies first, then DENY, then ALLOW;
/// AUDIT policies never decide.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationDetails {
    /// `ALLOW` (the default), `DENY`, `AUDIT` or `CUSTOM`.
    pub action: String,
    /// The extension provider a CUSTOM policy delegates to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// No rules: the policy matches no request. With ALLOW this denies every request to the
    /// selected workloads ("allow-nothing").
    pub matches_nothing: bool,
    /// A rule with no `from`, `to` or `when` (`rules: [{}]`): the policy matches every request.
    pub matches_everything: bool,
    /// A request matches when it matches at least one rule.
    pub rules: Vec<AuthorizationRule>,
}

/// One rule: at least one source, at least one operation and every condition must match.
/// An empty list means "any".
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRule {
    pub from: Vec<AuthorizationSource>,
    pub to: Vec<AuthorizationOperation>,
    pub when: Vec<AuthorizationCondition>,
}

/// `from[].source`: fields are ANDed; values support exact, `prefix*`, `*suffix` and `*`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationSource {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_request_principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_namespaces: Vec<String>,
    /// `namespace/serviceaccount`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_service_accounts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_blocks: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ip_blocks: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_ip_blocks: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_remote_ip_blocks: Vec<String>,
}

/// `to[].operation`: fields are ANDed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationOperation {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_paths: Vec<String>,
}

/// `when[]`: an Istio attribute and its allowed or refused values.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationCondition {
    pub key: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_values: Vec<String>,
}

/// A PeerAuthentication: how the selected workloads accept inbound connections.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerAuthenticationDetails {
    /// `UNSET` (inherit from the namespace, then the mesh; PERMISSIVE when nothing is set),
    /// `DISABLE`, `PERMISSIVE` or `STRICT`.
    pub mode: String,
    /// Per workload port; Istio applies them only when the policy has a selector.
    pub port_level_mtls: Vec<PortMtls>,
    /// False when `portLevelMtls` is present but ignored (no selector).
    pub port_level_applies: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMtls {
    /// The workload (container) port, not the Service port.
    pub port: u32,
    pub mode: String,
}

/// A Sidecar: the listeners and outbound policy of the selected workloads' proxies.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarDetails {
    /// `REGISTRY_ONLY` or `ALLOW_ANY`; absent: the mesh-wide MeshConfig setting (not readable
    /// client-side; Istio's default is ALLOW_ANY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_traffic_policy: Option<String>,
    /// `outboundTrafficPolicy.egressProxy` as `host[:port]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_proxy: Option<String>,
    pub egress: Vec<SidecarEgressListener>,
    pub ingress: Vec<SidecarIngressListener>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarEgressListener {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<SidecarPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<String>,
    /// The services the proxy is configured for; anything else is "unregistered" to it.
    pub hosts: Vec<SidecarHost>,
}

/// An egress host `namespace/dnsName`: namespace `*` (any), `.` (the Sidecar's own) or `~`
/// (none); dnsName `*`, an FQDN or `*.suffix`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarHost {
    pub namespace: String,
    pub dns_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarIngressListener {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<SidecarPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<String>,
    /// Where inbound traffic is forwarded (`127.0.0.1:8080`, `unix:///var/run/app.sock`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarPort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
