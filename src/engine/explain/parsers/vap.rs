//! ValidatingAdmissionPolicy: the apiserver's denial `ValidatingAdmissionPolicy 'POLICY' with
//! binding 'BINDING' denied request: MESSAGE` (or without a binding), and the `Warn` action's
//! `Validation failed for ValidatingAdmissionPolicy 'POLICY' with binding 'BINDING': MESSAGE`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static DENIED: Pattern = LazyLock::new(|| {
    Regex::new(r"ValidatingAdmissionPolicy '(?P<policy>[^']+)'(?: with binding '(?P<binding>[^']+)')? denied request: (?P<message>(?s).*)").ok()
});
static WARNED: Pattern = LazyLock::new(|| {
    Regex::new(r"Validation failed for ValidatingAdmissionPolicy '(?P<policy>[^']+)'(?:\s+with binding '(?P<binding>[^']+)')?: (?P<message>(?s).*)").ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    let (found, action) = match captures(&DENIED, text) {
        Some(found) => (found, "denied the request"),
        None => (captures(&WARNED, text)?, "warned"),
    };
    let policy = group(&found, "policy").unwrap_or_default();
    let binding = group(&found, "binding");
    let message = group(&found, "message").unwrap_or_default().trim();
    let mut parsed = Parsed::new(
        Family::ValidatingAdmissionPolicy,
        format!(
            "ValidatingAdmissionPolicy `{policy}`{} {action}: {message}",
            binding
                .map(|binding| format!(" through binding `{binding}`"))
                .unwrap_or_default()
        ),
    );
    parsed.identify("policy", Some(policy));
    parsed.identify("binding", binding);
    parsed.identify(
        "action",
        Some(if action == "warned" { "Warn" } else { "Deny" }),
    );
    parsed.causes.push(Cause {
        name: Some(policy.to_string()),
        rule: binding.map(str::to_string),
        message: message.to_string(),
        ..Cause::default()
    });
    Some(parsed)
}
