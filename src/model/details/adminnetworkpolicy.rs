//! Typed details of AdminNetworkPolicy constraints (filled by `adapters/adminnetworkpolicy.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicyDetails {}
