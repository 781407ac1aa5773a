//! `reach`: is traffic from SOURCE to DESTINATION allowed, and which policy decides each side.

use anyhow::bail;

use super::CommandOutput;
use crate::cli::{GlobalOptions, ReachArgs};

pub async fn run(global: &GlobalOptions, args: &ReachArgs) -> anyhow::Result<CommandOutput> {
    let _ = (global, args);
    bail!("`reach` is not available yet")
}
