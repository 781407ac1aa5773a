//! Conformance with np-guard's netpol-analyzer: for every directory of
//! `../shared/corpora/netpol-analyzer/tests/` with an expected connectivity list, potoo's
//! `reach --all` list must hold the same lines; where an `--explain` output exists, the policies
//! and rules potoo names for each direction of each connection segment must be the same.
//! Scores are printed; the test fails below the floor in `testdata/reach/conformance-floor.txt`.
//! The corpus is not part of the repository: without it the test prints a note and passes.
//!
//! Deliberate settings, as netpol-analyzer models clusters: host-network pods are treated like
//! other pods (`HostNetworkMode::Subject`). Files that are not Kubernetes objects (expected
//! outputs stored beside the manifests, e.g. `connlist_output.json`) are skipped, as
//! netpol-analyzer skips them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use potoo::adapters::Registry;
use potoo::engine::network::connlist::{connectivity, exposed_connections, external_name};
use potoo::engine::network::verdict::{Basis, Direction, Outcome, SideDecision};
use potoo::engine::network::{HostNetworkMode, NetworkModel, Peer, ReachOptions, addresses};
use potoo::source::Snapshot;
use potoo::source::files::read_paths;

fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/netpol-analyzer");
    path.join("tests").is_dir().then_some(path)
}

fn manifest_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            manifest_files(&path, found);
        } else if matches!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            found.push(path);
        }
    }
}

/// Reads a directory, skipping files potoo's reader rejects (they are reported).
fn load(directory: &Path) -> (Snapshot, Vec<String>) {
    let mut files = Vec::new();
    manifest_files(directory, &mut files);
    let mut accepted = Vec::new();
    let mut skipped = Vec::new();
    for file in files {
        match read_paths(std::slice::from_ref(&file), &mut std::io::empty()) {
            Ok(_) => accepted.push(file),
            Err(error) => skipped.push(error.to_string()),
        }
    }
    let snapshot =
        read_paths(&accepted, &mut std::io::empty()).expect("accepted files read together");
    (snapshot, skipped)
}

fn options() -> ReachOptions {
    ReachOptions {
        host_network: HostNetworkMode::Subject,
    }
}

fn lines_of(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// One direction of one explanation segment, in netpol-analyzer's words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SideRecord {
    allowed: bool,
    system_default: bool,
    lines: BTreeSet<String>,
}

/// `(source, destination, allowed, connections)` → (egress, ingress).
type ExplainRecords = BTreeMap<(String, String, bool, String), (SideRecord, SideRecord)>;

fn parse_explain(text: &str) -> ExplainRecords {
    let mut records = ExplainRecords::new();
    let mut pair: Option<(String, String)> = None;
    let mut segment: Option<(bool, String)> = None;
    let mut side: Option<Direction> = None;
    let mut sides: BTreeMap<Direction, SideRecord> = BTreeMap::new();
    let mut in_default_section = false;
    let flush = |records: &mut ExplainRecords,
                 pair: &Option<(String, String)>,
                 segment: &Option<(bool, String)>,
                 sides: &mut BTreeMap<Direction, SideRecord>| {
        if let (Some((source, destination)), Some((allowed, connections))) = (pair, segment)
            && let (Some(egress), Some(ingress)) = (
                sides.remove(&Direction::Egress),
                sides.remove(&Direction::Ingress),
            )
        {
            records.insert(
                (
                    source.clone(),
                    destination.clone(),
                    *allowed,
                    connections.clone(),
                ),
                (egress, ingress),
            );
        }
        sides.clear();
    };
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.starts_with("# All Connections due to the system default") {
            flush(&mut records, &pair, &segment, &mut sides);
            in_default_section = true;
            continue;
        }
        if line.starts_with('#') || line.starts_with("---") || line.is_empty() {
            continue;
        }
        if in_default_section {
            if let Some((source, destination)) = line.split_once(" => ") {
                let default_side = SideRecord {
                    allowed: true,
                    system_default: true,
                    lines: BTreeSet::new(),
                };
                records.insert(
                    (
                        source.to_string(),
                        destination.to_string(),
                        true,
                        "TCP, UDP, SCTP".to_string(),
                    ),
                    (default_side.clone(), default_side),
                );
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("Connections between ") {
            flush(&mut records, &pair, &segment, &mut sides);
            let rest = rest.trim_end_matches(':');
            if let Some((source, destination)) = rest.split_once(" => ") {
                pair = Some((source.to_string(), destination.to_string()));
            }
            segment = None;
            continue;
        }
        if line == "Allowed connections:" || line == "Denied connections:" {
            continue;
        }
        let trimmed = line.trim_start_matches('\t');
        let depth = line.len() - trimmed.len();
        if depth == 1 {
            flush(&mut records, &pair, &segment, &mut sides);
            for (prefix, allowed) in [("Allowed ", true), ("Denied ", false)] {
                if let Some(rest) = trimmed.strip_prefix(prefix)
                    && let Some(connections) =
                        rest.strip_suffix(" due to the following policies and rules:")
                {
                    segment = Some((allowed, connections.to_string()));
                }
            }
            continue;
        }
        if depth == 2 {
            let direction = if trimmed.starts_with("Egress") {
                Direction::Egress
            } else {
                Direction::Ingress
            };
            side = Some(direction);
            sides.insert(
                direction,
                SideRecord {
                    allowed: trimmed.contains("(Allowed)"),
                    system_default: trimmed.contains("due to the system default"),
                    lines: BTreeSet::new(),
                },
            );
            continue;
        }
        if let Some(direction) = side
            && let Some(record) = sides.get_mut(&direction)
        {
            let content = trimmed.trim_start_matches("- ");
            if content == "NetworkPolicy list:"
                || content.starts_with("Route '")
                || content.starts_with("K8s-Ingress '")
            {
                continue;
            }
            record.lines.insert(content.to_string());
        }
    }
    flush(&mut records, &pair, &segment, &mut sides);
    records
}

fn side_record(
    decision: &SideDecision,
    direction: Direction,
    subject: &str,
    remote: &str,
) -> SideRecord {
    let system_default = matches!(
        decision.basis,
        Basis::NotIsolated | Basis::External | Basis::HostNetwork
    );
    let title = direction.title();
    // netpol-analyzer names, for denied traffic, only the first rule of a policy whose peers
    // match (its union of rule connections keeps the first rule's reason for ports no rule
    // allows); potoo names every such rule. Compare like for like.
    let mut named_policies = BTreeSet::new();
    let lines = decision
        .attributions
        .iter()
        .filter(|attribution| {
            !matches!(
                attribution.outcome,
                Outcome::PortsDoNotMatch | Outcome::NamedPortsUnresolved
            ) || named_policies.insert(attribution.policy.clone())
        })
        .map(|attribution| {
            let policy = format!(
                "NetworkPolicy '{}/{}'",
                attribution.policy.namespace.as_deref().unwrap_or_default(),
                attribution.policy.name
            );
            let rule = attribution.rule.unwrap_or_default();
            match attribution.outcome {
                Outcome::Allows | Outcome::MayAllow => {
                    format!("{policy} allows connections by {title} rule #{rule}")
                }
                Outcome::NotSelectedByAnyRule => {
                    format!("{policy} selects {subject}, but {remote} is not allowed by any {title} rule")
                }
                Outcome::NoRulesDefined => format!(
                    "{policy} selects {subject}, but {remote} is not allowed by any {title} rule (no rules defined)"
                ),
                Outcome::PortsDoNotMatch => format!(
                    "{policy} selects {subject}, and {title} rule #{rule} selects {remote}, but the protocols and ports do not match"
                ),
                Outcome::NamedPortsUnresolved => format!(
                    "{policy} selects {subject}, and {title} rule #{rule} selects {remote}, but named ports of the rule have no match in the configuration of the destination peer"
                ),
                // Families the corpus does not use (AdminNetworkPolicy, Cilium, Istio).
                other => format!("{} {other:?}", attribution.display),
            }
        })
        .collect();
    SideRecord {
        allowed: decision.allowed,
        system_default,
        lines,
    }
}

/// potoo's explanation of every pair netpol-analyzer explains, in the same records.
fn potoo_explain(model: &NetworkModel<'_>) -> ExplainRecords {
    let mut records = ExplainRecords::new();
    let workloads: Vec<(String, usize)> = model
        .inventory
        .workloads
        .iter()
        .map(|group| (group.reference.display(), group.endpoints[0]))
        .collect();
    let ingress_ranges = addresses::partition(&model.address_blocks(Direction::Ingress));
    let egress_ranges = addresses::partition(&model.address_blocks(Direction::Egress));
    let mut pairs: Vec<(Peer, String, Peer, String)> = Vec::new();
    for (source_name, source) in &workloads {
        for (destination_name, destination) in &workloads {
            if source_name != destination_name {
                pairs.push((
                    Peer::Endpoint(*source),
                    source_name.clone(),
                    Peer::Endpoint(*destination),
                    destination_name.clone(),
                ));
            }
        }
        for range in &ingress_ranges {
            pairs.push((
                Peer::Address(*range),
                external_name(range),
                Peer::Endpoint(*source),
                source_name.clone(),
            ));
        }
        for range in &egress_ranges {
            pairs.push((
                Peer::Endpoint(*source),
                source_name.clone(),
                Peer::Address(*range),
                external_name(range),
            ));
        }
        if !exposed_connections(model, *source).is_empty() {
            pairs.push((
                Peer::IngressController,
                "{ingress-controller}".to_string(),
                Peer::Endpoint(*source),
                source_name.clone(),
            ));
        }
    }
    for (source, source_name, destination, destination_name) in pairs {
        let evaluation = model.evaluate_pair(&source, &destination, true);
        for segment in evaluation.segments(&model.policies) {
            let egress = side_record(
                &segment.egress,
                Direction::Egress,
                &source_name,
                &destination_name,
            );
            let ingress = side_record(
                &segment.ingress,
                Direction::Ingress,
                &destination_name,
                &source_name,
            );
            records.insert(
                (
                    source_name.clone(),
                    destination_name.clone(),
                    segment.allowed,
                    segment.connections.explanation_text(),
                ),
                (egress, ingress),
            );
        }
    }
    records
}

fn record_text(key: &(String, String, bool, String), value: &(SideRecord, SideRecord)) -> String {
    let side = |name: &str, record: &SideRecord| {
        format!(
            "{name} {}{} [{}]",
            if record.allowed { "Allowed" } else { "Denied" },
            if record.system_default {
                " by default"
            } else {
                ""
            },
            record.lines.iter().cloned().collect::<Vec<_>>().join(" | ")
        )
    };
    format!(
        "{} => {} {} {}: {}; {}",
        key.0,
        key.1,
        if key.2 { "Allowed" } else { "Denied" },
        key.3,
        side("Egress", &value.0),
        side("Ingress", &value.1)
    )
}

fn floors() -> BTreeMap<String, f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reach/conformance-floor.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.split_once(char::is_whitespace)?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        (part as f64) * 100.0 / (whole as f64)
    }
}

#[test]
fn netpol_analyzer_connectivity_and_explanations() {
    let Some(corpus) = corpus() else {
        eprintln!("netpol-analyzer corpus not found beside the repository; conformance not scored");
        return;
    };
    let outputs = corpus.join("test_outputs/connlist");
    let mut directories: Vec<PathBuf> = std::fs::read_dir(corpus.join("tests"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    directories.sort();
    let (mut dirs_total, mut dirs_matched) = (0, 0);
    let (mut lines_total, mut lines_matched) = (0, 0);
    let (mut explain_total, mut explain_matched) = (0, 0);
    let (mut explain_dirs_total, mut explain_dirs_matched) = (0, 0);
    // Informational: the same lists with potoo's default (host-network pods exempt).
    let (mut exempt_dirs_differing, mut exempt_lines_differing) = (0, 0);
    for directory in directories {
        let name = directory.file_name().unwrap().to_string_lossy().to_string();
        let connlist_path = outputs.join(format!("{name}_connlist_output.txt"));
        let explain_path = outputs.join(format!("{name}_explain_output.txt"));
        if !connlist_path.exists() && !explain_path.exists() {
            continue;
        }
        let (snapshot, skipped) = load(&directory);
        for problem in &skipped {
            println!("{name}: skipped a file potoo does not read as Kubernetes objects: {problem}");
        }
        let adapted = Registry::default().adapt(&snapshot);
        for diagnostic in &adapted.diagnostics {
            println!(
                "{name}: adapter diagnostic: {}: {}",
                diagnostic.object, diagnostic.message
            );
        }
        let model = NetworkModel::new(&snapshot, &adapted.constraints, options());
        if connlist_path.exists() {
            let expected = lines_of(&connlist_path);
            let actual: BTreeSet<String> = connectivity(&model, None)
                .connections
                .iter()
                .map(|entry| entry.line())
                .collect();
            let matched = expected.intersection(&actual).count();
            let union = expected.union(&actual).count();
            let exempt_model =
                NetworkModel::new(&snapshot, &adapted.constraints, ReachOptions::default());
            let exempt: BTreeSet<String> = connectivity(&exempt_model, None)
                .connections
                .iter()
                .map(|entry| entry.line())
                .collect();
            if exempt != expected {
                exempt_dirs_differing += 1;
                exempt_lines_differing += exempt.symmetric_difference(&expected).count();
            }
            dirs_total += 1;
            lines_total += union;
            lines_matched += matched;
            if expected == actual {
                dirs_matched += 1;
                println!("connlist {name}: ok ({} lines)", expected.len());
            } else {
                println!(
                    "connlist {name}: DIFFERS ({matched} of {} expected lines, {} extra)",
                    expected.len(),
                    actual.difference(&expected).count()
                );
                for line in expected.difference(&actual).take(10) {
                    println!("  missing: {line}");
                }
                for line in actual.difference(&expected).take(10) {
                    println!("  extra:   {line}");
                }
            }
        }
        if explain_path.exists() {
            let expected: BTreeSet<String> =
                parse_explain(&std::fs::read_to_string(&explain_path).unwrap())
                    .iter()
                    .map(|(key, value)| record_text(key, value))
                    .collect();
            let actual: BTreeSet<String> = potoo_explain(&model)
                .iter()
                .map(|(key, value)| record_text(key, value))
                .collect();
            let matched = expected.intersection(&actual).count();
            explain_dirs_total += 1;
            explain_total += expected.union(&actual).count();
            explain_matched += matched;
            if expected == actual {
                explain_dirs_matched += 1;
                println!("explain {name}: ok ({} segments)", expected.len());
            } else {
                println!(
                    "explain {name}: DIFFERS ({matched} of {} expected segments, {} extra)",
                    expected.len(),
                    actual.difference(&expected).count()
                );
                for line in expected.difference(&actual).take(6) {
                    println!("  missing: {line}");
                }
                for line in actual.difference(&expected).take(6) {
                    println!("  extra:   {line}");
                }
            }
        }
    }
    let scores = [
        ("dirs", percent(dirs_matched, dirs_total)),
        ("lines", percent(lines_matched, lines_total)),
        (
            "explain-dirs",
            percent(explain_dirs_matched, explain_dirs_total),
        ),
        ("explain-segments", percent(explain_matched, explain_total)),
    ];
    println!(
        "netpol-analyzer conformance: connlist dirs {dirs_matched}/{dirs_total}, lines {lines_matched}/{lines_total}; explain dirs {explain_dirs_matched}/{explain_dirs_total}, segments {explain_matched}/{explain_total}"
    );
    println!(
        "  with potoo's default (host-network pods exempt from pod policies): {exempt_dirs_differing} dirs differ, {exempt_lines_differing} lines (host-network pods isolated by netpol-analyzer are open in potoo)"
    );
    let floors = floors();
    for (name, score) in scores {
        println!("  {name}: {score:.1}%");
        if let Some(floor) = floors.get(name) {
            assert!(
                score + 1e-9 >= *floor,
                "{name} score {score:.1}% is below the floor {floor}%"
            );
        }
    }
}
