//! Kyverno: ClusterPolicy and Policy (`kyverno.io`, one Admission constraint per rule), the CEL
//! policy kinds of `policies.kyverno.io` (ValidatingPolicy, ImageValidatingPolicy, MutatingPolicy,
//! GeneratingPolicy and their Namespaced forms: one constraint per policy), and PolicyExceptions
//! (read, never a constraint: they add exclusions to the rules they name).

use serde_json::Value;

use super::fields::{selector, strings};
use super::registry::{Adapter, AdapterOutput};
use crate::index::wildcard_matches;
use crate::model::details::kyverno::{
    ExceptionReference, FailureActionOverride, KyvernoDetails, UserFilter,
};
use crate::model::selector::{Operator, Requirement};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{Object, Snapshot};

pub struct KyvernoAdapter;

const CLASSIC_GROUP: &str = "kyverno.io";
const CEL_GROUP: &str = "policies.kyverno.io";
const EXCEPTION_KIND: &str = "PolicyException";
const AUTOGEN_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

const KINDS: &[(&str, &str)] = &[
    (CLASSIC_GROUP, "ClusterPolicy"),
    (CLASSIC_GROUP, "Policy"),
    (CLASSIC_GROUP, EXCEPTION_KIND),
    (CEL_GROUP, "ValidatingPolicy"),
    (CEL_GROUP, "NamespacedValidatingPolicy"),
    (CEL_GROUP, "ImageValidatingPolicy"),
    (CEL_GROUP, "NamespacedImageValidatingPolicy"),
    (CEL_GROUP, "MutatingPolicy"),
    (CEL_GROUP, "NamespacedMutatingPolicy"),
    (CEL_GROUP, "GeneratingPolicy"),
    (CEL_GROUP, "NamespacedGeneratingPolicy"),
    (CEL_GROUP, EXCEPTION_KIND),
];

/// The pod controllers Kyverno auto-generates Pod rules for.
const POD_CONTROLLERS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

/// CEL policy autogen: `spec.autogen.podControllers.controllers` values and the resources they add.
const CEL_POD_CONTROLLERS: &[(&str, &str)] = &[
    ("daemonsets", "apps/daemonsets"),
    ("deployments", "apps/deployments"),
    ("replicasets", "apps/replicasets"),
    ("statefulsets", "apps/statefulsets"),
    ("jobs", "batch/jobs"),
    ("cronjobs", "batch/cronjobs"),
];

/// Kinds a wildcard kind pattern is expanded against, so the index can match workloads.
const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

const RULE_TYPES: &[&str] = &["validate", "mutate", "generate", "verifyImages"];
const VALIDATION_FORMS: &[&str] = &[
    "pattern",
    "anyPattern",
    "deny",
    "foreach",
    "podSecurity",
    "cel",
    "manifests",
    "assert",
];

impl Adapter for KyvernoAdapter {
    fn name(&self) -> &'static str {
        "kyverno"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        KINDS
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let group_kind = object.group_kind();
        let mut problems = Vec::new();
        match (group_kind.group.as_str(), group_kind.kind.as_str()) {
            (_, EXCEPTION_KIND) => check_exception(object, &mut problems),
            (CLASSIC_GROUP, "ClusterPolicy" | "Policy") => {
                let constraints = rule_policy_constraints(object, snapshot, &mut problems);
                output.constraints.extend(constraints);
            }
            (CEL_GROUP, _) => {
                if let Some(constraint) = cel_policy_constraint(object, snapshot, &mut problems) {
                    output.constraints.push(constraint);
                }
            }
            _ => {}
        }
        for problem in problems {
            output.diagnose(self, object, problem);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resource filters (match / exclude blocks of rules and of PolicyExceptions)

/// One resource filter of a match or exclude block.
#[derive(Debug, Clone, Default)]
struct ResourceFilter {
    kinds: Vec<String>,
    names: Vec<String>,
    namespaces: Vec<String>,
    selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    operations: Vec<String>,
    annotations: Option<Value>,
    users: Option<UserFilter>,
}

impl ResourceFilter {
    fn has_resource_criteria(&self) -> bool {
        !self.kinds.is_empty()
            || !self.names.is_empty()
            || !self.namespaces.is_empty()
            || self.selector.is_some()
            || self.namespace_selector.is_some()
            || !self.operations.is_empty()
            || self.annotations.is_some()
    }

    /// Whether this filter, used as an exclusion, removes workloads outright: it has criteria the
    /// index can evaluate, no user criteria, no annotation criteria, and covers CREATE.
    fn excludes_workloads(&self) -> bool {
        self.has_resource_criteria()
            && self.users.is_none()
            && self.annotations.is_none()
            && covers_create(&self.operations)
    }

    fn contains_pod(&self) -> bool {
        self.kinds.iter().any(|kind| parse_kind(kind).0 == "Pod")
    }
}

/// A match or exclude block: alternatives (`any`) or a conjunction (`all`, or the flat form).
#[derive(Debug, Clone, Default)]
struct FilterBlock {
    any: bool,
    filters: Vec<ResourceFilter>,
}

impl FilterBlock {
    fn kinds(&self) -> Vec<String> {
        let mut kinds = Vec::new();
        for filter in &self.filters {
            for kind in &filter.kinds {
                add_unique(&mut kinds, kind);
            }
        }
        kinds
    }

    fn users(&self) -> Vec<UserFilter> {
        self.filters
            .iter()
            .filter_map(|filter| filter.users.clone())
            .collect()
    }
}

fn read_block(
    value: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<FilterBlock> {
    let block = match value {
        None | Some(Value::Null) => return None,
        Some(block @ Value::Object(_)) => block,
        Some(_) => {
            problems.push(format!("{path}: must be a mapping; ignored"));
            return None;
        }
    };
    for (field, any) in [("any", true), ("all", false)] {
        match block.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.is_empty() => {}
            Some(Value::Array(items)) => {
                let filters = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        read_filter(item, &format!("{path}.{field}[{index}]"), problems)
                    })
                    .collect();
                return Some(FilterBlock { any, filters });
            }
            Some(_) => {
                problems.push(format!("{path}.{field}: must be a list; ignored"));
            }
        }
    }
    Some(FilterBlock {
        any: false,
        filters: vec![read_filter(block, path, problems)],
    })
}

/// A resource filter: `resources` (a resource description) plus the requester filters.
fn read_filter(value: &Value, path: &str, problems: &mut Vec<String>) -> ResourceFilter {
    let mut filter = ResourceFilter::default();
    if !value.is_object() {
        problems.push(format!("{path}: must be a mapping; ignored"));
        return filter;
    }
    match value.get("resources") {
        None | Some(Value::Null) => {}
        Some(resources @ Value::Object(_)) => {
            let path = format!("{path}.resources");
            let list = |field: &str, problems: &mut Vec<String>| {
                string_list(resources.get(field), &format!("{path}.{field}"), problems)
            };
            filter.kinds = list("kinds", problems);
            filter.names = list("names", problems);
            if let Some(name) = resources.get("name").and_then(Value::as_str)
                && !name.is_empty()
            {
                add_unique(&mut filter.names, name);
            }
            filter.namespaces = list("namespaces", problems);
            filter.operations = list("operations", problems);
            filter.selector = selector(
                resources.get("selector"),
                &format!("{path}.selector"),
                problems,
            );
            filter.namespace_selector = selector(
                resources.get("namespaceSelector"),
                &format!("{path}.namespaceSelector"),
                problems,
            );
            filter.annotations = resources
                .get("annotations")
                .filter(|annotations| !annotations.is_null())
                .cloned();
        }
        Some(_) => problems.push(format!("{path}.resources: must be a mapping; ignored")),
    }
    let subjects = match value.get("subjects") {
        Some(Value::Array(items)) => items.iter().filter_map(describe_subject).collect(),
        _ => Vec::new(),
    };
    let roles = string_list(value.get("roles"), &format!("{path}.roles"), problems);
    let cluster_roles = string_list(
        value.get("clusterRoles"),
        &format!("{path}.clusterRoles"),
        problems,
    );
    if !subjects.is_empty() || !roles.is_empty() || !cluster_roles.is_empty() {
        filter.users = Some(UserFilter {
            subjects,
            roles,
            cluster_roles,
        });
    }
    filter
}

/// `User:alice`, `Group:devs`, `ServiceAccount:ns/name`.
fn describe_subject(subject: &Value) -> Option<String> {
    let kind = subject
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("User");
    let name = subject.get("name").and_then(Value::as_str)?;
    Some(match subject.get("namespace").and_then(Value::as_str) {
        Some(namespace) if !namespace.is_empty() => format!("{kind}:{namespace}/{name}"),
        _ => format!("{kind}:{name}"),
    })
}

/// Splits a Kyverno kind selector (`Pod`, `v1/Pod`, `apps/v1/Deployment`, `Pod/exec`, `Pod.status`,
/// `*`, `*/*`) into the kind and its subresource.
fn parse_kind(raw: &str) -> (String, Option<String>) {
    let is_version = |part: &str| {
        part == "*"
            || (part.starts_with('v')
                && part[1..].starts_with(|character: char| character.is_ascii_digit()))
    };
    let split_dot = |part: &str| match part.split_once('.') {
        Some((kind, subresource)) => (kind.to_string(), Some(subresource.to_string())),
        None => (part.to_string(), None),
    };
    let parts: Vec<&str> = raw.split('/').collect();
    match parts.as_slice() {
        [kind] => split_dot(kind),
        ["*", "*"] => ("*".to_string(), None),
        [first, second] if is_version(first) => split_dot(second),
        [kind, subresource] => (kind.to_string(), Some(subresource.to_string())),
        [first, second, third] if is_version(first) => {
            (second.to_string(), Some(third.to_string()))
        }
        [_, _, kind] => split_dot(kind),
        [_, _, kind, subresource] => (kind.to_string(), Some(subresource.to_string())),
        _ => (raw.to_string(), None),
    }
}

/// Kind names for the scope: subresources stand for their parent kind (a `Pod/exec` rule concerns
/// the pod), wildcard patterns are expanded against the workload kinds, Pod adds `controllers`.
fn kind_resources(kinds: &[String], controllers: &[String]) -> Vec<String> {
    let mut resources = Vec::new();
    for raw in kinds {
        let (kind, _subresource) = parse_kind(raw);
        if kind == "*" {
            add_unique(&mut resources, "*");
            continue;
        }
        if kind.contains(['*', '?']) {
            for workload in WORKLOAD_KINDS {
                if wildcard_matches(&kind, workload) {
                    add_unique(&mut resources, workload);
                }
            }
        }
        add_unique(&mut resources, &kind);
        if kind == "Pod" {
            for controller in controllers {
                add_unique(&mut resources, controller);
            }
        }
    }
    resources
}

fn filter_scope(filter: &ResourceFilter, controllers: &[String]) -> Scope {
    let some_list = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
    let controllers: &[String] = if filter.contains_pod() {
        controllers
    } else {
        &[]
    };
    Scope {
        namespaces: some_list(&filter.namespaces),
        names: some_list(&filter.names),
        namespace_selector: filter.namespace_selector.clone(),
        workload_selector: filter.selector.clone(),
        resources: (!filter.kinds.is_empty()).then(|| kind_resources(&filter.kinds, controllers)),
        operations: some_list(&filter.operations),
        ..Scope::default()
    }
}

/// The scope a match block selects, within a policy namespace (namespaced Policy) if any.
fn match_scope(namespace: Option<&String>, block: &FilterBlock, controllers: &[String]) -> Scope {
    let base = Scope {
        namespaces: namespace.map(|namespace| vec![namespace.clone()]),
        ..Scope::default()
    };
    let scopes: Vec<Scope> = block
        .filters
        .iter()
        .map(|filter| filter_scope(filter, controllers))
        .collect();
    if block.any && scopes.len() > 1 {
        Scope {
            any_of: scopes,
            ..base
        }
    } else {
        scopes.into_iter().fold(base, merge_scopes)
    }
}

/// The exclusions an exclude block contributes: one scope per `any` filter, or the conjunction.
/// Filters that depend on the requester, on annotations or on some operations only are left out:
/// they do not remove a workload outright.
fn exclusion_scopes(block: &FilterBlock, controllers: &[String]) -> Vec<Scope> {
    if block.any {
        block
            .filters
            .iter()
            .filter(|filter| filter.excludes_workloads())
            .map(|filter| filter_scope(filter, controllers))
            .collect()
    } else if !block.filters.is_empty()
        && block.filters.iter().all(ResourceFilter::excludes_workloads)
    {
        let merged = block
            .filters
            .iter()
            .map(|filter| filter_scope(filter, controllers))
            .fold(Scope::default(), merge_scopes);
        vec![merged]
    } else {
        Vec::new()
    }
}

/// The conjunction of two scopes (Kyverno `match.all`).
fn merge_scopes(left: Scope, right: Scope) -> Scope {
    Scope {
        namespaces: intersect(left.namespaces, right.namespaces, false),
        excluded_namespaces: union(left.excluded_namespaces, right.excluded_namespaces),
        namespace_selector: and_selectors(left.namespace_selector, right.namespace_selector),
        workload_selector: and_selectors(left.workload_selector, right.workload_selector),
        resources: intersect(left.resources, right.resources, true),
        operations: intersect(left.operations, right.operations, true),
        names: intersect(left.names, right.names, false),
        any_of: [left.any_of, right.any_of].concat(),
        excluded: [left.excluded, right.excluded].concat(),
        note: left.note.or(right.note),
    }
}

/// Items of each list that the other list's patterns admit (`*`/`?` wildcards).
fn intersect(
    left: Option<Vec<String>>,
    right: Option<Vec<String>>,
    ignore_case: bool,
) -> Option<Vec<String>> {
    let (left, right) = match (left, right) {
        (None, other) | (other, None) => return other,
        (Some(left), Some(right)) => (left, right),
    };
    let admits = |patterns: &[String], item: &str| {
        patterns.iter().any(|pattern| {
            if ignore_case {
                wildcard_matches(&pattern.to_ascii_lowercase(), &item.to_ascii_lowercase())
            } else {
                wildcard_matches(pattern, item)
            }
        })
    };
    let mut found: Vec<String> = Vec::new();
    let candidates = left
        .iter()
        .filter(|item| admits(&right, item))
        .chain(right.iter().filter(|item| admits(&left, item)));
    for item in candidates {
        let known = found.iter().any(|existing| {
            existing == item || (ignore_case && existing.eq_ignore_ascii_case(item))
        });
        if !known {
            found.push(item.clone());
        }
    }
    Some(found)
}

fn union(left: Option<Vec<String>>, right: Option<Vec<String>>) -> Option<Vec<String>> {
    match (left, right) {
        (None, other) | (other, None) => other,
        (Some(mut left), Some(right)) => {
            for item in right {
                add_unique(&mut left, &item);
            }
            Some(left)
        }
    }
}

fn and_selectors(
    left: Option<LabelSelector>,
    right: Option<LabelSelector>,
) -> Option<LabelSelector> {
    let (mut left, right) = match (left, right) {
        (None, other) | (other, None) => return other,
        (Some(left), Some(right)) => (left, right),
    };
    for (key, value) in right.match_labels {
        match left.match_labels.get(&key) {
            Some(existing) if existing != &value => {
                left.match_expressions.push(Requirement {
                    key,
                    operator: Operator::In,
                    values: vec![value],
                });
            }
            _ => {
                left.match_labels.insert(key, value);
            }
        }
    }
    left.match_expressions.extend(right.match_expressions);
    Some(left)
}

fn covers_create(operations: &[String]) -> bool {
    operations.is_empty()
        || operations
            .iter()
            .any(|operation| operation == "*" || operation.eq_ignore_ascii_case("CREATE"))
}

// ---------------------------------------------------------------------------------------------
// ClusterPolicy and Policy

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureAction {
    Enforce,
    Audit,
}

impl FailureAction {
    fn as_str(self) -> &'static str {
        match self {
            FailureAction::Enforce => "Enforce",
            FailureAction::Audit => "Audit",
        }
    }
}

fn read_action(
    value: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<FailureAction> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match text.to_ascii_lowercase().as_str() {
            "enforce" => Some(FailureAction::Enforce),
            "audit" => Some(FailureAction::Audit),
            _ => {
                problems.push(format!("{path}: unknown value `{text}`; read as Audit"));
                Some(FailureAction::Audit)
            }
        },
        Some(_) => {
            problems.push(format!("{path}: must be a string; ignored"));
            None
        }
    }
}

fn read_overrides(
    value: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> Vec<FailureActionOverride> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            problems.push(format!("{path}: must be a list; ignored"));
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let path = format!("{path}[{index}]");
            let action = read_action(item.get("action"), &format!("{path}.action"), problems)
                .unwrap_or(FailureAction::Audit);
            FailureActionOverride {
                action: action.as_str().to_string(),
                namespaces: string_list(
                    item.get("namespaces"),
                    &format!("{path}.namespaces"),
                    problems,
                ),
                namespace_selector: item
                    .get("namespaceSelector")
                    .filter(|selector| !selector.is_null())
                    .cloned(),
            }
        })
        .collect()
}

/// What every rule of a ClusterPolicy/Policy shares.
struct PolicySettings<'a> {
    object: &'a Object,
    /// How PolicyExceptions name the policy: `name`, or `namespace/name` for a Policy.
    identifier: String,
    default_action: FailureAction,
    default_action_source: &'static str,
    overrides: Vec<FailureActionOverride>,
    admission: bool,
    background: bool,
    failure_policy: Option<String>,
    /// Pod controllers the policy's Pod rules are auto-generated for.
    controllers: Vec<String>,
}

fn rule_policy_constraints(
    object: &Object,
    snapshot: &Snapshot,
    problems: &mut Vec<String>,
) -> Vec<Constraint> {
    let spec = object.spec();
    if !spec.is_object() {
        problems.push("spec: missing; policy ignored".to_string());
        return Vec::new();
    }
    let rules = match spec.get("rules") {
        Some(Value::Array(rules)) if !rules.is_empty() => rules,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            problems.push("spec.rules: empty; the policy has no rule".to_string());
            return Vec::new();
        }
        Some(_) => {
            problems.push("spec.rules: must be a list; policy ignored".to_string());
            return Vec::new();
        }
    };
    let written_action = read_action(
        spec.get("validationFailureAction"),
        "spec.validationFailureAction",
        problems,
    );
    let settings = PolicySettings {
        object,
        identifier: match &object.namespace {
            Some(namespace) => format!("{namespace}/{}", object.name),
            None => object.name.clone(),
        },
        default_action: written_action.unwrap_or(FailureAction::Audit),
        default_action_source: if written_action.is_some() {
            "spec.validationFailureAction"
        } else {
            "default"
        },
        overrides: read_overrides(
            spec.get("validationFailureActionOverrides"),
            "spec.validationFailureActionOverrides",
            problems,
        ),
        admission: spec
            .get("admission")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        background: spec
            .get("background")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        failure_policy: spec
            .get("failurePolicy")
            .and_then(Value::as_str)
            .map(str::to_string),
        controllers: autogen_controllers(object, rules),
    };
    let names: Vec<Option<&str>> = rules
        .iter()
        .map(|rule| rule.get("name").and_then(Value::as_str))
        .collect();
    let mut seen: Vec<String> = Vec::new();
    let mut constraints = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let name = match names[index] {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => {
                let generated = format!("rule-{index}");
                problems.push(format!(
                    "spec.rules[{index}].name: missing; named `{generated}`"
                ));
                generated
            }
        };
        if is_autogen_copy(&name, &names) {
            continue;
        }
        if seen.contains(&name) {
            problems.push(format!(
                "spec.rules[{index}].name: duplicate rule name `{name}`; rule ignored"
            ));
            continue;
        }
        seen.push(name.clone());
        if let Some(constraint) = rule_constraint(&settings, rule, index, &name, snapshot, problems)
        {
            constraints.push(constraint);
        }
    }
    constraints
}

/// An `autogen-…` rule that older Kyverno versions wrote into `spec.rules` next to its Pod rule:
/// the Pod rule's constraint already covers the controllers.
fn is_autogen_copy(name: &str, names: &[Option<&str>]) -> bool {
    let base = name
        .strip_prefix("autogen-cronjob-")
        .or_else(|| name.strip_prefix("autogen-"));
    base.is_some_and(|base| names.contains(&Some(base)))
}

/// Pod controllers the policy's Pod rules also apply to: Kyverno generates them unless a rule
/// makes it impossible (generate, JSON patches, names/selectors/annotations, mixed kinds) or the
/// `pod-policies.kyverno.io/autogen-controllers` annotation narrows or disables it.
fn autogen_controllers(object: &Object, rules: &[Value]) -> Vec<String> {
    if !can_autogen(rules) {
        return Vec::new();
    }
    let all = || {
        POD_CONTROLLERS
            .iter()
            .map(|kind| kind.to_string())
            .collect()
    };
    match object
        .annotations()
        .get(AUTOGEN_ANNOTATION)
        .map(String::as_str)
    {
        None | Some("") | Some("all") => all(),
        Some("none") => Vec::new(),
        Some(list) => {
            let requested: Vec<&str> = list.split(',').map(str::trim).collect();
            POD_CONTROLLERS
                .iter()
                .filter(|controller| requested.contains(controller))
                .map(|controller| controller.to_string())
                .collect()
        }
    }
}

fn can_autogen(rules: &[Value]) -> bool {
    let mut needed = false;
    for rule in rules {
        if rule.get("generate").is_some_and(|block| !block.is_null()) {
            return false;
        }
        let mutate = rule.get("mutate").unwrap_or(&Value::Null);
        let json_patch = |block: &Value| {
            block
                .get("patchesJson6902")
                .and_then(Value::as_str)
                .is_some_and(|patch| !patch.is_empty())
        };
        if json_patch(mutate) {
            return false;
        }
        if let Some(Value::Array(entries)) = mutate.get("foreach")
            && entries.iter().any(json_patch)
        {
            return false;
        }
        for block in [rule.get("match"), rule.get("exclude")]
            .into_iter()
            .flatten()
        {
            for description in resource_descriptions(block) {
                let present =
                    |field: &str| description.get(field).is_some_and(|value| !value.is_null());
                let kinds = strings(description.get("kinds"));
                let names_given = description
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| !name.is_empty())
                    || !strings(description.get("names")).is_empty();
                let mixed = kinds.len() > 1 && kinds.iter().any(|kind| parse_kind(kind).0 == "Pod");
                if names_given || present("selector") || present("annotations") || mixed {
                    return false;
                }
                needed |= kinds
                    .iter()
                    .any(|kind| kind == "Pod" || POD_CONTROLLERS.contains(&kind.as_str()));
            }
        }
    }
    needed
}

/// The `resources` descriptions of a match/exclude block: flat form, `any[]` and `all[]`.
fn resource_descriptions(block: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    if let Some(resources) = block.get("resources") {
        found.push(resources);
    }
    for field in ["any", "all"] {
        if let Some(Value::Array(filters)) = block.get(field) {
            found.extend(filters.iter().filter_map(|filter| filter.get("resources")));
        }
    }
    found
}

/// Whether Kyverno generates controller rules from this rule: it matches Pod (and excludes Pod or
/// nothing), and its body has a form autogen rewrites.
fn rule_has_autogen(
    rule: &Value,
    rule_type: &str,
    match_block: &FilterBlock,
    exclude_block: Option<&FilterBlock>,
) -> bool {
    let has_pod = |kinds: &[String]| kinds.iter().any(|kind| parse_kind(kind).0 == "Pod");
    if !has_pod(&match_block.kinds()) {
        return false;
    }
    if let Some(exclude) = exclude_block {
        let kinds = exclude.kinds();
        if !kinds.is_empty() && !has_pod(&kinds) {
            return false;
        }
    }
    let body = rule.get(rule_type).unwrap_or(&Value::Null);
    let has = |field: &str| body.get(field).is_some_and(|value| !value.is_null());
    match rule_type {
        "validate" => [
            "pattern",
            "anyPattern",
            "deny",
            "foreach",
            "podSecurity",
            "cel",
            "assert",
        ]
        .iter()
        .any(|field| has(field)),
        "mutate" => has("patchStrategicMerge") || has("foreach"),
        "verifyImages" => true,
        _ => false,
    }
}

/// Kyverno's auto-generated rule name: `prefix-name`, cut to 63 characters.
fn autogen_rule_name(prefix: &str, name: &str) -> String {
    format!("{prefix}-{name}").chars().take(63).collect()
}

fn rule_constraint(
    settings: &PolicySettings,
    rule: &Value,
    index: usize,
    name: &str,
    snapshot: &Snapshot,
    problems: &mut Vec<String>,
) -> Option<Constraint> {
    let object = settings.object;
    let path = format!("spec.rules[{index}]");
    let present: Vec<&str> = RULE_TYPES
        .iter()
        .copied()
        .filter(|field| rule.get(*field).is_some_and(|block| !block.is_null()))
        .collect();
    let Some(rule_type) = present.first().copied() else {
        problems.push(format!(
            "{path}: no validate, mutate, generate or verifyImages block; rule ignored"
        ));
        return None;
    };
    if present.len() > 1 {
        problems.push(format!(
            "{path}: several of {}; read as `{rule_type}`",
            present.join(", ")
        ));
    }
    let Some(match_block) = read_block(rule.get("match"), &format!("{path}.match"), problems)
    else {
        problems.push(format!("{path}.match: missing; rule ignored"));
        return None;
    };
    let exclude_block = read_block(rule.get("exclude"), &format!("{path}.exclude"), problems);
    let controllers = if rule_has_autogen(rule, rule_type, &match_block, exclude_block.as_ref()) {
        settings.controllers.clone()
    } else {
        Vec::new()
    };
    let mut autogen_rules = Vec::new();
    if controllers.iter().any(|controller| controller != "CronJob") {
        autogen_rules.push(autogen_rule_name("autogen", name));
    }
    if controllers.iter().any(|controller| controller == "CronJob") {
        autogen_rules.push(autogen_rule_name("autogen-cronjob", name));
    }

    let mut scope = match_scope(object.namespace.as_ref(), &match_block, &controllers);
    let exclusions = exclude_block
        .as_ref()
        .map(|exclude| exclusion_scopes(exclude, &controllers))
        .unwrap_or_default();
    scope.excluded.extend(exclusions.iter().cloned());
    let only_for_users = match_block.users();
    let except_for_users = exclude_block
        .as_ref()
        .map(FilterBlock::users)
        .unwrap_or_default();
    let match_annotations: Vec<Value> = match_block
        .filters
        .iter()
        .filter_map(|filter| filter.annotations.clone())
        .collect();

    let body = rule.get(rule_type).cloned().unwrap_or(Value::Null);
    let validation_form = (rule_type == "validate")
        .then(|| {
            VALIDATION_FORMS
                .iter()
                .find(|form| body.get(**form).is_some_and(|value| !value.is_null()))
                .map(|form| form.to_string())
        })
        .flatten();
    if rule_type == "validate" && validation_form.is_none() {
        problems.push(format!(
            "{path}.validate: no pattern, anyPattern, deny, foreach, podSecurity, cel, manifests \
             or assert; listed without a check"
        ));
    }

    // The failure action: per rule (validate.failureAction / verifyImages[].failureAction),
    // else the policy default.
    let (action, action_source, overrides) = match rule_type {
        "validate" => {
            let rule_action = read_action(
                body.get("failureAction"),
                &format!("{path}.validate.failureAction"),
                problems,
            );
            let rule_overrides = read_overrides(
                body.get("failureActionOverrides"),
                &format!("{path}.validate.failureActionOverrides"),
                problems,
            );
            let overrides = if rule_overrides.is_empty() {
                settings.overrides.clone()
            } else {
                rule_overrides
            };
            match rule_action {
                Some(action) => (Some(action), "validate.failureAction", overrides),
                None => (
                    Some(settings.default_action),
                    settings.default_action_source,
                    overrides,
                ),
            }
        }
        "verifyImages" => {
            let mut strongest: Option<FailureAction> = None;
            if let Value::Array(entries) = &body {
                for (entry_index, entry) in entries.iter().enumerate() {
                    let action = read_action(
                        entry.get("failureAction"),
                        &format!("{path}.verifyImages[{entry_index}].failureAction"),
                        problems,
                    );
                    if action.is_some() && strongest != Some(FailureAction::Enforce) {
                        strongest = action;
                    }
                }
            }
            match strongest {
                Some(action) => (
                    Some(action),
                    "verifyImages.failureAction",
                    settings.overrides.clone(),
                ),
                None => (
                    Some(settings.default_action),
                    settings.default_action_source,
                    settings.overrides.clone(),
                ),
            }
        }
        _ => (None, "", Vec::new()),
    };
    let (effect, severity) = match (rule_type, action) {
        ("mutate" | "generate", _) => (Effect::Mutate, Severity::Info),
        (_, _) if !settings.admission => (Effect::Audit, Severity::Warning),
        ("verifyImages", Some(FailureAction::Enforce)) => (Effect::Require, Severity::Critical),
        (_, Some(FailureAction::Enforce)) => (Effect::Deny, Severity::Critical),
        _ => (Effect::Audit, Severity::Warning),
    };

    let exceptions = classic_exceptions(
        snapshot,
        &settings.identifier,
        name,
        &autogen_rules,
        &controllers,
    );
    let mut exception_references = Vec::new();
    for applied in exceptions {
        scope.excluded.extend(applied.exclusions);
        exception_references.push(applied.reference);
    }

    let cel_message = body
        .pointer("/cel/expressions")
        .and_then(Value::as_array)
        .and_then(|expressions| {
            expressions
                .iter()
                .find_map(|expression| expression.get("message").and_then(Value::as_str))
        });
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .or(cel_message)
        .map(str::to_string);
    if !only_for_users.is_empty() {
        scope.note = Some(format!(
            "only for requests by {}",
            describe_users(&only_for_users)
        ));
    }
    let details = KyvernoDetails {
        policy_kind: object.kind.clone(),
        rule_name: name.to_string(),
        rule_type: rule_type.to_string(),
        validation_form,
        failure_action: action.map(|action| action.as_str().to_string()),
        failure_action_source: action.map(|_| action_source.to_string()),
        failure_action_overrides: overrides,
        message,
        admission: settings.admission,
        background: settings.background,
        match_kinds: match_block.kinds(),
        only_for_users,
        except_for_users,
        match_annotations,
        autogen_controllers: controllers,
        autogen_rules,
        exceptions: exception_references,
        match_resources: rule.get("match").cloned().unwrap_or(Value::Null),
        exclude_resources: rule
            .get("exclude")
            .filter(|value| !value.is_null())
            .cloned(),
        body,
        preconditions: rule
            .get("preconditions")
            .filter(|value| !value.is_null())
            .cloned(),
        match_conditions: rule
            .get("celPreconditions")
            .filter(|value| !value.is_null())
            .cloned(),
        context: rule
            .get("context")
            .filter(|value| !value.is_null())
            .cloned(),
        failure_policy: settings.failure_policy.clone(),
    };
    let summary = summarize_rule(
        settings,
        &match_block,
        &scope,
        &exclusions,
        &details,
        effect,
    );
    let remediation_hint = match effect {
        Effect::Mutate => None,
        _ => Some(format!(
            "make the object pass rule `{name}` of {} `{}`, or ask its owners for a \
             PolicyException naming the rule",
            object.kind, object.name
        )),
    };
    let source = SourceReference::from_object(object);
    Some(Constraint {
        id: Constraint::make_id(&source, Some(name)),
        rule: Some(name.to_string()),
        constraint_type: ConstraintType::Admission,
        effect,
        severity,
        scope,
        summary,
        details: Details::Kyverno(details),
        remediation_hint,
        source,
    })
}

fn summarize_rule(
    settings: &PolicySettings,
    match_block: &FilterBlock,
    scope: &Scope,
    exclusions: &[Scope],
    details: &KyvernoDetails,
    effect: Effect,
) -> String {
    let body = &details.body;
    let kinds = describe_kinds(&details.match_kinds, &details.autogen_controllers);
    let mut text = match details.rule_type.as_str() {
        "mutate" => format!("mutates {kinds}"),
        "generate" => {
            let generated_kind = body
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("resources");
            match body.get("name").and_then(Value::as_str) {
                Some(name) => format!("generates {generated_kind} `{name}` for {kinds}"),
                None => format!("generates {generated_kind} for {kinds}"),
            }
        }
        "verifyImages" => {
            let mut references = Vec::new();
            if let Value::Array(entries) = body {
                for entry in entries {
                    for reference in strings(entry.get("imageReferences")) {
                        add_unique(&mut references, &reference);
                    }
                }
            }
            let verb = if effect == Effect::Require {
                "requires verified images"
            } else {
                "audits image verification"
            };
            if references.is_empty() {
                format!("{verb} on {kinds}")
            } else {
                format!("{verb} ({}) on {kinds}", references.join(","))
            }
        }
        _ => {
            let verb = if effect == Effect::Deny {
                "denies"
            } else {
                "audits"
            };
            let check = match (
                details.message.as_deref(),
                details.validation_form.as_deref(),
            ) {
                (Some(message), _) => message.trim().to_string(),
                (None, Some("podSecurity")) => format!(
                    "Pod Security `{}` ({})",
                    body.pointer("/podSecurity/level")
                        .and_then(Value::as_str)
                        .unwrap_or("?"),
                    body.pointer("/podSecurity/version")
                        .and_then(Value::as_str)
                        .unwrap_or("latest")
                ),
                (None, Some(form)) => format!("its {form} check"),
                (None, None) => "no check".to_string(),
            };
            format!("{verb} {kinds} violating: {check}")
        }
    };
    let mut clauses = Vec::new();
    if scope.any_of.is_empty() {
        if let Some(selector) = &scope.workload_selector
            && !selector.is_empty()
        {
            clauses.push(format!("with labels {selector}"));
        }
        if let Some(namespaces) = &scope.namespaces {
            clauses.push(format!("in namespaces {}", namespaces.join(",")));
        }
        if let Some(selector) = &scope.namespace_selector
            && !selector.is_empty()
        {
            clauses.push(format!("in namespaces with {selector}"));
        }
    } else {
        clauses.push(format!(
            "for any of {} resource filters",
            match_block.filters.len()
        ));
    }
    if !exclusions.is_empty() {
        let described: Vec<String> = exclusions.iter().map(describe_exclusion).collect();
        clauses.push(format!("except {}", described.join(" or ")));
    }
    let action = details.failure_action.as_deref();
    for override_entry in &details.failure_action_overrides {
        if Some(override_entry.action.as_str()) == action {
            continue;
        }
        if !override_entry.namespaces.is_empty() {
            clauses.push(format!(
                "{} in namespaces {}",
                override_entry.action,
                override_entry.namespaces.join(",")
            ));
        } else if override_entry.namespace_selector.is_some() {
            clauses.push(format!(
                "{} in namespaces its selector picks",
                override_entry.action
            ));
        }
    }
    if !details.only_for_users.is_empty() {
        clauses.push(format!(
            "only for requests by {}",
            describe_users(&details.only_for_users)
        ));
    }
    if !details.except_for_users.is_empty() {
        clauses.push(format!(
            "not for requests by {}",
            describe_users(&details.except_for_users)
        ));
    }
    if !details.match_annotations.is_empty() {
        clauses.push("only objects with matching annotations".to_string());
    }
    if !settings.admission {
        clauses.push("background scans only: `spec.admission: false`".to_string());
    }
    push_exception_clause(&details.exceptions, &mut clauses);
    if !clauses.is_empty() {
        text.push_str(" (");
        text.push_str(&clauses.join("; "));
        text.push(')');
    }
    text
}

fn push_exception_clause(exceptions: &[ExceptionReference], clauses: &mut Vec<String>) {
    if !exceptions.is_empty() {
        let names: Vec<String> = exceptions
            .iter()
            .map(|reference| {
                format!(
                    "`{}`",
                    reference.exception.trim_start_matches("PolicyException/")
                )
            })
            .collect();
        clauses.push(format!("relaxed by PolicyException {}", names.join(",")));
    }
}

/// `Pod and pod controllers`, `Pod and Deployment,Job`, `Service,Ingress`, `every kind`.
fn describe_kinds(kinds: &[String], controllers: &[String]) -> String {
    if kinds.is_empty() || kinds.iter().any(|kind| parse_kind(kind).0 == "*") {
        return "every kind".to_string();
    }
    let listed = kinds.join(",");
    if controllers.is_empty() {
        listed
    } else if controllers.len() == POD_CONTROLLERS.len() {
        format!("{listed} and pod controllers")
    } else {
        format!("{listed} and {}", controllers.join(","))
    }
}

fn describe_users(filters: &[UserFilter]) -> String {
    let mut parts = Vec::new();
    for filter in filters {
        if !filter.subjects.is_empty() {
            parts.push(filter.subjects.join(","));
        }
        if !filter.roles.is_empty() {
            parts.push(format!("roles {}", filter.roles.join(",")));
        }
        if !filter.cluster_roles.is_empty() {
            parts.push(format!("clusterRoles {}", filter.cluster_roles.join(",")));
        }
    }
    parts.join(" or ")
}

// ---------------------------------------------------------------------------------------------
// PolicyExceptions

struct AppliedException {
    reference: ExceptionReference,
    exclusions: Vec<Scope>,
}

fn exception_name(exception: &Object) -> String {
    match &exception.namespace {
        Some(namespace) => format!("PolicyException/{namespace}/{}", exception.name),
        None => format!("PolicyException/{}", exception.name),
    }
}

/// `kyverno.io` PolicyExceptions naming this rule (or its autogen rules), with the exclusions
/// they add when they hold unconditionally.
fn classic_exceptions(
    snapshot: &Snapshot,
    identifier: &str,
    rule_name: &str,
    autogen_rules: &[String],
    controllers: &[String],
) -> Vec<AppliedException> {
    let mut applied = Vec::new();
    for exception in snapshot.of_kind(CLASSIC_GROUP, EXCEPTION_KIND) {
        let spec = exception.spec();
        let Some(Value::Array(entries)) = spec.get("exceptions") else {
            continue;
        };
        let mut whole_rule = false;
        let mut exempt_controllers: Vec<String> = Vec::new();
        for entry in entries {
            let Some(policy_pattern) = entry.get("policyName").and_then(Value::as_str) else {
                continue;
            };
            if !wildcard_matches(policy_pattern, identifier) {
                continue;
            }
            for pattern in strings(entry.get("ruleNames")) {
                if wildcard_matches(&pattern, rule_name) {
                    whole_rule = true;
                }
                for autogen in autogen_rules {
                    if wildcard_matches(&pattern, autogen) {
                        let cron = autogen.starts_with("autogen-cronjob-");
                        for controller in controllers {
                            if (controller == "CronJob") == cron {
                                add_unique(&mut exempt_controllers, controller);
                            }
                        }
                    }
                }
            }
        }
        if !whole_rule && exempt_controllers.is_empty() {
            continue;
        }
        let mut ignored = Vec::new();
        let block = read_block(spec.get("match"), "spec.match", &mut ignored);
        let conditions = spec
            .get("conditions")
            .filter(|value| !value.is_null())
            .cloned();
        let pod_security_controls = match spec.get("podSecurity") {
            Some(Value::Array(controls)) => controls.clone(),
            _ => Vec::new(),
        };
        let by_users = block
            .as_ref()
            .is_some_and(|block| !block.users().is_empty());
        let mut exclusions = match &block {
            Some(block) if block.any => block
                .filters
                .iter()
                .filter(|filter| filter.has_resource_criteria())
                .map(|filter| filter_scope(filter, &[]))
                .collect(),
            Some(block)
                if block
                    .filters
                    .iter()
                    .any(ResourceFilter::has_resource_criteria) =>
            {
                vec![
                    block
                        .filters
                        .iter()
                        .map(|filter| filter_scope(filter, &[]))
                        .fold(Scope::default(), merge_scopes),
                ]
            }
            _ => Vec::new(),
        };
        if !whole_rule {
            exclusions = exclusions
                .into_iter()
                .filter_map(|scope| restrict_kinds(scope, &exempt_controllers))
                .collect();
        }
        let conditional = conditions.is_some() || !pod_security_controls.is_empty() || by_users;
        let mut description = if exclusions.is_empty() {
            "nothing the index can evaluate".to_string()
        } else {
            exclusions
                .iter()
                .map(describe_exclusion)
                .collect::<Vec<_>>()
                .join(" or ")
        };
        if conditions.is_some() {
            description.push_str(", when its conditions hold");
        }
        if !pod_security_controls.is_empty() {
            description.push_str(", for some Pod Security controls only");
        }
        if by_users {
            description.push_str(", for some requesters only");
        }
        let applied_to_scope = !conditional && !exclusions.is_empty();
        applied.push(AppliedException {
            reference: ExceptionReference {
                exception: exception_name(exception),
                description,
                applied_to_scope,
                pod_security_controls,
                conditions,
            },
            exclusions: if applied_to_scope {
                exclusions
            } else {
                Vec::new()
            },
        });
    }
    applied
}

/// Narrows an exception's scope to the controllers its autogen rule names cover.
fn restrict_kinds(mut scope: Scope, kinds: &[String]) -> Option<Scope> {
    let restricted = match &scope.resources {
        None => kinds.to_vec(),
        Some(resources) if resources.iter().any(|resource| resource == "*") => kinds.to_vec(),
        Some(resources) => resources
            .iter()
            .filter(|resource| kinds.iter().any(|kind| kind.eq_ignore_ascii_case(resource)))
            .cloned()
            .collect(),
    };
    if restricted.is_empty() {
        return None;
    }
    scope.resources = Some(restricted);
    Some(scope)
}

/// `Pod in namespaces dev named web-*` for an exclusion.
fn describe_exclusion(scope: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(resources) = &scope.resources {
        parts.push(resources.join(","));
    }
    if let Some(names) = &scope.names {
        parts.push(format!("named {}", names.join(",")));
    }
    if let Some(selector) = &scope.workload_selector {
        parts.push(format!("with labels {selector}"));
    }
    if let Some(namespaces) = &scope.namespaces {
        parts.push(format!("in namespaces {}", namespaces.join(",")));
    }
    if let Some(selector) = &scope.namespace_selector {
        parts.push(format!("in namespaces with {selector}"));
    }
    if parts.is_empty() {
        "everything".to_string()
    } else {
        parts.join(" ")
    }
}

/// `policies.kyverno.io` PolicyExceptions whose `policyRefs` name this CEL policy.
fn cel_exceptions(snapshot: &Snapshot, policy: &Object) -> Vec<AppliedException> {
    let mut applied = Vec::new();
    for exception in snapshot.of_kind(CEL_GROUP, EXCEPTION_KIND) {
        let spec = exception.spec();
        let Some(Value::Array(references)) = spec.get("policyRefs") else {
            continue;
        };
        let named = references.iter().any(|reference| {
            let name_matches = reference
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| wildcard_matches(name, &policy.name));
            let kind_matches = reference
                .get("kind")
                .and_then(Value::as_str)
                .is_none_or(|kind| kind.is_empty() || kind == policy.kind);
            name_matches && kind_matches
        });
        if !named {
            continue;
        }
        let conditions = spec
            .get("matchConditions")
            .filter(|value| value.as_array().is_some_and(|items| !items.is_empty()))
            .cloned();
        let images = strings(spec.get("images"));
        let allowed_values = strings(spec.get("allowedValues"));
        let mut description = "every object".to_string();
        if conditions.is_some() {
            description = "objects for which its CEL matchConditions hold".to_string();
        }
        if !images.is_empty() {
            description.push_str(&format!(", images {}", images.join(",")));
        }
        if !allowed_values.is_empty() {
            description.push_str(", values the policy reads from `exceptions.allowedValues`");
        }
        let applied_to_scope =
            conditions.is_none() && images.is_empty() && allowed_values.is_empty();
        applied.push(AppliedException {
            reference: ExceptionReference {
                exception: exception_name(exception),
                description,
                applied_to_scope,
                pod_security_controls: Vec::new(),
                conditions,
            },
            exclusions: if applied_to_scope {
                vec![Scope {
                    resources: Some(vec!["*".to_string()]),
                    ..Scope::default()
                }]
            } else {
                Vec::new()
            },
        });
    }
    applied
}

/// Checks a PolicyException's own shape; it yields no constraint.
fn check_exception(object: &Object, problems: &mut Vec<String>) {
    let spec = object.spec();
    if object.group_kind().group == CEL_GROUP {
        match spec.get("policyRefs") {
            Some(Value::Array(references)) if !references.is_empty() => {
                for (index, reference) in references.iter().enumerate() {
                    if reference.get("name").and_then(Value::as_str).is_none() {
                        problems.push(format!(
                            "spec.policyRefs[{index}].name: missing; reference ignored"
                        ));
                    }
                }
            }
            _ => {
                problems.push("spec.policyRefs: missing; the exception relaxes nothing".to_string())
            }
        }
        return;
    }
    match spec.get("exceptions") {
        Some(Value::Array(entries)) if !entries.is_empty() => {
            for (index, entry) in entries.iter().enumerate() {
                if entry.get("policyName").and_then(Value::as_str).is_none() {
                    problems.push(format!(
                        "spec.exceptions[{index}].policyName: missing; entry ignored"
                    ));
                }
                if strings(entry.get("ruleNames")).is_empty() {
                    problems.push(format!(
                        "spec.exceptions[{index}].ruleNames: empty; entry relaxes no rule"
                    ));
                }
            }
        }
        _ => problems.push("spec.exceptions: missing; the exception relaxes nothing".to_string()),
    }
    if read_block(spec.get("match"), "spec.match", problems).is_none() {
        problems.push("spec.match: missing; the exception matches nothing".to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// CEL policy kinds (policies.kyverno.io)

fn cel_policy_constraint(
    object: &Object,
    snapshot: &Snapshot,
    problems: &mut Vec<String>,
) -> Option<Constraint> {
    let kind = object.kind.trim_start_matches("Namespaced");
    let rule_type = match kind {
        "ValidatingPolicy" => "validate",
        "ImageValidatingPolicy" => "verifyImages",
        "MutatingPolicy" => "mutate",
        "GeneratingPolicy" => "generate",
        _ => return None,
    };
    let spec = object.spec();
    if !spec.is_object() {
        problems.push("spec: missing; policy ignored".to_string());
        return None;
    }
    let mut scope = match spec.get("matchConstraints") {
        Some(constraints @ Value::Object(_)) => {
            read_match_constraints(constraints, "spec.matchConstraints", problems)
        }
        _ => {
            problems
                .push("spec.matchConstraints: missing; the policy matches no request".to_string());
            Scope {
                namespaces: Some(Vec::new()),
                ..Scope::default()
            }
        }
    };
    if let Some(namespace) = &object.namespace {
        scope = merge_scopes(
            Scope {
                namespaces: Some(vec![namespace.clone()]),
                ..Scope::default()
            },
            scope,
        );
    }
    let evaluation = spec.get("evaluation").unwrap_or(&Value::Null);
    let enabled = |pointer: &str| {
        evaluation
            .pointer(pointer)
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    let admission = enabled("/admission/enabled");
    let background = enabled("/background/enabled");
    let json_mode = evaluation.get("mode").and_then(Value::as_str) == Some("JSON");
    if json_mode {
        scope.namespaces = Some(Vec::new());
        scope.note = Some(
            "evaluates JSON payloads (`evaluation.mode: JSON`), not cluster objects".to_string(),
        );
    }

    let mut actions = strings(spec.get("validationActions"));
    let actions_written = !actions.is_empty();
    if !actions_written {
        actions = vec!["Deny".to_string()];
    }
    let has_action = |wanted: &str| {
        actions
            .iter()
            .any(|action| action.eq_ignore_ascii_case(wanted))
    };
    let (effect, severity) = match rule_type {
        "mutate" | "generate" => (Effect::Mutate, Severity::Info),
        _ if !admission => (Effect::Audit, Severity::Warning),
        "verifyImages" if has_action("Deny") => (Effect::Require, Severity::Critical),
        _ if has_action("Deny") => (Effect::Deny, Severity::Critical),
        _ if has_action("Warn") => (Effect::Warn, Severity::Warning),
        _ => (Effect::Audit, Severity::Warning),
    };

    let (controllers, autogen_rules) = if rule_type == "generate" {
        (Vec::new(), Vec::new())
    } else {
        cel_autogen(object, spec)
    };
    let matched_resources = scope.resources.clone().unwrap_or_default();
    if !controllers.is_empty()
        && let Some(resources) = &mut scope.resources
    {
        for (_, resource) in CEL_POD_CONTROLLERS
            .iter()
            .filter(|(name, _)| controllers.iter().any(|controller| controller == name))
        {
            add_unique(resources, resource);
        }
    }

    let mut exception_references = Vec::new();
    for applied in cel_exceptions(snapshot, object) {
        scope.excluded.extend(applied.exclusions);
        exception_references.push(applied.reference);
    }

    let mut body = spec.clone();
    if let Value::Object(fields) = &mut body {
        fields.remove("matchConstraints");
    }
    let validations = spec.get("validations").and_then(Value::as_array);
    let message = validations
        .and_then(|items| {
            items
                .iter()
                .find_map(|item| item.get("message").and_then(Value::as_str))
        })
        .map(str::to_string);
    let details = KyvernoDetails {
        policy_kind: object.kind.clone(),
        rule_name: object.name.clone(),
        rule_type: rule_type.to_string(),
        validation_form: (rule_type == "validate").then(|| "cel".to_string()),
        failure_action: matches!(rule_type, "validate" | "verifyImages").then(|| actions.join(",")),
        failure_action_source: matches!(rule_type, "validate" | "verifyImages").then(|| {
            if actions_written {
                "spec.validationActions"
            } else {
                "default"
            }
            .to_string()
        }),
        failure_action_overrides: Vec::new(),
        message: message.clone(),
        admission,
        background,
        match_kinds: matched_resources.clone(),
        only_for_users: Vec::new(),
        except_for_users: Vec::new(),
        match_annotations: Vec::new(),
        autogen_controllers: controllers.clone(),
        autogen_rules,
        exceptions: exception_references,
        match_resources: spec.get("matchConstraints").cloned().unwrap_or(Value::Null),
        exclude_resources: None,
        body,
        preconditions: None,
        match_conditions: spec
            .get("matchConditions")
            .filter(|value| !value.is_null())
            .cloned(),
        context: None,
        failure_policy: spec
            .get("failurePolicy")
            .and_then(Value::as_str)
            .map(str::to_string),
    };

    let resources_text = if matched_resources.is_empty()
        || matched_resources.iter().any(|resource| resource == "*")
    {
        "every resource".to_string()
    } else if controllers.is_empty() {
        matched_resources.join(",")
    } else if controllers.len() == CEL_POD_CONTROLLERS.len() {
        format!("{} and pod controllers", matched_resources.join(","))
    } else {
        format!(
            "{} and {}",
            matched_resources.join(","),
            controllers.join(",")
        )
    };
    let verb = match (rule_type, effect) {
        ("mutate", _) => "mutates".to_string(),
        ("generate", _) => "generates resources for".to_string(),
        ("verifyImages", Effect::Require) => "requires verified images on".to_string(),
        ("verifyImages", Effect::Warn) => "warns about image verification on".to_string(),
        ("verifyImages", _) => "audits image verification on".to_string(),
        (_, Effect::Deny) => "denies".to_string(),
        (_, Effect::Warn) => "warns on".to_string(),
        _ => "audits".to_string(),
    };
    let mut summary = format!("{verb} {resources_text}");
    if rule_type == "validate" {
        let count = validations.map(Vec::len).unwrap_or(0);
        let plural = if count == 1 { "" } else { "s" };
        summary.push_str(&format!(" failing {count} CEL validation{plural}"));
        if let Some(message) = &message {
            summary.push_str(&format!(": {}", message.trim()));
        }
    }
    let mut clauses = Vec::new();
    if !admission {
        clauses.push("background scans only: `evaluation.admission.enabled: false`".to_string());
    }
    if json_mode {
        clauses.push("JSON payloads only".to_string());
    }
    push_exception_clause(&details.exceptions, &mut clauses);
    if !clauses.is_empty() {
        summary.push_str(&format!(" ({})", clauses.join("; ")));
    }
    let remediation_hint = match effect {
        Effect::Mutate => None,
        _ => Some(format!(
            "make the object pass {} `{}`, or ask its owners for a PolicyException naming it",
            object.kind, object.name
        )),
    };
    let source = SourceReference::from_object(object);
    Some(Constraint {
        id: Constraint::make_id(&source, None),
        rule: None,
        constraint_type: ConstraintType::Admission,
        effect,
        severity,
        scope,
        summary,
        details: Details::Kyverno(details),
        remediation_hint,
        source,
    })
}

/// `matchConstraints` (the ValidatingAdmissionPolicy shape) as a scope.
fn read_match_constraints(constraints: &Value, path: &str, problems: &mut Vec<String>) -> Scope {
    let mut scope = Scope::default();
    let rules = match constraints.get("resourceRules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(rules)) => rules.clone(),
        Some(_) => {
            problems.push(format!(
                "{path}.resourceRules: must be a list; matching every resource"
            ));
            Vec::new()
        }
    };
    if !rules.is_empty() {
        let mut resources = Vec::new();
        let mut operations = Vec::new();
        let mut names = Vec::new();
        let mut every_rule_names = true;
        for rule in &rules {
            for resource in rule_resources(rule) {
                add_unique(&mut resources, &resource);
            }
            for operation in strings(rule.get("operations")) {
                add_unique(&mut operations, &operation);
            }
            let rule_names = strings(rule.get("resourceNames"));
            if rule_names.is_empty() {
                every_rule_names = false;
            }
            for name in rule_names {
                add_unique(&mut names, &name);
            }
        }
        scope.resources = Some(resources);
        scope.operations = (!operations.is_empty()).then_some(operations);
        scope.names = (every_rule_names && !names.is_empty()).then_some(names);
    }
    if let Some(Value::Array(excluded)) = constraints.get("excludeResourceRules") {
        for rule in excluded {
            if !covers_create(&strings(rule.get("operations"))) {
                continue;
            }
            let names = strings(rule.get("resourceNames"));
            scope.excluded.push(Scope {
                resources: Some(rule_resources(rule)),
                names: (!names.is_empty()).then_some(names),
                ..Scope::default()
            });
        }
    }
    scope.namespace_selector = selector(
        constraints.get("namespaceSelector"),
        &format!("{path}.namespaceSelector"),
        problems,
    );
    scope.workload_selector = selector(
        constraints.get("objectSelector"),
        &format!("{path}.objectSelector"),
        problems,
    );
    scope
}

/// `pods`, `apps/deployments`, `apps/*`, `*` from a rule's groups and resources (subresources
/// stand for their parent resource).
fn rule_resources(rule: &Value) -> Vec<String> {
    let mut groups = strings(rule.get("apiGroups"));
    if groups.is_empty() {
        groups.push(String::new());
    }
    let mut resources = Vec::new();
    for resource in strings(rule.get("resources")) {
        let parent = resource.split('/').next().unwrap_or_default().to_string();
        for group in &groups {
            let entry = match (group.as_str(), parent.as_str()) {
                ("*", "*") | ("", "*") => "*".to_string(),
                ("" | "*", _) => parent.clone(),
                (group, _) => format!("{group}/{parent}"),
            };
            add_unique(&mut resources, &entry);
        }
    }
    resources
}

/// CEL policy autogen: when the policy matches exactly core/v1 `pods` with no selectors, names or
/// exclusions, Kyverno also applies it to the pod controllers (all of them unless
/// `spec.autogen.podControllers.controllers` lists some).
fn cel_autogen(object: &Object, spec: &Value) -> (Vec<String>, Vec<String>) {
    let Some(constraints) = spec.get("matchConstraints") else {
        return (Vec::new(), Vec::new());
    };
    let selector_set = |field: &str| {
        constraints.get(field).is_some_and(|selector| {
            selector
                .get("matchLabels")
                .and_then(Value::as_object)
                .is_some_and(|labels| !labels.is_empty())
                || selector
                    .get("matchExpressions")
                    .and_then(Value::as_array)
                    .is_some_and(|expressions| !expressions.is_empty())
        })
    };
    if selector_set("namespaceSelector") || selector_set("objectSelector") {
        return (Vec::new(), Vec::new());
    }
    if constraints
        .get("excludeResourceRules")
        .and_then(Value::as_array)
        .is_some_and(|rules| !rules.is_empty())
    {
        return (Vec::new(), Vec::new());
    }
    let Some(Value::Array(rules)) = constraints.get("resourceRules") else {
        return (Vec::new(), Vec::new());
    };
    let [rule] = rules.as_slice() else {
        return (Vec::new(), Vec::new());
    };
    let only = |field: &str, wanted: &str| strings(rule.get(field)) == [wanted];
    if !strings(rule.get("resourceNames")).is_empty()
        || !only("apiGroups", "")
        || !only("apiVersions", "v1")
        || !only("resources", "pods")
    {
        return (Vec::new(), Vec::new());
    }
    let requested = spec
        .pointer("/autogen/podControllers/controllers")
        .filter(|value| !value.is_null());
    let controllers: Vec<String> = CEL_POD_CONTROLLERS
        .iter()
        .map(|(name, _)| name.to_string())
        .filter(|name| match requested {
            None => true,
            Some(list) => strings(Some(list)).iter().any(|wanted| wanted == name),
        })
        .collect();
    let mut autogen_rules = Vec::new();
    if controllers.iter().any(|name| name != "cronjobs") {
        autogen_rules.push(format!("autogen-{}", object.name));
    }
    if controllers.iter().any(|name| name == "cronjobs") {
        autogen_rules.push(format!("autogen-cronjobs-{}", object.name));
    }
    (controllers, autogen_rules)
}

// ---------------------------------------------------------------------------------------------
// Small readers

/// A list of strings; a problem when it is something else (and nothing is read).
fn string_list(value: Option<&Value>, path: &str, problems: &mut Vec<String>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut found = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(text) => found.push(text.to_string()),
                    None => problems.push(format!("{path}[{index}]: must be a string; ignored")),
                }
            }
            found
        }
        Some(_) => {
            problems.push(format!("{path}: must be a list; ignored"));
            Vec::new()
        }
    }
}

fn add_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|existing| existing == item) {
        list.push(item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_selectors_split_like_kyverno() {
        let cases = [
            ("Pod", ("Pod", None)),
            ("v1/Pod", ("Pod", None)),
            ("apps/v1/Deployment", ("Deployment", None)),
            ("networking.k8s.io/v1/Ingress", ("Ingress", None)),
            ("Pod/exec", ("Pod", Some("exec"))),
            ("Pod.status", ("Pod", Some("status"))),
            (
                "v1/Pod/ephemeralcontainers",
                ("Pod", Some("ephemeralcontainers")),
            ),
            ("apps/v1/Deployment/scale", ("Deployment", Some("scale"))),
            ("*/*", ("*", None)),
            ("*", ("*", None)),
        ];
        for (raw, (kind, subresource)) in cases {
            assert_eq!(
                parse_kind(raw),
                (kind.to_string(), subresource.map(str::to_string)),
                "{raw}"
            );
        }
    }

    #[test]
    fn intersections_keep_what_both_sides_admit() {
        let list = |items: &[&str]| Some(items.iter().map(|item| item.to_string()).collect());
        assert_eq!(
            intersect(list(&["a", "b"]), list(&["b", "c"]), false),
            list(&["b"])
        );
        assert_eq!(
            intersect(list(&["team-*"]), list(&["team-a", "other"]), false),
            list(&["team-a"])
        );
        assert_eq!(intersect(None, list(&["x"]), false), list(&["x"]));
        assert_eq!(
            intersect(list(&["Pod"]), list(&["pod"]), true),
            list(&["Pod"])
        );
    }
}
