//! The query engine: which constraints affect a namespace, a workload or labelled workloads, and why.

use std::collections::{HashMap, HashSet};

use crate::adapters::AdapterOutput;
use crate::index::{self, Index, Match};
use crate::model::report::{API_VERSION, QueryEntry, QueryResult, QueryScope};
use crate::model::{Constraint, ConstraintType, LabelSelector, Severity};
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

/// Answers `request`; the adapters' output is consumed (its constraints move into the answer).
pub fn query(
    snapshot: &Snapshot,
    adapted: AdapterOutput,
    request: &QueryRequest,
) -> Result<QueryResult, QueryError> {
    let AdapterOutput {
        constraints,
        diagnostics,
    } = adapted;
    let index = Index::new(snapshot, &constraints);
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
        let matches = matches_per_namespace(&index, &namespaces);
        for (namespace, found) in namespaces.iter().zip(matches) {
            collector.add(namespace, found, None);
        }
    }
    let mut collected: Vec<Collected<'_>> = collector
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
    collected.sort_unstable_by(|left, right| {
        (left.constraint.severity, &left.constraint.id)
            .cmp(&(right.constraint.severity, &right.constraint.id))
    });
    let found: Vec<(usize, Vec<String>, Vec<String>)> = collected
        .into_iter()
        .map(|entry| (entry.position, entry.namespaces.items, entry.reasons.items))
        .collect();
    drop(index);
    // Each constraint is found at most once: it moves into its entry instead of being copied.
    let mut slots: Vec<Option<Constraint>> = constraints.into_iter().map(Some).collect();
    let entries: Vec<QueryEntry> = found
        .into_iter()
        .filter_map(|(position, namespaces, matched_because)| {
            Some(QueryEntry {
                constraint: slots.get_mut(position)?.take()?,
                namespaces,
                matched_because,
            })
        })
        .collect();
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
        diagnostics,
    })
}

/// Namespaces per thread below which matching stays on one thread.
const NAMESPACES_PER_WORKER: usize = 256;

/// `index.for_namespace` for every namespace, in order; many namespaces are matched on every core.
fn matches_per_namespace<'a>(index: &Index<'a>, namespaces: &[String]) -> Vec<Vec<Match<'a>>> {
    crate::parallel::map_chunks(namespaces, NAMESPACES_PER_WORKER, |chunk| {
        chunk
            .iter()
            .map(|namespace| index.for_namespace(namespace))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Merges matches per constraint: namespaces and reasons accumulate in first-seen order,
/// without repeats.
#[derive(Default)]
struct Collector<'a> {
    entries: Vec<Collected<'a>>,
    positions: HashMap<&'a str, usize>,
}

/// One constraint's namespaces and reasons so far.
struct Collected<'a> {
    constraint: &'a Constraint,
    position: usize,
    namespaces: OrderedSet,
    reasons: OrderedSet,
}

impl<'a> Collector<'a> {
    fn add(&mut self, namespace: &str, matches: Vec<Match<'a>>, prefix: Option<&str>) {
        for found in matches {
            let position = *self
                .positions
                .entry(found.constraint.id.as_str())
                .or_insert_with(|| {
                    self.entries.push(Collected {
                        constraint: found.constraint,
                        position: found.position,
                        namespaces: OrderedSet::default(),
                        reasons: OrderedSet::default(),
                    });
                    self.entries.len() - 1
                });
            let entry = &mut self.entries[position];
            if entry
                .namespaces
                .items
                .last()
                .is_none_or(|last| last != namespace)
            {
                entry.namespaces.insert(namespace.to_string());
            }
            let reason = match prefix {
                Some(prefix) => format!("{prefix}{}", found.reasons.join("; ")),
                None => found.reasons.join("; "),
            };
            entry.reasons.insert(reason);
        }
    }
}

/// Strings in first-seen order without repeats; hashed only once there are many of them.
#[derive(Default)]
struct OrderedSet {
    items: Vec<String>,
    hashed: Option<HashSet<String>>,
}

/// Items up to which an [`OrderedSet`] is searched instead of hashed.
const ORDERED_SET_SCAN_LIMIT: usize = 16;

impl OrderedSet {
    fn insert(&mut self, item: String) {
        match &mut self.hashed {
            Some(hashed) => {
                if hashed.insert(item.clone()) {
                    self.items.push(item);
                }
            }
            None => {
                if self.items.contains(&item) {
                    return;
                }
                self.items.push(item);
                if self.items.len() > ORDERED_SET_SCAN_LIMIT {
                    self.hashed = Some(self.items.iter().cloned().collect());
                }
            }
        }
    }
}
