//! Kyverno `validate.podSecurity`: a Pod Security Standards level and version evaluated by the
//! Pod Security Standards engine (`engine/admission/psa.rs`) on a Pod or a controller's pod
//! template, minus the controls listed under `exclude` (pod-level controls by `controlName`,
//! container-level ones by `controlName` and the offending containers' `images`).

use serde_json::Value;

use super::pattern::wildcard_matches;
use super::{ResourceFacts, RuleStatus};
use crate::engine::admission::psa::{self, Level, LevelVersion, PodView, PolicyVersion, Violation};

/// Kyverno's control name for each Pod Security Standards check ID.
fn control_name(check: &str) -> &'static str {
    match check {
        "hostProcess" | "windowsHostProcess" => "HostProcess",
        "hostNamespaces" => "Host Namespaces",
        "privileged" => "Privileged Containers",
        "capabilities_baseline" | "capabilities_restricted" => "Capabilities",
        "hostPathVolumes" => "HostPath Volumes",
        "hostPorts" => "Host Ports",
        "appArmorProfile" => "AppArmor",
        "seLinuxOptions" => "SELinux",
        "procMount" => "/proc Mount Type",
        "seccompProfile_baseline" | "seccompProfile_restricted" => "Seccomp",
        "sysctls" => "Sysctls",
        "restrictedVolumes" => "Volume Types",
        "allowPrivilegeEscalation" => "Privilege Escalation",
        "runAsNonRoot" => "Running as Non-root",
        "runAsUser" => "Running as Non-root user",
        _ => "",
    }
}

/// The pod a resource runs: a Pod itself, or a controller's (CronJob's) pod template.
fn pod_view(resource: &Value) -> Option<PodView<'_>> {
    match resource.get("kind").and_then(Value::as_str)? {
        "Pod" => Some(PodView::of_pod(resource)),
        "CronJob" => resource
            .pointer("/spec/jobTemplate/spec/template")
            .map(PodView::of_pod),
        _ => resource.pointer("/spec/template").map(PodView::of_pod),
    }
}

/// The image of the container a field path (`spec.containers[0]…`) points into.
fn container_image<'a>(pod: &PodView<'a>, field_path: &str) -> Option<&'a str> {
    let rest = field_path.strip_prefix("spec.")?;
    let (list, rest) = rest.split_once('[')?;
    let (index, _) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    pod.spec.get(list)?.get(index)?.get("image")?.as_str()
}

/// Whether an `exclude` entry covers a violation.
fn excluded(violation: &Violation, exclude: &Value, pod: &PodView<'_>) -> bool {
    let control = exclude
        .get("controlName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if control != control_name(violation.check) {
        return false;
    }
    let images: Vec<&str> = exclude
        .get("images")
        .and_then(Value::as_array)
        .map(|images| images.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if images.is_empty() {
        // a pod-level exclusion covers the pod-level fields only
        return violation.field_paths.is_empty()
            || violation
                .field_paths
                .iter()
                .all(|path| container_image(pod, path).is_none());
    }
    !violation.field_paths.is_empty()
        && violation.field_paths.iter().all(|path| {
            container_image(pod, path).is_some_and(|image| {
                images
                    .iter()
                    .any(|pattern| wildcard_matches(pattern, image))
            })
        })
}

/// The `podSecurity` sub-rule on a Pod or pod controller.
pub fn evaluate(
    pod_security: &Value,
    resource: &Value,
    facts: &ResourceFacts,
    raw_message: &str,
) -> (RuleStatus, String) {
    let level_text = pod_security
        .get("level")
        .and_then(Value::as_str)
        .unwrap_or("baseline");
    let Some(level) = Level::parse(level_text) else {
        return (
            RuleStatus::Error,
            format!("podSecurity level `{level_text}` is not a Pod Security Standards level"),
        );
    };
    let version_text = pod_security
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("latest");
    let version = PolicyVersion::parse(version_text).unwrap_or(PolicyVersion::Latest);
    let level_version = LevelVersion::new(level, version);
    let Some(pod) = pod_view(resource) else {
        return (
            RuleStatus::Skip,
            format!("`{}` has no pod spec to check", facts.kind),
        );
    };
    let excludes: Vec<Value> = pod_security
        .get("exclude")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let violations: Vec<Violation> = psa::evaluate(&level_version, &pod)
        .into_iter()
        .filter(|violation| {
            !excludes
                .iter()
                .any(|exclude| excluded(violation, exclude, &pod))
        })
        .collect();
    if violations.is_empty() {
        return (
            RuleStatus::Pass,
            format!("the pod meets the Pod Security Standards at `{level_version}`"),
        );
    }
    let prefix = if raw_message.is_empty() {
        String::new()
    } else {
        format!("{raw_message} ")
    };
    (
        RuleStatus::Fail,
        format!(
            "{prefix}it violates PodSecurity \"{level_version}\": {}",
            psa::forbidden_detail(&violations)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(security_context: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1", "securityContext": security_context}]}})
    }

    fn run(rule: Value, resource: &Value) -> RuleStatus {
        evaluate(&rule, resource, &ResourceFacts::of(resource), "").0
    }

    #[test]
    fn levels_and_exclusions() {
        let privileged = pod(json!({"privileged": true}));
        assert_eq!(
            run(json!({"level": "baseline"}), &privileged),
            RuleStatus::Fail
        );
        assert_eq!(
            run(json!({"level": "privileged"}), &privileged),
            RuleStatus::Pass
        );
        assert_eq!(
            run(
                json!({"level": "baseline", "exclude": [{"controlName": "Privileged Containers", "images": ["nginx*"]}]}),
                &privileged
            ),
            RuleStatus::Pass
        );
        assert_eq!(
            run(
                json!({"level": "baseline", "exclude": [{"controlName": "Privileged Containers", "images": ["redis*"]}]}),
                &privileged
            ),
            RuleStatus::Fail
        );
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}}});
        assert_eq!(
            run(json!({"level": "baseline"}), &deployment),
            RuleStatus::Pass
        );
        assert_eq!(
            run(json!({"level": "restricted"}), &deployment),
            RuleStatus::Fail
        );
    }
}
