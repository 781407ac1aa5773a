//! JUnit XML output of `check`, for CI test reports: one `<testsuite>` per manifest file, one
//! `<testcase>` per object. An object whose verdict is at or above the `--fail-on` threshold (or
//! whose server-side dry run disagrees with potoo) gets a `<failure>`; an `unknown` below the
//! threshold is `<skipped>`; every finding, network warning and dry-run answer is listed in the
//! `<failure>` text, else in `<system-out>`. Follows the Jenkins xUnit `junit-10.xsd` (validated in `tests/check_outputs.rs`).

use std::fmt::Write as _;

use super::check::{dry_run_line, finding_line, finding_text};
use crate::model::finding::{CheckResult, ObjectVerdict, Verdict};

/// What a test case reports.
enum Outcome {
    Passed,
    Failed { kind: &'static str, message: String },
    Skipped { message: String },
}

fn outcome(entry: &ObjectVerdict, threshold: Verdict) -> Outcome {
    let headline = |verdict: Verdict| -> String {
        let first = entry
            .findings
            .iter()
            .find(|finding| finding.verdict == verdict)
            .map(finding_text)
            .unwrap_or_default();
        format!("{}: {first}", verdict.headline())
    };
    let disagreement = entry
        .dry_run
        .as_ref()
        .and_then(|outcome| outcome.disagreement.clone());
    if entry.verdict != Verdict::Pass && entry.verdict >= threshold {
        return Outcome::Failed {
            kind: entry.verdict.as_str(),
            message: headline(entry.verdict),
        };
    }
    if let Some(disagreement) = disagreement {
        return Outcome::Failed {
            kind: "server-dry-run",
            message: disagreement,
        };
    }
    if entry.verdict == Verdict::Unknown {
        return Outcome::Skipped {
            message: headline(Verdict::Unknown),
        };
    }
    Outcome::Passed
}

/// The text of `<system-out>`: every finding with its location, network warnings, dry run.
fn details(entry: &ObjectVerdict) -> String {
    let mut text = String::new();
    for finding in &entry.findings {
        let _ = writeln!(
            text,
            "{} {} {}{}: {} ({}:{}{})",
            finding.verdict.as_str().to_ascii_uppercase(),
            finding.constraint_kind,
            finding.constraint_id,
            finding
                .rule
                .as_ref()
                .map(|rule| format!(" [{rule}]"))
                .unwrap_or_default(),
            finding_text(finding),
            entry.object.file,
            finding_line(entry, finding),
            finding
                .field_path
                .as_ref()
                .map(|path| format!(" {path}"))
                .unwrap_or_default(),
        );
    }
    for warning in &entry.network {
        let _ = writeln!(
            text,
            "NETWORK {} {}: {}",
            warning.direction,
            warning.constraint_ids.join(", "),
            warning.message
        );
    }
    if let Some(outcome) = &entry.dry_run {
        let _ = writeln!(text, "{}", dry_run_line(outcome));
        if let Some(disagreement) = &outcome.disagreement {
            let _ = writeln!(text, "DISAGREEMENT: {disagreement}");
        }
    }
    text
}

pub fn render(result: &CheckResult, threshold: Verdict) -> String {
    let mut files: Vec<&str> = Vec::new();
    for entry in &result.objects {
        if !files.contains(&entry.object.file.as_str()) {
            files.push(&entry.object.file);
        }
    }
    let outcomes: Vec<(&ObjectVerdict, Outcome)> = result
        .objects
        .iter()
        .map(|entry| (entry, outcome(entry, threshold)))
        .collect();
    let count = |entries: &[&(&ObjectVerdict, Outcome)], failed: bool| {
        entries
            .iter()
            .filter(|(_, outcome)| match outcome {
                Outcome::Failed { .. } => failed,
                Outcome::Skipped { .. } => !failed,
                Outcome::Passed => false,
            })
            .count()
    };
    let all: Vec<&(&ObjectVerdict, Outcome)> = outcomes.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"potoo check\" tests=\"{}\" failures=\"{}\" errors=\"0\">",
        all.len(),
        count(&all, true)
    );
    for file in files {
        let cases: Vec<&(&ObjectVerdict, Outcome)> = outcomes
            .iter()
            .filter(|(entry, _)| entry.object.file == file)
            .collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            escape(file),
            escape(file),
            cases.len(),
            count(&cases, true),
            count(&cases, false)
        );
        for (entry, outcome) in cases {
            let object = &entry.object;
            let name = match &object.namespace {
                Some(namespace) => format!("{} in {namespace}", object.display_name()),
                None => object.display_name(),
            };
            let text = details(entry);
            let head = format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                escape(&name),
                escape(file)
            );
            match outcome {
                Outcome::Failed { kind, message } => {
                    let _ = writeln!(
                        out,
                        "{head}>\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape(message),
                        escape_text(&text)
                    );
                }
                Outcome::Skipped { message } => {
                    let _ = writeln!(
                        out,
                        "{head}>\n      <skipped message=\"{}\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(message),
                        escape_text(&text)
                    );
                }
                Outcome::Passed if text.is_empty() => {
                    let _ = writeln!(out, "{head}/>");
                }
                Outcome::Passed => {
                    let _ = writeln!(
                        out,
                        "{head}>\n      <system-out>{}</system-out>\n    </testcase>",
                        escape_text(&text)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML content; characters XML 1.0 cannot carry are dropped.
pub fn escape_text(text: &str) -> String {
    escape(text).replace("&#10;", "\n")
}

/// Escapes text for XML attributes (newlines and tabs as character references, which
/// attribute-value normalization would otherwise turn into spaces); characters XML 1.0 cannot
/// carry are dropped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push_str(&format!("&#{};", u32::from(character))),
            character if u32::from(character) < 0x20 => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            character => escaped.push(character),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;"
        );
        assert_eq!(escape_text("a\nb<"), "a\nb&lt;");
    }
}
