//! Pod Security Admission: the `pod-security.kubernetes.io/{enforce,warn,audit}` labels (and
//! their `-version`) of each Namespace, one constraint per mode, levels and versions resolved
//! as the apiserver resolves them (invalid enforce level → restricted, invalid warn/audit level
//! → privileged, invalid or absent version → latest).

use super::registry::{Adapter, AdapterOutput};
use crate::model::details::podsecurity::PodSecurityDetails;
use crate::model::{Constraint, ConstraintType, Details, Effect, Scope, Severity, SourceReference};
use crate::source::{Object, Snapshot};

pub struct PodSecurityAdapter;

const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
const LEVELS: [&str; 3] = ["privileged", "baseline", "restricted"];
const MODES: [&str; 3] = ["enforce", "warn", "audit"];

const EXEMPTIONS: &str = "exempt usernames, runtime classes and namespaces are apiserver \
     configuration (AdmissionConfiguration `PodSecurity`), invisible client-side";

/// Enforce checks pods only (a controller's pods are rejected when it creates them); warn and
/// audit also check the pod templates of workload resources.
const POD_RESOURCES: &[&str] = &["pods"];
const POD_AND_TEMPLATE_RESOURCES: &[&str] = &[
    "pods",
    "podtemplates",
    "replicationcontrollers",
    "apps/deployments",
    "apps/replicasets",
    "apps/statefulsets",
    "apps/daemonsets",
    "batch/jobs",
    "batch/cronjobs",
];

impl Adapter for PodSecurityAdapter {
    fn name(&self) -> &'static str {
        "podsecurity"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "Namespace")]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let labels = object.labels();
        for mode in MODES {
            let level_key = format!("{LABEL_PREFIX}{mode}");
            let version_key = format!("{level_key}-version");
            let version_label = labels.get(&version_key).cloned();
            let Some(level_label) = labels.get(&level_key).cloned() else {
                if version_label.is_some() {
                    output.diagnose(
                        self,
                        object,
                        format!(
                            "metadata.labels.{version_key}: set without `{level_key}`, so the level comes from \
                             the apiserver's defaults (not readable client-side); ignored"
                        ),
                    );
                }
                continue;
            };
            let level = if LEVELS.contains(&level_label.as_str()) {
                level_label.clone()
            } else {
                // The apiserver fails closed for enforce and open for warn and audit.
                let fallback = if mode == "enforce" {
                    "restricted"
                } else {
                    "privileged"
                };
                output.diagnose(
                    self,
                    object,
                    format!(
                        "metadata.labels.{level_key}: `{level_label}` is not a level (privileged, baseline, \
                         restricted); the apiserver uses `{fallback}`"
                    ),
                );
                fallback.to_string()
            };
            let version = match version_label.as_deref() {
                None => "latest".to_string(),
                Some(text) if is_valid_version(text) => text.to_string(),
                Some(text) => {
                    output.diagnose(
                        self,
                        object,
                        format!(
                            "metadata.labels.{version_key}: `{text}` is not `latest` or `v1.X`; the apiserver \
                             uses `latest`"
                        ),
                    );
                    "latest".to_string()
                }
            };
            output.constraints.push(constraint(
                object,
                mode,
                level,
                version,
                level_label,
                version_label,
            ));
        }
    }
}

/// `latest` or `v1.X` with X a number without leading zeros.
fn is_valid_version(text: &str) -> bool {
    if text == "latest" {
        return true;
    }
    let Some(minor) = text.strip_prefix("v1.") else {
        return false;
    };
    !minor.is_empty()
        && minor.chars().all(|character| character.is_ascii_digit())
        && (minor == "0" || !minor.starts_with('0'))
}

fn constraint(
    object: &Object,
    mode: &str,
    level: String,
    version: String,
    level_label: String,
    version_label: Option<String>,
) -> Constraint {
    let namespace = &object.name;
    let privileged = level == "privileged";
    let standard = format!("{level}:{version}");
    let (effect, severity, summary, resources) = match mode {
        "enforce" => (
            Effect::Deny,
            if privileged {
                Severity::Info
            } else {
                Severity::Critical
            },
            if privileged {
                format!(
                    "Pod Security `{standard}` enforced on pods in `{namespace}` (privileged: nothing restricted)"
                )
            } else {
                format!("Pod Security `{standard}` enforced on pods in `{namespace}`")
            },
            POD_RESOURCES,
        ),
        "warn" => (
            Effect::Warn,
            if privileged {
                Severity::Info
            } else {
                Severity::Warning
            },
            format!("Pod Security `{standard}` warns on pods and pod templates in `{namespace}`"),
            POD_AND_TEMPLATE_RESOURCES,
        ),
        _ => (
            Effect::Audit,
            Severity::Info,
            format!(
                "Pod Security `{standard}` audits pods and pod templates in `{namespace}` (audit log annotations)"
            ),
            POD_AND_TEMPLATE_RESOURCES,
        ),
    };
    let remediation_hint = (!privileged && mode != "audit").then(|| {
        format!(
            "make the pod spec meet the `{level}` Pod Security Standard \
             (https://kubernetes.io/docs/concepts/security/pod-security-standards/), or ask a cluster admin \
             to relabel namespace `{namespace}` (`{LABEL_PREFIX}{mode}`)"
        )
    });
    let source = SourceReference::from_object(object);
    let rule = format!("pod-security-{mode}");
    Constraint {
        id: Constraint::make_id(&source, Some(&rule)),
        rule: Some(rule),
        constraint_type: ConstraintType::Admission,
        effect,
        severity,
        scope: Scope {
            namespaces: Some(vec![namespace.clone()]),
            resources: Some(resources.iter().map(|item| item.to_string()).collect()),
            operations: Some(vec!["CREATE".to_string(), "UPDATE".to_string()]),
            note: Some(format!("Pod Security labels on namespace `{namespace}`")),
            ..Scope::default()
        },
        summary,
        details: Details::PodSecurity(PodSecurityDetails {
            mode: mode.to_string(),
            level,
            version,
            level_label,
            version_label,
            exemptions: EXEMPTIONS.to_string(),
        }),
        remediation_hint,
        source,
    }
}
