//! LimitRanger admission: `minimum|maximum RESOURCE usage per TYPE is ENFORCED, but limit|request
//! is ACTUAL`, `… is ENFORCED.  No limit|request is specified`, and `RESOURCE max limit to request
//! ratio per TYPE is ENFORCED, but provided ratio is RATIO` (apiserver `limitranger`), several at
//! once in an aggregate `[…, …]`. The messages do not name the LimitRange; resolution finds it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, all_captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static BOUND: Pattern = LazyLock::new(|| {
    Regex::new(r"(?P<bound>minimum|maximum) (?P<resource>\S+) usage per (?P<type>Container|Pod|PersistentVolumeClaim) is (?P<enforced>[^,\s]+?)(?:, but (?P<which>limit|request) is (?P<actual>[^,\s\]]+?)\.?(?:[,\]\s]|$)|\.\s+No (?P<missing>limit|request) is specified)").ok()
});
static RATIO: Pattern = LazyLock::new(|| {
    Regex::new(r"(?P<resource>\S+) max limit to request ratio per (?P<type>Container|Pod|PersistentVolumeClaim) is (?P<enforced>[^,\s]+), but (?:provided ratio is (?P<actual>[0-9.]+)|no (?P<missing>request|limit) is specified)").ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    let mut causes = Vec::new();
    for found in all_captures(&BOUND, text) {
        let bound = group(&found, "bound").unwrap_or_default();
        let resource = group(&found, "resource").unwrap_or_default();
        let limit_type = group(&found, "type").unwrap_or_default();
        let enforced = group(&found, "enforced").unwrap_or_default();
        let which = group(&found, "which")
            .or(group(&found, "missing"))
            .unwrap_or("limit");
        let mut facts = BTreeMap::new();
        facts.insert(
            "bound".to_string(),
            if bound == "minimum" { "min" } else { "max" }.to_string(),
        );
        facts.insert("resource".to_string(), resource.to_string());
        facts.insert("type".to_string(), limit_type.to_string());
        facts.insert("enforced".to_string(), enforced.to_string());
        if let Some(actual) = group(&found, "actual") {
            facts.insert("actual".to_string(), actual.to_string());
        }
        let message = match group(&found, "actual") {
            Some(actual) => format!(
                "{bound} {resource} per {limit_type} is {enforced}, but the {which} is {actual}"
            ),
            None => {
                format!("{bound} {resource} per {limit_type} is {enforced}, and no {which} is set")
            }
        };
        causes.push(Cause {
            name: None,
            rule: None,
            message,
            fields: vec![field(limit_type, which, resource)],
            facts,
        });
    }
    for found in all_captures(&RATIO, text) {
        let resource = group(&found, "resource").unwrap_or_default();
        let limit_type = group(&found, "type").unwrap_or_default();
        let enforced = group(&found, "enforced").unwrap_or_default();
        let mut facts = BTreeMap::new();
        facts.insert("bound".to_string(), "maxLimitRequestRatio".to_string());
        facts.insert("resource".to_string(), resource.to_string());
        facts.insert("type".to_string(), limit_type.to_string());
        facts.insert("enforced".to_string(), enforced.to_string());
        if let Some(actual) = group(&found, "actual") {
            facts.insert("actual".to_string(), actual.to_string());
        }
        causes.push(Cause {
            message: format!(
                "the {resource} limit may be at most {enforced}× the request per {limit_type}"
            ),
            fields: vec![field(limit_type, "limit", resource)],
            facts,
            ..Cause::default()
        });
    }
    if causes.is_empty() {
        return None;
    }
    let mut parsed = Parsed::new(
        Family::LimitRange,
        format!(
            "a LimitRange in the namespace rejected the resources: {}",
            causes
                .iter()
                .map(|cause| cause.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    let first = &causes[0].facts;
    parsed.identify("resource", first.get("resource").map(String::as_str));
    parsed.identify("limitType", first.get("type").map(String::as_str));
    parsed.identify("bound", first.get("bound").map(String::as_str));
    parsed.identify("enforced", first.get("enforced").map(String::as_str));
    parsed.identify("actual", first.get("actual").map(String::as_str));
    parsed.causes = causes;
    Some(parsed)
}

fn field(limit_type: &str, which: &str, resource: &str) -> String {
    let kind = if which == "request" {
        "requests"
    } else {
        "limits"
    };
    match limit_type {
        "Container" => format!("spec.containers[*].resources.{kind}.{resource}"),
        "PersistentVolumeClaim" => format!("spec.resources.requests.{resource}"),
        _ => format!("spec.containers[*].resources.{kind}.{resource} (summed over the Pod)"),
    }
}
