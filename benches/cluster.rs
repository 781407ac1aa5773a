//! Synthetic-cluster benchmark for `kubectl-potoo` (a bench command, not a timed test).
//!
//!     cargo bench --bench cluster                 # all sizes: small, medium, large
//!     cargo bench --bench cluster -- small medium # only these sizes
//!
//! 1. Generates three synthetic clusters into `target/bench-clusters/<size>/` as `kubectl get -o
//!    json`-style `v1 List` files, one per 100 namespaces plus `cluster.json` for the cluster-scoped
//!    objects, so the offline reader can parse them in parallel. Generation is deterministic (a
//!    fixed SplitMix64 PRNG) and skipped when the files of the same generator version exist.
//! 2. Runs the release binary on each size through `/usr/bin/time -f '%e %M %U %S'` (`query -A -o json`,
//!    `status`, `query -A -o table`; stdout to /dev/null), RUNS times each, and prints the median
//!    wall time and peak RSS as a Markdown table (also written to `target/bench-clusters/results.md`).
//!
//! Environment: `POTOO_BENCH_RUNS` (default 3), `POTOO_BENCH_REGENERATE=1` (rewrite the inputs),
//! `POTOO_BENCH_GENERATE_ONLY=1` (write the inputs, measure nothing).
//! See benches/README.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

mod common;
use common::{Sample, measure, potoo_binary, target_dir};

/// Bump when the generated content changes, so stale inputs are rewritten.
const GENERATOR_VERSION: u32 = 1;
/// Namespaces per generated file.
const NAMESPACES_PER_FILE: usize = 100;
/// Cluster-scoped webhook configurations per cluster.
const WEBHOOK_CONFIGURATIONS: usize = 20;
/// Marker written last: its presence (with the right content) means the inputs are complete.
const MARKER: &str = ".generated.json";

#[derive(Clone, Copy)]
struct Size {
    name: &'static str,
    namespaces: usize,
    network_policies: usize,
    pods: usize,
}

const SIZES: [Size; 3] = [
    Size {
        name: "small",
        namespaces: 200,
        network_policies: 2_000,
        pods: 10_000,
    },
    Size {
        name: "medium",
        namespaces: 1_000,
        network_policies: 10_000,
        pods: 50_000,
    },
    Size {
        name: "large",
        namespaces: 2_000,
        network_policies: 20_000,
        pods: 100_000,
    },
];

/// What potoo is asked, per size.
const COMMANDS: &[(&str, &[&str])] = &[
    ("query -A -o json", &["query", "-A", "-o", "json"]),
    ("status -A", &["status", "-A"]),
    ("query -A -o table", &["query", "-A", "-o", "table"]),
    (
        "reach --all -A -o connlist",
        &["reach", "--all", "-A", "-o", "connlist"],
    ),
];

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| !argument.starts_with('-'))
        .collect();
    let sizes: Vec<Size> = SIZES
        .iter()
        .copied()
        .filter(|size| filters.is_empty() || filters.iter().any(|filter| filter == size.name))
        .collect();
    if sizes.is_empty() {
        eprintln!("no size matches {filters:?}: use small, medium or large");
        std::process::exit(2);
    }
    let runs: usize = std::env::var("POTOO_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|runs| *runs > 0)
        .unwrap_or(3);
    let regenerate = std::env::var_os("POTOO_BENCH_REGENERATE").is_some_and(|value| value == "1");
    let generate_only =
        std::env::var_os("POTOO_BENCH_GENERATE_ONLY").is_some_and(|value| value == "1");

    let root = target_dir().join("bench-clusters");
    let mut inputs = Vec::new();
    for size in &sizes {
        let directory = root.join(size.name);
        let started = Instant::now();
        let (summary, generated) = ensure_cluster(size, &directory, regenerate);
        if generated {
            eprintln!(
                "generated {} ({} objects, {:.1} MB) in {:.1}s",
                directory.display(),
                summary.objects,
                summary.bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
        } else {
            eprintln!("reusing {}", directory.display());
        }
        inputs.push((*size, directory, summary));
    }
    if generate_only {
        return;
    }
    let binary = potoo_binary();

    let mut rows = Vec::new();
    for (size, directory, summary) in &inputs {
        for (label, arguments) in COMMANDS {
            let mut command_arguments: Vec<String> = arguments
                .iter()
                .map(|argument| argument.to_string())
                .collect();
            command_arguments.push("--from".to_string());
            command_arguments.push(directory.display().to_string());
            let load = load_average();
            let samples: Vec<Sample> = (0..runs)
                .map(|_| measure(&binary, &command_arguments, &root))
                .collect();
            let row = Row::new(*size, summary, label, samples, load);
            eprintln!("{}", row.progress_line());
            rows.push(row);
        }
    }

    let report = render_report(&binary, runs, &rows);
    print!("{report}");
    let results = root.join("results.md");
    if let Err(error) = fs::write(&results, &report) {
        eprintln!("cannot write {}: {error}", results.display());
    } else {
        eprintln!("(also written to {})", results.display());
    }
}

struct Row {
    size: Size,
    objects: usize,
    input_bytes: u64,
    command: &'static str,
    walls: Vec<f64>,
    rss_mib: Option<f64>,
    cpu_seconds: Option<f64>,
    /// The 1-minute load average when the row's runs started (other work on the machine).
    load: Option<f64>,
}

impl Row {
    fn new(
        size: Size,
        summary: &Summary,
        command: &'static str,
        samples: Vec<Sample>,
        load: Option<f64>,
    ) -> Row {
        let mut walls: Vec<f64> = samples.iter().map(|sample| sample.wall_seconds).collect();
        walls.sort_by(f64::total_cmp);
        let mut rss: Vec<u64> = samples
            .iter()
            .filter_map(|sample| sample.max_rss_kib)
            .collect();
        rss.sort_unstable();
        let mut cpu: Vec<f64> = samples
            .iter()
            .filter_map(|sample| sample.cpu_seconds)
            .collect();
        cpu.sort_by(f64::total_cmp);
        Row {
            size,
            objects: summary.objects,
            input_bytes: summary.bytes,
            command,
            walls,
            rss_mib: (!rss.is_empty()).then(|| rss[rss.len() / 2] as f64 / 1024.0),
            cpu_seconds: (!cpu.is_empty()).then(|| cpu[cpu.len() / 2]),
            load,
        }
    }

    fn median_wall(&self) -> f64 {
        self.walls[self.walls.len() / 2]
    }

    fn progress_line(&self) -> String {
        format!(
            "{:<6} {:<18} median {:.2}s  peak RSS {}",
            self.size.name,
            self.command,
            self.median_wall(),
            self.rss_mib
                .map(|mib| format!("{mib:.0} MiB"))
                .unwrap_or_else(|| "n/a".to_string())
        )
    }
}

fn render_report(binary: &Path, runs: usize, rows: &[Row]) -> String {
    let mut text = String::new();
    let version = Command::new(binary)
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(text, "\n## kubectl-potoo offline benchmark\n");
    let _ = writeln!(
        text,
        "{version}; {} CPU(s) ({}); median of {runs} run(s) via `/usr/bin/time -f '%e %M %U %S'`, stdout to /dev/null.\n",
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1),
        cpu_model()
    );
    let _ = writeln!(
        text,
        "| size | namespaces | NetworkPolicies | pods | objects | input MB | command | wall s (median) | min-max s | µs/object | CPU s (user+sys) | peak RSS MiB | load |"
    );
    let _ = writeln!(
        text,
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {:.1} | `{}` | {:.2} | {:.2}-{:.2} | {:.1} | {} | {} | {} |",
            row.size.name,
            row.size.namespaces,
            row.size.network_policies,
            row.size.pods,
            row.objects,
            row.input_bytes as f64 / 1e6,
            row.command,
            row.median_wall(),
            row.walls[0],
            row.walls[row.walls.len() - 1],
            row.median_wall() * 1e6 / row.objects.max(1) as f64,
            row.cpu_seconds
                .map(|seconds| format!("{seconds:.2}"))
                .unwrap_or_else(|| "n/a".to_string()),
            row.rss_mib
                .map(|mib| format!("{mib:.0}"))
                .unwrap_or_else(|| "n/a".to_string()),
            row.load
                .map(|load| format!("{load:.1}"))
                .unwrap_or_else(|| "n/a".to_string())
        );
    }
    let _ = writeln!(
        text,
        "\nTargets: linear growth (flat µs/object); `large` under 2 s and under 1024 MiB. \
         `load` is the 1-minute load average before the runs: above the CPU count, other work \
         competed for the CPUs and wall times are inflated (CPU s is less affected)."
    );
    if let Some(large) = rows
        .iter()
        .find(|row| row.size.name == "large" && row.command == "query -A -o json")
    {
        let wall_ok = large.median_wall() < 2.0;
        let rss_ok = large.rss_mib.is_none_or(|mib| mib < 1024.0);
        let _ = writeln!(
            text,
            "large `query -A -o json`: wall {} ({:.2} s), RSS {} ({}).",
            if wall_ok { "met" } else { "MISSED" },
            large.median_wall(),
            if rss_ok { "met" } else { "MISSED" },
            large
                .rss_mib
                .map(|mib| format!("{mib:.0} MiB"))
                .unwrap_or_else(|| "n/a".to_string())
        );
    }
    text
}

/// The 1-minute load average, from /proc/loadavg.
fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

// ------------------------------------------------------------------------------------------------
// Generating

/// What a generated cluster holds; stored in the marker so a reused cluster is described too.
#[derive(Serialize, serde::Deserialize, PartialEq)]
struct Summary {
    generator_version: u32,
    size: String,
    namespaces: usize,
    network_policies: usize,
    pods: usize,
    objects: usize,
    files: usize,
    bytes: u64,
}

/// Generates the cluster unless a complete one of this generator version is there.
fn ensure_cluster(size: &Size, directory: &Path, regenerate: bool) -> (Summary, bool) {
    let marker = directory.join(MARKER);
    if !regenerate
        && let Some(summary) = fs::read_to_string(&marker)
            .ok()
            .and_then(|text| serde_json::from_str::<Summary>(&text).ok())
            .filter(|summary| {
                summary.generator_version == GENERATOR_VERSION && summary.size == size.name
            })
    {
        return (summary, false);
    }
    if directory.exists() {
        fs::remove_dir_all(directory).expect("cannot clear the old bench cluster");
    }
    fs::create_dir_all(directory).expect("cannot create the bench cluster directory");
    let summary = generate(size, directory);
    fs::write(
        &marker,
        serde_json::to_string_pretty(&summary).expect("summary serializes"),
    )
    .expect("cannot write the marker");
    (summary, true)
}

fn generate(size: &Size, directory: &Path) -> Summary {
    let seed = 0x5eed_0000_0000_0000 ^ size.namespaces as u64;
    let network_policies_per_namespace = size.network_policies / size.namespaces;
    let pods_per_namespace = size.pods / size.namespaces;
    let mut summary = Summary {
        generator_version: GENERATOR_VERSION,
        size: size.name.to_string(),
        namespaces: size.namespaces,
        network_policies: 0,
        pods: 0,
        objects: 0,
        files: 0,
        bytes: 0,
    };

    let cluster_items = cluster_objects(seed);
    summary.objects += cluster_items.len();
    summary.bytes += write_list(&directory.join("cluster.json"), cluster_items);
    summary.files += 1;

    let chunks: Vec<usize> = (0..size.namespaces).step_by(NAMESPACES_PER_FILE).collect();
    // Files are independent: generate them on every core.
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .max(1);
    let results: Vec<(usize, usize, usize, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let chunks = &chunks;
                scope.spawn(move || {
                    let mut totals = Vec::new();
                    for (chunk_index, first) in chunks.iter().enumerate() {
                        if chunk_index % workers != worker {
                            continue;
                        }
                        let last = (*first + NAMESPACES_PER_FILE).min(size.namespaces);
                        let mut items = Vec::new();
                        let mut policies = 0;
                        let mut pods = 0;
                        for index in *first..last {
                            let generated = namespace_objects(
                                seed,
                                index,
                                network_policies_per_namespace,
                                pods_per_namespace,
                            );
                            policies += generated.network_policies;
                            pods += generated.pods;
                            items.extend(generated.items);
                        }
                        let objects = items.len();
                        let path =
                            directory.join(format!("namespaces-{:04}-{:04}.json", first, last - 1));
                        let bytes = write_list(&path, items);
                        totals.push((policies, pods, objects, bytes));
                    }
                    totals
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("generator thread panicked"))
            .collect()
    });
    for (policies, pods, objects, bytes) in results {
        summary.network_policies += policies;
        summary.pods += pods;
        summary.objects += objects;
        summary.bytes += bytes;
        summary.files += 1;
    }
    assert_eq!(summary.network_policies, size.network_policies);
    assert_eq!(summary.pods, size.pods);
    summary
}

/// Writes `{"apiVersion": "v1", "kind": "List", "items": [...], "metadata": {...}}` indented like
/// kubectl (4 spaces); returns the bytes written.
fn write_list(path: &Path, items: Vec<Value>) -> u64 {
    let list = json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    let file = fs::File::create(path).expect("cannot create a bench file");
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut writer, formatter);
    list.serialize(&mut serializer)
        .expect("cannot write a bench file");
    writer.write_all(b"\n").expect("cannot write a bench file");
    writer.flush().expect("cannot write a bench file");
    fs::metadata(path)
        .map(|metadata| metadata.len())
        .unwrap_or(0)
}

/// SplitMix64: tiny, fast, deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    /// Inclusive.
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, chance: usize) -> bool {
        self.below(100) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn uid(&mut self) -> String {
        let high = self.next();
        let low = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xfff,
            0x8000 | (low >> 48) & 0x3fff,
            low & 0xffff_ffff_ffff
        )
    }

    /// The alphabet Kubernetes uses for generated name suffixes.
    fn suffix(&mut self, length: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..length)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect()
    }

    fn timestamp(&mut self) -> String {
        format!(
            "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.range(1, 6),
            self.range(1, 28),
            self.below(24),
            self.below(60),
            self.below(60)
        )
    }
}

const TEAMS: &[&str] = &[
    "payments", "checkout", "search", "catalog", "identity", "billing", "ml", "data", "growth",
    "ads", "media", "notify", "risk", "support", "infra", "edge", "fraud", "ledger", "pricing",
    "reviews",
];
const ENVS: &[&str] = &["prod", "prod", "prod", "staging", "dev"];
const APPS: &[&str] = &[
    "api",
    "web",
    "worker",
    "gateway",
    "scheduler",
    "indexer",
    "cache",
    "consumer",
    "admin",
    "exporter",
];

/// A namespace's name; the same function names peers in other namespaces.
fn namespace_name(index: usize) -> String {
    let team = TEAMS[index % TEAMS.len()];
    let env = ENVS[(index / TEAMS.len()) % ENVS.len()];
    format!("{team}-{env}-{index:04}")
}

struct Generated {
    items: Vec<Value>,
    network_policies: usize,
    pods: usize,
}

/// Everything in one namespace: the Namespace, its policies, quota, limits, workloads and services.
fn namespace_objects(
    seed: u64,
    index: usize,
    network_policy_count: usize,
    pod_count: usize,
) -> Generated {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let name = namespace_name(index);
    let team = TEAMS[index % TEAMS.len()];
    let env = ENVS[(index / TEAMS.len()) % ENVS.len()];
    let mut items = Vec::new();

    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/metadata.name", name.clone());
    labels.insert("team", team.to_string());
    labels.insert("env", env.to_string());
    labels.insert("cost-center", format!("cc-{}", 1000 + index % 97 * 10));
    labels.insert(
        "pod-security.kubernetes.io/enforce",
        rng.pick(&["restricted", "restricted", "baseline"])
            .to_string(),
    );
    labels.insert("pod-security.kubernetes.io/enforce-version", "v1.31".into());
    if rng.percent(30) {
        labels.insert("istio-injection", "enabled".into());
    }
    items.push(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": rng.uid(),
            "resourceVersion": (1000 + index).to_string(),
            "creationTimestamp": rng.timestamp(),
            "labels": labels,
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    }));

    // Workloads: 2-5 Deployments sharing the namespace's pods, one ReplicaSet each.
    let deployment_count = rng.range(2, 5);
    let mut apps: Vec<&str> = APPS.to_vec();
    for position in 0..deployment_count {
        let other = position + rng.below(apps.len() - position);
        apps.swap(position, other);
    }
    let apps = &apps[..deployment_count];
    let mut pods_generated = 0;
    for (position, app) in apps.iter().enumerate() {
        let replicas =
            pod_count / deployment_count + usize::from(position < pod_count % deployment_count);
        let workload = Workload::new(&mut rng, &name, team, app);
        items.push(workload.deployment(&mut rng, replicas));
        items.push(workload.replica_set(&mut rng, replicas));
        for _ in 0..replicas {
            items.push(workload.pod(&mut rng));
            pods_generated += 1;
        }
        if position < 3 {
            items.push(workload.service(&mut rng));
        }
    }

    for slot in 0..network_policy_count {
        items.push(network_policy(&mut rng, &name, index, slot, apps));
    }
    items.push(resource_quota(&mut rng, &name, pod_count));
    items.push(limit_range(&mut rng, &name));

    Generated {
        items,
        network_policies: network_policy_count,
        pods: pods_generated,
    }
}

struct Workload<'a> {
    namespace: &'a str,
    team: &'a str,
    app: &'a str,
    deployment_uid: String,
    replica_set_uid: String,
    hash: String,
    version: String,
    cpu_millis: usize,
    memory_mib: usize,
    image: String,
}

impl<'a> Workload<'a> {
    fn new(rng: &mut Rng, namespace: &'a str, team: &'a str, app: &'a str) -> Workload<'a> {
        let version = format!("{}.{}.{}", rng.range(1, 4), rng.below(20), rng.below(10));
        Workload {
            namespace,
            team,
            app,
            deployment_uid: rng.uid(),
            replica_set_uid: rng.uid(),
            hash: rng.suffix(10),
            image: format!("registry.corp.internal/{team}/{app}:{version}"),
            version,
            cpu_millis: *rng.pick(&[50, 100, 250, 500, 1000]),
            memory_mib: *rng.pick(&[64, 128, 256, 512, 1024]),
        }
    }

    fn pod_labels(&self) -> Value {
        json!({
            "app.kubernetes.io/name": self.app,
            "app.kubernetes.io/part-of": self.team,
            "app.kubernetes.io/version": self.version,
            "team": self.team,
            "tier": if matches!(self.app, "web" | "gateway") { "frontend" } else { "backend" },
        })
    }

    fn container(&self) -> Value {
        json!({
            "name": self.app,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
            ],
            "env": [
                {"name": "APP_ENV", "value": "production"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
            ],
            "resources": {
                "requests": {"cpu": format!("{}m", self.cpu_millis), "memory": format!("{}Mi", self.memory_mib)},
                "limits": {"cpu": format!("{}m", self.cpu_millis * 2), "memory": format!("{}Mi", self.memory_mib)}
            },
            "readinessProbe": {
                "httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"},
                "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3
            },
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "runAsNonRoot": true
            },
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        })
    }

    fn deployment(&self, rng: &mut Rng, replicas: usize) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": self.app,
                "namespace": self.namespace,
                "uid": self.deployment_uid,
                "generation": rng.range(1, 40),
                "resourceVersion": rng.range(10_000, 9_999_999).to_string(),
                "creationTimestamp": rng.timestamp(),
                "labels": {"app.kubernetes.io/name": self.app, "team": self.team},
                "annotations": {"deployment.kubernetes.io/revision": rng.range(1, 40).to_string()}
            },
            "spec": {
                "replicas": replicas,
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app.kubernetes.io/name": self.app}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": self.pod_labels()},
                    "spec": {
                        "containers": [self.container()],
                        "serviceAccountName": self.app,
                        "restartPolicy": "Always",
                        "dnsPolicy": "ClusterFirst",
                        "terminationGracePeriodSeconds": 30
                    }
                }
            },
            "status": {
                "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                "updatedReplicas": replicas, "observedGeneration": 1
            }
        })
    }

    fn replica_set(&self, rng: &mut Rng, replicas: usize) -> Value {
        let mut labels = self.pod_labels();
        labels["pod-template-hash"] = Value::String(self.hash.clone());
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{}-{}", self.app, self.hash),
                "namespace": self.namespace,
                "uid": self.replica_set_uid,
                "resourceVersion": rng.range(10_000, 9_999_999).to_string(),
                "creationTimestamp": rng.timestamp(),
                "labels": labels.clone(),
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": self.app,
                    "uid": self.deployment_uid, "controller": true, "blockOwnerDeletion": true
                }]
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app.kubernetes.io/name": self.app, "pod-template-hash": self.hash}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [self.container()], "serviceAccountName": self.app}
                }
            },
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
        })
    }

    fn pod(&self, rng: &mut Rng) -> Value {
        let mut labels = self.pod_labels();
        labels["pod-template-hash"] = Value::String(self.hash.clone());
        let node = format!("worker-{}-{}", rng.pick(&["a", "b", "c"]), rng.range(1, 60));
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": format!("{}-{}-{}", self.app, self.hash, rng.suffix(5)),
                "generateName": format!("{}-{}-", self.app, self.hash),
                "namespace": self.namespace,
                "uid": rng.uid(),
                "resourceVersion": rng.range(10_000, 9_999_999).to_string(),
                "creationTimestamp": rng.timestamp(),
                "labels": labels,
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": format!("{}-{}", self.app, self.hash),
                    "uid": self.replica_set_uid, "controller": true, "blockOwnerDeletion": true
                }]
            },
            "spec": {
                "containers": [self.container()],
                "serviceAccountName": self.app,
                "nodeName": node,
                "restartPolicy": "Always",
                "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler",
                "terminationGracePeriodSeconds": 30,
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]
            },
            "status": {
                "phase": "Running",
                "qosClass": "Burstable",
                "hostIP": format!("10.0.{}.{}", rng.below(256), rng.range(1, 254)),
                "podIP": format!("10.{}.{}.{}", rng.range(64, 127), rng.below(256), rng.range(1, 254)),
                "startTime": rng.timestamp()
            }
        })
    }

    fn service(&self, rng: &mut Rng) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": self.app,
                "namespace": self.namespace,
                "uid": rng.uid(),
                "resourceVersion": rng.range(10_000, 9_999_999).to_string(),
                "creationTimestamp": rng.timestamp(),
                "labels": {"app.kubernetes.io/name": self.app}
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": format!("10.96.{}.{}", rng.below(256), rng.range(1, 254)),
                "selector": {"app.kubernetes.io/name": self.app},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                    {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
                ],
                "sessionAffinity": "None"
            },
            "status": {"loadBalancer": {}}
        })
    }
}

fn metadata(rng: &mut Rng, name: &str, namespace: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "uid": rng.uid(),
        "resourceVersion": rng.range(10_000, 9_999_999).to_string(),
        "generation": 1,
        "creationTimestamp": rng.timestamp()
    })
}

fn dns_peer() -> Value {
    json!({
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
    })
}

/// Slot 0 is a default deny (or an allow-same-namespace), slot 1 DNS egress; the rest mix shapes.
fn network_policy(
    rng: &mut Rng,
    namespace: &str,
    index: usize,
    slot: usize,
    apps: &[&str],
) -> Value {
    let app = *rng.pick(apps);
    let other_app = *rng.pick(apps);
    let peer_namespace = namespace_name((index + 1 + rng.below(50)) % 2000);
    let shape = match slot {
        0 => {
            if rng.percent(70) {
                0
            } else {
                1
            }
        }
        1 => 2,
        _ => 3 + rng.below(9),
    };
    let (name, spec) = match shape {
        0 => (
            "default-deny-all".to_string(),
            if rng.percent(50) {
                json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
            } else {
                json!({"podSelector": {}, "policyTypes": ["Ingress"]})
            },
        ),
        1 => (
            "allow-same-namespace".to_string(),
            json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}),
        ),
        2 => (
            "allow-dns-egress".to_string(),
            json!({
                "podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [dns_peer()], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
            }),
        ),
        3 => (
            format!("allow-{other_app}-to-{app}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": other_app}}}],
                             "ports": [{"protocol": "TCP", "port": 8080}]}]
            }),
        ),
        4 => (
            format!("allow-team-to-{app}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": *rng.pick(TEAMS)}}}],
                             "ports": [{"protocol": "TCP", "port": "http"}]}]
            }),
        ),
        5 => (
            format!("allow-{peer_namespace}-to-{app}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peer_namespace}},
                    "podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["api", "gateway", "worker"]}]}
                }], "ports": [{"protocol": "TCP", "port": 8080}]}]
            }),
        ),
        6 => (
            format!("allow-{app}-external-https"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
                            "ports": [{"protocol": "TCP", "port": 443}]}]
            }),
        ),
        7 => (
            format!("allow-{app}-backup-range"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": format!("10.{}.0.0/16", rng.range(32, 63)), "except": [format!("10.{}.13.0/24", rng.range(32, 63))]}}],
                            "ports": [{"protocol": "TCP", "port": 9000, "endPort": 9010}]}]
            }),
        ),
        8 => (
            "allow-monitoring-scrape".to_string(),
            json!({
                "podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}]},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                                       "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
                             "ports": [{"protocol": "TCP", "port": "metrics"}]}]
            }),
        ),
        9 => (
            format!("allow-all-to-{app}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                "ingress": [{}]
            }),
        ),
        10 => (
            format!("allow-{app}-to-{peer_namespace}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peer_namespace}},
                                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}],
                            "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 5432}]}]
            }),
        ),
        _ => (
            format!("ingress-egress-{app}"),
            json!({
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": app, "tier": "backend"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "cache"}}}], "ports": [{"protocol": "TCP", "port": 6379}]},
                           {"to": [dns_peer()], "ports": [{"protocol": "UDP", "port": 53}]}]
            }),
        ),
    };
    // Names are unique per namespace: the slot makes repeats distinct.
    let name = format!("{name}-{slot:02}");
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(rng, &name, namespace),
        "spec": spec
    })
}

fn resource_quota(rng: &mut Rng, namespace: &str, pods: usize) -> Value {
    let cpu_hard = rng.range(8, 64);
    let memory_hard_gi = cpu_hard * 4;
    // Usage from 10% to 99%: a spread of info, warning and critical quotas.
    let cpu_used_millis = cpu_hard * 1000 * rng.range(10, 99) / 100;
    let memory_used_mi = memory_hard_gi * 1024 * rng.range(10, 99) / 100;
    let pods_hard = pods * 2;
    let hard = json!({
        "requests.cpu": cpu_hard.to_string(),
        "requests.memory": format!("{memory_hard_gi}Gi"),
        "limits.cpu": (cpu_hard * 2).to_string(),
        "limits.memory": format!("{}Gi", memory_hard_gi * 2),
        "pods": pods_hard.to_string(),
        "services.loadbalancers": "2"
    });
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(rng, "compute-quota", namespace),
        "spec": {"hard": hard.clone()},
        "status": {
            "hard": hard,
            "used": {
                "requests.cpu": format!("{cpu_used_millis}m"),
                "requests.memory": format!("{memory_used_mi}Mi"),
                "limits.cpu": format!("{}m", cpu_used_millis * 2),
                "limits.memory": format!("{}Mi", memory_used_mi * 2),
                "pods": pods.to_string(),
                "services.loadbalancers": rng.range(0, 1).to_string()
            }
        }
    })
}

fn limit_range(rng: &mut Rng, namespace: &str) -> Value {
    let mut limit = json!({
        "type": "Container",
        "default": {"cpu": "500m", "memory": "512Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}
    });
    if rng.percent(50) {
        limit["min"] = json!({"cpu": "10m", "memory": "16Mi"});
        limit["max"] = json!({"cpu": "4", "memory": "8Gi"});
        limit["maxLimitRequestRatio"] = json!({"cpu": "10"});
    }
    json!({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(rng, "container-limits", namespace),
        "spec": {"limits": [limit]}
    })
}

/// kube-system, monitoring and ~20 webhook configurations with a mix of namespace selectors.
fn cluster_objects(seed: u64) -> Vec<Value> {
    let mut rng = Rng::new(seed ^ 0xc1u64);
    let mut items = Vec::new();
    for name in ["kube-system", "monitoring"] {
        items.push(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name, "uid": rng.uid(), "creationTimestamp": rng.timestamp(),
                "labels": {"kubernetes.io/metadata.name": name}
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        }));
    }
    const NAMES: [&str; WEBHOOK_CONFIGURATIONS] = [
        "kyverno-resource-validating-webhook-cfg",
        "kyverno-resource-mutating-webhook-cfg",
        "kyverno-policy-validating-webhook-cfg",
        "gatekeeper-validating-webhook-configuration",
        "gatekeeper-mutating-webhook-configuration",
        "istio-sidecar-injector",
        "istio-validator-istio-system",
        "cert-manager-webhook",
        "linkerd-proxy-injector-webhook-config",
        "vault-agent-injector-cfg",
        "aws-load-balancer-webhook",
        "prometheus-operator-admission",
        "ingress-nginx-admission",
        "opentelemetry-operator-mutation",
        "keda-admission",
        "externalsecret-validate",
        "platform-image-policy",
        "platform-cost-labels",
        "pod-identity-webhook",
        "velero-restore-validation",
    ];
    for (index, name) in NAMES.iter().enumerate() {
        let mutating = name.contains("mutat")
            || name.contains("inject")
            || name.contains("identity")
            || name.contains("cost-labels")
            || name.contains("opentelemetry");
        let webhook_count = rng.range(1, 2);
        let webhooks: Vec<Value> = (0..webhook_count)
            .map(|position| {
                let namespace_selector = match rng.below(6) {
                    0 => json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "monitoring"]}]}),
                    1 => json!({"matchLabels": {"team": *rng.pick(TEAMS)}}),
                    2 => json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]}),
                    3 => json!({"matchLabels": {"istio-injection": "enabled"}}),
                    4 => json!({"matchExpressions": [{"key": "admission.example.io/ignore", "operator": "DoesNotExist"}]}),
                    _ => json!({}),
                };
                let (groups, resources) = match rng.below(4) {
                    0 => (json!([""]), json!(["pods"])),
                    1 => (json!(["apps"]), json!(["deployments", "statefulsets", "daemonsets"])),
                    2 => (json!(["*"]), json!(["*"])),
                    _ => (json!([""]), json!(["services", "configmaps"])),
                };
                let mut webhook = json!({
                    "name": format!("webhook-{position}.{name}.example.io"),
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"service": {"namespace": name.split('-').next().unwrap_or("default"), "name": format!("{name}-svc"), "path": "/admit", "port": 443}},
                    "rules": [{"apiGroups": groups, "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": resources, "scope": "Namespaced"}],
                    "namespaceSelector": namespace_selector,
                    "failurePolicy": rng.pick(&["Fail", "Ignore"]),
                    "matchPolicy": "Equivalent",
                    "sideEffects": "None",
                    "timeoutSeconds": rng.range(3, 30)
                });
                if rng.percent(30) {
                    webhook["objectSelector"] = json!({"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["exporter"]}]});
                }
                if mutating {
                    webhook["reinvocationPolicy"] = json!("Never");
                }
                webhook
            })
            .collect();
        items.push(json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": if mutating { "MutatingWebhookConfiguration" } else { "ValidatingWebhookConfiguration" },
            "metadata": {
                "name": name,
                "uid": rng.uid(),
                "resourceVersion": (100 + index).to_string(),
                "generation": 1,
                "creationTimestamp": rng.timestamp(),
                "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/version": format!("1.{}.0", index)}
            },
            "webhooks": webhooks
        }));
    }
    items
}
