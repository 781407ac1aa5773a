//! The CEL engines on YAML-driven cases: ValidatingAdmissionPolicy through `check`
//! (`testdata/vap/cases/*.yaml`: cluster objects, a manifest, and the expected
//! ValidatingAdmissionPolicy findings with the apiserver's exact messages), and Kyverno
//! `validate.cel` / ValidatingPolicy through the engine (`testdata/kyverno/cel/*.yaml`).

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use potoo::engine::admission::kyverno::validating_policy::{self, PolicyRequest, ValidatingPolicy};
use potoo::engine::admission::kyverno::{self, Policy, Request, RuleStatus, UserInfo};
use serde_json::{Value, json};

fn case_files(directory: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join(directory);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", directory.display());
    files
}

fn load(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn items(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The ValidatingAdmissionPolicy findings `check` reports for the case's manifest.
fn vap_findings(cluster: &[Value], case: &Value) -> Vec<Value> {
    let directory = tempfile::tempdir().unwrap();
    let cluster_file = directory.path().join("cluster.json");
    let manifest_file = directory.path().join("manifest.json");
    std::fs::write(
        &cluster_file,
        json!({"apiVersion": "v1", "kind": "List", "items": cluster}).to_string(),
    )
    .unwrap();
    std::fs::write(&manifest_file, case["manifest"].to_string()).unwrap();
    let namespace = case["namespace"].as_str().unwrap_or("default");
    let output = cargo_bin_cmd!("kubectl-potoo")
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .args(["check", "-f"])
        .arg(&manifest_file)
        .arg("--from")
        .arg(&cluster_file)
        .args(["-n", namespace, "-o", "json"])
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "check failed ({code}): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    document["objects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|object| items(object.get("findings")))
        .filter(|finding| finding["constraintKind"] == "ValidatingAdmissionPolicy")
        .collect()
}

fn finding_matches(expected: &Value, actual: &Value) -> bool {
    actual["verdict"] == expected["verdict"]
        && expected
            .get("message")
            .is_none_or(|message| actual["message"] == *message)
        && expected
            .get("reason")
            .and_then(Value::as_str)
            .is_none_or(|reason| {
                actual["reason"]
                    .as_str()
                    .is_some_and(|actual| actual.contains(reason))
            })
}

#[test]
fn validating_admission_policy_cases() {
    let mut problems = Vec::new();
    let mut count = 0;
    for file in case_files("testdata/vap/cases") {
        let document = load(&file);
        let shared = items(document.get("cluster"));
        for case in items(document.get("cases")) {
            count += 1;
            let name = case["name"].as_str().unwrap_or("?");
            let mut cluster = shared.clone();
            cluster.extend(items(case.get("cluster")));
            let actual = vap_findings(&cluster, &case);
            let expected = items(case.get("expect"));
            let unmatched: Vec<&Value> = expected
                .iter()
                .filter(|expected| {
                    !actual
                        .iter()
                        .any(|actual| finding_matches(expected, actual))
                })
                .collect();
            if !unmatched.is_empty() || actual.len() != expected.len() {
                problems.push(format!(
                    "{}: {name}: expected {expected:#?}\n got {actual:#?}",
                    file.display()
                ));
            }
        }
    }
    assert!(count >= 15, "only {count} cases");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The result of the case's policy on its resource: `(rule, status, message)`.
fn kyverno_result(case: &Value) -> Option<(String, RuleStatus, String)> {
    let resource = &case["resource"];
    let operation = case["operation"].as_str().unwrap_or("CREATE");
    let labels = case.get("namespaceLabels").map(|labels| {
        labels
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
            .collect()
    });
    if let Some(policy) = Policy::from_value(&case["policy"]) {
        let mut request = Request::new(resource);
        request.operation = operation.to_string();
        request.namespace_labels = labels;
        let rule = case["expect"]["rule"].as_str().unwrap_or_default();
        return kyverno::evaluate(&policy, &request)
            .into_iter()
            .find(|result| rule.is_empty() || result.rule == rule)
            .map(|result| (result.rule, result.status, result.message));
    }
    let policy = ValidatingPolicy::from_value(&case["policy"]).expect("a Kyverno policy");
    let user_info = UserInfo::default();
    let namespace_object = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": resource.pointer("/metadata/namespace").cloned().unwrap_or(json!("default")), "labels": labels},
    });
    let request = PolicyRequest {
        resource,
        old_resource: None,
        operation,
        user_info: &user_info,
        namespace_object: Some(&namespace_object),
        lookups: None,
    };
    validating_policy::evaluate(&policy, &request)
        .map(|result| (result.rule, result.status, result.message))
}

#[test]
fn kyverno_cel_cases() {
    let mut problems = Vec::new();
    let mut count = 0;
    for file in case_files("testdata/kyverno/cel") {
        for case in items(load(&file).get("cases")) {
            count += 1;
            let name = case["name"].as_str().unwrap_or("?");
            let expected = &case["expect"];
            let status = expected["status"].as_str().unwrap_or_default();
            let actual = kyverno_result(&case);
            let good = match &actual {
                None => status == "none",
                Some((rule, actual_status, message)) => {
                    actual_status.as_str() == status
                        && expected["rule"]
                            .as_str()
                            .is_none_or(|wanted| wanted == rule)
                        && expected["message"]
                            .as_str()
                            .is_none_or(|wanted| wanted == message)
                }
            };
            if !good {
                problems.push(format!(
                    "{}: {name}: expected {expected}, got {actual:?}",
                    file.display()
                ));
            }
        }
    }
    assert!(count >= 10, "only {count} cases");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `check` on the VAP scenario (`testdata/vap/scenario/`): a parameterized policy bound with
/// Deny in one namespace and Warn in another, and a label policy; the table is an insta
/// snapshot and the run exits 1 because something is blocked.
#[test]
fn check_table_on_the_vap_scenario() {
    let output = cargo_bin_cmd!("kubectl-potoo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .args([
            "check",
            "-f",
            "testdata/vap/scenario/manifests.yaml",
            "--from",
            "testdata/vap/scenario/cluster.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("check_vap_scenario_table", text);
    });
}
