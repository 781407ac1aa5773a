//! `explain "<error text>"`: which constraint caused this error, with confidence. Reads the text
//! (argument, `-` for stdin, or `--file`), loads the Snapshot, runs the explain engine, renders.

use std::io::Read as _;

use anyhow::{Context as _, bail};

use super::CommandOutput;
use crate::cli::{ExplainArgs, GlobalOptions, OutputFormat};
use crate::engine::explain::{self, ExplainRequest};
use crate::engine::network::endpoints::{PeerQuery, parse_peer};
use crate::engine::query::parse_workload;
use crate::privacy;
use crate::render;
use crate::source::NamespaceScope;

pub async fn run(global: &GlobalOptions, args: &ExplainArgs) -> anyhow::Result<CommandOutput> {
    let text = read_text(args)?;
    if text.trim().is_empty() {
        bail!("`explain` needs the error text: as an argument, `-` for stdin, or --file");
    }
    if matches!(
        global.output,
        OutputFormat::Connlist | OutputFormat::Junit | OutputFormat::Sarif | OutputFormat::Markdown
    ) {
        return Err(super::unsupported_output("explain", global.output));
    }
    let mut scope = global.namespace_scope().await?;
    // The namespace the error was seen in: `-n`, the context's, or (with `-A`) the user's own.
    let mut namespace = match &scope {
        NamespaceScope::One(namespace) => namespace.clone(),
        NamespaceScope::All => global.own_namespace().await,
    };
    let client = match &args.workload {
        Some(text) => Some(client(text, &namespace)?),
        None => None,
    };
    // `--workload NAMESPACE/KIND/NAME` says where the error was seen, unless `-n` says otherwise.
    if let Some(Client::Workload(workload_namespace, _, _)) = &client
        && *workload_namespace != namespace
    {
        if let Some(given) = &global.namespace {
            bail!(
                "`--workload {}` names namespace `{workload_namespace}` but `-n` is `{given}`",
                args.workload.as_deref().unwrap_or_default()
            );
        }
        namespace = workload_namespace.clone();
        if let NamespaceScope::One(_) = scope {
            scope = NamespaceScope::One(namespace.clone());
        }
    }
    // The user's own namespace for `--detail`: the one the error was seen in.
    let own_namespace = namespace.clone();
    // Network errors cross namespaces: every namespace's policies and labels matter.
    let read_scope = if explain::crosses_namespaces(&text) {
        NamespaceScope::All
    } else {
        scope
    };
    let snapshot = super::load_snapshot(global, &read_scope).await?;
    // A workload that is not there is a mistake worth saying; one of a kind potoo could not read
    // (the gap is in the answer) is taken on trust.
    if let Some(Client::Workload(workload_namespace, kind, name)) = &client
        && let Err(missing @ super::MissingWorkload::Absent { .. }) =
            super::named_workload(&snapshot, workload_namespace, kind, name)
    {
        return Err(missing.into());
    }
    let adapted = super::adapt(&snapshot);
    let request = ExplainRequest {
        namespace,
        workload: client.map(|client| match client {
            Client::Workload(namespace, kind, name) => format!("{namespace}/{kind}/{name}"),
            Client::Peer(text) => text,
        }),
    };
    let mut explanation = explain::explain(&text, &snapshot, &adapted.constraints, &request);
    privacy::redact_explanation(
        &mut explanation,
        &adapted.constraints,
        global.detail,
        &own_namespace,
    );
    let stdout = super::render_result("explain", global, &explanation, render::explain::render)?;
    let stderr = super::notes(global, &snapshot, &adapted);
    Ok(CommandOutput {
        stdout,
        stderr,
        // Exit 1: nothing in the text could be recognized as an error.
        findings: !explanation.recognized(),
    })
}

/// What `--workload` names.
enum Client {
    /// A workload potoo indexes: namespace, kind, name.
    Workload(String, String, String),
    /// Another client the reach engine knows (a Service, ReplicationController, an IP), passed
    /// to it as written.
    Peer(String),
}

fn client(text: &str, namespace: &str) -> anyhow::Result<Client> {
    match parse_workload(text, Some(namespace)) {
        Ok((namespace, kind, name)) => Ok(Client::Workload(namespace, kind, name)),
        Err(error) => match parse_peer(text) {
            Ok(PeerQuery::Object { .. } | PeerQuery::Address(_)) => {
                Ok(Client::Peer(text.to_string()))
            }
            _ => Err(error.into()),
        },
    }
}

fn read_text(args: &ExplainArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.file {
        return std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()));
    }
    if args.text.len() == 1 && args.text[0] == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the error text from stdin")?;
        return Ok(text);
    }
    Ok(args.text.join(" "))
}
