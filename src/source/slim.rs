//! Slim decoding of Pods from large `List` dumps: keeps the fields engines read (identity, labels,
//! owners, ports, resources, security settings, volumes, placement, status, the `host` of probes
//! and lifecycle handlers) and drops the bulk no engine reads (commands, env, mounts, probe
//! settings, managedFields), so 100,000 pods fit in memory. `tests/slim.rs` checks that every
//! field a consumer reads survives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimPod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<SlimMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<SlimPodSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<SlimPodStatus>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generate_name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_references: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    creation_timestamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deletion_timestamp: Option<Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimPodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    containers: Option<Vec<SlimContainer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    init_containers: Option<Vec<SlimContainer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ephemeral_containers: Option<Vec<SlimContainer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_network: Option<Value>,
    #[serde(default, rename = "hostPID", skip_serializing_if = "Option::is_none")]
    host_pid: Option<Value>,
    #[serde(default, rename = "hostIPC", skip_serializing_if = "Option::is_none")]
    host_ipc: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_users: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_account_name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_account: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_context: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volumes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority_class_name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runtime_class_name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    affinity: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_pull_secrets: Option<Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimContainer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ports: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resources: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_context: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env_from: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    liveness_probe: Option<SlimHandler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    readiness_probe: Option<SlimHandler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    startup_probe: Option<SlimHandler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifecycle: Option<SlimLifecycle>,
}

/// A probe or lifecycle handler: only its `host` is read (Pod Security `hostProbesAndHostLifecycle`).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimHandler {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http_get: Option<SlimHost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tcp_socket: Option<SlimHost>,
}

#[derive(Deserialize, Serialize)]
struct SlimHost {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimLifecycle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    post_start: Option<SlimHandler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pre_stop: Option<SlimHandler>,
}

impl SlimHandler {
    /// `None` unless an action sets `host`, so handlers without one cost nothing.
    fn with_host(self) -> Option<SlimHandler> {
        let keep = |action: Option<SlimHost>| action.filter(|action| action.host.is_some());
        let handler = SlimHandler {
            http_get: keep(self.http_get),
            tcp_socket: keep(self.tcp_socket),
        };
        (handler.http_get.is_some() || handler.tcp_socket.is_some()).then_some(handler)
    }
}

impl SlimContainer {
    fn drop_handlers_without_host(&mut self) {
        self.liveness_probe = self.liveness_probe.take().and_then(SlimHandler::with_host);
        self.readiness_probe = self.readiness_probe.take().and_then(SlimHandler::with_host);
        self.startup_probe = self.startup_probe.take().and_then(SlimHandler::with_host);
        self.lifecycle = self.lifecycle.take().and_then(|lifecycle| {
            let lifecycle = SlimLifecycle {
                post_start: lifecycle.post_start.and_then(SlimHandler::with_host),
                pre_stop: lifecycle.pre_stop.and_then(SlimHandler::with_host),
            };
            (lifecycle.post_start.is_some() || lifecycle.pre_stop.is_some()).then_some(lifecycle)
        });
    }
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimPodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phase: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<Value>,
    #[serde(default, rename = "podIP", skip_serializing_if = "Option::is_none")]
    pod_ip: Option<Value>,
    #[serde(default, rename = "podIPs", skip_serializing_if = "Option::is_none")]
    pod_ips: Option<Value>,
    #[serde(default, rename = "hostIP", skip_serializing_if = "Option::is_none")]
    host_ip: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conditions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_statuses: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    init_container_statuses: Option<Value>,
}

/// Only the `kind` of an item, read without building the rest.
#[derive(Deserialize)]
struct KindPeek {
    #[serde(default)]
    kind: Option<String>,
}

/// Decodes one list item: Pods slimly, everything else whole.
pub fn decode_item(raw: &str, list_item_kind: Option<&str>) -> Result<Value, serde_json::Error> {
    let peek: KindPeek = serde_json::from_str(raw)?;
    let is_pod = match peek.kind.as_deref() {
        Some(kind) => kind == "Pod",
        None => list_item_kind == Some("Pod"),
    };
    if is_pod {
        decode_pod_or_whole(raw)
    } else {
        serde_json::from_str(raw)
    }
}

/// Decodes one Pod slimly, or whole when a field the slim form types (a container list, a
/// probe) has another shape: such a Pod is kept as written, as YAML input would keep it.
pub fn decode_pod_or_whole(raw: &str) -> Result<Value, serde_json::Error> {
    decode_pod(raw).or_else(|_| serde_json::from_str(raw))
}

/// Decodes one Pod slimly.
pub fn decode_pod(raw: &str) -> Result<Value, serde_json::Error> {
    let mut pod: SlimPod = serde_json::from_str(raw)?;
    if let Some(spec) = &mut pod.spec {
        for containers in [
            &mut spec.containers,
            &mut spec.init_containers,
            &mut spec.ephemeral_containers,
        ] {
            for container in containers.iter_mut().flatten() {
                container.drop_handlers_without_host();
            }
        }
    }
    serde_json::to_value(pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_keep_what_engines_read_and_drop_the_bulk() {
        let raw = r#"{"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "a", "labels": {"app": "web"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "controller": true}],
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"hostNetwork": true, "containers": [{"name": "web", "image": "nginx",
                     "ports": [{"containerPort": 80, "name": "http"}], "command": ["nginx"],
                     "readinessProbe": {"httpGet": {"path": "/"}}, "volumeMounts": [{"name": "x"}]}]},
            "status": {"podIP": "10.0.0.1", "phase": "Running"}}"#;
        let value = decode_item(raw, None).unwrap();
        assert_eq!(value["metadata"]["labels"]["app"], "web");
        assert_eq!(
            value["metadata"]["ownerReferences"][0]["kind"],
            "ReplicaSet"
        );
        assert_eq!(value["spec"]["containers"][0]["ports"][0]["name"], "http");
        assert_eq!(value["spec"]["hostNetwork"], true);
        assert_eq!(value["status"]["podIP"], "10.0.0.1");
        assert!(value["metadata"].get("managedFields").is_none());
        assert!(
            value["spec"]["containers"][0]
                .get("readinessProbe")
                .is_none()
        );
        assert!(value["spec"]["containers"][0].get("command").is_none());
    }

    #[test]
    fn pods_of_another_shape_are_kept_whole() {
        let value = decode_item(
            r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": "x", "extra": 1}}"#,
            None,
        )
        .unwrap();
        assert_eq!(value["spec"]["containers"], "x");
        assert_eq!(value["spec"]["extra"], 1);
    }

    #[test]
    fn other_kinds_are_kept_whole() {
        let raw = r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"anything": [1, 2]}}"#;
        assert_eq!(decode_item(raw, None).unwrap()["spec"]["anything"][1], 2);
        let typed = decode_item(
            r#"{"metadata": {"name": "p"}, "spec": {"containers": [], "extra": 1}}"#,
            Some("Pod"),
        )
        .unwrap();
        assert!(typed["spec"].get("extra").is_none());
    }
}
