//! Markdown output of `check`, for a pull-request comment: a summary line with counts, then per
//! object a heading with its verdict and a table of findings (verdict, constraint, rule, message,
//! `file:line`); `unknown` findings are collapsed in a `<details>` block. Table cells escape `|`,
//! newlines and HTML.

use std::fmt::Write as _;

use super::check::{count_words, dry_run_line, finding_line, finding_text};
use crate::model::finding::{CheckResult, Finding, ObjectVerdict, Verdict};

fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Blocked => "❌ BLOCKED",
        Verdict::Unknown => "❔ UNKNOWN",
        Verdict::Warning => "⚠️ WARNINGS",
        Verdict::Pass => "✅ ADMITTED",
    }
}

fn finding_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Blocked => "❌ blocked",
        Verdict::Unknown => "❔ unknown",
        Verdict::Warning => "⚠️ warning",
        Verdict::Pass => "✅ pass",
    }
}

/// Escapes a table cell: `|`, HTML-significant characters, backticks kept, newlines as `<br>`.
pub fn cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '|' => escaped.push_str("\\|"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '\r' => {}
            '\n' => escaped.push_str("<br>"),
            character => escaped.push(character),
        }
    }
    escaped
}

fn table(entry: &ObjectVerdict, findings: &[&Finding], out: &mut String) {
    out.push_str("| Verdict | Constraint | Rule | Message | Location |\n");
    out.push_str("|---|---|---|---|---|\n");
    for finding in findings {
        let via = if finding.via_pod_template {
            " (on the Pods it creates)"
        } else {
            ""
        };
        let location = format!("{}:{}", entry.object.file, finding_line(entry, finding));
        let _ = writeln!(
            out,
            "| {} | {} `{}`{via} | {} | {} | `{}`{} |",
            finding_mark(finding.verdict),
            cell(&finding.constraint_kind),
            cell(&finding.constraint_id),
            finding
                .rule
                .as_deref()
                .map(|rule| format!("`{}`", cell(rule)))
                .unwrap_or_default(),
            cell(&finding_text(finding)),
            cell(&location),
            finding
                .field_path
                .as_deref()
                .map(|path| format!(" `{}`", cell(path)))
                .unwrap_or_default(),
        );
    }
}

fn render_object(entry: &ObjectVerdict, out: &mut String) {
    let object = &entry.object;
    let place = match &object.namespace {
        Some(namespace) => format!(" in `{}`", cell(namespace)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "#### {} `{}`{place} — `{}`\n",
        mark(entry.verdict),
        cell(&object.display_name()),
        cell(&object.location())
    );
    if entry.pods_rejected {
        let _ = writeln!(
            out,
            "The {} is admitted, but its Pods would be rejected.\n",
            cell(&object.kind)
        );
    }
    let (unknown, decided): (Vec<&Finding>, Vec<&Finding>) = entry
        .findings
        .iter()
        .partition(|finding| finding.verdict == Verdict::Unknown);
    if !decided.is_empty() {
        table(entry, &decided, out);
        out.push('\n');
    }
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} not evaluated by potoo (unknown)</summary>\n",
            if unknown.len() == 1 {
                "1 constraint".to_string()
            } else {
                format!("{} constraints", unknown.len())
            }
        );
        table(entry, &unknown, out);
        out.push_str("\n</details>\n\n");
    }
    for warning in &entry.network {
        let _ = writeln!(
            out,
            "- 🌐 network {} ({}): {}",
            cell(&warning.direction),
            cell(&warning.constraint_ids.join(", ")),
            cell(&warning.message)
        );
    }
    if let Some(outcome) = &entry.dry_run {
        let _ = writeln!(out, "- 🛰️ {}", cell(&dry_run_line(outcome)));
        if let Some(disagreement) = &outcome.disagreement {
            let _ = writeln!(out, "- ❗ **disagreement**: {}", cell(disagreement));
        }
    }
    if !entry.network.is_empty() || entry.dry_run.is_some() {
        out.push('\n');
    }
}

pub fn render(result: &CheckResult) -> String {
    let mut out = String::new();
    let objects = result.objects.len();
    let _ = writeln!(
        out,
        "### potoo check: {} {}: {}\n",
        objects,
        if objects == 1 { "object" } else { "objects" },
        count_words(result)
    );
    if result.incomplete {
        let _ = writeln!(
            out,
            "> **Incomplete:** {} kind(s) could not be read: {}\n",
            result.gaps.len(),
            cell(
                &result
                    .gaps
                    .iter()
                    .map(|gap| gap.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        );
    }
    for entry in &result.objects {
        render_object(entry, &mut out);
    }
    for note in &result.notes {
        let _ = writeln!(out, "> Note: {}.", cell(note));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_newlines_and_html() {
        assert_eq!(cell("a|b\nc <d>"), "a\\|b<br>c &lt;d&gt;");
    }
}
