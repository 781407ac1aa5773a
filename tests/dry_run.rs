//! `check --server-dry-run` plumbing against a fake apiserver (wiremock): the request carries
//! `dryRun=All`, admitted / rejected / forbidden answers and `Warning` headers are recorded, an
//! existing object is dry-run applied, and disagreements with potoo's verdict are flagged.

use potoo::engine::admission::manifest_from_value;
use potoo::model::finding::{CheckedObject, DryRunResult, Finding, ObjectVerdict, Verdict};
use potoo::source::dry_run::{DryRunTarget, run_with_client};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
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

async fn client(server: &MockServer) -> kube::Client {
    let config = kube::Config::new(server.uri().parse().unwrap());
    kube::Client::try_from(config).unwrap()
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
    let targets: Vec<DryRunTarget<'_>> = manifests
        .iter()
        .map(|manifest| DryRunTarget {
            manifest,
            namespace: Some("team-a"),
        })
        .collect();
    let outcomes = run_with_client(&client(&server).await, &targets).await;
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
