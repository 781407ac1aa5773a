//! `remediate NAME` end to end on the demo cluster: YAML-driven cases (`testdata/remediate/
//! cases.yaml`) on the JSON output, insta goldens of the text and YAML outputs for several
//! families (`testdata/snapshots/demo_remediate_*`), name resolution errors and exit codes.

mod common;

use serde::Deserialize;
use serde_json::Value;

use common::{potoo, stdout_of};

const DEMO: &str = "testdata/demo";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    args: Vec<String>,
    constraints: Vec<String>,
    privilege: String,
    #[serde(default)]
    steps: Vec<ExpectedStep>,
    #[serde(default)]
    contacts: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ExpectedStep {
    privilege: String,
    contains: Vec<String>,
    #[serde(default)]
    patch: Option<String>,
}

/// A step's text, commands and patch as one string to search.
fn step_text(step: &Value) -> String {
    let mut text = step["text"].as_str().unwrap_or_default().to_string();
    for command in step["commands"].as_array().unwrap() {
        text.push('\n');
        text.push_str(command.as_str().unwrap());
    }
    if let Some(patch) = step.get("patch") {
        text.push('\n');
        text.push_str(patch["target"].as_str().unwrap());
        text.push('\n');
        text.push_str(patch["body"].as_str().unwrap());
    }
    text
}

#[test]
fn yaml_cases_on_the_demo_cluster() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/remediate/cases.yaml"),
    )
    .unwrap();
    let cases: Vec<Case> = serde_saphyr::from_str(&text).unwrap();
    assert!(cases.len() >= 10, "the case file lost cases");
    let mut failures = Vec::new();
    for case in &cases {
        let mut arguments: Vec<&str> = vec!["remediate"];
        arguments.extend(case.args.iter().map(String::as_str));
        arguments.extend(["--from", DEMO, "-o", "json"]);
        let document: Value = serde_json::from_str(&stdout_of(&arguments)).unwrap();
        assert_eq!(document["kind"], "Remediation", "{}", case.name);
        let remediations = document["remediations"].as_array().unwrap();
        let ids: Vec<&str> = remediations
            .iter()
            .map(|remediation| remediation["constraintId"].as_str().unwrap())
            .collect();
        if ids != case.constraints {
            failures.push(format!("{}: constraints {ids:?}", case.name));
            continue;
        }
        let first = &remediations[0];
        if first["privilege"] != case.privilege.as_str() {
            failures.push(format!("{}: privilege {}", case.name, first["privilege"]));
        }
        let steps = first["steps"].as_array().unwrap();
        for expected in &case.steps {
            let found = steps.iter().any(|step| {
                let text = step_text(step);
                step["privilege"] == expected.privilege.as_str()
                    && expected.contains.iter().all(|needle| text.contains(needle))
                    && expected
                        .patch
                        .as_ref()
                        .is_none_or(|format| step["patch"]["format"] == format.as_str())
            });
            if !found {
                failures.push(format!(
                    "{}: no {} step with {:?} (patch {:?}); steps: {}",
                    case.name,
                    expected.privilege,
                    expected.contains,
                    expected.patch,
                    serde_json::to_string_pretty(steps).unwrap()
                ));
            }
        }
        let contacts: Vec<&str> = first["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|contact| contact["contact"].as_str().unwrap())
            .collect();
        for contact in &case.contacts {
            if !contacts.contains(&contact.as_str()) {
                failures.push(format!(
                    "{}: contact {contact} missing: {contacts:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn demo_goldens_for_several_families() {
    snapshot!(
        "demo_remediate_netpol_egress_table",
        stdout_of(&[
            "remediate",
            "NetworkPolicy/payments/default-deny-all#egress",
            "--workload",
            "payments/deploy/payments-api",
            "--from",
            DEMO,
        ])
    );
    snapshot!(
        "demo_remediate_quota_table",
        stdout_of(&[
            "remediate",
            "quota/payments-quota",
            "-n",
            "payments",
            "--workload",
            "deploy/payments-api",
            "--from",
            DEMO,
        ])
    );
    snapshot!(
        "demo_remediate_podsecurity_table",
        stdout_of(&[
            "remediate",
            "Namespace/_cluster/frontend#pod-security-warn",
            "--workload",
            "frontend/deploy/storefront",
            "--from",
            DEMO,
        ])
    );
    snapshot!(
        "demo_remediate_kyverno_yaml",
        stdout_of(&[
            "remediate",
            "require-labels",
            "-n",
            "frontend",
            "--workload",
            "pod/storefront-6b8d9c7f45-qz7lm",
            "--from",
            DEMO,
            "-o",
            "yaml",
        ])
    );
    snapshot!(
        "demo_remediate_istio_table",
        stdout_of(&[
            "remediate",
            "AuthorizationPolicy/payments/deny-non-mesh-callers",
            "--workload",
            "data/sts/postgres",
            "--from",
            DEMO,
        ])
    );
}

#[test]
fn json_is_a_remediation_document_with_lists_never_null() {
    let text = stdout_of(&[
        "remediate",
        "LimitRange/payments/container-limits",
        "--from",
        DEMO,
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    assert_eq!(document["kind"], "Remediation");
    assert_eq!(document["incomplete"], false);
    assert_eq!(document["gaps"], Value::Array(Vec::new()));
    assert_eq!(document["name"], "LimitRange/payments/container-limits");
    let remediation = &document["remediations"][0];
    for step in remediation["steps"].as_array().unwrap() {
        assert!(step["commands"].is_array(), "{step}");
        assert!(step["privilege"].is_string());
    }
    assert!(remediation["contacts"].is_array());
    let yaml = stdout_of(&[
        "remediate",
        "LimitRange/payments/container-limits",
        "--from",
        DEMO,
        "-o",
        "yaml",
    ]);
    let from_yaml: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(from_yaml, document, "YAML and JSON carry the same document");
}

#[test]
fn contacts_prefer_the_policy_annotation_over_the_namespace() {
    let text = stdout_of(&[
        "remediate",
        "shop-default-deny",
        "-n",
        "shop",
        "--from",
        "testdata/privacy/cluster",
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&text).unwrap();
    for remediation in document["remediations"].as_array().unwrap() {
        assert_eq!(
            remediation["contacts"],
            serde_json::json!([{
                "contact": "shop-network-team@example.invalid",
                "source": "annotation `potoo.io/contact` on NetworkPolicy/shop/shop-default-deny"
            }])
        );
    }
    let text = stdout_of(&[
        "remediate",
        "Namespace/_cluster/shop#pod-security-enforce",
        "--from",
        "testdata/privacy/cluster",
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        document["remediations"][0]["contacts"][0]["contact"],
        "#shop-oncall"
    );
}

#[test]
fn unknown_ambiguous_and_bad_names_exit_2_with_clear_errors() {
    let assert = potoo(&["remediate", "no-such-policy", "--from", DEMO]).code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(
            "no constraint named `no-such-policy` in namespace `default` or cluster-wide"
        ),
        "{stderr}"
    );
    let assert = potoo(&["remediate", "default-deny-all", "-A", "--from", DEMO]).code(0);
    assert!(!assert.get_output().stdout.is_empty());
    let assert = potoo(&[
        "remediate",
        "default-deny-all",
        "-A",
        "--from",
        DEMO,
        "--from",
        "testdata/privacy/cluster",
    ])
    .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("`default-deny-all` names 2 policy objects; use one of: NetworkPolicy/payments/default-deny-all, NetworkPolicy/shop/default-deny-all"),
        "{stderr}"
    );
    let assert = potoo(&["remediate", "pod-security-enforce", "-A", "--from", DEMO]).code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("no constraint named `pod-security-enforce`"),
        "{stderr}"
    );
    let assert = potoo(&["remediate", "Namespace/payments", "-A", "--from", DEMO]).code(0);
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(text.contains("#pod-security-enforce") && text.contains("#pod-security-warn"));
    let assert = potoo(&[
        "remediate",
        "quota/payments-quota",
        "-n",
        "payments",
        "--workload",
        "deploy/absent",
        "--from",
        DEMO,
    ])
    .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("workload `Deployment/absent` not found in namespace `payments`"),
        "{stderr}"
    );
}
