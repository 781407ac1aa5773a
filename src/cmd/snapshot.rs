//! `snapshot`: write what potoo read (objects without secret data, and gaps) for `--from` later.

use super::CommandOutput;
use crate::cli::{GlobalOptions, OutputFormat};
use crate::render;

pub async fn run(global: &GlobalOptions) -> anyhow::Result<CommandOutput> {
    let scope = global.namespace_scope().await?;
    let snapshot = super::load_snapshot(global, &scope).await?;
    let document = snapshot.document();
    let stdout = match global.output {
        OutputFormat::Yaml => render::yaml::render(&document)?,
        OutputFormat::Json | OutputFormat::Table | OutputFormat::Wide => {
            render::json::render(&document)?
        }
        OutputFormat::Connlist
        | OutputFormat::Junit
        | OutputFormat::Sarif
        | OutputFormat::Markdown => {
            return Err(super::unsupported_output("snapshot", global.output));
        }
    };
    let adapted = super::adapt(&snapshot);
    Ok(CommandOutput {
        stdout,
        stderr: super::notes(global, &snapshot, &adapted),
        findings: false,
    })
}
