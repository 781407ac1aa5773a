//! `status`: engines and kinds present, counts by type/severity/namespace, what is unreadable.

use super::CommandOutput;
use crate::cli::GlobalOptions;
use crate::engine::status::status;
use crate::render;

pub async fn run(global: &GlobalOptions) -> anyhow::Result<CommandOutput> {
    let scope = global.namespace_scope().await?;
    // Status counts constraints and policy kinds: workloads are counted, never looked into.
    let snapshot =
        super::load_snapshot_keeping(global, &scope, crate::source::KindsRead::AllButWorkloads)
            .await?;
    let adapted = super::adapt(&snapshot);
    let result = status(&snapshot, &adapted);
    let stdout = super::render_result("status", global, &result, render::table::status)?;
    let stderr = super::notes(global, &snapshot, &adapted);
    super::release_at_exit(snapshot, adapted);
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: false,
    })
}
