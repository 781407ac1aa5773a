//! Gatekeeper adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct GatekeeperAdapter;

impl Adapter for GatekeeperAdapter {
    fn name(&self) -> &'static str {
        "gatekeeper"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
