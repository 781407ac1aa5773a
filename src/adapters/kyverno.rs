//! Kyverno adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct KyvernoAdapter;

impl Adapter for KyvernoAdapter {
    fn name(&self) -> &'static str {
        "kyverno"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
