//! Typed details of Gatekeeper constraints (filled by `adapters/gatekeeper.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatekeeperDetails {}
