//! Pod Security Standards conformance: the engine against the upstream fixtures in
//! `../shared/corpora/pod-security-admission/` (scored per level and version, failing below the
//! floor in `testdata/psa/conformance-floor.txt`), and against potoo's own YAML cases in
//! `testdata/psa/` (every check, passing and failing, at representative versions).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use potoo::adapters::Registry;
use potoo::engine::admission::{self, CheckRequest, Manifest, psa};
use potoo::model::finding::{CheckResult, Verdict};
use potoo::source::Snapshot;
use potoo::source::snapshot::{SourceInfo, object_from_value};
use serde_json::{Value, json};

const NAMESPACE: &str = "conformance";

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/pod-security-admission/test/testdata")
}

/// Checks pods in a namespace labelled `enforce=<level>`, `enforce-version=<version>` (and any
/// extra labels), through the same path as `check -f`.
fn check_pods(labels: BTreeMap<String, String>, pods: Vec<(String, Value)>) -> CheckResult {
    let mut snapshot = Snapshot::new(SourceInfo::default());
    snapshot.insert(
        object_from_value(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": labels}}))
        .unwrap(),
    );
    let manifests: Vec<Manifest> = pods
        .into_iter()
        .enumerate()
        .map(|(index, (file, mut pod))| {
            if let Some(metadata) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.insert("namespace".to_string(), json!(NAMESPACE));
            }
            admission::manifest_from_value(pod, &file, index + 1, None, None).unwrap()
        })
        .collect();
    let merged = admission::overlay_namespaces(&snapshot, &manifests);
    let adapted = Registry::default().adapt(&merged);
    admission::check(
        &snapshot,
        &merged,
        &adapted,
        &CheckRequest {
            manifests,
            default_namespace: NAMESPACE.to_string(),
        },
    )
}

fn enforce_labels(level: &str, version: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "pod-security.kubernetes.io/enforce".to_string(),
            level.to_string(),
        ),
        (
            "pod-security.kubernetes.io/enforce-version".to_string(),
            version.to_string(),
        ),
    ])
}

fn yaml_files(directory: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| {
                    path.extension()
                        .is_some_and(|extension| extension == "yaml")
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The check ID a fixture is about: its file stem without trailing digits, lower-cased.
fn expected_check(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    stem.trim_end_matches(|character: char| character.is_ascii_digit())
        .to_ascii_lowercase()
}

#[derive(Default)]
struct Score {
    passed: usize,
    total: usize,
}

#[test]
fn upstream_fixtures_meet_the_floor() {
    let root = corpus_root();
    if !root.is_dir() {
        println!(
            "PSA conformance: corpus not found at {} (not part of the repository); skipped",
            root.display()
        );
        return;
    }
    let mut scores: BTreeMap<(String, u64), Score> = BTreeMap::new();
    let mut failures = Vec::new();
    for level in ["baseline", "restricted"] {
        let mut versions: Vec<(u64, PathBuf)> = std::fs::read_dir(root.join(level))
            .unwrap()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let minor = path
                    .file_name()?
                    .to_str()?
                    .strip_prefix("v1.")?
                    .parse()
                    .ok()?;
                Some((minor, path))
            })
            .collect();
        versions.sort();
        for (minor, directory) in versions {
            let version = format!("v1.{minor}");
            let mut fixtures = Vec::new();
            for outcome in ["pass", "fail"] {
                for path in yaml_files(&directory.join(outcome)) {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let pod: Value = serde_saphyr::from_str(&text)
                        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                    fixtures.push((outcome, path, pod));
                }
            }
            let result = check_pods(
                enforce_labels(level, &version),
                fixtures
                    .iter()
                    .map(|(_, path, pod)| (path.display().to_string(), pod.clone()))
                    .collect(),
            );
            let score = scores.entry((level.to_string(), minor)).or_default();
            for ((outcome, path, _), entry) in fixtures.iter().zip(&result.objects) {
                score.total += 1;
                let reported: BTreeSet<String> = entry
                    .findings
                    .iter()
                    .filter(|finding| finding.verdict == Verdict::Blocked)
                    .filter_map(|finding| finding.rule.as_deref())
                    .map(str::to_ascii_lowercase)
                    .collect();
                // At restricted, a baseline check that a restricted check overrides is evaluated
                // (and reported by the apiserver) under the overriding check's ID.
                let expected = expected_check(path);
                let accepted: Vec<String> = std::iter::once(expected.clone())
                    .chain(
                        psa::replaced_by(&level_version(level, &version), &expected)
                            .map(str::to_ascii_lowercase),
                    )
                    .collect();
                let ok = match *outcome {
                    "pass" => entry.verdict == Verdict::Pass,
                    _ => {
                        entry.verdict == Verdict::Blocked
                            && accepted.iter().any(|id| reported.contains(id))
                    }
                };
                if ok {
                    score.passed += 1;
                } else {
                    failures.push(format!(
                        "{level}/{version}/{outcome}/{}: verdict {}, checks {reported:?}",
                        path.file_name().unwrap().to_string_lossy(),
                        entry.verdict
                    ));
                }
            }
        }
    }
    let (passed, total) = scores.values().fold((0, 0), |(passed, total), score| {
        (passed + score.passed, total + score.total)
    });
    println!("PSA conformance (upstream fixtures, per level/version):");
    for ((level, minor), score) in &scores {
        println!(
            "  {level:<10} v1.{minor:<3} {:>3}/{:<3} {:6.2}%",
            score.passed,
            score.total,
            percent(score.passed, score.total)
        );
    }
    for level in ["baseline", "restricted"] {
        let (level_passed, level_total) = scores
            .iter()
            .filter(|((name, _), _)| name == level)
            .fold((0, 0), |(passed, total), (_, score)| {
                (passed + score.passed, total + score.total)
            });
        println!(
            "  {level:<10} all    {level_passed:>4}/{level_total:<4} {:6.2}%",
            percent(level_passed, level_total)
        );
    }
    let overall = percent(passed, total);
    println!("  overall           {passed:>4}/{total:<4} {overall:6.2}%");
    // One summary line that `cargo test` shows even when it captures output (the per-version
    // table above appears with `--nocapture`).
    let mut summary = Vec::new();
    for level in ["baseline", "restricted"] {
        let level_scores: Vec<(u64, &Score)> = scores
            .iter()
            .filter(|((name, _), _)| name == level)
            .map(|((_, minor), score)| (*minor, score))
            .collect();
        let (level_passed, level_total) = level_scores
            .iter()
            .fold((0, 0), |(passed, total), (_, score)| {
                (passed + score.passed, total + score.total)
            });
        let below: Vec<String> = level_scores
            .iter()
            .filter(|(_, score)| score.passed < score.total)
            .map(|(minor, score)| format!("v1.{minor} {:.1}%", percent(score.passed, score.total)))
            .collect();
        summary.push(format!(
            "{level} {level_passed}/{level_total} ({:.2}%; {})",
            percent(level_passed, level_total),
            if below.is_empty() {
                format!("all {} versions at 100%", level_scores.len())
            } else {
                format!("below 100%: {}", below.join(", "))
            }
        ));
    }
    let _ = writeln!(
        std::io::stderr(),
        "PSA conformance: {}, overall {passed}/{total} ({overall:.2}%)",
        summary.join(", ")
    );
    for failure in failures.iter().take(400) {
        println!("  FAILED {failure}");
    }
    let floor_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/psa/conformance-floor.txt"),
    )
    .unwrap();
    let floor: f64 = floor_text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .and_then(|line| line.trim_end_matches('%').parse().ok())
        .expect("conformance-floor.txt holds a percentage");
    assert!(total > 0, "no fixtures found under {}", root.display());
    assert!(
        overall + 1e-9 >= floor,
        "PSA conformance {overall:.2}% is below the floor {floor:.2}% ({} failures)",
        failures.len()
    );
}

fn percent(passed: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        passed as f64 * 100.0 / total as f64
    }
}

/// One case of `testdata/psa/*.yaml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    level: String,
    /// Each version the case is evaluated at (`v1.X` or `latest`).
    versions: Vec<String>,
    /// Extra namespace labels (warn/audit modes).
    #[serde(default)]
    labels: BTreeMap<String, String>,
    pod: Value,
    /// Whether enforce mode admits the pod.
    allowed: bool,
    /// The failing check IDs, in the apiserver's order (empty when allowed).
    #[serde(default)]
    checks: Vec<String>,
    /// The exact enforce message, `{version}` standing for the version evaluated.
    #[serde(default)]
    message: Option<String>,
    /// Field paths that must be reported (any check).
    #[serde(default)]
    field_paths: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    cases: Vec<Case>,
}

#[test]
fn own_cases_cover_every_check() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/psa");
    let mut failing_checks = BTreeSet::new();
    let mut passing_checks = BTreeSet::new();
    let mut count = 0;
    let mut errors = Vec::new();
    for path in yaml_files(&directory) {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: CaseFile = serde_saphyr::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        for case in file.cases {
            for version in &case.versions {
                count += 1;
                let mut labels = enforce_labels(&case.level, version);
                labels.extend(case.labels.clone());
                let mut pod = case.pod.clone();
                if let Value::Object(fields) = &mut pod {
                    fields.entry("apiVersion").or_insert(json!("v1"));
                    fields.entry("kind").or_insert(json!("Pod"));
                    fields.entry("metadata").or_insert(json!({"name": "case"}));
                }
                let result = check_pods(labels, vec![(path.display().to_string(), pod)]);
                let entry = &result.objects[0];
                let mut reported: Vec<String> = Vec::new();
                for finding in &entry.findings {
                    if finding.verdict == Verdict::Blocked
                        && let Some(rule) = &finding.rule
                        && !reported.contains(rule)
                    {
                        reported.push(rule.clone());
                    }
                }
                let label = format!("{}: {} at {version}", path.display(), case.name);
                let allowed = entry.verdict != Verdict::Blocked;
                if allowed != case.allowed {
                    errors.push(format!(
                        "{label}: expected allowed={}, got {} {:?}",
                        case.allowed, entry.verdict, entry.findings
                    ));
                    continue;
                }
                if reported != case.checks {
                    errors.push(format!(
                        "{label}: expected checks {:?}, got {reported:?}",
                        case.checks
                    ));
                }
                if let Some(expected) = &case.message {
                    let expected = expected.replace("{version}", version);
                    let actual = entry
                        .findings
                        .iter()
                        .find(|finding| finding.verdict == Verdict::Blocked)
                        .map(|finding| finding.message.clone())
                        .unwrap_or_default();
                    if actual != expected {
                        errors.push(format!(
                            "{label}: message\n  expected {expected}\n  actual   {actual}"
                        ));
                    }
                }
                for expected in &case.field_paths {
                    let found = entry.findings.iter().any(|finding| {
                        finding.field_path.as_ref() == Some(expected)
                            || finding.field_paths.contains(expected)
                    });
                    if !found {
                        errors.push(format!("{label}: field path `{expected}` not reported"));
                    }
                }
                if case.allowed {
                    for check in psa::check_ids_for(&level_version(&case.level, version)) {
                        passing_checks.insert(check.to_string());
                    }
                } else {
                    failing_checks.extend(case.checks.iter().cloned());
                }
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{} case(s) failed:\n{}",
        errors.len(),
        errors.join("\n")
    );
    let all: BTreeSet<String> = psa::check_ids().into_iter().map(str::to_string).collect();
    let never_failed: Vec<&String> = all.difference(&failing_checks).collect();
    assert!(
        never_failed.is_empty(),
        "checks without a failing case: {never_failed:?}"
    );
    let never_passed: Vec<&String> = all.difference(&passing_checks).collect();
    assert!(
        never_passed.is_empty(),
        "checks without a passing case: {never_passed:?}"
    );
    println!("{count} PSA case evaluations passed");
}

fn level_version(level: &str, version: &str) -> psa::LevelVersion {
    psa::LevelVersion::new(
        psa::Level::parse(level).unwrap(),
        psa::PolicyVersion::parse(version).unwrap(),
    )
}
