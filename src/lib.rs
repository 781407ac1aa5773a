//! potoo: every constraint acting on a Kubernetes workload, and why. `run` dispatches to `cmd/*`.

pub mod adapters;
pub mod cli;
pub mod cmd;
pub mod engine;
pub mod index;
pub mod model;
pub mod parallel;
pub mod privacy;
pub mod remediation;
pub mod render;
pub mod source;

use std::io::Write;

use cli::{Cli, Command};

/// How a run ended, as an exit code (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, nothing at or above the failure threshold.
    Success,
    /// 1: findings.
    Findings,
    /// 2: potoo could not do its job.
    Failure,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Findings => 1,
            Exit::Failure => 2,
        }
    }
}

/// Runs one command and writes its output. A closed stdout (`| head`) is not an error.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    let output = match &cli.command {
        Command::Query(args) => cmd::query::run(&cli.global, args).await?,
        Command::Status => cmd::status::run(&cli.global).await?,
        Command::Explain(args) => cmd::explain::run(&cli.global, args).await?,
        Command::Check(args) => cmd::check::run(&cli.global, args).await?,
        Command::Reach(args) => cmd::reach::run(&cli.global, args).await?,
        Command::Remediate(args) => cmd::remediate::run(&cli.global, args).await?,
        Command::Test(args) => cmd::test::run(&cli.global, &args.path).await?,
        Command::Snapshot => cmd::snapshot::run(&cli.global).await?,
        Command::Completion { shell } => cmd::completion::run(*shell)?,
    };
    let mut stderr = std::io::stderr().lock();
    for note in &output.stderr {
        let _ = writeln!(stderr, "{note}");
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.stdout.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
        Err(error) => return Err(error.into()),
    }
    Ok(if output.findings {
        Exit::Findings
    } else {
        Exit::Success
    })
}
