//! Typed details of ValidatingAdmissionPolicy / MutatingAdmissionPolicy constraints (filled by
//! `adapters/admissionpolicy.rs`): one policy with one binding, everything an admission engine
//! needs to evaluate the pair without re-reading either object.

use serde::Serialize;

use crate::model::LabelSelector;
use crate::model::constraint::MatchCondition;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicyDetails {
    /// `validating` or `mutating`.
    pub policy_type: String,
    pub policy: String,
    /// The binding that puts the policy into effect; absent: the policy is bound nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// `Fail` (the default) or `Ignore`: what CEL errors, a missing parameter resource with
    /// `parameterNotFoundAction: Deny`, and misconfigured bindings do.
    pub failure_policy: String,
    /// The policy's `matchConstraints` (boxed: it keeps `Details` small).
    pub policy_match: Box<MatchResources>,
    /// The binding's `matchResources`, intersected with the policy's by the apiserver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_match: Option<Box<MatchResources>>,
    /// Filters applied after matching; all must be true for the policy to run.
    pub match_conditions: Vec<MatchCondition>,
    pub variables: Vec<Variable>,
    /// Validating policies: every expression must be true.
    pub validations: Vec<Validation>,
    pub audit_annotations: Vec<AuditAnnotation>,
    /// Mutating policies: patches applied in order.
    pub mutations: Vec<Mutation>,
    /// Mutating policies: `Never` (the default) or `IfNeeded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reinvocation_policy: Option<String>,
    /// Validating bindings: `Deny`, `Warn`, `Audit`; the strongest decides the effect.
    pub validation_actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_kind: Option<ParamKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_ref: Option<Box<ParamReference>>,
    /// Whether the parameter objects exist in the Snapshot: `found`, `missing`, `notRead`
    /// (no object of the parameter kind was read, so potoo cannot tell), `perRequestNamespace`
    /// (namespaced parameters looked up in the namespace of each request), `noParamRef`
    /// (the policy needs parameters but the binding names none: the binding is invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_status: Option<String>,
    /// The parameter objects found, as `namespace/name` or `name`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub param_objects: Vec<String>,
}

/// `matchConstraints` / `matchResources`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_selector: Option<LabelSelector>,
    pub resource_rules: Vec<ResourceRule>,
    pub exclude_resource_rules: Vec<ResourceRule>,
    /// `Equivalent` (the default) or `Exact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// `Cluster`, `Namespaced` or `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub expression: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expression: Option<String>,
    /// `Unauthorized`, `Forbidden`, `Invalid` (the default) or `RequestEntityTooLarge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditAnnotation {
    pub key: String,
    pub value_expression: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mutation {
    /// `ApplyConfiguration` or `JSONPatch`.
    pub patch_type: String,
    pub expression: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamKind {
    pub api_version: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamReference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `Allow` or `Deny` (subject to the failure policy) when no parameter object matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_not_found_action: Option<String>,
}
