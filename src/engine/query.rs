//! The query engine: which constraints affect a namespace, a workload or labelled workloads, and why.

use std::collections::{HashMap, HashSet};

use crate::adapters::AdapterOutput;
use crate::index::{self, Index, Match};
use crate::model::report::{API_VERSION, QueryEntry, QueryResult, QueryScope};
use crate::model::{ConstraintType, LabelSelector, Severity};
use crate::source::{NamespaceScope, Snapshot};

/// What to ask.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub scope: NamespaceScope,
    /// `KIND/NAME` or `NAMESPACE/KIND/NAME`.
    pub workload: Option<String>,
    /// The `-l` text and its parsed form.
    pub selector: Option<(String, LabelSelector)>,
    pub types: Option<Vec<ConstraintType>>,
    pub severities: Option<Vec<Severity>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("workload `{0}` must be KIND/NAME or NAMESPACE/KIND/NAME")]
    BadWorkload(String),
    #[error(
        "unknown workload kind `{0}`: use pod, deployment, statefulset, daemonset, replicaset, job or cronjob"
    )]
    UnknownKind(String),
    #[error("workload `{kind}/{name}` not found in namespace `{namespace}`")]
    WorkloadNotFound {
        kind: String,
        name: String,
        namespace: String,
    },
    #[error("--workload needs one namespace: use -n or NAMESPACE/KIND/NAME, not -A")]
    WorkloadNeedsNamespace,
}

/// Splits `KIND/NAME` or `NAMESPACE/KIND/NAME`.
pub fn parse_workload(
    text: &str,
    default_namespace: Option<&str>,
) -> Result<(String, String, String), QueryError> {
    let parts: Vec<&str> = text.split('/').collect();
    let (namespace, kind, name) = match parts.as_slice() {
        [kind, name] => (
            default_namespace
                .ok_or(QueryError::WorkloadNeedsNamespace)?
                .to_string(),
            *kind,
            *name,
        ),
        [namespace, kind, name] => (namespace.to_string(), *kind, *name),
        _ => return Err(QueryError::BadWorkload(text.to_string())),
    };
    if kind.is_empty() || name.is_empty() || namespace.is_empty() {
        return Err(QueryError::BadWorkload(text.to_string()));
    }
    let kind =
        index::canonical_kind(kind).ok_or_else(|| QueryError::UnknownKind(kind.to_string()))?;
    Ok((namespace, kind.to_string(), name.to_string()))
}

pub fn query(
    snapshot: &Snapshot,
    adapted: &AdapterOutput,
    request: &QueryRequest,
) -> Result<QueryResult, QueryError> {
    let index = Index::new(snapshot, &adapted.constraints);
    let scope_namespace = match &request.scope {
        NamespaceScope::One(namespace) => Some(namespace.as_str()),
        NamespaceScope::All => None,
    };
    let mut collector = Collector::default();
    let mut workload_label = None;
    if let Some(text) = &request.workload {
        let (namespace, kind, name) = parse_workload(text, scope_namespace)?;
        let workload =
            index::find_workload(snapshot, &namespace, &kind, &name).ok_or_else(|| {
                QueryError::WorkloadNotFound {
                    kind: kind.clone(),
                    name: name.clone(),
                    namespace: namespace.clone(),
                }
            })?;
        workload_label = Some(format!("{}/{}/{}", namespace, workload.kind, workload.name));
        collector.add(&workload.namespace, index.for_workload(&workload), None);
    } else if let Some((_, selector)) = &request.selector {
        for workload in index::workloads_matching(snapshot, scope_namespace, selector) {
            let prefix = format!("{}: ", workload.display_name());
            collector.add(
                &workload.namespace,
                index.for_workload(&workload),
                Some(&prefix),
            );
        }
    } else {
        let namespaces = match scope_namespace {
            Some(namespace) => vec![namespace.to_string()],
            None => snapshot.namespace_names(),
        };
        for namespace in namespaces {
            collector.add(&namespace, index.for_namespace(&namespace), None);
        }
    }
    let mut entries: Vec<QueryEntry> = collector
        .entries
        .into_iter()
        .filter(|entry| {
            request
                .types
                .as_ref()
                .is_none_or(|types| types.contains(&entry.constraint.constraint_type))
                && request
                    .severities
                    .as_ref()
                    .is_none_or(|severities| severities.contains(&entry.constraint.severity))
        })
        .collect();
    entries.sort_by(|left, right| {
        (left.constraint.severity, &left.constraint.id)
            .cmp(&(right.constraint.severity, &right.constraint.id))
    });
    Ok(QueryResult {
        api_version: API_VERSION,
        kind: "QueryResult",
        incomplete: snapshot.is_incomplete(),
        gaps: snapshot.gaps.clone(),
        scope: QueryScope {
            namespace: scope_namespace.map(str::to_string),
            all_namespaces: scope_namespace.is_none(),
            workload: workload_label,
            selector: request.selector.as_ref().map(|(text, _)| text.clone()),
        },
        constraints: entries,
        diagnostics: adapted.diagnostics.clone(),
    })
}

/// Merges matches per constraint: namespaces and reasons accumulate, without repeats.
#[derive(Default)]
struct Collector {
    entries: Vec<QueryEntry>,
    positions: HashMap<String, usize>,
    seen_reasons: Vec<HashSet<String>>,
    seen_namespaces: Vec<HashSet<String>>,
}

impl Collector {
    fn add(&mut self, namespace: &str, matches: Vec<Match<'_>>, prefix: Option<&str>) {
        for found in matches {
            let position = match self.positions.get(&found.constraint.id) {
                Some(position) => *position,
                None => {
                    self.positions
                        .insert(found.constraint.id.clone(), self.entries.len());
                    self.entries.push(QueryEntry {
                        constraint: found.constraint.clone(),
                        namespaces: Vec::new(),
                        matched_because: Vec::new(),
                    });
                    self.seen_reasons.push(HashSet::new());
                    self.seen_namespaces.push(HashSet::new());
                    self.entries.len() - 1
                }
            };
            let entry = &mut self.entries[position];
            if self.seen_namespaces[position].insert(namespace.to_string()) {
                entry.namespaces.push(namespace.to_string());
            }
            let seen = &mut self.seen_reasons[position];
            let reason = match prefix {
                Some(prefix) => format!("{prefix}{}", found.reasons.join("; ")),
                None => found.reasons.join("; "),
            };
            if seen.insert(reason.clone()) {
                entry.matched_because.push(reason);
            }
        }
    }
}
