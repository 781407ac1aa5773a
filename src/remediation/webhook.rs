//! Admission webhook remediation: potoo cannot see what a webhook decides, so the steps are its
//! error message, the labels its `objectSelector` skips, its failure policy when the service is
//! down, and whom to ask.

use super::Context;
use crate::model::constraint::WebhookDetails;
use crate::model::remediation::{Privilege, Step};
use crate::model::selector::Operator;

pub(super) fn steps(context: &Context, details: &WebhookDetails) -> Vec<Step> {
    let source = &context.constraint.source;
    let resource = if details.webhook_type == "mutating" {
        "mutatingwebhookconfiguration"
    } else {
        "validatingwebhookconfiguration"
    };
    let mut steps = Vec::new();
    let decides = match details.engine.as_deref() {
        Some(engine) => format!(
            "Webhook `{}` belongs to {engine}: its decisions come from {engine} policies — run `kubectl potoo query` to see them, and `kubectl potoo remediate` on the one the error names",
            details.webhook_name
        ),
        None => format!(
            "Webhook `{}` decides in its own code, which potoo cannot see: the rejection message it returned says what it wants",
            details.webhook_name
        ),
    };
    steps.push(
        Step::new(Privilege::Developer, decides)
            .command(format!("kubectl get {resource} {} -o yaml", source.name)),
    );
    if let Some(selector) = &details.object_selector {
        let mut skips = Vec::new();
        for requirement in &selector.match_expressions {
            match requirement.operator {
                Operator::NotIn => {
                    for value in &requirement.values {
                        skips.push(format!("{}={value}", requirement.key));
                    }
                }
                Operator::DoesNotExist => skips.push(format!("{} (any value)", requirement.key)),
                Operator::In | Operator::Exists => {}
            }
        }
        if !skips.is_empty() {
            steps.push(Step::new(
                Privilege::Developer,
                format!(
                    "The webhook skips objects labelled {}; such a label is an exemption the webhook's owners grant — ask them before using it",
                    skips.join(" or ")
                ),
            ));
        }
    }
    if details.failure_policy == "Fail" {
        let client = details.client.as_deref().unwrap_or("the webhook's service");
        steps.push(Step::new(
            Privilege::ClusterAdmin,
            format!(
                "If the error says `failed calling webhook`, the call to {client} failed or timed out ({}s) and failure policy `Fail` rejects the request: a cluster admin must bring the service back",
                details.timeout_seconds
            ),
        ));
    }
    steps.push(Step::new(
        Privilege::ClusterAdmin,
        format!(
            "Exemptions (namespaceSelector, objectSelector, matchConditions) are changed in {} `{}` by a cluster admin (see contacts)",
            source.kind, source.name
        ),
    ));
    steps
}
