//! `test PATH`: runs the policy test suites under PATH (Kyverno `kyverno-test.yaml`, Gatekeeper
//! gator `Suite` files) and prints
//! every expected result as pass / fail / unknown (table, `-o wide`, `json`, `yaml`, `junit`);
//! exit 1 when a case fails or a suite cannot be run. Unknown cases are reported, never passed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use comfy_table::{Cell, Color, Table, presets};

use super::CommandOutput;
use crate::cli::GlobalOptions;
use crate::engine::test_suite::{self, CaseOutcome, SuiteSource, TestReport};
use crate::render;
use crate::render::check_junit::escape;

/// Reads suite files from the file system.
struct FileSystem;

impl SuiteSource for FileSystem {
    fn read(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|error| error.to_string())
    }

    fn list(&self, directory: &Path) -> Result<Vec<PathBuf>, String> {
        let entries = std::fs::read_dir(directory)
            .map_err(|error| format!("`{}`: {error}", directory.display()))?;
        Ok(entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect())
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}

/// The output name of `-o` (`table`, `wide`, `json`, `yaml`, `junit`, …).
fn output_name(global: &GlobalOptions) -> String {
    clap::ValueEnum::to_possible_value(&global.output)
        .map(|value| value.get_name().to_string())
        .unwrap_or_default()
}

pub async fn run(global: &GlobalOptions, path: &Path) -> anyhow::Result<CommandOutput> {
    if !path.exists() {
        return Err(anyhow!("`{}` does not exist", path.display()));
    }
    let root = path.to_path_buf();
    let report = tokio::task::spawn_blocking(move || test_suite::run(&root, &FileSystem))
        .await
        .map_err(|_| anyhow!("the test runner stopped unexpectedly"))?
        .map_err(|error| anyhow!(error))?;
    let options = global.render_options();
    let stdout = match output_name(global).as_str() {
        "json" => render::json::render(&report)?,
        "yaml" => render::yaml::render(&report)?,
        "junit" => junit(&report),
        "table" => table(&report, options.color, false),
        "wide" => table(&report, options.color, true),
        _ => return Err(super::unsupported_output("test", global.output)),
    };
    let mut stderr = Vec::new();
    let summary = &report.summary;
    if summary.unknown > 0 && matches!(output_name(global).as_str(), "table" | "wide") {
        stderr.push(format!(
            "note: {} case(s) could not be evaluated by potoo (unknown); they are not counted as passed",
            summary.unknown
        ));
    }
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: report.failed(),
    })
}

fn outcome_cell(outcome: CaseOutcome, color: bool) -> Cell {
    let cell = Cell::new(outcome.as_str());
    if !color {
        return cell;
    }
    match outcome {
        CaseOutcome::Pass => cell.fg(Color::Green),
        CaseOutcome::Fail => cell.fg(Color::Red),
        CaseOutcome::Unknown => cell.fg(Color::Yellow),
    }
}

/// One table of every case (`wide` adds the reason), then the suites that could not run and a
/// summary line.
pub fn table(report: &TestReport, color: bool, wide: bool) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let mut header = vec![
        "SUITE", "POLICY", "RULE", "RESOURCE", "EXPECTED", "ACTUAL", "RESULT",
    ];
    if wide {
        header.push("REASON");
    }
    table.set_header(header.into_iter().map(Cell::new).collect::<Vec<_>>());
    for suite in &report.suites {
        let suite_name = if suite.name.is_empty() {
            suite.file.clone()
        } else {
            suite.name.clone()
        };
        for case in &suite.cases {
            let mut row = vec![
                Cell::new(&suite_name),
                Cell::new(&case.policy),
                Cell::new(&case.rule),
                Cell::new(&case.resource),
                Cell::new(&case.expected),
                Cell::new(&case.actual),
                outcome_cell(case.outcome, color),
            ];
            if wide {
                row.push(Cell::new(&case.reason));
            }
            table.add_row(row);
        }
    }
    let mut text = String::new();
    for line in table.to_string().lines() {
        text.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
        text.push('\n');
    }
    for suite in &report.suites {
        if let Some(error) = &suite.error {
            let _ = writeln!(text, "error: suite `{}`: {error}", suite.file);
        }
    }
    let summary = &report.summary;
    let _ = writeln!(
        text,
        "\n{} passed, {} failed, {} unknown ({} cases in {} suites{})",
        summary.pass,
        summary.fail,
        summary.unknown,
        summary.cases,
        summary.suites,
        if summary.errors > 0 {
            format!(", {} could not be run", summary.errors)
        } else {
            String::new()
        }
    );
    text
}

/// JUnit XML for CI: one `<testsuite>` per suite file, one `<testcase>` per expected result;
/// failed cases carry `<failure>`, unknown ones `<skipped>`, unrunnable suites `<error>`.
pub fn junit(report: &TestReport) -> String {
    let summary = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"potoo test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        summary.cases, summary.fail, summary.errors, summary.unknown
    );
    for suite in &report.suites {
        let name = if suite.name.is_empty() {
            &suite.file
        } else {
            &suite.name
        };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            escape(name),
            escape(&suite.file),
            suite.cases.len().max(usize::from(suite.error.is_some())),
            suite.count(CaseOutcome::Fail),
            usize::from(suite.error.is_some()),
            suite.count(CaseOutcome::Unknown)
        );
        if let Some(error) = &suite.error {
            let _ = writeln!(
                out,
                "    <testcase name=\"load\" classname=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>",
                escape(name),
                escape(error)
            );
        }
        for case in &suite.cases {
            let case_name = format!("{}/{} {}", case.policy, case.rule, case.resource);
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                escape(&case_name),
                escape(name)
            );
            let message = format!(
                "expected {}, got {}: {}",
                case.expected, case.actual, case.reason
            );
            match case.outcome {
                CaseOutcome::Pass => out.push_str("/>\n"),
                CaseOutcome::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>",
                        escape(&message)
                    );
                }
                CaseOutcome::Unknown => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(&format!("not evaluated by potoo: {}", case.reason))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_suite::{CaseResult, SuiteResult};

    #[test]
    fn junit_messages_keep_their_line_breaks_and_drop_what_xml_cannot_carry() {
        let case = CaseResult {
            policy: "require-labels".to_string(),
            rule: "check-<team>".to_string(),
            resource: "Pod/shop/web".to_string(),
            expected: "fail".to_string(),
            actual: "pass".to_string(),
            outcome: CaseOutcome::Fail,
            reason: "first line\nsecond \"line\"\u{1}".to_string(),
            policy_kind: "ClusterPolicy".to_string(),
            rule_kind: "validate".to_string(),
        };
        let report = TestReport::new(vec![SuiteResult {
            file: "suite/kyverno-test.yaml".to_string(),
            name: "labels".to_string(),
            engine: "kyverno".to_string(),
            cases: vec![case],
            error: None,
        }]);
        let text = junit(&report);
        assert!(
            text.contains(
                "<failure message=\"expected fail, got pass: first line&#10;second &quot;line&quot;\"/>"
            ),
            "{text}"
        );
        assert!(
            text.contains("name=\"require-labels/check-&lt;team&gt; Pod/shop/web\""),
            "{text}"
        );
    }
}
