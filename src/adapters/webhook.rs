//! Validating/MutatingWebhookConfiguration: one constraint per webhook.

use std::collections::BTreeSet;

use serde_json::Value;

use super::fields::strings;
use super::registry::{Adapter, AdapterOutput};
use crate::model::constraint::{MatchCondition, WebhookDetails, WebhookRule};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{Object, Snapshot};

pub struct WebhookAdapter;

/// The apiserver's default webhook timeout, in seconds.
const DEFAULT_TIMEOUT_SECONDS: i64 = 10;

impl Adapter for WebhookAdapter {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
            ),
        ]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let validating = object.kind == "ValidatingWebhookConfiguration";
        let Some(webhooks) = object.value.get("webhooks").and_then(Value::as_array) else {
            return;
        };
        for (index, webhook) in webhooks.iter().enumerate() {
            let Some(name) = webhook.get("name").and_then(Value::as_str) else {
                output.diagnose(
                    self,
                    object,
                    format!("webhooks[{index}].name: missing; webhook ignored"),
                );
                continue;
            };
            let selector = |field: &str| -> Result<Option<LabelSelector>, String> {
                match webhook.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(value) => LabelSelector::from_value(value).map(Some).map_err(|error| {
                        format!("webhooks[{index}].{field}.{error}; webhook ignored")
                    }),
                }
            };
            let (namespace_selector, object_selector) =
                match (selector("namespaceSelector"), selector("objectSelector")) {
                    (Ok(namespaces), Ok(objects)) => (namespaces, objects),
                    (Err(message), _) | (_, Err(message)) => {
                        output.diagnose(self, object, message);
                        continue;
                    }
                };
            let rules = parse_rules(webhook.get("rules"));
            let match_conditions = webhook
                .get("matchConditions")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|item| MatchCondition {
                            name: text(item, "name"),
                            expression: text(item, "expression"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let failure_policy = webhook
                .get("failurePolicy")
                .and_then(Value::as_str)
                .unwrap_or("Fail")
                .to_string();
            let client = describe_client(webhook.get("clientConfig"));
            let engine = recognize_engine(name, object, client.as_deref());
            let mut resources = BTreeSet::new();
            let mut operations = BTreeSet::new();
            for rule in &rules {
                for group in &rule.api_groups {
                    for resource in &rule.resources {
                        resources.insert(if group.is_empty() {
                            resource.clone()
                        } else {
                            format!("{group}/{resource}")
                        });
                    }
                }
                operations.extend(rule.operations.iter().cloned());
            }
            let (effect, severity) = match (validating, failure_policy.as_str()) {
                (true, "Fail") => (Effect::Deny, Severity::Warning),
                (true, _) => (Effect::Deny, Severity::Info),
                (false, _) => (Effect::Mutate, Severity::Info),
            };
            let kind_word = if validating { "validating" } else { "mutating" };
            let resource_list = resources.iter().cloned().collect::<Vec<_>>();
            let summary = format!(
                "{kind_word} webhook `{name}` on {} ({}), failurePolicy {failure_policy}{}",
                if resource_list.is_empty() {
                    "no resources".to_string()
                } else {
                    resource_list.join(",")
                },
                operations.iter().cloned().collect::<Vec<_>>().join(","),
                client
                    .as_deref()
                    .map(|client| format!(", calls {client}"))
                    .unwrap_or_default()
            );
            let source = SourceReference::from_object(object);
            output.constraints.push(Constraint {
                id: Constraint::make_id(&source, Some(name)),
                rule: Some(name.to_string()),
                constraint_type: ConstraintType::Admission,
                effect,
                severity,
                scope: Scope {
                    namespace_selector,
                    workload_selector: object_selector.clone(),
                    resources: Some(resource_list),
                    operations: Some(operations.into_iter().collect()),
                    ..Scope::default()
                },
                summary,
                details: Details::Webhook(WebhookDetails {
                    webhook_type: kind_word.to_string(),
                    webhook_name: name.to_string(),
                    rules,
                    object_selector,
                    match_conditions,
                    failure_policy,
                    side_effects: webhook
                        .get("sideEffects")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    timeout_seconds: webhook
                        .get("timeoutSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(DEFAULT_TIMEOUT_SECONDS),
                    client,
                    engine,
                }),
                remediation_hint: None,
                source,
            });
        }
    }
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn parse_rules(value: Option<&Value>) -> Vec<WebhookRule> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|rule| WebhookRule {
                    operations: strings(rule.get("operations")),
                    api_groups: strings(rule.get("apiGroups")),
                    api_versions: strings(rule.get("apiVersions")),
                    resources: strings(rule.get("resources")),
                    scope: rule
                        .get("scope")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `service ns/name:port/path` or the URL.
fn describe_client(value: Option<&Value>) -> Option<String> {
    let config = value?;
    if let Some(url) = config.get("url").and_then(Value::as_str) {
        return Some(url.to_string());
    }
    let service = config.get("service")?;
    let mut described = format!(
        "service {}/{}",
        text(service, "namespace"),
        text(service, "name")
    );
    if let Some(port) = service.get("port").and_then(Value::as_i64) {
        described.push_str(&format!(":{port}"));
    }
    if let Some(path) = service.get("path").and_then(Value::as_str) {
        described.push_str(path);
    }
    Some(described)
}

/// Kyverno and Gatekeeper webhooks are recognizable by name or service.
fn recognize_engine(webhook_name: &str, object: &Object, client: Option<&str>) -> Option<String> {
    let haystack = format!(
        "{} {} {}",
        webhook_name,
        object.name,
        client.unwrap_or_default()
    )
    .to_ascii_lowercase();
    ["kyverno", "gatekeeper"]
        .into_iter()
        .find(|engine| haystack.contains(engine))
        .map(str::to_string)
}
