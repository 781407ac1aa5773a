//! `reach` tests: YAML-driven semantic cases under `testdata/reach/*.yaml` (objects in, expected
//! ReachResult fields, errors and connectivity lists out), and the real binary on the
//! `testdata/reach/cluster` fixture with insta snapshots (`testdata/snapshots/reach_*`).

mod common;

use std::path::Path;

use potoo::adapters::Registry;
use potoo::engine::network::connlist::connectivity;
use potoo::engine::network::{HostNetworkMode, NetworkModel, ReachOptions};
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::Value;

use common::{assert_subset, potoo};

fn run_case_file(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let document: Value = serde_saphyr::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut questions = 0;
    for case in document["cases"].as_array().expect("`cases` list") {
        let name = case["name"].as_str().expect("case name");
        let mut snapshot = Snapshot::default();
        for object in case["objects"].as_array().expect("`objects` list") {
            snapshot.insert(object_from_value(object.clone()).expect("valid object"));
        }
        let adapted = Registry::default().adapt(&snapshot);
        let options = ReachOptions {
            host_network: match case["hostNetwork"].as_str() {
                Some("subject") => HostNetworkMode::Subject,
                _ => HostNetworkMode::Exempt,
            },
        };
        let model = NetworkModel::new(&snapshot, &adapted.constraints, options);
        let namespace = case["namespace"].as_str().unwrap_or("default");
        for (index, question) in case["reach"].as_array().into_iter().flatten().enumerate() {
            questions += 1;
            let source = question["source"].as_str().expect("source");
            let destination = question["destination"].as_str().expect("destination");
            let label = format!(
                "{}: {name}: reach[{index}] {source} → {destination}",
                path.display()
            );
            match (
                model.reach(source, destination, namespace),
                question.get("error"),
            ) {
                (Ok(result), None) => {
                    let actual = serde_json::to_value(&result).unwrap();
                    if let Err(problem) = assert_subset(&question["expect"], &actual, "result") {
                        failures.push(format!("{label}: {problem}"));
                    }
                }
                (Ok(result), Some(error)) => failures.push(format!(
                    "{label}: expected error {error}, got verdict {}",
                    result.verdict
                )),
                (Err(error), Some(expected)) => {
                    let expected = expected.as_str().unwrap_or_default();
                    if !error.to_string().contains(expected) {
                        failures.push(format!("{label}: error `{error}` lacks `{expected}`"));
                    }
                }
                (Err(error), None) => failures.push(format!("{label}: unexpected error `{error}`")),
            }
        }
        if let Some(expected) = case.get("connlist").and_then(Value::as_array) {
            questions += 1;
            let expected: Vec<String> = expected
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let actual: Vec<String> = connectivity(&model, None)
                .connections
                .iter()
                .map(|entry| entry.line())
                .collect();
            if actual != expected {
                failures.push(format!(
                    "{}: {name}: connlist\n  expected: {expected:#?}\n  actual:   {actual:#?}",
                    path.display()
                ));
            }
        }
    }
    (questions, failures)
}

#[test]
fn yaml_cases() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reach");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no case files in {}",
        directory.display()
    );
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let (questions, file_failures) = run_case_file(file);
        total += questions;
        failures.extend(file_failures);
    }
    println!("{total} reach questions in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const CLUSTER: &str = "testdata/reach/cluster";

fn stdout(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn cli_allowed_exits_0_and_names_the_rules() {
    let output = stdout(
        potoo(&[
            "reach",
            "-n",
            "frontend",
            "deploy/web",
            "payments/svc/api:443",
            "--from",
            CLUSTER,
        ])
        .code(0),
    );
    snapshot!("reach_web_to_api_service_table", output);
}

#[test]
fn cli_wide_splits_traffic_by_deciding_rules() {
    let output = stdout(
        potoo(&[
            "reach",
            "-n",
            "frontend",
            "deploy/web",
            "payments/deploy/api",
            "--from",
            CLUSTER,
            "-o",
            "wide",
        ])
        .code(0),
    );
    snapshot!("reach_web_to_api_wide", output);
}

#[test]
fn cli_unreadable_policies_make_the_answer_unknown() {
    let output = stdout(
        potoo(&[
            "reach",
            "-n",
            "team-a",
            "deploy/web",
            "deploy/api:8080",
            "--from",
            "testdata/reach/incomplete",
            "-o",
            "json",
        ])
        .code(0),
    );
    let document: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(document["incomplete"], true);
    assert_eq!(document["gaps"][0]["kind"], "NetworkPolicy");
    assert_eq!(document["verdict"], "Unknown");
    assert!(
        document["reason"]
            .as_str()
            .unwrap()
            .starts_with("potoo could not read everything that decides this (cannot read NetworkPolicies in namespace `team-a` (forbidden)"),
        "{}",
        document["reason"]
    );
    let table = potoo(&[
        "reach",
        "-n",
        "team-a",
        "deploy/web",
        "deploy/api:8080",
        "--from",
        "testdata/reach/incomplete",
    ])
    .code(0);
    let stderr = String::from_utf8(table.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("the answer is incomplete"), "{stderr}");
}

#[test]
fn cli_denied_exits_1() {
    let output = stdout(
        potoo(&[
            "reach",
            "-n",
            "frontend",
            "deploy/web",
            "payments/sts/ledger:5432",
            "--from",
            CLUSTER,
        ])
        .code(1),
    );
    snapshot!("reach_web_to_ledger_denied_table", output);
}

#[test]
fn cli_bad_input_exits_2() {
    let assert = potoo(&[
        "reach",
        "deploy/web",
        "payments/svc/api:99999",
        "--from",
        CLUSTER,
    ])
    .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("out of range"), "{stderr}");
    potoo(&["reach", "widget/web", "deploy/api", "--from", CLUSTER]).code(2);
    potoo(&[
        "reach",
        "-n",
        "frontend",
        "deploy/nope",
        "deploy/api",
        "--from",
        CLUSTER,
    ])
    .code(2);
}

#[test]
fn cli_json_is_a_reach_result() {
    let output = stdout(
        potoo(&[
            "reach",
            "-n",
            "frontend",
            "deploy/web",
            "payments/svc/api:443",
            "--from",
            CLUSTER,
            "-o",
            "json",
        ])
        .code(0),
    );
    let document: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    assert_eq!(document["kind"], "ReachResult");
    assert_eq!(document["incomplete"], false);
    assert_eq!(document["gaps"], Value::Array(Vec::new()));
    assert_eq!(document["verdict"], "Allowed");
    assert_eq!(document["port"]["resolved"], "TCP 8443");
    assert_eq!(document["ingress"]["isolatedBy"][1]["name"], "default-deny");
    assert_eq!(
        document["ingress"]["rules"][0]["constraintId"],
        "NetworkPolicy/payments/api-from-frontend#ingress"
    );
    snapshot!("reach_web_to_api_service_json", output);
}

#[test]
fn cli_all_connlist_and_table() {
    let connlist =
        stdout(potoo(&["reach", "--all", "-A", "--from", CLUSTER, "-o", "connlist"]).code(0));
    snapshot!("reach_all_connlist", connlist);
    let table = stdout(potoo(&["reach", "--all", "-n", "payments", "--from", CLUSTER]).code(0));
    snapshot!("reach_all_payments_table", table);
    let json = stdout(potoo(&["reach", "--all", "-A", "--from", CLUSTER, "-o", "json"]).code(0));
    let document: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["kind"], "ConnectivityList");
    assert_eq!(document["apiVersion"], "potoo.dev/v1alpha1");
    let lines: Vec<String> = document["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{} => {} : {}",
                entry["source"].as_str().unwrap(),
                entry["destination"].as_str().unwrap(),
                entry["connections"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(lines.join("\n") + "\n", connlist);
}

/// Timing of all-pairs connectivity (not a timed assertion): run with
/// `POTOO_REACH_TIMING=/path/a:/path/b cargo test --release --test reach -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, run by hand"]
fn all_pairs_timing() {
    let Ok(directories) = std::env::var("POTOO_REACH_TIMING") else {
        eprintln!("set POTOO_REACH_TIMING to directories of manifests");
        return;
    };
    for directory in directories.split(':').filter(|part| !part.is_empty()) {
        let snapshot = potoo::source::files::read_paths(
            &[std::path::PathBuf::from(directory)],
            &mut std::io::empty(),
        )
        .unwrap();
        let adapted = Registry::default().adapt(&snapshot);
        let started = std::time::Instant::now();
        let model = NetworkModel::new(&snapshot, &adapted.constraints, ReachOptions::default());
        let built = started.elapsed();
        let started = std::time::Instant::now();
        let list = connectivity(&model, None);
        let listed = started.elapsed();
        println!(
            "{directory}: {} workloads, {} NetworkPolicy directions, {} classes: model {:.3}s, all pairs {:.3}s, {} connections",
            model.inventory.workloads.len(),
            model.policies.network.policies.len(),
            model.classes.classes.len(),
            built.as_secs_f64(),
            listed.as_secs_f64(),
            list.connections.len()
        );
    }
}

/// The connectivity list's shortcut for NetworkPolicy-only clusters must agree with the general
/// evaluation of every pair, on a generated cluster with named ports, endPorts, ipBlocks,
/// matchExpressions, egress and ingress rules and a host-network pod.
#[test]
fn connectivity_shortcut_agrees_with_pair_evaluation() {
    use potoo::engine::network::Peer;
    let mut snapshot = Snapshot::default();
    let tiers = ["web", "api", "db", "cache"];
    let mut objects = Vec::new();
    for namespace in 0..4 {
        objects.push(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": format!("ns-{namespace}"), "labels": {"team": format!("t{}", namespace % 2)}}}));
    }
    for workload in 0..24 {
        let tier = tiers[workload % 4];
        objects.push(serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("app-{workload}"), "namespace": format!("ns-{}", workload % 4)},
            "spec": {"template": {"metadata": {"labels": {"app": format!("app-{workload}"), "tier": tier}},
              "spec": {"hostNetwork": workload == 5,
                "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8000 + workload}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]}}}}));
    }
    for policy in 0..16 {
        let namespace = format!("ns-{}", policy % 4);
        let spec = match policy % 4 {
            0 => serde_json::json!({"podSelector": {"matchLabels": {"tier": tiers[policy % 3]}},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "t1"}}, "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}}], "ports": [{"port": "http"}, {"port": 9000, "endPort": 9100}]}]}),
            1 => serde_json::json!({"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"tier": "db"}}}], "ports": [{"port": "http"}]}, {"to": [{"namespaceSelector": {}}], "ports": [{"port": "dns", "protocol": "UDP"}]}, {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]}),
            2 => {
                serde_json::json!({"podSelector": {"matchLabels": {"tier": "cache"}}, "policyTypes": ["Ingress", "Egress"]})
            }
            _ => serde_json::json!({"podSelector": {"matchLabels": {"tier": "api"}},
                "ingress": [{"from": [{"podSelector": {}}]}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.168.0.0/16"]}}], "ports": [{"port": 443, "protocol": "TCP"}, {"protocol": "SCTP"}]}]}),
        };
        objects.push(
            serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": format!("np-{policy}"), "namespace": namespace}, "spec": spec}),
        );
    }
    for object in objects {
        snapshot.insert(object_from_value(object).unwrap());
    }
    let adapted = Registry::default().adapt(&snapshot);
    for options in [
        ReachOptions::default(),
        ReachOptions {
            host_network: HostNetworkMode::Subject,
        },
    ] {
        let model = NetworkModel::new(&snapshot, &adapted.constraints, options);
        let listed: std::collections::BTreeMap<(String, String), String> =
            connectivity(&model, None)
                .connections
                .iter()
                .filter(|entry| {
                    !entry.source.contains("[External]")
                        && !entry.destination.contains("[External]")
                })
                .map(|entry| {
                    (
                        (entry.source.clone(), entry.destination.clone()),
                        entry.connections.connlist_text(),
                    )
                })
                .collect();
        let mut checked = 0;
        for source in &model.inventory.workloads {
            for destination in &model.inventory.workloads {
                if source.reference == destination.reference {
                    continue;
                }
                let evaluation = model.evaluate_pair(
                    &Peer::Endpoint(source.endpoints[0]),
                    &Peer::Endpoint(destination.endpoints[0]),
                    true,
                );
                let allowed = evaluation.allowed();
                let key = (source.reference.display(), destination.reference.display());
                let expected = (!allowed.is_empty()).then(|| allowed.connlist_text());
                assert_eq!(listed.get(&key).cloned(), expected, "{key:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 24 * 23);
    }
}

/// The precomputed class sets of every NetworkPolicy rule (built per namespace) agree with
/// evaluating the rule's peers on each class one by one, on every bundled cluster.
#[test]
fn precomputed_rule_classes_agree_with_rule_by_rule_matching() {
    use potoo::engine::network::endpoints::{PeerMatch, Remote};
    use potoo::engine::network::networkpolicy::rule_selects;
    let mut checked = 0;
    for directory in [CLUSTER, "testdata/demo", "testdata/explain/cluster"] {
        let snapshot = potoo::source::files::read_paths(
            &[Path::new(directory).to_path_buf()],
            &mut std::io::empty(),
        )
        .unwrap();
        let adapted = Registry::default().adapt(&snapshot);
        let model = NetworkModel::new(&snapshot, &adapted.constraints, ReachOptions::default());
        let network = &model.policies.network;
        for (policy_index, policy) in network.policies.iter().enumerate() {
            for (rule_index, rule) in policy.rules.iter().enumerate() {
                for (class_index, class) in model.classes.classes.iter().enumerate() {
                    let remote = Remote::Pod {
                        namespace: &class.namespace,
                        labels: &class.labels,
                        namespace_labels: &class.namespace_labels,
                        class: None,
                        endpoint: None,
                    };
                    let one_by_one =
                        rule_selects(rule, &policy.namespace, remote) == PeerMatch::Yes;
                    assert_eq!(
                        network.rule_selects_class(policy_index, rule_index, class_index),
                        one_by_one,
                        "{directory}: {} rule {} on {}/{:?}",
                        policy.constraint_id,
                        rule.number,
                        class.namespace,
                        class.labels
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 200, "{checked} rule × class pairs checked");
}
