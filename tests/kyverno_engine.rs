//! The Kyverno admission engine on YAML-driven cases (`testdata/kyverno/engine/*.yaml`: a policy,
//! a resource, request facts and the expected result per rule), and the `test` suite runner on
//! the suites under `testdata/kyverno/suites/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use potoo::engine::admission::kyverno::exceptions::PolicyException;
use potoo::engine::admission::kyverno::{self, Policy, Request, UserInfo};
use potoo::engine::test_suite::{self, CaseOutcome, SuiteSource};
use serde_json::Value;

fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/kyverno")
        .join(relative)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn run_case(case: &Value) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let policy = Policy::from_value(&case["policy"]).expect("case policy is a Kyverno policy");
    let resource = &case["resource"];
    let exceptions: Vec<PolicyException> = case
        .get("exceptions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(PolicyException::from_value)
                .collect()
        })
        .unwrap_or_default();
    let mut request = Request::new(resource);
    if let Some(operation) = case.get("operation").and_then(Value::as_str) {
        request.operation = operation.to_string();
    }
    if let Some(Value::Object(variables)) = case.get("variables") {
        request.variables = variables
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
    }
    if let Some(Value::Object(labels)) = case.get("namespaceLabels") {
        request.namespace_labels = Some(
            labels
                .iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
                .collect(),
        );
    }
    if let Some(user) = case.get("userInfo") {
        request.user_info = UserInfo {
            username: user["username"].as_str().unwrap_or_default().to_string(),
            groups: strings(user.get("groups")),
            roles: strings(user.get("roles")),
            cluster_roles: strings(user.get("clusterRoles")),
        };
    }
    request.exceptions = &exceptions;
    let results = kyverno::evaluate(&policy, &request);
    let by_rule: BTreeMap<&str, _> = results
        .iter()
        .map(|result| (result.rule.as_str(), result))
        .collect();
    let mut problems = Vec::new();
    for expected in case
        .get("expect")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let rule = expected["rule"].as_str().unwrap_or_default();
        let status = expected["status"].as_str().unwrap_or_default();
        match by_rule.get(rule) {
            None => problems.push(format!("{name}: rule `{rule}` produced no result")),
            Some(result) => {
                if result.status.as_str() != status {
                    problems.push(format!(
                        "{name}: rule `{rule}`: expected {status}, got {} ({})",
                        result.status.as_str(),
                        result.message
                    ));
                }
                if let Some(fragment) = expected.get("messageContains").and_then(Value::as_str)
                    && !result.message.contains(fragment)
                {
                    problems.push(format!(
                        "{name}: rule `{rule}`: message `{}` lacks `{fragment}`",
                        result.message
                    ));
                }
            }
        }
    }
    for rule in strings(case.get("notApplied")) {
        if let Some(result) = by_rule.get(rule.as_str()) {
            problems.push(format!(
                "{name}: rule `{rule}` should not apply, got {} ({})",
                result.status.as_str(),
                result.message
            ));
        }
    }
    problems
}

#[test]
fn engine_cases() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata("engine"))
        .expect("testdata/kyverno/engine exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut count = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let document: Value = serde_saphyr::from_str(&text).expect("valid YAML");
        for case in document["cases"].as_array().expect("a `cases` list") {
            count += 1;
            problems.extend(run_case(case));
        }
    }
    assert!(
        count >= 10,
        "expected the case files to hold cases, found {count}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

struct Files;

impl SuiteSource for Files {
    fn read(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|error| error.to_string())
    }

    fn list(&self, directory: &Path) -> Result<Vec<PathBuf>, String> {
        Ok(std::fs::read_dir(directory)
            .map_err(|error| error.to_string())?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect())
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

#[test]
fn suites_pass_fail_and_unknown() {
    let report = test_suite::run(&testdata("suites"), &Files).expect("suites are found");
    assert_eq!(report.suites.len(), 2);
    let outcomes = |suite: &str| -> Vec<(String, String, CaseOutcome)> {
        report
            .suites
            .iter()
            .find(|candidate| candidate.name == suite)
            .map(|suite| {
                suite
                    .cases
                    .iter()
                    .map(|case| (case.rule.clone(), case.resource.clone(), case.outcome))
                    .collect()
            })
            .unwrap_or_default()
    };
    let passing = outcomes("require-labels");
    assert_eq!(passing.len(), 7);
    assert!(
        passing
            .iter()
            .all(|(_, _, outcome)| *outcome == CaseOutcome::Pass),
        "{passing:?}"
    );
    let mismatch = outcomes("mismatch");
    assert_eq!(
        mismatch,
        vec![
            (
                "no-latest".to_string(),
                "Pod/web".to_string(),
                CaseOutcome::Fail
            ),
            (
                "pod-count".to_string(),
                "Pod/web".to_string(),
                CaseOutcome::Unknown
            ),
            (String::new(), "Pod/web".to_string(), CaseOutcome::Unknown),
            (
                "no-latest".to_string(),
                "Pod/missing".to_string(),
                CaseOutcome::Fail
            ),
        ]
    );
    assert!(report.failed());
    assert_eq!(report.summary.pass, 7);
    assert_eq!(report.summary.fail, 2);
    assert_eq!(report.summary.unknown, 2);
    let json = serde_json::to_value(&report).expect("serializable");
    assert_eq!(json["kind"], "TestResult");
    assert_eq!(json["suites"][0]["cases"][0]["outcome"], "fail");
}

#[test]
fn lookups_come_from_the_context_file_and_are_unknown_without_one() {
    let report = test_suite::run(&testdata("lookups"), &Files).expect("suites are found");
    let outcomes = |suite: &str| -> Vec<(String, CaseOutcome, String)> {
        report
            .suites
            .iter()
            .find(|candidate| candidate.name == suite)
            .map(|suite| {
                suite
                    .cases
                    .iter()
                    .map(|case| (case.resource.clone(), case.outcome, case.actual.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let with_context = outcomes("lookups-with-context");
    assert_eq!(
        with_context,
        vec![
            (
                "Deployment/shop/web".to_string(),
                CaseOutcome::Pass,
                "pass".to_string()
            ),
            (
                "Deployment/shop/single".to_string(),
                CaseOutcome::Pass,
                "pass".to_string()
            ),
            (
                "Deployment/shop/api".to_string(),
                CaseOutcome::Pass,
                "fail".to_string()
            ),
            (
                "Deployment/shop/legacy".to_string(),
                CaseOutcome::Pass,
                "fail".to_string()
            ),
        ]
    );
    let without_context = outcomes("lookups-without-context");
    assert_eq!(without_context.len(), 4);
    assert!(
        without_context
            .iter()
            .all(|(_, outcome, actual)| *outcome == CaseOutcome::Unknown && actual == "unknown"),
        "{without_context:?}"
    );
    let reasons: Vec<&str> = report
        .suites
        .iter()
        .filter(|suite| suite.name == "lookups-without-context")
        .flat_map(|suite| suite.cases.iter().map(|case| case.reason.as_str()))
        .collect();
    assert!(
        reasons
            .iter()
            .all(|reason| reason.ends_with("is not available client-side")),
        "{reasons:?}"
    );
}

/// The error of the `lookups/with-context` suite when its `context.yaml` reads `context`.
fn context_file_error(context: &str) -> String {
    struct WithContext<'a>(&'a str);
    impl SuiteSource for WithContext<'_> {
        fn read(&self, path: &Path) -> Result<String, String> {
            if path.ends_with("context.yaml") {
                Ok(self.0.to_string())
            } else {
                Files.read(path)
            }
        }
        fn list(&self, directory: &Path) -> Result<Vec<PathBuf>, String> {
            Files.list(directory)
        }
        fn is_dir(&self, path: &Path) -> bool {
            Files.is_dir(path)
        }
    }
    let report =
        test_suite::run(&testdata("lookups/with-context"), &WithContext(context)).expect("found");
    report.suites[0].error.clone().unwrap_or_default()
}

#[test]
fn a_context_file_without_a_context_document_fails_its_suite() {
    assert_eq!(
        context_file_error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
        "`context.yaml`: no `Context` document"
    );
}

#[test]
fn a_context_file_that_repeats_an_object_or_an_image_fails_its_suite() {
    let object = "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: base-images, namespace: platform}}\n";
    assert_eq!(
        context_file_error(&format!(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Context\nspec:\n  resources:\n{object}{object}"
        )),
        "`context.yaml`: `spec.resources[1]` repeats ConfigMap `base-images` in namespace `platform`"
    );
    assert_eq!(
        context_file_error(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Context\nspec:\n  images:\n  - {image: a:1}\n  - {image: a:1}\n"
        ),
        "`context.yaml`: `spec.images[1]` repeats image `a:1`"
    );
}
