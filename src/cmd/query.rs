//! `query`: which constraints affect this namespace or workload, and why.

use anyhow::bail;

use super::CommandOutput;
use crate::cli::{GlobalOptions, QueryArgs};
use crate::engine::query::{QueryRequest, query};
use crate::model::selector::parse_selector;
use crate::model::{ConstraintType, Severity};
use crate::render;

pub async fn run(global: &GlobalOptions, args: &QueryArgs) -> anyhow::Result<CommandOutput> {
    let request = request(global, args).await?;
    // Without `--workload` or `-l` the answer is per namespace: workloads are never looked into.
    let kinds_read = if request.workload.is_none() && request.selector.is_none() {
        crate::source::KindsRead::AllButWorkloads
    } else {
        crate::source::KindsRead::Every
    };
    let snapshot = super::load_snapshot_keeping(global, &request.scope, kinds_read).await?;
    let adapted = super::adapt(&snapshot);
    let stderr = super::notes(global, &snapshot, &adapted);
    let mut result = query(&snapshot, adapted, &request)?;
    let own_namespace = match &request.scope {
        crate::source::NamespaceScope::One(namespace) => namespace.clone(),
        crate::source::NamespaceScope::All => global.own_namespace().await,
    };
    crate::privacy::redact_query(&mut result, global.detail, &own_namespace);
    let stdout = super::render_result("query", global, &result, render::table::query)?;
    super::release_at_exit(snapshot, Default::default());
    // The answer is printed: its memory goes back with the process, not entry by entry.
    std::mem::forget(result);
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: false,
    })
}

/// Validates the flags into a request before any cluster read.
async fn request(global: &GlobalOptions, args: &QueryArgs) -> anyhow::Result<QueryRequest> {
    let mut types = Vec::new();
    for text in &args.types {
        match ConstraintType::parse_filter(text) {
            Some(parsed) => types.extend(parsed),
            None => bail!(
                "unknown --type `{text}`: use NetworkIngress, NetworkEgress, Admission, ResourceLimit, MeshPolicy, MissingResource, Unknown, network, ingress, egress, quota or mesh"
            ),
        }
    }
    let mut severities = Vec::new();
    for text in &args.severity {
        match Severity::parse(text) {
            Some(severity) => severities.push(severity),
            None => bail!("unknown --severity `{text}`: use critical, warning or info"),
        }
    }
    let selector = match &args.selector {
        Some(text) => Some((
            text.clone(),
            parse_selector(text)
                .map_err(|error| anyhow::anyhow!("invalid -l selector: {error}"))?,
        )),
        None => None,
    };
    Ok(QueryRequest {
        scope: workload_scope(global, args.workload.as_deref()).await?,
        workload: args.workload.clone(),
        selector,
        types: (!types.is_empty()).then_some(types),
        severities: (!severities.is_empty()).then_some(severities),
    })
}

/// `--workload NAMESPACE/KIND/NAME` names its namespace; it wins over the default namespace
/// (an explicit `-n` that differs is left to the engine, which reports the workload missing).
async fn workload_scope(
    global: &GlobalOptions,
    workload: Option<&str>,
) -> anyhow::Result<crate::source::NamespaceScope> {
    let named_namespace = workload
        .map(|text| text.split('/').collect::<Vec<_>>())
        .filter(|parts| parts.len() == 3)
        .map(|parts| parts[0].to_string());
    match named_namespace {
        Some(namespace) if !global.all_namespaces && global.namespace.is_none() => {
            Ok(crate::source::NamespaceScope::One(namespace))
        }
        _ => global.namespace_scope().await,
    }
}
