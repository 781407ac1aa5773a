//! The LimitRange and ResourceQuota engines of `check` on YAML-driven cases
//! (`testdata/resources/cases/*.yaml`): each case gives cluster objects, manifests in order (one
//! run, so earlier manifests consume quota) and the findings expected per manifest, compared on
//! the fields the case names (constraint, verdict, message, detail, reason, viaPodTemplate).

use std::path::Path;

use potoo::adapters::Registry;
use potoo::engine::admission::{CheckRequest, check, manifest_from_value, overlay_namespaces};
use potoo::source::Snapshot;
use potoo::source::snapshot::{SourceInfo, object_from_value};
use serde_json::Value;

fn run_case(case: &Value) -> Value {
    let mut snapshot = Snapshot::new(SourceInfo::default());
    for object in case["cluster"].as_array().into_iter().flatten() {
        snapshot.insert(object_from_value(object.clone()).expect("cluster object"));
    }
    let manifests: Vec<_> = case["manifests"]
        .as_array()
        .expect("case manifests")
        .iter()
        .enumerate()
        .map(|(index, value)| {
            manifest_from_value(value.clone(), "case.yaml", index + 1, None, None)
                .expect("manifest object")
        })
        .collect();
    let merged = overlay_namespaces(&snapshot, &manifests);
    let adapted = Registry::default().adapt(&merged);
    let result = check(
        &snapshot,
        &merged,
        &adapted,
        &CheckRequest {
            manifests,
            default_namespace: "team-a".to_string(),
        },
    );
    serde_json::to_value(&result).expect("serializable result")
}

/// The findings of LimitRange and ResourceQuota constraints, per object.
fn resource_findings(result: &Value) -> Vec<Vec<Value>> {
    result["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|object| {
            object["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|finding| {
                    matches!(
                        finding["constraintKind"].as_str(),
                        Some("LimitRange" | "ResourceQuota")
                    )
                })
                .cloned()
                .collect()
        })
        .collect()
}

#[test]
fn resource_cases() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/resources/cases");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect("case directory")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let document: Value = serde_saphyr::from_str(&text).expect("valid YAML");
        for case in document["cases"].as_array().expect("cases list") {
            count += 1;
            let name = case["name"].as_str().unwrap_or("?");
            let result = run_case(case);
            let actual = resource_findings(&result);
            if let Some(verdicts) = case.get("verdicts").and_then(Value::as_array) {
                let objects: Vec<&str> = result["objects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|object| object["verdict"].as_str().unwrap_or("?"))
                    .collect();
                let wanted: Vec<&str> = verdicts.iter().filter_map(Value::as_str).collect();
                if objects != wanted {
                    failures.push(format!("{name}: verdicts {objects:?}, want {wanted:?}"));
                }
            }
            let expected = case["expect"].as_array().expect("expect list");
            for (index, wanted) in expected.iter().enumerate() {
                let got = actual.get(index).cloned().unwrap_or_default();
                let wanted = wanted.as_array().expect("one list per manifest");
                if got.len() != wanted.len() {
                    failures.push(format!(
                        "{name}: manifest {index}: {} findings, want {}:\n{}",
                        got.len(),
                        wanted.len(),
                        serde_json::to_string_pretty(&got).unwrap()
                    ));
                    continue;
                }
                for (finding, want) in got.iter().zip(wanted) {
                    for (field, value) in want.as_object().expect("finding fields") {
                        let field = if field == "constraint" {
                            "constraintId"
                        } else {
                            field
                        };
                        if finding.get(field) != Some(value) {
                            failures.push(format!(
                                "{name}: manifest {index}: `{field}` is {}, want {}",
                                finding.get(field).unwrap_or(&Value::Null),
                                value
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(count >= 10, "only {count} cases were read");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn potoo(arguments: &[&str]) -> std::process::Output {
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("kubectl-potoo");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG");
    command.args(arguments).output().expect("runs")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

const CLUSTER: &str = "testdata/resources/cluster.yaml";
const MANIFESTS: &str = "testdata/resources/manifests.yaml";

#[test]
fn check_shows_defaults_and_the_first_replica_over_quota() {
    let output = potoo(&["check", "-f", MANIFESTS, "--from", CLUSTER]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("the 3rd replica exceeds quota compute-quota"),
        "{text}"
    );
    snapshot!("check_resources_table", text);
}

#[test]
fn check_json_carries_the_apiserver_messages() {
    let output = potoo(&["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let messages: Vec<&str> = result["objects"][1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["verdict"] == "blocked")
        .filter_map(|finding| finding["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        vec![
            "pods \"web-<hash>-\" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=150m, used: requests.cpu=1900m, limited: requests.cpu=2"
        ]
    );
    snapshot!(
        "check_resources_json",
        serde_json::to_string_pretty(&result).unwrap()
    );
}
