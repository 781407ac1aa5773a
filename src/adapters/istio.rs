//! Istio adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct IstioAdapter;

impl Adapter for IstioAdapter {
    fn name(&self) -> &'static str {
        "istio"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
