//! Kyverno in `check`: evaluates the ClusterPolicies and Policies whose rules apply to a manifest
//! object (on the object, or on the Pod its controller creates when only Pods are matched) and
//! turns rule results into findings: a failed `Enforce` rule blocks, an `Audit` one warns.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::admission::dispatch::{
    Applicable, CheckContext, ObjectUnderCheck, finding, unknown_finding,
};
use crate::model::Details;
use crate::model::details::kyverno::KyvernoDetails;
use crate::model::finding::{Finding, Verdict};

use super::exceptions::PolicyException;
use super::pattern::wildcard_matches;
use super::validating_policy::{self, PolicyRequest, ValidatingPolicy};
use super::{Policy, Request, RuleResult, RuleStatus};

/// A policy (kind, namespace, name) evaluated on the object itself or on its Pod (`true`).
type PolicyTarget = (String, Option<String>, String, bool);

/// What Kyverno reads once per run rather than once per object.
#[derive(Default)]
pub struct RunCache {
    exceptions: Option<Vec<PolicyException>>,
}

impl RunCache {
    /// The cluster's PolicyExceptions, parsed on first use.
    fn exceptions(&mut self, context: &CheckContext<'_>) -> &[PolicyException] {
        self.exceptions.get_or_insert_with(|| {
            context
                .merged
                .of_kind("kyverno.io", "PolicyException")
                .filter_map(|exception| PolicyException::from_value(&exception.value))
                .collect()
        })
    }
}

/// Findings of every Kyverno rule that applies to the object.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
    cache: &mut RunCache,
) -> Vec<Finding> {
    let exceptions = cache.exceptions(context);
    // One evaluation per policy and target (the object itself, or its Pod).
    let mut results: BTreeMap<PolicyTarget, Option<Vec<RuleResult>>> = BTreeMap::new();
    let mut findings = Vec::new();
    for applicable in applicable {
        let constraint = applicable.constraint;
        let Details::Kyverno(details) = &constraint.details else {
            continue;
        };
        if matches!(
            details.policy_kind.as_str(),
            "ValidatingPolicy" | "NamespacedValidatingPolicy"
        ) {
            findings.extend(validating_policy_finding(context, object, applicable));
            continue;
        }
        if !matches!(details.policy_kind.as_str(), "ClusterPolicy" | "Policy") {
            findings.push(unknown_finding(
                object,
                applicable,
                format!(
                    "because Kyverno `{}` policies (CEL) are not evaluated yet",
                    details.policy_kind
                ),
            ));
            continue;
        }
        if details.rule_type != "validate" {
            continue;
        }
        let source = &constraint.source;
        let key = (
            source.kind.clone(),
            source.namespace.clone(),
            source.name.clone(),
            applicable.through_pods,
        );
        let rule_results = results.entry(key).or_insert_with(|| {
            let policy_object = context.merged.find(
                "kyverno.io",
                &source.kind,
                source.namespace.as_deref(),
                &source.name,
            )?;
            let policy = Policy::from_value(&policy_object.value)?;
            Some(evaluate_policy(
                context,
                object,
                &policy,
                exceptions,
                applicable.through_pods,
            ))
        });
        let Some(rule_results) = rule_results else {
            findings.push(unknown_finding(
                object,
                applicable,
                format!(
                    "because {} `{}` could not be read back from the cluster state",
                    source.kind, source.name
                ),
            ));
            continue;
        };
        let rule = &details.rule_name;
        let own: Vec<&RuleResult> = rule_results
            .iter()
            .filter(|result| {
                result.rule == *rule
                    || result.rule == format!("autogen-{rule}")
                    || result.rule == format!("autogen-cronjob-{rule}")
            })
            .collect();
        for result in own {
            if let Some(entry) = rule_finding(object, applicable, details, result) {
                findings.push(entry);
            }
        }
    }
    findings
}

fn evaluate_policy(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    policy: &Policy,
    exceptions: &[PolicyException],
    through_pods: bool,
) -> Vec<RuleResult> {
    let resource = object.admitted_value(through_pods);
    let existing = object.existing(context, through_pods);
    let mut request = Request::new(&resource);
    request.exceptions = exceptions;
    request.namespace_labels = Some(context.merged.namespace_labels(object.namespace));
    if let Some(existing) = existing {
        request.operation = "UPDATE".to_string();
        request.old_resource = Some(&existing.value);
    }
    super::evaluate(policy, &request)
}

/// A Kyverno ValidatingPolicy on the object (or the Pod its controller creates, through
/// autogen): a failure blocks under `Deny`, warns under `Warn`/`Audit`.
fn validating_policy_finding(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
) -> Option<Finding> {
    let source = &applicable.constraint.source;
    let Some(policy) = context
        .merged
        .find(
            "policies.kyverno.io",
            &source.kind,
            source.namespace.as_deref(),
            &source.name,
        )
        .and_then(|policy| ValidatingPolicy::from_value(&policy.value))
    else {
        return Some(unknown_finding(
            object,
            applicable,
            format!(
                "because {} `{}` could not be read back from the cluster state",
                source.kind, source.name
            ),
        ));
    };
    let mut resource = object.manifest.object.value.clone();
    if let Some(metadata) = resource.get_mut("metadata").and_then(Value::as_object_mut)
        && !metadata.contains_key("namespace")
        && !object.namespace.is_empty()
    {
        metadata.insert(
            "namespace".to_string(),
            Value::String(object.namespace.to_string()),
        );
    }
    let group_kind = object.manifest.object.group_kind();
    let existing = context.cluster.find(
        &group_kind.group,
        &group_kind.kind,
        Some(object.namespace),
        &object.manifest.object.name,
    );
    let namespace_object = context
        .merged
        .namespace(object.namespace)
        .map(|namespace| namespace.value.clone())
        .unwrap_or_else(|| {
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": object.namespace,
                    "labels": context.merged.namespace_labels(object.namespace),
                },
            })
        });
    let user_info = super::UserInfo::default();
    let request = PolicyRequest {
        resource: &resource,
        old_resource: existing.map(|existing| &existing.value),
        operation: if existing.is_some() {
            "UPDATE"
        } else {
            "CREATE"
        },
        user_info: &user_info,
        namespace_object: Some(&namespace_object),
        // Cluster lookups stay unknown: ConfigMap data is never read, registries never asked.
        lookups: None,
    };
    let result = validating_policy::evaluate(&policy, &request)?;
    let actions = policy.validation_actions();
    match result.status {
        RuleStatus::Pass | RuleStatus::Skip => None,
        RuleStatus::Fail | RuleStatus::Warn => {
            let message = format!("{} `{}`: {}", source.kind, source.name, result.message);
            if actions.iter().any(|action| action == "Deny") {
                Some(finding(object, applicable, Verdict::Blocked, message))
            } else {
                let mut entry = finding(object, applicable, Verdict::Warning, message);
                entry.reason = Some(format!(
                    "validation actions `{}`: the {} is admitted",
                    actions.join(", "),
                    object.checked.kind
                ));
                Some(entry)
            }
        }
        RuleStatus::Error => Some(unknown_finding(
            object,
            applicable,
            format!("because the policy failed to evaluate: {}", result.message),
        )),
        RuleStatus::Unknown => Some(unknown_finding(
            object,
            applicable,
            format!("because {}", result.message),
        )),
    }
}

fn effective_action(details: &KyvernoDetails, namespace: &str) -> String {
    details
        .failure_action_overrides
        .iter()
        .find(|entry| {
            entry
                .namespaces
                .iter()
                .any(|pattern| wildcard_matches(pattern, namespace))
        })
        .map(|entry| entry.action.clone())
        .or_else(|| details.failure_action.clone())
        .unwrap_or_else(|| "Audit".to_string())
}

fn rule_finding(
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
    details: &KyvernoDetails,
    result: &RuleResult,
) -> Option<Finding> {
    let action = effective_action(details, object.namespace);
    let enforce = action.eq_ignore_ascii_case("enforce");
    let mut entry = match result.status {
        RuleStatus::Pass | RuleStatus::Skip => return None,
        RuleStatus::Fail if enforce => {
            finding(object, applicable, Verdict::Blocked, result.message.clone())
        }
        RuleStatus::Fail | RuleStatus::Warn => {
            let mut entry = finding(object, applicable, Verdict::Warning, result.message.clone());
            entry.reason = Some(format!(
                "failure action `{action}`: the {} is admitted and the violation is recorded in a PolicyReport",
                object.checked.kind
            ));
            entry
        }
        RuleStatus::Error => {
            let mut entry = unknown_finding(
                object,
                applicable,
                format!("because the rule failed to evaluate: {}", result.message),
            );
            if let Some(policy) = &details.failure_policy {
                entry.reason = Some(format!(
                    "{}; failurePolicy `{policy}`",
                    entry.reason.unwrap_or_default()
                ));
            }
            entry
        }
        RuleStatus::Unknown => {
            unknown_finding(object, applicable, format!("because {}", result.message))
        }
    };
    entry.rule = Some(result.rule.clone());
    if let Some(path) = failed_path(&result.message) {
        let path = match (applicable.through_pods, object.template) {
            (true, Some(template)) => template.object_path(&path),
            _ => path,
        };
        entry = entry.with_field_paths(vec![path]);
    }
    Some(entry)
}

/// `… rule check-labels failed at path /metadata/labels/team/` → `metadata.labels.team`.
fn failed_path(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("failed at path ")?;
    let path = rest.split_whitespace().next()?.trim_matches('/');
    if path.is_empty() {
        return None;
    }
    let mut dotted = String::new();
    for segment in path.split('/') {
        if segment.chars().all(|character| character.is_ascii_digit()) && !dotted.is_empty() {
            dotted.push_str(&format!("[{segment}]"));
        } else {
            if !dotted.is_empty() {
                dotted.push('.');
            }
            dotted.push_str(segment);
        }
    }
    Some(dotted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_paths_become_manifest_field_paths() {
        assert_eq!(
            failed_path("validation error: x. rule r failed at path /spec/containers/0/image/")
                .as_deref(),
            Some("spec.containers[0].image")
        );
        assert_eq!(failed_path("validation error: nothing"), None);
    }
}
