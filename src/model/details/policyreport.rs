//! Typed details of policy report constraints (filled by `adapters/policyreport.rs`): one
//! failing, warning or erroring result of a PolicyReport / ClusterPolicyReport / Report /
//! ClusterReport, and the counts of the whole report.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::LabelSelector;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReportDetails {
    /// `PolicyReport`, `ClusterPolicyReport`, `Report` or `ClusterReport`.
    pub report_kind: String,
    pub report_name: String,
    /// The engine or scanner that produced the result (`kyverno`, `kubewarden`, `trivy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The policy as the result names it (`require-labels`, `team-a/require-app-label`).
    pub policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `fail`, `warn` or `error`.
    pub result: String,
    /// `critical`, `high`, `medium`, `low` or `info`, as the report says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scored: Option<bool>,
    /// Seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// The resource the result names (from `resources[]`, else the report's `scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceReference>,
    /// `resourceSelector`, else the report's `scopeSelector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_selector: Option<LabelSelector>,
    /// Controllers the resource belongs to, as `Kind/name` (a Pod's ReplicaSet and Deployment).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// Whether the policy blocks admission of this resource's next change (the result's
    /// properties say so, or the Kyverno policy in the Snapshot enforces the rule).
    pub enforced: bool,
    /// Results of the whole report by outcome; `pass` and `skip` become no constraint.
    pub counts: ResultCounts,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultCounts {
    pub pass: u64,
    pub fail: u64,
    pub warn: u64,
    pub error: u64,
    pub skip: u64,
}
