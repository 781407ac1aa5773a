//! ResourceQuota admission: `exceeded quota: NAME, requested: R=Q, used: R=Q, limited: R=Q` and
//! `failed quota: NAME: must specify RESOURCES[ for: CONTAINERS]` (apiserver `resourcequota`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static EXCEEDED: Pattern = LazyLock::new(|| {
    Regex::new(r"exceeded quota: (?P<quota>[^,\s]+), requested: (?P<requested>\S+), used: (?P<used>\S+), limited: (?P<limited>[^\s\]]+)").ok()
});
static MUST_SPECIFY: Pattern = LazyLock::new(|| {
    Regex::new(r"failed quota: (?P<quota>[^:\s]+): must specify (?P<resources>[^\n]+?)(?: for: (?P<containers>[^\n\]]+))?\]?$").ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    if let Some(found) = captures(&EXCEEDED, text) {
        let quota = group(&found, "quota").unwrap_or_default();
        let requested = group(&found, "requested").unwrap_or_default();
        let used = group(&found, "used").unwrap_or_default();
        let limited = group(&found, "limited").unwrap_or_default();
        let mut parsed = Parsed::new(
            Family::ResourceQuota,
            format!(
                "ResourceQuota `{quota}` is full: the request asks for {requested}, {used} is already used, the limit is {limited}"
            ),
        );
        parsed.identify("quota", Some(quota));
        parsed.identify("requested", Some(requested));
        parsed.identify("used", Some(used));
        parsed.identify("limited", Some(limited));
        let mut facts = BTreeMap::new();
        facts.insert("requested".to_string(), requested.to_string());
        facts.insert("used".to_string(), used.to_string());
        facts.insert("limited".to_string(), limited.to_string());
        parsed.causes.push(Cause {
            name: Some(quota.to_string()),
            message: format!("requested {requested}, used {used}, limited {limited}"),
            facts,
            ..Cause::default()
        });
        return Some(parsed);
    }
    let found = text
        .lines()
        .find_map(|line| captures(&MUST_SPECIFY, line.trim_end()))?;
    let quota = group(&found, "quota").unwrap_or_default();
    let resources = group(&found, "resources").unwrap_or_default().trim();
    let containers = group(&found, "containers");
    let mut parsed = Parsed::new(
        Family::ResourceQuota,
        format!(
            "ResourceQuota `{quota}` limits {resources}, so every container must set it{}",
            containers
                .map(|containers| format!("; missing in {containers}"))
                .unwrap_or_default()
        ),
    );
    parsed.identify("quota", Some(quota));
    parsed.identify("mustSpecify", Some(resources));
    parsed.identify("containers", containers);
    let fields = containers
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|container| !container.is_empty())
        .flat_map(|container| {
            resources.split(',').map(move |resource| {
                let resource = resource.trim();
                let (kind, name) = resource.split_once('.').unwrap_or(("requests", resource));
                format!("spec.containers[{container}].resources.{kind}.{name}")
            })
        })
        .collect();
    parsed.causes.push(Cause {
        name: Some(quota.to_string()),
        message: format!("must specify {resources}"),
        fields,
        ..Cause::default()
    });
    Some(parsed)
}
