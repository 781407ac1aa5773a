//! The Gatekeeper engine: YAML-driven cases in `testdata/gatekeeper/cases/` (templates, a
//! constraint, an object or AdmissionReview, inventory, and the expected violation messages,
//! `unknown` reason or `notMatched`), then the CLI end to end: `check -f` on the
//! `testdata/gatekeeper/scenario/` cluster and `test` on the gator suites in
//! `testdata/gatekeeper/suite*/`, as insta snapshots (`testdata/snapshots/gatekeeper_*`).

mod common;

use std::path::Path;

use potoo::engine::admission::gatekeeper::inventory::Inventory;
use potoo::engine::admission::gatekeeper::matching::ConstraintMatch;
use potoo::engine::admission::gatekeeper::review::Review;
use potoo::engine::admission::gatekeeper::{
    ConstraintOutcome, find_template, prepare, review_constraint,
};
use potoo::engine::test_suite::parse_documents;
use serde_json::Value;

use common::stdout_with_code;

fn case_files() -> Vec<std::path::PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gatekeeper/cases");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect("testdata/gatekeeper/cases exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    files
}

/// What one case computed, in the terms of its `expect` block.
fn outcome(templates: &[Value], case: &Value) -> Value {
    let constraint = &case["constraint"];
    let kind = constraint["kind"].as_str().unwrap_or_default();
    let template = find_template(templates, kind).expect("the case's template is in the file");
    let mut inventory = Inventory::new();
    for object in case["inventory"].as_array().into_iter().flatten() {
        inventory.add(object).expect("inventory objects are valid");
    }
    let program = match prepare(template, &inventory.to_data()) {
        Ok(program) => program,
        Err(reason) => return serde_json::json!({"unknown": reason}),
    };
    let review = if Review::is_admission_review(&case["object"]) {
        Review::of_admission_review(&case["object"]).expect("a valid AdmissionReview")
    } else {
        Review::of_object(&case["object"])
    };
    let namespace = review
        .matched_object()
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    let namespace_object = namespace
        .as_deref()
        .and_then(|namespace| inventory.namespace(namespace));
    let matcher = ConstraintMatch::from_constraint(constraint).expect("a valid spec.match");
    match review_constraint(
        &program,
        constraint,
        &matcher,
        &review,
        namespace.as_deref(),
        namespace_object,
    ) {
        ConstraintOutcome::NotMatched => serde_json::json!({"notMatched": true}),
        ConstraintOutcome::Unknown(reason) => serde_json::json!({"unknown": reason}),
        ConstraintOutcome::Violations(violations) => serde_json::json!({
            "violations": violations.iter().map(|violation| violation.message.clone()).collect::<Vec<_>>()
        }),
    }
}

#[test]
fn yaml_cases() {
    let mut failures = Vec::new();
    let mut count = 0;
    for file in case_files() {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let document = parse_documents(&text).expect("valid YAML").remove(0);
        let templates: Vec<Value> = document["templates"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for case in document["cases"].as_array().into_iter().flatten() {
            count += 1;
            let name = case["name"].as_str().unwrap_or_default();
            let got = outcome(&templates, case);
            let expected = &case["expect"];
            let matches = match (expected.get("unknown"), got.get("unknown")) {
                (Some(Value::String(wanted)), Some(Value::String(reason))) => {
                    reason.starts_with("because ") && reason.contains(wanted.as_str())
                }
                (Some(_), _) | (None, Some(_)) => false,
                (None, None) => &got == expected,
            };
            if !matches {
                failures.push(format!(
                    "{} / {name}: expected {expected}, got {got}",
                    file.display()
                ));
            }
        }
    }
    assert!(count >= 15, "only {count} cases were read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

const CLUSTER: &str = "testdata/gatekeeper/scenario/cluster.yaml";
const MANIFESTS: &str = "testdata/gatekeeper/scenario/manifests.yaml";

#[test]
fn check_reports_gatekeeper_webhook_messages_and_enforcement_actions() {
    let text = stdout_with_code(&["check", "-f", MANIFESTS, "--from", CLUSTER], 1);
    snapshot!("gatekeeper_check_table", text);
}

#[test]
fn check_json_has_one_finding_per_violation() {
    let text = stdout_with_code(
        &["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "json"],
        1,
    );
    let document: Value = serde_json::from_str(&text).expect("JSON output");
    let objects = document["objects"].as_array().expect("objects");
    let verdicts: Vec<(&str, &str)> = objects
        .iter()
        .map(|object| {
            (
                object["object"]["name"].as_str().unwrap_or_default(),
                object["verdict"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("checkout", "blocked"),
            ("shop", "blocked"),
            ("scratch", "pass"),
            ("status", "pass"),
            ("old-app", "pass")
        ]
    );
    let ingress = objects[1]["findings"].as_array().expect("findings");
    let unique = ingress
        .iter()
        .find(|finding| finding["constraintKind"] == "ScenarioUniqueHost")
        .expect("a ScenarioUniqueHost finding");
    assert_eq!(
        unique["message"],
        "[unique-ingress-hosts] ingress host <shop.example.com> is already used by ingress <sandbox/storefront>"
    );
    let dryrun = ingress
        .iter()
        .find(|finding| finding["constraintKind"] == "ScenarioRequiredOwner")
        .expect("a dryrun finding");
    assert_eq!(dryrun["verdict"], "warning");
    assert_eq!(dryrun["reason"], "dryrun: recorded by audit only");
    snapshot!("gatekeeper_check_json", text);
}

#[test]
fn test_runs_gator_suites_and_exits_0_when_every_case_passes() {
    let text = stdout_with_code(&["test", "testdata/gatekeeper/suite"], 0);
    snapshot!("gatekeeper_test_table", text);
}

#[test]
fn test_fails_with_gators_assertion_messages() {
    let text = stdout_with_code(
        &["test", "testdata/gatekeeper/suite-failing", "-o", "wide"],
        1,
    );
    snapshot!("gatekeeper_test_failing_wide", text);
    let junit = stdout_with_code(
        &["test", "testdata/gatekeeper/suite-failing", "-o", "junit"],
        1,
    );
    assert!(junit.contains("failures=\"3\""), "{junit}");
    assert!(junit.contains("skipped=\"1\""), "{junit}");
    let json = stdout_with_code(
        &["test", "testdata/gatekeeper/suite-failing", "-o", "json"],
        1,
    );
    let document: Value = serde_json::from_str(&json).expect("JSON output");
    assert_eq!(document["suites"][0]["engine"], "gatekeeper");
    assert_eq!(document["summary"]["fail"], 3);
    assert_eq!(document["summary"]["unknown"], 1);
}

#[test]
fn a_suite_file_given_directly_is_run() {
    let text = stdout_with_code(
        &["test", "testdata/gatekeeper/suite/suite.yaml", "-o", "json"],
        0,
    );
    let document: Value = serde_json::from_str(&text).expect("JSON output");
    assert_eq!(document["summary"]["pass"], 3);
}
