//! Kyverno remediation: what the rule requires (its message; the labels and fields its pattern
//! wants, as a patch of the user's workload), and how to request a `PolicyException` naming the
//! real policy and rule names.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, apply_command, labels_value, object_name, yaml};
use crate::model::details::kyverno::KyvernoDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &KyvernoDetails) -> Vec<Step> {
    let source = &context.constraint.source;
    let mut steps = Vec::new();
    let said = details
        .message
        .as_deref()
        .map(|message| format!(": \"{message}\""))
        .unwrap_or_default();
    steps.push(
        Step::new(
            Privilege::Developer,
            format!(
                "{} `{}` rule `{}` ({} {}){said}",
                details.policy_kind,
                source.name,
                details.rule_name,
                details.rule_type,
                details.validation_form.as_deref().unwrap_or("rule")
            ),
        )
        .command(context.policy_get_command()),
    );
    match details.rule_type.as_str() {
        "mutate" | "generate" => {
            steps.push(Step::new(
                Privilege::Developer,
                format!(
                    "This rule {} objects rather than rejecting them: nothing to fix unless its change conflicts with yours",
                    if details.rule_type == "mutate" {
                        "changes"
                    } else {
                        "creates"
                    }
                ),
            ));
            return steps;
        }
        _ => {}
    }
    if details.failure_action.as_deref() == Some("Audit") {
        steps.push(Step::new(
            Privilege::Developer,
            "The rule audits only: violations are reported in PolicyReports, nothing is rejected",
        ));
    }
    if let Some(pattern) = details.body.get("pattern") {
        steps.extend(pattern_steps(context, pattern));
    } else if let Some(Value::Array(patterns)) = details.body.get("anyPattern")
        && let Some(first) = patterns.first()
    {
        let mut alternatives = pattern_steps(context, first);
        for step in &mut alternatives {
            step.text
                .push_str(" (the first of the rule's alternative patterns; any one suffices)");
        }
        steps.extend(alternatives);
    }
    for exception in &details.exceptions {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "{} already relaxes this rule: {}",
                exception.exception, exception.description
            ),
        ));
    }
    steps.push(exception_step(context, details));
    steps
}

/// Requirements read from a `validate.pattern`: labels to add (as a patch) and other fields.
fn pattern_steps(context: &Context, pattern: &Value) -> Vec<Step> {
    let mut steps = Vec::new();
    let labels = pattern
        .pointer("/metadata/labels")
        .or_else(|| pattern.pointer("/spec/template/metadata/labels"));
    if let Some(Value::Object(wanted)) = labels {
        let namespace_labels = context
            .namespace()
            .map(|namespace| context.snapshot.namespace_labels(namespace))
            .unwrap_or_default();
        let present = context
            .workload
            .map(|workload| workload.pod_labels.clone())
            .unwrap_or_default();
        let mut missing = BTreeMap::new();
        for (key, value) in wanted {
            let Some(key) = plain_key(key) else { continue };
            if present.contains_key(key) {
                continue;
            }
            let literal = value.as_str().filter(|text| !has_wildcards(text));
            let suggested = literal
                .map(str::to_string)
                .or_else(|| namespace_labels.get(key).cloned())
                .unwrap_or_else(|| "<value>".to_string());
            missing.insert(key.to_string(), suggested);
        }
        if missing.is_empty() && context.workload.is_some() {
            steps.push(
                Step::new(
                    Privilege::Developer,
                    format!(
                        "The pods of {} already carry the labels the pattern wants; check their values against the pattern",
                        context.workload_label()
                    ),
                )
                .from_rule_body(),
            );
        } else if !missing.is_empty() {
            let pairs: Vec<String> = missing
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            let mut step = context
                .template_patch_step(
                    Privilege::Developer,
                    format!(
                        "Add the labels {} to the pod template of {} (values are suggestions: a literal from the pattern, else the namespace's label of the same key)",
                        pairs.join(", "),
                        context.workload_label()
                    ),
                    json!({"metadata": {"labels": labels_value(&missing)}}),
                )
                .from_rule_body();
            step.commands.push(format!(
                "{} label {} {}",
                context.kubectl(),
                context.workload_reference(),
                pairs.join(" ")
            ));
            steps.push(step);
        }
    }
    let mut requirements = Vec::new();
    leaves(pattern, String::new(), &mut requirements);
    let others: Vec<String> = requirements
        .into_iter()
        .filter(|(path, _)| {
            !path.starts_with("metadata.labels.") && !path.contains(".metadata.labels.")
        })
        .map(|(path, value)| format!("`{path}` must match `{value}`"))
        .collect();
    if !others.is_empty() {
        steps.push(
            Step::new(
                Privilege::Developer,
                format!("The pattern also wants: {}", others.join("; ")),
            )
            .from_rule_body(),
        );
    }
    steps
}

/// A pattern key without anchors; `None` for conditional, negation and global anchors, which do
/// not require the key.
fn plain_key(key: &str) -> Option<&str> {
    if key.starts_with("=(")
        || key.starts_with("X(")
        || key.starts_with("<(")
        || key.starts_with("+(")
        || key.starts_with('(')
    {
        return None;
    }
    Some(
        key.strip_prefix("^(")
            .map_or(key, |rest| rest.trim_end_matches(')')),
    )
}

fn has_wildcards(text: &str) -> bool {
    text.contains(['*', '?', '|', '!', '<', '>', '&']) || text.contains("{{")
}

/// Every scalar leaf of a pattern as `path = value`.
fn leaves(value: &Value, path: String, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                leaves(child, child_path, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                leaves(item, format!("{path}[*]"), found);
            }
        }
        Value::String(text) => found.push((path, text.clone())),
        Value::Null => {}
        other => found.push((path, other.to_string())),
    }
}

/// A PolicyException for the workload (or its kind and namespace), with the real names.
fn exception_step(context: &Context, details: &KyvernoDetails) -> Step {
    let source = &context.constraint.source;
    let policy_name = match &source.namespace {
        Some(namespace) => format!("{namespace}/{}", source.name),
        None => source.name.clone(),
    };
    let mut rule_names = vec![details.rule_name.clone()];
    if let Some(workload) = context.workload.filter(|workload| workload.kind != "Pod") {
        let cronjob = workload.kind == "CronJob";
        rule_names.extend(
            details
                .autogen_rules
                .iter()
                .filter(|rule| rule.starts_with("autogen-cronjob-") == cronjob)
                .cloned(),
        );
    }
    let kinds: Vec<String> = match context.workload {
        Some(workload) => vec![workload.kind.clone()],
        None => details.match_kinds.clone(),
    };
    let workload_name = context
        .workload
        .map_or_else(|| "<name>".to_string(), |workload| workload.name.clone());
    let name = object_name(&[&workload_name, &source.name, "exception"]);
    let manifest = json!({
        "apiVersion": "kyverno.io/v2",
        "kind": "PolicyException",
        "metadata": {"name": name, "namespace": context.namespace_text()},
        "spec": {
            "exceptions": [{"policyName": policy_name, "ruleNames": rule_names}],
            "match": {"any": [{"resources": {
                "kinds": kinds,
                "namespaces": [context.namespace_text()],
                "names": [workload_name],
            }}]},
        },
    });
    Step::new(
        Privilege::NamespaceAdmin,
        format!(
            "If the workload cannot comply, request a PolicyException from the policy's owners (see contacts); Kyverno honours it only when exceptions are enabled and allowed in namespace `{}` (`--exceptionNamespace`)",
            context.namespace_text()
        ),
    )
    .command(apply_command(&context.kubectl()))
    .patch(Patch {
        target: format!("new PolicyException {}/{name}", context.namespace_text()),
        format: PatchFormat::Manifest,
        body: yaml(&manifest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_keys_lose_equality_anchors_and_conditional_keys_are_not_required() {
        assert_eq!(plain_key("team"), Some("team"));
        assert_eq!(plain_key("^(team)"), Some("team"));
        assert_eq!(plain_key("=(team)"), None);
        assert_eq!(plain_key("X(team)"), None);
        assert_eq!(plain_key("(team)"), None);
        assert!(has_wildcards("?*"));
        assert!(!has_wildcards("payments"));
    }

    #[test]
    fn pattern_leaves_are_listed_with_their_paths() {
        let mut found = Vec::new();
        leaves(
            &json!({"spec": {"containers": [{"image": "registry.corp/*", "securityContext": {"privileged": false}}]}}),
            String::new(),
            &mut found,
        );
        assert_eq!(
            found,
            vec![
                (
                    "spec.containers[*].image".to_string(),
                    "registry.corp/*".to_string()
                ),
                (
                    "spec.containers[*].securityContext.privileged".to_string(),
                    "false".to_string()
                ),
            ]
        );
    }
}
