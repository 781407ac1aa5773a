//! Remediation: what to do about one constraint — steps, `kubectl` commands with the real names,
//! patches for the user's own object, whom to ask and the privilege each step needs. One file per
//! constraint family; this file holds the entry point and what every family shares. Pure: no I/O.

mod cilium;
mod contacts;
mod gatekeeper;
mod generic;
mod istio;
mod kyverno;
mod limitrange;
mod networkpolicy;
mod podsecurity;
mod quota;
mod vap;
mod webhook;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::admission::podtemplate;
use crate::index::Workload;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Remediation, Step};
use crate::model::{Constraint, Details};
use crate::source::{GroupKind, Object, Snapshot};

pub use contacts::{CONTACT_ANNOTATION, contacts};

/// What to do about `constraint`, tailored to `workload` when one is given (its labels, service
/// account, containers and resources fill the patches). Callable by `remediate`, `explain` and
/// `check`; never fails: what potoo cannot know is marked `<…>` in commands and patches.
pub fn remediation(
    snapshot: &Snapshot,
    constraint: &Constraint,
    workload: Option<&Workload>,
) -> Remediation {
    let context = Context::new(snapshot, constraint, workload);
    let steps = match &constraint.details {
        Details::NetworkPolicy(details) => networkpolicy::steps(&context, details),
        Details::ResourceQuota(details) => quota::steps(&context, details),
        Details::LimitRange(details) => limitrange::steps(&context, details),
        Details::PodSecurity(details) => podsecurity::steps(&context, details),
        Details::Kyverno(details) => kyverno::steps(&context, details),
        Details::Gatekeeper(details) => gatekeeper::steps(&context, details),
        Details::AdmissionPolicy(details) => vap::steps(&context, details),
        Details::Webhook(details) => webhook::steps(&context, details),
        Details::Istio(details) => istio::steps(&context, details),
        Details::Cilium(details) => cilium::steps(&context, details),
        Details::AdminNetworkPolicy(_)
        | Details::PolicyReport(_)
        | Details::Generic(_)
        | Details::Redacted(_) => generic::steps(&context),
    };
    let contacts = contacts(snapshot, constraint, context.namespace());
    let privilege = steps
        .iter()
        .map(|step| step.privilege)
        .min()
        .unwrap_or(Privilege::Developer);
    Remediation {
        constraint_id: constraint.id.clone(),
        constraint_kind: constraint.source.kind.clone(),
        constraint_type: constraint.constraint_type.to_string(),
        summary: constraint.summary.clone(),
        workload: workload
            .map(|workload| format!("{} {}/{}", workload.kind, workload.namespace, workload.name)),
        privilege,
        steps,
        contacts,
    }
}

/// Everything a family needs to write steps.
pub(crate) struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub constraint: &'a Constraint,
    pub workload: Option<&'a Workload>,
    /// The workload's object in the Snapshot (absent when it was not read).
    pub workload_object: Option<&'a Object>,
}

impl<'a> Context<'a> {
    fn new(
        snapshot: &'a Snapshot,
        constraint: &'a Constraint,
        workload: Option<&'a Workload>,
    ) -> Context<'a> {
        let workload_object = workload.and_then(|workload| {
            let group = GroupKind::from_api_version(&workload.api_version, &workload.kind).group;
            snapshot.find(
                &group,
                &workload.kind,
                Some(&workload.namespace),
                &workload.name,
            )
        });
        Context {
            snapshot,
            constraint,
            workload,
            workload_object,
        }
    }

    /// The namespace the user works in: the workload's, else the constraint's own.
    pub fn namespace(&self) -> Option<&'a str> {
        match self.workload {
            Some(workload) => Some(workload.namespace.as_str()),
            None => self.constraint.source.namespace.as_deref(),
        }
    }

    /// `payments`, or `<namespace>` when no namespace is known.
    pub fn namespace_text(&self) -> String {
        self.namespace()
            .map_or_else(|| "<namespace>".to_string(), str::to_string)
    }

    /// `kubectl -n payments`.
    pub fn kubectl(&self) -> String {
        format!("kubectl -n {}", self.namespace_text())
    }

    /// `deployment/payments-api`, or `<kind>/<name>` without a workload.
    pub fn workload_reference(&self) -> String {
        match self.workload {
            Some(workload) => format!("{}/{}", workload.kind.to_ascii_lowercase(), workload.name),
            None => "<kind>/<name>".to_string(),
        }
    }

    /// `Deployment payments/payments-api`, or `your workload`.
    pub fn workload_label(&self) -> String {
        match self.workload {
            Some(workload) => format!("{} {}/{}", workload.kind, workload.namespace, workload.name),
            None => "your workload".to_string(),
        }
    }

    /// The labels that identify the workload's pods in a selector: the usual name labels when
    /// present, else every pod label except those controllers add.
    pub fn pod_selector_labels(&self) -> BTreeMap<String, String> {
        let Some(workload) = self.workload else {
            return BTreeMap::from([("app.kubernetes.io/name".to_string(), "<app>".to_string())]);
        };
        for key in ["app.kubernetes.io/name", "app", "k8s-app", "name"] {
            if let Some(value) = workload.pod_labels.get(key) {
                return BTreeMap::from([(key.to_string(), value.clone())]);
            }
        }
        workload
            .pod_labels
            .iter()
            .filter(|(key, _)| {
                !matches!(
                    key.as_str(),
                    "pod-template-hash"
                        | "controller-revision-hash"
                        | "statefulset.kubernetes.io/pod-name"
                        | "batch.kubernetes.io/controller-uid"
                        | "batch.kubernetes.io/job-name"
                        | "controller-uid"
                        | "job-name"
                )
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// The workload's pod template (for a Pod: the Pod itself), when it was read.
    pub fn pod_template(&self) -> Option<&'a Value> {
        let object = self.workload_object?;
        if object.kind == "Pod" {
            return Some(&object.value);
        }
        let group = object.group_kind().group;
        let kind = podtemplate::template_kind(&group, &object.kind)?;
        object.value.pointer(kind.pointer)
    }

    /// The pod spec of the template.
    pub fn pod_spec(&self) -> Option<&'a Value> {
        self.pod_template()?.get("spec")
    }

    /// Containers of the pod spec: (list field, container) for init containers, then containers.
    pub fn containers(&self) -> Vec<(&'static str, &'a Value)> {
        let mut found = Vec::new();
        if let Some(spec) = self.pod_spec() {
            for list in ["initContainers", "containers"] {
                if let Some(Value::Array(items)) = spec.get(list) {
                    for item in items {
                        found.push((list, item));
                    }
                }
            }
        }
        found
    }

    /// The pod's service account (`default` when the template names none).
    pub fn service_account(&self) -> String {
        self.pod_spec()
            .and_then(|spec| {
                spec.get("serviceAccountName")
                    .or_else(|| spec.get("serviceAccount"))
            })
            .and_then(Value::as_str)
            .map_or_else(
                || {
                    if self.workload.is_some() {
                        "default".to_string()
                    } else {
                        "<service account>".to_string()
                    }
                },
                str::to_string,
            )
    }

    /// Wraps a patch of the pod template (`{metadata: …, spec: …}`) in the workload's path to
    /// its template (`spec.template` for a Deployment, `spec.jobTemplate.spec.template` for a
    /// CronJob, nothing for a Pod).
    pub fn wrap_template(&self, template_patch: Value) -> Value {
        let kind = self
            .workload
            .map_or("Deployment", |workload| workload.kind.as_str());
        let path: &[&str] = match kind {
            "Pod" => &[],
            "CronJob" => &["spec", "jobTemplate", "spec", "template"],
            _ => &["spec", "template"],
        };
        path.iter()
            .rev()
            .fold(template_patch, |inner, key| json!({ *key: inner }))
    }

    /// A strategic-merge patch step of the workload's pod template.
    pub fn template_patch_step(
        &self,
        privilege: Privilege,
        text: impl Into<String>,
        template_patch: Value,
    ) -> Step {
        let patch = self.wrap_template(template_patch);
        let mut step = Step::new(privilege, text);
        if self.workload.is_some_and(|workload| workload.kind == "Pod") {
            step.text.push_str(
                " (a Pod's spec cannot be changed in place: change the manifest and recreate the Pod)",
            );
        } else {
            step = step.command(patch_command(
                &self.kubectl(),
                &self.workload_reference(),
                "strategic",
                &patch,
            ));
        }
        step.patch(Patch {
            target: self.workload_label(),
            format: PatchFormat::StrategicMerge,
            body: yaml(&patch),
        })
    }

    /// The constraint's policy object as `kubectl` names it: `networkpolicy/default-deny-all`.
    pub fn policy_reference(&self) -> String {
        format!(
            "{}/{}",
            self.constraint.source.kind.to_ascii_lowercase(),
            self.constraint.source.name
        )
    }

    /// `kubectl -n payments get networkpolicy/default-deny-all -o yaml` (no `-n` when cluster-scoped).
    pub fn policy_get_command(&self) -> String {
        format!(
            "{} get {} -o yaml",
            self.policy_kubectl(),
            self.policy_reference()
        )
    }

    /// `kubectl -n <the policy's namespace>`, or `kubectl` for cluster-scoped policies.
    pub fn policy_kubectl(&self) -> String {
        match &self.constraint.source.namespace {
            Some(namespace) => format!("kubectl -n {namespace}"),
            None => "kubectl".to_string(),
        }
    }

    /// The policy object in the Snapshot.
    pub fn policy_object(&self) -> Option<&'a Object> {
        let source = &self.constraint.source;
        let group = GroupKind::from_api_version(&source.api_version, &source.kind).group;
        self.snapshot.find(
            &group,
            &source.kind,
            source.namespace.as_deref(),
            &source.name,
        )
    }

    /// Whether the policy lives in another namespace than the user's (or is cluster-scoped).
    pub fn policy_is_elsewhere(&self) -> bool {
        self.constraint.source.namespace.as_deref() != self.namespace()
    }

    /// Who may change the policy object: its namespace's admin, or a cluster admin.
    pub fn policy_owner_privilege(&self) -> Privilege {
        if self.constraint.source.namespace.is_some() {
            Privilege::NamespaceAdmin
        } else {
            Privilege::ClusterAdmin
        }
    }
}

/// `kubectl -n payments patch deployment/api --type strategic -p '{…}'`.
pub fn patch_command(kubectl: &str, reference: &str, patch_type: &str, patch: &Value) -> String {
    format!(
        "{kubectl} patch {reference} --type {patch_type} -p {}",
        shell_quote(&patch.to_string())
    )
}

/// What `apply_command` writes where the step's manifest goes.
pub const MANIFEST_PLACEHOLDER: &str = "<the manifest below>";

/// `kubectl apply -f -` with the manifest on standard input (a here-document).
pub fn apply_command(kubectl: &str) -> String {
    format!("{kubectl} apply -f - <<'EOF'\n{MANIFEST_PLACEHOLDER}\nEOF")
}

/// POSIX single quoting.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// YAML text of a value (JSON when YAML writing fails, which it does not for plain values).
pub fn yaml(value: &Value) -> String {
    let options = serde_saphyr::ser_options! {
        folded_wrap_chars: usize::MAX,
    };
    serde_saphyr::to_string_with_options(value, options)
        .unwrap_or_else(|_| serde_json::to_string_pretty(value).unwrap_or_default())
}

/// A label map as a JSON object.
pub fn labels_value(labels: &BTreeMap<String, String>) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// A name fit for a new object: lowercase letters, digits and `-`, at most 63 characters.
pub fn object_name(parts: &[&str]) -> String {
    let joined = parts.join("-").to_ascii_lowercase();
    let cleaned: String = joined
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' {
                character
            } else {
                '-'
            }
        })
        .collect();
    let trimmed: String = cleaned.trim_matches('-').chars().take(63).collect();
    trimmed.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        assert_eq!(
            patch_command(
                "kubectl -n payments",
                "deployment/api",
                "strategic",
                &json!({"a": 1})
            ),
            "kubectl -n payments patch deployment/api --type strategic -p '{\"a\":1}'"
        );
    }

    #[test]
    fn object_names_are_dns_labels() {
        assert_eq!(
            object_name(&["allow", "Payments_API", "egress"]),
            "allow-payments-api-egress"
        );
        assert_eq!(object_name(&["x"; 40]).len(), 63);
        assert!(!object_name(&["a", "<b>"]).ends_with('-'));
    }
}
