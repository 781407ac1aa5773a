//! Kyverno's admission denial: `resource KIND/NAMESPACE/NAME was blocked due to the following
//! policies` followed by the YAML of policy → rule → message (kyverno `GetBlockedMessages`), usually
//! inside `admission webhook "validate.kyverno.svc-fail" denied the request:`; also Kyverno's
//! warnings `policy POLICY.RULE: message`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, all_captures, captures, group, is_match};
use crate::engine::explain::{Cause, Family, Parsed};

static HEADER: Pattern = LazyLock::new(|| {
    Regex::new(r"resource (?P<kind>[^/\s]+)/(?P<namespace>[^/\s]*)/(?P<name>\S+) was blocked due to the following polic(?:y|ies)").ok()
});
static POLICY_LINE: Pattern = LazyLock::new(|| Regex::new(r"^\s*[A-Za-z0-9][\w.-]*:\s*$").ok());
/// Flattened blocks (one line, as some tools log them): `policy: rule: 'message'`.
static FLAT_RULE: Pattern = LazyLock::new(|| {
    Regex::new(r"(?P<policy>[A-Za-z0-9][\w.-]*):\s+(?P<rule>[A-Za-z0-9][\w.-]*): '(?P<message>(?:[^']|'')*)'").ok()
});
static WARNING: Pattern = LazyLock::new(|| {
    Regex::new(
        r"policy (?P<policy>[A-Za-z0-9][\w.-]*)\.(?P<rule>[A-Za-z0-9][\w-]*): (?P<message>.+)",
    )
    .ok()
});
static KYVERNO_WEBHOOK: Pattern =
    LazyLock::new(|| Regex::new(r#"admission webhook "(?P<webhook>[^"]*kyverno[^"]*)""#).ok());
static FAILED_PATH: Pattern =
    LazyLock::new(|| Regex::new(r"(?i)rule \S+ failed at path (?P<path>/\S*)").ok());

/// The line that opens Kyverno's per-policy block.
pub fn is_header(line: &str) -> bool {
    is_match(&HEADER, line)
}

/// A `policy-name:` line of the block.
pub fn is_policy_line(line: &str) -> bool {
    is_match(&POLICY_LINE, line)
}

pub fn parse(text: &str) -> Option<Parsed> {
    if let Some(header) = captures(&HEADER, text) {
        let mut parsed = Parsed::new(Family::Kyverno, String::new());
        parsed.identify("kind", group(&header, "kind"));
        parsed.identify("namespace", group(&header, "namespace"));
        parsed.identify("object", group(&header, "name"));
        if let Some(webhook) = captures(&KYVERNO_WEBHOOK, text) {
            parsed.identify("webhook", group(&webhook, "webhook"));
        }
        let block_start = header.get(0).map_or(text.len(), |found| found.end());
        parsed.causes = rules(&text[block_start..]);
        finish(&mut parsed, "blocked");
        return Some(parsed);
    }
    if text.contains("kyverno") || text.trim_start().starts_with("Warning: policy ") {
        let warning = captures(&WARNING, text)?;
        let mut parsed = Parsed::new(Family::Kyverno, String::new());
        parsed.causes = vec![cause(
            group(&warning, "policy").unwrap_or_default(),
            group(&warning, "rule").unwrap_or_default(),
            group(&warning, "message").unwrap_or_default(),
        )];
        finish(&mut parsed, "warned about");
        return Some(parsed);
    }
    None
}

fn finish(parsed: &mut Parsed, verb: &str) {
    let policies: Vec<String> = dedup(parsed.causes.iter().filter_map(|cause| cause.name.clone()));
    let rules: Vec<String> = dedup(parsed.causes.iter().filter_map(|cause| cause.rule.clone()));
    parsed.identify("policy", Some(&policies.join(", ")));
    parsed.identify("rule", Some(&rules.join(", ")));
    let object = match (parsed.identifier("kind"), parsed.identifier("object")) {
        (Some(kind), Some(name)) => format!("{kind} `{name}`"),
        _ => "the object".to_string(),
    };
    parsed.summary = format!(
        "Kyverno {verb} {object}: {}",
        parsed
            .causes
            .iter()
            .map(|cause| format!(
                "policy `{}` rule `{}`",
                cause.name.as_deref().unwrap_or("?"),
                cause.rule.as_deref().unwrap_or("?")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// The policy → rule → message block: YAML when it is intact, else the flattened form.
fn rules(block: &str) -> Vec<Cause> {
    let dedented = dedent(block);
    if let Ok(policies) =
        serde_saphyr::from_str::<BTreeMap<String, BTreeMap<String, String>>>(&dedented)
    {
        let causes: Vec<Cause> = policies
            .iter()
            .flat_map(|(policy, rules)| {
                rules
                    .iter()
                    .map(move |(rule, message)| cause(policy, rule, message))
            })
            .collect();
        if !causes.is_empty() {
            return causes;
        }
    }
    all_captures(&FLAT_RULE, block)
        .iter()
        .map(|found| {
            cause(
                group(found, "policy").unwrap_or_default(),
                group(found, "rule").unwrap_or_default(),
                &group(found, "message")
                    .unwrap_or_default()
                    .replace("''", "'"),
            )
        })
        .collect()
}

fn cause(policy: &str, rule: &str, message: &str) -> Cause {
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let fields = captures(&FAILED_PATH, &message)
        .and_then(|found| group(&found, "path").map(json_pointer_to_field))
        .into_iter()
        .collect();
    Cause {
        name: Some(policy.to_string()),
        rule: Some(rule.to_string()),
        message,
        fields,
        facts: BTreeMap::new(),
    }
}

/// `/spec/containers/0/securityContext/` → `spec.containers[0].securityContext`.
fn json_pointer_to_field(pointer: &str) -> String {
    let mut field = String::new();
    for segment in pointer.split('/').filter(|segment| !segment.is_empty()) {
        if segment.chars().all(|character| character.is_ascii_digit()) {
            field.push_str(&format!("[{segment}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(segment);
        }
    }
    field
}

/// Removes the common indentation and blank lines around the block.
fn dedent(block: &str) -> String {
    let lines: Vec<&str> = block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let indent = lines
        .iter()
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_becomes_field_path() {
        assert_eq!(
            json_pointer_to_field("/spec/containers/0/securityContext/"),
            "spec.containers[0].securityContext"
        );
    }
}
