//! Report documents: what engines return and renderers print (`apiVersion: potoo.dev/v1alpha1`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::constraint::Constraint;
use crate::adapters::Diagnostic;
use crate::source::Gap;
use crate::source::snapshot::SourceInfo;

pub const API_VERSION: &str = "potoo.dev/v1alpha1";

/// What `query` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    pub scope: QueryScope,
    pub constraints: Vec<QueryEntry>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryScope {
    /// `null` with `-A`.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// One constraint that applies, where and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryEntry {
    #[serde(flatten)]
    pub constraint: Constraint,
    /// The namespaces in scope where it applies.
    pub namespaces: Vec<String>,
    pub matched_because: Vec<String>,
}

/// What `status` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResult {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    pub source: SourceInfo,
    pub engines: Vec<EngineStatus>,
    pub objects: usize,
    pub constraints: usize,
    pub by_type: BTreeMap<String, usize>,
    pub by_severity: BTreeMap<String, usize>,
    pub by_namespace: BTreeMap<String, usize>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A policy engine (or Kubernetes itself) and what potoo saw of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub name: String,
    /// Read from CRD or webhook labels (`app.kubernetes.io/version`), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub kinds: Vec<KindStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindStatus {
    pub group: String,
    pub kind: String,
    /// API versions seen (on objects, or served per discovery).
    pub versions: Vec<String>,
    pub objects: usize,
    pub constraints: usize,
    /// The kind is served but could not be read.
    pub unreadable: bool,
}
