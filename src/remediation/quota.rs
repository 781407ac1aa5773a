//! ResourceQuota remediation: see what is used, lower the workload's requests to fit the headroom
//! (a patch to the workload), or ask for a higher quota (quota objects are changed by cluster
//! admins in most clusters: the built-in `admin` role may only read them).

use std::collections::BTreeMap;

use kube_quantity::ParsedQuantity;
use serde_json::{Map, Value, json};

use super::{Context, patch_command, yaml};
use crate::model::constraint::ResourceQuotaDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &ResourceQuotaDetails) -> Vec<Step> {
    let source = &context.constraint.source;
    let namespace = source.namespace.clone().unwrap_or_default();
    let mut steps = vec![
        Step::new(
            Privilege::Developer,
            format!(
                "See how much of ResourceQuota `{}` is used and how much is left",
                source.name
            ),
        )
        .command(format!(
            "kubectl describe quota {} -n {namespace}",
            source.name
        )),
    ];
    let headroom = headroom(details);
    let usage: Vec<String> = details
        .resources
        .iter()
        .map(
            |resource| match (&resource.used, headroom.get(&resource.name)) {
                (Some(used), Some(left)) => format!(
                    "`{}` {used} of {} used, {} left",
                    resource.name,
                    resource.hard,
                    format_amount(&resource.name, *left)
                ),
                (Some(used), None) => format!("`{}` {used} of {}", resource.name, resource.hard),
                _ => format!("`{}` hard {}", resource.name, resource.hard),
            },
        )
        .collect();
    if !usage.is_empty() {
        steps.push(Step::new(
            Privilege::Developer,
            format!("Quota usage: {}", usage.join("; ")),
        ));
    }
    if let Some(step) = lower_requests(context, &headroom) {
        steps.push(step);
    }
    if !details.scopes.is_empty() {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "The quota counts only pods in scopes {}: a pod outside them (e.g. `BestEffort`, without requests and limits, for `NotBestEffort`) is not counted",
                details.scopes.join(", ")
            ),
        ));
    }
    let mut hard = Map::new();
    let nearly_full: Vec<_> = details
        .resources
        .iter()
        .filter(|resource| resource.percent_used.is_some_and(|percent| percent >= 80.0))
        .collect();
    let raised = if nearly_full.is_empty() {
        details.resources.iter().collect()
    } else {
        nearly_full
    };
    for resource in raised {
        let used = resource.used.as_deref().unwrap_or("?");
        hard.insert(
            resource.name.clone(),
            Value::String(format!("<more than {used}; now {}>", resource.hard)),
        );
    }
    let raise = json!({"spec": {"hard": Value::Object(hard)}});
    steps.push(
        Step::new(
            Privilege::ClusterAdmin,
            format!(
                "Or ask for a higher quota (see contacts): only a cluster admin can change ResourceQuota `{}` in most clusters",
                source.name
            ),
        )
        .command(patch_command(
            &format!("kubectl -n {namespace}"),
            &format!("resourcequota/{}", source.name),
            "strategic",
            &raise,
        ))
        .patch(Patch {
            target: format!("ResourceQuota {namespace}/{}", source.name),
            format: PatchFormat::StrategicMerge,
            body: yaml(&raise),
        }),
    );
    steps
}

/// `hard - used` per resource, when both parse, in the resource's own units.
fn headroom(details: &ResourceQuotaDetails) -> BTreeMap<String, f64> {
    let mut left = BTreeMap::new();
    for resource in &details.resources {
        let Some(used) = &resource.used else { continue };
        let (Some(hard), Some(used)) = (amount(&resource.hard), amount(used)) else {
            continue;
        };
        left.insert(resource.name.clone(), (hard - used).max(0.0));
    }
    left
}

/// A quantity in base units (cores, bytes, objects).
pub(super) fn amount(text: &str) -> Option<f64> {
    ParsedQuantity::try_from(text).ok()?.to_bytes_f64()
}

/// A quantity written back the way people write it: CPU in millicores, memory and storage in
/// Mi (rounded down, so the value never exceeds what was computed), counts as integers.
pub(super) fn format_amount(resource: &str, value: f64) -> String {
    if resource.ends_with("cpu") {
        let millis = (value * 1000.0 + 1e-6).floor();
        if millis % 1000.0 == 0.0 {
            format!("{}", millis / 1000.0)
        } else {
            format!("{millis}m")
        }
    } else if resource.contains("memory") || resource.contains("storage") {
        let mebibytes = (value / 1_048_576.0 + 1e-9).floor();
        if mebibytes % 1024.0 == 0.0 && mebibytes > 0.0 {
            format!("{}Gi", mebibytes / 1024.0)
        } else {
            format!("{mebibytes}Mi")
        }
    } else {
        format!("{}", (value + 1e-9).floor())
    }
}

/// For compute quotas: lower each container's requests (and limits) to what is left, divided
/// among the pod's containers, when the workload asks for more.
fn lower_requests(context: &Context, headroom: &BTreeMap<String, f64>) -> Option<Step> {
    context.workload?;
    let containers: Vec<&Value> = context
        .containers()
        .into_iter()
        .filter(|(list, _)| *list == "containers")
        .map(|(_, container)| container)
        .collect();
    if containers.is_empty() {
        return None;
    }
    let mut patched = Vec::new();
    let mut changes = Vec::new();
    let mut exhausted: Vec<String> = Vec::new();
    for container in &containers {
        let name = container.get("name").and_then(Value::as_str).unwrap_or("");
        let mut resources = Map::new();
        for (section, prefix) in [("requests", "requests."), ("limits", "limits.")] {
            let mut values = Map::new();
            for resource in ["cpu", "memory"] {
                let left = headroom.get(&format!("{prefix}{resource}")).or_else(|| {
                    (section == "requests")
                        .then(|| headroom.get(resource))
                        .flatten()
                });
                let Some(left) = left else { continue };
                let share = left / containers.len() as f64;
                if share <= 0.0 {
                    let name = format!("{prefix}{resource}");
                    if !exhausted.contains(&name) {
                        exhausted.push(name);
                    }
                    continue;
                }
                let current = container
                    .pointer(&format!("/resources/{section}/{resource}"))
                    .and_then(Value::as_str)
                    .and_then(amount);
                if let Some(current) = current
                    && current > share
                {
                    let share_text = format_amount(resource, share);
                    changes.push(format!(
                        "container `{name}` {section}.{resource} {} → {share_text}",
                        format_amount(resource, current)
                    ));
                    values.insert(resource.to_string(), Value::String(share_text));
                }
            }
            if !values.is_empty() {
                resources.insert(section.to_string(), Value::Object(values));
            }
        }
        if !resources.is_empty() {
            patched.push(json!({"name": name, "resources": Value::Object(resources)}));
        }
    }
    if !exhausted.is_empty() {
        return Some(Step::new(
            Privilege::Developer,
            format!(
                "Nothing is left of {}: no new pod of {} fits until other pods in the namespace are scaled down or removed, or the quota is raised",
                exhausted.join(", "),
                context.workload_label()
            ),
        ));
    }
    if patched.is_empty() {
        return Some(Step::new(
            Privilege::Developer,
            format!(
                "Each pod of {} fits in what is left of the quota; if a rollout still fails, the surge pods are what does not fit: lower `maxSurge` or scale down first",
                context.workload_label()
            ),
        ));
    }
    Some(context.template_patch_step(
        Privilege::Developer,
        format!(
            "Lower the resources of {} so one more pod fits in what is left ({})",
            context.workload_label(),
            changes.join(", ")
        ),
        json!({"spec": {"containers": patched}}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_back_as_people_write_them() {
        let left = amount("8").unwrap() - amount("7360m").unwrap();
        assert_eq!(format_amount("requests.cpu", left), "640m");
        assert_eq!(format_amount("cpu", 2.0), "2");
        assert_eq!(
            format_amount("limits.memory", amount("5Gi").unwrap()),
            "5Gi"
        );
        assert_eq!(
            format_amount(
                "requests.memory",
                amount("16Gi").unwrap() - amount("11008Mi").unwrap()
            ),
            "5376Mi"
        );
        assert_eq!(format_amount("pods", 34.0), "34");
    }
}
