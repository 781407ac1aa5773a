//! Typed details of Istio constraints (filled by `adapters/istio.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioDetails {}
