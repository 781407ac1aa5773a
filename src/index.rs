//! The Index: which constraints apply to a namespace or a workload, and why (every match has a reason).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::model::{Constraint, LabelSelector};
use crate::source::Snapshot;

/// A workload as the index sees it: its identity, its own labels and its pods' labels.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub pod_labels: BTreeMap<String, String>,
}

impl Workload {
    /// `Deployment/web`.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The resource the workload is admitted as (`apps/deployments`, `pods`).
    fn resource(&self) -> String {
        let plural = format!("{}s", self.kind.to_ascii_lowercase());
        match self.api_version.rsplit_once('/') {
            Some((group, _)) => format!("{group}/{plural}"),
            None => plural,
        }
    }
}

/// Workload kinds and where their pod template is.
const WORKLOAD_KINDS: &[(&str, &str, &str)] = &[
    ("apps", "Deployment", "/spec/template/metadata/labels"),
    ("apps", "StatefulSet", "/spec/template/metadata/labels"),
    ("apps", "DaemonSet", "/spec/template/metadata/labels"),
    ("apps", "ReplicaSet", "/spec/template/metadata/labels"),
    ("batch", "Job", "/spec/template/metadata/labels"),
    (
        "batch",
        "CronJob",
        "/spec/jobTemplate/spec/template/metadata/labels",
    ),
    ("", "Pod", "/metadata/labels"),
];

/// Every top-level workload in the Snapshot: objects owned by another workload (a ReplicaSet of a
/// Deployment, a Pod of a ReplicaSet) are left out, since their owner stands for them.
pub fn workloads(snapshot: &Snapshot, namespace: Option<&str>) -> Vec<Workload> {
    let mut found = Vec::new();
    for (group, kind, labels_pointer) in WORKLOAD_KINDS {
        for object in snapshot.of_kind(group, kind) {
            let Some(object_namespace) = &object.namespace else {
                continue;
            };
            if namespace.is_some_and(|namespace| namespace != object_namespace) {
                continue;
            }
            let owned = object
                .value
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|owners| {
                    owners
                        .iter()
                        .any(|owner| owner.get("controller") == Some(&Value::Bool(true)))
                });
            if owned {
                continue;
            }
            found.push(Workload {
                api_version: object.api_version.clone(),
                kind: object.kind.clone(),
                namespace: object_namespace.clone(),
                name: object.name.clone(),
                labels: object.labels(),
                pod_labels: crate::source::snapshot::string_map(
                    object.value.pointer(labels_pointer),
                ),
            });
        }
    }
    found
}

/// Finds one workload by kind (full or short name, case-insensitive) and name, owned or not.
pub fn find_workload(
    snapshot: &Snapshot,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Option<Workload> {
    let wanted = canonical_kind(kind)?;
    let (group, kind, labels_pointer) = WORKLOAD_KINDS
        .iter()
        .find(|(_, candidate, _)| *candidate == wanted)?;
    let object = snapshot
        .of_kind(group, kind)
        .find(|object| object.name == name && object.namespace.as_deref() == Some(namespace))?;
    Some(Workload {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: namespace.to_string(),
        name: object.name.clone(),
        labels: object.labels(),
        pod_labels: crate::source::snapshot::string_map(object.value.pointer(labels_pointer)),
    })
}

/// kubectl's names for workload kinds: `deploy`, `deployments`, `Deployment` → `Deployment`.
pub fn canonical_kind(text: &str) -> Option<&'static str> {
    let lowered = text.to_ascii_lowercase();
    let kind = match lowered.as_str() {
        "pod" | "pods" | "po" => "Pod",
        "deployment" | "deployments" | "deploy" => "Deployment",
        "statefulset" | "statefulsets" | "sts" => "StatefulSet",
        "daemonset" | "daemonsets" | "ds" => "DaemonSet",
        "replicaset" | "replicasets" | "rs" => "ReplicaSet",
        "job" | "jobs" => "Job",
        "cronjob" | "cronjobs" | "cj" => "CronJob",
        _ => return None,
    };
    Some(kind)
}

/// One constraint that applies, with the reasons it does.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub constraint: &'a Constraint,
    pub reasons: Vec<String>,
}

/// Constraints grouped for fast lookup by namespace.
pub struct Index<'a> {
    snapshot: &'a Snapshot,
    namespaced: HashMap<&'a str, Vec<&'a Constraint>>,
    cluster: Vec<&'a Constraint>,
}

impl<'a> Index<'a> {
    pub fn new(snapshot: &'a Snapshot, constraints: &'a [Constraint]) -> Index<'a> {
        let mut namespaced: HashMap<&'a str, Vec<&'a Constraint>> = HashMap::new();
        let mut cluster = Vec::new();
        for constraint in constraints {
            match &constraint.source.namespace {
                Some(namespace) => namespaced
                    .entry(namespace.as_str())
                    .or_default()
                    .push(constraint),
                None => cluster.push(constraint),
            }
        }
        Index {
            snapshot,
            namespaced,
            cluster,
        }
    }

    /// Constraints that apply somewhere in `namespace`, each with the namespace-level reason.
    pub fn for_namespace(&self, namespace: &str) -> Vec<Match<'a>> {
        let labels = self.snapshot.namespace_labels(namespace);
        let mut matches: Vec<Match<'a>> = self
            .namespaced
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|constraint| Match {
                constraint,
                reasons: vec![format!("defined in namespace `{namespace}`")],
            })
            .collect();
        for constraint in &self.cluster {
            if let Some(reason) = cluster_namespace_reason(constraint, namespace, &labels) {
                matches.push(Match {
                    constraint,
                    reasons: vec![reason],
                });
            }
        }
        for found in &mut matches {
            if let Some(reason) = selector_summary(found.constraint) {
                found.reasons.push(reason);
            }
        }
        matches
    }

    /// Constraints that apply to one workload: namespace reason plus the selector reason.
    pub fn for_workload(&self, workload: &Workload) -> Vec<Match<'a>> {
        let labels = self.snapshot.namespace_labels(&workload.namespace);
        let mut candidates: Vec<(&'a Constraint, String)> = self
            .namespaced
            .get(workload.namespace.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|constraint| {
                (
                    *constraint,
                    format!("defined in namespace `{}`", workload.namespace),
                )
            })
            .collect();
        for constraint in &self.cluster {
            if let Some(reason) = cluster_namespace_reason(constraint, &workload.namespace, &labels)
            {
                candidates.push((constraint, reason));
            }
        }
        candidates
            .into_iter()
            .filter_map(|(constraint, namespace_reason)| {
                let mut reasons = vec![namespace_reason];
                if let Some(resources) = &constraint.scope.resources {
                    reasons.push(resource_reason(resources, workload)?);
                }
                reasons.push(workload_reason(constraint, workload)?);
                Some(Match {
                    constraint,
                    reasons,
                })
            })
            .collect()
    }
}

/// Why a cluster-scoped constraint applies to `namespace`, or `None` when it does not.
pub fn cluster_namespace_reason(
    constraint: &Constraint,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Option<String> {
    let scope = &constraint.scope;
    if let Some(excluded) = &scope.excluded_namespaces {
        if excluded
            .iter()
            .any(|pattern| glob_matches(pattern, namespace))
        {
            return None;
        }
    }
    if let Some(listed) = &scope.namespaces {
        if !listed
            .iter()
            .any(|pattern| glob_matches(pattern, namespace))
        {
            return None;
        }
        if scope.namespace_selector.is_none() {
            return Some(format!("namespace `{namespace}` is listed"));
        }
    }
    match &scope.namespace_selector {
        Some(selector) if selector.is_empty() => {
            Some("namespaceSelector is empty: every namespace".to_string())
        }
        Some(selector) => selector.explain_match(labels).map(|why| {
            format!("namespaceSelector `{selector}` matched namespace `{namespace}` ({why})")
        }),
        None => Some("cluster-wide: every namespace".to_string()),
    }
}

fn selector_summary(constraint: &Constraint) -> Option<String> {
    match &constraint.scope.workload_selector {
        None => Some("no selector: all pods in namespace".to_string()),
        Some(selector) if selector.is_empty() => {
            Some("empty selector: all pods in namespace".to_string())
        }
        Some(selector) => Some(format!("selects pods with `{selector}`")),
    }
}

fn workload_reason(constraint: &Constraint, workload: &Workload) -> Option<String> {
    match &constraint.scope.workload_selector {
        None => Some("no selector: all pods in namespace".to_string()),
        Some(selector) if selector.is_empty() => {
            Some("empty selector: all pods in namespace".to_string())
        }
        Some(selector) => match selector.explain_match(&workload.pod_labels) {
            Some(why) => Some(format!("selector `{selector}` matched pod labels ({why})")),
            None => selector.explain_match(&workload.labels).map(|why| {
                format!(
                    "selector `{selector}` matched {} labels ({why})",
                    workload.kind
                )
            }),
        },
    }
}

/// A resource-scoped constraint (webhook rules) applies to a workload when it covers the
/// workload's own resource or the pods its controller creates.
fn resource_reason(resources: &[String], workload: &Workload) -> Option<String> {
    let own = workload.resource();
    let own_group = own.rsplit_once('/').map(|(group, _)| group).unwrap_or("");
    resources.iter().find_map(|resource| {
        let covers_pods = matches!(resource.as_str(), "*" | "*/*" | "pods");
        let covers_own = resource == &own
            || resource == &format!("*/{}", own.rsplit('/').next().unwrap_or_default())
            || (!own_group.is_empty() && resource == &format!("{own_group}/*"));
        if covers_own {
            Some(format!("rules cover `{resource}`"))
        } else if covers_pods {
            Some(format!("rules cover `{resource}`, so the pods it creates"))
        } else {
            None
        }
    })
}

/// Namespace globs as Gatekeeper uses them: a trailing or leading `*`.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    match (pattern.strip_suffix('*'), pattern.strip_prefix('*')) {
        (Some(prefix), _) => name.starts_with(prefix),
        (_, Some(suffix)) => name.ends_with(suffix),
        _ => pattern == name,
    }
}

/// Workloads in `namespace` whose pod labels a `-l` selector matches.
pub fn workloads_matching(
    snapshot: &Snapshot,
    namespace: Option<&str>,
    selector: &LabelSelector,
) -> Vec<Workload> {
    workloads(snapshot, namespace)
        .into_iter()
        .filter(|workload| selector.matches(&workload.pod_labels))
        .collect()
}
