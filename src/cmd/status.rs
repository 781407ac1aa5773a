//! `status`: engines and kinds present, counts by type/severity/namespace, what is unreadable.

use super::CommandOutput;
use crate::cli::{GlobalOptions, OutputFormat};
use crate::engine::status::status;
use crate::render;

pub async fn run(global: &GlobalOptions) -> anyhow::Result<CommandOutput> {
    let scope = global.namespace_scope().await?;
    let snapshot = super::load_snapshot(global, &scope).await?;
    let adapted = super::adapt(&snapshot);
    let result = status(&snapshot, &adapted);
    let stdout = match global.output {
        OutputFormat::Json => render::json::render(&result)?,
        OutputFormat::Yaml => render::yaml::render(&result)?,
        OutputFormat::Connlist
        | OutputFormat::Junit
        | OutputFormat::Sarif
        | OutputFormat::Markdown => {
            return Err(super::unsupported_output("status", global.output));
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render::table::status(&result, global.render_options())
        }
    };
    let stderr = super::notes(global, &snapshot, &adapted);
    super::release_at_exit(snapshot, adapted);
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: false,
    })
}
