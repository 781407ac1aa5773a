//! Typed details of Pod Security Admission constraints (filled by `adapters/podsecurity.rs`):
//! one namespace label mode with its level and version as the apiserver resolves them.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityDetails {
    /// `enforce`, `warn` or `audit`.
    pub mode: String,
    /// The level the apiserver evaluates: `privileged`, `baseline` or `restricted`. An invalid
    /// label value becomes `restricted` for enforce and `privileged` for warn and audit.
    pub level: String,
    /// `latest` or `v1.X`; an absent or invalid label means `latest`.
    pub version: String,
    /// The level label's value as written.
    pub level_label: String,
    /// The version label's value as written; absent when the label is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_label: Option<String>,
    /// Exempt usernames, runtime classes and namespaces are apiserver configuration
    /// (AdmissionConfiguration `PodSecurity`), invisible client-side.
    pub exemptions: String,
}
