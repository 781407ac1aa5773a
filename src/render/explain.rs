//! The readable output of `explain`: per error, the family and confidence, what the message says,
//! the identifiers, the causes with their fields, the constraints it resolved to, and what could
//! not be read.

use comfy_table::{Cell, Color, Table, presets};
use owo_colors::OwoColorize as _;

use super::RenderOptions;
use crate::engine::explain::{Confidence, Explanation};

fn confidence_text(confidence: Confidence, options: RenderOptions) -> String {
    let word = confidence.as_str();
    if !options.color {
        return word.to_string();
    }
    match confidence {
        Confidence::High => word.green().to_string(),
        Confidence::Medium => word.yellow().to_string(),
        Confidence::Low => word.red().to_string(),
    }
}

/// The first line of an error's text, shortened for the heading.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_string()
    }
}

pub fn render(explanation: &Explanation, options: RenderOptions) -> String {
    if explanation.errors.is_empty() {
        return "No error recognized in the text: no known message format and no telling keyword.\n"
            .to_string();
    }
    let mut out = String::new();
    for (number, error) in explanation.errors.iter().enumerate() {
        if number > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "ERROR {}  {}  confidence {}\n",
            number + 1,
            error.family.as_str(),
            confidence_text(error.confidence, options)
        ));
        out.push_str(&format!("  message:  {}\n", first_line(&error.text)));
        out.push_str(&format!("  meaning:  {}\n", error.summary));
        if !error.identifiers.is_empty() {
            let identifiers: Vec<String> = error
                .identifiers
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            out.push_str(&format!("  found:    {}\n", identifiers.join("  ")));
        }
        for cause in &error.causes {
            let name = match (&cause.name, &cause.rule) {
                (Some(name), Some(rule)) => format!("{name}/{rule}: "),
                (Some(name), None) => format!("{name}: "),
                _ => String::new(),
            };
            out.push_str(&format!("  cause:    {name}{}\n", cause.message));
            for field in &cause.fields {
                out.push_str(&format!("            field {field}\n"));
            }
        }
        if error.constraints.is_empty() {
            out.push_str("  constraints: none resolved\n");
        } else {
            let mut table = Table::new();
            table.load_style(presets::NOTHING);
            if options.color {
                table.enforce_styling();
            } else {
                table.force_no_tty();
            }
            table.set_header(vec![Cell::new("  CONSTRAINT"), Cell::new("WHY")]);
            for constraint in &error.constraints {
                let id = Cell::new(format!("  {}", constraint.id));
                let id = if options.color {
                    id.fg(Color::Cyan)
                } else {
                    id
                };
                table.add_row(vec![id, Cell::new(&constraint.why)]);
            }
            for line in table.to_string().lines() {
                out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
                out.push('\n');
            }
        }
        for unreadable in &error.unreadable {
            out.push_str(&format!("  unreadable: {unreadable}\n"));
        }
        for remediation in &error.remediations {
            out.push_str("  remediation:\n");
            for line in super::remediation::remediation_text(remediation, options).lines() {
                out.push_str(format!("    {line}").trim_end());
                out.push('\n');
            }
        }
    }
    out
}
