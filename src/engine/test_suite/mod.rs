//! Policy test suites (`test PATH`): finding suite files under a path, running them through the
//! engine of their family, and the per-case report (pass / fail / unknown) every renderer reads.
//! Files are read through a `SuiteSource`, so the engine itself does no I/O.

pub mod gator;
pub mod kyverno;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

/// Where suite files come from (the file system for the CLI, memory for tests).
pub trait SuiteSource {
    /// The text of one file.
    fn read(&self, path: &Path) -> Result<String, String>;
    /// The entries of a directory (files and directories), any order.
    fn list(&self, directory: &Path) -> Result<Vec<PathBuf>, String>;
    fn is_dir(&self, path: &Path) -> bool;
}

/// How one expected result compared with what the engine computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseOutcome {
    Pass,
    Fail,
    /// The engine could not evaluate the rule (e.g. CEL, an apiCall context): not a pass.
    Unknown,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Pass => "pass",
            CaseOutcome::Fail => "fail",
            CaseOutcome::Unknown => "unknown",
        }
    }
}

/// One expected result of a suite for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub policy: String,
    pub rule: String,
    /// `Kind/name` or `Kind/namespace/name`.
    pub resource: String,
    pub expected: String,
    /// What the engine said: `pass`, `fail`, `warn`, `skip`, `error`, `unknown`.
    pub actual: String,
    pub outcome: CaseOutcome,
    /// Why: the engine's message, or why the case could not be run.
    pub reason: String,
    /// The policy's kind (`ClusterPolicy`, `ValidatingPolicy`, …), empty when not found.
    pub policy_kind: String,
    /// The rule's kind: `validate`, `mutate`, `generate`, `verifyImages`, `cel`, or empty.
    pub rule_kind: String,
}

/// One suite file and its cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteResult {
    /// The suite file, as found under the path given.
    pub file: String,
    pub name: String,
    /// `kyverno` or `gatekeeper`.
    pub engine: String,
    pub cases: Vec<CaseResult>,
    /// Why the suite could not be run at all (then it counts as failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SuiteResult {
    pub fn count(&self, outcome: CaseOutcome) -> usize {
        self.cases
            .iter()
            .filter(|case| case.outcome == outcome)
            .count()
    }

    pub fn failed(&self) -> bool {
        self.error.is_some() || self.count(CaseOutcome::Fail) > 0
    }
}

/// Counts over every suite.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestSummary {
    pub suites: usize,
    pub cases: usize,
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    /// Suites that could not be run.
    pub errors: usize,
}

/// The report of `test PATH`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub api_version: String,
    pub kind: String,
    pub summary: TestSummary,
    pub suites: Vec<SuiteResult>,
}

impl TestReport {
    pub fn new(suites: Vec<SuiteResult>) -> TestReport {
        let mut summary = TestSummary {
            suites: suites.len(),
            ..TestSummary::default()
        };
        for suite in &suites {
            summary.cases += suite.cases.len();
            summary.pass += suite.count(CaseOutcome::Pass);
            summary.fail += suite.count(CaseOutcome::Fail);
            summary.unknown += suite.count(CaseOutcome::Unknown);
            summary.errors += usize::from(suite.error.is_some());
        }
        TestReport {
            api_version: "potoo.dev/v1alpha1".to_string(),
            kind: "TestResult".to_string(),
            summary,
            suites,
        }
    }

    /// Exit 1: a case failed or a suite could not be run. Unknown cases do not fail the run.
    pub fn failed(&self) -> bool {
        self.suites.iter().any(SuiteResult::failed)
    }
}

/// Every suite file under `root` (a suite file itself, or a directory searched recursively):
/// `kyverno-test.yaml` (also inside `.kyverno-test/`) and gator `Suite` files, sorted by path.
pub fn discover(root: &Path, source: &dyn SuiteSource) -> Result<Vec<PathBuf>, String> {
    if !source.is_dir(root) {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in source.list(&directory)? {
            if source.is_dir(&entry) {
                let name = entry
                    .file_name()
                    .and_then(|name| name.to_str())
                    .unwrap_or_default();
                if name != ".git" && name != "node_modules" {
                    pending.push(entry);
                }
            } else if kyverno::is_suite_file(&entry) || gator::is_suite_file(&entry, source) {
                found.push(entry);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Runs every suite under `root`.
pub fn run(root: &Path, source: &dyn SuiteSource) -> Result<TestReport, String> {
    let files = discover(root, source)?;
    if files.is_empty() {
        return Err(format!(
            "no test suites found under `{}` (looked for `kyverno-test.yaml` and gator `Suite` files)",
            root.display()
        ));
    }
    let suites = files
        .iter()
        .map(|file| {
            if gator::is_suite_file(file, source) {
                gator::run_suite(file, source)
            } else {
                kyverno::run_suite(file, source)
            }
        })
        .collect();
    Ok(TestReport::new(suites))
}

/// Splits a YAML stream into documents (`List` objects are expanded into their items);
/// `null` documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let mut documents = Vec::new();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let value: Value =
            serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
        match value {
            Value::Array(items) => documents.extend(items),
            other => documents.push(other),
        }
    } else {
        let mut chunk = String::new();
        let mut chunks = Vec::new();
        for line in text.split_inclusive('\n') {
            let content = line.trim_end();
            if content == "---" || content.starts_with("--- ") {
                chunks.push(std::mem::take(&mut chunk));
            } else {
                chunk.push_str(line);
            }
        }
        chunks.push(chunk);
        for (index, chunk) in chunks.iter().enumerate() {
            if chunk
                .lines()
                .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
            {
                continue;
            }
            let value: Value = serde_saphyr::from_str(chunk).map_err(|error| {
                format!(
                    "document {}: invalid YAML: {}",
                    index + 1,
                    error
                        .without_snippet()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                )
            })?;
            documents.push(value);
        }
    }
    let mut out = Vec::new();
    for document in documents {
        if document.is_null() {
            continue;
        }
        let is_list = document
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind == "List" || kind.ends_with("List"))
            && document.get("items").is_some_and(Value::is_array);
        if is_list {
            if let Some(Value::Array(items)) = document.get("items") {
                out.extend(items.iter().cloned());
            }
        } else {
            out.push(document);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_and_lists_expand() {
        let text = "a: 1\n---\n# only a comment\n---\nkind: List\nitems:\n- b: 2\n- b: 3\n";
        let documents = parse_documents(text).unwrap_or_default();
        assert_eq!(documents.len(), 3);
        assert_eq!(documents[2]["b"], 3);
    }
}
