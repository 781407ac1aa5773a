//! Per-family constraint details beyond the core families; one file per family.

pub mod adminnetworkpolicy;
pub mod admissionpolicy;
pub mod cilium;
pub mod gatekeeper;
pub mod istio;
pub mod kyverno;
pub mod podsecurity;
pub mod policyreport;
