//! The status engine: which engines and kinds exist, counts by type/severity/namespace, and gaps.

use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::AdapterOutput;
use crate::model::report::{API_VERSION, EngineStatus, KindStatus, StatusResult};
use crate::model::{ConstraintType, Severity};
use crate::source::catalog::{self, Purpose};
use crate::source::{GroupKind, Snapshot};

/// Label that carries an engine's version on its CRDs and webhook configurations.
const VERSION_LABEL: &str = "app.kubernetes.io/version";

pub fn status(snapshot: &Snapshot, adapted: &AdapterOutput) -> StatusResult {
    let mut kinds: BTreeMap<GroupKind, KindStatus> = BTreeMap::new();
    let mut annotated = crate::adapters::registry::policy_kinds_from_crds(snapshot);
    annotated.extend(crate::adapters::generic::profile_target_kinds(snapshot));
    let is_reported = |group_kind: &GroupKind| {
        catalog::known_kind(&group_kind.group, &group_kind.kind)
            .is_some_and(|known| known.purpose == Purpose::Policy)
            || crate::adapters::registry::is_policy_kind(group_kind, &annotated)
    };
    for group_kind in snapshot.kinds() {
        if !is_reported(&group_kind) {
            continue;
        }
        let mut versions = BTreeSet::new();
        let mut count = 0;
        for object in snapshot.of_kind(&group_kind.group, &group_kind.kind) {
            count += 1;
            versions.insert(
                object
                    .api_version
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        kinds.insert(
            group_kind.clone(),
            KindStatus {
                group: group_kind.group.clone(),
                kind: group_kind.kind.clone(),
                versions: versions.into_iter().collect(),
                objects: count,
                constraints: 0,
                unreadable: false,
            },
        );
    }
    // Kinds defined by CRDs in the Snapshot are engines installed, even with no objects; the same
    // kinds come from discovery when the CRDs themselves could not be read. Built-in kinds with
    // no objects are not listed: files cannot tell whether a server serves them.
    let mut crd_kinds = BTreeSet::new();
    for crd in snapshot.of_kind("apiextensions.k8s.io", "CustomResourceDefinition") {
        let spec = crd.spec();
        let (Some(group), Some(kind)) = (
            spec.get("group").and_then(serde_json::Value::as_str),
            spec.pointer("/names/kind")
                .and_then(serde_json::Value::as_str),
        ) else {
            continue;
        };
        let group_kind = GroupKind::new(group, kind);
        crd_kinds.insert(group_kind.clone());
        if !is_reported(&group_kind) {
            continue;
        }
        let served_versions = spec
            .get("versions")
            .and_then(serde_json::Value::as_array)
            .map(|versions| {
                versions
                    .iter()
                    .filter(|version| {
                        version.get("served").and_then(serde_json::Value::as_bool) != Some(false)
                    })
                    .filter_map(|version| version.get("name").and_then(serde_json::Value::as_str))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        add_versions(&mut kinds, group_kind, served_versions);
    }
    for served in &snapshot.source.served_kinds {
        let group_kind = GroupKind::new(&served.group, &served.kind);
        let built_in = served.group.is_empty() || served.group.ends_with(".k8s.io");
        if built_in || crd_kinds.contains(&group_kind) || !is_reported(&group_kind) {
            continue;
        }
        add_versions(&mut kinds, group_kind, vec![served.version.clone()]);
    }
    for gap in &snapshot.gaps {
        let group_kind = GroupKind::new(gap_group(&gap.resource), &gap.kind);
        let entry = kinds
            .entry(group_kind.clone())
            .or_insert_with(|| KindStatus {
                group: group_kind.group.clone(),
                kind: gap.kind.clone(),
                versions: Vec::new(),
                objects: 0,
                constraints: 0,
                unreadable: false,
            });
        entry.unreadable = true;
    }
    let mut by_type: BTreeMap<String, usize> = ConstraintType::ALL
        .iter()
        .map(|kind| (kind.to_string(), 0))
        .collect();
    let mut by_severity: BTreeMap<String, usize> = Severity::ALL
        .iter()
        .map(|severity| (severity.to_string(), 0))
        .collect();
    let mut by_namespace: BTreeMap<String, usize> = BTreeMap::new();
    for constraint in &adapted.constraints {
        *by_type
            .entry(constraint.constraint_type.to_string())
            .or_default() += 1;
        *by_severity
            .entry(constraint.severity.to_string())
            .or_default() += 1;
        let namespace = constraint
            .source
            .namespace
            .clone()
            .unwrap_or_else(|| "(cluster)".to_string());
        *by_namespace.entry(namespace).or_default() += 1;
        let group_kind =
            GroupKind::from_api_version(&constraint.source.api_version, &constraint.source.kind);
        if let Some(entry) = kinds.get_mut(&group_kind) {
            entry.constraints += 1;
        }
    }
    let mut engines: BTreeMap<String, EngineStatus> = BTreeMap::new();
    for (group_kind, kind_status) in kinds {
        let engine = catalog::known_kind(&group_kind.group, &group_kind.kind)
            .map(|known| known.engine)
            .unwrap_or_else(|| catalog::engine_of_group(&group_kind.group));
        engines
            .entry(engine.to_string())
            .or_insert_with(|| EngineStatus {
                name: engine.to_string(),
                version: None,
                kinds: Vec::new(),
            })
            .kinds
            .push(kind_status);
    }
    for (name, engine) in &mut engines {
        engine.version = engine_version(snapshot, name);
    }
    StatusResult {
        api_version: API_VERSION,
        kind: "StatusResult",
        incomplete: snapshot.is_incomplete(),
        gaps: snapshot.gaps.clone(),
        source: snapshot.source.clone(),
        engines: engines.into_values().collect(),
        objects: snapshot.len(),
        constraints: adapted.constraints.len(),
        by_type,
        by_severity,
        by_namespace,
        diagnostics: adapted.diagnostics.clone(),
    }
}

/// The `app.kubernetes.io/version` label of the engine's CRDs or webhook configurations.
fn engine_version(snapshot: &Snapshot, engine: &str) -> Option<String> {
    let crds = snapshot
        .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        .filter(|crd| {
            crd.spec()
                .get("group")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|group| catalog::engine_of_group(group) == engine)
        });
    let webhooks = snapshot
        .of_kind(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
        )
        .chain(snapshot.of_kind(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
        ))
        .filter(|webhook| {
            engine != "kubernetes" && webhook.name.to_ascii_lowercase().contains(engine)
        });
    crds.chain(webhooks)
        .find_map(|object| object.labels().get(VERSION_LABEL).cloned())
}

/// The group of a gap's `group/version/resource` (`v1/pods` is the core group).
fn gap_group(resource: &str) -> &str {
    let parts: Vec<&str> = resource.split('/').collect();
    if parts.len() >= 3 { parts[0] } else { "" }
}

/// Adds a kind (if new) and merges `versions` into its sorted version list.
fn add_versions(
    kinds: &mut BTreeMap<GroupKind, KindStatus>,
    group_kind: GroupKind,
    versions: Vec<String>,
) {
    let entry = kinds
        .entry(group_kind.clone())
        .or_insert_with(|| KindStatus {
            group: group_kind.group.clone(),
            kind: group_kind.kind.clone(),
            versions: Vec::new(),
            objects: 0,
            constraints: 0,
            unreadable: false,
        });
    for version in versions {
        if !entry.versions.contains(&version) {
            entry.versions.push(version);
        }
    }
    entry.versions.sort();
}
