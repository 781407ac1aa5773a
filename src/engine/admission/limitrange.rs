//! The LimitRange engine for `check`: the requests and limits the LimitRanger plugin would fill in
//! on each container (shown as `pass` findings), and its min / max / maxLimitRequestRatio verdicts
//! on Pods (and on the Pods controllers create) and PersistentVolumeClaims, with the apiserver's
//! own messages (`pods "web" is forbidden: maximum cpu usage per Container is 1, but limit is 2`).

use serde_json::Value;

use crate::model::finding::{Finding, Verdict};
use crate::source::GroupKind;

use super::dispatch::{
    Applicable, CheckContext, ObjectUnderCheck, finding, unknown_finding, unknown_findings,
};
use super::resources::{
    self, ContainerKind, InjectedDefaults, LimitRangeEntry, LimitRangeRules, PodResources,
    Quantity, ResourceList,
};

/// A Pod as admission sees it after LimitRanger's defaults, and what the defaults were.
pub struct EffectivePod {
    pub resources: PodResources,
    pub injected: Vec<InjectedDefaults>,
    /// The LimitRanges that could be read (by name).
    pub ranges: Vec<LimitRangeRules>,
    /// LimitRanges that could not be read, and why.
    pub unreadable: Vec<(String, String)>,
}

/// Reads a Pod and applies every LimitRange of its namespace, in name order, as LimitRanger does.
pub fn effective_pod(
    context: &CheckContext<'_>,
    namespace: &str,
    pod: &Value,
) -> Result<EffectivePod, resources::FieldError> {
    let mut pod_resources = PodResources::from_pod(pod)?;
    let mut ranges = Vec::new();
    let mut unreadable = Vec::new();
    for range in resources::limit_ranges_in(context.merged, namespace) {
        match range {
            Ok(range) => ranges.push(range),
            Err((name, error)) => unreadable.push((name, error.to_string())),
        }
    }
    let injected = resources::apply_defaults(&mut pod_resources, &ranges);
    Ok(EffectivePod {
        resources: pod_resources,
        injected,
        ranges,
        unreadable,
    })
}

/// The first LimitRange (by name) that rejects the defaulted Pod, if any: the apiserver stops
/// there, before ResourceQuota is consulted.
pub fn rejecting_range(effective: &EffectivePod) -> Option<&str> {
    effective
        .ranges
        .iter()
        .find(|range| !pod_violations(range, &effective.resources).is_empty())
        .map(|range| range.name.as_str())
}

/// One LimitRanger error, and where in the Pod it is.
struct Violation {
    rule: String,
    message: String,
    path: String,
}

/// Findings of every LimitRange of the object's namespace.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    let group_kind = object.manifest.object.group_kind();
    if group_kind == GroupKind::new("", "PersistentVolumeClaim") {
        return claim_findings(context, object, applicable);
    }
    // LimitRanger acts on Pods being created (containers cannot change on update).
    let (pod, name, via_template) = if object.is_pod() {
        if exists_in_cluster(context, object) {
            return Vec::new();
        }
        let name = pod_name(&object.manifest.object.value);
        (&object.manifest.object.value, name, false)
    } else {
        match object.template {
            Some(template) if template.kind.creates_pods => {
                (&template.pod, template.display_name.clone(), true)
            }
            _ => return Vec::new(),
        }
    };
    let to_object_path = |path: &str| match object.template {
        Some(template) if via_template => template.object_path(path),
        _ => path.to_string(),
    };
    let effective = match effective_pod(context, object.namespace, pod) {
        Ok(effective) => effective,
        Err(error) => {
            return unknown_findings(
                object,
                applicable,
                &format!(
                    "because {} is not a valid quantity, so LimitRanger's result is unknown",
                    error_with_path(&error, &to_object_path)
                ),
                via_template,
            );
        }
    };
    let mut findings = Vec::new();
    for applicable in applicable {
        let range_name = &applicable.constraint.source.name;
        if let Some((_, why)) = effective
            .unreadable
            .iter()
            .find(|(name, _)| name == range_name)
        {
            let mut unknown = unknown_finding(
                object,
                applicable,
                format!("because LimitRange `{range_name}` cannot be read: {why}"),
            );
            unknown.via_pod_template = via_template;
            findings.push(unknown);
            continue;
        }
        let Some(range) = effective
            .ranges
            .iter()
            .find(|range| &range.name == range_name)
        else {
            continue;
        };
        let injected: Vec<&InjectedDefaults> = effective
            .injected
            .iter()
            .filter(|injected| &injected.limit_range == range_name)
            .collect();
        if !injected.is_empty() {
            let message = annotation(&injected);
            for defaults in injected {
                let mut note = finding(object, applicable, Verdict::Pass, message.clone());
                note.detail = Some(describe_defaults(defaults));
                note.field_path = Some(to_object_path(&format!("{}.resources", defaults.path)));
                note.via_pod_template = via_template;
                findings.push(note);
            }
        }
        let violations = pod_violations(range, &effective.resources);
        if violations.is_empty() {
            continue;
        }
        let message = forbidden("pods", &name, &violations);
        for violation in violations {
            let mut blocked = finding(object, applicable, Verdict::Blocked, message.clone());
            blocked.rule = Some(violation.rule);
            blocked.detail = Some(violation.message);
            blocked.field_path = Some(to_object_path(&violation.path));
            blocked.via_pod_template = via_template;
            findings.push(blocked);
        }
    }
    findings
}

fn exists_in_cluster(context: &CheckContext<'_>, object: &ObjectUnderCheck<'_>) -> bool {
    let group_kind = object.manifest.object.group_kind();
    let name = &object.manifest.object.name;
    !name.is_empty()
        && context
            .cluster
            .find(
                &group_kind.group,
                &group_kind.kind,
                Some(object.namespace),
                name,
            )
            .is_some()
}

/// The name the apiserver prints for an object being created: its name, else its generateName.
pub fn pod_name(object: &Value) -> String {
    let metadata = object.get("metadata");
    let read = |field: &str| {
        metadata
            .and_then(|metadata| metadata.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let name = read("name");
    if name.is_empty() {
        read("generateName")
    } else {
        name
    }
}

fn error_with_path(
    error: &resources::FieldError,
    to_object_path: &impl Fn(&str) -> String,
) -> String {
    format!("`{}` ({})", to_object_path(&error.path), error.problem)
}

/// `<resource> "<name>" is forbidden: <error>`, several errors as `[a, b]` (Go's aggregate,
/// duplicates dropped).
pub fn forbidden_text(resource: &str, name: &str, messages: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::new();
    for message in messages {
        if !unique.contains(&message) {
            unique.push(message);
        }
    }
    let body = if unique.len() == 1 {
        unique[0].clone()
    } else {
        format!(
            "[{}]",
            unique
                .iter()
                .map(|message| message.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!("{resource} \"{name}\" is forbidden: {body}")
}

fn forbidden(resource: &str, name: &str, violations: &[Violation]) -> String {
    let messages: Vec<String> = violations
        .iter()
        .map(|violation| violation.message.clone())
        .collect();
    forbidden_text(resource, name, &messages)
}

/// The `kubernetes.io/limit-ranger` annotation LimitRanger writes on the Pod.
fn annotation(injected: &[&InjectedDefaults]) -> String {
    let mut parts = Vec::new();
    for defaults in injected {
        let prefix = match defaults.container_kind {
            ContainerKind::Regular => "container",
            ContainerKind::Init | ContainerKind::Sidecar => "init container",
        };
        if !defaults.requests.is_empty() {
            let names: Vec<&str> = defaults.requests.keys().map(String::as_str).collect();
            parts.push(format!(
                "{} request for {prefix} {}",
                names.join(", "),
                defaults.container
            ));
        }
        if !defaults.limits.is_empty() {
            let names: Vec<&str> = defaults.limits.keys().map(String::as_str).collect();
            parts.push(format!(
                "{} limit for {prefix} {}",
                names.join(", "),
                defaults.container
            ));
        }
    }
    format!("LimitRanger plugin set: {}", parts.join("; "))
}

/// `container `app`: requests.cpu=100m, limits.cpu=500m`.
fn describe_defaults(defaults: &InjectedDefaults) -> String {
    let mut values: Vec<String> = defaults
        .requests
        .iter()
        .map(|(name, quantity)| format!("requests.{name}={quantity}"))
        .collect();
    values.extend(
        defaults
            .limits
            .iter()
            .map(|(name, quantity)| format!("limits.{name}={quantity}")),
    );
    format!("container `{}`: {}", defaults.container, values.join(", "))
}

/// LimitRanger's errors for one LimitRange on a defaulted Pod, in its order: per entry, each
/// container (then init container) against min, max and ratio; Pod entries on the pod totals.
fn pod_violations(range: &LimitRangeRules, pod: &PodResources) -> Vec<Violation> {
    let mut violations = Vec::new();
    for entry in &range.entries {
        match entry.limit_type.as_str() {
            "Container" => {
                let ordered = pod
                    .containers
                    .iter()
                    .filter(|container| container.kind == ContainerKind::Regular)
                    .chain(
                        pod.containers
                            .iter()
                            .filter(|container| container.kind != ContainerKind::Regular),
                    );
                for container in ordered {
                    check_entry(
                        entry,
                        &container.requests,
                        &container.limits,
                        &format!("{}.resources", container.path),
                        &mut violations,
                    );
                }
            }
            "Pod" => {
                let requests = pod_totals(pod, |container| &container.requests);
                let limits = pod_totals(pod, |container| &container.limits);
                check_entry(
                    entry,
                    &requests,
                    &limits,
                    "spec.containers[*].resources",
                    &mut violations,
                );
            }
            _ => {}
        }
    }
    violations
}

/// The pod's requests or limits as LimitRanger sums them (containers, sidecars and init
/// containers; no overhead).
fn pod_totals(
    pod: &PodResources,
    pick: impl Fn(&resources::ContainerResources) -> &ResourceList,
) -> ResourceList {
    let without_overhead = PodResources {
        overhead: ResourceList::new(),
        containers: pod
            .containers
            .iter()
            .map(|container| {
                let mut copy = container.clone();
                let chosen = pick(container).clone();
                copy.requests = chosen.clone();
                copy.limits = chosen;
                copy
            })
            .collect(),
        ..pod.clone()
    };
    without_overhead.requests()
}

fn check_entry(
    entry: &LimitRangeEntry,
    requests: &ResourceList,
    limits: &ResourceList,
    path: &str,
    violations: &mut Vec<Violation>,
) {
    let kind = entry.limit_type.as_str();
    let bounds: [(&str, &ResourceList, BoundError); 3] = [
        ("min", &entry.min, min_error),
        ("max", &entry.max, max_error),
        (
            "maxLimitRequestRatio",
            &entry.max_limit_request_ratio,
            ratio_error,
        ),
    ];
    for (bound, enforced_list, error) in bounds {
        for (name, enforced) in enforced_list {
            if let Some((message, field)) = error(kind, name, enforced, requests, limits) {
                violations.push(Violation {
                    rule: format!("{kind} {name} {bound}"),
                    message,
                    path: format!("{path}.{field}.{name}"),
                });
            }
        }
    }
}

/// One LimitRanger bound check: the message and the field at fault (`requests` or `limits`).
type BoundError =
    fn(&str, &str, &Quantity, &ResourceList, &ResourceList) -> Option<(String, &'static str)>;

/// `minConstraint`: the message and the field at fault (`requests` or `limits`).
fn min_error(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<(String, &'static str)> {
    let Some(request) = requests.get(name) else {
        return Some((
            format!("minimum {name} usage per {kind} is {enforced}.  No request is specified"),
            "requests",
        ));
    };
    if request.milli_value() < enforced.milli_value() {
        return Some((
            format!("minimum {name} usage per {kind} is {enforced}, but request is {request}"),
            "requests",
        ));
    }
    match limits.get(name) {
        Some(limit) if limit.milli_value() < enforced.milli_value() => Some((
            format!("minimum {name} usage per {kind} is {enforced}, but limit is {limit}"),
            "limits",
        )),
        _ => None,
    }
}

/// `maxConstraint`.
fn max_error(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<(String, &'static str)> {
    let Some(limit) = limits.get(name) else {
        return Some((
            format!("maximum {name} usage per {kind} is {enforced}.  No limit is specified"),
            "limits",
        ));
    };
    if limit.milli_value() > enforced.milli_value() {
        return Some((
            format!("maximum {name} usage per {kind} is {enforced}, but limit is {limit}"),
            "limits",
        ));
    }
    match requests.get(name) {
        Some(request) if request.milli_value() > enforced.milli_value() => Some((
            format!("maximum {name} usage per {kind} is {enforced}, but request is {request}"),
            "requests",
        )),
        _ => None,
    }
}

/// `limitRequestRatioConstraint`: the message and `limits`, the field at fault.
fn ratio_error(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<(String, &'static str)> {
    let request = requests.get(name).map(Quantity::milli_value).unwrap_or(0);
    if request == 0 {
        return Some((
            format!(
                "{name} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
            ),
            "limits",
        ));
    }
    let limit = limits.get(name).map(Quantity::milli_value).unwrap_or(0);
    if limit == 0 {
        return Some((
            format!(
                "{name} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
            ),
            "limits",
        ));
    }
    let observed = limit as f64 / request as f64;
    if observed * 1000.0 > enforced.milli_value() as f64 {
        return Some((
            format!(
                "{name} max limit to request ratio per {kind} is {enforced}, but provided ratio is {observed:.6}"
            ),
            "limits",
        ));
    }
    None
}

/// PersistentVolumeClaim entries: min and max on the claim's storage request.
fn claim_findings(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    let claim = &object.manifest.object.value;
    let requests = match resources::read_list(
        claim.pointer("/spec/resources/requests"),
        "spec.resources.requests",
    ) {
        Ok(requests) => requests,
        Err(error) => {
            return unknown_findings(
                object,
                applicable,
                &format!(
                    "because `{}` is not a valid quantity ({}), so LimitRanger's result is unknown",
                    error.path, error.problem
                ),
                false,
            );
        }
    };
    let ranges = resources::limit_ranges_in(context.merged, object.namespace);
    let mut findings = Vec::new();
    for applicable in applicable {
        let range_name = &applicable.constraint.source.name;
        let range = ranges.iter().find_map(|range| match range {
            Ok(range) if &range.name == range_name => Some(Ok(range)),
            Err((name, error)) if name == range_name => Some(Err(error)),
            _ => None,
        });
        let range = match range {
            Some(Ok(range)) => range,
            Some(Err(error)) => {
                let mut unknown = unknown_finding(
                    object,
                    applicable,
                    format!("because LimitRange `{range_name}` cannot be read: {error}"),
                );
                unknown.via_pod_template = false;
                findings.push(unknown);
                continue;
            }
            None => continue,
        };
        let mut violations = Vec::new();
        for entry in &range.entries {
            if entry.limit_type != "PersistentVolumeClaim" {
                continue;
            }
            let kind = entry.limit_type.as_str();
            for (name, enforced) in &entry.min {
                if let Some((message, _)) =
                    min_error(kind, name, enforced, &requests, &ResourceList::new())
                {
                    violations.push(Violation {
                        rule: format!("{kind} {name} min"),
                        message,
                        path: format!("spec.resources.requests.{name}"),
                    });
                }
            }
            for (name, enforced) in &entry.max {
                let message = match requests.get(name) {
                    None => Some(format!(
                        "maximum {name} usage per {kind} is {enforced}.  No request is specified"
                    )),
                    Some(request) if request.milli_value() > enforced.milli_value() => {
                        Some(format!(
                            "maximum {name} usage per {kind} is {enforced}, but request is {request}"
                        ))
                    }
                    Some(_) => None,
                };
                if let Some(message) = message {
                    violations.push(Violation {
                        rule: format!("{kind} {name} max"),
                        message,
                        path: format!("spec.resources.requests.{name}"),
                    });
                }
            }
        }
        if violations.is_empty() {
            continue;
        }
        let message = forbidden("persistentvolumeclaims", &pod_name(claim), &violations);
        for violation in violations {
            let mut blocked = finding(object, applicable, Verdict::Blocked, message.clone());
            blocked.rule = Some(violation.rule);
            blocked.detail = Some(violation.message);
            blocked.field_path = Some(violation.path);
            blocked.via_pod_template = false;
            findings.push(blocked);
        }
    }
    findings
}
