//! YAML-driven webhook matching cases (`testdata/webhooks/*.yaml`): the webhook adapter reads the
//! configuration, `webhooks::call` decides whether the apiserver would call it for the request.

use std::collections::BTreeMap;
use std::path::Path;

use potoo::adapters::Registry;
use potoo::engine::admission::webhooks::{Call, RequestView, call};
use potoo::model::Details;
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::{Value, json};

/// `defaults` with `overrides` laid over it (objects merged key by key).
fn merged(defaults: &Value, overrides: Option<&Value>) -> Value {
    let mut result = defaults.clone();
    if let (Some(target), Some(Value::Object(fields))) = (result.as_object_mut(), overrides) {
        for (key, value) in fields {
            target.insert(key.clone(), value.clone());
        }
    }
    result
}

fn request(value: &Value) -> RequestView {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
    let api_version = text("apiVersion");
    let (group, version) = api_version
        .rsplit_once('/')
        .map(|(group, version)| (group.to_string(), version.to_string()))
        .unwrap_or((String::new(), api_version.clone()));
    let namespace_labels: BTreeMap<String, String> =
        serde_json::from_value(value["namespaceLabels"].clone()).unwrap();
    RequestView {
        operation: text("operation"),
        group,
        version,
        kind: text("kind"),
        resource: text("resource"),
        subresource: text("subresource"),
        namespaced: value["namespaced"].as_bool().unwrap(),
        namespace: text("namespace"),
        name: value["object"]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string(),
        namespace_labels,
        object: value["object"].clone(),
    }
}

fn run_case_file(path: &Path) -> (usize, Vec<String>) {
    let document: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let defaults = &document["defaults"]["request"];
    let cases = document["cases"].as_array().expect("`cases` list");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut webhook = case["webhook"].clone();
        webhook["name"] = json!("case.example.com");
        webhook["sideEffects"] = json!("None");
        let configuration = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "case"},
            "webhooks": [webhook],
        });
        let mut snapshot = Snapshot::default();
        snapshot.insert(object_from_value(configuration).unwrap());
        let output = Registry::default().adapt(&snapshot);
        let Some(constraint) = output.constraints.first() else {
            failures.push(format!(
                "{name}: the adapter made no constraint: {:?}",
                output.diagnostics
            ));
            continue;
        };
        let Details::Webhook(details) = &constraint.details else {
            failures.push(format!("{name}: not a webhook constraint"));
            continue;
        };
        let request = request(&merged(defaults, case.get("request")));
        let exact = case["webhook"]["matchPolicy"] == json!("Exact");
        let answer = call(
            details,
            constraint.scope.namespace_selector.as_ref(),
            exact,
            &request,
        );
        let expected_called = case["called"].as_bool().expect("`called`");
        let (called, words) = match &answer {
            Call::Called { notes } => (true, notes.join("; ")),
            Call::NotCalled { reason } => (false, reason.clone()),
        };
        if called != expected_called {
            failures.push(format!(
                "{name}: expected called={expected_called}, got {answer:?}"
            ));
        }
        for key in ["reason", "note"] {
            if let Some(expected) = case.get(key).and_then(Value::as_str)
                && !words.contains(expected)
            {
                failures.push(format!("{name}: `{expected}` not in `{words}`"));
            }
        }
    }
    (cases.len(), failures)
}

#[test]
fn webhook_matching_cases() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/webhooks");
    let mut total = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    for file in files {
        let (count, file_failures) = run_case_file(&file);
        total += count;
        failures.extend(file_failures);
    }
    assert!(total >= 20, "only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
