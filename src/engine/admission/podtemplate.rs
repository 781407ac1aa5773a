//! The Pods that pod controllers would create: a Pod built from the template of a Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob, so pod-level
//! admission is evaluated on it too (a server-side dry-run of the controller cannot see this).

use serde_json::{Map, Value, json};

/// Where a kind keeps its pod template, and how its controller names the Pods it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateKind {
    pub group: &'static str,
    pub kind: &'static str,
    /// JSON pointer to the template (`/spec/template`).
    pub pointer: &'static str,
    /// The template as a field path prefix (`spec.template`).
    pub path: &'static str,
    /// Whether a controller creates Pods from it (a `PodTemplate` object is only stored).
    pub creates_pods: bool,
}

pub const TEMPLATE_KINDS: &[TemplateKind] = &[
    template("apps", "Deployment", "/spec/template", "spec.template"),
    template("apps", "StatefulSet", "/spec/template", "spec.template"),
    template("apps", "DaemonSet", "/spec/template", "spec.template"),
    template("apps", "ReplicaSet", "/spec/template", "spec.template"),
    template(
        "",
        "ReplicationController",
        "/spec/template",
        "spec.template",
    ),
    template("batch", "Job", "/spec/template", "spec.template"),
    template(
        "batch",
        "CronJob",
        "/spec/jobTemplate/spec/template",
        "spec.jobTemplate.spec.template",
    ),
    TemplateKind {
        group: "",
        kind: "PodTemplate",
        pointer: "/template",
        path: "template",
        creates_pods: false,
    },
];

const fn template(
    group: &'static str,
    kind: &'static str,
    pointer: &'static str,
    path: &'static str,
) -> TemplateKind {
    TemplateKind {
        group,
        kind,
        pointer,
        path,
        creates_pods: true,
    }
}

/// The template kind of a group/kind, if it has a pod template.
pub fn template_kind(group: &str, kind: &str) -> Option<&'static TemplateKind> {
    TEMPLATE_KINDS
        .iter()
        .find(|candidate| candidate.group == group && candidate.kind == kind)
}

/// A Pod built from a controller's template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePod {
    pub kind: &'static TemplateKind,
    /// `{apiVersion: v1, kind: Pod, metadata: {…}, spec: {…}}`.
    pub pod: Value,
    /// The name the apiserver would print in an error about the Pod: the Pod's name when the
    /// controller sets one (StatefulSet `web-0`), else its `generateName` prefix (`web-<hash>-`).
    pub display_name: String,
}

impl TemplatePod {
    /// Maps a path inside the Pod (`spec.containers[0]…`, `metadata.annotations[…]`) to the same
    /// field in the controller's manifest (`spec.template.spec.containers[0]…`).
    pub fn object_path(&self, pod_path: &str) -> String {
        format!("{}.{pod_path}", self.kind.path)
    }
}

/// Builds the Pod a controller would create: labels and annotations from the template, the
/// controller's namespace, the template's spec. `None` when the object has no pod template
/// (not a controller kind, or a CronJob without a job template).
pub fn pod_from_template(
    group: &str,
    kind: &str,
    object: &Value,
    namespace: Option<&str>,
) -> Option<TemplatePod> {
    let template_kind = template_kind(group, kind)?;
    let template = object.pointer(template_kind.pointer)?;
    if !template.is_object() {
        return None;
    }
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let display_name = pod_name(template_kind.kind, name);
    let mut metadata = Map::new();
    if template_kind.kind == "StatefulSet" {
        metadata.insert("name".to_string(), Value::String(display_name.clone()));
    } else {
        metadata.insert(
            "generateName".to_string(),
            Value::String(display_name.clone()),
        );
    }
    if let Some(namespace) = namespace {
        metadata.insert(
            "namespace".to_string(),
            Value::String(namespace.to_string()),
        );
    }
    for field in ["labels", "annotations"] {
        if let Some(value) = template.pointer(&format!("/metadata/{field}"))
            && value.is_object()
        {
            metadata.insert(field.to_string(), value.clone());
        }
    }
    let spec = template.get("spec").cloned().unwrap_or(Value::Null);
    Some(TemplatePod {
        kind: template_kind,
        pod: json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}),
        display_name,
    })
}

/// How each controller names its Pods; hashes and random suffixes potoo cannot know are shown
/// as `<hash>`, `<timestamp>`.
fn pod_name(kind: &str, name: &str) -> String {
    match kind {
        "Deployment" => format!("{name}-<hash>-"),
        "StatefulSet" => format!("{name}-0"),
        "CronJob" => format!("{name}-<timestamp>-"),
        _ => format!("{name}-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_pod_takes_template_metadata_and_the_object_namespace() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {"template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}
        });
        let built = pod_from_template("apps", "Deployment", &deployment, Some("team-a")).unwrap();
        assert_eq!(built.pod["metadata"]["namespace"], "team-a");
        assert_eq!(built.pod["metadata"]["labels"]["app"], "web");
        assert!(built.pod["metadata"]["labels"].get("tier").is_none());
        assert_eq!(built.pod["metadata"]["annotations"]["a"], "b");
        assert_eq!(built.pod["spec"]["containers"][0]["name"], "app");
        assert_eq!(built.display_name, "web-<hash>-");
        assert_eq!(
            built.object_path("spec.containers[0].securityContext"),
            "spec.template.spec.containers[0].securityContext"
        );
    }

    #[test]
    fn cron_jobs_use_the_job_template_and_stateful_sets_name_their_pods() {
        let cron_job = json!({"metadata": {"name": "nightly"}, "spec": {"jobTemplate": {"spec": {
            "template": {"spec": {"containers": []}}}}}});
        let built = pod_from_template("batch", "CronJob", &cron_job, Some("a")).unwrap();
        assert_eq!(
            built.object_path("metadata.annotations[x]"),
            "spec.jobTemplate.spec.template.metadata.annotations[x]"
        );
        let stateful_set = json!({"metadata": {"name": "db"}, "spec": {"template": {"spec": {}}}});
        let built = pod_from_template("apps", "StatefulSet", &stateful_set, Some("a")).unwrap();
        assert_eq!(built.pod["metadata"]["name"], "db-0");
        assert!(pod_from_template("batch", "CronJob", &json!({"spec": {}}), None).is_none());
        assert!(pod_from_template("", "Service", &json!({}), None).is_none());
    }
}
