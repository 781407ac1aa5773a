//! Typed details of PolicyReport constraints (filled by `adapters/policyreport.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReportDetails {}
