//! The scheduler's FailedScheduling message: `0/N nodes are available: C REASON, C REASON.
//! preemption: …` (kube-scheduler `FitError`), each reason classified (resources, taints, node
//! affinity, pod (anti-)affinity, volumes, ports, unschedulable nodes), and `pod has unbound
//! immediate PersistentVolumeClaims`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group, split_top_level};
use crate::engine::explain::{Cause, Family, Parsed};

static AVAILABLE: Pattern = LazyLock::new(|| {
    Regex::new(r"(?P<available>\d+)/(?P<total>\d+) nodes are available(?:: (?P<reasons>[^\n]*?))?(?:\.?\s*preemption: (?P<preemption>[^\n]*))?\.?\s*$").ok()
});
static UNBOUND: Pattern = LazyLock::new(|| {
    Regex::new(r"pod has unbound immediate PersistentVolumeClaims|persistentvolumeclaim \x22(?P<claim>[^\x22]+)\x22 not found").ok()
});
static TAINT: Pattern =
    LazyLock::new(|| Regex::new(r"\{(?P<key>[^:}]+):\s*(?P<value>[^}]*)\}").ok());

/// A scheduler reason → its category.
fn category(reason: &str) -> &'static str {
    let lowered = reason.to_ascii_lowercase();
    if lowered.starts_with("insufficient") || lowered.contains("too many pods") {
        "insufficientResources"
    } else if lowered.contains("taint") {
        "taints"
    } else if lowered.contains("node affinity/selector") {
        "nodeAffinity"
    } else if lowered.contains("anti-affinity") || lowered.contains("pod affinity") {
        "podAffinity"
    } else if lowered.contains("persistentvolumeclaim")
        || lowered.contains("volume")
        || lowered.contains("persistent volume")
    {
        "volumes"
    } else if lowered.contains("free ports") {
        "hostPorts"
    } else if lowered.contains("unschedulable") {
        "unschedulableNodes"
    } else if lowered.contains("topology spread") {
        "topologySpread"
    } else {
        "other"
    }
}

fn advice(category: &str) -> &'static str {
    match category {
        "insufficientResources" => "lower the requests, or add capacity",
        "taints" => "add a toleration for the taint, or run on untainted nodes",
        "nodeAffinity" => "no node has the labels the nodeSelector/nodeAffinity asks for",
        "podAffinity" => "the pod (anti-)affinity rules exclude every node",
        "volumes" => "a PersistentVolumeClaim is unbound or its volume is on another zone/node",
        "hostPorts" => "another pod already uses the hostPort on every fitting node",
        "unschedulableNodes" => "the fitting nodes are cordoned",
        "topologySpread" => "topologySpreadConstraints cannot be met",
        _ => "see the reason",
    }
}

pub fn parse(text: &str) -> Option<Parsed> {
    // `kubectl describe` wraps long event messages: read them as one line of words.
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(found) = captures(&AVAILABLE, &joined) else {
        let unbound = captures(&UNBOUND, text)?;
        let mut parsed = Parsed::new(
            Family::Scheduling,
            "the scheduler waits for the Pod's PersistentVolumeClaims to bind: check the claim's StorageClass and provisioner",
        );
        parsed.identify("claim", group(&unbound, "claim"));
        parsed.identify("categories", Some("volumes"));
        return Some(parsed);
    };
    let total = group(&found, "total").unwrap_or_default();
    let mut parsed = Parsed::new(Family::Scheduling, String::new());
    parsed.identify("nodes", Some(total));
    parsed.identify("availableNodes", group(&found, "available"));
    let reasons = group(&found, "reasons")
        .unwrap_or_default()
        .trim_end_matches('.');
    for item in split_top_level(reasons, ", ") {
        let (count, reason) = match item.split_once(' ') {
            Some((count, reason)) if count.chars().all(|character| character.is_ascii_digit()) => {
                (count.to_string(), reason.to_string())
            }
            _ => (String::new(), item.clone()),
        };
        let category = category(&reason);
        let mut facts = BTreeMap::new();
        facts.insert("category".to_string(), category.to_string());
        if !count.is_empty() {
            facts.insert("nodes".to_string(), count);
        }
        if let Some(taint) = captures(&TAINT, &reason) {
            let key = group(&taint, "key").unwrap_or_default().trim();
            let value = group(&taint, "value").unwrap_or_default().trim();
            facts.insert(
                "taint".to_string(),
                if value.is_empty() {
                    key.to_string()
                } else {
                    format!("{key}={value}")
                },
            );
        }
        parsed.causes.push(Cause {
            name: Some(category.to_string()),
            message: reason,
            facts,
            ..Cause::default()
        });
    }
    let mut categories: Vec<&str> = Vec::new();
    for cause in &parsed.causes {
        if let Some(name) = cause.name.as_deref()
            && !categories.contains(&name)
        {
            categories.push(name);
        }
    }
    parsed.identify("categories", Some(&categories.join(", ")));
    let taints: Vec<String> = parsed
        .causes
        .iter()
        .filter_map(|cause| cause.facts.get("taint").cloned())
        .collect();
    parsed.identify("taints", Some(&taints.join(", ")));
    parsed.summary = format!(
        "the scheduler found no node for the Pod among {total}: {}",
        parsed
            .causes
            .iter()
            .map(|cause| format!(
                "{} ({})",
                cause.message,
                advice(cause.name.as_deref().unwrap_or_default())
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Some(parsed)
}
