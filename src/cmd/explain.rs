//! `explain "<error text>"`: which constraint caused this error, with confidence. Reads the text
//! (argument, `-` for stdin, or `--file`), loads the Snapshot, runs the explain engine, renders.

use std::io::Read as _;

use anyhow::{Context as _, bail};

use super::CommandOutput;
use crate::cli::{ExplainArgs, GlobalOptions, OutputFormat};
use crate::engine::explain::{self, ExplainRequest};
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
    let scope = global.namespace_scope().await?;
    let namespace = match &scope {
        NamespaceScope::One(namespace) => namespace.clone(),
        NamespaceScope::All => "default".to_string(),
    };
    // With one namespace in scope it is the user's own (`-n`, else the context's or `default`):
    // the kubeconfig is read for it again only with `-A`.
    let own_namespace = match &scope {
        NamespaceScope::One(namespace) => namespace.clone(),
        NamespaceScope::All => global.own_namespace().await,
    };
    // Network errors cross namespaces: every namespace's policies and labels matter.
    let read_scope = if explain::crosses_namespaces(&text) {
        NamespaceScope::All
    } else {
        scope
    };
    let snapshot = super::load_snapshot(global, &read_scope).await?;
    let adapted = super::adapt(&snapshot);
    let request = ExplainRequest {
        namespace,
        workload: args.workload.clone(),
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
