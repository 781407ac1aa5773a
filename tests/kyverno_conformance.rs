//! Kyverno conformance: the `test` suite runner against the upstream `kyverno/policies` suites in
//! `../shared/corpora/kyverno-policies` (never copied into the repository). Scores are printed
//! per family — classic validate policies (pattern/deny/podSecurity/foreach), `*-cel`
//! (`validate.cel`), `*-vpol` (ValidatingPolicy) — with mutate/generate suites (`*-mpol`,
//! `*-gpol`, and mutate/generate rules of classic policies) listed but excluded; the test fails
//! below the floors in `testdata/kyverno/conformance-floor.txt`. Set `POTOO_CONFORMANCE_VERBOSE=1`
//! to print every case that is not a pass.

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

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/kyverno-policies")
}

/// The family of a suite from its top-level folder, refined by the rule kind of each case.
fn family(file: &str, root: &Path, case: &CaseResult) -> &'static str {
    let relative = Path::new(file)
        .strip_prefix(root)
        .map(|path| path.to_path_buf())
        .unwrap_or_else(|_| PathBuf::from(file));
    let top = relative
        .components()
        .next()
        .and_then(|component| component.as_os_str().to_str())
        .unwrap_or_default()
        .to_string();
    if top.ends_with("-mpol") || top.ends_with("-gpol") {
        return "excluded: mpol/gpol (not validate)";
    }
    if top.ends_with("-vpol") {
        return "vpol";
    }
    if top.ends_with("-cel") {
        return "cel";
    }
    if matches!(case.rule_kind.as_str(), "mutate" | "generate") {
        return "excluded: classic mutate/generate (not validate)";
    }
    "classic"
}

fn floors() -> BTreeMap<String, f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kyverno/conformance-floor.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (family, floor) = line.split_once(char::is_whitespace)?;
            Some((family.to_string(), floor.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn kyverno_policies_corpus() {
    let root = corpus_root();
    if !root.is_dir() {
        println!(
            "note: {} is missing; Kyverno conformance not scored",
            root.display()
        );
        return;
    }
    let report = test_suite::run(&root, &Files).expect("the corpus has suites");
    let verbose = std::env::var_os("POTOO_CONFORMANCE_VERBOSE").is_some();
    // family -> (pass, fail, unknown)
    let mut scores: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
    let mut suite_errors = Vec::new();
    for suite in &report.suites {
        if let Some(error) = &suite.error {
            suite_errors.push(format!("{}: {error}", suite.file));
        }
        for case in &suite.cases {
            let family = family(&suite.file, &root, case);
            let entry = scores.entry(family).or_default();
            match case.outcome {
                CaseOutcome::Pass => entry.0 += 1,
                CaseOutcome::Fail => entry.1 += 1,
                CaseOutcome::Unknown => entry.2 += 1,
            }
            if verbose && case.outcome != CaseOutcome::Pass && !family.starts_with("excluded") {
                println!(
                    "{:<8} {family:<8} {} | {} {} {} expected={} actual={} | {}",
                    case.outcome.as_str(),
                    suite.file.trim_start_matches(&root.display().to_string()),
                    case.policy,
                    case.rule,
                    case.resource,
                    case.expected,
                    case.actual,
                    case.reason.chars().take(200).collect::<String>()
                );
            }
        }
    }
    for error in &suite_errors {
        println!("suite error: {error}");
    }
    let floors = floors();
    let mut below = Vec::new();
    println!("Kyverno conformance (kyverno/policies corpus):");
    for (family, (pass, fail, unknown)) in &scores {
        let total = pass + fail + unknown;
        let score = if total == 0 {
            100.0
        } else {
            100.0 * *pass as f64 / total as f64
        };
        println!(
            "  {family:<50} {score:6.2}%  ({pass} pass, {fail} fail, {unknown} unknown of {total})"
        );
        if let Some(floor) = floors.get(*family)
            && score + 1e-9 < *floor
        {
            below.push(format!("{family}: {score:.2}% < floor {floor:.2}%"));
        }
    }
    assert!(
        below.is_empty(),
        "Kyverno conformance dropped below the floor: {below:?}"
    );
}
