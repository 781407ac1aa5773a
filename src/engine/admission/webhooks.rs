//! Admission webhooks for `check`: which webhooks the apiserver would call for the object. A
//! webhook of an engine potoo evaluates itself (Kyverno, Gatekeeper) is folded into that engine's
//! verdict; any other decides on its own: `unknown`, never `pass`.

use crate::model::Details;
use crate::model::finding::Finding;

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// Findings of every webhook that would be called for the object.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    let family_present = |is_family: fn(&Details) -> bool| {
        context
            .adapted
            .constraints
            .iter()
            .any(|constraint| is_family(&constraint.details))
    };
    applicable
        .iter()
        .filter_map(|applicable| {
            let Details::Webhook(details) = &applicable.constraint.details else {
                return None;
            };
            let folded = match details.engine.as_deref() {
                Some("kyverno") => family_present(|details| matches!(details, Details::Kyverno(_))),
                Some("gatekeeper") => {
                    family_present(|details| matches!(details, Details::Gatekeeper(_)))
                }
                _ => false,
            };
            if folded {
                return None;
            }
            Some(unknown_finding(
                object,
                applicable,
                format!(
                    "because admission webhook `{}` runs in the cluster and cannot be evaluated client-side",
                    details.webhook_name
                ),
            ))
        })
        .collect()
}
