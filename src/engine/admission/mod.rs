//! The admission engine behind `check`: would these manifests be admitted, and what blocks or
//! warns, by which constraint and rule, at which field. PodSecurity is evaluated (`psa.rs`), on
//! Pods and on the Pods that controllers would create (`podtemplate.rs`); every other admission
//! constraint that applies goes to its family's engine (`dispatch.rs`), which reports what it
//! cannot evaluate as `unknown`, never `pass`.

pub mod dispatch;
pub mod gatekeeper;
pub mod kyverno;
pub mod limitrange;
pub mod network;
pub mod podtemplate;
pub mod psa;
pub mod quota;
pub mod resources;
pub mod vap;
pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::adapters::AdapterOutput;
use crate::index::{Index, Workload};
use crate::model::Details;
use crate::model::finding::{CheckResult, CheckedObject, Finding, ObjectVerdict, Verdict};
use crate::source::catalog;
use crate::source::snapshot::string_map;
use crate::source::{GapReason, GroupKind, Object, Snapshot};

use dispatch::{CheckContext, CheckState, ObjectUnderCheck};
use podtemplate::TemplatePod;
use psa::{LevelVersion, Mode, NamespacePolicy, PodView, Violation};

/// One object of the manifests to check, and where it was read.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub object: Object,
    /// The file as given (`-` for standard input).
    pub file: String,
    /// 1-based document index in the file.
    pub document: usize,
    /// 1-based line where the YAML document starts (absent for JSON).
    pub line: Option<usize>,
    /// 0-based item index when the document is a `List`.
    pub item: Option<usize>,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub manifests: Vec<Manifest>,
    /// The namespace of manifests that set none (`-n`, else the context's, else `default`).
    pub default_namespace: String,
}

/// The constraint kind PodSecurity findings carry.
pub const POD_SECURITY: &str = "PodSecurity";

/// Kinds that are cluster-scoped although potoo's catalog does not list them.
const CLUSTER_SCOPED_KINDS: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("certificates.k8s.io", "CertificateSigningRequest"),
];

/// Whether objects of a kind live in a namespace (unknown kinds are assumed namespaced).
pub fn is_namespaced(group: &str, kind: &str) -> bool {
    if let Some(known) = catalog::known_kind(group, kind) {
        return known.namespaced;
    }
    !CLUSTER_SCOPED_KINDS.contains(&(group, kind))
}

/// The namespace an object would be created in: its own, else the default; `None` when the kind
/// is cluster-scoped.
pub fn target_namespace(object: &Object, default_namespace: &str) -> Option<String> {
    let group_kind = object.group_kind();
    if !is_namespaced(&group_kind.group, &group_kind.kind) {
        return None;
    }
    Some(
        object
            .namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string()),
    )
}

/// The cluster state the manifests would be admitted into: their Namespaces (which would be
/// created or updated first) replace the cluster's, every other object is the cluster's.
pub fn overlay_namespaces(snapshot: &Snapshot, manifests: &[Manifest]) -> Snapshot {
    let mut merged = Snapshot::new(snapshot.source.clone());
    for manifest in manifests {
        if manifest.object.group_kind() == GroupKind::new("", "Namespace") {
            merged.insert(manifest.object.clone());
        }
    }
    for object in snapshot.objects() {
        merged.insert(object.clone());
    }
    for gap in &snapshot.gaps {
        merged.add_gap(gap.clone());
    }
    merged
}

/// Evaluates every manifest against the constraints that apply to it. `cluster` is the state as
/// read, `merged` the same with the manifests' Namespaces laid over it (`overlay_namespaces`),
/// `adapted` the adapters' output on `merged`.
pub fn check(
    cluster: &Snapshot,
    merged: &Snapshot,
    adapted: &AdapterOutput,
    request: &CheckRequest,
) -> CheckResult {
    let index = Index::new(merged, &adapted.constraints);
    let context = CheckContext {
        cluster,
        merged,
        adapted,
        index: &index,
        request,
    };
    let mut state = CheckState::default();
    let network_snapshot = network::snapshot_with_stand_ins(merged, request);
    let network_model = network_snapshot
        .as_ref()
        .map(|snapshot| network::model(snapshot, adapted));
    let mut notes = Notes::default();
    let mut objects = Vec::new();
    for (index, manifest) in request.manifests.iter().enumerate() {
        let namespace = target_namespace(&manifest.object, &request.default_namespace);
        let checked = checked_object(manifest, namespace.as_deref());
        let mut findings = Vec::new();
        let mut network_warnings = Vec::new();
        let group_kind = manifest.object.group_kind();
        if group_kind == GroupKind::new("", "Namespace") {
            findings.extend(namespace_findings(
                cluster, merged, adapted, &checked, manifest,
            ));
        }
        let template = podtemplate::pod_from_template(
            &group_kind.group,
            &group_kind.kind,
            &manifest.object.value,
            namespace.as_deref(),
        );
        let is_pod = group_kind == GroupKind::new("", "Pod");
        if let Some(namespace) = &namespace
            && (is_pod || template.is_some())
        {
            findings.extend(pod_security_findings(
                merged,
                adapted,
                &checked,
                manifest,
                namespace,
                template.as_ref(),
                &mut notes,
            ));
        }
        if let Some(namespace) = &namespace {
            let workload = workload_of(manifest, namespace);
            let object = ObjectUnderCheck {
                manifest,
                checked: &checked,
                namespace,
                workload: &workload,
                template: template.as_ref(),
                creates_pods: is_pod || template.as_ref().is_some_and(|pod| pod.kind.creates_pods),
            };
            findings.extend(dispatch::evaluate_object(&context, &object, &mut state));
            network_warnings = network::warnings(&context, &object, network_model.as_ref(), index);
        } else {
            findings.extend(webhooks::evaluate_cluster_scoped(
                &context, manifest, &checked,
            ));
        }
        let mut entry = ObjectVerdict::new(checked, findings);
        entry.network = network_warnings;
        objects.push(entry);
    }
    CheckResult::new(merged.gaps.clone(), notes.into_list(), objects)
}

fn checked_object(manifest: &Manifest, namespace: Option<&str>) -> CheckedObject {
    CheckedObject {
        api_version: manifest.object.api_version.clone(),
        kind: manifest.object.kind.clone(),
        namespace: namespace.map(str::to_string),
        name: manifest.object.name.clone(),
        file: manifest.file.clone(),
        document: manifest.document,
        line: manifest.line,
        item: manifest.item,
    }
}

/// Notes printed once per run.
#[derive(Default)]
struct Notes {
    exemptions: bool,
    unlabelled: BTreeSet<String>,
}

impl Notes {
    fn into_list(self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.exemptions {
            notes.push(
                "PodSecurity exemptions (usernames, runtime classes, namespaces) are apiserver \
                 configuration potoo cannot read: an exempt request is admitted whatever the \
                 PodSecurity findings say"
                    .to_string(),
            );
        }
        if !self.unlabelled.is_empty() {
            let names: Vec<String> = self
                .unlabelled
                .iter()
                .map(|name| format!("`{name}`"))
                .collect();
            let (noun, verb) = if names.len() == 1 {
                ("namespace", "has")
            } else {
                ("namespaces", "have")
            };
            notes.push(format!(
                "{noun} {} {verb} no PodSecurity labels: the apiserver applies its configured \
                 default policy there (privileged unless its AdmissionConfiguration says \
                 otherwise); potoo assumes privileged",
                names.join(", ")
            ));
        }
        notes
    }
}

/// The PodSecurity policy of a namespace, with the constraint id of each mode.
struct PodSecurityPolicy {
    policy: NamespacePolicy,
    constraint_ids: BTreeMap<Mode, String>,
}

fn mode_rule(mode: Mode) -> String {
    format!("pod-security-{}", mode.as_str())
}

/// The id the PodSecurity adapter gives a namespace's mode constraint.
fn pod_security_constraint_id(namespace: &str, mode: Mode) -> String {
    format!("Namespace/_cluster/{namespace}#{}", mode_rule(mode))
}

/// Where a namespace's PodSecurity policy comes from: the PodSecurity constraints (the adapter's
/// reading of the labels) when there are any, else the labels themselves; `Err` with the reason
/// when neither is known.
fn pod_security_policy(
    snapshot: &Snapshot,
    adapted: &AdapterOutput,
    namespace: &str,
) -> Result<PodSecurityPolicy, String> {
    let Some(namespace_object) = snapshot.namespace(namespace) else {
        if let Some(gap) = snapshot
            .gaps
            .iter()
            .find(|gap| gap.kind == "Namespace" && gap.namespace.is_none())
        {
            return Err(format!(
                "because Namespaces could not be read ({}), so the PodSecurity labels of `{namespace}` are unknown",
                gap_reason_word(gap.reason)
            ));
        }
        return Err(format!(
            "because namespace `{namespace}` is not in the cluster state that was read, so its PodSecurity labels are unknown"
        ));
    };
    let labels = namespace_object.labels();
    let from_labels = NamespacePolicy::from_labels(&labels);
    let mut constraint_ids = BTreeMap::new();
    let mut from_constraints: Option<NamespacePolicy> = None;
    for constraint in &adapted.constraints {
        let Details::PodSecurity(details) = &constraint.details else {
            continue;
        };
        if constraint.source.kind != "Namespace" || constraint.source.name != namespace {
            continue;
        }
        let Some(mode) = Mode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == details.mode)
        else {
            continue;
        };
        let level = psa::Level::parse(&details.level).unwrap_or(from_labels.for_mode(mode).level);
        let version =
            psa::PolicyVersion::parse(&details.version).unwrap_or(psa::PolicyVersion::Latest);
        let policy = from_constraints.get_or_insert_with(|| NamespacePolicy {
            enforce: LevelVersion::new(psa::Level::Privileged, psa::PolicyVersion::Latest),
            audit: LevelVersion::new(psa::Level::Privileged, psa::PolicyVersion::Latest),
            warn: LevelVersion::new(psa::Level::Privileged, psa::PolicyVersion::Latest),
            labelled: BTreeSet::new(),
            errors: from_labels.errors.clone(),
        });
        let resolved = LevelVersion::new(level, version);
        match mode {
            Mode::Enforce => policy.enforce = resolved,
            Mode::Audit => policy.audit = resolved,
            Mode::Warn => policy.warn = resolved,
        }
        policy.labelled.insert(mode);
        constraint_ids.insert(mode, constraint.id.clone());
    }
    let policy = from_constraints.unwrap_or(from_labels);
    for mode in Mode::ALL {
        constraint_ids
            .entry(mode)
            .or_insert_with(|| pod_security_constraint_id(namespace, mode));
    }
    Ok(PodSecurityPolicy {
        policy,
        constraint_ids,
    })
}

fn gap_reason_word(reason: GapReason) -> &'static str {
    match reason {
        GapReason::Forbidden => "forbidden",
        GapReason::NotFound => "not found",
        GapReason::Timeout => "timed out",
        GapReason::Unauthorized => "unauthorized",
        GapReason::Error => "error",
    }
}

/// PodSecurity on a Pod (enforce, audit, warn as the apiserver runs them), or on the Pod a
/// controller would create (enforce when the controller creates it; warn and audit when the
/// controller itself is created, as the plugin evaluates pod templates).
fn pod_security_findings(
    snapshot: &Snapshot,
    adapted: &AdapterOutput,
    checked: &CheckedObject,
    manifest: &Manifest,
    namespace: &str,
    template: Option<&TemplatePod>,
    notes: &mut Notes,
) -> Vec<Finding> {
    let base = |constraint_id: String, verdict: Verdict, message: String| Finding {
        object: checked.clone(),
        constraint_id,
        constraint_kind: POD_SECURITY.to_string(),
        rule: None,
        verdict,
        message,
        detail: None,
        field_path: None,
        field_paths: Vec::new(),
        reason: None,
        via_pod_template: template.is_some(),
    };
    let resolved = match pod_security_policy(snapshot, adapted, namespace) {
        Ok(resolved) => resolved,
        Err(reason) => {
            let mut finding = base(
                format!("Namespace/_cluster/{namespace}"),
                Verdict::Unknown,
                format!(
                    "the PodSecurity policy of namespace `{namespace}` decides whether these Pods are admitted"
                ),
            );
            finding.reason = Some(reason);
            return vec![finding];
        }
    };
    let policy = &resolved.policy;
    if policy.labelled.is_empty() {
        notes.unlabelled.insert(namespace.to_string());
        return Vec::new();
    }
    notes.exemptions = true;
    let (pod_value, pod_name) = match template {
        Some(template) => (&template.pod, template.display_name.clone()),
        None => (&manifest.object.value, manifest.object.name.clone()),
    };
    let pod = PodView::of_pod(pod_value);
    // Enforce applies to Pods being created (a controller's Pods, not the controller); warn and
    // audit are evaluated on the object as submitted.
    let enforce_applies = template.is_none_or(|template| template.kind.creates_pods);
    let mut findings = Vec::new();
    let mut evaluated: Vec<LevelVersion> = Vec::new();
    let mut blocked = false;
    for mode in [Mode::Enforce, Mode::Warn, Mode::Audit] {
        if mode == Mode::Enforce && !enforce_applies {
            continue;
        }
        // The apiserver adds no warnings to a Pod it rejects.
        if mode == Mode::Warn && blocked && template.is_none() {
            continue;
        }
        let level_version = policy.for_mode(mode);
        if evaluated
            .iter()
            .any(|earlier| earlier.same_checks(&level_version))
        {
            continue;
        }
        evaluated.push(level_version);
        let violations = psa::evaluate(&level_version, &pod);
        if violations.is_empty() {
            continue;
        }
        let (verdict, message) = if mode == Mode::Enforce {
            blocked = true;
            (
                Verdict::Blocked,
                psa::enforce_message(&pod_name, &level_version, &violations),
            )
        } else {
            (
                Verdict::Warning,
                psa::would_violate_message(&level_version, &violations),
            )
        };
        let reason = mode_reason(mode, policy, checked);
        for violation in &violations {
            let mut finding = base(
                resolved
                    .constraint_ids
                    .get(&mode)
                    .cloned()
                    .unwrap_or_else(|| pod_security_constraint_id(namespace, mode)),
                verdict,
                message.clone(),
            )
            .with_field_paths(object_paths(violation, template));
            finding.rule = Some(violation.check.to_string());
            finding.detail = Some(violation.text());
            finding.reason = reason.clone();
            findings.push(finding);
        }
    }
    findings
}

fn object_paths(violation: &Violation, template: Option<&TemplatePod>) -> Vec<String> {
    violation
        .field_paths
        .iter()
        .map(|path| match template {
            Some(template) => template.object_path(path),
            None => path.clone(),
        })
        .collect()
}

/// What the reader must know about a mode's verdict: how the apiserver surfaces it, and label
/// values it had to replace.
fn mode_reason(mode: Mode, policy: &NamespacePolicy, checked: &CheckedObject) -> Option<String> {
    let mut parts = Vec::new();
    match mode {
        // A rejection needs no comment; for controllers `viaPodTemplate` says whose it is.
        Mode::Enforce => {}
        Mode::Warn => parts.push(format!(
            "warn mode: kubectl prints this warning and the {} is admitted",
            checked.kind
        )),
        Mode::Audit => parts.push(format!(
            "audit mode: recorded in the audit log (annotation `pod-security.kubernetes.io/audit-violations`); the {} is admitted",
            checked.kind
        )),
    }
    for error in policy.errors.iter().filter(|error| error.mode == mode) {
        parts.push(format!(
            "label `{}` has the invalid value `{}`; the apiserver uses `{}`",
            error.label, error.value, error.fallback
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// PodSecurity on a Namespace manifest: invalid labels reject a create (or an update that
/// changes them); a stricter enforce level on an existing namespace warns about its Pods.
fn namespace_findings(
    cluster: &Snapshot,
    merged: &Snapshot,
    adapted: &AdapterOutput,
    checked: &CheckedObject,
    manifest: &Manifest,
) -> Vec<Finding> {
    let name = &manifest.object.name;
    let new_policy = NamespacePolicy::from_labels(&manifest.object.labels());
    let existing = cluster.namespace(name);
    let old_policy = existing.map(|object| NamespacePolicy::from_labels(&object.labels()));
    let mut findings = Vec::new();
    let finding = |mode: Mode, verdict: Verdict, message: String| {
        Finding {
        object: checked.clone(),
        constraint_id: adapted
            .constraints
            .iter()
            .find(|constraint| {
                matches!(&constraint.details, Details::PodSecurity(details) if details.mode == mode.as_str())
                    && constraint.source.kind == "Namespace"
                    && &constraint.source.name == name
            })
            .map(|constraint| constraint.id.clone())
            .unwrap_or_else(|| pod_security_constraint_id(name, mode)),
        constraint_kind: POD_SECURITY.to_string(),
        rule: None,
        verdict,
        message,
        detail: None,
        field_path: None,
        field_paths: Vec::new(),
        reason: None,
        via_pod_template: false,
    }
    };
    let errors_text = |policy: &NamespacePolicy| {
        let texts: Vec<String> = policy.errors.iter().map(ToString::to_string).collect();
        if texts.len() == 1 {
            texts[0].clone()
        } else {
            format!("[{}]", texts.join(", "))
        }
    };
    if !new_policy.errors.is_empty() {
        let unchanged = old_policy.as_ref().is_some_and(|old| {
            !old.errors.is_empty() && errors_text(old) == errors_text(&new_policy)
        });
        if !unchanged {
            let mode = new_policy.errors[0].mode;
            let paths = new_policy
                .errors
                .iter()
                .map(|error| format!("metadata.labels[{}]", error.label))
                .collect();
            findings.push(
                finding(
                    mode,
                    Verdict::Blocked,
                    format!(
                        "Namespace {} is invalid: {}",
                        psa::go_quote(name),
                        errors_text(&new_policy)
                    ),
                )
                .with_field_paths(paths),
            );
            return findings;
        }
    }
    let Some(old_policy) = old_policy else {
        return findings;
    };
    let new_enforce = new_policy.enforce;
    let old_enforce = old_policy.enforce;
    let unchanged = new_enforce == old_enforce;
    let relaxed =
        new_enforce.version == old_enforce.version && new_enforce.level <= old_enforce.level;
    if unchanged || new_enforce.level == psa::Level::Privileged || relaxed {
        return findings;
    }
    let warnings = existing_pod_warnings(merged, name, &new_enforce);
    let header = warnings
        .iter()
        .find(|warning| warning.starts_with("existing pods in namespace"))
        .cloned();
    for warning in &warnings {
        let is_pod_line = header.is_some()
            && !warning.starts_with("existing pods in namespace")
            && !warning.starts_with("new PodSecurity enforce level");
        if header.as_ref() == Some(warning) {
            continue;
        }
        let mut entry = match (&header, is_pod_line) {
            (Some(header), true) => {
                let mut entry = finding(Mode::Enforce, Verdict::Warning, header.clone());
                entry.detail = Some(warning.clone());
                entry
            }
            _ => finding(Mode::Enforce, Verdict::Warning, warning.clone()),
        };
        entry.reason = Some(
            "the namespace update is admitted; existing Pods keep running, but new ones like them would be rejected"
                .to_string(),
        );
        entry.field_path = Some(format!("metadata.labels[{}]", Mode::Enforce.level_label()));
        findings.push(entry);
    }
    findings
}

/// The warnings the apiserver returns when a namespace's enforce level is raised: which existing
/// Pods the new level would reject, grouped by reason.
fn existing_pod_warnings(
    snapshot: &Snapshot,
    namespace: &str,
    enforce: &LevelVersion,
) -> Vec<String> {
    const MAX_PODS: usize = 3000;
    let pods: Vec<&Object> = snapshot
        .of_kind("", "Pod")
        .filter(|pod| pod.namespace.as_deref() == Some(namespace))
        .collect();
    let total = pods.len();
    let mut by_reason: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut order = Vec::new();
    for pod in pods.iter().take(MAX_PODS) {
        let violations = psa::evaluate(enforce, &PodView::of_pod(&pod.value));
        if violations.is_empty() {
            continue;
        }
        let reason = violations
            .iter()
            .map(|violation| violation.reason.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let entry = by_reason.entry(reason.clone()).or_insert_with(|| {
            order.push(reason.clone());
            (pod.name.clone(), 0)
        });
        if pod.name < entry.0 {
            entry.0 = pod.name.clone();
        }
        entry.1 += 1;
    }
    let mut warnings = Vec::new();
    if total > MAX_PODS {
        warnings.push(format!(
            "new PodSecurity enforce level only checked against the first {MAX_PODS} of {total} existing pods"
        ));
    }
    if order.is_empty() {
        return warnings;
    }
    warnings.push(format!(
        "existing pods in namespace {} violate the new PodSecurity enforce level {}",
        psa::go_quote(namespace),
        psa::go_quote(&enforce.to_string())
    ));
    let mut decorated: Vec<String> = order
        .iter()
        .filter_map(|reason| {
            let (name, count) = by_reason.get(reason)?;
            Some(match count {
                1 => format!("{name}: {reason}"),
                2 => format!("{name} (and 1 other pod): {reason}"),
                _ => format!("{name} (and {} other pods): {reason}", count - 1),
            })
        })
        .collect();
    decorated.sort();
    warnings.extend(decorated);
    warnings
}

/// The workload view of a manifest object the index matches constraints against: its own labels,
/// and its pod template's labels for controllers.
fn workload_of(manifest: &Manifest, namespace: &str) -> Workload {
    let object = &manifest.object;
    let group_kind = object.group_kind();
    let template_labels =
        podtemplate::template_kind(&group_kind.group, &group_kind.kind).map(|kind| {
            let pointer = format!("{}/metadata/labels", kind.pointer);
            string_map(object.value.pointer(&pointer))
        });
    Workload {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: namespace.to_string(),
        name: object.name.clone(),
        labels: object.labels(),
        pod_labels: template_labels.unwrap_or_else(|| object.labels()),
    }
}

/// Parses one manifest document value into an object (used by tests and by `check`'s reader).
pub fn manifest_from_value(
    value: Value,
    file: &str,
    document: usize,
    line: Option<usize>,
    item: Option<usize>,
) -> Result<Manifest, crate::source::snapshot::ObjectError> {
    Ok(Manifest {
        object: crate::source::snapshot::object_from_value(value)?,
        file: file.to_string(),
        document,
        line,
        item,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::Registry;
    use crate::source::snapshot::{SourceInfo, object_from_value};
    use serde_json::json;

    fn cluster(objects: Vec<Value>) -> Snapshot {
        let mut snapshot = Snapshot::new(SourceInfo::default());
        for object in objects {
            snapshot.insert(object_from_value(object).unwrap());
        }
        snapshot
    }

    fn run(cluster_objects: Vec<Value>, manifests: Vec<Value>) -> CheckResult {
        let snapshot = cluster(cluster_objects);
        let manifests: Vec<Manifest> = manifests
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                manifest_from_value(value, "test.yaml", index + 1, None, None).unwrap()
            })
            .collect();
        let merged = overlay_namespaces(&snapshot, &manifests);
        let adapted = Registry::default().adapt(&merged);
        check(
            &snapshot,
            &merged,
            &adapted,
            &CheckRequest {
                manifests,
                default_namespace: "team-a".to_string(),
            },
        )
    }

    fn namespace(labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}})
    }

    fn deployment(security_context: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "nginx",
                    "securityContext": security_context}]}}}})
    }

    #[test]
    fn a_deployment_is_admitted_but_its_pods_are_rejected() {
        let result = run(
            vec![namespace(
                json!({"pod-security.kubernetes.io/enforce": "baseline"}),
            )],
            vec![deployment(json!({"privileged": true}))],
        );
        let entry = &result.objects[0];
        assert_eq!(entry.verdict, Verdict::Blocked);
        assert!(entry.pods_rejected);
        let finding = &entry.findings[0];
        assert_eq!(finding.rule.as_deref(), Some("privileged"));
        assert!(finding.via_pod_template);
        assert_eq!(
            finding.message,
            "pods \"web-<hash>-\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        );
        assert_eq!(
            finding.field_path.as_deref(),
            Some("spec.template.spec.containers[0].securityContext.privileged")
        );
        assert!(result.notes.iter().any(|note| note.contains("exemptions")));
    }

    #[test]
    fn warn_and_audit_at_other_levels_are_warnings_and_same_levels_are_not_repeated() {
        let labels = json!({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted"
        });
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}});
        let result = run(vec![namespace(labels)], vec![pod]);
        let entry = &result.objects[0];
        assert_eq!(entry.verdict, Verdict::Warning);
        let constraints: BTreeSet<&str> = entry
            .findings
            .iter()
            .map(|finding| finding.constraint_id.as_str())
            .collect();
        assert_eq!(
            constraints.into_iter().collect::<Vec<_>>(),
            vec!["Namespace/_cluster/team-a#pod-security-warn"]
        );
        assert!(
            entry.findings[0]
                .message
                .starts_with("would violate PodSecurity \"restricted:latest\": ")
        );
    }

    #[test]
    fn unlabelled_namespaces_pass_with_a_note_about_the_apiserver_default() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"hostNetwork": true, "containers": [{"name": "app"}]}});
        let result = run(vec![namespace(json!({"team": "a"}))], vec![pod]);
        assert_eq!(result.objects[0].verdict, Verdict::Pass);
        assert_eq!(
            result.notes,
            vec![
                "namespace `team-a` has no PodSecurity labels: the apiserver applies its configured default policy there (privileged unless its AdmissionConfiguration says otherwise); potoo assumes privileged"
            ]
        );
    }

    #[test]
    fn an_unknown_namespace_is_unknown_not_pass() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "elsewhere"}, "spec": {"containers": []}});
        let result = run(Vec::new(), vec![pod]);
        assert_eq!(result.objects[0].verdict, Verdict::Unknown);
        assert!(
            result.objects[0].findings[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("`elsewhere` is not in the cluster state")
        );
    }

    #[test]
    fn manifest_namespaces_replace_the_cluster_labels_and_invalid_labels_block() {
        let result = run(
            vec![namespace(json!({}))],
            vec![
                namespace(json!({"pod-security.kubernetes.io/enforce": "restricted"})),
                deployment(json!({})),
            ],
        );
        assert_eq!(result.objects[0].verdict, Verdict::Pass);
        assert_eq!(result.objects[1].verdict, Verdict::Blocked);
        let invalid = run(
            Vec::new(),
            vec![namespace(
                json!({"pod-security.kubernetes.io/enforce": "strict"}),
            )],
        );
        assert_eq!(invalid.objects[0].verdict, Verdict::Blocked);
        assert_eq!(
            invalid.objects[0].findings[0].message,
            "Namespace \"team-a\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
        );
    }

    #[test]
    fn raising_the_enforce_level_warns_about_existing_pods() {
        let running = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "old", "namespace": "team-a"},
            "spec": {"hostNetwork": true, "containers": [{"name": "app"}]}});
        let result = run(
            vec![namespace(json!({})), running],
            vec![namespace(
                json!({"pod-security.kubernetes.io/enforce": "baseline"}),
            )],
        );
        let warnings: Vec<(&str, Option<&str>)> = result.objects[0]
            .findings
            .iter()
            .map(|finding| (finding.message.as_str(), finding.detail.as_deref()))
            .collect();
        assert_eq!(
            warnings,
            vec![(
                "existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"",
                Some("old: host namespaces")
            )]
        );
        assert_eq!(result.objects[0].verdict, Verdict::Warning);
    }

    #[test]
    fn other_admission_constraints_that_apply_are_unknown() {
        let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "hooks"},
            "webhooks": [{"name": "pods.example.com",
                "clientConfig": {"service": {"namespace": "x", "name": "y"}},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                    "resources": ["pods"]}]}]});
        let result = run(
            vec![namespace(json!({})), policy],
            vec![deployment(json!({}))],
        );
        let entry = &result.objects[0];
        assert_eq!(entry.verdict, Verdict::Unknown);
        assert_eq!(entry.findings.len(), 1);
        assert!(entry.findings[0].via_pod_template);
        assert!(
            entry.findings[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("pods.example.com")
        );
    }
}
