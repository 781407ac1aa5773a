//! `explain` tests: the message table `testdata/explain/messages.yaml` (real-format messages →
//! family, identifiers, resolved constraints, confidence) against `testdata/explain/cluster`;
//! multi-line pastes; unreadable kinds (`testdata/explain/gaps.json`); `--detail`; and the real
//! binary with insta snapshots (`testdata/snapshots/explain_*`) and exit codes.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use potoo::adapters::Registry;
use potoo::cli::DetailLevel;
use potoo::engine::explain::{ExplainRequest, Explanation, explain};
use potoo::model::Constraint;
use potoo::privacy::redact_explanation;
use potoo::source::Snapshot;
use potoo::source::files::read_paths;
use serde::Deserialize;
use serde_json::Value;

use common::{potoo, stdout_with_code};

const CLUSTER: &str = "testdata/explain/cluster";
const GAPS: &str = "testdata/explain/gaps.json";

#[derive(Debug, Deserialize)]
struct Table {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    message: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    workload: Option<String>,
    family: String,
    #[serde(default)]
    identifiers: BTreeMap<String, String>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    resolves_to: Option<Vec<String>>,
    confidence: String,
}

fn load(path: &str) -> (Snapshot, Vec<Constraint>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let snapshot = read_paths(&[root.join(path)], &mut std::io::empty()).unwrap();
    let constraints = Registry::default().adapt(&snapshot).constraints;
    (snapshot, constraints)
}

fn run(
    text: &str,
    namespace: Option<&str>,
    workload: Option<&str>,
    cluster: &(Snapshot, Vec<Constraint>),
) -> Explanation {
    let request = ExplainRequest {
        namespace: namespace.unwrap_or("default").to_string(),
        workload: workload.map(str::to_string),
    };
    explain(text, &cluster.0, &cluster.1, &request)
}

/// What differs between a case and the engine's answer (empty: the case passes).
fn check_case(case: &Case, explanation: &Explanation) -> Vec<String> {
    let mut problems = Vec::new();
    if explanation.errors.len() != 1 {
        return vec![format!(
            "expected 1 error, got {}",
            explanation.errors.len()
        )];
    }
    let error = &explanation.errors[0];
    if error.family.as_str() != case.family {
        problems.push(format!(
            "family: want {}, got {}",
            case.family,
            error.family.as_str()
        ));
    }
    for (key, want) in &case.identifiers {
        match error.identifiers.get(key) {
            Some(got) if got == want => {}
            got => problems.push(format!("identifier {key}: want {want:?}, got {got:?}")),
        }
    }
    let fields: Vec<&String> = error
        .causes
        .iter()
        .flat_map(|cause| &cause.fields)
        .collect();
    for field in &case.fields {
        if !fields.contains(&field) {
            problems.push(format!("field {field} missing; got {fields:?}"));
        }
    }
    if let Some(want) = &case.resolves_to {
        let got: Vec<&String> = error
            .constraints
            .iter()
            .map(|constraint| &constraint.id)
            .collect();
        if got
            .iter()
            .map(|id| id.as_str())
            .ne(want.iter().map(String::as_str))
        {
            problems.push(format!("resolves_to: want {want:?}, got {got:?}"));
        }
    }
    if error.confidence.as_str() != case.confidence {
        problems.push(format!(
            "confidence: want {}, got {} ({})",
            case.confidence,
            error.confidence.as_str(),
            error.summary
        ));
    }
    problems
}

#[test]
fn message_table_resolves_every_real_format() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("testdata/explain/messages.yaml")).unwrap();
    let table: Table = serde_saphyr::from_str(&text).unwrap();
    assert!(
        table.cases.len() >= 60,
        "the table needs at least 60 messages"
    );
    let cluster = load(CLUSTER);
    let mut failures = Vec::new();
    for case in &table.cases {
        let explanation = run(
            &case.message,
            case.namespace.as_deref(),
            case.workload.as_deref(),
            &cluster,
        );
        let problems = check_case(case, &explanation);
        if !problems.is_empty() {
            failures.push(format!("{}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_recorded_rejection_of_the_real_apiserver_is_in_the_table() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("testdata/explain/messages.yaml")).unwrap();
    let table: Table = serde_saphyr::from_str(&table).unwrap();
    let mut recorded = 0;
    for entry in std::fs::read_dir(root.join("tests/e2e/ground-truth")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if document["allowed"] == false {
            recorded += 1;
            let message = document["message"].as_str().unwrap();
            assert!(
                table.cases.iter().any(|case| case.message == message),
                "{}: its message is not in the table: {message}",
                path.display()
            );
        }
    }
    assert!(recorded >= 9);
}

const APPLY_OUTPUT: &str = r#"deployment.apps/web configured
service/web unchanged
Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false)
Error from server (Forbidden): error when creating "quota.yaml": pods "api-1" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=800m, used: requests.cpu=1500m, limited: requests.cpu=2
Error from server: error when creating "pod.yaml": admission webhook "validate.kyverno.svc-fail" denied the request: 

resource Pod/team-a/nolimits was blocked due to the following policies 

require-requests-limits:
  validate-resources: 'validation error: CPU and memory requests and limits are required.
    rule validate-resources failed at path /spec/containers/0/resources/limits/'
configmap/app-config created
Error from server (Forbidden): error when creating "gk.yaml": admission webhook "validation.gatekeeper.sh" denied the request: [pods-must-have-owner] you must provide labels: {"owner"}
"#;

#[test]
fn a_whole_apply_output_is_explained_error_by_error() {
    let cluster = load(CLUSTER);
    let explanation = run(APPLY_OUTPUT, Some("team-a"), None, &cluster);
    let summary: Vec<(&str, Vec<&str>)> = explanation
        .errors
        .iter()
        .map(|error| {
            (
                error.family.as_str(),
                error
                    .constraints
                    .iter()
                    .map(|constraint| constraint.id.as_str())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "podSecurity",
                vec![
                    "Namespace/_cluster/team-a#pod-security-audit",
                    "Namespace/_cluster/team-a#pod-security-warn"
                ]
            ),
            ("resourceQuota", vec!["ResourceQuota/team-a/compute-quota"]),
            (
                "kyverno",
                vec!["ClusterPolicy/_cluster/require-requests-limits#validate-resources"]
            ),
            (
                "gatekeeper",
                vec!["K8sRequiredLabels/_cluster/pods-must-have-owner"]
            ),
        ]
    );
    assert!(!explanation.errors[2].text.contains("configmap/app-config"));
}

const DESCRIBE_OUTPUT: &str = r#"Name:             web-5d8f7c9b4-x2x7k
Namespace:        team-a
Status:           Pending
Events:
  Type     Reason            Age                From               Message
  ----     ------            ----               ----               -------
  Warning  FailedScheduling  2m (x5 over 7m)    default-scheduler  0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.
  Normal   Scheduled         1m                 default-scheduler  Successfully assigned team-a/web-5d8f7c9b4-x2x7k to node-1
  Normal   Pulling           1m                 kubelet            Pulling image "nginx:1.999"
  Warning  Failed            58s                kubelet            Failed to pull image "nginx:1.999": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": not found
  Warning  Failed            58s                kubelet            Error: ErrImagePull
"#;

#[test]
fn a_describe_output_yields_one_explanation_per_warning_event() {
    let cluster = load(CLUSTER);
    let explanation = run(DESCRIBE_OUTPUT, Some("team-a"), None, &cluster);
    let families: Vec<&str> = explanation
        .errors
        .iter()
        .map(|error| error.family.as_str())
        .collect();
    assert_eq!(families, vec!["scheduling", "imagePull", "imagePull"]);
    assert_eq!(explanation.errors[1].identifiers["cause"], "notFound");
}

#[test]
fn unreadable_policies_are_named_and_the_message_still_explained() {
    let cluster = load(GAPS);
    let message = "admission webhook \"validate.kyverno.svc-fail\" denied the request:\n\nresource Pod/team-a/x was blocked due to the following policies\n\nrequire-requests-limits:\n  validate-resources: 'validation error: CPU and memory requests and limits are required.'";
    let explanation = run(message, Some("team-a"), None, &cluster);
    assert!(explanation.incomplete);
    let error = &explanation.errors[0];
    assert_eq!(error.family.as_str(), "kyverno");
    assert_eq!(error.confidence.as_str(), "medium");
    assert_eq!(error.identifiers["policy"], "require-requests-limits");
    assert!(error.constraints.is_empty());
    assert_eq!(error.unreadable.len(), 1);
    assert!(
        error.unreadable[0].starts_with("cannot read ClusterPolicies"),
        "{}",
        error.unreadable[0]
    );
    assert!(error.summary.contains("explained from the message alone"));
}

#[test]
fn summary_detail_hides_other_namespaces_constraints() {
    let cluster = load(CLUSTER);
    let mut explanation = run(
        "dial tcp 10.244.2.7:5432: i/o timeout",
        Some("team-b"),
        Some("pod/batch-worker-1"),
        &cluster,
    );
    let full = serde_json::to_string(&explanation).unwrap();
    assert!(full.contains("NetworkPolicy/team-a/default-deny-ingress"));
    redact_explanation(&mut explanation, &cluster.1, DetailLevel::Summary, "team-b");
    let redacted = serde_json::to_string(&explanation).unwrap();
    assert!(!redacted.contains("default-deny-ingress"), "{redacted}");
    assert!(!redacted.contains("db-0"), "{redacted}");
    assert!(redacted.contains("NetworkPolicy/team-a/<hidden>"));
    // The user's own namespace stays visible.
    assert!(redacted.contains("NetworkPolicy/team-b/default-deny-all#egress"));
}

#[test]
fn detailed_detail_keeps_names_and_hides_reasons_of_other_namespaces() {
    let cluster = load(CLUSTER);
    let mut explanation = run(
        "dial tcp 10.244.2.7:5432: i/o timeout",
        Some("team-b"),
        Some("pod/batch-worker-1"),
        &cluster,
    );
    redact_explanation(
        &mut explanation,
        &cluster.1,
        DetailLevel::Detailed,
        "team-b",
    );
    let foreign = explanation.errors[0]
        .constraints
        .iter()
        .find(|constraint| constraint.id.starts_with("NetworkPolicy/team-a/"))
        .unwrap();
    assert_eq!(
        foreign.id,
        "NetworkPolicy/team-a/default-deny-ingress#ingress"
    );
    assert!(foreign.why.contains("details hidden"));
}

// ------------------------------------------------------------------------------ the real binary

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn table_output_names_the_constraint() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "-n",
            "team-a",
            "pods \"gt-quota-cpu\" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=800m, used: requests.cpu=1500m, limited: requests.cpu=2",
        ],
        0,
    );
    snapshot!("explain_quota_table", text);
}

#[test]
fn table_output_of_a_whole_paste_from_a_file() {
    let directory = tempfile::tempdir().unwrap();
    let paste = directory.path().join("apply.txt");
    std::fs::write(&paste, APPLY_OUTPUT).unwrap();
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "-n",
            "team-a",
            "--file",
            paste.to_str().unwrap(),
        ],
        0,
    );
    snapshot!("explain_apply_paste_table", text);
}

#[test]
fn json_output_is_an_explanation_document() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "-n",
            "team-b",
            "--workload",
            "pod/batch-worker-1",
            "-o",
            "json",
            "dial tcp 10.244.2.7:5432: i/o timeout",
        ],
        0,
    );
    snapshot!("explain_network_json", text.clone());
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    assert_eq!(document["kind"], "Explanation");
    assert_eq!(document["incomplete"], false);
    assert_eq!(document["gaps"], Value::Array(Vec::new()));
    assert_eq!(document["errors"][0]["family"], "network");
    assert_eq!(document["errors"][0]["confidence"], "high");
    assert_eq!(
        document["errors"][0]["unreadable"],
        Value::Array(Vec::new())
    );
}

#[test]
fn stdin_dash_reads_the_paste() {
    let mut command = cargo_bin_cmd!("kubectl-potoo");
    let output = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["explain", "--from", CLUSTER, "-n", "team-a", "-o", "yaml", "-"])
        .write_stdin("admission webhook \"validation.gatekeeper.sh\" denied the request: [pods-must-have-owner] you must provide labels: {\"owner\"}\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("kind: Explanation"));
    assert!(text.contains("- id: K8sRequiredLabels/_cluster/pods-must-have-owner"));
}

#[test]
fn nothing_recognized_exits_1() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "all good, deployment rolled out",
        ],
        1,
    );
    assert!(text.starts_with("No error recognized"));
}

#[test]
fn empty_text_is_a_usage_error() {
    potoo(&["explain", "--from", CLUSTER, "  "])
        .code(2)
        .stderr(predicates::str::contains("needs the error text"));
}

#[test]
fn gaps_are_reported_in_the_document() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            GAPS,
            "-n",
            "team-a",
            "-o",
            "json",
            "admission webhook \"validate.kyverno.svc-fail\" denied the request: resource Pod/team-a/x was blocked due to the following policies   require-requests-limits:   validate-resources: 'validation error: required'",
        ],
        0,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["incomplete"], true);
    assert_eq!(document["gaps"][0]["kind"], "ClusterPolicy");
    assert_eq!(document["errors"][0]["confidence"], "medium");
}

#[test]
fn summary_detail_applies_to_the_binary_output() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "-n",
            "team-b",
            "--workload",
            "pod/batch-worker-1",
            "--detail",
            "summary",
            "-o",
            "json",
            "dial tcp 10.244.2.7:5432: i/o timeout",
        ],
        0,
    );
    assert!(!text.contains("default-deny-ingress"), "{text}");
    assert!(text.contains("NetworkPolicy/team-a/<hidden>"), "{text}");
    assert!(
        text.contains("NetworkPolicy/team-b/default-deny-all#egress"),
        "{text}"
    );
}

#[test]
fn table_output_names_what_could_not_be_read() {
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            GAPS,
            "-n",
            "team-a",
            "admission webhook \"validate.kyverno.svc-fail\" denied the request: resource Pod/team-a/x was blocked due to the following policies   require-requests-limits:   validate-resources: 'validation error: required'",
        ],
        0,
    );
    snapshot!("explain_unreadable_table", text);
}

#[test]
fn an_unknown_workload_is_an_error_not_ignored() {
    potoo(&[
        "explain",
        "--from",
        CLUSTER,
        "-n",
        "team-a",
        "--workload",
        "deploy/wbe",
        "dial tcp 10.244.2.7:5432: i/o timeout",
    ])
    .code(2)
    .stderr(predicates::str::contains(
        "workload `Deployment/wbe` not found in namespace `team-a`",
    ));
    potoo(&[
        "explain",
        "--from",
        CLUSTER,
        "--workload",
        "gizmo/web",
        "dial tcp 10.244.2.7:5432: i/o timeout",
    ])
    .code(2)
    .stderr(predicates::str::contains("unknown workload kind `gizmo`"));
}

#[test]
fn a_workload_in_another_namespace_sets_the_namespace_unless_n_disagrees() {
    // Without -n, `team-a/deploy/web` makes team-a the request's namespace: the LimitRange
    // message resolves there and the remediation is tailored to the Deployment.
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "--workload",
            "team-a/deploy/web",
            "-o",
            "json",
            "Error from server (Forbidden): error when creating \"pod.yaml\": pods \"web\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi",
        ],
        0,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    let error = &document["errors"][0];
    assert_eq!(error["family"], "limitRange", "{text}");
    assert_eq!(
        error["constraints"][0]["id"],
        "LimitRange/team-a/container-limits"
    );
    assert_eq!(
        error["remediations"][0]["workload"],
        "Deployment team-a/web"
    );
    potoo(&[
        "explain",
        "--from",
        CLUSTER,
        "-n",
        "team-b",
        "--workload",
        "team-a/deploy/web",
        "dial tcp 10.244.2.7:5432: i/o timeout",
    ])
    .code(2)
    .stderr(predicates::str::contains(
        "`--workload team-a/deploy/web` names namespace `team-a` but `-n` is `team-b`",
    ));
}

#[test]
fn a_workload_of_a_kind_potoo_could_not_read_is_taken_on_trust() {
    // A network error widens the read to every namespace; the user could not list Deployments
    // cluster-wide. The workload is not called missing: the answer goes on, with the gap.
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            "testdata/explain/deployments-unread.json",
            "-n",
            "shop",
            "--workload",
            "deploy/web",
            "-o",
            "json",
            "dial tcp 10.0.0.5:5432: i/o timeout",
        ],
        0,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["incomplete"], true);
    assert_eq!(document["gaps"][0]["kind"], "Deployment");
    assert_eq!(document["errors"][0]["family"], "network", "{text}");
}

#[test]
fn other_clients_the_reach_engine_knows_are_passed_through() {
    // A Service (or a ReplicationController, an IP) as the client is not a workload potoo
    // indexes, but the reach engine resolves it.
    let text = stdout_with_code(
        &[
            "explain",
            "--from",
            CLUSTER,
            "-n",
            "team-a",
            "--workload",
            "svc/web",
            "-o",
            "json",
            "dial tcp 10.244.2.7:5432: i/o timeout",
        ],
        0,
    );
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["errors"][0]["family"], "network", "{text}");
    potoo(&[
        "explain",
        "--from",
        CLUSTER,
        "--workload",
        "web",
        "dial tcp 10.244.2.7:5432: i/o timeout",
    ])
    .code(2)
    .stderr(predicates::str::contains(
        "workload `web` must be KIND/NAME or NAMESPACE/KIND/NAME",
    ));
}
