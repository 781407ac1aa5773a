//! Remediation for families without specific steps (AdminNetworkPolicy, PolicyReport evidence,
//! unclaimed policy-like kinds): the adapter's hint, read the object, then ask whoever may change
//! it. (Families with specific steps leave the hint out: it repeats them without a privilege.)

use super::Context;
use crate::model::remediation::{Privilege, Step};

pub(super) fn steps(context: &Context) -> Vec<Step> {
    let source = &context.constraint.source;
    let owner = context.policy_owner_privilege();
    let who = match owner {
        Privilege::ClusterAdmin => "a cluster admin".to_string(),
        _ => format!(
            "an admin of namespace `{}`",
            source.namespace.as_deref().unwrap_or_default()
        ),
    };
    let mut steps = Vec::new();
    if let Some(hint) = &context.constraint.remediation_hint {
        steps.push(Step::new(
            Privilege::Developer,
            format!("Suggested: {hint}"),
        ));
    }
    steps.extend([
        Step::new(
            Privilege::Developer,
            format!(
                "Read {} `{}`: its spec says what it requires ({})",
                source.kind, source.name, context.constraint.summary
            ),
        )
        .command(context.policy_get_command()),
        Step::new(
            owner,
            format!(
                "If {} cannot comply, only {who} can change or exempt it (see contacts)",
                context.workload_label()
            ),
        ),
    ]);
    steps
}
