//! Subcommand glue: build the Source, call an engine, render. Shared helpers live here.

pub mod check;
pub mod completion;
pub mod explain;
pub mod query;
pub mod reach;
pub mod remediate;
pub mod snapshot;
pub mod status;
pub mod test;

use std::io::IsTerminal;

use anyhow::Context as _;

use crate::adapters::{AdapterOutput, Registry};
use crate::cli::{GlobalOptions, OutputFormat};
use crate::render::RenderOptions;
use crate::source::live::{self, LiveOptions};
use crate::source::{KindsRead, NamespaceScope, Snapshot, files};

/// What a command printed and how it ended.
#[derive(Debug, Default)]
pub struct CommandOutput {
    pub stdout: String,
    /// Notes for stderr (gaps in table output, diagnostics with -v).
    pub stderr: Vec<String>,
    /// Exit 1: findings at or above the failure threshold.
    pub findings: bool,
}

impl GlobalOptions {
    pub fn live_options(&self) -> LiveOptions {
        LiveOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            impersonate_user: self.impersonate_user.clone(),
            impersonate_groups: self.impersonate_groups.clone(),
            request_timeout: self.request_timeout.filter(|timeout| !timeout.is_zero()),
            progress: std::io::stderr().is_terminal(),
            kinds_read: KindsRead::Every,
        }
    }

    pub fn is_offline(&self) -> bool {
        !self.from.is_empty()
    }

    /// `-A`, `-n`, else the context's namespace (live) or `default` (offline).
    pub async fn namespace_scope(&self) -> anyhow::Result<NamespaceScope> {
        if self.all_namespaces {
            return Ok(NamespaceScope::All);
        }
        if let Some(namespace) = &self.namespace {
            return Ok(NamespaceScope::One(namespace.clone()));
        }
        if self.is_offline() {
            return Ok(NamespaceScope::One("default".to_string()));
        }
        Ok(NamespaceScope::One(
            live::context_namespace(&self.live_options()).await?,
        ))
    }

    /// The user's own namespace for `--detail`: `-n`, else the context's (live) or `default`.
    pub async fn own_namespace(&self) -> String {
        if let Some(namespace) = &self.namespace {
            return namespace.clone();
        }
        if self.is_offline() {
            return "default".to_string();
        }
        live::context_namespace(&self.live_options())
            .await
            .unwrap_or_else(|_| "default".to_string())
    }

    pub fn render_options(&self) -> RenderOptions {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        RenderOptions {
            color: !self.no_color && !no_color_env && std::io::stdout().is_terminal(),
            wide: self.output == OutputFormat::Wide,
        }
    }
}

/// Reads the Snapshot from `--from` files or the live cluster.
pub async fn load_snapshot(
    global: &GlobalOptions,
    scope: &NamespaceScope,
) -> anyhow::Result<Snapshot> {
    load_snapshot_keeping(global, scope, KindsRead::Every).await
}

/// [`load_snapshot`] for a command that reads only `kinds_read`: offline, the other kinds in
/// `List` dumps are counted but not kept; live, they are listed metadata-only.
pub async fn load_snapshot_keeping(
    global: &GlobalOptions,
    scope: &NamespaceScope,
    kinds_read: KindsRead,
) -> anyhow::Result<Snapshot> {
    if global.is_offline() {
        let paths = global.from.clone();
        let namespace = match scope {
            NamespaceScope::One(namespace) => Some(namespace.clone()),
            NamespaceScope::All => None,
        };
        let mut snapshot = tokio::task::spawn_blocking(move || {
            files::read_paths_in(
                &paths,
                &mut std::io::stdin().lock(),
                kinds_read,
                namespace.as_deref(),
            )
        })
        .await
        .context("the file reader stopped unexpectedly")??;
        // Like a live read with `-n`, only that namespace's objects are seen.
        if let NamespaceScope::One(namespace) = scope {
            snapshot.retain_namespace(namespace);
        }
        return Ok(snapshot);
    }
    let options = LiveOptions {
        kinds_read,
        ..global.live_options()
    };
    Ok(live::read(&options, scope).await?)
}

/// Runs every adapter.
pub fn adapt(snapshot: &Snapshot) -> AdapterOutput {
    Registry::default().adapt(snapshot)
}

/// Stderr notes every command adds: gaps (table output only; JSON/YAML carry them), diagnostics with -v.
pub fn notes(global: &GlobalOptions, snapshot: &Snapshot, adapted: &AdapterOutput) -> Vec<String> {
    let mut notes = Vec::new();
    let structured = matches!(global.output, OutputFormat::Json | OutputFormat::Yaml);
    if snapshot.is_incomplete() && !structured {
        notes.push(format!(
            "warning: the answer is incomplete: {} kind(s) could not be read",
            snapshot.gaps.len()
        ));
        for gap in &snapshot.gaps {
            notes.push(format!("  {}", gap.describe()));
        }
    }
    if global.verbose > 0 {
        for diagnostic in &adapted.diagnostics {
            notes.push(format!(
                "diagnostic: {} ({}): {}",
                diagnostic.object, diagnostic.adapter, diagnostic.message
            ));
        }
    }
    notes
}

/// The error for an `-o` format a command does not produce.
pub fn unsupported_output(command: &str, format: OutputFormat) -> anyhow::Error {
    let name = clap::ValueEnum::to_possible_value(&format)
        .map(|value| value.get_name().to_string())
        .unwrap_or_default();
    anyhow::anyhow!("`{command}` cannot write `-o {name}`")
}

/// Writes a command's result as `-o json`, `-o yaml`, or its table (`table`/`wide`); every other
/// format is refused with [`unsupported_output`].
pub fn render_result<T: serde::Serialize>(
    command: &str,
    global: &GlobalOptions,
    result: &T,
    table: impl FnOnce(&T, RenderOptions) -> String,
) -> anyhow::Result<String> {
    match global.output {
        OutputFormat::Json => crate::render::json::render(result),
        OutputFormat::Yaml => crate::render::yaml::render(result),
        OutputFormat::Table | OutputFormat::Wide => Ok(table(result, global.render_options())),
        OutputFormat::Connlist
        | OutputFormat::Junit
        | OutputFormat::Sarif
        | OutputFormat::Markdown => Err(unsupported_output(command, global.output)),
    }
}

/// Ends a command's use of the cluster state without freeing it: the process exits right after
/// printing, and freeing 100,000 objects one by one costs a sixth of a large run.
pub fn release_at_exit(snapshot: Snapshot, adapted: AdapterOutput) {
    std::mem::forget(snapshot);
    std::mem::forget(adapted);
}

/// Why `--workload` names nothing in the Snapshot. Callers branch: `explain` takes a workload of
/// an unread kind on trust, `remediate` needs the workload itself.
#[derive(Debug, thiserror::Error)]
pub enum MissingWorkload {
    #[error("workload `{kind}/{name}` not found in namespace `{namespace}`")]
    Absent {
        kind: String,
        name: String,
        namespace: String,
    },
    #[error("workload `{kind}/{name}` in namespace `{namespace}` cannot be looked up: {gap}")]
    Unread {
        kind: String,
        name: String,
        namespace: String,
        gap: String,
    },
}

/// The workload `--workload` names, found in the Snapshot; when it is not there, whether potoo
/// could not read that kind there (a gap) or the workload does not exist.
pub fn named_workload(
    snapshot: &Snapshot,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<crate::index::Workload, MissingWorkload> {
    if let Some(workload) = crate::index::find_workload(snapshot, namespace, kind, name) {
        return Ok(workload);
    }
    let unread = snapshot.gaps.iter().find(|gap| {
        gap.kind == kind
            && gap
                .namespace
                .as_deref()
                .is_none_or(|gap_namespace| gap_namespace == namespace)
    });
    let (kind, name, namespace) = (kind.to_string(), name.to_string(), namespace.to_string());
    Err(match unread {
        Some(gap) => MissingWorkload::Unread {
            kind,
            name,
            namespace,
            gap: gap.describe(),
        },
        None => MissingWorkload::Absent {
            kind,
            name,
            namespace,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Gap, GapReason};

    #[test]
    fn a_workload_of_an_unread_kind_is_not_called_missing() {
        let mut snapshot = Snapshot::default();
        let missing = named_workload(&snapshot, "shop", "Deployment", "web")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(
            missing,
            "workload `Deployment/web` not found in namespace `shop`"
        );
        snapshot.add_gap(Gap {
            resource: "apps/v1/deployments".to_string(),
            kind: "Deployment".to_string(),
            namespace: Some("shop".to_string()),
            reason: GapReason::Forbidden,
            message: "deployments.apps is forbidden".to_string(),
        });
        let unread = named_workload(&snapshot, "shop", "Deployment", "web")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            unread.starts_with(
                "workload `Deployment/web` in namespace `shop` cannot be looked up: cannot read Deployments in namespace `shop` (forbidden)"
            ),
            "{unread}"
        );
    }
}
