//! `completion SHELL`: the clap-generated completion script, written without panicking on EPIPE.

use clap::CommandFactory;

use super::CommandOutput;
use crate::cli::Cli;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<CommandOutput> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubectl-potoo", &mut script);
    Ok(CommandOutput {
        stdout: String::from_utf8(script)?,
        ..CommandOutput::default()
    })
}
