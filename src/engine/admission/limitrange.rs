//! The LimitRange engine for `check`: the defaults the LimitRanger plugin would inject and its
//! min/max/ratio verdicts. Not evaluated yet: `unknown`.

use crate::model::finding::Finding;

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// Findings of every LimitRange of the object's namespace.
pub fn evaluate(
    _context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    applicable
        .iter()
        .map(|applicable| {
            unknown_finding(
                object,
                applicable,
                "because LimitRange limits and defaults are not evaluated yet",
            )
        })
        .collect()
}
