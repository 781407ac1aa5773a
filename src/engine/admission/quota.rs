//! The ResourceQuota engine for `check`: what the manifests would add to each quota's usage, and
//! which object would be the first to exceed it. Not evaluated yet: `unknown`.

use crate::model::finding::Finding;

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// Usage added by the objects checked so far in this run, per quota.
#[derive(Debug, Default)]
pub struct Ledger {}

/// Findings of every ResourceQuota of the object's namespace.
pub fn evaluate(
    _context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
    _ledger: &mut Ledger,
) -> Vec<Finding> {
    applicable
        .iter()
        .map(|applicable| {
            unknown_finding(
                object,
                applicable,
                "because ResourceQuota usage is not evaluated yet",
            )
        })
        .collect()
}
