//! One parser per error family, each reading the format the real component prints, tried from
//! the most specific format to the most general; a keyword guess comes last (confidence low).

pub mod cilium;
pub mod gatekeeper;
pub mod image_pull;
pub mod istio;
pub mod kyverno;
pub mod limitrange;
pub mod network;
pub mod pod_security;
pub mod quota;
pub mod rbac;
pub mod scheduling;
pub mod vap;
pub mod webhook;

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::{Family, Parsed};

/// A compiled pattern; `None` only if the source were invalid (a unit test compiles them all).
pub type Pattern = LazyLock<Option<Regex>>;

/// The first match of `pattern` in `text`.
pub fn captures<'text>(pattern: &Pattern, text: &'text str) -> Option<Captures<'text>> {
    pattern.as_ref()?.captures(text)
}

/// Every match of `pattern` in `text`.
pub fn all_captures<'text>(pattern: &Pattern, text: &'text str) -> Vec<Captures<'text>> {
    match pattern.as_ref() {
        Some(regex) => regex.captures_iter(text).collect(),
        None => Vec::new(),
    }
}

pub fn is_match(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|regex| regex.is_match(text))
}

/// A named group's text.
pub fn group<'text>(captures: &Captures<'text>, name: &str) -> Option<&'text str> {
    captures.name(name).map(|found| found.as_str())
}

/// Lines that open an error in a paste.
static START: Pattern = LazyLock::new(|| {
    Regex::new(
        r#"(?i)error from server|^error:|^\s*error\b|^warning:|^\s*warning\s|admission webhook|is forbidden|denied|exceeded quota|failed quota|nodes are available|failed to pull image|back-off pulling image|errimagepull|imagepullbackoff|errimageneverpull|invalidimagename|dial tcp|connection refused|i/o timeout|no route to host|connection reset|upstream connect error|no healthy upstream|policy denied|violate[s]? podsecurity|validatingadmissionpolicy|cannot \S+ resource|failedscheduling|timed out|no such host|usage per|ratio per|context deadline exceeded|failed to connect|^\[[\w.-]+\] "#,
    )
    .ok()
});

/// Whether `line` opens an error.
pub fn starts_error(line: &str) -> bool {
    is_match(&START, line)
}

/// Recognizes one error unit.
pub fn parse(text: &str) -> Option<Parsed> {
    let parsers: [fn(&str) -> Option<Parsed>; 13] = [
        kyverno::parse,
        gatekeeper::parse,
        pod_security::parse,
        vap::parse,
        quota::parse,
        limitrange::parse,
        rbac::parse,
        webhook::parse,
        scheduling::parse,
        image_pull::parse,
        cilium::parse,
        istio::parse,
        network::parse,
    ];
    let mut parsed = parsers
        .iter()
        .find_map(|parser| parser(text))
        .or_else(|| keywords(text))?;
    identify_object(&mut parsed, text);
    Some(parsed)
}

/// `pods "web" is forbidden:` (apierrors' `%s %q is forbidden: %v`) and kubectl's
/// `error when creating "file.yaml":` around admission errors.
static FORBIDDEN_OBJECT: Pattern = LazyLock::new(|| {
    Regex::new(r#"(?P<resource>[a-z0-9][a-z0-9.-]*) "(?P<name>[^"]+)" is forbidden:"#).ok()
});
static KUBECTL_FILE: Pattern = LazyLock::new(|| {
    Regex::new(r#"error when (?:creating|applying|patching|replacing|updating|retrieving current configuration of)[^"]*"(?P<file>[^"]+)""#).ok()
});

fn identify_object(parsed: &mut Parsed, text: &str) {
    if let Some(found) = captures(&FORBIDDEN_OBJECT, text) {
        parsed.identify("objectResource", group(&found, "resource"));
        if !parsed.identifiers.contains_key("object") {
            parsed.identify("object", group(&found, "name"));
        }
    }
    if let Some(found) = captures(&KUBECTL_FILE, text) {
        parsed.identify("file", group(&found, "file"));
    }
}

/// Words that hint at a family when no format matched.
const KEYWORDS: &[(&str, Family)] = &[
    ("podsecurity", Family::PodSecurity),
    ("pod security", Family::PodSecurity),
    ("gatekeeper", Family::Gatekeeper),
    ("kyverno", Family::Kyverno),
    ("quota", Family::ResourceQuota),
    ("limitrange", Family::LimitRange),
    ("limit range", Family::LimitRange),
    ("webhook", Family::Webhook),
    ("rbac", Family::Rbac),
    ("unauthorized", Family::Rbac),
    ("schedul", Family::Scheduling),
    ("taint", Family::Scheduling),
    ("image", Family::ImagePull),
    ("envoy", Family::Istio),
    ("istio", Family::Istio),
    ("mtls", Family::Istio),
    ("cilium", Family::Cilium),
    ("hubble", Family::Cilium),
    ("networkpolicy", Family::Network),
    ("network policy", Family::Network),
    ("timeout", Family::Network),
    ("refused", Family::Network),
    ("unreachable", Family::Network),
    ("forbidden", Family::Unknown),
    ("denied", Family::Unknown),
    ("blocked", Family::Unknown),
    ("policy", Family::Unknown),
];

fn keywords(text: &str) -> Option<Parsed> {
    let lowered = text.to_ascii_lowercase();
    let (word, family) = KEYWORDS
        .iter()
        .find(|(word, _)| lowered.contains(word))
        .copied()?;
    let mut parsed = Parsed::new(
        family,
        format!(
            "no known message format; the word `{word}` suggests the {} family",
            family.as_str()
        ),
    );
    parsed.keywords_only = true;
    parsed.identify("keyword", Some(word));
    Some(parsed)
}

/// Splits `text` on `separator` outside quotes, parentheses, brackets and braces.
pub fn split_top_level(text: &str, separator: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth: i32 = 0;
    let mut quoted = false;
    let mut current = String::new();
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if !quoted && depth == 0 && rest.starts_with(separator) {
            parts.push(std::mem::take(&mut current));
            rest = &rest[separator.len()..];
            continue;
        }
        match character {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            _ => {}
        }
        current.push(character);
        rest = &rest[character.len_utf8()..];
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
        .into_iter()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect()
}

/// The quoted names in `text`: `container "a", "b"` → `["a", "b"]`.
pub fn quoted_names(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The message a webhook denial carries, after `denied the request:`.
pub fn denial_body(text: &str) -> Option<&str> {
    let marker = "denied the request:";
    let start = text.find(marker)? + marker.len();
    Some(text[start..].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_split_keeps_parentheses_together() {
        assert_eq!(
            split_top_level("a (x, y), b {k: v, w}, \"c, d\"", ", "),
            vec!["a (x, y)", "b {k: v, w}", "\"c, d\""]
        );
    }

    #[test]
    fn quoted_names_are_read() {
        assert_eq!(quoted_names(r#"containers "a", "b" must"#), vec!["a", "b"]);
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(START.is_some());
        assert!(FORBIDDEN_OBJECT.is_some());
        assert!(KUBECTL_FILE.is_some());
    }
}
