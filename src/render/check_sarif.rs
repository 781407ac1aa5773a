//! SARIF 2.1.0 output of `check`, for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` has one rule per constraint kind and rule, with the stable id
//! `potoo/<constraint kind>[/<rule>]` (`potoo/PodSecurity/privileged`,
//! `potoo/ValidatingWebhookConfiguration/images.policy.example.com`), plus
//! `potoo/network/<direction>` for network warnings and `potoo/server-dry-run/disagreement`.
//! One result per finding: `level` error (blocked), warning (warning) or note (unknown), anchored
//! to the manifest file (relative to the working directory, forward slashes) at the line of the
//! offending field, else the document's first line. `partialFingerprints` hash the rule id, the
//! object's identity and the field path — never the line, so alerts survive edits.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::check::{dry_run_line, finding_line, finding_text};
use crate::model::finding::{CheckResult, CheckedObject, Finding, ObjectVerdict, Verdict};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of potoo's fingerprint in `partialFingerprints` (bump the version if its input changes).
const FINGERPRINT_KEY: &str = "potooFinding/v1";

/// A rule in `tool.driver.rules`.
struct Rule {
    id: String,
    /// `shortDescription` (GitHub shows it as the alert's title).
    description: String,
    /// `fullDescription`.
    full_description: String,
    level: &'static str,
}

/// A result before its rule index is known.
struct Pending {
    rule: Rule,
    level: &'static str,
    message: String,
    object: CheckedObject,
    line: usize,
    fingerprint_input: String,
    properties: Value,
}

/// The SARIF rule id of a finding.
pub fn rule_id(finding: &Finding) -> String {
    match &finding.rule {
        Some(rule) => format!("potoo/{}/{rule}", finding.constraint_kind),
        None => format!("potoo/{}", finding.constraint_kind),
    }
}

fn level(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Blocked => "error",
        Verdict::Warning => "warning",
        Verdict::Unknown | Verdict::Pass => "note",
    }
}

fn rule_description(finding: &Finding) -> String {
    match &finding.rule {
        Some(rule) => format!("{} rule `{rule}`", finding.constraint_kind),
        None => format!("{} admission decision", finding.constraint_kind),
    }
}

/// `kind/namespace/name` of an object, the identity fingerprints use.
fn identity(object: &CheckedObject) -> String {
    format!(
        "{}/{}/{}/{}",
        object.api_version,
        object.kind,
        object.namespace.as_deref().unwrap_or(""),
        object.name
    )
}

fn pending_results(entry: &ObjectVerdict) -> Vec<Pending> {
    let object = &entry.object;
    let mut pending = Vec::new();
    for finding in &entry.findings {
        let rule = Rule {
            id: rule_id(finding),
            description: rule_description(finding),
            full_description: format!(
                "The {} admission check, as `kubectl potoo check` evaluates it on the manifests; each result names the constraint and the field at fault.",
                rule_description(finding)
            ),
            level: level(finding.verdict),
        };
        let via = if finding.via_pod_template {
            " (on the Pods it creates)"
        } else {
            ""
        };
        let message = format!(
            "{} {}: {}{via}: {}",
            object.display_name(),
            finding.verdict,
            finding.constraint_id,
            finding_text(finding)
        );
        pending.push(Pending {
            fingerprint_input: format!(
                "{}\n{}\n{}\n{}",
                rule.id,
                identity(object),
                finding.constraint_id,
                finding.field_path.as_deref().unwrap_or("")
            ),
            level: rule.level,
            rule,
            message,
            object: object.clone(),
            line: finding_line(entry, finding),
            properties: json!({
                "constraintId": finding.constraint_id,
                "verdict": finding.verdict,
                "viaPodTemplate": finding.via_pod_template,
                "fieldPath": finding.field_path,
            }),
        });
    }
    for warning in &entry.network {
        let id = format!("potoo/network/{}", warning.direction);
        pending.push(Pending {
            fingerprint_input: format!(
                "{id}\n{}\n{}",
                identity(object),
                warning.constraint_ids.join(",")
            ),
            rule: Rule {
                id,
                description: format!("network {} restrictions on the Pods", warning.direction),
                full_description: format!(
                    "NetworkPolicies restrict the {} traffic of the Pods these manifests create: what is default-denied, what is still allowed, and whether DNS is reachable.",
                    warning.direction
                ),
                level: "note",
            },
            level: "note",
            message: format!("{}: {}", object.display_name(), warning.message),
            object: object.clone(),
            line: object.line.unwrap_or(1),
            properties: json!({ "constraintIds": warning.constraint_ids }),
        });
    }
    if let Some(outcome) = &entry.dry_run
        && let Some(disagreement) = &outcome.disagreement
    {
        let id = "potoo/server-dry-run/disagreement".to_string();
        pending.push(Pending {
            fingerprint_input: format!("{id}\n{}", identity(object)),
            rule: Rule {
                id,
                description: "the apiserver's dry run disagrees with potoo".to_string(),
                full_description: "`--server-dry-run` sent the object to the live apiserver with dryRun=All, and its answer (admitted or rejected) differs from potoo's verdict.".to_string(),
                level: "error",
            },
            level: "error",
            message: format!(
                "{}: {disagreement} ({})",
                object.display_name(),
                dry_run_line(outcome)
            ),
            object: object.clone(),
            line: object.line.unwrap_or(1),
            properties: json!({ "dryRun": outcome }),
        });
    }
    pending
}

/// The SARIF document for a check result. `working_directory` makes absolute manifest paths
/// relative, as code scanning wants paths relative to the repository root.
pub fn render(result: &CheckResult, working_directory: &Path) -> anyhow::Result<String> {
    let pending: Vec<Pending> = result.objects.iter().flat_map(pending_results).collect();
    let mut rules: BTreeMap<String, &Rule> = BTreeMap::new();
    for item in &pending {
        rules.entry(item.rule.id.clone()).or_insert(&item.rule);
    }
    let rule_index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(index, id)| (id.as_str(), index))
        .collect();
    let rules_json: Vec<Value> = rules
        .values()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id.trim_start_matches("potoo/"),
                "shortDescription": { "text": rule.description },
                "fullDescription": { "text": rule.full_description },
                "help": { "text": "Run `kubectl potoo check -f FILE` for the finding in context, and `kubectl potoo query --workload KIND/NAME` for why the constraint applies." },
                "defaultConfiguration": { "level": rule.level },
                "properties": { "tags": ["kubernetes", "admission"] },
            })
        })
        .collect();
    let results: Vec<Value> = pending
        .iter()
        .map(|item| {
            json!({
                "ruleId": item.rule.id,
                "ruleIndex": rule_index.get(item.rule.id.as_str()).copied().unwrap_or(0),
                "level": item.level,
                "message": { "text": item.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(&item.object.file, working_directory) },
                        "region": { "startLine": item.line },
                    }
                }],
                "partialFingerprints": { FINGERPRINT_KEY: fingerprint(&item.fingerprint_input) },
                "properties": item.properties,
            })
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "potoo",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules_json,
                }
            },
            "results": results,
            "properties": {
                "incomplete": result.incomplete,
                "gaps": result.gaps,
                "notes": result.notes,
            },
        }]
    });
    super::json::render(&document)
}

/// The manifest path as a relative URI reference: relative to the working directory when it is
/// under it, forward slashes, `./` dropped, reserved characters percent-encoded.
pub fn artifact_uri(file: &str, working_directory: &Path) -> String {
    let path = Path::new(file);
    let relative = path.strip_prefix(working_directory).unwrap_or(path);
    let text = relative.to_string_lossy().replace('\\', "/");
    let text = text.trim_start_matches("./");
    let mut uri = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// 64-bit FNV-1a as 16 hex digits: stable across Rust versions and platforms.
fn fingerprint(input: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes_and_encoded() {
        let base = Path::new("/repo");
        assert_eq!(
            artifact_uri("/repo/deploy/web.yaml", base),
            "deploy/web.yaml"
        );
        assert_eq!(artifact_uri("./deploy/a b.yaml", base), "deploy/a%20b.yaml");
        assert_eq!(artifact_uri("/elsewhere/x.yaml", base), "/elsewhere/x.yaml");
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
        assert_ne!(
            fingerprint("rule\nobject\nspec.a"),
            fingerprint("rule\nobject\nspec.b")
        );
    }
}
