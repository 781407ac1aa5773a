//! The ResourceQuota engine for `check`: what each manifest object would add to every quota of its
//! namespace — the object itself (`count/deployments.apps`, `services.nodeports`, claim storage)
//! and, for controllers, each Pod its controller would create (replicas, the rolling-update surge
//! on an update, LimitRange defaults applied) — checked in order against hard − used − what earlier
//! manifests of the run consumed (the `Ledger`), honouring scopes and scope selectors, with the
//! apiserver's messages (`exceeded quota: …`, `failed quota: …: must specify …`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::finding::{Finding, Verdict};
use crate::source::{GroupKind, Object};

use super::dispatch::{
    Applicable, CheckContext, ObjectUnderCheck, finding, unknown_finding, unknown_findings,
};
use super::limitrange::{effective_pod, forbidden_text, pod_name, rejecting_range};
use super::podtemplate::pod_from_template;
use super::resources::{
    self, FieldError, PodResources, ResourceList, add, mask, pretty, remove_zeros,
    subtract_non_negative,
};

/// Usage of each quota as the objects checked so far in this run leave it (status.used plus
/// what they consumed), keyed by namespace and quota name.
#[derive(Debug, Default)]
pub struct Ledger {
    used: BTreeMap<(String, String), ResourceList>,
}

/// One admission request (or Pod deletion) the manifest object leads to.
#[derive(Debug, Clone)]
enum Event {
    Create(Request),
    /// An old Pod goes away during a rollout or a scale-down.
    Delete(Box<PodResources>),
}

#[derive(Debug, Clone)]
struct Request {
    /// `pods`, `services`, `deployments.apps`.
    resource: String,
    name: String,
    usage: ResourceList,
    /// The Pod, when the request creates one (quota scopes and "must specify" apply to Pods).
    pod: Option<Box<PodResources>>,
    /// The 1-based number of the Pod among the Pods the controller creates.
    ordinal: Option<usize>,
    /// Created by the object's controller (its ReplicaSet, its Pods), not the object itself.
    via_controller: bool,
}

/// A quota as the admission plugin reads it.
struct QuotaRun<'a> {
    applicable: &'a Applicable<'a>,
    name: String,
    hard: ResourceList,
    /// Used at the start of this object (status.used plus earlier manifests).
    start: ResourceList,
    state: ResourceList,
    selectors: Vec<ScopeRequirement>,
    requested: ResourceList,
    failure: Option<Failure>,
}

struct Failure {
    message: String,
    detail: Option<String>,
    via_pods: bool,
}

#[derive(Debug, Clone)]
struct ScopeRequirement {
    scope: String,
    operator: String,
    values: Vec<String>,
}

/// What happens to the Pods of a controller: how many, and the note that explains it.
struct PodPlan {
    events: Vec<Event>,
    note: Option<String>,
}

/// Findings of every ResourceQuota of the object's namespace.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
    ledger: &mut Ledger,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let events = match object_events(context, object) {
        Ok(events) => events,
        Err((error, via_pods)) => {
            return unknown_findings(
                object,
                applicable,
                &format!(
                    "because `{}` is not valid ({}), so what it would be charged is unknown",
                    error.path, error.problem
                ),
                via_pods,
            );
        }
    };
    if events.events.is_empty() {
        return findings;
    }
    let mut runs = Vec::new();
    for applicable in applicable {
        match quota_run(context, object.namespace, applicable, ledger) {
            Ok(run) => runs.push(run),
            Err(reason) => {
                if !could_charge(context, object.namespace, applicable, &events.events) {
                    continue;
                }
                let mut unknown = unknown_finding(object, applicable, reason);
                unknown.via_pod_template = object.creates_pods && !object.is_pod();
                findings.push(unknown);
            }
        }
    }
    simulate(&events.events, &mut runs);
    for run in runs {
        let key = (object.namespace.to_string(), run.name.clone());
        ledger.used.insert(key, run.state.clone());
        match run.failure {
            Some(failure) => {
                let mut blocked =
                    finding(object, run.applicable, Verdict::Blocked, failure.message);
                blocked.detail = failure.detail;
                blocked.reason = events.note.clone().filter(|_| failure.via_pods);
                blocked.via_pod_template = failure.via_pods && !object.is_pod();
                findings.push(blocked);
            }
            None if !run.requested.is_empty() => {
                let names: Vec<String> = run.requested.keys().cloned().collect();
                let mut fits = finding(
                    object,
                    run.applicable,
                    Verdict::Pass,
                    format!(
                        "within quota: {}, requested: {}, used: {}, limited: {}",
                        run.name,
                        pretty(&run.requested),
                        pretty(&mask(&run.start, &names)),
                        pretty(&mask(&run.hard, &names))
                    ),
                );
                fits.reason = events.note.clone();
                fits.via_pod_template = false;
                findings.push(fits);
            }
            None => {}
        }
    }
    findings
}

/// Reads a quota's status (and the usage earlier manifests added); `Err` with the reason when its
/// usage is unknown.
fn quota_run<'a>(
    context: &CheckContext<'_>,
    namespace: &str,
    applicable: &'a Applicable<'a>,
    ledger: &Ledger,
) -> Result<QuotaRun<'a>, String> {
    let name = applicable.constraint.source.name.clone();
    let Some(quota) = context
        .merged
        .find("", "ResourceQuota", Some(namespace), &name)
    else {
        return Err(format!(
            "because ResourceQuota `{name}` is not in the cluster state that was read"
        ));
    };
    let value = &quota.value;
    let Some(used) = value.pointer("/status/used") else {
        return Err(format!(
            "because ResourceQuota `{name}` has no status.used yet (the quota controller has not counted the namespace's usage), so what is left of it is unknown"
        ));
    };
    let unreadable = |error: FieldError| {
        format!(
            "because ResourceQuota `{name}` cannot be read: `{}`: {}",
            error.path, error.problem
        )
    };
    let used = resources::read_list(Some(used), "status.used").map_err(unreadable)?;
    let hard = match value.pointer("/status/hard") {
        Some(hard) => resources::read_list(Some(hard), "status.hard"),
        None => resources::read_list(value.pointer("/spec/hard"), "spec.hard"),
    }
    .map_err(unreadable)?;
    let selectors = scope_requirements(quota);
    let start = ledger
        .used
        .get(&(namespace.to_string(), name.clone()))
        .cloned()
        .unwrap_or(used);
    Ok(QuotaRun {
        applicable,
        name,
        hard,
        state: start.clone(),
        start,
        selectors,
        requested: ResourceList::new(),
        failure: None,
    })
}

/// Whether a quota whose usage is unknown would be charged at all by these requests (judged on
/// its `spec.hard` and scopes): a quota of unrelated resources stays silent.
fn could_charge(
    context: &CheckContext<'_>,
    namespace: &str,
    applicable: &Applicable<'_>,
    events: &[Event],
) -> bool {
    let name = &applicable.constraint.source.name;
    let Some(quota) = context
        .merged
        .find("", "ResourceQuota", Some(namespace), name)
    else {
        return true;
    };
    let mut hard = ResourceList::new();
    for pointer in ["/spec/hard", "/status/hard"] {
        if let Some(Value::Object(entries)) = quota.value.pointer(pointer) {
            for key in entries.keys() {
                hard.insert(key.clone(), resources::Quantity::zero());
            }
        }
    }
    let probe = QuotaRun {
        applicable,
        name: name.clone(),
        hard,
        start: ResourceList::new(),
        state: ResourceList::new(),
        selectors: scope_requirements(quota),
        requested: ResourceList::new(),
        failure: None,
    };
    events.iter().any(|event| match event {
        Event::Create(request) => quota_matches(&probe, request),
        Event::Delete(_) => false,
    })
}

/// `spec.scopes` (as `Exists`) and `spec.scopeSelector.matchExpressions`.
fn scope_requirements(quota: &Object) -> Vec<ScopeRequirement> {
    let spec = quota.spec();
    let mut requirements: Vec<ScopeRequirement> = spec
        .get("scopes")
        .and_then(Value::as_array)
        .map(|scopes| {
            scopes
                .iter()
                .filter_map(Value::as_str)
                .map(|scope| ScopeRequirement {
                    scope: scope.to_string(),
                    operator: "Exists".to_string(),
                    values: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(expressions) = spec
        .pointer("/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
    {
        for expression in expressions {
            requirements.push(ScopeRequirement {
                scope: expression
                    .get("scopeName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                operator: expression
                    .get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                values: crate::adapters::fields::strings(expression.get("values")),
            });
        }
    }
    requirements
}

/// `podMatchesScopeFunc`.
fn pod_matches_scope(requirement: &ScopeRequirement, pod: &PodResources) -> bool {
    match requirement.scope.as_str() {
        "Terminating" => pod.is_terminating(),
        "NotTerminating" => !pod.is_terminating(),
        "BestEffort" => pod.is_best_effort(),
        "NotBestEffort" => !pod.is_best_effort(),
        "CrossNamespacePodAffinity" => pod.cross_namespace_affinity,
        "PriorityClass" => {
            let class = pod.priority_class_name.as_deref();
            match requirement.operator.as_str() {
                "Exists" => class.is_some(),
                "DoesNotExist" => class.is_none(),
                "In" => {
                    class.is_some_and(|class| requirement.values.iter().any(|value| value == class))
                }
                "NotIn" => {
                    class.is_none_or(|class| !requirement.values.iter().any(|value| value == class))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a quota covers a request (`generic.Matches`): it limits something the request's
/// evaluator tracks, and every scope matches (only Pods match scopes).
fn quota_matches(run: &QuotaRun<'_>, request: &Request) -> bool {
    let tracked = run.hard.keys().any(|name| match &request.pod {
        Some(_) => resources::pod_tracks(name),
        None => request.usage.contains_key(name),
    });
    tracked
        && run.selectors.iter().all(|requirement| match &request.pod {
            Some(pod) => pod_matches_scope(requirement, pod),
            None => false,
        })
}

/// Runs the requests in order against every quota, as the apiserver would admit them one by one:
/// a request is admitted only when every quota accepts it; the first rejection stops the run (a
/// rollout or a ReplicaSet stays stuck there).
fn simulate(events: &[Event], runs: &mut [QuotaRun<'_>]) {
    let mut created_pods = 0;
    for event in events {
        let request = match event {
            Event::Delete(pod) => {
                let usage = resources::pod_usage(pod);
                for run in runs.iter_mut() {
                    let probe = Request {
                        resource: "pods".to_string(),
                        name: String::new(),
                        usage: usage.clone(),
                        pod: Some(pod.clone()),
                        ordinal: None,
                        via_controller: true,
                    };
                    if quota_matches(run, &probe) {
                        let names: Vec<String> = run.hard.keys().cloned().collect();
                        run.state = subtract_non_negative(&run.state, &mask(&usage, &names));
                    }
                }
                continue;
            }
            Event::Create(request) => request,
        };
        if request.pod.is_some() {
            created_pods += 1;
        }
        let mut outcomes: Vec<Option<Result<(ResourceList, ResourceList), Failure>>> = Vec::new();
        for run in runs.iter() {
            outcomes.push(quota_matches(run, request).then(|| charge(run, request, created_pods)));
        }
        let rejected = outcomes
            .iter()
            .any(|outcome| matches!(outcome, Some(Err(_))));
        for (run, outcome) in runs.iter_mut().zip(outcomes) {
            match outcome {
                Some(Err(failure)) => run.failure = Some(failure),
                Some(Ok((state, requested))) if !rejected => {
                    run.state = state;
                    run.requested = add(&run.requested, &requested);
                }
                _ => {}
            }
        }
        if rejected {
            return;
        }
    }
}

/// One request against one quota: the new usage and what was charged, or the apiserver's error.
fn charge(
    run: &QuotaRun<'_>,
    request: &Request,
    ordinal: usize,
) -> Result<(ResourceList, ResourceList), Failure> {
    let hard_names: Vec<String> = run.hard.keys().cloned().collect();
    let via_pods = request.via_controller;
    let fail = |text: String, detail: Option<String>| Failure {
        message: forbidden_text(&request.resource, &request.name, &[text]),
        detail,
        via_pods,
    };
    if let Some(pod) = &request.pod {
        let restricted: Vec<String> = hard_names
            .iter()
            .filter(|name| resources::pod_tracks(name))
            .cloned()
            .collect();
        if let Some(missing) = resources::missing_required(pod, &restricted) {
            return Err(fail(format!("failed quota: {}: {missing}", run.name), None));
        }
    }
    let restricted: Vec<&String> = hard_names
        .iter()
        .filter(|name| match &request.pod {
            Some(_) => resources::pod_tracks(name),
            None => request.usage.contains_key(*name),
        })
        .collect();
    let unknown: Vec<&str> = restricted
        .iter()
        .filter(|name| !run.state.contains_key(**name))
        .map(|name| name.as_str())
        .collect();
    if !unknown.is_empty() {
        let mut names: Vec<&str> = restricted.iter().map(|name| name.as_str()).collect();
        names.sort();
        return Err(fail(
            format!(
                "status unknown for quota: {}, resources: {}",
                run.name,
                names.join(",")
            ),
            None,
        ));
    }
    let requested = remove_zeros(&mask(&request.usage, &hard_names));
    if requested.is_empty() {
        return Ok((run.state.clone(), requested));
    }
    let new_usage = add(&run.state, &requested);
    let exceeded: Vec<String> = requested
        .keys()
        .filter(|name| match (new_usage.get(*name), run.hard.get(*name)) {
            (Some(new), Some(hard)) => new > hard,
            _ => false,
        })
        .cloned()
        .collect();
    if exceeded.is_empty() {
        return Ok((new_usage, requested));
    }
    let text = format!(
        "exceeded quota: {}, requested: {}, used: {}, limited: {}",
        run.name,
        pretty(&mask(&requested, &exceeded)),
        pretty(&mask(&run.state, &exceeded)),
        pretty(&mask(&run.hard, &exceeded))
    );
    let detail = request.ordinal.map(|_| {
        let sums: Vec<String> = exceeded
            .iter()
            .filter_map(|name| {
                Some(format!(
                    "{name} {} > {}",
                    new_usage.get(name)?,
                    run.hard.get(name)?
                ))
            })
            .collect();
        format!(
            "the {} replica exceeds quota {}: {}",
            ordinal_word(ordinal),
            run.name,
            sums.join(", ")
        )
    });
    Err(fail(text, detail))
}

/// `1st`, `2nd`, `3rd`, `11th`, `22nd`.
fn ordinal_word(number: usize) -> String {
    let suffix = match (number % 10, number % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{number}{suffix}")
}

type EventError = (FieldError, bool);

/// The requests an object leads to: itself, then the Pods its controller creates.
fn object_events(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
) -> Result<PodPlan, EventError> {
    let manifest = &object.manifest.object;
    let group_kind = manifest.group_kind();
    let existing = (!manifest.name.is_empty())
        .then(|| {
            context.cluster.find(
                &group_kind.group,
                &group_kind.kind,
                Some(object.namespace),
                &manifest.name,
            )
        })
        .flatten();
    let mut events = Vec::new();
    let resource = resources::qualified_resource(&group_kind.group, &group_kind.kind);
    let name = pod_name(&manifest.value);
    let own = |usage: ResourceList| {
        Event::Create(Request {
            resource: resource.clone(),
            name: name.clone(),
            usage,
            pod: None,
            ordinal: None,
            via_controller: false,
        })
    };
    if object.is_pod() {
        if existing.is_none() {
            let pod = effective_pod(context, object.namespace, &manifest.value)
                .map_err(|error| (error, false))?;
            if rejecting_range(&pod).is_some() {
                // LimitRanger rejects the Pod before quota is consulted.
                return Ok(PodPlan { events, note: None });
            }
            events.push(Event::Create(Request {
                resource,
                name,
                usage: resources::pod_usage(&pod.resources),
                pod: Some(Box::new(pod.resources)),
                ordinal: None,
                via_controller: false,
            }));
        }
        return Ok(PodPlan { events, note: None });
    }
    if group_kind == GroupKind::new("", "Service") {
        let usage = resources::service_usage(&manifest.value);
        let usage = match existing {
            Some(old) => subtract_non_negative(&usage, &resources::service_usage(&old.value)),
            None => usage,
        };
        events.push(own(usage));
    } else if group_kind == GroupKind::new("", "PersistentVolumeClaim") {
        let usage = resources::claim_usage(&manifest.value, context.cluster)
            .map_err(|error| (error, false))?;
        let usage = match existing {
            Some(old) => {
                let old_usage = resources::claim_usage(&old.value, context.cluster)
                    .map_err(|error| (error, false))?;
                subtract_non_negative(&usage, &old_usage)
            }
            None => usage,
        };
        events.push(own(usage));
    } else if existing.is_none() {
        events.push(own(resources::object_count_usage(
            &group_kind.group,
            &group_kind.kind,
        )));
    }
    let Some(template) = object
        .template
        .filter(|template| template.kind.creates_pods)
    else {
        return Ok(PodPlan { events, note: None });
    };
    let new_effective =
        effective_pod(context, object.namespace, &template.pod).map_err(|error| {
            (
                FieldError {
                    path: template.object_path(&error.path),
                    problem: error.problem,
                },
                true,
            )
        })?;
    if let Some(range) = rejecting_range(&new_effective) {
        return Ok(PodPlan {
            events,
            note: Some(format!(
                "LimitRange `{range}` rejects the Pods before quota is consulted, so they are never charged"
            )),
        });
    }
    let new_pod = new_effective.resources;
    // A Deployment's controller creates a ReplicaSet for a new template, which is counted too.
    let replica_set = |events: &mut Vec<Event>| {
        if group_kind == GroupKind::new("apps", "Deployment") {
            events.push(Event::Create(Request {
                resource: "replicasets.apps".to_string(),
                name: format!("{}-<hash>", manifest.name),
                usage: resources::object_count_usage("apps", "ReplicaSet"),
                pod: None,
                ordinal: None,
                via_controller: true,
            }));
        }
    };
    let (replica_count, mut note) = replicas(context, &group_kind.kind, &manifest.value);
    let mut pod_request = |ordinal: usize| {
        Event::Create(Request {
            resource: "pods".to_string(),
            name: template.display_name.clone(),
            usage: resources::pod_usage(&new_pod),
            pod: Some(Box::new(new_pod.clone())),
            ordinal: Some(ordinal),
            via_controller: true,
        })
    };
    let Some(old) = existing else {
        replica_set(&mut events);
        events.extend((1..=replica_count).map(&mut pod_request));
        return Ok(PodPlan { events, note });
    };
    // An update: the old Pods are already counted in status.used.
    let old_template = pod_from_template(
        &group_kind.group,
        &group_kind.kind,
        &old.value,
        Some(object.namespace),
    );
    let (old_replicas, _) = replicas(context, &group_kind.kind, &old.value);
    let old_pod = old_template
        .as_ref()
        .and_then(|old_template| effective_pod(context, object.namespace, &old_template.pod).ok())
        .map(|effective| effective.resources);
    let template_changed = old_template.as_ref().map(|old| &old.pod) != Some(&template.pod);
    let unchanged_pod = old_pod.clone();
    let Some(old_pod) = old_pod.filter(|_| template_changed) else {
        // Same Pods: only a scale-up creates Pods, a scale-down frees what the removed ones used.
        if replica_count > old_replicas {
            events.extend((1..=replica_count - old_replicas).map(&mut pod_request));
        } else if let Some(pod) = unchanged_pod {
            for _ in replica_count..old_replicas {
                events.push(Event::Delete(Box::new(pod.clone())));
            }
        }
        return Ok(PodPlan { events, note });
    };
    replica_set(&mut events);
    let surge = surge(&group_kind.kind, &manifest.value, replica_count);
    let recreate = group_kind.kind == "Deployment"
        && manifest
            .value
            .pointer("/spec/strategy/type")
            .and_then(Value::as_str)
            == Some("Recreate");
    let mut old_count = old_replicas;
    let mut created = 0;
    if recreate {
        for _ in 0..old_count {
            events.push(Event::Delete(Box::new(old_pod.clone())));
        }
        old_count = 0;
    }
    while created < replica_count {
        if old_count > 0 && old_count + created >= replica_count + surge {
            events.push(Event::Delete(Box::new(old_pod.clone())));
            old_count -= 1;
            continue;
        }
        created += 1;
        events.push(pod_request(created));
    }
    let rollout = if recreate {
        "the update replaces the Pods (Recreate: the old Pods go first)".to_string()
    } else if surge > 0 {
        format!(
            "the update rolls the Pods out: up to maxSurge={surge} new Pods run beside the {old_replicas} old ones, which quota must hold at once"
        )
    } else {
        "the update replaces the Pods one at a time (each old Pod goes before its new one)"
            .to_string()
    };
    note = Some(match note {
        Some(existing_note) => format!("{existing_note}; {rollout}"),
        None => rollout,
    });
    Ok(PodPlan { events, note })
}

/// How many Pods a controller runs at once, and a note when that is an assumption.
fn replicas(context: &CheckContext<'_>, kind: &str, object: &Value) -> (usize, Option<String>) {
    let number = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_u64)
            .and_then(|value| usize::try_from(value).ok())
    };
    match kind {
        "Job" | "CronJob" => {
            let prefix = if kind == "Job" {
                "/spec"
            } else {
                "/spec/jobTemplate/spec"
            };
            let parallelism = number(&format!("{prefix}/parallelism")).unwrap_or(1);
            let at_once = match number(&format!("{prefix}/completions")) {
                Some(completions) => parallelism.min(completions),
                None => parallelism,
            };
            (at_once, None)
        }
        "DaemonSet" => {
            let nodes = context.cluster.of_kind("", "Node").count();
            if nodes == 0 {
                (
                    1,
                    Some(
                        "the number of nodes is unknown (no Node objects were read): one Pod is assumed"
                            .to_string(),
                    ),
                )
            } else {
                (
                    nodes,
                    Some(format!("one Pod per node: {nodes} nodes were read")),
                )
            }
        }
        _ => (number("/spec/replicas").unwrap_or(1), None),
    }
}

/// The extra Pods a rolling update may run: a Deployment's maxSurge (25% by default, rounded up).
fn surge(kind: &str, object: &Value, replicas: usize) -> usize {
    if kind != "Deployment" {
        return 0;
    }
    let value = object.pointer("/spec/strategy/rollingUpdate/maxSurge");
    match value {
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|value| usize::try_from(value).ok())
            .unwrap_or(0),
        Some(Value::String(text)) => percent_of(text, replicas).unwrap_or(0),
        _ => percent_of("25%", replicas).unwrap_or(0),
    }
}

fn percent_of(text: &str, replicas: usize) -> Option<usize> {
    match text.strip_suffix('%') {
        Some(percent) => {
            let percent: usize = percent.trim().parse().ok()?;
            Some((replicas * percent).div_ceil(100))
        }
        None => text.trim().parse().ok(),
    }
}
