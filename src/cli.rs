//! Command-line definitions: the kubectl-style global flags (DESIGN §3) and the subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-potoo",
    bin_name = "kubectl potoo",
    version,
    about = "Every constraint acting on your Kubernetes workloads, and why",
    long_about = "Every constraint acting on your Kubernetes workloads, and why.\n\n\
        potoo reads the cluster with your own kubeconfig (or files with --from), normalizes \
        network policies, quotas, limit ranges, webhooks and policy-engine objects into \
        constraints, and tells you which apply to a namespace or workload and why.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, named as kubectl names them.
#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace (default: the context's namespace, else `default`; with --from: `default`)
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Every namespace
    #[arg(short = 'A', long, global = true, conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// User to impersonate
    #[arg(long = "as", global = true, value_name = "USER")]
    pub impersonate_user: Option<String>,

    /// Group to impersonate (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub impersonate_groups: Vec<String>,

    /// How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,

    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Never colour the output (also: the NO_COLOR environment variable)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)
    #[arg(long, global = true, value_name = "PATH")]
    pub from: Vec<PathBuf>,

    /// How much to show: `full`, `detailed` (no rule bodies or other namespaces' selectors),
    /// `summary` (also no names, ports or CIDRs from other namespaces)
    #[arg(long, global = true, value_enum, default_value_t = DetailLevel::Full)]
    pub detail: DetailLevel,

    /// More logging on stderr (-v: adapter diagnostics, -vv: requests)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
    /// np-guard netpol-analyzer's `src => dst : conns` lines (reach only)
    Connlist,
    /// JUnit XML for CI (check, test)
    Junit,
    /// SARIF 2.1.0 for code scanning (check)
    Sarif,
    /// A pull-request comment (check)
    Markdown,
}

/// The lowest verdict that makes `check` exit 1 (verdicts rank blocked > unknown > warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Something would be blocked (the default)
    Blocked,
    /// Something would be blocked, could not be evaluated, or would be admitted with warnings
    Warning,
    /// Something would be blocked or could not be evaluated
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DetailLevel {
    Full,
    Detailed,
    Summary,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which constraints affect this namespace or workload, and why each one matches
    Query(QueryArgs),
    /// Which policy engines and kinds exist, counts by type/severity/namespace, what is unreadable
    Status,
    /// Which constraint caused this error: paste an error (or a whole apply/describe output)
    Explain(ExplainArgs),
    /// Would these manifests be admitted; what blocks or warns, by which rule, at which field
    Check(CheckArgs),
    /// Is this traffic allowed; which policy and rule decides each side
    Reach(ReachArgs),
    /// What to do about one constraint: steps, commands, patches, whom to ask
    Remediate(RemediateArgs),
    /// Run policy test suites: Kyverno `kyverno-test.yaml` and Gatekeeper gator `Suite` files under PATH
    Test(TestArgs),
    /// Write the cluster state potoo reads (objects and gaps) as one document, for --from
    Snapshot,
    /// Print a shell completion script
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// Only constraints that apply to workloads whose pod labels match this selector
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Only constraints that apply to this workload: KIND/NAME or NAMESPACE/KIND/NAME
    #[arg(long, value_name = "KIND/NAME")]
    pub workload: Option<String>,

    /// Only these types: NetworkIngress, NetworkEgress, Admission, ResourceLimit, MeshPolicy,
    /// MissingResource, Unknown, or `network`, `ingress`, `egress`, `quota`, `mesh` (comma-separated)
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,

    /// Only these severities: critical, warning, info (comma-separated)
    #[arg(long, value_name = "SEVERITY", value_delimiter = ',')]
    pub severity: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RemediateArgs {
    /// A constraint id as `query` prints it, or the policy object: KIND/NAME, KIND/NAMESPACE/NAME
    /// or NAME (optionally with #RULE)
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Tailor commands and patches to this workload: KIND/NAME or NAMESPACE/KIND/NAME
    #[arg(long, value_name = "KIND/NAME")]
    pub workload: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// A suite file, or a directory searched recursively for suites
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Manifests to check: files, directories (recursive) or `-` for stdin (repeatable)
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE|DIR|-",
        required = true
    )]
    pub files: Vec<PathBuf>,

    /// Exit 1 when any object's verdict is at or above this (blocked > unknown > warning):
    /// `blocked` (default), `unknown` (also what potoo could not evaluate), `warning` (also warnings)
    #[arg(long, value_enum, value_name = "VERDICT", default_value_t = FailOn::Blocked)]
    pub fail_on: FailOn,

    /// Also send each object to the live apiserver as a dry run (dryRun=All; needs `create`
    /// permission) and report its answer beside potoo's; never with --from
    #[arg(long)]
    pub server_dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The error text (quote it), or `-` to read it from stdin
    #[arg(
        value_name = "ERROR_TEXT",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub text: Vec<String>,

    /// Read the error text from a file (a saved `kubectl apply` or `kubectl describe` output)
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The workload that saw the error (the client of a network error); remediations are tailored
    /// to it: KIND/NAME or NAMESPACE/KIND/NAME
    #[arg(long, value_name = "KIND/NAME")]
    pub workload: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReachArgs {
    /// The source: KIND/NAME, NAMESPACE/KIND/NAME, `ns:NAMESPACE`, an IP or a CIDR
    #[arg(value_name = "SOURCE", required_unless_present = "all")]
    pub source: Option<String>,

    /// The destination, optionally with `:PORT` or `:PORT/PROTO` (a named port is resolved on the destination)
    #[arg(value_name = "DESTINATION", required_unless_present = "all")]
    pub destination: Option<String>,

    /// Connectivity of every workload in scope (-n NS or -A)
    #[arg(long, conflicts_with_all = ["source", "destination"])]
    pub all: bool,
}

/// kubectl's `--request-timeout`: `0`, a number of seconds, or a number with `s`, `m`, `h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, multiplier) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60.0)
    } else if let Some(number) = text.strip_suffix('h') {
        (number, 3600.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{text}`: use e.g. `30s`, `1m` or `10`"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("invalid duration `{text}`: must not be negative"));
    }
    Ok(Duration::from_secs_f64(value * multiplier))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
