//! `--detail full|detailed|summary` across `query`, `check` and `remediate` on the demo cluster
//! (DESIGN §6). The strings that must not appear are derived from the cluster objects themselves:
//! for every policy object in another namespace, its name, selector labels, ports and CIDRs; for
//! every policy object, its rule bodies (patterns, Rego, regexes, CEL). And no level ever prints
//! Secret or ConfigMap data or the last-applied annotation (`testdata/privacy/cluster`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use potoo::adapters::Registry;
use potoo::source::Snapshot;
use potoo::source::files::read_paths;
use serde_json::Value;

const DEMO: &str = "testdata/demo";
const PRIVATE: &str = "testdata/privacy/cluster";

/// Rule parts of constraint ids that identify nothing (a direction, a whole policy).
const GENERIC_RULES: &[&str] = &["ingress", "egress", "policy"];

fn potoo_run(arguments: &[&str]) -> (i32, String) {
    let mut command = cargo_bin_cmd!("kubectl-potoo");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG");
    let output = command.args(arguments).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let code = output.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{arguments:?} failed: {stderr}");
    (code, String::from_utf8(output.stdout).unwrap())
}

fn stdout_of(arguments: &[&str]) -> String {
    potoo_run(arguments).1
}

fn demo() -> Snapshot {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(DEMO);
    read_paths(&[root], &mut std::io::empty()).unwrap()
}

/// Whether `text` contains `needle` as a whole token (not inside a longer name).
fn contains_token(text: &str, needle: &str) -> bool {
    let is_name = |character: char| character.is_ascii_alphanumeric() || "-_.".contains(character);
    text.match_indices(needle).any(|(position, _)| {
        let before = text[..position].chars().next_back();
        let after = text[position + needle.len()..].chars().next();
        (!before.is_some_and(is_name) || !needle.starts_with(is_name))
            && (!after.is_some_and(is_name) || !needle.ends_with(is_name))
    })
}

/// Selector pairs, ports and addresses anywhere in a policy object's spec.
fn walk(value: &Value, key: &str, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            if key == "matchLabels" {
                for (label, label_value) in fields {
                    if let Some(text) = label_value.as_str() {
                        found.insert(format!("{label}={text}"));
                    }
                }
            }
            for (child_key, child) in fields {
                walk(child, child_key, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, key, found);
            }
        }
        Value::String(text)
            if matches!(
                key,
                "port" | "cidr" | "except" | "notPrincipals" | "principals"
            ) =>
        {
            found.insert(text.clone());
        }
        Value::Number(number) if matches!(key, "port" | "endPort") => {
            found.insert(number.to_string());
        }
        _ => {}
    }
}

/// Rule bodies: patterns' values, Rego lines, regexes, CEL expressions.
fn walk_bodies(value: &Value, inside: bool, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                let body = inside
                    || matches!(
                        key.as_str(),
                        "pattern" | "anyPattern" | "rego" | "expression" | "allowedRegex"
                    );
                walk_bodies(child, body, found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| walk_bodies(item, inside, found)),
        Value::String(text) if inside => {
            for line in text.lines().map(str::trim).filter(|line| line.len() >= 12) {
                found.insert(line.to_string());
            }
            if text.len() < 12 && text.len() > 1 {
                found.insert(text.clone());
            }
        }
        _ => {}
    }
}

struct Forbidden {
    /// Names of other namespaces' policy objects (and at summary, of cluster-scoped ones).
    names: BTreeSet<String>,
    /// Other namespaces' selector pairs.
    selectors: BTreeSet<String>,
    /// Other namespaces' ports, CIDRs and principals.
    addresses: BTreeSet<String>,
    /// Every policy's rule body.
    bodies: BTreeSet<String>,
}

/// What `own` may not see of the demo cluster, derived from its objects.
fn forbidden(own: &str, cluster_scoped_names: bool) -> Forbidden {
    let snapshot = demo();
    let adapted = Registry::default().adapt(&snapshot);
    let mut policies = BTreeSet::new();
    for constraint in &adapted.constraints {
        let source = &constraint.source;
        policies.insert((
            source.kind.clone(),
            source.namespace.clone(),
            source.name.clone(),
        ));
    }
    let namespaces: BTreeSet<String> = snapshot.namespace_names().into_iter().collect();
    let mut foreign = Forbidden {
        names: BTreeSet::new(),
        selectors: BTreeSet::new(),
        addresses: BTreeSet::new(),
        bodies: BTreeSet::new(),
    };
    let mut visible = BTreeSet::new();
    for object in snapshot.objects() {
        let key = (
            object.kind.clone(),
            object.namespace.clone(),
            object.name.clone(),
        );
        let mut strings = BTreeSet::new();
        walk(
            object.value.get("spec").unwrap_or(&Value::Null),
            "",
            &mut strings,
        );
        if policies.contains(&key) {
            walk_bodies(&object.value, false, &mut foreign.bodies);
        }
        match &object.namespace {
            Some(namespace) if namespace != own && policies.contains(&key) => {
                foreign.names.insert(object.name.clone());
                for text in strings {
                    if text.contains('=') {
                        foreign.selectors.insert(text);
                    } else {
                        foreign.addresses.insert(text);
                    }
                }
            }
            Some(namespace) if namespace != own => {}
            None if policies.contains(&key) && cluster_scoped_names && object.name != own => {
                foreign.names.insert(object.name.clone());
            }
            _ => {
                visible.insert(object.name.clone());
                visible.extend(strings);
            }
        }
    }
    for constraint in &adapted.constraints {
        if constraint.source.namespace.as_deref() == Some(own) {
            if let Some(rule) = &constraint.rule {
                visible.insert(rule.clone());
            }
        } else if cluster_scoped_names
            && (constraint.source.namespace.is_some() || constraint.source.kind != "Namespace")
            && let Some(rule) = &constraint.rule
            && !GENERIC_RULES.contains(&rule.as_str())
        {
            foreign.names.insert(rule.clone());
            // Kyverno's generated rules for pod controllers carry the rule's name too.
            let details = serde_json::to_value(&constraint.details).unwrap();
            for generated in details["autogenRules"].as_array().into_iter().flatten() {
                foreign
                    .names
                    .insert(generated.as_str().unwrap().to_string());
            }
        }
    }
    for set in [
        &mut foreign.names,
        &mut foreign.selectors,
        &mut foreign.addresses,
    ] {
        set.retain(|text| {
            !visible.contains(text)
                && !namespaces.contains(text)
                && text.len() > 1
                && !text
                    .strip_prefix("kubernetes.io/metadata.name=")
                    .is_some_and(|namespace| namespaces.contains(namespace))
        });
    }
    foreign.bodies.retain(|text| !visible.contains(text));
    foreign
}

fn leaks<'a>(text: &str, strings: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    strings
        .into_iter()
        .filter(|needle| contains_token(text, needle))
        .cloned()
        .collect()
}

fn assert_clean(what: &str, text: &str, forbidden: &Forbidden, level: &str) {
    let mut found = leaks(text, &forbidden.bodies);
    found.extend(leaks(text, &forbidden.selectors));
    if level == "summary" {
        found.extend(leaks(text, &forbidden.names));
        found.extend(leaks(text, &forbidden.addresses));
    }
    assert!(
        found.is_empty(),
        "{what} at --detail {level} leaks {found:?}:\n{text}"
    );
}

fn remediate_arguments(level: &str) -> Vec<Vec<String>> {
    [
        "NetworkPolicy/payments/allow-from-frontend#ingress",
        "NetworkPolicy/data/allow-backup-egress#egress",
        "ResourceQuota/payments/payments-quota",
        "LimitRange/payments/container-limits",
        "ClusterPolicy/_cluster/require-labels#check-name-and-team",
        "K8sRequiredLabels/_cluster/must-have-owner",
        "AuthorizationPolicy/payments/deny-non-mesh-callers#policy",
        "CiliumNetworkPolicy/data/postgres-backup-fqdn#egress",
        "ValidatingWebhookConfiguration/_cluster/platform-image-policy#image-registry.platform.corp.internal",
    ]
    .iter()
    .map(|name| {
        [
            "remediate",
            name,
            "--workload",
            "frontend/deploy/storefront",
            "--from",
            DEMO,
            "-o",
            "json",
            "--detail",
            level,
        ]
        .iter()
        .map(|text| text.to_string())
        .collect()
    })
    .collect()
}

#[test]
fn the_derived_lists_are_not_empty_and_full_output_shows_them() {
    let forbidden = forbidden("frontend", true);
    for (what, set) in [
        ("names", &forbidden.names),
        ("selectors", &forbidden.selectors),
        ("addresses", &forbidden.addresses),
        ("bodies", &forbidden.bodies),
    ] {
        assert!(set.len() >= 3, "too few {what}: {set:?}");
    }
    assert!(forbidden.names.contains("allow-from-frontend"));
    assert!(forbidden.names.contains("require-labels"));
    assert!(forbidden.addresses.contains("10.0.0.0/8"));
    assert!(
        forbidden
            .selectors
            .contains("app.kubernetes.io/name=postgres")
    );
    let mut full = String::new();
    for arguments in remediate_arguments("full") {
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        full.push_str(&stdout_of(&arguments));
    }
    for needle in [
        "allow-from-frontend",
        "payments-quota",
        "require-labels",
        "^[a-z][a-z0-9-]+$",
    ] {
        assert!(full.contains(needle), "full output should show {needle}");
    }
}

#[test]
fn query_hides_other_namespaces_and_rule_bodies() {
    let forbidden = forbidden("default", true);
    let full = stdout_of(&["query", "-A", "--from", DEMO, "-o", "json"]);
    assert!(
        !leaks(&full, &forbidden.names).is_empty(),
        "full shows names"
    );
    for level in ["detailed", "summary"] {
        let text = stdout_of(&[
            "query", "-A", "--from", DEMO, "-o", "json", "--detail", level,
        ]);
        assert_clean("query -A", &text, &forbidden, level);
        let table = stdout_of(&[
            "query", "-A", "--from", DEMO, "-o", "wide", "--detail", level,
        ]);
        assert_clean("query -A -o wide", &table, &forbidden, level);
    }
}

#[test]
fn check_hides_other_namespaces_cluster_policy_names_and_rule_bodies() {
    let forbidden = forbidden("frontend", true);
    let arguments = |level: &'static str| {
        vec![
            "check",
            "-f",
            "testdata/privacy/manifests",
            "--from",
            DEMO,
            "-o",
            "json",
            "--detail",
            level,
        ]
    };
    let (code, full) = potoo_run(&arguments("full"));
    assert_eq!(code, 1, "the manifest is blocked");
    assert!(full.contains("require-labels"), "{full}");
    for level in ["detailed", "summary"] {
        let (code, text) = potoo_run(&arguments(level));
        assert_eq!(code, 1, "redaction does not change verdicts");
        assert_clean("check", &text, &forbidden, level);
        let document: Value = serde_json::from_str(&text).unwrap();
        let findings = document["objects"][0]["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        if level == "summary" {
            assert!(findings.iter().any(|finding| {
                finding["constraintId"] == "ClusterPolicy/_cluster/<hidden>"
                    && finding["verdict"] == "blocked"
            }));
            assert!(
                findings.iter().any(|finding| finding["constraintId"]
                    .as_str()
                    .unwrap()
                    .starts_with("Namespace/_cluster/frontend#")),
                "the user's own namespace's Pod Security stays named"
            );
        }
    }
}

#[test]
fn remediate_hides_other_namespaces_and_rule_bodies() {
    let forbidden = forbidden("frontend", true);
    for level in ["detailed", "summary"] {
        for arguments in remediate_arguments(level) {
            let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
            let text = stdout_of(&arguments);
            assert_clean(&arguments[1..2].join(" "), &text, &forbidden, level);
            let document: Value = serde_json::from_str(&text).unwrap();
            let steps = document["remediations"][0]["steps"].as_array().unwrap();
            assert!(!steps.is_empty(), "redaction leaves steps to take");
            for step in steps {
                let applies_manifest = step["commands"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|command| command.as_str().unwrap().contains("<the manifest below>"));
                assert!(
                    !applies_manifest || step.get("patch").is_some(),
                    "a command applies a manifest that was hidden: {step}"
                );
            }
            if arguments[1].starts_with("NetworkPolicy/payments/") {
                assert!(
                    steps.iter().any(|step| step.get("patch").is_some()),
                    "the policy the user's own pods need stays shown: {text}"
                );
            }
        }
    }
}

#[test]
fn no_level_prints_secret_or_configmap_data_or_last_applied() {
    let markers = [
        "c2VjcmV0LWRhdGEtbWFya2Vy",
        "secret-data-marker",
        "secret-string-data-marker",
        "configmap-data-marker",
        "Y29uZmlnbWFwLWJpbmFyeS1tYXJrZXI=",
        "configmap-binary-marker",
        "last-applied",
    ];
    for level in ["full", "detailed", "summary"] {
        for arguments in [
            vec!["query", "-A", "--from", PRIVATE, "-o", "json"],
            vec!["query", "-n", "shop", "--from", PRIVATE, "-o", "wide"],
            vec!["status", "--from", PRIVATE, "-o", "yaml"],
            vec!["snapshot", "-A", "--from", PRIVATE],
            vec!["check", "-f", PRIVATE, "--from", PRIVATE, "-o", "json"],
            vec!["check", "-f", PRIVATE, "--from", PRIVATE],
            vec![
                "remediate",
                "shop-default-deny",
                "-n",
                "shop",
                "--from",
                PRIVATE,
                "-o",
                "yaml",
            ],
            vec![
                "remediate",
                "Namespace/_cluster/shop#pod-security-enforce",
                "--workload",
                "shop/deploy/shop-web",
                "--from",
                PRIVATE,
            ],
        ] {
            let mut arguments = arguments.clone();
            arguments.extend(["--detail", level]);
            let text = stdout_of(&arguments);
            assert!(!text.is_empty(), "{arguments:?} printed nothing");
            for marker in markers {
                assert!(
                    !text.contains(marker),
                    "{arguments:?} printed {marker}:\n{text}"
                );
            }
        }
    }
}
