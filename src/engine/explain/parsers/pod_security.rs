//! Pod Security admission: `violates PodSecurity "LEVEL:VERSION": CHECK (DETAIL), …` (enforce) and
//! `would violate PodSecurity "LEVEL:VERSION": …` (warn, audit), with each check's reason mapped
//! back to its check ID and the fields at fault.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, all_captures, captures, group, quoted_names, split_top_level};
use crate::engine::explain::{Cause, Family, Parsed};

static VIOLATES: Pattern = LazyLock::new(|| {
    Regex::new(r#"(?P<would>would violate|violates) PodSecurity "(?P<level>[a-z]+):(?P<version>[^"]+)": (?P<detail>[^\n]+)"#).ok()
});
static SECURITY_FIELD: Pattern =
    LazyLock::new(|| Regex::new(r"securityContext\.(?P<field>[A-Za-z]+(?:\.[A-Za-z]+)*)").ok());

/// The apiserver's reason text → the check ID (pod-security-admission `policy/check_*.go`).
fn check_id(reason: &str, level: &str) -> Option<&'static str> {
    let id = match reason {
        "host namespaces" => "hostNamespaces",
        "privileged" => "privileged",
        "hostPath volumes" => "hostPathVolumes",
        "hostPort" => "hostPorts",
        "non-default capabilities" => "capabilities_baseline",
        "unrestricted capabilities" => "capabilities_restricted",
        "forbidden AppArmor profile" | "forbidden AppArmor profiles" => "appArmorProfile",
        "seLinuxOptions" => "seLinuxOptions",
        "seccompProfile" if level == "baseline" => "seccompProfile_baseline",
        "seccompProfile" => "seccompProfile_restricted",
        "forbidden sysctls" => "sysctls",
        "hostProcess" => "windowsHostProcess",
        "probe or lifecycle host" | "probe or lifecycle hosts" => "hostProbesAndHostLifecycle",
        "procMount" => "procMount",
        "restricted volume types" => "restrictedVolumes",
        "allowPrivilegeEscalation != false" => "allowPrivilegeEscalation",
        "runAsNonRoot != true" => "runAsNonRoot",
        "runAsUser=0" => "runAsUser",
        _ => return None,
    };
    Some(id)
}

pub fn parse(text: &str) -> Option<Parsed> {
    let found = captures(&VIOLATES, text)?;
    let level = group(&found, "level").unwrap_or_default();
    let version = group(&found, "version").unwrap_or_default();
    let enforced = group(&found, "would") == Some("violates");
    let detail = group(&found, "detail").unwrap_or_default();
    let mut parsed = Parsed::new(Family::PodSecurity, String::new());
    parsed.identify("level", Some(level));
    parsed.identify("version", Some(version));
    parsed.identify("mode", Some(if enforced { "enforce" } else { "warn" }));
    for item in split_top_level(detail, ", ") {
        let (reason, explanation) = match item.find(" (") {
            Some(open) if item.ends_with(')') => (&item[..open], &item[open + 2..item.len() - 1]),
            _ => (item.as_str(), ""),
        };
        let check = check_id(reason, level);
        let mut facts = BTreeMap::new();
        facts.insert("reason".to_string(), reason.to_string());
        parsed.causes.push(Cause {
            name: check.map(str::to_string),
            rule: None,
            message: item.clone(),
            fields: fields(check.unwrap_or_default(), explanation),
            facts,
        });
    }
    let checks: Vec<String> = parsed
        .causes
        .iter()
        .filter_map(|cause| cause.name.clone())
        .collect();
    parsed.identify("checks", Some(&checks.join(", ")));
    parsed.summary = format!(
        "Pod Security admission ({} level `{level}:{version}`) {} the Pod: {} check{} failed ({})",
        if enforced { "enforce" } else { "warn/audit" },
        if enforced { "rejected" } else { "warned about" },
        parsed.causes.len(),
        if parsed.causes.len() == 1 { "" } else { "s" },
        checks.join(", ")
    );
    Some(parsed)
}

/// The fields a check's detail points at, relative to the Pod.
fn fields(check: &str, explanation: &str) -> Vec<String> {
    let names = quoted_names(explanation);
    match check {
        "hostNamespaces" => explanation
            .split(", ")
            .filter_map(|setting| setting.split('=').next())
            .map(|setting| format!("spec.{setting}"))
            .collect(),
        "hostPathVolumes" | "restrictedVolumes" => names
            .iter()
            .map(|volume| format!("spec.volumes[{volume}]"))
            .collect(),
        "hostPorts" => names
            .iter()
            .map(|container| format!("spec.containers[{container}].ports[*].hostPort"))
            .collect(),
        "sysctls" => vec!["spec.securityContext.sysctls".to_string()],
        _ => {
            let settings: Vec<String> = all_captures(&SECURITY_FIELD, explanation)
                .iter()
                .filter_map(|found| group(found, "field").map(str::to_string))
                .collect();
            let mut paths = Vec::new();
            for setting in &settings {
                if explanation.contains("pod or container") || explanation.starts_with("pod ") {
                    paths.push(format!("spec.securityContext.{setting}"));
                }
                for container in &names {
                    paths.push(format!(
                        "spec.containers[{container}].securityContext.{setting}"
                    ));
                }
            }
            paths.dedup();
            paths
        }
    }
}
