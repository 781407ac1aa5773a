//! The generic adapter: one constraint per object of a policy-like kind that no family adapter
//! claims, with its scope read from the common selector fields, or from the fields a
//! `potoo.io/v1alpha1` ConstraintProfile names for that kind (docs/constraintprofile.md).

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput, Registry, is_policy_kind};
use crate::model::constraint::GenericDetails;
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::catalog::engine_of_group;
use crate::source::{GroupKind, Object, Snapshot};

pub struct GenericAdapter;

/// The group and kind of the CRD that registers other kinds as policies.
pub const PROFILE_GROUP: &str = "potoo.io";
pub const PROFILE_KIND: &str = "ConstraintProfile";

/// Policy-like kinds that configure or report rather than constrain; read, counted, never a constraint.
const NOT_CONSTRAINTS: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    ("templates.gatekeeper.sh", "ConstraintTemplate"),
    ("kyverno.io", "PolicyException"),
    ("policies.kyverno.io", "PolicyException"),
    ("wgpolicyk8s.io", "PolicyReport"),
    ("wgpolicyk8s.io", "ClusterPolicyReport"),
    ("openreports.io", "Report"),
    ("openreports.io", "ClusterReport"),
];

/// Fields that commonly hold a pod selector, in the order they are tried.
const SELECTOR_FIELDS: &[&str] = &[
    "/spec/podSelector",
    "/spec/endpointSelector",
    "/spec/selector",
    "/spec/workloadSelector/labels",
];

impl GenericAdapter {
    /// Whether the generic adapter takes objects of this kind (when no family adapter does).
    /// ConstraintProfiles themselves are taken so that their problems become diagnostics.
    pub fn claims(&self, group_kind: &GroupKind, annotated: &[GroupKind]) -> bool {
        let excluded = NOT_CONSTRAINTS
            .iter()
            .any(|(group, kind)| *group == group_kind.group && *kind == group_kind.kind);
        !excluded && is_policy_kind(group_kind, annotated)
    }
}

impl Adapter for GenericAdapter {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let group_kind = object.group_kind();
        if group_kind.group == PROFILE_GROUP && group_kind.kind == PROFILE_KIND {
            check_profile(self, object, snapshot, output);
            return;
        }
        if let Some(profile) = profile_for(snapshot, &group_kind) {
            adapt_with_profile(self, object, &profile, output);
            return;
        }
        let engine = engine_of_group(&group_kind.group).to_string();
        let (workload_selector, scope_source) = match find_selector(object) {
            Ok(found) => found,
            Err(message) => {
                output.diagnose(self, object, message);
                (
                    None,
                    "selector unreadable: listed for every workload in scope".to_string(),
                )
            }
        };
        let constraint_type = constraint_type(&group_kind, object.spec());
        let (effect, severity) = effect_and_severity(&group_kind, object.spec());
        let source = SourceReference::from_object(object);
        let where_text = match &object.namespace {
            Some(namespace) => format!("in namespace `{namespace}`"),
            None => "cluster-wide".to_string(),
        };
        let summary = format!(
            "{} {} {} ({}; not interpreted by a family adapter yet)",
            group_kind.kind, effect, where_text, engine
        );
        output.constraints.push(Constraint {
            id: Constraint::make_id(&source, None),
            rule: None,
            constraint_type,
            effect,
            severity,
            scope: Scope {
                namespaces: object.namespace.clone().map(|namespace| vec![namespace]),
                workload_selector,
                ..Scope::default()
            },
            summary,
            details: Details::Generic(GenericDetails {
                engine,
                scope_source,
                spec: object.value.get("spec").cloned(),
            }),
            remediation_hint: None,
            source,
        });
    }
}

/// The first selector field present, decoded, with a description of where it came from.
fn find_selector(object: &Object) -> Result<(Option<LabelSelector>, String), String> {
    for pointer in SELECTOR_FIELDS {
        let Some(value) = object.value.pointer(pointer) else {
            continue;
        };
        let field = pointer.trim_start_matches('/').replace('/', ".");
        let selector = decode_selector(value).map_err(|error| format!("{field}{error}"))?;
        return Ok((Some(selector), format!("field {field}")));
    }
    let scope = if object.namespace.is_some() {
        "no selector field: all workloads in the namespace"
    } else {
        "cluster-scoped, scope not interpreted: listed for every namespace"
    };
    Ok((None, scope.to_string()))
}

/// A `{matchLabels, matchExpressions}` selector or a plain label map (Istio
/// `workloadSelector.labels`, Service-style `selector`). Errors start with `.` or `:` so the
/// caller can prefix the field.
fn decode_selector(value: &Value) -> Result<LabelSelector, String> {
    let looks_structured =
        value.get("matchLabels").is_some() || value.get("matchExpressions").is_some();
    if looks_structured || value.as_object().is_some_and(|fields| fields.is_empty()) {
        LabelSelector::from_value(value).map_err(|error| format!(".{error}"))
    } else if let Value::Object(labels) = value {
        Ok(LabelSelector::from_labels(
            crate::source::snapshot::string_map(Some(&Value::Object(labels.clone()))),
        ))
    } else {
        Err(": must be a mapping".to_string())
    }
}

fn constraint_type(group_kind: &GroupKind, spec: &Value) -> ConstraintType {
    let has = |field: &str| spec.get(field).is_some();
    match group_kind.group.as_str() {
        "cilium.io" | "policy.networking.k8s.io" => {
            let ingress = has("ingress") || has("ingressDeny");
            let egress = has("egress") || has("egressDeny");
            let named_for_egress = group_kind.kind.contains("Egress");
            if (egress || named_for_egress) && !ingress {
                ConstraintType::NetworkEgress
            } else {
                ConstraintType::NetworkIngress
            }
        }
        group if group.ends_with("istio.io") => ConstraintType::MeshPolicy,
        "constraints.gatekeeper.sh" | "admissionregistration.k8s.io" => ConstraintType::Admission,
        group if group.ends_with("kyverno.io") => ConstraintType::Admission,
        _ if group_kind.kind.to_ascii_lowercase().contains("quota") => {
            ConstraintType::ResourceLimit
        }
        _ => ConstraintType::Unknown,
    }
}

/// From the enforcement fields engines use: Gatekeeper `enforcementAction`, Kyverno
/// `validationFailureAction`, Istio `action`.
fn effect_and_severity(group_kind: &GroupKind, spec: &Value) -> (Effect, Severity) {
    let field = |name: &str| {
        spec.get(name)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    if let Some(action) = field("enforcementAction") {
        return match action.as_str() {
            "warn" => (Effect::Warn, Severity::Warning),
            "dryrun" => (Effect::Audit, Severity::Info),
            _ => (Effect::Deny, Severity::Critical),
        };
    }
    if let Some(action) = field("validationFailureAction") {
        return match action.as_str() {
            "enforce" => (Effect::Deny, Severity::Critical),
            _ => (Effect::Audit, Severity::Warning),
        };
    }
    if group_kind.group.ends_with("istio.io") {
        return match field("action").as_deref() {
            Some("deny") => (Effect::Deny, Severity::Critical),
            Some("audit") => (Effect::Audit, Severity::Info),
            _ => (Effect::Restrict, Severity::Warning),
        };
    }
    if group_kind.kind.starts_with("Mutating") {
        return (Effect::Mutate, Severity::Info);
    }
    (Effect::Restrict, Severity::Warning)
}

// ---------------------------------------------------------------------------------------------
// ConstraintProfile

/// A `potoo.io/v1alpha1` ConstraintProfile: how to read one kind as a policy.
#[derive(Debug, Clone)]
pub struct ConstraintProfile {
    pub name: String,
    pub target: GroupKind,
    pub engine: Option<String>,
    pub constraint_type: ConstraintType,
    pub effect: Effect,
    pub severity: Option<Severity>,
    /// Read in order; the first field present whose value is mapped decides.
    pub effect_from: Vec<ValueMapping<Effect>>,
    pub severity_from: Vec<ValueMapping<Severity>>,
    pub fields: ProfileFields,
}

/// A field of the target object and what each of its values means.
#[derive(Debug, Clone)]
pub struct ValueMapping<T> {
    pub field: FieldPath,
    pub values: Vec<(String, T)>,
}

/// Where the target kind keeps each scope part; `None`: the kind has no such field.
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    pub workload_selector: Option<FieldPath>,
    pub namespace_selector: Option<FieldPath>,
    pub namespaces: Option<FieldPath>,
    pub excluded_namespaces: Option<FieldPath>,
    pub resources: Option<FieldPath>,
    pub operations: Option<FieldPath>,
    pub names: Option<FieldPath>,
    pub message: Option<FieldPath>,
}

/// A field path as written (`spec.objectSelector` or `/spec/objectSelector`) and its segments.
/// A `*` segment takes every item of a list (or value of a mapping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub text: String,
    segments: Vec<String>,
}

impl FieldPath {
    /// JSON pointers (RFC 6901, `~1` for `/`, `~0` for `~`) start with `/`; anything else is
    /// dotted (`spec.rules.*.resources`; use a pointer when a key contains a dot).
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        if text.is_empty() || text == "/" {
            return Err("is empty".to_string());
        }
        let segments: Vec<String> = match text.strip_prefix('/') {
            Some(pointer) => pointer
                .split('/')
                .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
                .collect(),
            None => text.split('.').map(str::to_string).collect(),
        };
        if segments.iter().any(String::is_empty) {
            return Err(format!("`{text}` has an empty segment"));
        }
        Ok(FieldPath {
            text: text.to_string(),
            segments,
        })
    }

    /// Every value the path reaches in `root` (several through `*` segments).
    pub fn resolve<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![root];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in current {
                match (value, segment.as_str()) {
                    (Value::Array(items), "*") => next.extend(items.iter()),
                    (Value::Object(fields), "*") => next.extend(fields.values()),
                    (Value::Array(items), index) => {
                        if let Some(item) = index.parse::<usize>().ok().and_then(|at| items.get(at))
                        {
                            next.push(item);
                        }
                    }
                    (Value::Object(fields), key) => {
                        if let Some(field) = fields.get(key) {
                            next.push(field);
                        }
                    }
                    _ => {}
                }
            }
            current = next;
        }
        current
            .into_iter()
            .filter(|value| !value.is_null())
            .collect()
    }
}

impl ConstraintProfile {
    /// Reads a profile object; `problems` lists what was wrong and what was used instead.
    /// `None` when the target is missing (nothing to apply the profile to).
    pub fn parse(object: &Object) -> (Option<ConstraintProfile>, Vec<String>) {
        let spec = object.spec();
        let mut problems = Vec::new();
        let target_group = spec.pointer("/target/group").and_then(Value::as_str);
        let target_kind = spec.pointer("/target/kind").and_then(Value::as_str);
        let Some(target_kind) = target_kind.filter(|kind| !kind.is_empty()) else {
            problems.push("spec.target.kind: missing; profile ignored".to_string());
            return (None, problems);
        };
        let target = GroupKind::new(target_group.unwrap_or_default(), target_kind);
        let constraint_type = match spec.get("type").and_then(Value::as_str) {
            None => ConstraintType::Unknown,
            Some(text) => parse_type(text).unwrap_or_else(|| {
                problems.push(format!("spec.type: unknown type `{text}`; `Unknown` used"));
                ConstraintType::Unknown
            }),
        };
        let effect = match spec.get("effect").and_then(Value::as_str) {
            None => Effect::Restrict,
            Some(text) => parse_effect(text).unwrap_or_else(|| {
                problems.push(format!(
                    "spec.effect: unknown effect `{text}`; `restrict` used"
                ));
                Effect::Restrict
            }),
        };
        let severity = spec
            .get("severity")
            .and_then(Value::as_str)
            .and_then(|text| {
                let parsed = Severity::parse(text);
                if parsed.is_none() {
                    problems.push(format!(
                        "spec.severity: unknown severity `{text}`; derived from the effect"
                    ));
                }
                parsed
            });
        let effect_from = parse_mappings(spec, "effectFrom", parse_effect, &mut problems);
        let severity_from = parse_mappings(spec, "severityFrom", Severity::parse, &mut problems);
        let mut path = |name: &str| -> Option<FieldPath> {
            let text = spec.pointer(&format!("/fields/{name}"))?.as_str()?;
            FieldPath::parse(text)
                .map_err(|problem| {
                    problems.push(format!("spec.fields.{name}: {problem}; field ignored"));
                })
                .ok()
        };
        let fields = ProfileFields {
            workload_selector: path("workloadSelector"),
            namespace_selector: path("namespaceSelector"),
            namespaces: path("namespaces"),
            excluded_namespaces: path("excludedNamespaces"),
            resources: path("resources"),
            operations: path("operations"),
            names: path("names"),
            message: path("message"),
        };
        let profile = ConstraintProfile {
            name: object.name.clone(),
            target,
            engine: spec
                .get("engine")
                .and_then(Value::as_str)
                .map(str::to_string),
            constraint_type,
            effect,
            severity,
            effect_from,
            severity_from,
            fields,
        };
        (Some(profile), problems)
    }

    /// The effect and severity for one target object: mapped fields first, then the defaults;
    /// the severity follows the effect unless the profile sets or maps one.
    fn effect_and_severity(&self, object: &Object) -> (Effect, Severity) {
        let effect = lookup(&self.effect_from, &object.value).unwrap_or(self.effect);
        let severity = lookup(&self.severity_from, &object.value)
            .or(self.severity)
            .unwrap_or(match effect {
                Effect::Deny => Severity::Critical,
                Effect::Audit | Effect::Mutate => Severity::Info,
                _ => Severity::Warning,
            });
        (effect, severity)
    }
}

fn parse_mappings<T>(
    spec: &Value,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    problems: &mut Vec<String>,
) -> Vec<ValueMapping<T>> {
    let items = match spec.get(name) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        Some(_) => {
            problems.push(format!("spec.{name}: must be a list; ignored"));
            return Vec::new();
        }
    };
    let mut mappings = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("spec.{name}[{index}]");
        let field = match item
            .get("field")
            .and_then(Value::as_str)
            .map(FieldPath::parse)
        {
            Some(Ok(field)) => field,
            Some(Err(problem)) => {
                problems.push(format!("{at}.field: {problem}; mapping ignored"));
                continue;
            }
            None => {
                problems.push(format!("{at}.field: missing; mapping ignored"));
                continue;
            }
        };
        let mut values = Vec::new();
        if let Some(Value::Object(entries)) = item.get("values") {
            for (key, target) in entries {
                match target.as_str().and_then(&parse) {
                    Some(parsed) => values.push((key.clone(), parsed)),
                    None => problems.push(format!(
                        "{at}.values.{key}: unknown value {target}; entry ignored"
                    )),
                }
            }
        }
        mappings.push(ValueMapping { field, values });
    }
    mappings
}

fn lookup<T: Copy>(mappings: &[ValueMapping<T>], root: &Value) -> Option<T> {
    mappings.iter().find_map(|mapping| {
        let value = mapping.field.resolve(root).into_iter().next()?;
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        mapping
            .values
            .iter()
            .find(|(key, _)| *key == text)
            .or_else(|| {
                mapping
                    .values
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(&text))
            })
            .map(|(_, parsed)| *parsed)
    })
}

fn parse_type(text: &str) -> Option<ConstraintType> {
    ConstraintType::ALL
        .into_iter()
        .find(|candidate| candidate.as_str().eq_ignore_ascii_case(text))
}

fn parse_effect(text: &str) -> Option<Effect> {
    [
        Effect::Deny,
        Effect::Restrict,
        Effect::Require,
        Effect::Limit,
        Effect::Warn,
        Effect::Audit,
        Effect::Mutate,
    ]
    .into_iter()
    .find(|effect| effect.as_str().eq_ignore_ascii_case(text))
}

/// Every ConstraintProfile in the Snapshot, sorted by name (the first one for a kind wins).
fn profiles(snapshot: &Snapshot) -> Vec<(ConstraintProfile, Vec<String>)> {
    let mut objects: Vec<&Object> = snapshot.of_kind(PROFILE_GROUP, PROFILE_KIND).collect();
    objects.sort_by(|left, right| left.name.cmp(&right.name));
    objects
        .into_iter()
        .filter_map(|object| {
            let (profile, problems) = ConstraintProfile::parse(object);
            profile.map(|profile| (profile, problems))
        })
        .collect()
}

/// The profile that registers this kind, if any.
pub fn profile_for(snapshot: &Snapshot, group_kind: &GroupKind) -> Option<ConstraintProfile> {
    profiles(snapshot)
        .into_iter()
        .map(|(profile, _)| profile)
        .find(|profile| &profile.target == group_kind)
}

/// The kinds ConstraintProfiles register: the registry must route them to this adapter even
/// when their names do not look like policies.
pub fn profile_target_kinds(snapshot: &Snapshot) -> Vec<GroupKind> {
    let mut kinds: Vec<GroupKind> = profiles(snapshot)
        .into_iter()
        .map(|(profile, _)| profile.target)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Diagnostics for a profile: its own problems, a target a family adapter owns, a target
/// another profile already registers.
fn check_profile(
    adapter: &GenericAdapter,
    object: &Object,
    snapshot: &Snapshot,
    output: &mut AdapterOutput,
) {
    let (profile, problems) = ConstraintProfile::parse(object);
    for problem in problems {
        output.diagnose(adapter, object, problem);
    }
    let Some(profile) = profile else {
        return;
    };
    if let Some(owner) = Registry::default().adapter_for(&profile.target) {
        output.diagnose(
            adapter,
            object,
            format!(
                "spec.target: `{}` is interpreted by the `{}` adapter; profile ignored",
                profile.target,
                owner.name()
            ),
        );
        return;
    }
    if let Some((first, _)) = profiles(snapshot)
        .into_iter()
        .find(|(other, _)| other.target == profile.target)
        && first.name != profile.name
    {
        output.diagnose(
            adapter,
            object,
            format!(
                "spec.target: `{}` is also registered by ConstraintProfile `{}`, which is used (first by name); profile ignored",
                profile.target, first.name
            ),
        );
    }
}

/// One constraint for an object of a kind a ConstraintProfile registers.
fn adapt_with_profile(
    adapter: &GenericAdapter,
    object: &Object,
    profile: &ConstraintProfile,
    output: &mut AdapterOutput,
) {
    let fields = &profile.fields;
    let mut selector = |path: &Option<FieldPath>| -> Option<LabelSelector> {
        let path = path.as_ref()?;
        let value = path.resolve(&object.value).into_iter().next()?;
        match decode_selector(value) {
            Ok(selector) => Some(selector),
            Err(error) => {
                output.diagnose(
                    adapter,
                    object,
                    format!(
                        "{}{error} (field of ConstraintProfile `{}`); selector ignored",
                        path.text, profile.name
                    ),
                );
                None
            }
        }
    };
    let workload_selector = selector(&fields.workload_selector);
    let namespace_selector = selector(&fields.namespace_selector);
    let texts = |path: &Option<FieldPath>| -> Option<Vec<String>> {
        let path = path.as_ref()?;
        let mut found = Vec::new();
        for value in path.resolve(&object.value) {
            match value {
                Value::String(text) => found.push(text.clone()),
                Value::Array(items) => {
                    found.extend(items.iter().filter_map(Value::as_str).map(str::to_string))
                }
                _ => {}
            }
        }
        found.sort();
        found.dedup();
        (!found.is_empty()).then_some(found)
    };
    // A namespaced object applies in its own namespace; the namespaces field is for
    // cluster-scoped kinds.
    let namespaces = match &object.namespace {
        Some(namespace) => Some(vec![namespace.clone()]),
        None => texts(&fields.namespaces),
    };
    let resources = texts(&fields.resources).map(|resources| {
        let mut normalized: Vec<String> = resources
            .iter()
            .map(|resource| normalize_resource(resource))
            .collect();
        normalized.sort();
        normalized.dedup();
        normalized
    });
    let message = texts(&fields.message).map(|parts| parts.join("; "));
    let (effect, severity) = profile.effect_and_severity(object);
    let group_kind = object.group_kind();
    let engine = profile
        .engine
        .clone()
        .unwrap_or_else(|| engine_of_group(&group_kind.group).to_string());
    let where_text = match (&object.namespace, &namespaces, &namespace_selector) {
        (Some(namespace), _, _) => format!("in namespace `{namespace}`"),
        (None, Some(listed), _) => format!("in namespaces {}", listed.join(",")),
        (None, None, Some(selector)) if !selector.is_empty() => {
            format!("in namespaces with {selector}")
        }
        _ => "cluster-wide".to_string(),
    };
    let selected = match &workload_selector {
        Some(selector) if !selector.is_empty() => format!(" for objects with {selector}"),
        _ => String::new(),
    };
    let summary = format!(
        "{} `{}` {effect} {where_text}{selected} ({engine}, via ConstraintProfile `{}`){}",
        group_kind.kind,
        object.name,
        profile.name,
        message
            .map(|message| format!(": {message}"))
            .unwrap_or_default()
    );
    let source = SourceReference::from_object(object);
    output.constraints.push(Constraint {
        id: Constraint::make_id(&source, None),
        rule: None,
        constraint_type: profile.constraint_type,
        effect,
        severity,
        scope: Scope {
            namespaces,
            excluded_namespaces: texts(&fields.excluded_namespaces),
            namespace_selector,
            workload_selector,
            resources,
            operations: texts(&fields.operations),
            names: texts(&fields.names),
            ..Scope::default()
        },
        summary,
        details: Details::Generic(GenericDetails {
            engine,
            scope_source: format!("ConstraintProfile {}", profile.name),
            spec: object.value.get("spec").cloned(),
        }),
        remediation_hint: None,
        source,
    });
}

/// A plural without a group (`deployments`, as webhook-style rules list it next to their
/// `apiGroups`) matches that resource in any group; `pods` and wildcards stay as they are.
fn normalize_resource(resource: &str) -> String {
    let is_plural_name = resource
        .chars()
        .all(|character| character.is_ascii_lowercase() || character == '-');
    if resource.contains('/') || resource == "*" || resource == "pods" || !is_plural_name {
        resource.to_string()
    } else {
        format!("*/{resource}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::object_from_value;
    use serde_json::json;

    fn snapshot(objects: Vec<Value>) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for object in objects {
            snapshot.insert(object_from_value(object).unwrap());
        }
        snapshot
    }

    fn pdb_profile() -> Value {
        json!({
            "apiVersion": "potoo.io/v1alpha1",
            "kind": "ConstraintProfile",
            "metadata": {"name": "disruption-budgets"},
            "spec": {
                "target": {"group": "policy", "kind": "PodDisruptionBudget"},
                "engine": "kubernetes",
                "type": "ResourceLimit",
                "effect": "limit",
                "fields": {
                    "workloadSelector": "spec.selector",
                    "message": "/metadata/annotations/example.com~1reason"
                }
            }
        })
    }

    #[test]
    fn field_paths_parse_dotted_and_pointer_forms_with_wildcards() {
        let root = json!({"spec": {"rules": [
            {"resources": ["pods"]}, {"resources": ["deployments", "jobs"]}
        ]}, "metadata": {"annotations": {"a.b/c": "x"}}});
        let dotted = FieldPath::parse("spec.rules.*.resources").unwrap();
        assert_eq!(dotted.resolve(&root).len(), 2);
        let pointer = FieldPath::parse("/spec/rules/1/resources/0").unwrap();
        assert_eq!(pointer.resolve(&root), vec![&json!("deployments")]);
        let escaped = FieldPath::parse("/metadata/annotations/a.b~1c").unwrap();
        assert_eq!(escaped.resolve(&root), vec![&json!("x")]);
        assert!(FieldPath::parse("spec..rules").is_err());
        assert!(FieldPath::parse("").is_err());
    }

    #[test]
    fn a_profile_turns_a_kind_not_named_like_a_policy_into_a_constraint() {
        let snapshot = snapshot(vec![
            pdb_profile(),
            json!({
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "web", "namespace": "shop",
                             "annotations": {"example.com/reason": "keep two replicas serving"}},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}
            }),
        ]);
        assert_eq!(
            profile_target_kinds(&snapshot),
            vec![GroupKind::new("policy", "PodDisruptionBudget")]
        );
        let object = snapshot
            .of_kind("policy", "PodDisruptionBudget")
            .next()
            .unwrap();
        let mut output = AdapterOutput::default();
        GenericAdapter.adapt(object, &snapshot, &mut output);
        assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
        let constraint = &output.constraints[0];
        assert_eq!(constraint.id, "PodDisruptionBudget/shop/web");
        assert_eq!(constraint.constraint_type, ConstraintType::ResourceLimit);
        assert_eq!(
            (constraint.effect, constraint.severity),
            (Effect::Limit, Severity::Warning)
        );
        assert_eq!(constraint.scope.namespaces, Some(vec!["shop".to_string()]));
        assert_eq!(
            constraint
                .scope
                .workload_selector
                .as_ref()
                .map(ToString::to_string),
            Some("app=web".to_string())
        );
        assert_eq!(
            constraint.summary,
            "PodDisruptionBudget `web` limit in namespace `shop` for objects with app=web \
             (kubernetes, via ConstraintProfile `disruption-budgets`): keep two replicas serving"
        );
        let Details::Generic(details) = &constraint.details else {
            panic!("generic details expected");
        };
        assert_eq!(details.scope_source, "ConstraintProfile disruption-budgets");
    }

    #[test]
    fn a_profile_for_a_kind_a_family_adapter_owns_is_reported() {
        let profile = json!({
            "apiVersion": "potoo.io/v1alpha1",
            "kind": "ConstraintProfile",
            "metadata": {"name": "netpol"},
            "spec": {"target": {"group": "networking.k8s.io", "kind": "NetworkPolicy"}, "effect": "block"}
        });
        let snapshot = snapshot(vec![profile]);
        let object = snapshot
            .of_kind(PROFILE_GROUP, PROFILE_KIND)
            .next()
            .unwrap();
        let mut output = AdapterOutput::default();
        GenericAdapter.adapt(object, &snapshot, &mut output);
        let messages: Vec<&str> = output
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.message.as_str())
            .collect();
        assert_eq!(
            messages,
            vec![
                "spec.effect: unknown effect `block`; `restrict` used",
                "spec.target: `NetworkPolicy.networking.k8s.io` is interpreted by the `networkpolicy` adapter; profile ignored",
            ]
        );
        assert!(output.constraints.is_empty());
    }
    /// Every schema node says its type (a structural schema), recursively.
    fn assert_structural(schema: &Value, path: &str) {
        assert!(schema.get("type").is_some(), "{path}: no type");
        if let Some(Value::Object(properties)) = schema.get("properties") {
            assert_eq!(
                schema["type"], "object",
                "{path}: properties on a non-object"
            );
            for (name, property) in properties {
                assert_structural(property, &format!("{path}.{name}"));
            }
        }
        for nested in ["items", "additionalProperties"] {
            if let Some(child) = schema.get(nested).filter(|child| child.is_object()) {
                assert_structural(child, &format!("{path}.{nested}"));
            }
        }
    }

    #[test]
    fn the_shipped_crd_is_structural_and_the_documented_profiles_parse_cleanly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let crd: Value = serde_saphyr::from_str(
            &std::fs::read_to_string(root.join("docs/constraintprofile-crd.yaml")).unwrap(),
        )
        .unwrap();
        assert_eq!(crd["spec"]["group"], PROFILE_GROUP);
        assert_eq!(crd["spec"]["names"]["kind"], PROFILE_KIND);
        assert_eq!(crd["spec"]["scope"], "Cluster");
        assert_eq!(crd["spec"]["versions"][0]["name"], "v1alpha1");
        assert_structural(
            &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
            "openAPIV3Schema",
        );

        let guide = std::fs::read_to_string(root.join("docs/constraintprofile.md")).unwrap();
        let mut profiles = 0;
        for block in guide.split("```yaml").skip(1) {
            let block = block.split("```").next().unwrap_or_default();
            for document in block.split("\n---\n") {
                if document.contains('<') {
                    continue; // the field reference, with placeholders
                }
                let value: Value = serde_saphyr::from_str(document).unwrap();
                if value["kind"] != PROFILE_KIND {
                    continue;
                }
                let object = object_from_value(value).unwrap();
                let (profile, problems) = ConstraintProfile::parse(&object);
                assert!(
                    profile.is_some() && problems.is_empty(),
                    "{}: {problems:?}",
                    object.name
                );
                profiles += 1;
            }
        }
        assert_eq!(profiles, 3);
    }
}
