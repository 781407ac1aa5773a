//! CLI tests: the real binary on `testdata/` clusters via `--from`; outputs are insta snapshots
//! under `testdata/snapshots/`, structured outputs are also parsed back and checked.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use common::{potoo, stdout_of};

const SMALL: &str = "testdata/fixtures/small";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn query_namespace_table_and_wide() {
    snapshot!(
        "query_team_a_table",
        stdout_of(&["query", "-n", "team-a", "--from", SMALL])
    );
    snapshot!(
        "query_team_a_wide",
        stdout_of(&["query", "-n", "team-a", "--from", SMALL, "-o", "wide"])
    );
}

#[test]
fn query_all_namespaces_table() {
    snapshot!(
        "query_all_table",
        stdout_of(&["query", "-A", "--from", SMALL])
    );
}

#[test]
fn query_workload_json_is_a_query_result() {
    let text = stdout_of(&[
        "query",
        "-n",
        "team-a",
        "--workload",
        "deploy/web",
        "--from",
        SMALL,
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    assert_eq!(document["kind"], "QueryResult");
    assert_eq!(document["incomplete"], false);
    assert_eq!(document["gaps"], Value::Array(Vec::new()));
    assert_eq!(document["scope"]["workload"], "team-a/Deployment/web");
    let ids: Vec<&str> = document["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"NetworkPolicy/team-a/allow-web#ingress"),
        "{ids:?}"
    );
    snapshot!("query_workload_web_json", text);
}

#[test]
fn query_workload_excludes_constraints_whose_selector_does_not_match() {
    let text = stdout_of(&[
        "query",
        "--workload",
        "team-a/deployment/batch",
        "--from",
        SMALL,
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = document["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    assert!(!ids.iter().any(|id| id.contains("allow-web")), "{ids:?}");
    assert!(
        ids.contains(&"NetworkPolicy/team-a/default-deny#egress"),
        "{ids:?}"
    );
}

#[test]
fn query_yaml_matches_json() {
    let json: Value = serde_json::from_str(&stdout_of(&[
        "query", "-n", "team-b", "--from", SMALL, "-o", "json",
    ]))
    .unwrap();
    let yaml: Value = serde_saphyr::from_str(&stdout_of(&[
        "query", "-n", "team-b", "--from", SMALL, "-o", "yaml",
    ]))
    .unwrap();
    assert_eq!(json, yaml);
    snapshot!(
        "query_team_b_yaml",
        stdout_of(&["query", "-n", "team-b", "--from", SMALL, "-o", "yaml"])
    );
}

#[test]
fn query_filters_by_type_severity_and_labels() {
    let filtered = stdout_of(&[
        "query",
        "-A",
        "--from",
        SMALL,
        "--type",
        "network",
        "--severity",
        "critical",
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&filtered).unwrap();
    let entries = document["constraints"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|entry| entry["severity"] == "critical"
        && entry["type"].as_str().unwrap().starts_with("Network")));

    let labelled = stdout_of(&[
        "query",
        "-A",
        "--from",
        SMALL,
        "-l",
        "app=client",
        "-o",
        "json",
    ]);
    let document: Value = serde_json::from_str(&labelled).unwrap();
    let ids: Vec<&str> = document["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"LimitRange/team-b/container-limits"),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|id| id.contains("team-a")), "{ids:?}");
}

#[test]
fn status_table_and_json() {
    snapshot!(
        "status_small_table",
        stdout_of(&["status", "-A", "--from", SMALL])
    );
    let document: Value =
        serde_json::from_str(&stdout_of(&["status", "-A", "--from", SMALL, "-o", "json"])).unwrap();
    assert_eq!(document["kind"], "StatusResult");
    assert_eq!(document["constraints"], 7);
    assert_eq!(document["bySeverity"]["critical"], 4);
}

#[test]
fn secrets_and_last_applied_are_never_printed() {
    for arguments in [
        vec!["query", "-A", "--from", SMALL, "-o", "json"],
        vec!["status", "--from", SMALL, "-o", "yaml"],
    ] {
        let text = stdout_of(&arguments);
        assert!(
            !text.contains("c2VjcmV0"),
            "secret data leaked by {arguments:?}"
        );
        assert!(
            !text.contains("last-applied-configuration"),
            "{arguments:?}"
        );
    }
}

#[test]
fn incomplete_snapshots_say_so_everywhere() {
    let from = "testdata/fixtures/incomplete-snapshot.json";
    let document: Value = serde_json::from_str(&stdout_of(&[
        "query", "-n", "team-a", "--from", from, "-o", "json",
    ]))
    .unwrap();
    assert_eq!(document["incomplete"], true);
    assert_eq!(document["gaps"][0]["reason"], "forbidden");
    let assert = potoo(&["query", "-n", "team-a", "--from", from]).success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("warning: the answer is incomplete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read ValidatingWebhookConfigurations (forbidden)"),
        "{stderr}"
    );
    let status: Value =
        serde_json::from_str(&stdout_of(&["status", "--from", from, "-o", "json"])).unwrap();
    assert_eq!(status["incomplete"], true);
}

#[test]
fn bad_input_names_file_document_and_field_and_exits_2() {
    let assert = potoo(&["query", "-A", "--from", "testdata/fixtures/bad"]).code(2);
    let output = assert.get_output();
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: `testdata/fixtures/bad/missing-name.yaml` document 2 (line 6): missing field `metadata.name`"
    );
}

#[test]
fn usage_errors_exit_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["query", "--from", SMALL, "--workload", "deploy/absent"],
            "workload `Deployment/absent` not found in namespace `default`",
        ),
        (
            &["query", "--from", SMALL, "--workload", "gizmo/x"],
            "unknown workload kind `gizmo`",
        ),
        (
            &["query", "--from", SMALL, "--type", "firewall"],
            "unknown --type `firewall`",
        ),
        (
            &["query", "--from", SMALL, "--severity", "fatal"],
            "unknown --severity `fatal`",
        ),
        (
            &["query", "--from", "testdata/no-such-dir"],
            "no such file or directory",
        ),
    ];
    for (arguments, expected) in cases {
        let assert = potoo(arguments).code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
    }
    potoo(&["query", "-A", "-n", "x"]).code(2);
    potoo(&["frobnicate"]).code(2);
}

#[test]
fn stdin_is_a_source() {
    let yaml = std::fs::read_to_string(format!(
        "{}/{SMALL}/cluster.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut command = cargo_bin_cmd!("kubectl-potoo");
    let assert = command
        .args(["query", "-n", "team-b", "--from", "-", "-o", "json"])
        .write_stdin(yaml)
        .assert()
        .success();
    let document: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert!(!document["constraints"].as_array().unwrap().is_empty());
}

#[test]
fn broken_pipe_exits_0_quietly() {
    let directory = tempfile::tempdir().unwrap();
    let mut yaml = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n");
    for index in 0..2000 {
        yaml.push_str(&format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: policy-{index}, namespace: big}}\nspec: {{podSelector: {{}}}}\n"
        ));
    }
    std::fs::write(directory.path().join("big.yaml"), yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-potoo"))
        .args(["query", "-A", "-o", "json", "--from"])
        .arg(directory.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn completion_scripts_are_generated_and_committed_ones_are_current() {
    for (shell, file) in [
        ("bash", "kubectl-potoo.bash"),
        ("zsh", "_kubectl-potoo"),
        ("fish", "kubectl-potoo.fish"),
    ] {
        let script = stdout_of(&["completion", shell]);
        assert!(script.contains("kubectl-potoo"), "{shell}");
        let committed =
            std::fs::read_to_string(format!("{}/completions/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_default();
        assert_eq!(
            committed, script,
            "completions/{file} is stale: regenerate with `kubectl-potoo completion {shell}`"
        );
    }
}

#[test]
fn detail_levels_hide_other_namespaces_and_rule_bodies() {
    let full = stdout_of(&["query", "-A", "--from", SMALL, "-o", "json"]);
    for needle in [
        "default-deny",
        "allow-web",
        "8080",
        "app=client",
        "\"pattern\":",
    ] {
        assert!(full.contains(needle), "full output should contain {needle}");
    }
    let detailed = stdout_of(&[
        "query", "-A", "--from", SMALL, "-o", "json", "--detail", "detailed",
    ]);
    assert!(
        !detailed.contains("\"pattern\":"),
        "rule bodies must be hidden by detailed"
    );
    assert!(
        !detailed.contains("app=client"),
        "other namespaces' selectors must be hidden by detailed"
    );
    assert!(detailed.contains("default-deny"), "detailed keeps names");

    let summary = stdout_of(&[
        "query", "-A", "--from", SMALL, "-o", "json", "--detail", "summary",
    ]);
    for needle in [
        "default-deny",
        "allow-web",
        "\"compute\"",
        "container-limits",
        "8080",
        "app=client",
        "app=web",
        "TCP",
        "\"pattern\":",
    ] {
        assert!(!summary.contains(needle), "summary output leaks {needle}");
    }
    let document: Value = serde_json::from_str(&summary).unwrap();
    assert!(
        document["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["source"]["name"] == "NetworkPolicy (NetworkIngress)")
    );

    let own = stdout_of(&[
        "query", "-n", "team-a", "--from", SMALL, "-o", "json", "--detail", "summary",
    ]);
    assert!(
        own.contains("allow-web") && own.contains("8080"),
        "the user's own namespace stays visible"
    );
}

#[test]
fn krew_manifest_names_the_binary_and_the_crate_version() {
    let text =
        std::fs::read_to_string(format!("{}/krew/potoo.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let manifest: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(
        manifest["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    for platform in manifest["spec"]["platforms"].as_array().unwrap() {
        assert_eq!(platform["bin"], "kubectl-potoo");
        assert_eq!(platform["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn snapshot_round_trips_through_from_without_secret_data() {
    let text = stdout_of(&["snapshot", "-A", "--from", SMALL]);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["kind"], "Snapshot");
    assert_eq!(document["incomplete"], false);
    assert!(!text.contains("c2VjcmV0") && !text.contains("last-applied-configuration"));
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("snapshot.json");
    std::fs::write(&path, &text).unwrap();
    let path_text = path.to_str().unwrap();
    assert_eq!(
        stdout_of(&["query", "-A", "--from", path_text, "-o", "json"]),
        stdout_of(&["query", "-A", "--from", SMALL, "-o", "json"])
    );
    let incomplete = stdout_of(&[
        "snapshot",
        "--from",
        "testdata/fixtures/incomplete-snapshot.json",
    ]);
    let reread: Value = serde_json::from_str(&incomplete).unwrap();
    assert_eq!(reread["gaps"][0]["reason"], "forbidden");
}

#[test]
fn test_command_runs_kyverno_suites() {
    snapshot!(
        "test_require_labels_table",
        stdout_of(&["test", "testdata/kyverno/suites/require-labels"])
    );
    let junit = stdout_of(&[
        "test",
        "testdata/kyverno/suites/require-labels",
        "-o",
        "junit",
    ]);
    assert!(
        junit.starts_with("<?xml") && junit.contains("<testsuite"),
        "{junit}"
    );
    let assert = potoo(&["test", "testdata/kyverno/suites/mismatch"]).code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    snapshot!("test_mismatch_table", stdout);
    potoo(&[
        "test",
        "testdata/kyverno/suites/require-labels",
        "-o",
        "connlist",
    ])
    .code(2);
}

#[test]
fn demo_cluster_goldens() {
    let demo = "testdata/demo";
    snapshot!(
        "demo_query_all_wide",
        stdout_of(&["query", "-A", "--from", demo, "-o", "wide"])
    );
    snapshot!("demo_status", stdout_of(&["status", "-A", "--from", demo]));
    snapshot!(
        "demo_query_payments_api_wide",
        stdout_of(&[
            "query",
            "-n",
            "payments",
            "--workload",
            "deploy/payments-api",
            "--from",
            demo,
            "-o",
            "wide"
        ])
    );
    let status: Value =
        serde_json::from_str(&stdout_of(&["status", "-A", "--from", demo, "-o", "json"])).unwrap();
    assert!(
        status["diagnostics"].as_array().unwrap().is_empty(),
        "{}",
        status["diagnostics"]
    );
}
