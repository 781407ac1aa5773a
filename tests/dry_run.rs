//! `check --server-dry-run` plumbing against a fake apiserver (wiremock): the request carries
//! `dryRun=All`, admitted / rejected / forbidden answers and `Warning` headers are recorded, an
//! existing object is dry-run applied, and disagreements with potoo's verdict are flagged — in
//! the library and through the real binary (table and JSON, exit codes).

use potoo::engine::admission::manifest_from_value;
use potoo::model::finding::{CheckedObject, DryRunResult, Finding, ObjectVerdict, Verdict};
use potoo::source::dry_run::{DryRunTarget, run_with_client};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn pod(name: &str) -> potoo::engine::admission::Manifest {
    manifest_from_value(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        "pods.yaml",
        1,
        Some(1),
        None,
    )
    .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "reason": reason, "message": message, "code": code
    }))
}

/// Each manifest as a target in namespace `team-a`.
fn in_team_a(manifests: &[potoo::engine::admission::Manifest]) -> Vec<DryRunTarget<'_>> {
    manifests
        .iter()
        .map(|manifest| DryRunTarget {
            manifest,
            namespace: Some("team-a"),
        })
        .collect()
}

async fn client(server: &MockServer) -> kube::Client {
    let config = kube::Config::new(server.uri().parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn a_dry_run_without_an_answer_within_the_request_timeout_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/namespaces/team-a/pods"))
        .respond_with(ResponseTemplate::new(201).set_delay(std::time::Duration::from_secs(5)))
        .mount(&server)
        .await;
    let manifests = [pod("slow"), pod("next")];
    let targets = in_team_a(&manifests);
    let outcomes = run_with_client(
        &client(&server).await,
        &targets,
        Some(std::time::Duration::from_millis(200)),
    )
    .await;
    assert_eq!(outcomes[0].result, DryRunResult::Error);
    let message = outcomes[0].message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("the dry run failed: no answer to `/api/v1/namespaces/team-a/pods?"),
        "{message}"
    );
    assert!(message.ends_with("within 200ms"), "{message}");
    // The next object is not sent to an apiserver that did not answer.
    assert_eq!(outcomes[1].result, DryRunResult::Error);
    let next = outcomes[1].message.as_deref().unwrap_or_default();
    assert!(
        next.starts_with("not sent: an earlier dry run got no answer (no answer to `"),
        "{next}"
    );
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
}

#[tokio::test]
async fn each_object_is_sent_with_dry_run_all_and_the_answer_recorded() {
    let server = MockServer::start().await;
    let pods = "/api/v1/namespaces/team-a/pods";
    Mock::given(method("POST"))
        .and(path(pods))
        .and(query_param("dryRun", "All"))
        .respond_with(|request: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            match body["metadata"]["name"].as_str().unwrap() {
                "ok" => ResponseTemplate::new(201)
                    .insert_header("Warning", "299 - \"would violate PodSecurity \\\"restricted:latest\\\": x\"")
                    .set_body_json(body),
                "bad" => status(403, "Forbidden", "pods \"bad\" is forbidden: violates PodSecurity \"restricted:latest\": privileged"),
                "denied" => status(403, "Forbidden", "pods is forbidden: User \"dev\" cannot create resource \"pods\" in API group \"\" in the namespace \"team-a\""),
                _ => status(409, "AlreadyExists", "pods \"existing\" already exists"),
            }
        })
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{pods}/existing")))
        .and(query_param("dryRun", "All"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"kind": "Pod"})))
        .mount(&server)
        .await;
    let manifests = [pod("ok"), pod("bad"), pod("denied"), pod("existing")];
    let targets = in_team_a(&manifests);
    let outcomes = run_with_client(&client(&server).await, &targets, None).await;
    let results: Vec<DryRunResult> = outcomes.iter().map(|outcome| outcome.result).collect();
    assert_eq!(
        results,
        vec![
            DryRunResult::Admitted,
            DryRunResult::Rejected,
            DryRunResult::Error,
            DryRunResult::Admitted
        ]
    );
    assert_eq!(
        outcomes[0].warnings,
        vec!["would violate PodSecurity \"restricted:latest\": x".to_string()]
    );
    assert!(
        outcomes[1]
            .message
            .as_deref()
            .unwrap()
            .contains("violates PodSecurity")
    );
    assert!(outcomes[2].message.as_deref().unwrap().starts_with(
        "server-side dry run needs `create` permission on `pods` in namespace `team-a`: "
    ));
    // Nothing but dry runs was sent.
    for request in server.received_requests().await.unwrap() {
        assert!(
            request.url.query().unwrap_or("").contains("dryRun=All"),
            "{}",
            request.url
        );
    }

    // Disagreements: potoo admitted what the apiserver rejected, and the other way round.
    let checked = CheckedObject {
        api_version: "v1".to_string(),
        kind: "Pod".to_string(),
        namespace: Some("team-a".to_string()),
        name: "bad".to_string(),
        file: "pods.yaml".to_string(),
        document: 1,
        line: Some(1),
        item: None,
    };
    let admitted = ObjectVerdict::new(checked.clone(), Vec::new());
    let rejected_by_server = outcomes[1].clone().compared_with(&admitted);
    assert!(rejected_by_server.disagreement.is_some());
    let blocked = ObjectVerdict::new(
        checked.clone(),
        vec![Finding {
            object: checked,
            constraint_id: "Namespace/_cluster/team-a#pod-security-enforce".to_string(),
            constraint_kind: "PodSecurity".to_string(),
            rule: Some("privileged".to_string()),
            verdict: Verdict::Blocked,
            message: "m".to_string(),
            detail: None,
            field_path: None,
            field_paths: Vec::new(),
            reason: None,
            via_pod_template: false,
        }],
    );
    assert!(
        outcomes[0]
            .clone()
            .compared_with(&blocked)
            .disagreement
            .is_some()
    );
    assert!(
        outcomes[1]
            .clone()
            .compared_with(&blocked)
            .disagreement
            .is_none()
    );
    assert!(
        outcomes[2]
            .clone()
            .compared_with(&blocked)
            .disagreement
            .is_none()
    );
}

/// A fake apiserver for the binary: core `v1` discovery, `team-a` enforcing PodSecurity
/// `restricted`, empty lists for everything else, and dry-run creates of Pods in `team-a` that
/// the apiserver admits (so a Pod potoo blocks is a disagreement).
async fn fake_cluster() -> MockServer {
    let server = MockServer::start().await;
    let get = |route: &str, body: serde_json::Value| {
        Mock::given(method("GET"))
            .and(path(route.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(1)
    };
    get(
        "/version",
        json!({"major": "1", "minor": "34", "gitVersion": "v1.34.1"}),
    )
    .mount(&server)
    .await;
    get("/api", json!({"kind": "APIVersions", "versions": ["v1"]}))
        .mount(&server)
        .await;
    get(
        "/apis",
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
    )
    .mount(&server)
    .await;
    get(
        "/api/v1",
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [
            {"name": "namespaces", "singularName": "", "namespaced": false, "kind": "Namespace", "verbs": ["get", "list", "create"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "list", "create"]}
        ]}),
    )
    .mount(&server)
    .await;
    let list = |items: Vec<serde_json::Value>| json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items});
    Mock::given(method("GET"))
        .and(path_regex("^/api/v1/namespaces(/team-a)?$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![json!({
            "metadata": {"name": "team-a", "labels": {
                "kubernetes.io/metadata.name": "team-a",
                "pod-security.kubernetes.io/enforce": "restricted"
            }}
        })])))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(Vec::new())))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/namespaces/team-a/pods"))
        .and(query_param("dryRun", "All"))
        .respond_with(|request: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            ResponseTemplate::new(201).set_body_json(body)
        })
        .mount(&server)
        .await;
    server
}

fn kubeconfig(directory: &tempfile::TempDir, server: &MockServer) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: test\n  context:\n    cluster: fake\n    user: tester\n    namespace: team-a\nusers:\n- name: tester\n  user:\n    token: secret-token\n",
        server.uri()
    );
    let file = directory.path().join("config");
    std::fs::write(&file, text).unwrap();
    file
}

async fn run_binary(arguments: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-potoo"))
            .args(&arguments)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_the_apiserver_answer_beside_potoos_and_fails_on_disagreement() {
    let server = fake_cluster().await;
    let directory = tempfile::tempdir().unwrap();
    let config = kubeconfig(&directory, &server);
    let manifests = directory.path().join("pods.yaml");
    std::fs::write(
        &manifests,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: root, namespace: team-a}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext: {privileged: true}\n",
    )
    .unwrap();
    let arguments = |format: &str| {
        vec![
            "--kubeconfig".to_string(),
            config.display().to_string(),
            "check".to_string(),
            "-f".to_string(),
            manifests.display().to_string(),
            "--server-dry-run".to_string(),
            "-o".to_string(),
            format.to_string(),
        ]
    };
    let output = run_binary(arguments("table")).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("BLOCKED PodSecurity"), "{stdout}");
    assert!(stdout.contains("  SERVER DRY RUN admitted\n"), "{stdout}");
    assert!(
        stdout.contains(
            "DISAGREEMENT: the apiserver admitted the object, potoo expected it to be rejected"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 disagreement with the apiserver"),
        "{stdout}"
    );

    let output = run_binary(arguments("json")).await;
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let dry_run = &document["objects"][0]["dryRun"];
    assert_eq!(dry_run["result"], "admitted");
    assert!(dry_run["disagreement"].is_string());
    let posts: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.method.as_str() != "GET")
        .map(|request| request.url.to_string())
        .collect();
    assert_eq!(posts.len(), 2, "one dry run per run: {posts:?}");
    assert!(
        posts.iter().all(|url| url.contains("dryRun=All")),
        "{posts:?}"
    );
}
