//! Sources of cluster state: the live cluster (kube-rs) or files (`--from`); both yield a Snapshot.

pub mod catalog;
pub mod deferred;
pub mod dry_run;
pub mod files;
pub mod json_list;
pub mod live;
pub mod locate;
pub mod slim;
pub mod snapshot;

pub use snapshot::{Gap, GapReason, GroupKind, Object, Snapshot};

/// Which namespaces a command needs read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceScope {
    /// `-A`: every namespace.
    All,
    /// `-n NS` or the context's namespace.
    One(String),
}

/// Which kinds a command reads in full. Objects of the other kinds in a `List` dump are only
/// checked, counted and their namespaces noted (see `files.rs`), and a live read lists them
/// metadata-only (see `live.rs`): `query` and `status` never look inside a Pod or a Deployment,
/// which are most of a big cluster's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KindsRead {
    /// Every object is kept whole.
    #[default]
    Every,
    /// Workload objects (Pods, ReplicaSets, Deployments, StatefulSets, DaemonSets, Jobs,
    /// CronJobs) are not kept; everything else is.
    AllButWorkloads,
}

/// The workload kinds potoo indexes (`group`, `kind`, and where their pods' labels are): the
/// Index matches selectors against them, and [`KindsRead::AllButWorkloads`] leaves them unread.
pub const WORKLOAD_KINDS: &[(&str, &str, &str)] = &[
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

impl KindsRead {
    /// Whether objects of this group/kind are kept whole.
    pub fn reads(self, group: &str, kind: &str) -> bool {
        match self {
            KindsRead::Every => true,
            KindsRead::AllButWorkloads => {
                !WORKLOAD_KINDS
                    .iter()
                    .any(|(workload_group, workload_kind, _)| {
                        *workload_group == group && *workload_kind == kind
                    })
            }
        }
    }
}
