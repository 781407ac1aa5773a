//! What ValidatingAdmissionPolicy, Kyverno ValidatingPolicy and Kyverno `validate.cel` share:
//! the resource an object is served as, `matchConstraints`/`matchResources` matching,
//! `matchConditions`, `validations` with the apiserver's messages, and the autogen rewrite of
//! Pod expressions for pod controllers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::{CelError, Environment, cel, to_cel};
use crate::engine::admission::kyverno::selector_matches;

/// How an object is served: group, version, kind, plural resource, name and namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceIdentity {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub resource: String,
    pub name: String,
    pub namespace: String,
}

impl ResourceIdentity {
    pub fn of(object: &Value) -> ResourceIdentity {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let api_version = text("/apiVersion");
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_string(), version.to_string()),
            None => (String::new(), api_version),
        };
        let kind = text("/kind");
        ResourceIdentity {
            group,
            version,
            resource: plural(&kind),
            kind,
            name: text("/metadata/name"),
            namespace: text("/metadata/namespace"),
        }
    }

    /// `deployments.apps`, `pods`: how the apiserver names the resource in messages.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The admission request CEL sees for this object.
    pub fn request(
        &self,
        operation: &str,
        username: &str,
        groups: &[String],
    ) -> super::AdmissionRequest {
        super::AdmissionRequest {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            resource: self.resource.clone(),
            sub_resource: String::new(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            operation: operation.to_string(),
            username: username.to_string(),
            groups: groups.to_vec(),
        }
    }
}

/// Kinds the apiserver serves cluster-scoped (everything else is taken as namespaced).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "StorageClass"
            | "CustomResourceDefinition"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "CSINode"
            | "VolumeAttachment"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding"
            | "APIService"
            | "ClusterPolicy"
            | "ValidatingPolicy"
            | "ClusterIssuer"
    )
}

/// The object with the namespace the apiserver fills in (`default` unless given) when its
/// kind is namespaced, and the matching `namespaceObject` (`null` for cluster-scoped kinds).
pub fn with_namespace(
    object: &Value,
    labels: impl FnOnce(&str) -> BTreeMap<String, String>,
) -> (Value, Value) {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if is_cluster_scoped(kind) {
        return (object.clone(), Value::Null);
    }
    let mut object = object.clone();
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or("default")
        .to_string();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("namespace".to_string(), Value::String(namespace.clone()));
    }
    let namespace_object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": labels(&namespace)},
    });
    (object, namespace_object)
}

/// The plural resource of a kind, the way the apiserver's REST mapper guesses it.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.as_str() {
        "endpoints" => return lower,
        "" => return lower,
        _ => {}
    }
    if lower.ends_with('s')
        || lower.ends_with("sh")
        || lower.ends_with("ch")
        || lower.ends_with('x')
    {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// The request a match block is tested against.
pub struct MatchTarget<'a> {
    pub identity: &'a ResourceIdentity,
    pub operation: &'a str,
    pub object_labels: &'a BTreeMap<String, String>,
    /// Labels of the request's namespace; `None` for cluster-scoped objects.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn listed(values: &[&str], wanted: &str) -> bool {
    values.iter().any(|value| *value == "*" || *value == wanted)
}

/// Whether one `NamedRuleWithOperations` covers the request.
fn rule_matches(rule: &Value, target: &MatchTarget<'_>, exact: bool) -> bool {
    let identity = target.identity;
    let resources = strings(rule.get("resources"));
    let resource_listed = resources
        .iter()
        .any(|resource| *resource == "*" || *resource == "*/*" || *resource == identity.resource);
    let versions = strings(rule.get("apiVersions"));
    let names = strings(rule.get("resourceNames"));
    let scope = rule.get("scope").and_then(Value::as_str).unwrap_or("*");
    let namespaced = !identity.namespace.is_empty();
    listed(&strings(rule.get("apiGroups")), &identity.group)
        && (!exact || listed(&versions, &identity.version))
        && resource_listed
        && listed(&strings(rule.get("operations")), target.operation)
        && (names.is_empty() || names.contains(&identity.name.as_str()))
        && match scope {
            "Namespaced" => namespaced,
            "Cluster" => !namespaced,
            _ => true,
        }
}

/// Whether `matchConstraints` (a policy's) or `matchResources` (a binding's) selects the request.
pub fn matches(block: &Value, target: &MatchTarget<'_>) -> bool {
    let exact = block.get("matchPolicy").and_then(Value::as_str) == Some("Exact");
    if let Some(rules) = block.get("resourceRules").and_then(Value::as_array)
        && !rules.iter().any(|rule| rule_matches(rule, target, exact))
    {
        return false;
    }
    if block
        .get("excludeResourceRules")
        .and_then(Value::as_array)
        .is_some_and(|rules| rules.iter().any(|rule| rule_matches(rule, target, exact)))
    {
        return false;
    }
    if let Some(selector) = block
        .get("namespaceSelector")
        .filter(|value| value.is_object())
        && let Some(labels) = target.namespace_labels
        && !selector_matches(selector, labels)
    {
        return false;
    }
    if let Some(selector) = block
        .get("objectSelector")
        .filter(|value| value.is_object())
        && !selector_matches(selector, target.object_labels)
    {
        return false;
    }
    true
}

/// One decision per validation (the apiserver's `PolicyDecision`).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Admit,
    /// The expression was false: the message the apiserver shows and the reason.
    Deny {
        message: String,
        reason: String,
    },
    /// The expression failed: subject to the failure policy.
    Error {
        message: String,
    },
    /// potoo cannot evaluate it: `unknown`, with the reason.
    Unsupported {
        reason: String,
    },
}

/// Rewrites expressions of a Pod policy for a pod controller (Kyverno autogen): `object.spec`
/// and `object.metadata` (and `oldObject`'s) move under the template at `prefix`.
pub fn for_template(expression: &str, prefix: Option<&str>) -> String {
    let Some(prefix) = prefix else {
        return expression.to_string();
    };
    static FIELDS: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(fields) = FIELDS.get_or_init(|| {
        Regex::new(r"(^|[^A-Za-z0-9_.])(object|oldObject)\.(spec|metadata)\b").ok()
    }) else {
        return expression.to_string();
    };
    fields
        .replace_all(expression, |captures: &regex::Captures<'_>| {
            format!("{}{}.{prefix}.{}", &captures[1], &captures[2], &captures[3])
        })
        .into_owned()
}

/// The activation of a Kyverno CEL request: `object` (`null` on DELETE, where the deleted
/// object is `oldObject`), `oldObject`, `request`, `params` (`null`) and `namespaceObject`.
pub fn request_environment(
    resource: &Value,
    old_resource: Option<&Value>,
    request: &super::AdmissionRequest,
    namespace_object: Option<&Value>,
) -> Environment {
    let (object, old_object) = if request.operation == "DELETE" {
        (None, Some(old_resource.unwrap_or(resource)))
    } else {
        (Some(resource), old_resource)
    };
    let value = |json: Option<&Value>| json.map(to_cel).unwrap_or(cel::Value::Null);
    Environment::new(&[
        ("object", value(object)),
        ("oldObject", value(old_object)),
        ("request", to_cel(&request.to_json())),
        ("params", cel::Value::Null),
        ("namespaceObject", value(namespace_object)),
    ])
}

fn text<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

/// Binds `variables` (`[{name, expression}]`).
pub fn bind_variables(
    environment: &mut Environment,
    variables: Option<&Value>,
    prefix: Option<&str>,
) {
    let variables: Vec<(String, String)> = variables
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|variable| {
            Some((
                text(variable, "name")?.to_string(),
                for_template(text(variable, "expression")?, prefix),
            ))
        })
        .collect();
    environment.bind_variables(
        variables
            .iter()
            .map(|(name, expression)| (name.as_str(), expression.as_str())),
    );
}

/// `matchConditions`: `Ok(true)` when all hold; a failing condition is `Err` with the
/// decision it leads to (an error subject to the failure policy, or unsupported).
pub fn match_conditions(
    environment: &Environment,
    conditions: Option<&Value>,
    prefix: Option<&str>,
) -> Result<bool, Decision> {
    let mut first_error = None;
    for condition in conditions.and_then(Value::as_array).into_iter().flatten() {
        let Some(expression) = text(condition, "expression") else {
            continue;
        };
        let name = text(condition, "name").unwrap_or_default();
        match environment.evaluate_bool(&for_template(expression, prefix)) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(error) if error.is_unsupported() => {
                return Err(Decision::Unsupported {
                    reason: error.to_string(),
                });
            }
            Err(error) => {
                first_error.get_or_insert(Decision::Error {
                    message: format!("failed to evaluate match condition `{name}`: {error}"),
                });
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(true),
    }
}

/// The message of a failed validation: `messageExpression` (trimmed, one line, at most 5120
/// bytes), else `message`, else `failed expression: …` — as the apiserver composes it.
fn denial_message(
    environment: &Environment,
    validation: &Value,
    expression: &str,
    prefix: Option<&str>,
) -> String {
    if let Some(message_expression) = text(validation, "messageExpression")
        && let Ok(message) = environment.evaluate_string(&for_template(message_expression, prefix))
    {
        let message = message.trim();
        if !message.is_empty() && message.len() <= 5120 && !message.contains('\n') {
            return message.to_string();
        }
    }
    if let Some(message) = text(validation, "message")
        .map(str::trim)
        .filter(|message| !message.is_empty())
    {
        return message.to_string();
    }
    format!("failed expression: {}", expression.trim())
}

/// Evaluates `validations` (`[{expression, message, messageExpression, reason}]`).
pub fn validate(
    environment: &Environment,
    validations: Option<&Value>,
    prefix: Option<&str>,
) -> Vec<Decision> {
    validations
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|validation| {
            let expression = text(validation, "expression")?;
            Some(
                match environment.evaluate_bool(&for_template(expression, prefix)) {
                    Ok(true) => Decision::Admit,
                    Ok(false) => Decision::Deny {
                        message: denial_message(environment, validation, expression, prefix),
                        reason: text(validation, "reason").unwrap_or("Invalid").to_string(),
                    },
                    Err(error) => error_decision(expression, error),
                },
            )
        })
        .collect()
}

fn error_decision(expression: &str, error: CelError) -> Decision {
    match error {
        CelError::Unsupported { feature } => Decision::Unsupported { reason: feature },
        other => Decision::Error {
            message: format!("expression '{expression}' resulted in error: {other}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_the_rest_mapper() {
        assert_eq!(plural("Pod"), "pods");
        assert_eq!(plural("Ingress"), "ingresses");
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("Endpoints"), "endpoints");
    }

    #[test]
    fn template_rewrite_moves_spec_and_metadata() {
        assert_eq!(
            for_template(
                "object.spec.containers.all(c, has(object.metadata.labels))",
                Some("spec.template")
            ),
            "object.spec.template.spec.containers.all(c, has(object.spec.template.metadata.labels))"
        );
        assert_eq!(
            for_template(
                "namespaceObject.metadata.name == 'x'",
                Some("spec.template")
            ),
            "namespaceObject.metadata.name == 'x'"
        );
    }
}
