//! Typed details of Gatekeeper constraints (filled by `adapters/gatekeeper.rs`): the constraint's
//! match, enforcement and parameters, its template's engines and code, and audit results.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatekeeperDetails {
    /// The ConstraintTemplate that defines this constraint's kind; absent when none was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    /// The template's `metadata.gatekeeper.sh/title` annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_title: Option<String>,
    /// The template's `description` annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_description: Option<String>,
    /// Policy engines the template's code uses: `rego`, `cel`.
    pub engines: Vec<String>,
    /// The template's targets, with their code, for the admission engine.
    pub targets: Vec<GatekeeperTarget>,
    /// The template's `openAPIV3Schema` for `spec.parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_schema: Option<Value>,
    /// `spec.parameters`, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// `spec.enforcementAction` as written, lowercased; `deny` when absent.
    pub enforcement_action: String,
    /// The action taken at admission (`deny`, `warn`), or absent when the constraint only audits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_action: Option<String>,
    /// `spec.scopedEnforcementActions` (with `enforcementAction: scoped`).
    pub scoped_enforcement_actions: Vec<ScopedEnforcementAction>,
    /// `spec.match.kinds`; empty: every kind.
    pub match_kinds: Vec<MatchKind>,
    /// `spec.match.scope`: `*`, `Cluster` or `Namespaced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_scope: Option<String>,
    /// `spec.match.source`: `All`, `Original` or `Generated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_source: Option<String>,
    /// Namespaces the Gatekeeper `Config` excludes from the process that enforces this constraint.
    pub excluded_by_config: Vec<String>,
    /// `status.totalViolations`: what the last audit found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_violations: Option<i64>,
    /// `status.auditTimestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_timestamp: Option<String>,
    /// `status.violations`: the objects the last audit found in violation (Gatekeeper caps the list).
    pub violations: Vec<AuditViolation>,
}

/// One entry of a template's `spec.targets`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatekeeperTarget {
    /// `admission.k8s.gatekeeper.sh`.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rego: Option<String>,
    pub libs: Vec<String>,
    /// `code[]`: `{engine: Rego | K8sNativeValidation, source}`.
    pub code: Vec<TemplateCode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCode {
    pub engine: String,
    /// The engine's source: Rego text (`{rego, libs}`) or CEL (`{validations, variables, …}`).
    pub source: Value,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopedEnforcementAction {
    pub action: String,
    /// `validation.gatekeeper.sh`, `audit.gatekeeper.sh`, `gator.gatekeeper.sh`, `vap.k8s.io`, `*`.
    pub enforcement_points: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchKind {
    pub api_groups: Vec<String>,
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditViolation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement_action: Option<String>,
}
