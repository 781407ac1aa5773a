//! AdminNetworkPolicy adapter (to be written).

use super::registry::{Adapter, AdapterOutput};
use crate::source::{Object, Snapshot};

pub struct AdminNetworkPolicyAdapter;

impl Adapter for AdminNetworkPolicyAdapter {
    fn name(&self) -> &'static str {
        "adminnetworkpolicy"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn adapt(&self, _object: &Object, _snapshot: &Snapshot, _output: &mut AdapterOutput) {}
}
