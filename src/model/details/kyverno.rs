//! Typed details of Kyverno constraints (filled by `adapters/kyverno.rs`): the rule kind and body,
//! failure actions and their overrides, user filters, autogen and the exceptions that relax a rule.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KyvernoDetails {
    /// `ClusterPolicy`, `Policy`, `ValidatingPolicy`, `MutatingPolicy`…
    pub policy_kind: String,
    /// The rule name (ClusterPolicy/Policy) or the policy name (CEL policy kinds).
    pub rule_name: String,
    /// `validate`, `mutate`, `generate` or `verifyImages`.
    pub rule_type: String,
    /// For `validate`: `pattern`, `anyPattern`, `deny`, `foreach`, `podSecurity`, `cel`,
    /// `manifests` or `assert`; for CEL policy kinds: `cel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_form: Option<String>,
    /// The effective failure action for the constraint: `Enforce` or `Audit` (ClusterPolicy/Policy),
    /// or the `validationActions` joined by `,` (ValidatingPolicy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_action: Option<String>,
    /// Where the failure action came from: `validate.failureAction`, `verifyImages.failureAction`,
    /// `spec.validationFailureAction`, `spec.validationActions` or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_action_source: Option<String>,
    /// Per-namespace overrides (`spec.validationFailureActionOverrides`, `validate.failureActionOverrides`).
    pub failure_action_overrides: Vec<FailureActionOverride>,
    /// `validate.message`, or the first CEL validation message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Whether the rule runs at admission (`spec.admission`, `spec.evaluation.admission.enabled`).
    pub admission: bool,
    /// Whether the rule runs in background scans.
    pub background: bool,
    /// The kinds the rule matches, as written (`Pod`, `apps/v1/Deployment`, `Pod/exec`).
    pub match_kinds: Vec<String>,
    /// Request users the rule is limited to (`match` subjects/roles/clusterRoles): not evaluable
    /// for a workload, so the scope ignores them.
    pub only_for_users: Vec<UserFilter>,
    /// Request users the rule skips (`exclude` subjects/roles/clusterRoles).
    pub except_for_users: Vec<UserFilter>,
    /// `annotations` filters of `match` (not evaluated by the scope).
    pub match_annotations: Vec<Value>,
    /// Pod controllers the rule also applies to through Kyverno's auto-generated rules.
    pub autogen_controllers: Vec<String>,
    /// Names of the auto-generated rules (`autogen-<rule>`, `autogen-cronjob-<rule>`).
    pub autogen_rules: Vec<String>,
    /// PolicyExceptions that name this rule.
    pub exceptions: Vec<ExceptionReference>,
    /// The `match` block as written (the rule's, or a CEL policy's `matchConstraints`), for the
    /// admission engine: the scope approximates it for workloads.
    pub match_resources: Value,
    /// The `exclude` block as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_resources: Option<Value>,
    /// The rule body as written: the `validate`/`mutate`/`generate`/`verifyImages` block, or the
    /// CEL policy's spec without `matchConstraints`.
    pub body: Value,
    /// `preconditions` (JMESPath conditions) of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Value>,
    /// `celPreconditions` of the rule, or `matchConditions` of a CEL policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_conditions: Option<Value>,
    /// `context` entries of the rule (API calls, ConfigMaps, variables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// `spec.failurePolicy` (webhook failure handling), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureActionOverride {
    /// `Enforce` or `Audit`.
    pub action: String,
    pub namespaces: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<Value>,
}

/// A user filter of a match/exclude block: RBAC subjects, Roles or ClusterRoles of the requester.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFilter {
    /// `User:alice`, `Group:devs`, `ServiceAccount:ns/name`.
    pub subjects: Vec<String>,
    pub roles: Vec<String>,
    pub cluster_roles: Vec<String>,
}

/// A PolicyException that relaxes this rule, and how.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionReference {
    /// `PolicyException/namespace/name`.
    pub exception: String,
    /// What the exception exempts, in words (`Pod in namespace dev`, `when CEL conditions hold`).
    pub description: String,
    /// Whether the scope's `excluded` list carries it (false when it depends on conditions,
    /// users or Pod Security controls, which cannot be evaluated for a workload).
    pub applied_to_scope: bool,
    /// `spec.podSecurity` controls the exception exempts (for `validate.podSecurity` rules).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pod_security_controls: Vec<Value>,
    /// `spec.conditions` (JMESPath) or `spec.matchConditions` (CEL) that must also hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Value>,
}
