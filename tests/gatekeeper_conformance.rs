//! Gatekeeper conformance: the `test` suite runner (gator `Suite` files) against the upstream
//! `open-policy-agent/gatekeeper-library` suites in `../shared/corpora/gatekeeper-library` (never
//! copied into the repository). Prints `gatekeeper: N/M cases (X %)` and the count of every
//! failure class, and fails below the floor in `testdata/gatekeeper/conformance-floor.txt`. Set
//! `POTOO_CONFORMANCE_VERBOSE=1` to print every case that is not a pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use potoo::engine::test_suite::{self, CaseOutcome, CaseResult, SuiteSource};

struct Files;

impl SuiteSource for Files {
    fn read(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|error| error.to_string())
    }

    fn list(&self, directory: &Path) -> Result<Vec<PathBuf>, String> {
        let entries = std::fs::read_dir(directory).map_err(|error| error.to_string())?;
        Ok(entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect())
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// `../shared/corpora/gatekeeper-library` beside the repository (or beside the directory that
/// holds a git worktree of it).
fn corpus_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside = manifest.join("../shared/corpora/gatekeeper-library");
    if beside.is_dir() {
        return beside;
    }
    manifest.join("../../shared/corpora/gatekeeper-library")
}

fn floor() -> f64 {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gatekeeper/conformance-floor.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find_map(|line| {
            let (name, floor) = line.split_once(char::is_whitespace)?;
            (name == "gatekeeper").then(|| floor.trim().parse().ok())?
        })
        .unwrap_or(100.0)
}

/// The class of a case that is not a pass: what kind of cause it has.
fn failure_class(case: &CaseResult) -> String {
    let reason = &case.reason;
    let class = if case.outcome == CaseOutcome::Unknown {
        if reason.contains("K8sNativeValidation") {
            "unknown: CEL-only template"
        } else if reason.contains("external data") {
            "unknown: external_data"
        } else if reason.contains("does not compile") {
            "unknown: Rego does not compile"
        } else if reason.contains("could not be evaluated") {
            "unknown: Rego evaluation error"
        } else {
            "unknown: other"
        }
    } else if case.actual == "error" {
        "fail: case could not run"
    } else if reason.contains("but want none") {
        "fail: unexpected violations"
    } else if reason.contains("but want at least") {
        "fail: missing violations"
    } else {
        "fail: wrong violation count"
    };
    class.to_string()
}

#[test]
fn gatekeeper_library_corpus() {
    let root = corpus_root();
    if !root.is_dir() {
        println!(
            "note: {} is missing; Gatekeeper conformance not scored",
            root.display()
        );
        return;
    }
    let report = test_suite::run(&root, &Files).expect("the corpus has suites");
    let verbose = std::env::var_os("POTOO_CONFORMANCE_VERBOSE").is_some();
    let mut total = 0usize;
    let mut passed = 0usize;
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for suite in &report.suites {
        if suite.engine != "gatekeeper" {
            continue;
        }
        if let Some(error) = &suite.error {
            println!("suite error: {}: {error}", suite.file);
            *classes
                .entry("fail: suite could not run".to_string())
                .or_default() += 1;
            total += 1;
        }
        for case in &suite.cases {
            total += 1;
            if case.outcome == CaseOutcome::Pass {
                passed += 1;
                continue;
            }
            *classes.entry(failure_class(case)).or_default() += 1;
            if verbose {
                println!(
                    "{:<8} {} | {} / {} {} expected={} actual={} | {}",
                    case.outcome.as_str(),
                    suite.file.trim_start_matches(&root.display().to_string()),
                    case.policy,
                    case.rule,
                    case.resource,
                    case.expected,
                    case.actual,
                    case.reason.chars().take(300).collect::<String>()
                );
            }
        }
    }
    let score = if total == 0 {
        100.0
    } else {
        100.0 * passed as f64 / total as f64
    };
    println!("gatekeeper: {passed}/{total} cases ({score:.2} %)");
    for (class, count) in &classes {
        println!("  {class:<40} {count}");
    }
    let floor = floor();
    assert!(
        score + 1e-9 >= floor,
        "Gatekeeper conformance dropped below the floor: {score:.2}% < {floor:.2}%"
    );
}
