//! Typed details of Kyverno constraints (filled by `adapters/kyverno.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KyvernoDetails {}
