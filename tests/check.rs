//! `check -f` end to end: the real binary on `testdata/check/` manifests against the
//! `testdata/check/cluster.yaml` cluster (`--from`); table and JSON outputs are insta snapshots
//! (`testdata/snapshots/check_*`), structured outputs are parsed back and checked; exit codes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{potoo, stdout_with_code};

const CLUSTER: &str = "testdata/check/cluster.yaml";
const MANIFESTS: &str = "testdata/check/manifests";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn findings(object: &Value) -> &Vec<Value> {
    object["findings"].as_array().unwrap()
}

#[test]
fn manifests_table_shows_each_object_verdict_and_exits_1_when_something_is_blocked() {
    let text = stdout_with_code(&["check", "-f", MANIFESTS, "--from", CLUSTER], 1);
    snapshot!("check_manifests_table", text);
}

#[test]
fn manifests_json_is_a_check_result() {
    let text = stdout_with_code(
        &["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "json"],
        1,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    assert_eq!(document["kind"], "CheckResult");
    assert_eq!(document["incomplete"], false);
    assert_eq!(document["gaps"], Value::Array(Vec::new()));
    let objects = document["objects"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> = objects
        .iter()
        .map(|object| {
            (
                object["object"]["name"].as_str().unwrap(),
                object["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("web", "pass"),
            ("node-agent", "blocked"),
            ("debug", "unknown"),
            ("team-c", "warning"),
            ("report", "pass"),
        ]
    );

    let agent = &objects[1];
    assert_eq!(agent["podsRejected"], true);
    assert_eq!(
        agent["object"]["file"],
        "testdata/check/manifests/02-agent.yaml"
    );
    assert_eq!(agent["object"]["document"], 1);
    let privileged = findings(agent)
        .iter()
        .find(|finding| finding["rule"] == "privileged")
        .unwrap();
    assert_eq!(privileged["constraintKind"], "PodSecurity");
    assert_eq!(
        privileged["constraintId"],
        "Namespace/_cluster/team-a#pod-security-enforce"
    );
    assert_eq!(privileged["viaPodTemplate"], true);
    assert_eq!(
        privileged["fieldPath"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert!(
        privileged["message"]
            .as_str()
            .unwrap()
            .starts_with("pods \"node-agent-\" is forbidden: violates PodSecurity \"restricted:latest\": host namespaces (hostPID=true), privileged (")
    );

    let debug = &objects[2];
    let webhook = findings(debug)
        .iter()
        .find(|finding| finding["verdict"] == "unknown")
        .unwrap();
    assert_eq!(webhook["constraintKind"], "ValidatingWebhookConfiguration");
    assert!(webhook["reason"].as_str().unwrap().starts_with("because "));
    assert!(
        findings(debug)
            .iter()
            .filter(|finding| finding["verdict"] == "warning")
            .all(|finding| finding["message"]
                .as_str()
                .unwrap()
                .starts_with("would violate PodSecurity \"restricted:latest\": "))
    );
    snapshot!("check_manifests_json", text);
}

#[test]
fn kyverno_rules_are_evaluated_with_kyverno_wording_on_autogen_rules() {
    let text = stdout_with_code(
        &[
            "check",
            "-f",
            "testdata/check/manifests/03-namespace.yaml",
            "--from",
            CLUSTER,
            "--from",
            "testdata/check/kyverno.yaml",
            "-o",
            "json",
        ],
        1,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    let report = &document["objects"][1];
    assert_eq!(report["object"]["name"], "report");
    assert_eq!(report["verdict"], "blocked");
    let kyverno = findings(report)
        .iter()
        .find(|finding| finding["constraintKind"] == "ClusterPolicy")
        .unwrap_or_else(|| panic!("no Kyverno finding in {report}"));
    assert_eq!(kyverno["verdict"], "blocked");
    assert_eq!(kyverno["rule"], "autogen-cronjob-check-team");
    assert_eq!(
        kyverno["message"],
        "validation error: label `team` is required. rule autogen-cronjob-check-team failed at path /spec/jobTemplate/spec/template/metadata/"
    );
    assert_eq!(
        kyverno["fieldPath"],
        "spec.jobTemplate.spec.template.metadata"
    );
    assert_eq!(
        kyverno["constraintId"],
        "ClusterPolicy/_cluster/require-team-label#check-team"
    );
}

#[test]
fn yaml_output_has_the_same_fields_as_json() {
    let json: Value = serde_json::from_str(&stdout_with_code(
        &["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "json"],
        1,
    ))
    .unwrap();
    let yaml: Value = serde_saphyr::from_str(&stdout_with_code(
        &["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "yaml"],
        1,
    ))
    .unwrap();
    assert_eq!(json, yaml);
}

#[test]
fn admitted_manifests_exit_0() {
    let text = stdout_with_code(
        &[
            "check",
            "-f",
            "testdata/check/manifests/01-web.yaml",
            "--from",
            CLUSTER,
        ],
        0,
    );
    assert!(text.starts_with("Deployment/web in team-a"), "{text}");
    assert!(text.contains("1 object: 1 admitted."), "{text}");
}

#[test]
fn manifests_from_stdin_take_the_namespace_flag() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: root\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext: {runAsUser: 0}\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-potoo"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "check", "-f", "-", "-n", "team-a", "--from", CLUSTER, "-o", "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pod.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let object = &document["objects"][0];
    assert_eq!(object["object"]["namespace"], "team-a");
    assert_eq!(object["object"]["file"], "-");
    let rules: Vec<&str> = findings(object)
        .iter()
        .filter_map(|finding| finding["rule"].as_str())
        .collect();
    assert!(rules.contains(&"runAsUser"), "{rules:?}");
    assert_eq!(object["findings"][0]["viaPodTemplate"], false);
}

#[test]
fn bad_manifests_exit_2_naming_file_document_and_field() {
    let output = potoo(&[
        "check",
        "-f",
        "testdata/check/bad/missing-name.yaml",
        "--from",
        CLUSTER,
    ])
    .code(2)
    .get_output()
    .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "`testdata/check/bad/missing-name.yaml` document 2 (line 6): missing field `metadata.name`"
        ),
        "{stderr}"
    );
    let missing = potoo(&[
        "check",
        "-f",
        "testdata/check/absent.yaml",
        "--from",
        CLUSTER,
    ])
    .code(2)
    .get_output()
    .clone();
    assert!(
        String::from_utf8(missing.stderr)
            .unwrap()
            .contains("no such file or directory")
    );
}

#[test]
fn a_namespace_flag_that_contradicts_the_manifest_is_refused_like_kubectl() {
    let output = potoo(&[
        "check",
        "-f",
        "testdata/check/manifests/01-web.yaml",
        "-n",
        "team-b",
        "--from",
        CLUSTER,
    ])
    .code(2)
    .get_output()
    .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("the namespace from the provided object \"team-a\" does not match the namespace \"team-b\""),
        "{stderr}"
    );
}

#[test]
fn connlist_output_is_refused() {
    potoo(&[
        "check", "-f", MANIFESTS, "--from", CLUSTER, "-o", "connlist",
    ])
    .code(2);
}
