//! YAML-driven adapter cases: each file under `testdata/adapters/` lists objects and the
//! constraints and diagnostics they must yield (fields given are compared exactly; others ignored).

mod common;

use std::path::Path;

use potoo::adapters::Registry;
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::Value;

use common::assert_subset;

fn run_case_file(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let document: Value = serde_saphyr::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for case in document["cases"].as_array().expect("`cases` list") {
        let name = case["name"].as_str().expect("case name");
        let mut snapshot = Snapshot::default();
        for object in case["objects"].as_array().expect("`objects` list") {
            snapshot.insert(object_from_value(object.clone()).expect("valid object"));
        }
        let output = Registry::default().adapt(&snapshot);
        let constraints = serde_json::to_value(&output.constraints).unwrap();
        if let Some(expected) = case.get("constraints")
            && let Err(problem) = assert_subset(expected, &constraints, "constraints")
        {
            failures.push(format!("{}: {name}: {problem}", path.display()));
        }
        let diagnostics: Vec<String> = output
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.message.clone())
            .collect();
        let expected_diagnostics: Vec<String> = case
            .get("diagnostics")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if diagnostics != expected_diagnostics {
            failures.push(format!(
                "{}: {name}: diagnostics {diagnostics:?}, expected {expected_diagnostics:?}",
                path.display()
            ));
        }
    }
    failures
}

#[test]
fn adapter_cases() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/adapters");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected case files in {}",
        directory.display()
    );
    let failures: Vec<String> = files.iter().flat_map(|file| run_case_file(file)).collect();
    assert!(
        failures.is_empty(),
        "{} failing adapter cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
