//! Table output of `check`: per object ADMITTED / BLOCKED / WARNINGS / UNKNOWN, then each finding
//! grouped by constraint (constraint, rule or check, message, field path), then a summary and notes.

use owo_colors::OwoColorize;

use super::RenderOptions;
use crate::model::finding::{
    CheckResult, DryRunOutcome, DryRunResult, Finding, ObjectVerdict, Verdict,
};

pub fn table(result: &CheckResult, options: RenderOptions) -> String {
    let mut text = String::new();
    if result.objects.is_empty() {
        text.push_str("No objects to check.\n");
    }
    for (position, entry) in result.objects.iter().enumerate() {
        if position > 0 {
            text.push('\n');
        }
        render_object(entry, options, &mut text);
    }
    if !result.objects.is_empty() {
        text.push('\n');
        text.push_str(&summary(result));
        text.push('\n');
    }
    for note in &result.notes {
        text.push_str(&format!("Note: {note}.\n"));
    }
    text
}

fn paint(word: &str, verdict: Verdict, options: RenderOptions) -> String {
    if !options.color {
        return word.to_string();
    }
    match verdict {
        Verdict::Pass => word.green().to_string(),
        Verdict::Warning => word.yellow().to_string(),
        Verdict::Unknown => word.magenta().to_string(),
        Verdict::Blocked => word.red().bold().to_string(),
    }
}

fn render_object(entry: &ObjectVerdict, options: RenderOptions, text: &mut String) {
    let object = &entry.object;
    let place = match &object.namespace {
        Some(namespace) => format!(" in {namespace}"),
        None => String::new(),
    };
    text.push_str(&format!(
        "{}{place} ({}): {}\n",
        object.display_name(),
        object.location(),
        paint(entry.verdict.headline(), entry.verdict, options)
    ));
    if entry.pods_rejected {
        let deciders: Vec<&str> = entry
            .findings
            .iter()
            .filter(|finding| finding.verdict == Verdict::Blocked && finding.via_pod_template)
            .map(|finding| finding.constraint_kind.as_str())
            .fold(Vec::new(), |mut unique, kind| {
                if !unique.contains(&kind) {
                    unique.push(kind);
                }
                unique
            });
        text.push_str(&format!(
            "  the {} is admitted, but its Pods would be rejected by {}\n",
            object.kind,
            deciders.join(", ")
        ));
    }
    let mut start = 0;
    while start < entry.findings.len() {
        let first = &entry.findings[start];
        let end = entry.findings[start..]
            .iter()
            .position(|finding| !same_group(first, finding))
            .map_or(entry.findings.len(), |offset| start + offset);
        render_group(
            &entry.findings[start..end],
            &entry.field_lines,
            options,
            text,
        );
        start = end;
    }
    for warning in &entry.network {
        text.push_str(&format!(
            "  NETWORK {} {}\n    {}\n",
            warning.direction,
            warning.constraint_ids.join(", "),
            warning.message
        ));
    }
    if let Some(outcome) = &entry.dry_run {
        text.push_str(&format!("  {}\n", dry_run_line(outcome)));
        for warning in &outcome.warnings {
            text.push_str(&format!("    apiserver warning: {warning}\n"));
        }
        if let Some(disagreement) = &outcome.disagreement {
            text.push_str(&format!(
                "    {}: {disagreement}\n",
                paint("DISAGREEMENT", Verdict::Blocked, options)
            ));
        }
    }
}

/// `SERVER DRY RUN: rejected: <message>` (the apiserver's answer to `--server-dry-run`).
pub fn dry_run_line(outcome: &DryRunOutcome) -> String {
    let word = match outcome.result {
        DryRunResult::Admitted => "admitted",
        DryRunResult::Rejected => "rejected",
        DryRunResult::Error => "not done",
    };
    match &outcome.message {
        Some(message) => format!("SERVER DRY RUN {word}: {message}"),
        None => format!("SERVER DRY RUN {word}"),
    }
}

/// The 1-based line a finding is anchored to: its field's line when it was found in the
/// manifest text, else the line where the object's document starts (1 for JSON).
pub fn finding_line(entry: &ObjectVerdict, finding: &Finding) -> usize {
    finding
        .field_path
        .as_ref()
        .and_then(|path| entry.field_lines.get(path))
        .copied()
        .or(entry.object.line)
        .unwrap_or(1)
}

/// The finding's own words: its part of an aggregated message when it has one, else the
/// message; with the reason of an `unknown`.
pub fn finding_text(finding: &Finding) -> String {
    let mut text = finding
        .detail
        .clone()
        .unwrap_or_else(|| finding.message.clone());
    if let Some(reason) = &finding.reason {
        text.push_str(" — ");
        text.push_str(reason);
    }
    text
}

/// Findings of one constraint with one verdict and one message (one aggregated apiserver answer).
fn same_group(left: &Finding, right: &Finding) -> bool {
    left.constraint_id == right.constraint_id
        && left.verdict == right.verdict
        && left.message == right.message
}

fn render_group(
    group: &[Finding],
    lines: &std::collections::BTreeMap<String, usize>,
    options: RenderOptions,
    text: &mut String,
) {
    let first = &group[0];
    let word = first.verdict.as_str().to_ascii_uppercase();
    let via = if first.via_pod_template {
        " (on the Pods it creates)"
    } else {
        ""
    };
    text.push_str(&format!(
        "  {} {} {}{via}\n",
        paint(&word, first.verdict, options),
        first.constraint_kind,
        first.constraint_id
    ));
    text.push_str(&format!("    {}\n", first.message));
    if let Some(reason) = &first.reason {
        text.push_str(&format!("    {reason}\n"));
    }
    for finding in group {
        let rule_line = match (&finding.rule, &finding.detail) {
            (Some(rule), Some(detail)) => Some(format!("{rule}: {detail}")),
            (Some(rule), None) if group.len() > 1 || finding.field_path.is_some() => {
                Some(rule.clone())
            }
            (None, Some(detail)) => Some(detail.clone()),
            _ => None,
        };
        if let Some(line) = rule_line {
            text.push_str(&format!("    - {line}\n"));
        }
        let paths: Vec<&str> = if finding.field_paths.is_empty() {
            finding.field_path.iter().map(String::as_str).collect()
        } else {
            finding.field_paths.iter().map(String::as_str).collect()
        };
        if !paths.is_empty() {
            let located: Vec<String> = paths
                .iter()
                .map(|path| match lines.get(*path) {
                    Some(line) => format!("{path} (line {line})"),
                    None => path.to_string(),
                })
                .collect();
            text.push_str(&format!("      at {}\n", located.join(", ")));
        }
    }
}

fn summary(result: &CheckResult) -> String {
    let objects = result.objects.len();
    format!(
        "{objects} {}: {}.",
        if objects == 1 { "object" } else { "objects" },
        count_words(result)
    )
}

/// `1 blocked, 1 unknown, 2 admitted` (verdicts with no object are left out).
pub fn count_words(result: &CheckResult) -> String {
    let mut parts: Vec<String> = result
        .counts()
        .into_iter()
        .map(|(verdict, number)| {
            let label = match verdict {
                Verdict::Blocked => "blocked",
                Verdict::Unknown => "unknown",
                Verdict::Warning => "admitted with warnings",
                Verdict::Pass => "admitted",
            };
            format!("{number} {label}")
        })
        .collect();
    let disagreements = result
        .objects
        .iter()
        .filter(|entry| {
            entry
                .dry_run
                .as_ref()
                .is_some_and(|outcome| outcome.disagreement.is_some())
        })
        .count();
    if disagreements > 0 {
        parts.push(format!(
            "{disagreements} {} with the apiserver",
            if disagreements == 1 {
                "disagreement"
            } else {
                "disagreements"
            }
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finding::CheckedObject;

    fn object() -> CheckedObject {
        CheckedObject {
            api_version: "v1".to_string(),
            kind: "Pod".to_string(),
            namespace: Some("team-a".to_string()),
            name: "p".to_string(),
            file: "p.yaml".to_string(),
            document: 1,
            line: None,
            item: None,
        }
    }

    fn finding(rule: &str, path: &str) -> Finding {
        Finding {
            object: object(),
            constraint_id: "Namespace/_cluster/team-a#pod-security-enforce".to_string(),
            constraint_kind: "PodSecurity".to_string(),
            rule: Some(rule.to_string()),
            verdict: Verdict::Blocked,
            message: "pods \"p\" is forbidden: violates PodSecurity \"baseline:latest\": …"
                .to_string(),
            detail: Some(format!("{rule} (…)")),
            field_path: Some(path.to_string()),
            field_paths: Vec::new(),
            reason: None,
            via_pod_template: false,
        }
    }

    #[test]
    fn findings_of_one_answer_are_grouped_under_one_message() {
        let result = CheckResult::new(
            Vec::new(),
            vec!["a note".to_string()],
            vec![ObjectVerdict::new(
                object(),
                vec![
                    finding(
                        "privileged",
                        "spec.containers[0].securityContext.privileged",
                    ),
                    finding("hostNamespaces", "spec.hostPID"),
                ],
            )],
        );
        let text = table(
            &result,
            RenderOptions {
                color: false,
                wide: false,
            },
        );
        assert_eq!(text.matches("is forbidden").count(), 1, "{text}");
        assert!(
            text.starts_with("Pod/p in team-a (p.yaml document 1): BLOCKED\n"),
            "{text}"
        );
        assert!(text.contains("    - hostNamespaces: hostNamespaces (…)\n      at spec.hostPID\n"));
        assert!(text.contains("1 object: 1 blocked."));
        assert!(text.ends_with("Note: a note.\n"));
    }
}
