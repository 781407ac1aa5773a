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
