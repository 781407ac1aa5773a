//! Adapters turn policy objects into normalized Constraints: one file per family, plus the
//! registry that routes objects and the generic adapter for unclaimed policy-like kinds.

pub mod adminnetworkpolicy;
pub mod admissionpolicy;
pub mod cilium;
pub mod fields;
pub mod gatekeeper;
pub mod generic;
pub mod istio;
pub mod kyverno;
pub mod limitrange;
pub mod networkpolicy;
pub mod podsecurity;
pub mod policyreport;
pub mod registry;
pub mod resourcequota;
pub mod webhook;

pub use registry::{Adapter, AdapterOutput, Diagnostic, Registry};
