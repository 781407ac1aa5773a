//! LimitRange remediation: set each container's requests and limits within the range's min and
//! max and its limit/request ratio (a patch to the workload), or a snippet within bounds.

use serde_json::{Map, Value, json};

use super::quota::{amount, format_amount};
use super::{Context, yaml};
use crate::model::constraint::LimitRangeDetails;
use crate::model::constraint::LimitRangeItem;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &LimitRangeDetails) -> Vec<Step> {
    let source = &context.constraint.source;
    let namespace = source.namespace.clone().unwrap_or_default();
    let mut steps = vec![
        Step::new(
            Privilege::Developer,
            format!(
                "See the bounds LimitRange `{}` sets per container and per pod",
                source.name
            ),
        )
        .command(format!(
            "kubectl -n {namespace} describe limitrange {}",
            source.name
        )),
    ];
    let container_items: Vec<&LimitRangeItem> = details
        .limits
        .iter()
        .filter(|item| item.limit_type == "Container")
        .collect();
    if !container_items.is_empty() {
        match context.workload {
            Some(_) => steps.push(fit_workload(context, &container_items)),
            None => steps.push(snippet(&container_items)),
        }
    }
    let pod_bounds: Vec<String> = details
        .limits
        .iter()
        .filter(|item| item.limit_type == "Pod")
        .map(bounds_text)
        .collect();
    if !pod_bounds.is_empty() {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "The sum over all containers of a pod must also stay within the Pod bounds: {}",
                pod_bounds.join("; ")
            ),
        ));
    }
    steps.push(Step::new(
        Privilege::ClusterAdmin,
        format!(
            "Or ask for wider bounds (see contacts): the built-in `admin` role may only read LimitRange `{}`",
            source.name
        ),
    ));
    steps
}

fn bounds_text(item: &LimitRangeItem) -> String {
    let mut parts = Vec::new();
    for (label, value) in [
        ("min", &item.min),
        ("max", &item.max),
        ("maxLimitRequestRatio", &item.max_limit_request_ratio),
    ] {
        if let Some(value) = value {
            parts.push(format!("{label} {value}"));
        }
    }
    format!("{} {}", item.resource, parts.join(", "))
}

/// A `resources` block within every Container bound, for when no workload is given.
fn snippet(items: &[&LimitRangeItem]) -> Step {
    let mut requests = Map::new();
    let mut limits = Map::new();
    for item in items {
        if let Some(request) = item.default_request.as_ref().or(item.min.as_ref()) {
            requests.insert(item.resource.clone(), Value::String(request.clone()));
        }
        if let Some(limit) = item.default.as_ref().or(item.max.as_ref()) {
            limits.insert(item.resource.clone(), Value::String(limit.clone()));
        }
    }
    let body = json!({"resources": {"requests": requests, "limits": limits}});
    Step::new(
        Privilege::Developer,
        format!(
            "Give each container requests and limits within the bounds ({}); for example:",
            items
                .iter()
                .map(|item| bounds_text(item))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    )
    .patch(Patch {
        target: "each container of your pod template".to_string(),
        format: PatchFormat::YamlSnippet,
        body: yaml(&body),
    })
}

/// The values a container ends up with once the LimitRange defaults apply, then clamped.
fn fit_workload(context: &Context, items: &[&LimitRangeItem]) -> Step {
    let mut patched = Vec::new();
    let mut changes = Vec::new();
    for (list, container) in context.containers() {
        let name = container.get("name").and_then(Value::as_str).unwrap_or("");
        let mut requests = Map::new();
        let mut limits = Map::new();
        for item in items {
            let resource = item.resource.as_str();
            let written = |section: &str| {
                container
                    .pointer(&format!("/resources/{section}/{resource}"))
                    .and_then(|value| match value {
                        Value::String(text) => Some(text.clone()),
                        Value::Number(number) => Some(number.to_string()),
                        _ => None,
                    })
            };
            let limit_text = written("limits").or_else(|| item.default.clone());
            let request_text = written("requests")
                .or_else(|| item.default_request.clone())
                .or_else(|| limit_text.clone());
            let mut limit = limit_text.as_deref().and_then(amount);
            let mut request = request_text.as_deref().and_then(amount);
            let min = item.min.as_deref().and_then(amount);
            let max = item.max.as_deref().and_then(amount);
            let ratio = item.max_limit_request_ratio.as_deref().and_then(amount);
            let mut changed = Vec::new();
            if let (Some(value), Some(max)) = (limit, max)
                && value > max
            {
                limit = Some(max);
                changed.push("limit");
            }
            if let (Some(value), Some(min)) = (request, min)
                && value < min
            {
                request = Some(min);
                changed.push("request");
            }
            if let (Some(value), Some(max)) = (request, max)
                && value > max
            {
                request = Some(max);
                changed.push("request");
            }
            if let (Some(value), Some(limit_value)) = (request, limit)
                && value > limit_value
            {
                request = Some(limit_value);
                changed.push("request");
            }
            if let (Some(value), Some(limit_value), Some(ratio)) = (request, limit, ratio)
                && value > 0.0
                && limit_value / value > ratio
            {
                request = Some(limit_value / ratio);
                changed.push("request");
            }
            if changed.contains(&"request")
                && let Some(value) = request
            {
                let text = format_amount(resource, round_up(resource, value));
                changes.push(format!(
                    "container `{name}` requests.{resource} {} → {text}",
                    request_text.clone().unwrap_or_else(|| "unset".to_string())
                ));
                requests.insert(resource.to_string(), Value::String(text));
            }
            if changed.contains(&"limit")
                && let Some(value) = limit
            {
                let text = format_amount(resource, value);
                changes.push(format!(
                    "container `{name}` limits.{resource} {} → {text}",
                    limit_text.clone().unwrap_or_else(|| "unset".to_string())
                ));
                limits.insert(resource.to_string(), Value::String(text));
            }
        }
        let mut resources = Map::new();
        if !requests.is_empty() {
            resources.insert("requests".to_string(), Value::Object(requests));
        }
        if !limits.is_empty() {
            resources.insert("limits".to_string(), Value::Object(limits));
        }
        if !resources.is_empty() {
            patched.push((
                list,
                json!({"name": name, "resources": Value::Object(resources)}),
            ));
        }
    }
    if patched.is_empty() {
        return Step::new(
            Privilege::Developer,
            format!(
                "Every container of {} is within the Container bounds once the defaults apply ({})",
                context.workload_label(),
                items
                    .iter()
                    .map(|item| bounds_text(item))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    let mut spec = Map::new();
    for (list, container) in patched {
        let entry = spec
            .entry(list.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(containers) = entry {
            containers.push(container);
        }
    }
    context.template_patch_step(
        Privilege::Developer,
        format!(
            "Set the resources of {} within the bounds ({})",
            context.workload_label(),
            changes.join(", ")
        ),
        json!({"spec": Value::Object(spec)}),
    )
}

/// Rounds a computed request up to the unit it is written in, so the ratio still holds.
fn round_up(resource: &str, value: f64) -> f64 {
    if resource.ends_with("cpu") {
        (value * 1000.0).ceil() / 1000.0
    } else if resource.contains("memory") || resource.contains("storage") {
        (value / 1_048_576.0).ceil() * 1_048_576.0
    } else {
        value.ceil()
    }
}
