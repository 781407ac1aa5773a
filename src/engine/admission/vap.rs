//! The ValidatingAdmissionPolicy engine for `check`: evaluates each policy × binding on a
//! manifest object the way the apiserver's validating admission policy plugin does —
//! `matchConstraints` and the binding's `matchResources`, `paramKind`/`paramRef` resolved from
//! the cluster state, `matchConditions`, `variables`, `validations` (with `message`,
//! `messageExpression`, `reason`), `failurePolicy`, and `validationActions` (Deny blocks, Warn
//! and Audit warn) — with the apiserver's messages. What cannot be evaluated client-side is
//! `unknown`, with the reason.

use serde_json::Value;

use crate::engine::cel::admission::{
    Decision, MatchTarget, ResourceIdentity, bind_variables, match_conditions, matches, validate,
};
use crate::engine::cel::{Environment, cel, to_cel};
use crate::model::Details;
use crate::model::details::admissionpolicy::AdmissionPolicyDetails;
use crate::model::finding::{Finding, Verdict};
use crate::model::selector::LabelSelector;
use crate::source::{GroupKind, Object};

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, finding, unknown_finding};

const GROUP: &str = "admissionregistration.k8s.io";

/// Findings of every ValidatingAdmissionPolicy binding that applies to the object.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    applicable
        .iter()
        .filter_map(|applicable| evaluate_binding(context, object, applicable))
        .collect()
}

/// What one binding decided on the request.
enum Outcome {
    /// Not selected, or admitted.
    Admitted,
    Denied(String),
    Unknown(String),
}

fn evaluate_binding(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
) -> Option<Finding> {
    let Details::AdmissionPolicy(details) = &applicable.constraint.details else {
        return None;
    };
    if details.policy_type != "validating" {
        return None;
    }
    let binding_name = details.binding.as_deref()?;
    let policy = context
        .merged
        .find(GROUP, "ValidatingAdmissionPolicy", None, &details.policy);
    let binding = context.merged.find(
        GROUP,
        "ValidatingAdmissionPolicyBinding",
        None,
        binding_name,
    );
    let (Some(policy), Some(binding)) = (policy, binding) else {
        return Some(unknown_finding(
            object,
            applicable,
            format!(
                "because ValidatingAdmissionPolicy `{}` or its binding `{binding_name}` could not be read back from the cluster state",
                details.policy
            ),
        ));
    };
    let request = Request::of(context, object, applicable.through_pods);
    let outcome = decide(context, &request, policy, binding, details);
    let policy_name = &details.policy;
    match outcome {
        Outcome::Admitted => None,
        Outcome::Unknown(reason) => Some(unknown_finding(
            object,
            applicable,
            format!("because {reason}"),
        )),
        Outcome::Denied(message) => {
            let actions = &details.validation_actions;
            let has = |action: &str| actions.iter().any(|candidate| candidate == action);
            if has("Deny") {
                let full = format!(
                    "{} \"{}\" is forbidden: ValidatingAdmissionPolicy '{policy_name}' with binding '{binding_name}' denied request: {message}",
                    request.identity.qualified_resource(),
                    request.display_name,
                );
                Some(finding(object, applicable, Verdict::Blocked, full))
            } else if has("Warn") {
                let warning = format!(
                    "Validation failed for ValidatingAdmissionPolicy '{policy_name}' with binding '{binding_name}': {message}"
                );
                Some(finding(object, applicable, Verdict::Warning, warning))
            } else if has("Audit") {
                let mut entry = finding(object, applicable, Verdict::Warning, message);
                entry.reason = Some(
                    "validation action `Audit`: the request is admitted and the failure is recorded in the audit log only"
                        .to_string(),
                );
                Some(entry)
            } else {
                None
            }
        }
    }
}

/// The request as the policy sees it: the object (or the Pod its controller creates).
struct Request {
    object: Value,
    old_object: Option<Value>,
    operation: &'static str,
    identity: ResourceIdentity,
    display_name: String,
}

impl Request {
    fn of(
        context: &CheckContext<'_>,
        object: &ObjectUnderCheck<'_>,
        through_pods: bool,
    ) -> Request {
        let value = object.admitted_value(through_pods);
        let display_name = match (through_pods, object.template) {
            (true, Some(template)) => template.display_name.clone(),
            _ => object.manifest.object.name.clone(),
        };
        let existing = object.existing(context, through_pods);
        let mut identity = ResourceIdentity::of(&value);
        if identity.name.is_empty() {
            identity.name = display_name.clone();
        }
        Request {
            operation: if existing.is_some() {
                "UPDATE"
            } else {
                "CREATE"
            },
            old_object: existing.map(|existing| existing.value.clone()),
            object: value,
            identity,
            display_name,
        }
    }
}

fn decide(
    context: &CheckContext<'_>,
    request: &Request,
    policy: &Object,
    binding: &Object,
    details: &AdmissionPolicyDetails,
) -> Outcome {
    let namespace = request.identity.namespace.clone();
    let namespace_labels =
        (!namespace.is_empty()).then(|| context.merged.namespace_labels(&namespace));
    let object_labels =
        crate::source::snapshot::string_map(request.object.pointer("/metadata/labels"));
    let target = MatchTarget {
        identity: &request.identity,
        operation: request.operation,
        object_labels: &object_labels,
        namespace_labels: namespace_labels.as_ref(),
    };
    let policy_spec = policy.spec();
    let binding_spec = binding.spec();
    if !matches(
        policy_spec.get("matchConstraints").unwrap_or(&Value::Null),
        &target,
    ) {
        return Outcome::Admitted;
    }
    if let Some(block) = binding_spec
        .get("matchResources")
        .filter(|block| block.is_object())
        && !matches(block, &target)
    {
        return Outcome::Admitted;
    }
    let fail_closed = details.failure_policy != "Ignore";
    let params = match parameters(context, policy_spec, binding_spec, &namespace) {
        Ok(params) => params,
        Err(ParamProblem::Unknown(reason)) => return Outcome::Unknown(reason),
        Err(ParamProblem::NotFoundAllowed) => return Outcome::Admitted,
        Err(ParamProblem::NotFoundDenied) => {
            return if fail_closed {
                Outcome::Denied(
                    "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
                        .to_string(),
                )
            } else {
                Outcome::Admitted
            };
        }
    };
    let namespace_object = if namespace.is_empty() {
        Value::Null
    } else {
        context
            .merged
            .namespace(&namespace)
            .map(|object| object.value.clone())
            .unwrap_or_else(|| {
                serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": namespace, "labels": namespace_labels},
                })
            })
    };
    let admission_request = request.identity.request(request.operation, "", &[]);
    let mut unknown = None;
    let mut first_error = None;
    for param in params {
        let mut environment = Environment::new(&[
            ("object", to_cel(&request.object)),
            (
                "oldObject",
                request
                    .old_object
                    .as_ref()
                    .map(to_cel)
                    .unwrap_or(cel::Value::Null),
            ),
            ("request", to_cel(&admission_request.to_json())),
            (
                "params",
                param.as_ref().map(to_cel).unwrap_or(cel::Value::Null),
            ),
            ("namespaceObject", to_cel(&namespace_object)),
        ]);
        bind_variables(&mut environment, policy_spec.get("variables"), None);
        match match_conditions(&environment, policy_spec.get("matchConditions"), None) {
            Ok(true) => {}
            Ok(false) => return Outcome::Admitted,
            Err(Decision::Unsupported { reason }) => return Outcome::Unknown(reason),
            Err(Decision::Error { message }) => {
                if fail_closed {
                    first_error.get_or_insert(message);
                }
                continue;
            }
            Err(_) => continue,
        }
        for decision in validate(&environment, policy_spec.get("validations"), None) {
            match decision {
                Decision::Admit => {}
                Decision::Deny { message, .. } => return Outcome::Denied(message),
                Decision::Error { message } => {
                    if fail_closed {
                        first_error.get_or_insert(message);
                    }
                }
                Decision::Unsupported { reason } => {
                    unknown.get_or_insert(reason);
                }
            }
        }
    }
    if let Some(reason) = unknown {
        return Outcome::Unknown(reason);
    }
    match first_error {
        Some(message) => Outcome::Denied(message),
        None => Outcome::Admitted,
    }
}

enum ParamProblem {
    Unknown(String),
    NotFoundAllowed,
    NotFoundDenied,
}

/// The parameter objects the binding selects (`[None]` when the policy takes none).
fn parameters(
    context: &CheckContext<'_>,
    policy_spec: &Value,
    binding_spec: &Value,
    request_namespace: &str,
) -> Result<Vec<Option<Value>>, ParamProblem> {
    let Some(param_kind) = policy_spec.get("paramKind").filter(|kind| kind.is_object()) else {
        return Ok(vec![None]);
    };
    let api_version = param_kind
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = param_kind
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let group_kind = GroupKind::from_api_version(api_version, kind);
    if group_kind.group.is_empty() && matches!(kind, "ConfigMap" | "Secret") {
        return Err(ParamProblem::Unknown(format!(
            "the parameters are `{kind}` objects, whose contents potoo never reads"
        )));
    }
    let Some(param_ref) = binding_spec
        .get("paramRef")
        .filter(|reference| reference.is_object())
    else {
        return Err(ParamProblem::Unknown(
            "the policy takes parameters but the binding has no `paramRef`".to_string(),
        ));
    };
    if context.merged.gaps.iter().any(|gap| gap.kind == kind) {
        return Err(ParamProblem::Unknown(format!(
            "the parameter kind `{kind}` could not be read"
        )));
    }
    let candidates: Vec<&Object> = context.merged.of_kind(&group_kind.group, kind).collect();
    let namespaced = candidates.iter().any(|object| object.namespace.is_some());
    let namespace = param_ref
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            (namespaced && !request_namespace.is_empty()).then(|| request_namespace.to_string())
        });
    let name = param_ref.get("name").and_then(Value::as_str);
    let selector = param_ref
        .get("selector")
        .filter(|selector| selector.is_object())
        .map(LabelSelector::from_value);
    let selector = match selector {
        Some(Ok(selector)) => Some(selector),
        Some(Err(error)) => {
            return Err(ParamProblem::Unknown(format!(
                "the binding's `paramRef.selector` is invalid: {error}"
            )));
        }
        None => None,
    };
    let found: Vec<Option<Value>> = candidates
        .into_iter()
        .filter(|object| object.namespace == namespace)
        .filter(|object| name.is_none_or(|name| object.name == name))
        .filter(|object| {
            selector
                .as_ref()
                .is_none_or(|selector| selector.matches(&object.labels()))
        })
        .map(|object| Some(object.value.clone()))
        .collect();
    if found.is_empty() {
        let action = param_ref
            .get("parameterNotFoundAction")
            .and_then(Value::as_str)
            .unwrap_or("Deny");
        return Err(if action == "Allow" {
            ParamProblem::NotFoundAllowed
        } else {
            ParamProblem::NotFoundDenied
        });
    }
    Ok(found)
}
