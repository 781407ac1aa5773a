//! Gatekeeper's denial: `admission webhook "validation.gatekeeper.sh" denied the request:` followed
//! by one `[CONSTRAINT] MESSAGE` per violation (newline-separated), and its warnings
//! `Warning: [CONSTRAINT] MESSAGE` for `warn` enforcement.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, all_captures, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static VIOLATION: Pattern = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|denied the request: |Warning: |\n)\s*\[(?P<constraint>[a-z0-9][a-z0-9.-]*)\] (?P<message>[^\n]*)").ok()
});
static WEBHOOK: Pattern = LazyLock::new(|| {
    Regex::new(r#"admission webhook "(?P<webhook>[^"]*gatekeeper[^"]*)" denied the request"#).ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    let webhook = captures(&WEBHOOK, text);
    let violations = all_captures(&VIOLATION, text);
    if violations.is_empty() {
        return None;
    }
    let warning = webhook.is_none();
    if warning && !text.contains("Warning") && !text.trim_start().starts_with('[') {
        return None;
    }
    let mut parsed = Parsed::new(Family::Gatekeeper, String::new());
    if let Some(webhook) = &webhook {
        parsed.identify("webhook", group(webhook, "webhook"));
    }
    parsed.causes = violations
        .iter()
        .map(|found| Cause {
            name: group(found, "constraint").map(str::to_string),
            message: group(found, "message")
                .unwrap_or_default()
                .trim()
                .to_string(),
            ..Cause::default()
        })
        .collect();
    let names: Vec<String> = parsed
        .causes
        .iter()
        .filter_map(|cause| cause.name.clone())
        .collect();
    parsed.identify("constraint", Some(&names.join(", ")));
    parsed.summary = format!(
        "Gatekeeper {} by constraint{} {}",
        if warning {
            "warned"
        } else {
            "denied the request"
        },
        if names.len() == 1 { "" } else { "s" },
        names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Some(parsed)
}
