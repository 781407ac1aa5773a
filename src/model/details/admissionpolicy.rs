//! Typed details of AdmissionPolicy constraints (filled by `adapters/admissionpolicy.rs`).

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicyDetails {}
