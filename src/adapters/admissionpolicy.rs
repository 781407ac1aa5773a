//! AdmissionPolicy adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct AdmissionPolicyAdapter;

impl Adapter for AdmissionPolicyAdapter {
    fn name(&self) -> &'static str {
        "admissionpolicy"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
