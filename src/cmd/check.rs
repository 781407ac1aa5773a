//! `check -f`: would these manifests be admitted; what blocks or warns, by which rule, at which field.

use anyhow::bail;

use super::CommandOutput;
use crate::cli::{CheckArgs, GlobalOptions};

pub async fn run(global: &GlobalOptions, args: &CheckArgs) -> anyhow::Result<CommandOutput> {
    let _ = (global, args);
    bail!("`check` is not available yet")
}
