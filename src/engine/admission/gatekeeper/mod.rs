//! The Gatekeeper engine for `check`: evaluates constraints of ConstraintTemplates (Rego with
//! regorus, `K8sNativeValidation` CEL) on manifest objects. Not evaluated yet: `unknown`.

use crate::model::finding::Finding;

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// Findings of every Gatekeeper constraint that applies to the object.
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
                "because Gatekeeper constraints are not evaluated yet",
            )
        })
        .collect()
}
