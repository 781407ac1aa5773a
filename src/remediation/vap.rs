//! ValidatingAdmissionPolicy / MutatingAdmissionPolicy remediation: the validations' messages
//! (and at `--detail full` their CEL), the binding's actions and parameters, and the binding
//! change a cluster admin can make.

use serde_json::json;

use super::{Context, patch_command, yaml};
use crate::model::details::admissionpolicy::AdmissionPolicyDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &AdmissionPolicyDetails) -> Vec<Step> {
    let kind = if details.policy_type == "mutating" {
        "mutatingadmissionpolicy"
    } else {
        "validatingadmissionpolicy"
    };
    let mut look = Step::new(
        Privilege::Developer,
        format!(
            "See the policy `{}` and its binding `{}`",
            details.policy,
            details
                .binding
                .as_deref()
                .unwrap_or("(none: the policy is bound nowhere)")
        ),
    )
    .command(format!("kubectl get {kind} {} -o yaml", details.policy));
    if let Some(binding) = &details.binding {
        look = look.command(format!("kubectl get {kind}binding {binding} -o yaml"));
    }
    let mut steps = vec![look];
    if details.policy_type == "mutating" {
        steps.push(Step::new(
            Privilege::Developer,
            "This policy changes objects rather than rejecting them: nothing to fix unless its change conflicts with yours",
        ));
        return steps;
    }
    let messages: Vec<String> = details
        .validations
        .iter()
        .filter_map(|validation| validation.message.as_ref())
        .map(|message| format!("\"{message}\""))
        .collect();
    if !messages.is_empty() {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "Make the object satisfy every validation: {}",
                messages.join("; ")
            ),
        ));
    }
    let expressions: Vec<String> = details
        .validations
        .iter()
        .map(|validation| format!("`{}`", validation.expression))
        .collect();
    if !expressions.is_empty() {
        steps.push(
            Step::new(
                Privilege::Developer,
                format!(
                    "The CEL expressions that must be true: {}",
                    expressions.join("; ")
                ),
            )
            .from_rule_body(),
        );
    }
    if !details.validation_actions.is_empty()
        && !details
            .validation_actions
            .iter()
            .any(|action| action == "Deny")
    {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "The binding's actions are {}: nothing is rejected",
                details.validation_actions.join(", ")
            ),
        ));
    }
    if let Some(status) = &details.param_status
        && (status == "missing" || status == "noParamRef")
    {
        steps.push(Step::new(
            Privilege::ClusterAdmin,
            format!(
                "The binding's parameter resource is {status}: with `parameterNotFoundAction: Deny` or failure policy `{}`, every request it matches is rejected until a cluster admin fixes the binding",
                details.failure_policy
            ),
        ));
    }
    if let Some(binding) = &details.binding {
        let operations = json!([{
            "op": "add",
            "path": "/spec/matchResources/namespaceSelector/matchExpressions/-",
            "value": {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": [context.namespace_text()],
            },
        }]);
        steps.push(
            Step::new(
                Privilege::ClusterAdmin,
                format!(
                    "If the object cannot comply, ask a cluster admin (see contacts) to exclude namespace `{}` in the binding's `matchResources` (the path must exist: add `namespaceSelector.matchExpressions: []` first if it does not)",
                    context.namespace_text()
                ),
            )
            .command(patch_command(
                "kubectl",
                &format!("{kind}binding/{binding}"),
                "json",
                &operations,
            ))
            .patch(Patch {
                target: format!("{}Binding {binding}", context.constraint.source.kind),
                format: PatchFormat::JsonPatch,
                body: yaml(&operations),
            }),
        );
    }
    steps
}
