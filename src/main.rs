//! The `kubectl-potoo` binary: parse arguments, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use potoo::Exit;
use potoo::cli::Cli;

/// mimalloc instead of glibc malloc: reading a big dump allocates on every core, where glibc's
/// arenas spend as long in the kernel (heap growth, page faults) as in potoo (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(Exit::Failure.code());
        }
    };
    match runtime.block_on(potoo::run(cli)) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(Exit::Failure.code())
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io_error| io_error.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `-v` shows potoo's info logs, `-vv` debug logs including kube's requests; RUST_LOG overrides.
fn init_logging(verbose: u8) {
    let default = match verbose {
        // kube logs every 5xx (a broken aggregated API) at error level; potoo reports those as gaps.
        0 => "error,kube_client=off",
        1 => "potoo=info,kube_client=error,warn",
        _ => "potoo=debug,kube=debug,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
