//! The Index: which constraints apply to a namespace or a workload, and why (every match has a reason).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::model::{Constraint, LabelSelector, Scope};
use crate::source::{Snapshot, WORKLOAD_KINDS};

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
    /// Where the constraint is in the slice the Index was built from.
    pub position: usize,
    pub reasons: Vec<String>,
}

/// Constraints grouped for fast lookup: those whose scope lists literal namespaces are bucketed
/// by namespace; the rest are evaluated against every namespace.
pub struct Index<'a> {
    snapshot: &'a Snapshot,
    constraints: &'a [Constraint],
    /// Positions in `constraints`.
    by_namespace: HashMap<&'a str, Vec<usize>>,
    everywhere: Vec<usize>,
}

impl<'a> Index<'a> {
    pub fn new(snapshot: &'a Snapshot, constraints: &'a [Constraint]) -> Index<'a> {
        let mut by_namespace: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut everywhere = Vec::new();
        for (position, constraint) in constraints.iter().enumerate() {
            match &constraint.scope.namespaces {
                Some(listed) if listed.iter().all(|name| !name.contains('*')) => {
                    for namespace in listed {
                        by_namespace
                            .entry(namespace.as_str())
                            .or_default()
                            .push(position);
                    }
                }
                _ => everywhere.push(position),
            }
        }
        Index {
            snapshot,
            constraints,
            by_namespace,
            everywhere,
        }
    }

    /// Constraints that may apply in `namespace`, with their positions.
    fn candidates(&self, namespace: &str) -> impl Iterator<Item = (usize, &'a Constraint)> + '_ {
        let constraints = self.constraints;
        self.by_namespace
            .get(namespace)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .chain(self.everywhere.iter())
            .filter_map(move |position| Some((*position, constraints.get(*position)?)))
    }

    /// Constraints that apply somewhere in `namespace`, each with the namespace-level reason.
    pub fn for_namespace(&self, namespace: &str) -> Vec<Match<'a>> {
        let labels = self.snapshot.namespace_labels(namespace);
        self.candidates(namespace)
            .filter_map(|(position, constraint)| {
                let scope = &constraint.scope;
                let mut reasons = vec![namespace_reason(constraint, scope, namespace, &labels)?];
                if !scope.any_of.is_empty() {
                    let alternative = scope.any_of.iter().find_map(|alternative| {
                        namespace_reason(constraint, alternative, namespace, &labels)
                    })?;
                    reasons.push(format!("matched by one alternative: {alternative}"));
                }
                let excluded_whole_namespace = scope.excluded.iter().any(|exclusion| {
                    exclusion_has_namespace_criteria(exclusion)
                        && !exclusion_has_object_criteria(exclusion)
                        && namespace_reason(constraint, exclusion, namespace, &labels).is_some()
                });
                if excluded_whole_namespace {
                    return None;
                }
                reasons.push(selector_summary(scope));
                Some(Match {
                    constraint,
                    position,
                    reasons,
                })
            })
            .collect()
    }

    /// Constraints that apply to one workload: namespace reason plus the selector reason.
    pub fn for_workload(&self, workload: &Workload) -> Vec<Match<'a>> {
        let labels = self.snapshot.namespace_labels(&workload.namespace);
        self.candidates(&workload.namespace)
            .filter_map(|(position, constraint)| {
                let scope = &constraint.scope;
                let mut reasons = scope_reasons(constraint, scope, workload, &labels)?;
                if !scope.any_of.is_empty() {
                    let alternative = scope.any_of.iter().find_map(|alternative| {
                        scope_reasons(constraint, alternative, workload, &labels)
                    })?;
                    reasons.push(format!(
                        "matched by one alternative: {}",
                        alternative.join("; ")
                    ));
                }
                let excluded = scope.excluded.iter().any(|exclusion| {
                    (exclusion_has_namespace_criteria(exclusion)
                        || exclusion_has_object_criteria(exclusion))
                        && scope_reasons(constraint, exclusion, workload, &labels).is_some()
                });
                if excluded {
                    return None;
                }
                Some(Match {
                    constraint,
                    position,
                    reasons,
                })
            })
            .collect()
    }
}

fn exclusion_has_namespace_criteria(scope: &Scope) -> bool {
    scope.namespaces.is_some()
        || scope.namespace_selector.is_some()
        || scope.excluded_namespaces.is_some()
}

fn exclusion_has_object_criteria(scope: &Scope) -> bool {
    scope.workload_selector.is_some() || scope.names.is_some() || scope.resources.is_some()
}

/// Every reason `scope` applies to `workload`, or `None` if some criterion fails.
fn scope_reasons(
    constraint: &Constraint,
    scope: &Scope,
    workload: &Workload,
    labels: &BTreeMap<String, String>,
) -> Option<Vec<String>> {
    let mut reasons = vec![namespace_reason(
        constraint,
        scope,
        &workload.namespace,
        labels,
    )?];
    if let Some(resources) = &scope.resources {
        reasons.push(resource_reason(resources, workload)?);
    }
    if let Some(names) = &scope.names {
        let pattern = names
            .iter()
            .find(|pattern| wildcard_matches(pattern, &workload.name))?;
        reasons.push(format!("name `{}` matches `{pattern}`", workload.name));
    }
    // An object selector sees the admitted object's own labels only when the rules cover the
    // workload's own resource; pod selectors always look at the pods' labels.
    let own_resource_covered = reasons.last().is_some_and(|reason| {
        reason.starts_with("rules cover") && !reason.ends_with("the pods it creates")
    }) && scope.resources.is_some();
    reasons.push(workload_reason(scope, workload, own_resource_covered)?);
    Some(reasons)
}

/// Why `scope` admits `namespace`, or `None` when it does not.
pub fn namespace_reason(
    constraint: &Constraint,
    scope: &Scope,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Option<String> {
    if let Some(excluded) = &scope.excluded_namespaces
        && excluded
            .iter()
            .any(|pattern| glob_matches(pattern, namespace))
    {
        return None;
    }
    let mut reasons = Vec::new();
    if let Some(listed) = &scope.namespaces {
        let pattern = listed
            .iter()
            .find(|pattern| glob_matches(pattern, namespace))?;
        if constraint.source.namespace.as_deref() == Some(namespace) && listed.len() == 1 {
            reasons.push(format!("defined in namespace `{namespace}`"));
        } else if pattern == namespace {
            reasons.push(format!("namespace `{namespace}` is listed"));
        } else {
            reasons.push(format!("namespace `{namespace}` matches `{pattern}`"));
        }
    }
    match &scope.namespace_selector {
        Some(selector) if selector.is_empty() => {
            reasons.push("namespaceSelector is empty: every namespace".to_string())
        }
        Some(selector) => {
            let why = selector.explain_match(labels)?;
            reasons.push(format!(
                "namespaceSelector `{selector}` matched namespace `{namespace}` ({why})"
            ));
        }
        None => {}
    }
    if reasons.is_empty() {
        reasons.push("cluster-wide: every namespace".to_string());
    }
    let joined = reasons.join(", ");
    Some(match &scope.note {
        Some(note) => format!("{note}; {joined}"),
        None => joined,
    })
}

/// `Some("concerns `nodes`, not pods")` when the scope's resources cover no workload or pod.
fn non_pod_resources(scope: &Scope) -> Option<String> {
    let resources = scope.resources.as_ref()?;
    let covers_workloads = resources.iter().any(|resource| {
        let lowered = resource.to_ascii_lowercase();
        matches!(lowered.as_str(), "*" | "*/*" | "pods" | "*/pods" | "pod")
            || WORKLOAD_KINDS.iter().any(|(group, kind, _)| {
                let kind = kind.to_ascii_lowercase();
                lowered == kind
                    || lowered == format!("{kind}s")
                    || lowered == format!("{group}/{kind}s")
                    || lowered == format!("{group}/*")
                    || lowered == format!("*/{kind}s")
            })
    });
    (!covers_workloads && !resources.is_empty())
        .then(|| format!("concerns `{}`, not pods", resources.join(",")))
}

fn selector_summary(scope: &Scope) -> String {
    if let Some(concerns) = non_pod_resources(scope) {
        return concerns;
    }
    match &scope.workload_selector {
        None => "no selector: all pods in namespace".to_string(),
        Some(selector) if selector.is_empty() => {
            "empty selector: all pods in namespace".to_string()
        }
        Some(selector) => format!("selects pods with `{selector}`"),
    }
}

fn workload_reason(scope: &Scope, workload: &Workload, own_labels_count: bool) -> Option<String> {
    if let Some(concerns) = non_pod_resources(scope)
        && !own_labels_count
    {
        return Some(concerns);
    }
    match &scope.workload_selector {
        None => Some("no selector: all pods in namespace".to_string()),
        Some(selector) if selector.is_empty() => {
            Some("empty selector: all pods in namespace".to_string())
        }
        Some(selector) => match selector.explain_match(&workload.pod_labels) {
            Some(why) => Some(format!("selector `{selector}` matched pod labels ({why})")),
            None if own_labels_count => selector.explain_match(&workload.labels).map(|why| {
                format!(
                    "selector `{selector}` matched {} labels ({why})",
                    workload.kind
                )
            }),
            None => None,
        },
    }
}

/// A resource-scoped constraint (webhook rules) applies to a workload when it covers the
/// workload's own resource or the pods its controller creates.
fn resource_reason(resources: &[String], workload: &Workload) -> Option<String> {
    let own = workload.resource();
    let own_group = own.rsplit_once('/').map(|(group, _)| group).unwrap_or("");
    let covers_own = |resource: &String| {
        resource == &own
            || resource == &format!("*/{}", own.rsplit('/').next().unwrap_or_default())
            || (!own_group.is_empty() && resource == &format!("{own_group}/*"))
            || resource.eq_ignore_ascii_case(&workload.kind)
    };
    if let Some(resource) = resources.iter().find(|resource| covers_own(resource)) {
        return Some(format!("rules cover `{resource}`"));
    }
    resources
        .iter()
        .find(|resource| matches!(resource.as_str(), "*" | "*/*" | "pods" | "*/pods" | "Pod"))
        .map(|resource| format!("rules cover `{resource}`, so the pods it creates"))
}

/// `*` and `?` wildcards, as Kyverno matches names.
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut pattern_index, mut text_index) = (0, 0);
    let (mut star, mut star_text) = (None, 0);
    while text_index < text.len() {
        if pattern_index < pattern.len()
            && (pattern[pattern_index] == '?' || pattern[pattern_index] == text[text_index])
        {
            pattern_index += 1;
            text_index += 1;
        } else if pattern_index < pattern.len() && pattern[pattern_index] == '*' {
            star = Some(pattern_index);
            star_text = text_index;
            pattern_index += 1;
        } else if let Some(star_index) = star {
            pattern_index = star_index + 1;
            star_text += 1;
            text_index = star_text;
        } else {
            return false;
        }
    }
    pattern[pattern_index..]
        .iter()
        .all(|character| *character == '*')
}

/// Namespace globs as Gatekeeper and Kyverno use them (`kube-*`, `*-system`, `team-?`).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    wildcard_matches(pattern, name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases = [
            ("kube-*", "kube-system", true),
            ("*-system", "kube-system", true),
            ("team-?", "team-a", true),
            ("team-?", "team-ab", false),
            ("*", "", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("exact", "exact", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                wildcard_matches(pattern, text),
                expected,
                "{pattern} {text}"
            );
        }
    }
}
