//! The live source against a fake apiserver (wiremock): discovery, pagination, gaps, scopes, kubeconfig flags.

use std::path::PathBuf;
use std::time::Duration;

use potoo::source::KindsRead;
use potoo::source::live::{self, LiveError, LiveOptions};
use potoo::source::{GapReason, NamespaceScope, Snapshot};
use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::matchers::{method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A kind the fake apiserver serves.
#[derive(Clone, Copy)]
struct Resource {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
}

const fn resource(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version,
        kind,
        plural,
        namespaced,
    }
}

const RESOURCES: &[Resource] = &[
    resource("", "v1", "Namespace", "namespaces", false),
    resource("", "v1", "Pod", "pods", true),
    resource("", "v1", "Secret", "secrets", true),
    resource("", "v1", "ConfigMap", "configmaps", true),
    resource("", "v1", "LimitRange", "limitranges", true),
    resource("", "v1", "Event", "events", true),
    resource("apps", "v1", "Deployment", "deployments", true),
    resource(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    resource(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    resource("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", true),
    resource(
        "policies.example.com",
        "v1",
        "TrafficPolicy",
        "trafficpolicies",
        true,
    ),
    resource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    resource("example.org", "v1", "Guardrail", "guardrails", true),
    resource("example.org", "v1", "Widget", "widgets", true),
    resource("example.net", "v1", "Fence", "fences", false),
];

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn discovery_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

fn resource_list(group: &str, version: &str) -> Value {
    let mut resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|resource| resource.group == group && resource.version == version)
        .map(|resource| {
            json!({
                "name": resource.plural, "singularName": "", "namespaced": resource.namespaced,
                "kind": resource.kind, "verbs": ["get", "list", "watch"]
            })
        })
        .collect();
    if group.is_empty() {
        // A subresource: never listed.
        resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version(group, version), "resources": resources})
}

/// A fake apiserver with classic discovery for [`RESOURCES`] and an empty list for any other GET.
/// `broken` group versions answer discovery with 503, like an unavailable aggregated API.
async fn start_cluster(broken: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/version"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"major": "1", "minor": "34", "gitVersion": "v1.34.1"})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"kind": "APIVersions", "versions": ["v1"]})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let mut group_versions: Vec<(&str, &str)> = RESOURCES
        .iter()
        .map(|resource| (resource.group, resource.version))
        .collect();
    group_versions.dedup();
    let groups: Vec<Value> = group_versions
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, version)| {
            let entry = json!({"groupVersion": group_version(group, version), "version": version});
            json!({"name": group, "versions": [entry.clone()], "preferredVersion": entry})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/apis"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    for (group, version) in group_versions {
        let response = if broken.contains(&group_version(group, version).as_str()) {
            ResponseTemplate::new(503).set_body_string("service unavailable")
        } else {
            ResponseTemplate::new(200).set_body_json(resource_list(group, version))
        };
        Mock::given(method("GET"))
            .and(path(discovery_path(group, version)))
            .respond_with(response)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_body(vec![], None)))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// A list item as the apiserver returns it: no `apiVersion`/`kind`.
fn item(name: &str, namespace: Option<&str>) -> Value {
    let mut metadata = json!({"name": name, "uid": format!("uid-{name}")});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({"metadata": metadata, "spec": {}})
}

fn list_body(items: Vec<Value>, continue_token: Option<&str>) -> Value {
    let mut metadata = json!({"resourceVersion": "100"});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    json!({"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": items})
}

fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

async fn serve_list(server: &MockServer, list_path: &str, items: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(list_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_body(items, None)))
        .with_priority(2)
        .mount(server)
        .await;
}

async fn refuse(server: &MockServer, list_path: &str, code: u16) {
    let reason = if code == 401 {
        "Unauthorized"
    } else {
        "Forbidden"
    };
    Mock::given(method("GET"))
        .and(path(list_path))
        .respond_with(ResponseTemplate::new(code).set_body_json(status_body(
            code,
            reason,
            &format!("{list_path} is forbidden: User \"tester\" cannot list it"),
        )))
        .with_priority(2)
        .mount(server)
        .await;
}

/// A cluster entry of a test kubeconfig: context name, server URL, context namespace.
struct ContextEntry<'a> {
    name: &'a str,
    server: &'a str,
    namespace: Option<&'a str>,
}

fn write_kubeconfig(directory: &TempDir, contexts: &[ContextEntry<'_>], current: &str) -> PathBuf {
    let mut text = format!("apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n");
    for context in contexts {
        text.push_str(&format!(
            "- name: {0}-cluster\n  cluster:\n    server: {1}\n",
            context.name, context.server
        ));
    }
    text.push_str("contexts:\n");
    for context in contexts {
        text.push_str(&format!(
            "- name: {0}\n  context:\n    cluster: {0}-cluster\n    user: tester\n",
            context.name
        ));
        if let Some(namespace) = context.namespace {
            text.push_str(&format!("    namespace: {namespace}\n"));
        }
    }
    text.push_str("users:\n- name: tester\n  user:\n    token: secret-token\n");
    let kubeconfig = directory.path().join("config");
    std::fs::write(&kubeconfig, text).expect("write kubeconfig");
    kubeconfig
}

/// Options for a kubeconfig with one context `test` pointing at `server`.
fn options_for(directory: &TempDir, server: &MockServer) -> LiveOptions {
    let uri = server.uri();
    let kubeconfig = write_kubeconfig(
        directory,
        &[ContextEntry {
            name: "test",
            server: &uri,
            namespace: Some("team-a"),
        }],
        "test",
    );
    LiveOptions {
        kubeconfig: Some(kubeconfig),
        request_timeout: Some(Duration::from_secs(10)),
        ..LiveOptions::default()
    }
}

fn names(snapshot: &Snapshot, group: &str, kind: &str) -> Vec<String> {
    snapshot
        .of_kind(group, kind)
        .map(|object| object.name.clone())
        .collect()
}

async fn requested_paths(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| request.url.path().to_string())
        .collect()
}

#[tokio::test]
async fn reads_every_page_through_continue_tokens() {
    let server = start_cluster(&[]).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/pods"))
        .and(query_param("limit", "500"))
        .and(query_param_is_missing("continue"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_body(
            vec![item("web-1", Some("team-a")), item("web-2", Some("team-b"))],
            Some("page-2"),
        )))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/pods"))
        .and(query_param("limit", "500"))
        .and(query_param("continue", "page-2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(list_body(vec![item("api-1", Some("team-a"))], None)),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(
        names(&snapshot, "", "Pod"),
        vec!["api-1", "web-1", "web-2"],
        "sorted by namespace, then name"
    );
    let pod = snapshot.of_kind("", "Pod").next().expect("a pod");
    assert_eq!(pod.api_version, "v1");
    assert_eq!(pod.kind, "Pod");
    assert!(
        snapshot.gaps.is_empty(),
        "unexpected gaps: {:?}",
        snapshot.gaps
    );
    assert_eq!(snapshot.source.kind, "live");
    assert_eq!(snapshot.source.server_version.as_deref(), Some("v1.34.1"));
    assert!(
        snapshot.source.description.contains("test"),
        "{}",
        snapshot.source.description
    );
    assert!(
        snapshot.source.description.contains(&server.uri()),
        "{}",
        snapshot.source.description
    );
    let served_pod = snapshot
        .source
        .served_kinds
        .iter()
        .find(|served| served.group.is_empty() && served.kind == "Pod")
        .expect("pods are served");
    assert_eq!(
        (
            served_pod.version.as_str(),
            served_pod.plural.as_str(),
            served_pod.namespaced
        ),
        ("v1", "pods", true)
    );
    let paths = requested_paths(&server).await;
    assert_eq!(
        paths.iter().filter(|path| *path == "/api/v1/pods").count(),
        2,
        "two pages: {paths:?}"
    );
    assert!(
        !paths.iter().any(|path| path == "/api/v1/events"),
        "events are not policy-relevant: {paths:?}"
    );
    assert!(
        !paths.iter().any(|path| path.contains("pods/log")),
        "subresources are never listed: {paths:?}"
    );
}

#[tokio::test]
async fn a_forbidden_kind_becomes_a_gap_while_other_kinds_are_read() {
    let server = start_cluster(&[]).await;
    refuse(&server, "/api/v1/limitranges", 403).await;
    serve_list(
        &server,
        "/apis/networking.k8s.io/v1/networkpolicies",
        vec![item("deny-all", Some("team-a"))],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("one forbidden kind does not fail the read");

    assert_eq!(
        names(&snapshot, "networking.k8s.io", "NetworkPolicy"),
        vec!["deny-all"]
    );
    assert_eq!(snapshot.gaps.len(), 1, "{:?}", snapshot.gaps);
    let gap = &snapshot.gaps[0];
    assert_eq!(gap.reason, GapReason::Forbidden);
    assert_eq!(gap.kind, "LimitRange");
    assert_eq!(gap.resource, "v1/limitranges");
    assert!(gap.message.contains("forbidden"), "{}", gap.message);
    assert!(snapshot.is_incomplete());
}

#[tokio::test]
async fn a_broken_api_group_does_not_fail_the_read() {
    let server = start_cluster(&["metrics.k8s.io/v1beta1", "policies.example.com/v1"]).await;
    serve_list(
        &server,
        "/apis/apps/v1/deployments",
        vec![item("web", Some("team-a"))],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("a 503 group does not fail the read");

    assert_eq!(names(&snapshot, "apps", "Deployment"), vec!["web"]);
    // The broken metrics group holds no policies: no gap. The broken policy-like group does.
    assert!(
        !snapshot
            .gaps
            .iter()
            .any(|gap| gap.resource.contains("metrics.k8s.io")),
        "{:?}",
        snapshot.gaps
    );
    let gap = snapshot
        .gaps
        .iter()
        .find(|gap| gap.resource == "policies.example.com/v1")
        .expect("a gap for the broken policy group");
    assert_eq!(gap.reason, GapReason::Error);
    assert!(gap.message.contains("503"), "{}", gap.message);
    assert_eq!(snapshot.gaps.len(), 1, "{:?}", snapshot.gaps);
    assert!(
        !snapshot
            .source
            .served_kinds
            .iter()
            .any(|served| served.group == "metrics.k8s.io")
    );
}

#[tokio::test]
async fn policy_like_kinds_of_unknown_groups_are_listed() {
    let server = start_cluster(&[]).await;
    serve_list(
        &server,
        "/apis/policies.example.com/v1/trafficpolicies",
        vec![item("slow-down", Some("team-a"))],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    let policy = snapshot
        .of_kind("policies.example.com", "TrafficPolicy")
        .next()
        .expect("the policy-like kind is read");
    assert_eq!(policy.api_version, "policies.example.com/v1");
    assert_eq!(policy.name, "slow-down");
}

/// `query` and `status` never look inside workloads: a read for them lists Pods and the
/// controllers metadata-only, still counted; NetworkPolicies and the rest are listed whole.
#[tokio::test]
async fn workloads_are_listed_metadata_only_for_commands_that_do_not_read_them() {
    let server = start_cluster(&[]).await;
    serve_list(&server, "/api/v1/pods", vec![item("web-1", Some("team-a"))]).await;
    let directory = TempDir::new().expect("temporary directory");
    let options = LiveOptions {
        kinds_read: KindsRead::AllButWorkloads,
        ..options_for(&directory, &server)
    };

    let snapshot = live::read(&options, &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(names(&snapshot, "", "Pod"), ["web-1"]);
    let requests = server.received_requests().await.unwrap_or_default();
    let accept_of = |list_path: &str| {
        requests
            .iter()
            .find(|request| request.url.path() == list_path)
            .and_then(|request| request.headers.get("accept"))
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let pods = accept_of("/api/v1/pods");
    assert!(pods.contains("as=PartialObjectMetadataList"), "{pods}");
    let policies_path = "/apis/networking.k8s.io/v1/networkpolicies";
    assert!(
        requests
            .iter()
            .any(|request| request.url.path() == policies_path),
        "NetworkPolicies are listed"
    );
    let policies = accept_of(policies_path);
    assert!(!policies.contains("PartialObjectMetadata"), "{policies}");
}

#[tokio::test]
async fn secrets_and_config_maps_are_listed_as_metadata_only() {
    let server = start_cluster(&[]).await;
    let secret = json!({
        "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
        "metadata": {"name": "db", "namespace": "team-a", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
            "team": "payments"}}
    });
    Mock::given(method("GET"))
        .and(path("/api/v1/secrets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "items": [secret]
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    serve_list(
        &server,
        "/api/v1/configmaps",
        vec![json!({"metadata": {"name": "settings", "namespace": "team-a"}})],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    let requests = server.received_requests().await.unwrap_or_default();
    for plural in ["secrets", "configmaps"] {
        let lists: Vec<_> = requests
            .iter()
            .filter(|request| request.url.path() == format!("/api/v1/{plural}"))
            .collect();
        assert_eq!(lists.len(), 1, "{plural} listed once");
        let accept = lists[0]
            .headers
            .get("accept")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        assert!(
            accept.contains("as=PartialObjectMetadataList"),
            "{plural} accept header: {accept}"
        );
        assert!(
            !requests.iter().any(|request| {
                let path = request.url.path();
                path.contains(&format!("/{plural}/"))
                    || (path.contains(plural) && path != format!("/api/v1/{plural}"))
            }),
            "{plural} are never read by name"
        );
    }
    let secret = snapshot
        .of_kind("", "Secret")
        .next()
        .expect("the secret's metadata is read");
    assert_eq!(
        (
            secret.api_version.as_str(),
            secret.kind.as_str(),
            secret.name.as_str()
        ),
        ("v1", "Secret", "db")
    );
    let annotations = secret.annotations();
    assert!(!annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
    assert_eq!(
        annotations.get("team").map(String::as_str),
        Some("payments")
    );
    assert!(!secret.value.to_string().contains("aHVudGVyMg=="));
    assert_eq!(names(&snapshot, "", "ConfigMap"), vec!["settings"]);
}

#[tokio::test]
async fn one_namespace_scope_lists_namespaced_kinds_only_in_that_namespace() {
    let server = start_cluster(&[]).await;
    serve_list(
        &server,
        "/api/v1/namespaces/team-a/pods",
        vec![item("web", Some("team-a"))],
    )
    .await;
    serve_list(
        &server,
        "/api/v1/namespaces",
        vec![item("team-a", None), item("team-b", None)],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(
        &options_for(&directory, &server),
        &NamespaceScope::One("team-a".to_string()),
    )
    .await
    .expect("read succeeds");

    assert_eq!(names(&snapshot, "", "Pod"), vec!["web"]);
    assert_eq!(
        names(&snapshot, "", "Namespace"),
        vec!["team-a", "team-b"],
        "namespaces are listed cluster-wide"
    );
    let paths = requested_paths(&server).await;
    let namespaced_plurals = [
        "pods",
        "secrets",
        "configmaps",
        "limitranges",
        "deployments",
        "networkpolicies",
        "trafficpolicies",
    ];
    for plural in namespaced_plurals {
        let lists: Vec<&String> = paths
            .iter()
            .filter(|path| path.ends_with(&format!("/{plural}")))
            .collect();
        assert!(!lists.is_empty(), "{plural} listed: {paths:?}");
        for list in lists {
            assert!(
                list.contains("/namespaces/team-a/"),
                "{list} is not limited to team-a"
            );
        }
    }
    assert!(
        paths
            .iter()
            .any(|path| path
                == "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"),
        "cluster-scoped kinds are listed cluster-wide: {paths:?}"
    );
    assert!(
        !paths.iter().any(|path| path.contains("/namespaces/team-b")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_forbidden_namespace_list_falls_back_to_getting_the_one_namespace() {
    let server = start_cluster(&[]).await;
    refuse(&server, "/api/v1/namespaces", 403).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/namespaces/team-a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "team-a", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(
        &options_for(&directory, &server),
        &NamespaceScope::One("team-a".to_string()),
    )
    .await
    .expect("read succeeds");

    let namespace = snapshot
        .namespace("team-a")
        .expect("the namespace was read by name");
    assert_eq!(
        namespace
            .labels()
            .get("pod-security.kubernetes.io/enforce")
            .map(String::as_str),
        Some("restricted")
    );
    assert!(snapshot.gaps.is_empty(), "{:?}", snapshot.gaps);
}

#[tokio::test]
async fn one_undecodable_object_becomes_a_gap_and_the_rest_is_read() {
    let server = start_cluster(&[]).await;
    serve_list(
        &server,
        "/api/v1/limitranges",
        vec![
            item("good", Some("team-a")),
            json!({"metadata": {"namespace": "team-a"}}),
        ],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(names(&snapshot, "", "LimitRange"), vec!["good"]);
    assert_eq!(snapshot.gaps.len(), 1, "{:?}", snapshot.gaps);
    assert_eq!(snapshot.gaps[0].reason, GapReason::Error);
    assert_eq!(snapshot.gaps[0].namespace.as_deref(), Some("team-a"));
    assert!(
        snapshot.gaps[0].message.contains("metadata.name"),
        "{}",
        snapshot.gaps[0].message
    );
}

#[tokio::test]
async fn a_slow_list_becomes_a_timeout_gap() {
    let server = start_cluster(&[]).await;
    Mock::given(method("GET"))
        .and(path("/apis/apps/v1/deployments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(list_body(vec![], None))
                .set_delay(Duration::from_secs(3)),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let directory = TempDir::new().expect("temporary directory");
    let options = LiveOptions {
        request_timeout: Some(Duration::from_millis(500)),
        ..options_for(&directory, &server)
    };

    let snapshot = live::read(&options, &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(snapshot.gaps.len(), 1, "{:?}", snapshot.gaps);
    assert_eq!(snapshot.gaps[0].reason, GapReason::Timeout);
    assert_eq!(snapshot.gaps[0].kind, "Deployment");
}

#[tokio::test]
async fn aggregated_discovery_is_used_when_the_server_offers_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"gitVersion": "v1.34.1"})))
        .mount(&server)
        .await;
    let resource_entry = |plural: &str, group: &str, version: &str, kind: &str, scope: &str| json!({"resource": plural, "responseKind": {"group": group, "version": version, "kind": kind}, "scope": scope, "verbs": ["get", "list"]});
    Mock::given(method("GET"))
        .and(path("/api"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "items": [{"metadata": {}, "versions": [{"version": "v1", "freshness": "Current",
                "resources": [resource_entry("limitranges", "", "v1", "LimitRange", "Namespaced")]}]}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "items": [
                {"metadata": {"name": "admissionregistration.k8s.io"}, "versions": [
                    {"version": "v1", "freshness": "Current", "resources": [
                        resource_entry("validatingadmissionpolicies", "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "Cluster")]},
                    {"version": "v1beta1", "freshness": "Current", "resources": [
                        resource_entry("validatingadmissionpolicies", "admissionregistration.k8s.io", "v1beta1", "ValidatingAdmissionPolicy", "Cluster"),
                        resource_entry("mutatingadmissionpolicies", "admissionregistration.k8s.io", "v1beta1", "MutatingAdmissionPolicy", "Cluster")]}]},
                {"metadata": {"name": "metrics.k8s.io"}, "versions": [{"version": "v1beta1", "freshness": "Stale", "resources": []}]}
            ]
        })))
        .mount(&server)
        .await;
    serve_list(
        &server,
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
        vec![item("require-team", None)],
    )
    .await;
    serve_list(
        &server,
        "/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies",
        vec![item("add-team", None)],
    )
    .await;
    serve_list(&server, "/api/v1/limitranges", vec![]).await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(
        names(
            &snapshot,
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicy"
        ),
        vec!["require-team"]
    );
    let mutating = snapshot
        .of_kind("admissionregistration.k8s.io", "MutatingAdmissionPolicy")
        .next()
        .expect("read at its only version");
    assert_eq!(mutating.api_version, "admissionregistration.k8s.io/v1beta1");
    assert!(snapshot.gaps.is_empty(), "{:?}", snapshot.gaps);
    let paths = requested_paths(&server).await;
    assert!(
        !paths
            .iter()
            .any(|path| path == "/api/v1" || path.starts_with("/apis/metrics.k8s.io")),
        "{paths:?}"
    );
    let accept = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .find(|request| request.url.path() == "/apis")
        .and_then(|request| {
            request
                .headers
                .get("accept")
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    assert!(accept.contains("as=APIGroupDiscoveryList"), "{accept}");
}

#[tokio::test]
async fn the_context_flag_selects_the_cluster_and_its_namespace() {
    let first = start_cluster(&[]).await;
    let second = start_cluster(&[]).await;
    serve_list(
        &second,
        "/api/v1/namespaces",
        vec![item("only-in-second", None)],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");
    let (first_uri, second_uri) = (first.uri(), second.uri());
    let kubeconfig = write_kubeconfig(
        &directory,
        &[
            ContextEntry {
                name: "first",
                server: &first_uri,
                namespace: Some("ns-first"),
            },
            ContextEntry {
                name: "second",
                server: &second_uri,
                namespace: Some("ns-second"),
            },
            ContextEntry {
                name: "bare",
                server: &first_uri,
                namespace: None,
            },
        ],
        "first",
    );
    let options = LiveOptions {
        kubeconfig: Some(kubeconfig),
        context: Some("second".to_string()),
        request_timeout: Some(Duration::from_secs(10)),
        ..LiveOptions::default()
    };

    assert_eq!(
        live::context_namespace(&options).await.expect("namespace"),
        "ns-second"
    );
    let snapshot = live::read(&options, &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(names(&snapshot, "", "Namespace"), vec!["only-in-second"]);
    assert!(
        snapshot.source.description.contains("second"),
        "{}",
        snapshot.source.description
    );
    assert!(
        first
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "the current context's cluster was not used"
    );
    let requests = second.received_requests().await.unwrap_or_default();
    assert!(requests.iter().all(|request| {
        request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            == Some("Bearer secret-token")
    }));

    let current = LiveOptions {
        context: None,
        ..options.clone()
    };
    assert_eq!(
        live::context_namespace(&current).await.expect("namespace"),
        "ns-first"
    );
    let bare = LiveOptions {
        context: Some("bare".to_string()),
        ..options.clone()
    };
    assert_eq!(
        live::context_namespace(&bare).await.expect("namespace"),
        "default"
    );
    let unknown = LiveOptions {
        context: Some("nowhere".to_string()),
        ..options
    };
    match live::read(&unknown, &NamespaceScope::All).await {
        Err(LiveError::Kubeconfig(message)) => assert!(message.contains("`nowhere`"), "{message}"),
        other => panic!("expected a kubeconfig error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_kubeconfig_is_named() {
    let directory = TempDir::new().expect("temporary directory");
    let missing = directory.path().join("no-such-config");
    let options = LiveOptions {
        kubeconfig: Some(missing.clone()),
        ..LiveOptions::default()
    };
    match live::read(&options, &NamespaceScope::All).await {
        Err(LiveError::Kubeconfig(message)) => assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        ),
        other => panic!("expected a kubeconfig error, got {other:?}"),
    }
    std::fs::write(&missing, "clusters: [this is not: a kubeconfig").expect("write");
    match live::context_namespace(&options).await {
        Err(LiveError::Kubeconfig(message)) => {
            assert!(message.contains("no-such-config"), "{message}")
        }
        other => panic!("expected a kubeconfig error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_as_flags_send_impersonation_headers() {
    let server = start_cluster(&[]).await;
    let directory = TempDir::new().expect("temporary directory");
    let options = LiveOptions {
        impersonate_user: Some("jane@example.com".to_string()),
        impersonate_groups: vec!["developers".to_string(), "on-call".to_string()],
        ..options_for(&directory, &server)
    };

    live::read(&options, &NamespaceScope::All)
        .await
        .expect("read succeeds");

    let requests = server.received_requests().await.unwrap_or_default();
    assert!(!requests.is_empty());
    for request in &requests {
        let user = request
            .headers
            .get("impersonate-user")
            .and_then(|value| value.to_str().ok());
        assert_eq!(user, Some("jane@example.com"), "{}", request.url);
        let groups: Vec<&str> = request
            .headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        assert_eq!(groups, vec!["developers", "on-call"], "{}", request.url);
    }
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let directory = TempDir::new().expect("temporary directory");
    let server = format!("http://127.0.0.1:{port}");
    let kubeconfig = write_kubeconfig(
        &directory,
        &[ContextEntry {
            name: "down",
            server: &server,
            namespace: None,
        }],
        "down",
    );
    let options = LiveOptions {
        kubeconfig: Some(kubeconfig),
        request_timeout: Some(Duration::from_secs(10)),
        ..LiveOptions::default()
    };

    match live::read(&options, &NamespaceScope::All).await {
        Err(LiveError::Unreachable {
            server: reported,
            message,
        }) => {
            assert!(reported.contains(&port.to_string()), "{reported}");
            assert!(!message.is_empty());
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn every_list_refused_is_no_access_naming_the_user() {
    let server = start_cluster(&[]).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api(s)?/.+/[a-z]+$"))
        .respond_with(ResponseTemplate::new(403).set_body_json(status_body(
            403,
            "Forbidden",
            "forbidden: User \"tester\" cannot list resources",
        )))
        .with_priority(5)
        .mount(&server)
        .await;
    let directory = TempDir::new().expect("temporary directory");
    let options = options_for(&directory, &server);

    match live::read(&options, &NamespaceScope::All).await {
        Err(LiveError::NoAccess { user, message }) => {
            assert_eq!(user, "tester");
            assert!(message.contains("forbidden"), "{message}");
        }
        other => panic!("expected no access, got {other:?}"),
    }
    let impersonated = LiveOptions {
        impersonate_user: Some("jane".to_string()),
        ..options
    };
    match live::read(&impersonated, &NamespaceScope::All).await {
        Err(LiveError::NoAccess { user, .. }) => assert_eq!(user, "jane"),
        other => panic!("expected no access, got {other:?}"),
    }
}

#[tokio::test]
async fn some_lists_refused_is_not_no_access() {
    let server = start_cluster(&[]).await;
    refuse(&server, "/api/v1/pods", 401).await;
    refuse(&server, "/api/v1/secrets", 403).await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("partial access still reads");

    let reasons: Vec<(String, GapReason)> = snapshot
        .gaps
        .iter()
        .map(|gap| (gap.kind.clone(), gap.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("Pod".to_string(), GapReason::Unauthorized),
            ("Secret".to_string(), GapReason::Forbidden)
        ]
    );
}

fn custom_resource_definition(
    group: &str,
    kind: &str,
    plural: &str,
    scope: &str,
    is_policy: bool,
) -> Value {
    let mut metadata = json!({"name": format!("{plural}.{group}")});
    if is_policy {
        metadata["annotations"] = json!({"potoo.io/is-policy": "true"});
    }
    json!({
        "metadata": metadata,
        "spec": {"group": group, "scope": scope, "names": {"kind": kind, "plural": plural},
            "versions": [{"name": "v1alpha1", "served": true, "storage": false}, {"name": "v1", "served": true, "storage": true}]}
    })
}

#[tokio::test]
async fn annotated_custom_resources_are_listed_even_when_their_group_discovery_fails() {
    let server = start_cluster(&["example.net/v1"]).await;
    serve_list(
        &server,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        vec![
            custom_resource_definition(
                "example.org",
                "Guardrail",
                "guardrails",
                "Namespaced",
                true,
            ),
            custom_resource_definition("example.org", "Widget", "widgets", "Namespaced", false),
            custom_resource_definition("example.net", "Fence", "fences", "Cluster", true),
        ],
    )
    .await;
    serve_list(
        &server,
        "/apis/example.org/v1/guardrails",
        vec![item("no-friday-deploys", Some("team-a"))],
    )
    .await;
    serve_list(
        &server,
        "/apis/example.net/v1/fences",
        vec![item("perimeter", None)],
    )
    .await;
    let directory = TempDir::new().expect("temporary directory");

    let snapshot = live::read(&options_for(&directory, &server), &NamespaceScope::All)
        .await
        .expect("read succeeds");

    assert_eq!(
        names(&snapshot, "example.org", "Guardrail"),
        vec!["no-friday-deploys"]
    );
    assert_eq!(
        names(&snapshot, "example.net", "Fence"),
        vec!["perimeter"],
        "recovered from the CRD"
    );
    assert_eq!(
        snapshot
            .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
            .count(),
        3
    );
    assert!(snapshot.gaps.is_empty(), "{:?}", snapshot.gaps);
    let paths = requested_paths(&server).await;
    assert!(
        !paths.iter().any(|path| path.ends_with("/widgets")),
        "an unannotated, unknown kind is not listed: {paths:?}"
    );
    let fence = snapshot
        .source
        .served_kinds
        .iter()
        .find(|served| served.kind == "Fence")
        .expect("the recovered kind is recorded as served");
    assert_eq!((fence.version.as_str(), fence.namespaced), ("v1", false));
}
