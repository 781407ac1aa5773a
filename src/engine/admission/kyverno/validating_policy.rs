//! Kyverno `ValidatingPolicy` / `NamespacedValidatingPolicy` (`policies.kyverno.io`, CEL):
//! `matchConstraints`, autogen for pod controllers, `matchConditions`, `variables`,
//! `validations`; one result per policy and resource. Kyverno's own CEL libraries that need
//! the cluster or the network (`resource`, `http`, `image`, `globalContext`…) are reported
//! `unknown`, naming the function.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{RuleResult, RuleStatus, UserInfo, string_map};
use crate::engine::cel::admission::{
    Decision, MatchTarget, ResourceIdentity, bind_variables, match_conditions, matches,
    request_environment, validate,
};

/// A ValidatingPolicy as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatingPolicy {
    pub kind: String,
    pub name: String,
    /// For `NamespacedValidatingPolicy`.
    pub namespace: Option<String>,
    pub spec: Value,
}

impl ValidatingPolicy {
    /// Reads a ValidatingPolicy; other objects are `None`.
    pub fn from_value(object: &Value) -> Option<ValidatingPolicy> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        if !api_version.starts_with("policies.kyverno.io/")
            || !matches!(kind, "ValidatingPolicy" | "NamespacedValidatingPolicy")
        {
            return None;
        }
        let name = object.pointer("/metadata/name")?.as_str()?.to_string();
        let namespace = (kind == "NamespacedValidatingPolicy").then(|| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        });
        Some(ValidatingPolicy {
            kind: kind.to_string(),
            name,
            namespace,
            spec: object.get("spec").cloned().unwrap_or(Value::Null),
        })
    }

    /// `Deny`, `Warn`, `Audit` (Kyverno's default is `Deny`).
    pub fn validation_actions(&self) -> Vec<String> {
        let actions = crate::adapters::fields::strings(self.spec.get("validationActions"));
        if actions.is_empty() {
            vec!["Deny".to_string()]
        } else {
            actions
        }
    }
}

/// One request a ValidatingPolicy is evaluated on.
pub struct PolicyRequest<'a> {
    pub resource: &'a Value,
    pub old_resource: Option<&'a Value>,
    pub operation: &'a str,
    pub user_info: &'a UserInfo,
    /// The namespace object of namespaced resources, when known.
    pub namespace_object: Option<&'a Value>,
    /// Data for `resource.Get`/`resource.List`/`image.GetMetadata` (a Kyverno test's
    /// `Context`); `None` leaves those calls unknown.
    pub lookups: Option<&'a crate::engine::cel::cel::Value>,
}

/// Where the Pod template of a controller lives, for autogen.
pub fn template_prefix(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicaSet"
        | "ReplicationController" => Some("spec.template"),
        "CronJob" => Some("spec.jobTemplate.spec.template"),
        _ => None,
    }
}

/// The result of the policy on the request; `None` when the policy does not apply.
pub fn evaluate(policy: &ValidatingPolicy, request: &PolicyRequest<'_>) -> Option<RuleResult> {
    let identity = ResourceIdentity::of(request.resource);
    if let Some(namespace) = &policy.namespace
        && identity.namespace != *namespace
    {
        return None;
    }
    let namespace_labels: Option<BTreeMap<String, String>> =
        (!identity.namespace.is_empty()).then(|| {
            string_map(
                request
                    .namespace_object
                    .and_then(|object| object.pointer("/metadata/labels")),
            )
        });
    let object_labels = string_map(request.resource.pointer("/metadata/labels"));
    let constraints = policy.spec.get("matchConstraints").unwrap_or(&Value::Null);
    let direct = MatchTarget {
        identity: &identity,
        operation: request.operation,
        object_labels: &object_labels,
        namespace_labels: namespace_labels.as_ref(),
    };
    let prefix = if matches(constraints, &direct) {
        None
    } else {
        // autogen: a Pod policy applies to the Pods of a controller's template
        let prefix = template_prefix(&identity.kind)?;
        if autogen_disabled(&policy.spec) {
            return None;
        }
        let pod = ResourceIdentity {
            group: String::new(),
            version: "v1".to_string(),
            kind: "Pod".to_string(),
            resource: "pods".to_string(),
            ..identity.clone()
        };
        let template_labels = string_map(
            request
                .resource
                .pointer(&format!("/{}/metadata/labels", prefix.replace('.', "/"))),
        );
        let through_pods = MatchTarget {
            identity: &pod,
            operation: request.operation,
            object_labels: &template_labels,
            namespace_labels: namespace_labels.as_ref(),
        };
        if !matches(constraints, &through_pods) {
            return None;
        }
        Some(prefix)
    };
    let result = |status: RuleStatus, message: String| RuleResult {
        policy: match &policy.namespace {
            Some(namespace) => format!("{namespace}/{}", policy.name),
            None => policy.name.clone(),
        },
        rule: String::new(),
        status,
        message,
    };
    if policy
        .spec
        .get("paramKind")
        .is_some_and(|kind| !kind.is_null())
    {
        return Some(result(
            RuleStatus::Unknown,
            "ValidatingPolicy parameters (`paramKind`) are not evaluated yet".to_string(),
        ));
    }
    let admission_request = identity.request(
        request.operation,
        &request.user_info.username,
        &request.user_info.groups,
    );
    let mut environment = request_environment(
        request.resource,
        request.old_resource,
        &admission_request,
        request.namespace_object,
    );
    if let Some(lookups) = request.lookups {
        environment.bind_lookups(lookups.clone());
    }
    bind_variables(&mut environment, policy.spec.get("variables"), prefix);
    match match_conditions(&environment, policy.spec.get("matchConditions"), prefix) {
        Ok(true) => {}
        Ok(false) => {
            return Some(result(
                RuleStatus::Skip,
                "match conditions not met".to_string(),
            ));
        }
        Err(Decision::Unsupported { reason }) => return Some(result(RuleStatus::Unknown, reason)),
        Err(Decision::Error { message }) => return Some(result(RuleStatus::Error, message)),
        Err(_) => {
            return Some(result(
                RuleStatus::Error,
                "match conditions failed".to_string(),
            ));
        }
    }
    let decisions = validate(&environment, policy.spec.get("validations"), prefix);
    Some(outcome(&decisions, result))
}

fn autogen_disabled(spec: &Value) -> bool {
    spec.pointer("/autogen/podControllers/controllers")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
}

/// Folds decisions into one result: a denial fails (its message), else an error errs, else an
/// unsupported expression is unknown, else pass.
pub fn outcome(
    decisions: &[Decision],
    result: impl Fn(RuleStatus, String) -> RuleResult,
) -> RuleResult {
    if let Some(message) = decisions.iter().find_map(|decision| match decision {
        Decision::Deny { message, .. } => Some(message.clone()),
        _ => None,
    }) {
        return result(RuleStatus::Fail, message);
    }
    if let Some(message) = decisions.iter().find_map(|decision| match decision {
        Decision::Error { message } => Some(message.clone()),
        _ => None,
    }) {
        return result(RuleStatus::Error, message);
    }
    if let Some(reason) = decisions.iter().find_map(|decision| match decision {
        Decision::Unsupported { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return result(RuleStatus::Unknown, reason);
    }
    result(RuleStatus::Pass, "success".to_string())
}
