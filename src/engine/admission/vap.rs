//! The ValidatingAdmissionPolicy engine for `check`: evaluates each policy × binding (CEL with
//! kube-cel) on manifest objects. Not evaluated yet: `unknown`.

use crate::model::finding::Finding;

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// Findings of every ValidatingAdmissionPolicy binding that applies to the object.
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
                "because ValidatingAdmissionPolicy CEL expressions are not evaluated yet",
            )
        })
        .collect()
}
