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

/// The workload kinds (`group`, `kind`) that [`KindsRead::AllButWorkloads`] leaves unread.
const WORKLOAD_KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];

impl KindsRead {
    /// Whether objects of this group/kind are kept whole.
    pub fn reads(self, group: &str, kind: &str) -> bool {
        match self {
            KindsRead::Every => true,
            KindsRead::AllButWorkloads => {
                !WORKLOAD_KINDS
                    .iter()
                    .any(|(workload_group, workload_kind)| {
                        *workload_group == group && *workload_kind == kind
                    })
            }
        }
    }
}
