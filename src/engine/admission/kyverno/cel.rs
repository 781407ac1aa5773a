//! Kyverno `validate.cel` rules of ClusterPolicy/Policy: `celPreconditions`, `variables`,
//! `expressions` (message, messageExpression); `auditAnnotations` are ignored; parameters
//! (`paramKind`) are reported `unknown`. Autogen rules (`autogen-…`) evaluate the Pod
//! expressions on the controller's template.

use serde_json::Value;

use super::{Request, ResourceFacts, RuleStatus};
use crate::engine::cel::admission::{
    Decision, ResourceIdentity, bind_variables, is_cluster_scoped, match_conditions,
    request_environment, validate,
};

/// The status and message of a `validate.cel` rule on the request.
pub fn evaluate(
    cel: &Value,
    rule: &Value,
    request: &Request<'_>,
    facts: &ResourceFacts,
) -> (RuleStatus, String) {
    if cel.get("paramKind").is_some_and(|kind| !kind.is_null()) {
        return (
            RuleStatus::Unknown,
            "CEL parameters (`validate.cel.paramKind`) are not evaluated yet".to_string(),
        );
    }
    let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    let prefix = if rule_name.starts_with("autogen-cronjob-") {
        Some("spec.jobTemplate.spec.template")
    } else if rule_name.starts_with("autogen-") {
        Some("spec.template")
    } else {
        None
    };
    let identity = ResourceIdentity::of(request.resource);
    let admission_request = identity.request(
        &request.operation,
        &request.user_info.username,
        &request.user_info.groups,
    );
    let namespace_object = if is_cluster_scoped(&facts.kind) {
        None
    } else {
        let name = if facts.namespace.is_empty() {
            "default"
        } else {
            facts.namespace.as_str()
        };
        let mut labels = request.namespace_labels.clone().unwrap_or_default();
        labels
            .entry("kubernetes.io/metadata.name".to_string())
            .or_insert_with(|| name.to_string());
        Some(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels},
        }))
    };
    let mut environment = request_environment(
        request.resource,
        request.old_resource,
        &admission_request,
        namespace_object.as_ref(),
    );
    bind_variables(&mut environment, cel.get("variables"), prefix);
    match match_conditions(&environment, rule.get("celPreconditions"), prefix) {
        Ok(true) => {}
        Ok(false) => return (RuleStatus::Skip, "cel preconditions not met".to_string()),
        Err(Decision::Unsupported { reason }) => return (RuleStatus::Unknown, reason),
        Err(Decision::Error { message }) => return (RuleStatus::Error, message),
        Err(_) => {
            return (RuleStatus::Error, "cel preconditions failed".to_string());
        }
    }
    let decisions = validate(&environment, cel.get("expressions"), prefix);
    let folded =
        super::validating_policy::outcome(&decisions, |status, message| super::RuleResult {
            policy: String::new(),
            rule: rule_name.to_string(),
            status,
            message,
        });
    (folded.status, folded.message)
}
