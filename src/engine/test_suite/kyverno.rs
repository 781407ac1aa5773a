//! `kyverno test` suites (`cli.kyverno.io/v1alpha1 Test`): loads the policies, resources,
//! exceptions, values file (global, per-rule and per-resource values, namespace labels) and user
//! info a `kyverno-test.yaml` names, runs the Kyverno engine, and compares every expected result
//! (`policy`, `rule`, `resources`/`resource`, `kind`, `namespace`, `result`) with the engine's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{CaseOutcome, CaseResult, SuiteResult, SuiteSource, parse_documents};
use crate::engine::admission::kyverno::exceptions::PolicyException;
use crate::engine::admission::kyverno::validating_policy::{self, PolicyRequest, ValidatingPolicy};
use crate::engine::admission::kyverno::{
    self, Policy, Request, RuleResult, RuleStatus, UserInfo, string_map,
};
use crate::engine::cel::admission::with_namespace;

const POD_CONTROLLERS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

/// Whether a file is a Kyverno test suite.
pub fn is_suite_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name == "kyverno-test.yaml" || name == "kyverno-test.yml")
}

/// A policy of another family the suite names (CEL policies): reported unknown.
struct OtherPolicy {
    kind: String,
    name: String,
}

/// Everything a suite loads.
struct Suite {
    name: String,
    policies: Vec<Policy>,
    validating_policies: Vec<ValidatingPolicy>,
    other_policies: Vec<OtherPolicy>,
    resources: Vec<Value>,
    exceptions: Vec<PolicyException>,
    values: Values,
    user_info: UserInfo,
    results: Vec<Value>,
    unsupported: Option<String>,
    /// The test's `Context` file (objects and image metadata for CEL lookups), as CEL data.
    lookups: Option<crate::engine::cel::cel::Value>,
}

/// The values file.
#[derive(Debug, Default)]
struct Values {
    global: Vec<(String, Value)>,
    /// policy → rule → values
    rules: BTreeMap<String, BTreeMap<String, Vec<(String, Value)>>>,
    /// policy → resource name → values
    resources: BTreeMap<String, BTreeMap<String, Vec<(String, Value)>>>,
    namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// namespace → annotations, from the `namespaces` objects (ValidatingPolicies read them
    /// through `namespaceObject`).
    namespace_annotations: BTreeMap<String, BTreeMap<String, String>>,
}

fn pairs(value: Option<&Value>) -> Vec<(String, Value)> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

impl Values {
    fn from_value(document: &Value) -> Values {
        let mut values = Values {
            global: pairs(document.get("globalValues")),
            ..Values::default()
        };
        for policy in document
            .get("policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = policy
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            for rule in policy
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
                values
                    .rules
                    .entry(name.clone())
                    .or_default()
                    .insert(rule_name.to_string(), pairs(rule.get("values")));
            }
            for resource in policy
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let resource_name = resource
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                values
                    .resources
                    .entry(name.clone())
                    .or_default()
                    .insert(resource_name.to_string(), pairs(resource.get("values")));
            }
        }
        for entry in document
            .get("namespaceSelector")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = entry.get("name").and_then(Value::as_str) {
                values
                    .namespace_labels
                    .insert(name.to_string(), string_map(entry.get("labels")));
            }
        }
        for namespace in document
            .get("namespaces")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = namespace.pointer("/metadata/name").and_then(Value::as_str) {
                values.namespace_labels.insert(
                    name.to_string(),
                    string_map(namespace.pointer("/metadata/labels")),
                );
                let annotations = string_map(namespace.pointer("/metadata/annotations"));
                if !annotations.is_empty() {
                    values
                        .namespace_annotations
                        .insert(name.to_string(), annotations);
                }
            }
        }
        values
    }
}

fn relative(base: &Path, file: &str) -> PathBuf {
    let file = file.trim();
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| item.trim().to_string())
            .collect(),
        Some(Value::String(text)) => vec![text.trim().to_string()],
        _ => Vec::new(),
    }
}

fn load_documents(
    base: &Path,
    files: &[String],
    source: &dyn SuiteSource,
) -> Result<Vec<Value>, String> {
    let mut documents = Vec::new();
    for file in files {
        let path = relative(base, file);
        if file.starts_with("http://") || file.starts_with("https://") {
            return Err(format!("`{file}`: remote files are not read"));
        }
        let paths = if source.is_dir(&path) {
            let mut entries: Vec<PathBuf> = source
                .list(&path)?
                .into_iter()
                .filter(|entry| {
                    entry
                        .extension()
                        .and_then(|extension| extension.to_str())
                        .is_some_and(|extension| matches!(extension, "yaml" | "yml" | "json"))
                })
                .collect();
            entries.sort();
            entries
        } else {
            vec![path]
        };
        for path in paths {
            let text = source
                .read(&path)
                .map_err(|error| format!("`{}`: {error}", path.display()))?;
            documents.extend(
                parse_documents(&text).map_err(|error| format!("`{}`: {error}", path.display()))?,
            );
        }
    }
    Ok(documents)
}

fn load_suite(file: &Path, source: &dyn SuiteSource) -> Result<Suite, String> {
    let base = file.parent().unwrap_or(Path::new("."));
    let text = source
        .read(file)
        .map_err(|error| format!("`{}`: {error}", file.display()))?;
    let document = parse_documents(&text)?
        .into_iter()
        .next()
        .ok_or_else(|| "the test file is empty".to_string())?;
    let name = document
        .pointer("/metadata/name")
        .or_else(|| document.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut policies = Vec::new();
    let mut validating_policies = Vec::new();
    let mut other_policies = Vec::new();
    for policy in load_documents(base, &string_list(document.get("policies")), source)? {
        if let Some(parsed) = Policy::from_value(&policy) {
            policies.push(parsed);
        } else if let Some(parsed) = ValidatingPolicy::from_value(&policy) {
            validating_policies.push(parsed);
        } else if let (Some(kind), Some(name)) = (
            policy.get("kind").and_then(Value::as_str),
            policy.pointer("/metadata/name").and_then(Value::as_str),
        ) {
            other_policies.push(OtherPolicy {
                kind: kind.to_string(),
                name: name.to_string(),
            });
        }
    }
    let resources = load_documents(base, &string_list(document.get("resources")), source)?;
    let exceptions = load_documents(base, &string_list(document.get("exceptions")), source)?
        .iter()
        .filter_map(PolicyException::from_value)
        .collect();
    let values = match document.get("variables").and_then(Value::as_str) {
        Some(file) => load_documents(base, &[file.to_string()], source)?
            .first()
            .map(Values::from_value)
            .unwrap_or_default(),
        None => Values::default(),
    };
    let user_info = match document.get("userinfo").and_then(Value::as_str) {
        Some(file) => load_documents(base, &[file.to_string()], source)?
            .first()
            .map(|info| UserInfo {
                username: info
                    .pointer("/userInfo/username")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                groups: string_list(info.pointer("/userInfo/groups")),
                roles: string_list(info.get("roles")),
                cluster_roles: string_list(info.get("clusterRoles")),
            })
            .unwrap_or_default(),
        None => UserInfo::default(),
    };
    let lookups = match document.get("context").and_then(Value::as_str) {
        Some(file) => Some(load_context(base, file, source)?),
        None => None,
    };
    let unsupported = ["checks"]
        .into_iter()
        .find(|field| document.get(*field).is_some_and(|value| !value.is_null()))
        .map(|field| format!("`{field}` in test files is not supported yet"));
    Ok(Suite {
        name,
        policies,
        validating_policies,
        other_policies,
        resources,
        exceptions,
        values,
        user_info,
        results: document
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        unsupported,
        lookups,
    })
}

/// A `cli.kyverno.io/v1alpha1` `Context` file: `spec.resources` (objects `resource.Get` and
/// `resource.List` find) and `spec.images` (`image.GetMetadata` answers, by `image`).
fn load_context(
    base: &Path,
    file: &str,
    source: &dyn SuiteSource,
) -> Result<crate::engine::cel::cel::Value, String> {
    let documents = load_documents(base, &[file.to_string()], source)?;
    let context = documents
        .iter()
        .find(|document| document.get("kind").and_then(Value::as_str) == Some("Context"))
        .ok_or_else(|| format!("`{file}`: no `Context` document"))?;
    let objects: Vec<Value> = context
        .pointer("/spec/resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut images = Vec::new();
    for (index, entry) in context
        .pointer("/spec/images")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let reference = entry.get("image").and_then(Value::as_str).ok_or_else(|| {
            format!("`{file}`: `spec.images[{index}].image` is missing or not a string")
        })?;
        images.push((reference.to_string(), entry.clone()));
    }
    crate::engine::cel::lookups::lookups(&objects, &images)
        .map_err(|error| format!("`{file}`: {error}"))
}

/// Runs one `kyverno-test.yaml`.
pub fn run_suite(file: &Path, source: &dyn SuiteSource) -> SuiteResult {
    let display = file.display().to_string();
    match load_suite(file, source) {
        Ok(suite) => SuiteResult {
            file: display,
            name: suite.name.clone(),
            engine: "kyverno".to_string(),
            cases: run_cases(&suite),
            error: None,
        },
        Err(error) => SuiteResult {
            file: display,
            name: String::new(),
            engine: "kyverno".to_string(),
            cases: Vec::new(),
            error: Some(error),
        },
    }
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn resource_label(resource: &Value) -> String {
    let kind = text(resource, "kind");
    let name = resource
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match resource
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        Some(namespace) if !namespace.is_empty() => format!("{kind}/{namespace}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

/// The rule's kind, for reports.
fn rule_kind(policy: &Policy, rule: &str) -> String {
    let base = rule
        .strip_prefix("autogen-cronjob-")
        .or_else(|| rule.strip_prefix("autogen-"))
        .unwrap_or(rule);
    policy
        .rules
        .iter()
        .find(|candidate| {
            candidate
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name == rule || name == base)
        })
        .and_then(|candidate| {
            ["validate", "mutate", "generate", "verifyImages"]
                .into_iter()
                .find(|kind| candidate.get(*kind).is_some())
        })
        .unwrap_or_default()
        .to_string()
}

fn run_cases(suite: &Suite) -> Vec<CaseResult> {
    let mut cache: BTreeMap<(usize, usize), Vec<RuleResult>> = BTreeMap::new();
    let mut cases = Vec::new();
    for expected in &suite.results {
        let policy_name = text(expected, "policy");
        let rule = text(expected, "rule");
        let kind = text(expected, "kind");
        let namespace = text(expected, "namespace");
        let expected_result = {
            let result = text(expected, "result");
            if result.is_empty() {
                text(expected, "status")
            } else {
                result
            }
        }
        .to_lowercase();
        let mut names = string_list(expected.get("resources"));
        names.extend(string_list(expected.get("resource")));
        let base_case = |resource: String| CaseResult {
            policy: policy_name.clone(),
            rule: rule.clone(),
            resource,
            expected: expected_result.clone(),
            actual: String::new(),
            outcome: CaseOutcome::Unknown,
            reason: String::new(),
            policy_kind: String::new(),
            rule_kind: String::new(),
        };
        let policy_index = suite.policies.iter().position(|policy| {
            policy.key() == policy_name
                || policy.name == policy_name
                || policy_name.rsplit('/').next() == Some(policy.name.as_str())
        });
        let Some(policy_index) = policy_index else {
            if let Some(validating) = suite.validating_policies.iter().find(|candidate| {
                candidate.name == policy_name
                    || policy_name.rsplit('/').next() == Some(candidate.name.as_str())
            }) {
                for name in &names {
                    let matching = matching_resources(suite, &kind, &namespace, name);
                    if matching.is_empty() {
                        let mut case = base_case(format!("{kind}/{name}"));
                        case.outcome = CaseOutcome::Fail;
                        case.policy_kind = validating.kind.clone();
                        case.rule_kind = "cel".to_string();
                        case.reason = format!("resource `{name}` is not in the suite's resources");
                        cases.push(case);
                        continue;
                    }
                    for resource_index in matching {
                        let resource = &suite.resources[resource_index];
                        let mut case = base_case(resource_label(resource));
                        case.policy_kind = validating.kind.clone();
                        case.rule_kind = "cel".to_string();
                        let result = evaluate_validating(suite, validating, resource);
                        compare(
                            &mut case,
                            result.as_ref().map(|result| vec![result]),
                            suite.unsupported.as_deref(),
                        );
                        cases.push(case);
                    }
                }
                continue;
            }
            for name in &names {
                let mut case = base_case(format!("{kind}/{name}"));
                match suite
                    .other_policies
                    .iter()
                    .find(|other| other.name == policy_name)
                {
                    Some(other) => {
                        case.policy_kind = other.kind.clone();
                        case.rule_kind = "cel".to_string();
                        case.actual = "unknown".to_string();
                        case.reason = format!("`{}` policies are not evaluated", other.kind);
                    }
                    None => {
                        case.outcome = CaseOutcome::Fail;
                        case.reason =
                            format!("policy `{policy_name}` is not in the suite's policies");
                    }
                }
                cases.push(case);
            }
            continue;
        };
        let policy = &suite.policies[policy_index];
        for name in &names {
            let matching = matching_resources(suite, &kind, &namespace, name);
            if matching.is_empty() {
                let mut case = base_case(format!("{kind}/{name}"));
                case.outcome = CaseOutcome::Fail;
                case.policy_kind = policy.kind.clone();
                case.rule_kind = rule_kind(policy, &rule);
                case.reason = format!("resource `{name}` is not in the suite's resources");
                cases.push(case);
                continue;
            }
            for resource_index in matching {
                let resource = &suite.resources[resource_index];
                let results = cache
                    .entry((policy_index, resource_index))
                    .or_insert_with(|| evaluate(suite, policy, resource));
                let mut case = base_case(resource_label(resource));
                case.policy_kind = policy.kind.clone();
                case.rule_kind = rule_kind(policy, &rule);
                let actual = find_result(results, &rule, &text(resource, "kind"));
                compare(&mut case, actual, suite.unsupported.as_deref());
                cases.push(case);
            }
        }
    }
    cases
}

/// The suite's resources a result names (`name` or `namespace/name`, of `kind`).
fn matching_resources(suite: &Suite, kind: &str, namespace: &str, name: &str) -> Vec<usize> {
    let (resource_namespace, resource_name) = match name.split_once('/') {
        Some((namespace, name)) if namespace_given(name) => {
            (namespace.to_string(), name.to_string())
        }
        _ => (namespace.to_string(), name.to_string()),
    };
    suite
        .resources
        .iter()
        .enumerate()
        .filter(|(_, resource)| {
            resource.pointer("/metadata/name").and_then(Value::as_str)
                == Some(resource_name.as_str())
                && (kind.is_empty()
                    || text(resource, "kind") == kind
                    || kind.ends_with(&format!("/{}", text(resource, "kind"))))
                && (resource_namespace.is_empty()
                    || resource
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .filter(|namespace| !namespace.is_empty())
                        .unwrap_or("default")
                        == resource_namespace)
        })
        .map(|(index, _)| index)
        .collect()
}

/// `ns/name` in `resources` names a namespace unless the part after `/` is empty.
fn namespace_given(name: &str) -> bool {
    !name.is_empty()
}

fn find_result<'a>(
    results: &'a [RuleResult],
    rule: &str,
    resource_kind: &str,
) -> Option<Vec<&'a RuleResult>> {
    if rule.is_empty() {
        let all: Vec<&RuleResult> = results.iter().collect();
        return (!all.is_empty()).then_some(all);
    }
    if let Some(found) = results.iter().find(|result| result.rule == rule) {
        return Some(vec![found]);
    }
    if POD_CONTROLLERS.contains(&resource_kind) {
        let generated = if resource_kind == "CronJob" {
            format!("autogen-cronjob-{rule}")
        } else {
            format!("autogen-{rule}")
        };
        let generated: String = generated.chars().take(63).collect();
        if let Some(found) = results.iter().find(|result| result.rule == generated) {
            return Some(vec![found]);
        }
    }
    None
}

fn compare(case: &mut CaseResult, actual: Option<Vec<&RuleResult>>, unsupported: Option<&str>) {
    let Some(actual) = actual else {
        // the rule did not apply to the resource
        case.actual = "skip".to_string();
        case.reason = "the rule does not apply to the resource".to_string();
        case.outcome = if case.expected == "skip" {
            CaseOutcome::Pass
        } else {
            CaseOutcome::Fail
        };
        return;
    };
    let status = if actual
        .iter()
        .any(|result| result.status == RuleStatus::Unknown)
    {
        RuleStatus::Unknown
    } else {
        actual
            .iter()
            .map(|result| result.status)
            .max_by_key(|status| match status {
                RuleStatus::Error => 5,
                RuleStatus::Fail => 4,
                RuleStatus::Warn => 3,
                RuleStatus::Pass => 2,
                RuleStatus::Skip => 1,
                RuleStatus::Unknown => 0,
            })
            .unwrap_or(RuleStatus::Skip)
    };
    case.actual = status.as_str().to_string();
    case.reason = actual
        .iter()
        .map(|result| result.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    case.outcome = if status == RuleStatus::Unknown {
        CaseOutcome::Unknown
    } else if status.as_str() == case.expected {
        CaseOutcome::Pass
    } else if let Some(unsupported) = unsupported {
        case.reason = format!("{unsupported}; {}", case.reason);
        CaseOutcome::Unknown
    } else {
        CaseOutcome::Fail
    };
}

fn evaluate(suite: &Suite, policy: &Policy, resource: &Value) -> Vec<RuleResult> {
    let resource_name = resource
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut variables = suite.values.global.clone();
    let policy_resources = suite
        .values
        .resources
        .get(&policy.name)
        .or_else(|| suite.values.resources.get(&policy.key()));
    if let Some(values) = policy_resources.and_then(|resources| resources.get(resource_name)) {
        variables.extend(values.iter().cloned());
    }
    let rule_variables = suite
        .values
        .rules
        .get(&policy.name)
        .or_else(|| suite.values.rules.get(&policy.key()))
        .cloned()
        .unwrap_or_default();
    let operation = variables
        .iter()
        .rev()
        .find(|(key, _)| key == "request.operation")
        .and_then(|(_, value)| value.as_str())
        .unwrap_or("CREATE")
        .to_string();
    let namespace = resource
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace_labels = suite.values.namespace_labels.get(namespace).cloned();
    let mut request = Request::new(resource);
    request.operation = operation;
    request.user_info = suite.user_info.clone();
    request.namespace_labels = namespace_labels;
    request.variables = variables;
    request.rule_variables = rule_variables;
    request.exceptions = &suite.exceptions;
    kyverno::evaluate(policy, &request)
}

fn evaluate_validating(
    suite: &Suite,
    policy: &ValidatingPolicy,
    resource: &Value,
) -> Option<RuleResult> {
    let operation = suite
        .values
        .global
        .iter()
        .rev()
        .find(|(key, _)| key == "request.operation")
        .and_then(|(_, value)| value.as_str())
        .unwrap_or("CREATE")
        .to_string();
    let (resource, mut namespace_object) = with_namespace(resource, |namespace| {
        let mut labels = suite
            .values
            .namespace_labels
            .get(namespace)
            .cloned()
            .unwrap_or_default();
        labels
            .entry("kubernetes.io/metadata.name".to_string())
            .or_insert_with(|| namespace.to_string());
        labels
    });
    if let Some(metadata) = namespace_object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        && let Some(annotations) = metadata
            .get("name")
            .and_then(Value::as_str)
            .and_then(|name| suite.values.namespace_annotations.get(name))
    {
        metadata.insert(
            "annotations".to_string(),
            serde_json::to_value(annotations).unwrap_or(Value::Null),
        );
    }
    let request = PolicyRequest {
        resource: &resource,
        old_resource: None,
        operation: &operation,
        user_info: &suite.user_info,
        namespace_object: (!namespace_object.is_null()).then_some(&namespace_object),
        lookups: suite.lookups.as_ref(),
    };
    validating_policy::evaluate(policy, &request)
}
