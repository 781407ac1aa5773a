//! Typed details of PodSecurity constraints (filled by `adapters/podsecurity.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityDetails {}
