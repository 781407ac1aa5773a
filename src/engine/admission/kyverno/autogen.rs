//! Kyverno autogen: rules written for Pods also apply to pod controllers. `autogen-<rule>` covers
//! DaemonSet/Deployment/Job/StatefulSet/ReplicaSet/ReplicationController through
//! `spec.template`, `autogen-cronjob-<rule>` covers CronJob through
//! `spec.jobTemplate.spec.template`; the `pod-policies.kyverno.io/autogen-controllers`
//! annotation narrows the controllers or turns autogen off (`none`).

use serde_json::{Value, json};

use super::Policy;

const CONTROLLERS: [&str; 7] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];
const ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// The rules that apply to resources of `kind`: the policy's own rules, plus the generated
/// ones when `kind` is a pod controller.
pub fn rules_for(policy: &Policy, kind: &str) -> Vec<Value> {
    if !CONTROLLERS.contains(&kind) {
        return policy.rules.clone();
    }
    let controllers = controllers(policy);
    if controllers.is_empty() || !controllers.iter().any(|controller| controller == kind) {
        return policy.rules.clone();
    }
    let generated = generate(policy, &controllers);
    if generated.is_empty() {
        return policy.rules.clone();
    }
    policy
        .rules
        .iter()
        .filter(|rule| !name_of(rule).starts_with("autogen-"))
        .cloned()
        .chain(generated)
        .collect()
}

/// The autogen rules of a policy for every controller it covers.
pub fn generate(policy: &Policy, controllers: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    let plain: Vec<String> = controllers
        .iter()
        .filter(|controller| *controller != "CronJob")
        .cloned()
        .collect();
    for rule in &policy.rules {
        if let Some(generated) = controller_rule(rule, &plain) {
            out.push(replace_fields(&generated, TemplateKind::Controller));
        }
        if controllers.iter().any(|controller| controller == "CronJob")
            && let Some(base) = controller_rule(rule, &plain_or_cronjob(&plain))
            && let Some(generated) = wrap_rule(
                &base,
                &truncate_name(&format!("autogen-cronjob-{}", name_of(rule))),
                "jobTemplate",
                &["CronJob".to_string()],
                true,
            )
        {
            out.push(replace_fields(&generated, TemplateKind::CronJob));
        }
    }
    out
}

fn plain_or_cronjob(plain: &[String]) -> Vec<String> {
    if plain.is_empty() {
        vec!["CronJob".to_string()]
    } else {
        plain.to_vec()
    }
}

/// The controllers autogen applies to for this policy (empty: none).
pub fn controllers(policy: &Policy) -> Vec<String> {
    if !can_autogen(policy) {
        return Vec::new();
    }
    match policy.annotations.get(ANNOTATION) {
        Some(value) if value.trim() == "none" => Vec::new(),
        Some(value) if value.trim() == "all" || value.trim().is_empty() => {
            CONTROLLERS.iter().map(|kind| kind.to_string()).collect()
        }
        Some(value) => value
            .split(',')
            .map(|kind| kind.trim().to_string())
            .filter(|kind| !kind.is_empty())
            .collect(),
        None => CONTROLLERS.iter().map(|kind| kind.to_string()).collect(),
    }
}

fn name_of(rule: &Value) -> String {
    rule.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn truncate_name(name: &str) -> String {
    name.chars().take(63).collect()
}

fn kinds_of(resources: Option<&Value>) -> Vec<String> {
    resources
        .and_then(|resources| resources.get("kinds"))
        .and_then(Value::as_array)
        .map(|kinds| {
            kinds
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn is_pod_kind(kind: &str) -> bool {
    kind == "Pod" || kind.ends_with("/Pod")
}

/// Every resource description of a match/exclude block (legacy, `any`, `all`).
fn descriptions(block: Option<&Value>) -> Vec<&Value> {
    let Some(block) = block else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(resources) = block.get("resources") {
        out.push(resources);
    }
    for list in ["any", "all"] {
        if let Some(Value::Array(filters)) = block.get(list) {
            out.extend(filters.iter().filter_map(|filter| filter.get("resources")));
        }
    }
    out
}

/// Kyverno's `CanAutoGen`: no generate/JSON6902 rules, no names/selectors/annotations, no mixed kinds.
fn can_autogen(policy: &Policy) -> bool {
    let mut needed = false;
    for rule in &policy.rules {
        if rule.get("generate").is_some() {
            return false;
        }
        if let Some(mutate) = rule.get("mutate") {
            if mutate.get("patchesJson6902").is_some() {
                return false;
            }
            if let Some(Value::Array(foreach)) = mutate.get("foreach")
                && foreach
                    .iter()
                    .any(|item| item.get("patchesJson6902").is_some())
            {
                return false;
            }
        }
        for block in [rule.get("match"), rule.get("exclude")] {
            for description in descriptions(block) {
                let has =
                    |field: &str| description.get(field).is_some_and(|value| !value.is_null());
                let kinds = kinds_of(Some(description));
                if has("name")
                    || description
                        .get("names")
                        .and_then(Value::as_array)
                        .is_some_and(|names| !names.is_empty())
                    || has("selector")
                    || has("annotations")
                    || (kinds.len() > 1 && kinds.iter().any(|kind| is_pod_kind(kind)))
                {
                    return false;
                }
                needed |= kinds.iter().any(|kind| {
                    is_pod_kind(kind)
                        || CONTROLLERS
                            .iter()
                            .any(|controller| kind.ends_with(controller))
                });
            }
        }
    }
    needed
}

/// `autogen-<rule>` for the non-CronJob controllers, before field replacement.
fn controller_rule(rule: &Value, controllers: &[String]) -> Option<Value> {
    let name = name_of(rule);
    if name.starts_with("autogen-") || controllers.is_empty() {
        return None;
    }
    let match_kinds: Vec<String> = descriptions(rule.get("match"))
        .into_iter()
        .flat_map(|description| kinds_of(Some(description)))
        .collect();
    let exclude_kinds: Vec<String> = descriptions(rule.get("exclude"))
        .into_iter()
        .flat_map(|description| kinds_of(Some(description)))
        .collect();
    if !match_kinds.iter().any(|kind| is_pod_kind(kind))
        || (!exclude_kinds.is_empty() && !exclude_kinds.iter().any(|kind| is_pod_kind(kind)))
    {
        return None;
    }
    let mut kinds = controllers.to_vec();
    kinds.sort();
    wrap_rule(
        rule,
        &truncate_name(&format!("autogen-{name}")),
        "template",
        &kinds,
        false,
    )
}

/// Renames the rule, points its match/exclude at `kinds` and wraps patterns under
/// `spec.<template_key>`.
fn wrap_rule(
    rule: &Value,
    name: &str,
    template_key: &str,
    kinds: &[String],
    replace_every_filter: bool,
) -> Option<Value> {
    let mut rule = rule.as_object()?.clone();
    rule.insert("name".to_string(), Value::String(name.to_string()));
    let kinds_value = Value::Array(kinds.iter().cloned().map(Value::String).collect());
    for block_name in ["match", "exclude"] {
        let Some(Value::Object(block)) = rule.get_mut(block_name) else {
            continue;
        };
        let mut replaced = false;
        for list in ["any", "all"] {
            if replaced {
                break;
            }
            if let Some(Value::Array(filters)) = block.get_mut(list)
                && !filters.is_empty()
            {
                replaced = true;
                for filter in filters.iter_mut() {
                    let Some(resources) =
                        filter.get_mut("resources").and_then(Value::as_object_mut)
                    else {
                        continue;
                    };
                    let has_pod = kinds_of(Some(&Value::Object(resources.clone())))
                        .iter()
                        .any(|kind| is_pod_kind(kind));
                    if replace_every_filter || has_pod {
                        resources.insert("kinds".to_string(), kinds_value.clone());
                    }
                }
            }
        }
        if !replaced
            && let Some(Value::Object(resources)) = block.get_mut("resources")
            && (block_name == "match" || resources.get("kinds").is_some())
        {
            resources.insert("kinds".to_string(), kinds_value.clone());
        }
    }
    let wrap = |pattern: &Value| json!({"spec": {template_key: pattern}});
    if let Some(Value::Object(mutate)) = rule.get_mut("mutate") {
        if let Some(patch) = mutate.get("patchStrategicMerge").cloned() {
            mutate.insert("patchStrategicMerge".to_string(), wrap(&patch));
        } else if let Some(Value::Array(foreach)) = mutate.get_mut("foreach") {
            for item in foreach.iter_mut() {
                if let Some(patch) = item.get("patchStrategicMerge").cloned()
                    && let Some(item) = item.as_object_mut()
                {
                    item.insert("patchStrategicMerge".to_string(), wrap(&patch));
                }
            }
        }
        return Some(Value::Object(rule));
    }
    if let Some(Value::Object(validate)) = rule.get_mut("validate") {
        if let Some(pattern) = validate.get("pattern").cloned() {
            validate.insert("pattern".to_string(), wrap(&pattern));
        } else if let Some(Value::Array(patterns)) = validate.get("anyPattern").cloned() {
            validate.insert(
                "anyPattern".to_string(),
                Value::Array(patterns.iter().map(wrap).collect()),
            );
        }
        return Some(Value::Object(rule));
    }
    if rule.contains_key("verifyImages") {
        return Some(Value::Object(rule));
    }
    None
}

#[derive(Debug, Clone, Copy)]
enum TemplateKind {
    Controller,
    CronJob,
}

/// Rewrites `request.object.spec`/`metadata` (and `oldObject`) to the template's fields.
fn replace_fields(rule: &Value, kind: TemplateKind) -> Value {
    let text = rule.to_string();
    let prefix = match kind {
        TemplateKind::Controller => "spec.template",
        TemplateKind::CronJob => "spec.jobTemplate.spec.template",
    };
    let mut text = text;
    for object in ["request.object", "request.oldObject"] {
        for field in ["spec", "metadata"] {
            let from = format!("{object}.{field}");
            let to = format!("{object}.{prefix}.{field}");
            text = replace_outside(&text, &from, &to);
        }
    }
    serde_json::from_str(&text).unwrap_or_else(|_| rule.clone())
}

/// Replaces `from` with `to`, skipping occurrences already rewritten (`to` starts with `from`).
fn replace_outside(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(from) {
        out.push_str(&rest[..index]);
        if rest[index..].starts_with(to) {
            out.push_str(to);
            rest = &rest[index + to.len()..];
        } else {
            out.push_str(to);
            rest = &rest[index + from.len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(annotations: Value, rules: Value) -> Policy {
        Policy::from_value(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "p", "annotations": annotations},
            "spec": {"rules": rules}
        }))
        .unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn pod_rules_get_controller_and_cronjob_rules() {
        let policy = policy(
            json!({}),
            json!([{"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "preconditions": {"all": [{"key": "{{ request.object.metadata.name }}", "operator": "Equals", "value": "x"}]},
                "validate": {"pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}}]),
        );
        let rules = rules_for(&policy, "Deployment");
        let names: Vec<String> = rules.iter().map(name_of).collect();
        assert_eq!(names, ["check", "autogen-check", "autogen-cronjob-check"]);
        assert_eq!(
            rules[1].pointer("/validate/pattern/spec/template/spec/containers/0/image"),
            Some(&json!("!*:latest"))
        );
        assert_eq!(
            rules[1].pointer("/preconditions/all/0/key"),
            Some(&json!("{{ request.object.spec.template.metadata.name }}"))
        );
        assert_eq!(
            rules[2].pointer(
                "/validate/pattern/spec/jobTemplate/spec/template/spec/containers/0/image"
            ),
            Some(&json!("!*:latest"))
        );
        assert_eq!(
            rules[2].pointer("/match/any/0/resources/kinds"),
            Some(&json!(["CronJob"]))
        );
        assert_eq!(rules_for(&policy, "Pod").len(), 1);
    }

    #[test]
    fn annotations_and_selectors_limit_autogen() {
        let rule = json!([{"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"deny": {}}}]);
        assert_eq!(
            controllers(&policy(json!({ANNOTATION: "none"}), rule.clone())),
            Vec::<String>::new()
        );
        assert_eq!(
            controllers(&policy(json!({ANNOTATION: "Deployment"}), rule)),
            ["Deployment".to_string()]
        );
        let with_selector = json!([{"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"], "selector": {"matchLabels": {"a": "b"}}}}]},
            "validate": {"deny": {}}}]);
        assert!(controllers(&policy(json!({}), with_selector)).is_empty());
    }
}
