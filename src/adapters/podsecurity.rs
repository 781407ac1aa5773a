//! PodSecurity adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct PodSecurityAdapter;

impl Adapter for PodSecurityAdapter {
    fn name(&self) -> &'static str {
        "podsecurity"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
