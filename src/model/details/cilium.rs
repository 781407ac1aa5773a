//! Typed details of Cilium constraints (filled by `adapters/cilium.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiliumDetails {}
