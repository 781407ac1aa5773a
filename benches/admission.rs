//! Admission benchmark for `kubectl-potoo` (a bench command, not a timed test): `check` of 1,000
//! manifests against 300 policies, and `test` over the shared Kyverno and Gatekeeper corpora.
//!
//!     cargo bench --bench admission
//!
//! 1. Generates (deterministically, skipped when present) `target/bench-admission/cluster.json`:
//!    30 namespaces with PodSecurity labels, 150 Kyverno ClusterPolicies (pattern, anyPattern,
//!    deny conditions, foreach, podSecurity), 100 Gatekeeper constraints of 5 ConstraintTemplates
//!    and 50 ValidatingAdmissionPolicies with bindings; and `manifests.yaml`: 1,000 Deployments and
//!    Pods, a third of them violating something.
//! 2. Runs the release binary through `/usr/bin/time -f '%e %M %U %S'`: `check -f manifests.yaml
//!    --from cluster.json -o json`, and `test DIR -o json` for `../shared/corpora/kyverno-policies`
//!    and `../shared/corpora/gatekeeper-library` when they exist. Prints the median wall time,
//!    CPU time and peak RSS of `POTOO_BENCH_RUNS` runs (default 3) as a Markdown table.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};

mod common;
use common::{Sample, measure, potoo_binary, target_dir};

const GENERATOR_VERSION: u32 = 1;
const NAMESPACES: usize = 30;
const KYVERNO_POLICIES: usize = 150;
const GATEKEEPER_CONSTRAINTS: usize = 100;
const ADMISSION_POLICIES: usize = 50;
const MANIFESTS: usize = 1_000;

fn main() {
    let runs: usize = std::env::var("POTOO_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3);
    let directory = target_dir().join("bench-admission");
    fs::create_dir_all(&directory).expect("cannot create the bench directory");
    let marker = directory.join(".generated");
    if fs::read_to_string(&marker).ok().as_deref() != Some(&GENERATOR_VERSION.to_string()) {
        generate(&directory);
        fs::write(&marker, GENERATOR_VERSION.to_string()).expect("cannot write the marker");
    }
    let binary = potoo_binary();
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    let mut commands: Vec<(String, Vec<String>)> = vec![(
        format!(
            "check {MANIFESTS} manifests × {} policies",
            KYVERNO_POLICIES + GATEKEEPER_CONSTRAINTS + ADMISSION_POLICIES
        ),
        vec![
            "check".into(),
            "-f".into(),
            directory.join("manifests.yaml").display().to_string(),
            "--from".into(),
            directory.join("cluster.json").display().to_string(),
            "-o".into(),
            "json".into(),
        ],
    )];
    for (name, folder) in [
        ("test kyverno-policies corpus", "kyverno-policies"),
        ("test gatekeeper-library corpus", "gatekeeper-library"),
    ] {
        let path = corpora.join(folder);
        if path.is_dir() {
            commands.push((
                name.to_string(),
                vec![
                    "test".into(),
                    path.display().to_string(),
                    "-o".into(),
                    "json".into(),
                ],
            ));
        } else {
            eprintln!("{} is missing: `{name}` not measured", path.display());
        }
    }
    let mut report = String::from(
        "| command | wall s (median) | CPU s | peak RSS MiB |\n|---|---:|---:|---:|\n",
    );
    for (name, arguments) in &commands {
        let mut samples: Vec<Sample> = (0..runs)
            .map(|_| measure(&binary, arguments, &directory))
            .collect();
        samples.sort_by(|left, right| left.wall_seconds.total_cmp(&right.wall_seconds));
        let median = &samples[samples.len() / 2];
        let cpu = median
            .cpu_seconds
            .map_or_else(|| "?".to_string(), |seconds| format!("{seconds:.2}"));
        let rss = median.max_rss_kib.map_or_else(
            || "?".to_string(),
            |kib| format!("{:.0}", kib as f64 / 1024.0),
        );
        let _ = writeln!(
            report,
            "| {name} | {:.2} | {cpu} | {rss} |",
            median.wall_seconds
        );
    }
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        report,
        "\n{runs} runs each; load average before the last run: {}",
        load.split_whitespace().next().unwrap_or("?")
    );
    print!("{report}");
    fs::write(directory.join("results.md"), &report).expect("cannot write results.md");
}

// ------------------------------------------------------------------------------------------------
// Generating

fn namespace_name(index: usize) -> String {
    format!("team-{index:02}")
}

fn generate(directory: &Path) {
    let mut items = Vec::new();
    for index in 0..NAMESPACES {
        let level = ["baseline", "restricted", "privileged"][index % 3];
        items.push(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace_name(index), "labels": {
                "kubernetes.io/metadata.name": namespace_name(index),
                "pod-security.kubernetes.io/enforce": level,
                "team": format!("t{index}"),
            }},
        }));
    }
    for index in 0..KYVERNO_POLICIES {
        items.push(kyverno_policy(index));
    }
    items.extend(gatekeeper_templates());
    for index in 0..GATEKEEPER_CONSTRAINTS {
        items.push(gatekeeper_constraint(index));
    }
    for index in 0..ADMISSION_POLICIES {
        let (policy, binding) = admission_policy(index);
        items.push(policy);
        items.push(binding);
    }
    let cluster = json!({"apiVersion": "v1", "kind": "List", "items": items});
    fs::write(
        directory.join("cluster.json"),
        serde_json::to_vec(&cluster).expect("cannot serialize the cluster"),
    )
    .expect("cannot write cluster.json");
    let mut manifests = String::new();
    for index in 0..MANIFESTS {
        let manifest = manifest(index);
        manifests.push_str("---\n");
        manifests.push_str(&serde_json::to_string(&manifest).expect("cannot serialize"));
        manifests.push('\n');
    }
    fs::write(directory.join("manifests.yaml"), manifests).expect("cannot write manifests.yaml");
}

fn kyverno_policy(index: usize) -> Value {
    let action = if index.is_multiple_of(4) {
        "Audit"
    } else {
        "Enforce"
    };
    let validate = match index % 5 {
        0 => json!({
            "message": format!("label `owner-{index}` is required"),
            "pattern": {"metadata": {"labels": {format!("owner-{index}"): "?*"}}},
        }),
        1 => json!({
            "message": "images must come from the registry",
            "pattern": {"spec": {"containers": [{"image": format!("registry.example/{index}/* | registry.example/*")}]}},
        }),
        2 => json!({
            "message": "cpu and memory limits are required",
            "anyPattern": [
                {"spec": {"containers": [{"resources": {"limits": {"cpu": "?*", "memory": "?*"}}}]}},
                {"metadata": {"annotations": {format!("exempt-{index}"): "true"}}},
            ],
        }),
        3 => json!({
            "message": "hostPath volumes are forbidden",
            "deny": {"conditions": {"any": [{
                "key": "{{ request.object.spec.volumes[].hostPath | length(@) }}",
                "operator": "GreaterThan", "value": 0,
            }]}},
        }),
        _ => json!({
            "message": "containers must not run privileged",
            "foreach": [{
                "list": "request.object.spec.containers",
                "pattern": {"securityContext": {"=(privileged)": "false"}},
            }],
        }),
    };
    json!({
        "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
        "metadata": {"name": format!("policy-{index:03}")},
        "spec": {
            "validationFailureAction": action,
            "background": true,
            "rules": [{
                "name": format!("rule-{index:03}"),
                "match": {"any": [{"resources": {
                    "kinds": ["Pod"],
                    "namespaces": [namespace_name(index % NAMESPACES)],
                }}]},
                "validate": validate,
            }],
        },
    })
}

const TEMPLATE_NAMES: [&str; 5] = [
    "K8sBenchRequiredLabels",
    "K8sBenchAllowedRepos",
    "K8sBenchContainerLimits",
    "K8sBenchBlockNodePort",
    "K8sBenchReplicaLimits",
];

fn gatekeeper_templates() -> Vec<Value> {
    let rego = [
        r#"package k8sbenchrequiredlabels
violation[{"msg": msg}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}"#,
        r#"package k8sbenchallowedrepos
violation[{"msg": msg}] {
  container := input.review.object.spec.containers[_]
  not startswith(container.image, input.parameters.repo)
  msg := sprintf("container <%v> has an invalid image repo <%v>", [container.name, container.image])
}"#,
        r#"package k8sbenchcontainerlimits
violation[{"msg": msg}] {
  container := input.review.object.spec.containers[_]
  not container.resources.limits.cpu
  msg := sprintf("container <%v> has no cpu limit", [container.name])
}"#,
        r#"package k8sbenchblocknodeport
violation[{"msg": msg}] {
  input.review.kind.kind == "Service"
  input.review.object.spec.type == "NodePort"
  msg := "NodePort services are not allowed"
}"#,
        r#"package k8sbenchreplicalimits
violation[{"msg": msg}] {
  replicas := input.review.object.spec.replicas
  replicas > input.parameters.max
  msg := sprintf("replicas %v exceed %v", [replicas, input.parameters.max])
}"#,
    ];
    TEMPLATE_NAMES
        .iter()
        .zip(rego)
        .map(|(kind, rego)| {
            json!({
                "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
                "metadata": {"name": kind.to_ascii_lowercase()},
                "spec": {
                    "crd": {"spec": {"names": {"kind": kind}}},
                    "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": rego}],
                },
            })
        })
        .collect()
}

fn gatekeeper_constraint(index: usize) -> Value {
    let kind = TEMPLATE_NAMES[index % TEMPLATE_NAMES.len()];
    let (kinds, parameters) = match index % TEMPLATE_NAMES.len() {
        0 => (
            json!([{"apiGroups": [""], "kinds": ["Pod"]}]),
            json!({"labels": [format!("cost-{index}")]}),
        ),
        1 => (
            json!([{"apiGroups": [""], "kinds": ["Pod"]}]),
            json!({"repo": "registry.example/"}),
        ),
        2 => (json!([{"apiGroups": [""], "kinds": ["Pod"]}]), json!({})),
        3 => (
            json!([{"apiGroups": [""], "kinds": ["Service"]}]),
            json!({}),
        ),
        _ => (
            json!([{"apiGroups": ["apps"], "kinds": ["Deployment"]}]),
            json!({"max": 5}),
        ),
    };
    json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": kind,
        "metadata": {"name": format!("constraint-{index:03}")},
        "spec": {
            "enforcementAction": if index.is_multiple_of(3) { "warn" } else { "deny" },
            "match": {"kinds": kinds, "namespaces": [namespace_name(index % NAMESPACES)]},
            "parameters": parameters,
        },
    })
}

fn admission_policy(index: usize) -> (Value, Value) {
    let name = format!("vap-{index:03}");
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["deployments"],
            }]},
            "validations": [{
                "expression": format!("object.spec.replicas <= {}", 3 + index % 5),
                "message": format!("at most {} replicas", 3 + index % 5),
            }],
        },
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": format!("{name}-binding")},
        "spec": {
            "policyName": name,
            "validationActions": [if index.is_multiple_of(2) { "Deny" } else { "Warn" }],
            "matchResources": {"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": namespace_name(index % NAMESPACES),
            }}},
        },
    });
    (policy, binding)
}

fn manifest(index: usize) -> Value {
    let namespace = namespace_name(index % NAMESPACES);
    let violating = index.is_multiple_of(3);
    let container = json!({
        "name": "app",
        "image": if violating { "docker.io/library/nginx:latest".to_string() } else { format!("registry.example/app:{index}") },
        "resources": if violating { json!({}) } else { json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}) },
        "securityContext": if violating { json!({"privileged": true}) } else { json!({
            "allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
        }) },
    });
    let labels = json!({"app": format!("app-{index}"), "owner-1": "me"});
    let pod_spec = json!({"containers": [container]});
    if index.is_multiple_of(2) {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("app-{index}"), "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": 1 + index % 8,
                "selector": {"matchLabels": {"app": format!("app-{index}")}},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
        })
    } else {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("pod-{index}"), "namespace": namespace, "labels": labels},
            "spec": pod_spec,
        })
    }
}
