//! Table output (kubectl-style, borderless) for query and status; `wide` adds columns.

use comfy_table::{Cell, Color, Table, presets};

use super::RenderOptions;
use crate::model::Severity;
use crate::model::report::{QueryResult, StatusResult};

fn new_table(options: RenderOptions, header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    table
}

/// Trims comfy-table's padding so lines match kubectl's: no leading space, no trailing spaces.
fn finish(table: &Table) -> String {
    let mut text = String::new();
    for line in table.to_string().lines() {
        text.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
        text.push('\n');
    }
    text
}

fn severity_cell(severity: Severity, options: RenderOptions) -> Cell {
    let cell = Cell::new(severity.as_str());
    if !options.color {
        return cell;
    }
    match severity {
        Severity::Critical => cell.fg(Color::Red),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell.fg(Color::DarkGrey),
    }
}

pub fn query(result: &QueryResult, options: RenderOptions) -> String {
    if result.constraints.is_empty() {
        return match &result.scope.namespace {
            Some(namespace) => format!("No constraints found in namespace `{namespace}`.\n"),
            None => "No constraints found.\n".to_string(),
        };
    }
    let mut header = Vec::new();
    if result.scope.all_namespaces {
        header.push("NAMESPACE");
    }
    header.extend(["NAME", "TYPE", "SEVERITY", "EFFECT", "SOURCE"]);
    if options.wide {
        header.extend(["SUMMARY", "WHY"]);
    }
    let mut table = new_table(options, &header);
    for entry in &result.constraints {
        let constraint = &entry.constraint;
        let mut row = Vec::new();
        if result.scope.all_namespaces {
            row.push(Cell::new(namespaces_column(
                &entry.namespaces,
                constraint.source.namespace.as_deref(),
            )));
        }
        let name = match &constraint.rule {
            Some(rule) => format!("{}#{}", constraint.source.name, rule),
            None => constraint.source.name.clone(),
        };
        row.push(Cell::new(name));
        row.push(Cell::new(constraint.constraint_type.as_str()));
        row.push(severity_cell(constraint.severity, options));
        row.push(Cell::new(constraint.effect.as_str()));
        row.push(Cell::new(&constraint.source.kind));
        if options.wide {
            row.push(Cell::new(&constraint.summary));
            let why = match entry.matched_because.as_slice() {
                [] => String::new(),
                [only] => only.clone(),
                [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
            };
            row.push(Cell::new(why));
        }
        table.add_row(row);
    }
    finish(&table)
}

/// A namespaced constraint shows its namespace; a cluster one how many namespaces it reaches.
fn namespaces_column(namespaces: &[String], own: Option<&str>) -> String {
    if let Some(own) = own {
        return own.to_string();
    }
    match namespaces {
        [] => "-".to_string(),
        [only] => format!("{only} (cluster)"),
        _ => format!("{} namespaces (cluster)", namespaces.len()),
    }
}

pub fn status(result: &StatusResult, options: RenderOptions) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "Source: {} ({})",
        result.source.kind, result.source.description
    ));
    if let Some(version) = &result.source.server_version {
        text.push_str(&format!(", server {version}"));
    }
    text.push_str(&format!(
        "\nObjects read: {}    Constraints: {}\n\n",
        result.objects, result.constraints
    ));

    let mut engines = new_table(
        options,
        &[
            "ENGINE",
            "VERSION",
            "KIND",
            "API VERSIONS",
            "OBJECTS",
            "CONSTRAINTS",
            "READABLE",
        ],
    );
    for engine in &result.engines {
        for kind in &engine.kinds {
            let kind_name = if kind.group.is_empty() {
                kind.kind.clone()
            } else {
                format!("{}.{}", kind.kind, kind.group)
            };
            engines.add_row(vec![
                Cell::new(&engine.name),
                Cell::new(engine.version.as_deref().unwrap_or("-")),
                Cell::new(kind_name),
                Cell::new(if kind.versions.is_empty() {
                    "-".to_string()
                } else {
                    kind.versions.join(",")
                }),
                Cell::new(kind.objects),
                Cell::new(kind.constraints),
                Cell::new(if kind.unreadable { "no" } else { "yes" }),
            ]);
        }
    }
    text.push_str(&finish(&engines));

    text.push_str("\nBy severity: ");
    text.push_str(&counts(&result.by_severity));
    text.push_str("\nBy type:     ");
    text.push_str(&counts(&result.by_type));
    text.push('\n');
    if options.wide || result.by_namespace.len() <= 20 {
        let mut namespaces = new_table(options, &["NAMESPACE", "CONSTRAINTS"]);
        for (namespace, count) in &result.by_namespace {
            namespaces.add_row(vec![Cell::new(namespace), Cell::new(count)]);
        }
        text.push('\n');
        text.push_str(&finish(&namespaces));
    } else {
        text.push_str(&format!(
            "\nConstraints in {} namespaces (use -o wide to list them).\n",
            result.by_namespace.len()
        ));
    }
    if !result.diagnostics.is_empty() {
        text.push_str(&format!(
            "\n{} adapter diagnostics (use -v to show them).\n",
            result.diagnostics.len()
        ));
    }
    text
}

fn counts(map: &std::collections::BTreeMap<String, usize>) -> String {
    map.iter()
        .filter(|(_, count)| **count > 0)
        .map(|(name, count)| format!("{name} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}
