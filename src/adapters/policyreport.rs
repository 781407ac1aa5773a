//! PolicyReport adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct PolicyReportAdapter;

impl Adapter for PolicyReportAdapter {
    fn name(&self) -> &'static str {
        "policyreport"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
