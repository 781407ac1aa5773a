//! `reach`: is traffic from SOURCE to DESTINATION allowed, and which policy decides each side;
//! `reach --all`: every allowed connection of the workloads in scope.

use anyhow::{anyhow, bail};

use super::CommandOutput;
use crate::cli::{GlobalOptions, OutputFormat, ReachArgs};
use crate::engine::network::connlist::connectivity;
use crate::engine::network::endpoints::{parse_destination, parse_peer};
use crate::engine::network::verdict::Verdict;
use crate::engine::network::{NetworkModel, ReachOptions};
use crate::render;
use crate::source::NamespaceScope;

pub async fn run(global: &GlobalOptions, args: &ReachArgs) -> anyhow::Result<CommandOutput> {
    let scope = global.namespace_scope().await?;
    if args.all {
        return run_all(global, &scope).await;
    }
    let (Some(source), Some(destination)) = (args.source.as_deref(), args.destination.as_deref())
    else {
        bail!("`reach` needs SOURCE and DESTINATION, or --all");
    };
    // Bad input fails before any cluster read.
    parse_peer(source).map_err(|problem| anyhow!("invalid source `{source}`: {problem}"))?;
    parse_destination(destination)
        .map_err(|problem| anyhow!("invalid destination `{destination}`: {problem}"))?;
    let default_namespace = match &scope {
        NamespaceScope::One(namespace) => namespace.clone(),
        NamespaceScope::All => "default".to_string(),
    };
    // Traffic crosses namespaces: policies and namespace labels of every namespace matter.
    let snapshot = super::load_snapshot(global, &NamespaceScope::All).await?;
    let adapted = super::adapt(&snapshot);
    let model = NetworkModel::new(&snapshot, &adapted.constraints, ReachOptions::default());
    let result = model.reach(source, destination, &default_namespace)?;
    let stdout = match global.output {
        OutputFormat::Json => render::json::render(&result)?,
        OutputFormat::Yaml => render::yaml::render(&result)?,
        OutputFormat::Connlist => render::connlist::reach(&result),
        OutputFormat::Junit | OutputFormat::Sarif | OutputFormat::Markdown => {
            return Err(super::unsupported_output("reach", global.output));
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render::reach::result(&result, global.render_options())
        }
    };
    Ok(CommandOutput {
        stdout,
        stderr: super::notes(global, &snapshot, &adapted),
        findings: result.verdict == Verdict::Denied,
    })
}

async fn run_all(global: &GlobalOptions, scope: &NamespaceScope) -> anyhow::Result<CommandOutput> {
    let snapshot = super::load_snapshot(global, &NamespaceScope::All).await?;
    let adapted = super::adapt(&snapshot);
    let model = NetworkModel::new(&snapshot, &adapted.constraints, ReachOptions::default());
    let namespace = match scope {
        NamespaceScope::One(namespace) => Some(namespace.as_str()),
        NamespaceScope::All => None,
    };
    let list = connectivity(&model, namespace);
    let stdout = match global.output {
        OutputFormat::Json => render::json::render(&list)?,
        OutputFormat::Yaml => render::yaml::render(&list)?,
        OutputFormat::Connlist => render::connlist::render(&list),
        OutputFormat::Junit | OutputFormat::Sarif | OutputFormat::Markdown => {
            return Err(super::unsupported_output("reach", global.output));
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render::reach::connectivity(&list, global.render_options())
        }
    };
    let mut stderr = super::notes(global, &snapshot, &adapted);
    if global.verbose > 0 {
        stderr.extend(list.notes.iter().map(|note| format!("note: {note}")));
    }
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: false,
    })
}
