//! Tables for `reach`: one answer (source, destination, traffic, each side's verdict and what
//! decides it) and the connectivity list of `reach --all`.

use comfy_table::{Cell, Color, Table, presets};

use super::RenderOptions;
use crate::engine::network::connlist::ConnectivityList;
use crate::engine::network::verdict::{ReachResult, Verdict};

fn new_table(options: RenderOptions, header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !header.is_empty() {
        table.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    }
    table
}

/// kubectl-style lines: no leading space, no trailing spaces.
fn finish(table: &Table) -> String {
    let mut text = String::new();
    for line in table.to_string().lines() {
        text.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
        text.push('\n');
    }
    text
}

fn verdict_cell(verdict: Verdict, options: RenderOptions) -> Cell {
    let cell = Cell::new(verdict.as_str());
    if !options.color {
        return cell;
    }
    match verdict {
        Verdict::Allowed => cell.fg(Color::Green),
        Verdict::Denied => cell.fg(Color::Red),
        Verdict::Unknown => cell.fg(Color::Yellow),
    }
}

/// One `reach` answer.
pub fn result(result: &ReachResult, options: RenderOptions) -> String {
    let mut header = new_table(options, &[]);
    let pods = |peer: &crate::engine::network::verdict::PeerSummary| match peer.kind.as_str() {
        "address" | "host" => String::new(),
        "service" => format!(
            " ({} backend pod{}{})",
            peer.pods,
            if peer.pods == 1 { "" } else { "s" },
            if peer.from_template {
                ", from pod templates"
            } else {
                ""
            }
        ),
        _ if peer.from_template => " (from its pod template)".to_string(),
        _ if peer.pods == 1 => " (1 pod)".to_string(),
        _ => format!(" ({} pods)", peer.pods),
    };
    header.add_row(vec![
        Cell::new("SOURCE"),
        Cell::new(format!("{}{}", result.source.display, pods(&result.source))),
    ]);
    header.add_row(vec![
        Cell::new("DESTINATION"),
        Cell::new(format!(
            "{}{}",
            result.destination.display,
            pods(&result.destination)
        )),
    ]);
    let traffic = match &result.port {
        Some(port) => {
            let mut text = port.requested.clone();
            let resolved = port.resolved.to_string();
            if let Some(translation) = &port.translation {
                text.push_str(&format!(" → {resolved} ({translation})"));
            }
            text
        }
        None => "any port".to_string(),
    };
    header.add_row(vec![Cell::new("TRAFFIC"), Cell::new(traffic)]);
    let mut text = finish(&header);
    text.push('\n');

    let mut sides = new_table(options, &["SIDE", "VERDICT", "DECIDED BY"]);
    for side in [&result.egress, &result.ingress] {
        sides.add_row(vec![
            Cell::new(side.direction.as_str()),
            verdict_cell(side.verdict, options),
            Cell::new(&side.reason),
        ]);
    }
    let overall = if result.verdict == Verdict::Allowed
        && result.port.is_none()
        && !result.connections.is_all()
    {
        format!("allowed: {}", result.connections)
    } else if result.pairs.len() > 1
        && result
            .pairs
            .iter()
            .any(|pair| pair.verdict != result.verdict)
    {
        result.reason.clone()
    } else if result.pairs.len() > 1 {
        format!("the same for all {} pod pairs", result.pairs.len())
    } else {
        String::new()
    };
    sides.add_row(vec![
        Cell::new("overall"),
        verdict_cell(result.verdict, options),
        Cell::new(overall),
    ]);
    text.push_str(&finish(&sides));

    if options.wide
        && let Some(pair) = result.pairs.first()
        && !pair.segments.is_empty()
    {
        text.push('\n');
        let mut segments = new_table(options, &["TRAFFIC", "VERDICT", "EGRESS", "INGRESS"]);
        for segment in &pair.segments {
            segments.add_row(vec![
                Cell::new(segment.connections.connlist_text()),
                verdict_cell(
                    if segment.allowed {
                        Verdict::Allowed
                    } else if segment.egress.uncertain || segment.ingress.uncertain {
                        Verdict::Unknown
                    } else {
                        Verdict::Denied
                    },
                    options,
                ),
                Cell::new(decision_text(&segment.egress)),
                Cell::new(decision_text(&segment.ingress)),
            ]);
        }
        text.push_str(&finish(&segments));
    }
    if options.wide && result.pairs.len() > 1 {
        text.push('\n');
        let mut pairs = new_table(
            options,
            &["SOURCE", "DESTINATION", "VERDICT", "EGRESS", "INGRESS"],
        );
        for pair in &result.pairs {
            pairs.add_row(vec![
                Cell::new(&pair.source),
                Cell::new(&pair.destination),
                verdict_cell(pair.verdict, options),
                Cell::new(pair.egress.verdict.as_str()),
                Cell::new(pair.ingress.verdict.as_str()),
            ]);
        }
        text.push_str(&finish(&pairs));
    }
    for note in &result.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if !result.notes.is_empty() {
        text.push('\n');
    }
    text
}

/// One side of a segment: what decides it, shortly.
fn decision_text(decision: &crate::engine::network::verdict::SideDecision) -> String {
    use crate::engine::network::verdict::Basis;
    let verdict = if decision.allowed {
        "allowed"
    } else if decision.uncertain {
        "unknown"
    } else {
        "denied"
    };
    let why = match decision.basis {
        Basis::External => "outside the cluster".to_string(),
        Basis::HostNetwork => "host network".to_string(),
        _ if decision.attributions.is_empty() => "not isolated".to_string(),
        _ => decision
            .attributions
            .iter()
            .map(|attribution| attribution.display.clone())
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("{verdict}: {why}")
}

/// `reach --all`: one row per allowed connection.
pub fn connectivity(list: &ConnectivityList, options: RenderOptions) -> String {
    if list.connections.is_empty() {
        return match &list.scope.namespace {
            Some(namespace) => format!("No allowed connections involve namespace `{namespace}`.\n"),
            None => "No allowed connections.\n".to_string(),
        };
    }
    let mut table = new_table(options, &["SOURCE", "DESTINATION", "CONNECTIONS"]);
    for entry in &list.connections {
        table.add_row(vec![
            Cell::new(&entry.source),
            Cell::new(&entry.destination),
            Cell::new(entry.connections.connlist_text()),
        ]);
    }
    let mut text = finish(&table);
    if options.wide {
        for note in &list.notes {
            text.push_str(&format!("note: {note}\n"));
        }
    }
    text
}
