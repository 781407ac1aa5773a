//! Gatekeeper remediation: what the constraint requires (its template's description, its
//! parameters: required labels become a patch of the workload), the audit's findings for the
//! workload, and the `excludedNamespaces` change a cluster admin can make.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, labels_value, patch_command, yaml};
use crate::model::details::gatekeeper::GatekeeperDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &GatekeeperDetails) -> Vec<Step> {
    let source = &context.constraint.source;
    let mut steps = Vec::new();
    let about = details
        .template_description
        .as_deref()
        .or(details.template_title.as_deref())
        .map(|text| format!(": {text}"))
        .unwrap_or_default();
    steps.push(
        Step::new(
            Privilege::Developer,
            format!(
                "{} `{}` (template `{}`){about}",
                source.kind,
                source.name,
                details.template_name.as_deref().unwrap_or("not found")
            ),
        )
        .command(context.policy_get_command()),
    );
    match details.admission_action.as_deref() {
        None => steps.push(Step::new(
            Privilege::Developer,
            format!(
                "Enforcement action `{}`: the constraint only audits; nothing is rejected at admission",
                details.enforcement_action
            ),
        )),
        Some("warn") => steps.push(Step::new(
            Privilege::Developer,
            "Enforcement action `warn`: objects are admitted with a warning",
        )),
        Some(_) => {}
    }
    if let Some(workload) = context.workload {
        for violation in details.violations.iter().filter(|violation| {
            violation.name == workload.name
                && violation.namespace.as_deref() == Some(workload.namespace.as_str())
                && violation.kind == workload.kind
        }) {
            steps.push(Step::new(
                Privilege::Developer,
                format!(
                    "The last audit found {} in violation: \"{}\"",
                    context.workload_label(),
                    violation.message
                ),
            ));
        }
    }
    if let Some(parameters) = &details.parameters {
        steps.extend(parameter_steps(context, parameters));
    }
    steps.push(exclusion_step(context));
    steps
}

/// Parameters: `labels: [{key, allowedRegex}]` (the library's required-labels templates) become
/// a label patch; anything else is shown as written.
fn parameter_steps(context: &Context, parameters: &Value) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(message) = parameters.get("message").and_then(Value::as_str) {
        steps.push(Step::new(
            Privilege::Developer,
            format!("Its message: \"{message}\""),
        ));
    }
    let required: Vec<(String, Option<String>)> = parameters
        .get("labels")
        .and_then(Value::as_array)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|label| match label {
                    Value::String(key) => Some((key.clone(), None)),
                    Value::Object(fields) => Some((
                        fields.get("key")?.as_str()?.to_string(),
                        fields
                            .get("allowedRegex")
                            .and_then(Value::as_str)
                            .filter(|regex| !regex.is_empty())
                            .map(str::to_string),
                    )),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if !required.is_empty() {
        let present = context
            .workload
            .map(|workload| workload.labels.clone())
            .unwrap_or_default();
        let namespace_labels = context
            .namespace()
            .map(|namespace| context.snapshot.namespace_labels(namespace))
            .unwrap_or_default();
        let missing: BTreeMap<String, String> = required
            .iter()
            .filter(|(key, _)| !present.contains_key(key))
            .map(|(key, _)| {
                (
                    key.clone(),
                    namespace_labels
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| "<value>".to_string()),
                )
            })
            .collect();
        let rules: Vec<String> = required
            .iter()
            .map(|(key, regex)| match regex {
                Some(regex) => format!("`{key}` matching `{regex}`"),
                None => format!("`{key}`"),
            })
            .collect();
        if missing.is_empty() {
            steps.push(
                Step::new(
                    Privilege::Developer,
                    format!(
                        "Required labels: {}; {} has them all: check their values",
                        rules.join(", "),
                        context.workload_label()
                    ),
                )
                .from_rule_body(),
            );
        } else {
            let pairs: Vec<String> = missing
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            let patch = json!({"metadata": {"labels": labels_value(&missing)}});
            let mut step = Step::new(
                Privilege::Developer,
                format!(
                    "Required labels: {}; add {} to {}",
                    rules.join(", "),
                    pairs.join(", "),
                    context.workload_label()
                ),
            )
            .command(format!(
                "{} label {} {}",
                context.kubectl(),
                context.workload_reference(),
                pairs.join(" ")
            ))
            .patch(Patch {
                target: context.workload_label(),
                format: PatchFormat::StrategicMerge,
                body: yaml(&patch),
            })
            .from_rule_body();
            step.commands.push(patch_command(
                &context.kubectl(),
                &context.workload_reference(),
                "strategic",
                &patch,
            ));
            steps.push(step);
        }
    } else {
        let mut shown = parameters.clone();
        if let Value::Object(fields) = &mut shown {
            fields.remove("message");
        }
        if shown.as_object().is_some_and(|fields| !fields.is_empty()) {
            steps.push(
                Step::new(
                    Privilege::Developer,
                    "Its parameters (what the template's code checks against):",
                )
                .patch(Patch {
                    target: format!("{} parameters", context.constraint.source.kind),
                    format: PatchFormat::YamlSnippet,
                    body: yaml(&shown),
                })
                .from_rule_body(),
            );
        }
    }
    steps
}

/// Adding the user's namespace to `spec.match.excludedNamespaces` (cluster admins only).
fn exclusion_step(context: &Context) -> Step {
    let namespace = context.namespace_text();
    let existing = context
        .policy_object()
        .and_then(|object| object.value.pointer("/spec/match/excludedNamespaces"))
        .and_then(Value::as_array)
        .is_some();
    let operations = if existing {
        json!([{"op": "add", "path": "/spec/match/excludedNamespaces/-", "value": namespace}])
    } else {
        json!([{"op": "add", "path": "/spec/match/excludedNamespaces", "value": [namespace]}])
    };
    Step::new(
        Privilege::ClusterAdmin,
        format!(
            "If it cannot comply, ask a cluster admin (see contacts) to exclude namespace `{namespace}` from {} `{}` — this exempts every object there",
            context.constraint.source.kind, context.constraint.source.name
        ),
    )
    .command(patch_command(
        "kubectl",
        &context.policy_reference(),
        "json",
        &operations,
    ))
    .patch(Patch {
        target: format!(
            "{} {}",
            context.constraint.source.kind, context.constraint.source.name
        ),
        format: PatchFormat::JsonPatch,
        body: yaml(&operations),
    })
}
