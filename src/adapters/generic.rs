//! The generic adapter: one constraint per object of a policy-like kind that no family adapter
//! claims, with its scope read from the common selector fields.

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput, is_policy_kind};
use crate::model::constraint::GenericDetails;
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::catalog::engine_of_group;
use crate::source::{GroupKind, Object, Snapshot};

pub struct GenericAdapter;

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
    ("potoo.io", "ConstraintProfile"),
];

/// Fields that commonly hold a pod selector, in the order they are tried.
const SELECTOR_FIELDS: &[&str] = &[
    "/spec/podSelector",
    "/spec/endpointSelector",
    "/spec/selector",
    "/spec/workloadSelector/labels",
];

impl GenericAdapter {
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

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let group_kind = object.group_kind();
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
        let looks_structured =
            value.get("matchLabels").is_some() || value.get("matchExpressions").is_some();
        let selector =
            if looks_structured || value.as_object().is_some_and(|fields| fields.is_empty()) {
                LabelSelector::from_value(value).map_err(|error| format!("{field}.{error}"))?
            } else if let Value::Object(labels) = value {
                // A plain label map (Istio `workloadSelector.labels`, Service-style `selector`).
                LabelSelector::from_labels(crate::source::snapshot::string_map(Some(
                    &Value::Object(labels.clone()),
                )))
            } else {
                return Err(format!("{field}: must be a mapping"));
            };
        return Ok((Some(selector), format!("field {field}")));
    }
    let scope = if object.namespace.is_some() {
        "no selector field: all workloads in the namespace"
    } else {
        "cluster-scoped, scope not interpreted: listed for every namespace"
    };
    Ok((None, scope.to_string()))
}

fn constraint_type(group_kind: &GroupKind, spec: &Value) -> ConstraintType {
    let has = |field: &str| spec.get(field).is_some();
    match group_kind.group.as_str() {
        "cilium.io" | "policy.networking.k8s.io" => {
            let ingress = has("ingress") || has("ingressDeny");
            let egress = has("egress") || has("egressDeny");
            if egress && !ingress {
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
