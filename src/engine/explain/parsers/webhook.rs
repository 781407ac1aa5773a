//! Admission webhook errors (apiserver `webhook/errors`): `admission webhook "NAME" denied the
//! request: MESSAGE` (or `… without explanation`), and failures to call one: `failed calling
//! webhook "NAME": CAUSE` (the webhook's service is unreachable and its failurePolicy is Fail).

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, denial_body, group};
use crate::engine::explain::{Cause, Family, Parsed};

static DENIED: Pattern = LazyLock::new(|| {
    Regex::new(r#"admission webhook "(?P<webhook>[^"]+)" denied the request(?P<silent> without explanation)?"#).ok()
});
static FAILED_CALLING: Pattern = LazyLock::new(|| {
    Regex::new(r#"failed calling webhook "(?P<webhook>[^"]+)": (?P<cause>[^\n]+)"#).ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    if let Some(found) = captures(&DENIED, text) {
        let webhook = group(&found, "webhook").unwrap_or_default();
        let message = if group(&found, "silent").is_some() {
            String::new()
        } else {
            denial_body(text)
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut parsed = Parsed::new(
            Family::Webhook,
            format!(
                "the validating webhook `{webhook}` denied the request{}",
                if message.is_empty() {
                    " without explanation".to_string()
                } else {
                    format!(": {message}")
                }
            ),
        );
        parsed.identify("webhook", Some(webhook));
        parsed.causes.push(Cause {
            name: Some(webhook.to_string()),
            message,
            ..Cause::default()
        });
        return Some(parsed);
    }
    let found = captures(&FAILED_CALLING, text)?;
    let webhook = group(&found, "webhook").unwrap_or_default();
    let cause = group(&found, "cause").unwrap_or_default();
    let mut parsed = Parsed::new(
        Family::Webhook,
        format!(
            "the apiserver could not call webhook `{webhook}` ({cause}); with failurePolicy Fail every matching request is rejected until its service answers"
        ),
    );
    parsed.identify("webhook", Some(webhook));
    parsed.identify("failure", Some(cause));
    parsed.causes.push(Cause {
        name: Some(webhook.to_string()),
        message: cause.to_string(),
        ..Cause::default()
    });
    Some(parsed)
}
