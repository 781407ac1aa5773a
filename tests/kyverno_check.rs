//! Kyverno in `check`: YAML-driven cases under `testdata/kyverno/check/*.yaml` (cluster objects
//! and manifests in, the Kyverno findings of each manifest out — verdict, rule, message, field).

use std::path::Path;

use potoo::adapters::Registry;
use potoo::engine::admission::{self, CheckRequest};
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::Value;

/// Every key of `expected` must be in `actual` with an equal value.
fn subset_mismatch(expected: &Value, actual: &Value) -> Option<String> {
    let (Value::Object(expected_fields), Value::Object(actual_fields)) = (expected, actual) else {
        return (expected != actual).then(|| format!("expected {expected}, got {actual}"));
    };
    expected_fields
        .iter()
        .find_map(|(key, value)| match actual_fields.get(key) {
            None => Some(format!("`{key}` missing")),
            Some(actual) => subset_mismatch(value, actual).map(|error| format!("`{key}`: {error}")),
        })
}

fn run_case(case: &Value) -> Result<(), String> {
    let mut snapshot = Snapshot::default();
    for object in case["cluster"].as_array().into_iter().flatten() {
        snapshot.insert(object_from_value(object.clone()).map_err(|error| error.to_string())?);
    }
    let manifests = case["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, value)| {
            admission::manifest_from_value(value.clone(), "case.yaml", index + 1, None, None)
                .map_err(|error| error.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let merged = admission::overlay_namespaces(&snapshot, &manifests);
    let adapted = Registry::default().adapt(&merged);
    let request = CheckRequest {
        manifests,
        default_namespace: "default".to_string(),
    };
    let result = admission::check(&snapshot, &merged, &adapted, &request);
    let result = serde_json::to_value(&result).map_err(|error| error.to_string())?;
    let expected_objects = case["expect"].as_array().ok_or("`expect` list")?;
    let objects = result["objects"].as_array().ok_or("no objects")?;
    if expected_objects.len() != objects.len() {
        return Err(format!(
            "expected {} objects, got {}",
            expected_objects.len(),
            objects.len()
        ));
    }
    for (index, (expected, object)) in expected_objects.iter().zip(objects).enumerate() {
        if let Some(verdict) = expected.get("verdict")
            && verdict != &object["verdict"]
        {
            return Err(format!(
                "object {index}: verdict {} != {verdict}",
                object["verdict"]
            ));
        }
        let kyverno: Vec<&Value> = object["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|finding| {
                matches!(
                    finding["constraintKind"].as_str(),
                    Some("ClusterPolicy" | "Policy")
                )
            })
            .collect();
        let expected_findings = expected["findings"].as_array().ok_or("`findings` list")?;
        if kyverno.len() != expected_findings.len() {
            return Err(format!(
                "object {index}: expected {} Kyverno findings, got {}: {kyverno:#?}",
                expected_findings.len(),
                kyverno.len()
            ));
        }
        for (expected, actual) in expected_findings.iter().zip(kyverno) {
            if let Some(error) = subset_mismatch(expected, actual) {
                return Err(format!("object {index}: {error} in {actual:#}"));
            }
        }
    }
    Ok(())
}

#[test]
fn kyverno_check_cases() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kyverno/check");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    let mut count = 0;
    let mut failures = Vec::new();
    for file in files {
        let document: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        for case in document["cases"].as_array().expect("`cases` list") {
            count += 1;
            let name = case["name"].as_str().unwrap_or("?");
            if let Err(error) = run_case(case) {
                failures.push(format!("{} / {name}: {error}", file.display()));
            }
        }
    }
    assert!(count >= 5, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
