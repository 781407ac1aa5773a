//! Kyverno admission engine: evaluates ClusterPolicy/Policy validate rules (pattern, anyPattern,
//! deny, foreach, podSecurity, and `validate.cel` through `cel.rs`) on one resource, with match/exclude, autogen, context entries,
//! preconditions and PolicyExceptions, and returns one result per applicable rule.

pub mod admission;
pub mod autogen;
pub mod cel;
pub mod conditions;
pub mod exceptions;
pub mod foreach;
pub mod pattern;
pub mod podsecurity;
pub mod validating_policy;
pub mod variables;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::selector::LabelSelector;
use conditions::{ConditionError, evaluate_conditions};
use exceptions::PolicyException;
use pattern::{PatternOutcome, match_pattern, wildcard_matches};
use variables::{Resolution, VariableContext, VariableError, substitute_all, substitute_string};

/// The outcome of one rule on one resource (Kyverno's `pass`/`fail`/`warn`/`skip`/`error`), or
/// `unknown` when potoo did not evaluate it: never report pass for something not evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    Pass,
    Fail,
    Warn,
    Skip,
    Error,
    Unknown,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::Warn => "warn",
            RuleStatus::Skip => "skip",
            RuleStatus::Error => "error",
            RuleStatus::Unknown => "unknown",
        }
    }
}

/// One rule's result on one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleResult {
    /// `name` for ClusterPolicy, `namespace/name` for Policy.
    pub policy: String,
    pub rule: String,
    pub status: RuleStatus,
    pub message: String,
}

/// A Kyverno `ClusterPolicy` or `Policy` (kyverno.io, any served version).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: Map<String, Value>,
    pub rules: Vec<Value>,
}

impl Policy {
    /// Reads a ClusterPolicy/Policy object; other objects are `None`.
    pub fn from_value(object: &Value) -> Option<Policy> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        if !api_version.starts_with("kyverno.io/") || !matches!(kind, "ClusterPolicy" | "Policy") {
            return None;
        }
        let metadata = object.get("metadata");
        let name = metadata?.get("name")?.as_str()?.to_string();
        let namespace = (kind == "Policy").then(|| {
            metadata
                .and_then(|metadata| metadata.get("namespace"))
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        });
        let annotations = string_map(metadata.and_then(|metadata| metadata.get("annotations")));
        let spec = object
            .get("spec")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let rules = spec
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Some(Policy {
            kind: kind.to_string(),
            name,
            namespace,
            annotations,
            spec,
            rules,
        })
    }

    /// How results name the policy: `name`, or `namespace/name` for a namespaced Policy.
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `policies.kyverno.io/scored: "false"` reports failures as warnings.
    pub fn scored(&self) -> bool {
        self.annotations
            .get("policies.kyverno.io/scored")
            .is_none_or(|value| value != "false")
    }
}

/// Who makes the request (the test file's `userinfo`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub cluster_roles: Vec<String>,
}

/// One admission request to evaluate policies against.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub resource: &'a Value,
    pub old_resource: Option<&'a Value>,
    /// `CREATE` unless the values file says otherwise.
    pub operation: String,
    pub user_info: UserInfo,
    /// Labels of the resource's namespace (values file `namespaceSelector`), when known.
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// Variables for every rule (global and per-resource values), dotted keys.
    pub variables: Vec<(String, Value)>,
    /// Variables for one rule (values file `policies[].rules[].values`), by rule name.
    pub rule_variables: BTreeMap<String, Vec<(String, Value)>>,
    pub exceptions: &'a [PolicyException],
}

impl<'a> Request<'a> {
    pub fn new(resource: &'a Value) -> Request<'a> {
        Request {
            resource,
            old_resource: None,
            operation: "CREATE".to_string(),
            user_info: UserInfo::default(),
            namespace_labels: None,
            variables: Vec::new(),
            rule_variables: BTreeMap::new(),
            exceptions: &[],
        }
    }
}

/// Facts about the resource under evaluation.
#[derive(Debug, Clone, Default)]
pub struct ResourceFacts {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl ResourceFacts {
    pub fn of(resource: &Value) -> ResourceFacts {
        let api_version = resource
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_string(), version.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        let metadata = resource.get("metadata");
        let text = |field: &str| {
            metadata
                .and_then(|metadata| metadata.get(field))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        ResourceFacts {
            group,
            version,
            kind: resource
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: text("name"),
            namespace: text("namespace"),
            labels: string_map(metadata.and_then(|metadata| metadata.get("labels"))),
            annotations: string_map(metadata.and_then(|metadata| metadata.get("annotations"))),
        }
    }
}

pub(crate) fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Evaluates every rule of `policy` (and its autogen rules) that applies to the request.
/// Rules that do not match the resource produce no result.
pub fn evaluate(policy: &Policy, request: &Request<'_>) -> Vec<RuleResult> {
    let facts = ResourceFacts::of(request.resource);
    if let Some(namespace) = &policy.namespace
        && facts.namespace != *namespace
    {
        return Vec::new();
    }
    let rules = autogen::rules_for(policy, &facts.kind);
    let mut results = Vec::new();
    for rule in &rules {
        if let Some(result) = evaluate_rule(policy, rule, request, &facts) {
            let stop = policy.spec.get("applyRules").and_then(Value::as_str) == Some("One")
                && matches!(result.status, RuleStatus::Pass | RuleStatus::Fail);
            results.push(result);
            if stop {
                break;
            }
        }
    }
    results
}

fn rule_name(rule: &Value) -> String {
    rule.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn result(
    policy: &Policy,
    rule: &Value,
    status: RuleStatus,
    message: impl Into<String>,
) -> RuleResult {
    let status = if status == RuleStatus::Fail && !policy.scored() {
        RuleStatus::Warn
    } else {
        status
    };
    RuleResult {
        policy: policy.key(),
        rule: rule_name(rule),
        status,
        message: message.into(),
    }
}

fn evaluate_rule(
    policy: &Policy,
    rule: &Value,
    request: &Request<'_>,
    facts: &ResourceFacts,
) -> Option<RuleResult> {
    let matched = rule
        .get("match")
        .is_some_and(|block| block_matches(block, request, facts, BlockMode::Match));
    if !matched {
        return None;
    }
    if rule
        .get("exclude")
        .is_some_and(|block| block_matches(block, request, facts, BlockMode::Exclude))
    {
        return None;
    }
    let Some(validate) = rule.get("validate").filter(|validate| validate.is_object()) else {
        let kind = ["mutate", "generate", "verifyImages"]
            .into_iter()
            .find(|kind| rule.get(*kind).is_some())
            .unwrap_or("this kind of");
        return Some(result(
            policy,
            rule,
            RuleStatus::Unknown,
            format!("{kind} rules are not evaluated yet"),
        ));
    };
    if let Some(exception) =
        exceptions::find_exception(request.exceptions, policy, &rule_name(rule), request, facts)
    {
        return Some(result(
            policy,
            rule,
            RuleStatus::Skip,
            format!("rule is skipped due to policy exception `{exception}`"),
        ));
    }
    if let Some(cel_rule) = validate.get("cel").filter(|cel_rule| cel_rule.is_object()) {
        let (status, message) = cel::evaluate(cel_rule, rule, request, facts);
        return Some(result(policy, rule, status, message));
    }
    let mut context = base_context(request, facts);
    if let Some(values) = request.rule_variables.get(&rule_name(rule)) {
        for (key, value) in values {
            context.set_dotted(key, value.clone());
        }
    }
    if let Err(outcome) = load_context(rule.get("context"), &mut context) {
        return Some(result(policy, rule, outcome.0, outcome.1));
    }
    match evaluate_conditions(rule.get("preconditions").unwrap_or(&Value::Null), &context) {
        Ok(true) => {}
        Ok(false) => {
            return Some(result(
                policy,
                rule,
                RuleStatus::Skip,
                "preconditions not met",
            ));
        }
        Err(error) => {
            let (status, message) = condition_failure(&error, "preconditions");
            return Some(result(policy, rule, status, message));
        }
    }
    let (status, message) = validate_rule(validate, request.resource, &mut context, rule, facts);
    Some(result(policy, rule, status, message))
}

/// How a condition error is reported: unsupported functions are unknown, the rest errors.
pub(crate) fn condition_failure(error: &ConditionError, what: &str) -> (RuleStatus, String) {
    match error {
        ConditionError::Variable(VariableError::Unsupported { function, .. }) => (
            RuleStatus::Unknown,
            format!("{what} use the JMESPath function `{function}`, which is not evaluated yet"),
        ),
        other => (
            RuleStatus::Error,
            format!("failed to evaluate {what}: {other}"),
        ),
    }
}

pub(crate) fn variable_failure(error: &VariableError) -> (RuleStatus, String) {
    match error {
        VariableError::Unsupported { function, .. } => (
            RuleStatus::Unknown,
            format!("the rule uses the JMESPath function `{function}`, which is not evaluated yet"),
        ),
        other => (
            RuleStatus::Error,
            format!("variable substitution failed: {other}"),
        ),
    }
}

/// The validate part of a rule (top level or one foreach element).
fn validate_rule(
    validate: &Value,
    resource: &Value,
    context: &mut VariableContext,
    rule: &Value,
    facts: &ResourceFacts,
) -> (RuleStatus, String) {
    let raw_message = validate
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(pod_security) = validate.get("podSecurity") {
        return podsecurity::evaluate(pod_security, resource, facts, raw_message);
    }
    if validate.get("cel").is_some() {
        return (
            RuleStatus::Unknown,
            "CEL rules are not evaluated yet".to_string(),
        );
    }
    for unsupported in ["manifests", "assert"] {
        if validate.get(unsupported).is_some() {
            return (
                RuleStatus::Unknown,
                format!("`validate.{unsupported}` rules are not evaluated yet"),
            );
        }
    }
    if let Some(deny) = validate.get("deny") {
        return check_deny(deny, raw_message, context, &rule_name(rule));
    }
    if validate.get("pattern").is_some() || validate.get("anyPattern").is_some() {
        return check_patterns(validate, resource, context, &rule_name(rule));
    }
    if let Some(foreach) = validate.get("foreach") {
        return foreach::evaluate(foreach, raw_message, context, rule, facts);
    }
    (
        RuleStatus::Error,
        "invalid validation rule: podSecurity, pattern, anyPattern, deny or foreach expected"
            .to_string(),
    )
}

pub(crate) fn check_deny(
    deny: &Value,
    raw_message: &str,
    context: &VariableContext,
    rule: &str,
) -> (RuleStatus, String) {
    match evaluate_conditions(deny.get("conditions").unwrap_or(&Value::Null), context) {
        Ok(true) => (RuleStatus::Fail, render_message(raw_message, context, rule)),
        Ok(false) => (RuleStatus::Pass, format!("validation rule `{rule}` passed")),
        Err(error) => condition_failure(&error, "deny conditions"),
    }
}

/// The rule message with its variables substituted (the raw message if that fails).
pub(crate) fn render_message(raw_message: &str, context: &VariableContext, rule: &str) -> String {
    if raw_message.is_empty() {
        return format!("validation error: rule `{rule}` failed");
    }
    match substitute_string(raw_message, context, Resolution::Strict) {
        Ok(Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => raw_message.to_string(),
    }
}

pub(crate) fn check_patterns(
    validate: &Value,
    resource: &Value,
    context: &VariableContext,
    rule: &str,
) -> (RuleStatus, String) {
    let raw_message = validate
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(pattern) = validate.get("pattern") {
        let pattern = match substitute_all(pattern, context, Resolution::Strict) {
            Ok(pattern) => pattern,
            Err(error) => return variable_failure(&error),
        };
        return match match_pattern(resource, &pattern) {
            PatternOutcome::Pass => (RuleStatus::Pass, format!("validation rule `{rule}` passed")),
            PatternOutcome::Skip { message } => (RuleStatus::Skip, message),
            // Kyverno's own wording (`buildErrorMessage`): the message ends with a period.
            PatternOutcome::Fail { path, .. } if raw_message.is_empty() => (
                RuleStatus::Fail,
                format!("validation error: rule {rule} failed at path {path}"),
            ),
            PatternOutcome::Fail { path, .. } => {
                let mut message = render_message(raw_message, context, rule);
                if !message.ends_with('.') {
                    message.push('.');
                }
                (
                    RuleStatus::Fail,
                    format!("validation error: {message} rule {rule} failed at path {path}"),
                )
            }
        };
    }
    let patterns = match validate.get("anyPattern") {
        Some(Value::Array(patterns)) => patterns.clone(),
        _ => {
            return (RuleStatus::Error, "`anyPattern` must be a list".to_string());
        }
    };
    let mut failures = Vec::new();
    let mut skips = 0;
    for (index, pattern) in patterns.iter().enumerate() {
        let pattern = match substitute_all(pattern, context, Resolution::Strict) {
            Ok(pattern) => pattern,
            Err(error) => return variable_failure(&error),
        };
        match match_pattern(resource, &pattern) {
            PatternOutcome::Pass => {
                return (
                    RuleStatus::Pass,
                    format!("validation rule `{rule}` anyPattern[{index}] passed"),
                );
            }
            PatternOutcome::Skip { .. } => skips += 1,
            PatternOutcome::Fail { path, .. } => {
                failures.push(format!("rule {rule}[{index}] failed at path {path}"))
            }
        }
    }
    if failures.is_empty() && skips > 0 {
        return (
            RuleStatus::Skip,
            format!("every anyPattern of rule `{rule}` was skipped by its anchors"),
        );
    }
    if failures.is_empty() {
        return (RuleStatus::Pass, format!("validation rule `{rule}` passed"));
    }
    // Kyverno's `buildAnyPatternErrorMessage`: the message as written, without substitution.
    let failures = failures.join(" ");
    let message = if raw_message.is_empty() {
        format!("validation error: {failures}")
    } else if raw_message.ends_with('.') {
        format!("validation error: {raw_message} {failures}")
    } else {
        format!("validation error: {raw_message}. {failures}")
    };
    (RuleStatus::Fail, message)
}

/// `request`, `serviceAccountName`, `serviceAccountNamespace`, `images` and the values.
pub(crate) fn base_context(request: &Request<'_>, facts: &ResourceFacts) -> VariableContext {
    let mut context = VariableContext::new();
    let (object, old_object) = if request.operation == "DELETE" {
        (
            Value::Null,
            request
                .old_resource
                .cloned()
                .unwrap_or_else(|| request.resource.clone()),
        )
    } else {
        (
            request.resource.clone(),
            request.old_resource.cloned().unwrap_or(Value::Null),
        )
    };
    let mut request_document = json!({
        "operation": request.operation,
        "object": object,
        "oldObject": old_object,
        "kind": {"group": facts.group, "version": facts.version, "kind": facts.kind},
        "name": facts.name,
    });
    // empty user fields are omitted, as Kyverno serializes them (`omitempty`)
    let mut user_info = Map::new();
    if !request.user_info.username.is_empty() {
        user_info.insert("username".to_string(), json!(request.user_info.username));
    }
    if !request.user_info.groups.is_empty() {
        user_info.insert("groups".to_string(), json!(request.user_info.groups));
    }
    if let Some(map) = request_document.as_object_mut() {
        map.insert("userInfo".to_string(), Value::Object(user_info));
        if !request.user_info.roles.is_empty() {
            map.insert("roles".to_string(), json!(request.user_info.roles));
        }
        if !request.user_info.cluster_roles.is_empty() {
            map.insert(
                "clusterRoles".to_string(),
                json!(request.user_info.cluster_roles),
            );
        }
    }
    if !facts.namespace.is_empty()
        && let Some(map) = request_document.as_object_mut()
    {
        map.insert(
            "namespace".to_string(),
            Value::String(facts.namespace.clone()),
        );
    }
    context.set("request", request_document);
    if let Some(rest) = request
        .user_info
        .username
        .strip_prefix("system:serviceaccount:")
        && let Some((namespace, name)) = rest.split_once(':')
    {
        context.set("serviceAccountName", Value::String(name.to_string()));
        context.set(
            "serviceAccountNamespace",
            Value::String(namespace.to_string()),
        );
    }
    if let Some(images) = images_of(request.resource) {
        context.set("images", images);
    }
    for (key, value) in &request.variables {
        context.set_dotted(key, value.clone());
    }
    context
}

/// Loads `context` entries: `variable` entries are evaluated; `configMap`, `apiCall`,
/// `globalReference` and `imageRegistry` entries must be provided by the values file.
pub(crate) fn load_context(
    entries: Option<&Value>,
    context: &mut VariableContext,
) -> Result<(), (RuleStatus, String)> {
    let Some(Value::Array(entries)) = entries else {
        return Ok(());
    };
    for entry in entries {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(variable) = entry.get("variable") {
            match evaluate_variable_entry(variable, context) {
                Ok(value) => context.set(name, value),
                Err(_) if context.has(name) => {}
                Err(error) => {
                    let (status, message) = variable_failure(&error);
                    return Err((
                        status,
                        format!("failed to load context entry `{name}`: {message}"),
                    ));
                }
            }
            continue;
        }
        let source = ["configMap", "apiCall", "globalReference", "imageRegistry"]
            .into_iter()
            .find(|source| entry.get(*source).is_some())
            .unwrap_or("unknown");
        if !context.has(name) {
            return Err((
                RuleStatus::Unknown,
                format!(
                    "policy uses an {source} context (`{name}`); provide `{name}` in the values file to evaluate it"
                ),
            ));
        }
    }
    Ok(())
}

fn evaluate_variable_entry(
    variable: &Value,
    context: &VariableContext,
) -> Result<Value, VariableError> {
    let path = match variable.get("jmesPath") {
        Some(Value::String(path)) if !path.is_empty() => {
            match substitute_string(path, context, Resolution::Strict)? {
                Value::String(path) => Some(path),
                other => Some(other.to_string()),
            }
        }
        _ => None,
    };
    let default = match variable.get("default") {
        Some(default) if !default.is_null() => {
            Some(substitute_all(default, context, Resolution::Strict)?)
        }
        _ => None,
    };
    let mut output = default.clone();
    if let Some(value) = variable.get("value").filter(|value| !value.is_null()) {
        let value = substitute_all(value, context, Resolution::Strict)?;
        match &path {
            Some(path) => match VariableContext::query_value(path, &value) {
                Ok(result) if !result.is_null() => output = Some(result),
                Ok(_) => {}
                Err(error) if default.is_none() => return Err(error),
                Err(_) => {}
            },
            None => output = Some(value),
        }
    } else if let Some(path) = &path {
        match context.query(path) {
            Ok(result) => output = Some(result),
            Err(error) if default.is_none() => return Err(error),
            Err(_) => {}
        }
    }
    output.ok_or_else(|| VariableError::NotFound("variable evaluated to null".to_string()))
}

// ---------------------------------------------------------------------------------------------
// images

/// A parsed image reference, as Kyverno's `images` variable describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub registry: String,
    pub path: String,
    pub name: String,
    pub tag: String,
    pub digest: String,
}

impl ImageInfo {
    /// `registry/path:tag` or `registry/path@digest`.
    pub fn normalized(&self) -> String {
        if self.digest.is_empty() {
            format!("{}/{}:{}", self.registry, self.path, self.tag)
        } else if self.tag.is_empty() {
            format!("{}/{}@{}", self.registry, self.path, self.digest)
        } else {
            format!(
                "{}/{}:{}@{}",
                self.registry, self.path, self.tag, self.digest
            )
        }
    }

    fn to_value(&self) -> Value {
        json!({
            "registry": self.registry,
            "path": self.path,
            "name": self.name,
            "tag": self.tag,
            "digest": self.digest,
            "reference": self.normalized(),
            "referenceWithTag": format!("{}/{}:{}", self.registry, self.path, self.tag),
        })
    }
}

/// Parses `[registry/]path[:tag][@digest]`; the registry defaults to `docker.io`, the tag to
/// `latest` when there is neither tag nor digest.
pub fn parse_image(image: &str) -> Option<ImageInfo> {
    let image = image.trim();
    if image.is_empty() {
        return None;
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, digest.to_string()),
        None => (image, String::new()),
    };
    let (registry, remainder) = match rest.split_once('/') {
        Some((first, remainder))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), remainder)
        }
        _ => ("docker.io".to_string(), rest),
    };
    let (path, tag) = match remainder.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path.to_string(), tag.to_string()),
        _ => (remainder.to_string(), String::new()),
    };
    let tag = if tag.is_empty() && digest.is_empty() {
        "latest".to_string()
    } else {
        tag
    };
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    Some(ImageInfo {
        registry,
        path,
        name,
        tag,
        digest,
    })
}

/// The pod spec of a Pod, a pod controller or a CronJob.
pub(crate) fn pod_spec(resource: &Value) -> Option<&Value> {
    let spec = resource.get("spec")?;
    match resource.get("kind").and_then(Value::as_str)? {
        "Pod" => Some(spec),
        "CronJob" => spec.pointer("/jobTemplate/spec/template/spec"),
        _ => spec.pointer("/template/spec"),
    }
}

fn images_of(resource: &Value) -> Option<Value> {
    let spec = pod_spec(resource)?;
    let mut images = Map::new();
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(containers)) = spec.get(field) else {
            continue;
        };
        let mut by_name = Map::new();
        for container in containers {
            let (Some(name), Some(image)) = (
                container.get("name").and_then(Value::as_str),
                container.get("image").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Some(info) = parse_image(image) {
                by_name.insert(name.to_string(), info.to_value());
            }
        }
        if !by_name.is_empty() {
            images.insert(field.to_string(), Value::Object(by_name));
        }
    }
    (!images.is_empty()).then_some(Value::Object(images))
}

// ---------------------------------------------------------------------------------------------
// match / exclude

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockMode {
    Match,
    Exclude,
}

/// `match`/`exclude`: `any` (one filter), `all` (every filter), or the legacy single filter.
pub(crate) fn block_matches(
    block: &Value,
    request: &Request<'_>,
    facts: &ResourceFacts,
    mode: BlockMode,
) -> bool {
    let list = |name: &str| {
        block
            .get(name)
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
    };
    if let Some(any) = list("any") {
        return any
            .iter()
            .any(|filter| filter_matches(filter, request, facts));
    }
    if let Some(all) = list("all") {
        return all
            .iter()
            .all(|filter| filter_matches(filter, request, facts));
    }
    let has_legacy = ["resources", "subjects", "roles", "clusterRoles"]
        .iter()
        .any(|field| block.get(*field).is_some_and(|value| !value.is_null()));
    if !has_legacy {
        return false;
    }
    let _ = mode;
    filter_matches(block, request, facts)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

/// One filter: every condition it states must hold.
fn filter_matches(filter: &Value, request: &Request<'_>, facts: &ResourceFacts) -> bool {
    if let Some(resources) = filter.get("resources").filter(|value| value.is_object())
        && !resources_match(resources, request, facts)
    {
        return false;
    }
    let subjects = filter.get("subjects").and_then(Value::as_array);
    if let Some(subjects) = subjects.filter(|subjects| !subjects.is_empty())
        && !subjects
            .iter()
            .any(|subject| subject_matches(subject, &request.user_info))
    {
        return false;
    }
    let roles = strings(filter.get("roles"));
    if !roles.is_empty()
        && !roles.iter().any(|role| {
            request
                .user_info
                .roles
                .iter()
                .any(|held| wildcard_matches(role, held))
        })
    {
        return false;
    }
    let cluster_roles = strings(filter.get("clusterRoles"));
    if !cluster_roles.is_empty()
        && !cluster_roles.iter().any(|role| {
            request
                .user_info
                .cluster_roles
                .iter()
                .any(|held| wildcard_matches(role, held))
        })
    {
        return false;
    }
    true
}

fn subject_matches(subject: &Value, user: &UserInfo) -> bool {
    let name = subject
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match subject
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "User" => wildcard_matches(name, &user.username),
        "Group" => user
            .groups
            .iter()
            .any(|group| wildcard_matches(name, group)),
        "ServiceAccount" => {
            let namespace = subject
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            user.username == format!("system:serviceaccount:{namespace}:{name}")
        }
        _ => false,
    }
}

fn resources_match(resources: &Value, request: &Request<'_>, facts: &ResourceFacts) -> bool {
    let kinds = strings(resources.get("kinds"));
    if !kinds.is_empty() && !kinds.iter().any(|kind| kind_matches(kind, facts)) {
        return false;
    }
    if let Some(name) = resources.get("name").and_then(Value::as_str)
        && !wildcard_matches(name, &facts.name)
    {
        return false;
    }
    let names = strings(resources.get("names"));
    if !names.is_empty() && !names.iter().any(|name| wildcard_matches(name, &facts.name)) {
        return false;
    }
    let namespace = if facts.kind == "Namespace" {
        facts.name.as_str()
    } else {
        facts.namespace.as_str()
    };
    let namespaces = strings(resources.get("namespaces"));
    if !namespaces.is_empty()
        && !namespaces
            .iter()
            .any(|pattern| wildcard_matches(pattern, namespace))
    {
        return false;
    }
    if let Some(Value::Object(annotations)) = resources.get("annotations") {
        for (key, expected) in annotations {
            let expected = expected.as_str().unwrap_or_default();
            let found = facts.annotations.iter().any(|(actual_key, actual)| {
                wildcard_matches(key, actual_key) && wildcard_matches(expected, actual)
            });
            if !found {
                return false;
            }
        }
    }
    if let Some(selector) = resources.get("selector").filter(|value| !value.is_null())
        && !selector_matches(selector, &facts.labels)
    {
        return false;
    }
    if let Some(selector) = resources
        .get("namespaceSelector")
        .filter(|value| !value.is_null())
    {
        let labels = if facts.kind == "Namespace" {
            facts.labels.clone()
        } else {
            request.namespace_labels.clone().unwrap_or_default()
        };
        if !selector_matches(selector, &labels) {
            return false;
        }
    }
    let operations = strings(resources.get("operations"));
    if !operations.is_empty() && !operations.contains(&request.operation) {
        return false;
    }
    true
}

/// A label selector whose `matchLabels` may hold wildcards (expanded against the labels first).
pub(crate) fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let mut selector = selector.clone();
    if let Some(Value::Object(match_labels)) = selector.get_mut("matchLabels") {
        let mut expanded = Map::new();
        for (key, value) in match_labels.iter() {
            let value_text = value.as_str().unwrap_or_default();
            if key.contains(['*', '?']) || value_text.contains(['*', '?']) {
                match labels.iter().find(|(label, label_value)| {
                    wildcard_matches(key, label) && wildcard_matches(value_text, label_value)
                }) {
                    Some((label, label_value)) => {
                        expanded.insert(label.clone(), Value::String(label_value.clone()))
                    }
                    None => expanded.insert(
                        key.replace(['*', '?'], "0"),
                        Value::String(value_text.replace(['*', '?'], "0")),
                    ),
                };
            } else {
                expanded.insert(key.clone(), value.clone());
            }
        }
        *match_labels = expanded;
    }
    LabelSelector::from_value(&selector).is_ok_and(|selector| selector.matches(labels))
}

/// `Pod`, `v1/Pod`, `apps/v1/Deployment`, `*`, `Pod/exec` (a subresource never matches the object).
pub(crate) fn kind_matches(selector: &str, facts: &ResourceFacts) -> bool {
    if selector == "*" {
        return true;
    }
    let parts: Vec<&str> = selector.split('/').collect();
    let is_kind = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '*')
    };
    let (group, version, kind, subresource) = match parts.as_slice() {
        [kind] => (None, None, *kind, None),
        [first, second] if is_kind(first) && !is_kind(second) => {
            (None, None, *first, Some(*second))
        }
        [version, kind] => (None, Some(*version), *kind, None),
        [version, kind, subresource] if is_kind(kind) && !is_kind(subresource) => {
            (None, Some(*version), *kind, Some(*subresource))
        }
        [group, version, kind] => (Some(*group), Some(*version), *kind, None),
        [group, version, kind, subresource] => {
            (Some(*group), Some(*version), *kind, Some(*subresource))
        }
        _ => return false,
    };
    if subresource.is_some() {
        return false;
    }
    wildcard_matches(kind, &facts.kind)
        && version.is_none_or(|version| wildcard_matches(version, &facts.version))
        && group.is_none_or(|group| wildcard_matches(group, &facts.group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_parsed_like_kyverno() {
        let image = parse_image("ghcr.io/org/app:1.2@sha256:abc");
        assert_eq!(
            image.map(|image| (
                image.registry,
                image.path,
                image.name,
                image.tag,
                image.digest
            )),
            Some((
                "ghcr.io".to_string(),
                "org/app".to_string(),
                "app".to_string(),
                "1.2".to_string(),
                "sha256:abc".to_string()
            ))
        );
        let image = parse_image("nginx").map(|image| image.normalized());
        assert_eq!(image.as_deref(), Some("docker.io/nginx:latest"));
        let image = parse_image("localhost:5000/app").map(|image| (image.registry, image.tag));
        assert_eq!(
            image,
            Some(("localhost:5000".to_string(), "latest".to_string()))
        );
    }

    #[test]
    fn kinds_with_groups_versions_and_subresources() {
        let facts = ResourceFacts::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment"}));
        assert!(kind_matches("Deployment", &facts));
        assert!(kind_matches("apps/v1/Deployment", &facts));
        assert!(kind_matches("v1/Deployment", &facts));
        assert!(kind_matches("apps/*/Deployment", &facts));
        assert!(!kind_matches("batch/v1/Deployment", &facts));
        assert!(!kind_matches("Deployment/scale", &facts));
        assert!(kind_matches("*", &facts));
    }

    #[test]
    fn selectors_with_wildcards() {
        let labels: BTreeMap<String, String> =
            [("app.kubernetes.io/name".to_string(), "web".to_string())].into();
        assert!(selector_matches(
            &json!({"matchLabels": {"app.kubernetes.io/*": "*"}}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"team": "*"}}),
            &labels
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}),
            &labels
        ));
    }
}
