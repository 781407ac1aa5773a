//! Reading `kubectl get -o json`-style `List` dumps (deferred decoding, slim Pods) loses nothing a
//! consumer reads: every command answers the same on a cluster read from YAML files and from one
//! JSON `List` dump of it; the slim Pod keeps every field engines read (a pointer list); Pod
//! Security verdicts on potoo's own PSA cases are the same on the full and the slim Pod.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use potoo::engine::admission::psa::{self, Level, LevelVersion, PodView, PolicyVersion};
use potoo::source::KindsRead;
use potoo::source::files::{read_paths, read_paths_keeping};
use potoo::source::slim::decode_pod;
use serde_json::{Value, json};

/// Writes the objects read from `cluster` as one pretty `v1 List` (kubectl's shape) in `directory`.
fn list_dump_of(cluster: &str, directory: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snapshot = read_paths(&[root.join(cluster)], &mut std::io::empty()).unwrap();
    let items: Vec<Value> = snapshot
        .objects()
        .map(|object| object.value.clone())
        .collect();
    assert!(!items.is_empty(), "{cluster} holds objects");
    let path = directory.join("dump.json");
    let text =
        serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": items}))
            .unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Exit code, stdout and stderr of the binary, with `from` written as `<from>`.
fn run(arguments: &[&str], from: &str) -> (Option<i32>, String, String) {
    let mut command = cargo_bin_cmd!("kubectl-potoo");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .args(arguments)
        .args(["--from", from]);
    let output = command.output().unwrap();
    let clean = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap().replace(from, "<from>");
    (
        output.status.code(),
        clean(output.stdout),
        clean(output.stderr),
    )
}

#[test]
fn commands_answer_the_same_from_a_list_dump() {
    let commands: &[&[&str]] = &[
        &["query", "-A", "-o", "json"],
        &["query", "-A", "-o", "wide"],
        &["query", "-n", "payments", "-o", "json"],
        &["query", "-A", "-l", "app=api", "-o", "json"],
        &["status", "-A", "-o", "json"],
        &["reach", "--all", "-A", "-o", "connlist"],
        &["reach", "--all", "-A", "-o", "json"],
        &["check", "-f", "testdata/check/manifests", "-o", "json"],
    ];
    let clusters = [
        "testdata/demo",
        "testdata/fixtures/small",
        "testdata/check/cluster.yaml",
        "testdata/reach/cluster",
    ];
    let mut compared = 0;
    for cluster in clusters {
        let directory = tempfile::tempdir().unwrap();
        let dump = list_dump_of(cluster, directory.path());
        let dump = dump.to_str().unwrap();
        for command in commands {
            let (code, stdout, stderr) = run(command, cluster);
            assert!(
                code.is_some_and(|code| code <= 1),
                "{command:?} on {cluster}: {stderr}"
            );
            assert!(
                !stdout.is_empty(),
                "{command:?} on {cluster} printed nothing"
            );
            assert_eq!(
                (code, stdout, stderr),
                run(command, dump),
                "{command:?} differs on {cluster} read as a List dump"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, commands.len() * clusters.len());
}

#[test]
fn existing_pod_warnings_survive_the_dump() {
    let directory = tempfile::tempdir().unwrap();
    let dump = list_dump_of("testdata/check/cluster.yaml", directory.path());
    let (code, stdout, _) = run(
        &[
            "check",
            "-f",
            "testdata/check/manifests/03-namespace.yaml",
            "-o",
            "json",
        ],
        dump.to_str().unwrap(),
    );
    assert!(code.is_some_and(|code| code <= 1));
    assert!(stdout.contains("existing pods in namespace"), "{stdout}");
}

/// Every field a consumer of Pods reads: `index::workloads` (labels, owners), the reach engine's
/// endpoints (phase, owners, ports, host network, service account, addresses, mesh marks), Pod
/// Security on existing pods (security contexts, host namespaces, volumes, probe hosts…).
const READ_POINTERS: &[&str] = &[
    "/apiVersion",
    "/kind",
    "/metadata/name",
    "/metadata/generateName",
    "/metadata/namespace",
    "/metadata/uid",
    "/metadata/labels/app",
    "/metadata/annotations/sidecar.istio.io~1status",
    "/metadata/ownerReferences/0/kind",
    "/metadata/ownerReferences/0/name",
    "/metadata/ownerReferences/0/controller",
    "/metadata/creationTimestamp",
    "/metadata/deletionTimestamp",
    "/spec/hostNetwork",
    "/spec/hostPID",
    "/spec/hostIPC",
    "/spec/hostUsers",
    "/spec/serviceAccountName",
    "/spec/serviceAccount",
    "/spec/nodeName",
    "/spec/securityContext/runAsNonRoot",
    "/spec/securityContext/sysctls/0/name",
    "/spec/os/name",
    "/spec/volumes/0/hostPath/path",
    "/spec/containers/0/name",
    "/spec/containers/0/image",
    "/spec/containers/0/ports/0/containerPort",
    "/spec/containers/0/ports/0/hostPort",
    "/spec/containers/0/ports/0/name",
    "/spec/containers/0/ports/0/protocol",
    "/spec/containers/0/resources/requests/cpu",
    "/spec/containers/0/securityContext/privileged",
    "/spec/containers/0/securityContext/capabilities/add/0",
    "/spec/containers/0/securityContext/seccompProfile/type",
    "/spec/containers/0/livenessProbe/httpGet/host",
    "/spec/containers/0/readinessProbe/tcpSocket/host",
    "/spec/containers/0/startupProbe/httpGet/host",
    "/spec/containers/0/lifecycle/postStart/httpGet/host",
    "/spec/containers/0/lifecycle/preStop/tcpSocket/host",
    "/spec/initContainers/0/name",
    "/spec/initContainers/0/ports/0/containerPort",
    "/spec/initContainers/0/securityContext/runAsUser",
    "/spec/ephemeralContainers/0/name",
    "/spec/ephemeralContainers/0/securityContext/procMount",
    "/status/phase",
    "/status/podIP",
    "/status/podIPs/0/ip",
    "/status/hostIP",
];

/// Bulk no engine reads, dropped by the slim decode.
const DROPPED_POINTERS: &[&str] = &[
    "/metadata/managedFields",
    "/spec/containers/0/command",
    "/spec/containers/0/env",
    "/spec/containers/0/volumeMounts",
    "/spec/containers/0/readinessProbe/periodSeconds",
    "/spec/containers/0/readinessProbe/httpGet/path",
    "/spec/initContainers/0/livenessProbe",
];

#[test]
fn slim_pods_keep_every_field_a_consumer_reads() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "generateName": "web-", "namespace": "a", "uid": "u",
            "labels": {"app": "web"}, "annotations": {"sidecar.istio.io/status": "{}"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "controller": true}],
            "creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
            "managedFields": [{"manager": "kubectl"}]},
        "spec": {
            "hostNetwork": true, "hostPID": true, "hostIPC": true, "hostUsers": false,
            "serviceAccountName": "web", "serviceAccount": "web", "nodeName": "n1",
            "securityContext": {"runAsNonRoot": true, "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]},
            "os": {"name": "linux"},
            "volumes": [{"name": "h", "hostPath": {"path": "/var/log"}}],
            "containers": [{"name": "web", "image": "nginx", "command": ["nginx"],
                "env": [{"name": "A", "value": "b"}], "volumeMounts": [{"name": "h", "mountPath": "/h"}],
                "ports": [{"containerPort": 80, "hostPort": 80, "name": "http", "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "1"}},
                "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN"]},
                    "seccompProfile": {"type": "Unconfined"}},
                "livenessProbe": {"httpGet": {"host": "10.0.0.1", "path": "/"}},
                "readinessProbe": {"tcpSocket": {"host": "10.0.0.2"}, "periodSeconds": 10,
                    "httpGet": {"path": "/ready"}},
                "startupProbe": {"httpGet": {"host": "10.0.0.3"}},
                "lifecycle": {"postStart": {"httpGet": {"host": "10.0.0.4"}},
                    "preStop": {"tcpSocket": {"host": "10.0.0.5"}}}}],
            "initContainers": [{"name": "init", "ports": [{"containerPort": 81}],
                "securityContext": {"runAsUser": 0}, "livenessProbe": {"httpGet": {"path": "/"}}}],
            "ephemeralContainers": [{"name": "debug", "securityContext": {"procMount": "Unmasked"}}]},
        "status": {"phase": "Running", "podIP": "10.1.0.1", "podIPs": [{"ip": "10.1.0.1"}],
            "hostIP": "10.0.0.9", "qosClass": "Burstable"}
    });
    for pointer in READ_POINTERS.iter().chain(DROPPED_POINTERS) {
        assert!(
            pod.pointer(pointer).is_some(),
            "the test pod sets {pointer}"
        );
    }
    let slim = decode_pod(&pod.to_string()).unwrap();
    for pointer in READ_POINTERS {
        assert_eq!(slim.pointer(pointer), pod.pointer(pointer), "{pointer}");
    }
    for pointer in DROPPED_POINTERS {
        assert!(slim.pointer(pointer).is_none(), "{pointer} is dropped");
    }
}

#[test]
fn pod_security_verdicts_are_the_same_on_slim_pods() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/psa");
    let mut evaluated = 0;
    let mut violated = 0;
    for entry in std::fs::read_dir(&directory).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("yaml") {
            continue;
        }
        let document: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in document["cases"].as_array().unwrap() {
            let mut pod = case["pod"].clone();
            pod["apiVersion"] = json!("v1");
            pod["kind"] = json!("Pod");
            let slim = decode_pod(&pod.to_string()).unwrap();
            let Some(level) = case["level"].as_str().and_then(Level::parse) else {
                continue;
            };
            for version in case["versions"].as_array().into_iter().flatten() {
                let version = PolicyVersion::parse(version.as_str().unwrap()).unwrap();
                let level_version = LevelVersion::new(level, version);
                let full = psa::evaluate(&level_version, &PodView::of_pod(&pod));
                let slimmed = psa::evaluate(&level_version, &PodView::of_pod(&slim));
                assert_eq!(full, slimmed, "{} in {}", case["name"], path.display());
                evaluated += 1;
                violated += usize::from(!full.is_empty());
            }
        }
    }
    assert!(evaluated > 100, "{evaluated} cases evaluated");
    assert!(violated > 50, "{violated} cases with violations");
}

/// Workloads in a dump that `query`/`status` do not read are counted and their namespaces kept,
/// but never stored; duplicates across files count once; a broken workload still fails the read.
#[test]
fn unread_workloads_are_counted_checked_and_not_kept() {
    let directory = tempfile::tempdir().unwrap();
    let dump = list_dump_of("testdata/demo", directory.path());
    // The same dump twice: a directory holding a dump and a copy of it counts each object once.
    std::fs::copy(&dump, directory.path().join("again.json")).unwrap();
    let paths = [directory.path().to_path_buf()];
    let every = read_paths(&paths, &mut std::io::empty()).unwrap();
    let partial =
        read_paths_keeping(&paths, &mut std::io::empty(), KindsRead::AllButWorkloads).unwrap();
    assert_eq!(partial.len(), every.len());
    assert_eq!(partial.namespace_names(), every.namespace_names());
    let workload_kinds = [
        ("", "Pod"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
    ];
    let mut workloads = 0;
    for (group, kind) in workload_kinds {
        workloads += every.of_kind(group, kind).count();
        assert_eq!(partial.of_kind(group, kind).count(), 0, "{kind} kept");
    }
    assert!(workloads > 0, "the demo dump holds workloads");
    assert_eq!(
        partial.objects().count() + workloads,
        every.objects().count(),
        "everything but workloads is kept"
    );

    let broken = directory.path().join("broken.json");
    let read_broken = |text: &str| {
        std::fs::write(&broken, text).unwrap();
        read_paths_keeping(
            std::slice::from_ref(&broken),
            &mut std::io::empty(),
            KindsRead::AllButWorkloads,
        )
        .unwrap_err()
    };
    let error = read_broken(
        r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok", "namespace": "a"}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a"}}]}"#,
    );
    assert_eq!(error.field.as_deref(), Some("items[1]"), "{error}");
    assert!(error.to_string().contains("metadata.name"), "{error}");
    let error =
        read_broken(r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "a"}} 1]}"#);
    assert!(error.to_string().contains("invalid JSON"), "{error}");
}

/// With `-n`, items of other namespaces in a dump are skipped before they are decoded: the
/// Snapshot is the one a full read narrowed to the namespace would give, for every command kind.
#[test]
fn one_namespace_read_skips_other_namespaces_and_matches_a_narrowed_full_read() {
    let directory = tempfile::tempdir().unwrap();
    let dump = list_dump_of("testdata/demo", directory.path());
    let paths = [dump];
    let identities = |snapshot: &potoo::source::Snapshot| -> Vec<String> {
        snapshot
            .objects()
            .map(|object| {
                format!(
                    "{}/{}/{}/{}",
                    object.api_version,
                    object.kind,
                    object.namespace.as_deref().unwrap_or("-"),
                    object.name
                )
            })
            .collect()
    };
    for kinds_read in [KindsRead::Every, KindsRead::AllButWorkloads] {
        let mut narrowed = read_paths_keeping(&paths, &mut std::io::empty(), kinds_read).unwrap();
        narrowed.retain_namespace("payments");
        let mut skipped = potoo::source::files::read_paths_in(
            &paths,
            &mut std::io::empty(),
            kinds_read,
            Some("payments"),
        )
        .unwrap();
        skipped.retain_namespace("payments");
        assert_eq!(
            identities(&skipped),
            identities(&narrowed),
            "{kinds_read:?}"
        );
        assert_eq!(skipped.len(), narrowed.len(), "{kinds_read:?}");
        assert!(
            identities(&skipped)
                .iter()
                .any(|identity| identity.contains("/payments/")),
            "{kinds_read:?}"
        );
        // Other namespaces' objects were never taken in, not only filtered out afterwards.
        let unfiltered = potoo::source::files::read_paths_in(
            &paths,
            &mut std::io::empty(),
            kinds_read,
            Some("payments"),
        )
        .unwrap();
        assert!(
            unfiltered.objects().all(|object| object
                .namespace
                .as_deref()
                .is_none_or(|own| own == "payments")),
            "{kinds_read:?}"
        );
    }
}
