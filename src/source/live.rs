//! The live source: reads the cluster with the user's kubeconfig through kube-rs.

use std::path::PathBuf;
use std::time::Duration;

use super::{NamespaceScope, Snapshot};

/// How to reach the cluster, from the kubectl-style global flags.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub impersonate_user: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub request_timeout: Option<Duration>,
    /// Show an indicatif progress bar on stderr (only honoured when stderr is a terminal).
    pub progress: bool,
}

/// Errors that stop a live read entirely (per-kind failures become gaps instead).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the cluster at `{server}`: {message}")]
    Unreachable { server: String, message: String },
    #[error("the cluster refused every read as `{user}`: {message}")]
    NoAccess { user: String, message: String },
}

/// The namespace the current context names, else `default`.
pub async fn context_namespace(options: &LiveOptions) -> Result<String, LiveError> {
    let _ = options;
    Ok("default".to_string())
}

/// Reads everything potoo needs in `scope` into a Snapshot.
pub async fn read(options: &LiveOptions, scope: &NamespaceScope) -> Result<Snapshot, LiveError> {
    let _ = (options, scope);
    Err(LiveError::Kubeconfig("the live source is not built yet".to_string()))
}
