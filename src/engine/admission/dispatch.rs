//! Hands each admission constraint that applies to a manifest object to the engine of its family
//! (Kyverno, Gatekeeper, ValidatingAdmissionPolicy, LimitRange, ResourceQuota, webhooks) and
//! collects their findings. A family that cannot evaluate a constraint reports it `unknown` with
//! the reason, never `pass`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::adapters::AdapterOutput;
use crate::index::{Index, Workload};
use crate::model::finding::{CheckedObject, Finding, Verdict};
use crate::model::{Constraint, ConstraintType, Details, Effect};
use crate::source::{GroupKind, Object, Snapshot};

use super::podtemplate::TemplatePod;
use super::{CheckRequest, Manifest};

/// The cluster side of a check run, shared by every object.
pub struct CheckContext<'a> {
    /// The cluster state as read.
    pub cluster: &'a Snapshot,
    /// The same with the manifests' Namespaces laid over it.
    pub merged: &'a Snapshot,
    /// The adapters' output on `merged`.
    pub adapted: &'a AdapterOutput,
    pub index: &'a Index<'a>,
    pub request: &'a CheckRequest,
}

/// One manifest object under check, and what is known about it.
pub struct ObjectUnderCheck<'a> {
    pub manifest: &'a Manifest,
    pub checked: &'a CheckedObject,
    /// The namespace it would be created in.
    pub namespace: &'a str,
    /// The workload view the index matched constraints with.
    pub workload: &'a Workload,
    /// The Pod its controller would create, for pod controllers.
    pub template: Option<&'a TemplatePod>,
    /// Whether admitting the object creates Pods (a Pod, or a controller that creates them).
    pub creates_pods: bool,
}

impl ObjectUnderCheck<'_> {
    pub fn is_pod(&self) -> bool {
        self.manifest.object.group_kind() == GroupKind::new("", "Pod")
    }

    /// What admission reviews: the object itself, or the Pod its controller creates
    /// (`through_pods`), with the namespace the apiserver fills in before admission.
    pub fn admitted_value(&self, through_pods: bool) -> Value {
        let (mut value, namespaced) = match (through_pods, self.template) {
            (true, Some(template)) => (template.pod.clone(), true),
            _ => {
                let group_kind = self.manifest.object.group_kind();
                (
                    self.manifest.object.value.clone(),
                    super::is_namespaced(&group_kind.group, &group_kind.kind),
                )
            }
        };
        if namespaced
            && !self.namespace.is_empty()
            && let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut)
            && !metadata.contains_key("namespace")
        {
            metadata.insert(
                "namespace".to_string(),
                Value::String(self.namespace.to_string()),
            );
        }
        value
    }

    /// The object as the cluster already has it (the request is then an UPDATE); never for the
    /// Pods a controller creates, which are always new.
    pub fn existing<'c>(
        &self,
        context: &CheckContext<'c>,
        through_pods: bool,
    ) -> Option<&'c Object> {
        if through_pods {
            return None;
        }
        let object = &self.manifest.object;
        let group_kind = object.group_kind();
        let namespace = super::is_namespaced(&group_kind.group, &group_kind.kind)
            .then_some(self.namespace)
            .filter(|namespace| !namespace.is_empty());
        context
            .cluster
            .find(&group_kind.group, &group_kind.kind, namespace, &object.name)
    }
}

/// A constraint that applies to the object, as the index matched it.
#[derive(Clone, Copy)]
pub struct Applicable<'a> {
    pub constraint: &'a Constraint,
    /// The constraint reaches a controller only through the Pods it creates: evaluate it on
    /// `ObjectUnderCheck::template`, and mark findings `via_pod_template`.
    pub through_pods: bool,
}

/// State that lives across the objects of one run (quota consumed by earlier manifests…).
#[derive(Default)]
pub struct CheckState {
    pub quota: super::quota::Ledger,
    pub gatekeeper: super::gatekeeper::RunCache,
    pub kyverno: super::kyverno::admission::RunCache,
}

/// The finding every engine reports for a constraint it cannot evaluate.
pub fn unknown_finding(
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
    reason: impl Into<String>,
) -> Finding {
    let constraint = applicable.constraint;
    Finding {
        object: object.checked.clone(),
        constraint_id: constraint.id.clone(),
        constraint_kind: constraint.source.kind.clone(),
        rule: constraint.rule.clone(),
        verdict: Verdict::Unknown,
        message: constraint.summary.clone(),
        detail: None,
        field_path: None,
        field_paths: Vec::new(),
        reason: Some(reason.into()),
        via_pod_template: applicable.through_pods,
    }
}

/// One unknown finding per applicable constraint, all for the same `reason`: what a component
/// returns when the object itself cannot be evaluated against any of them.
pub fn unknown_findings(
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
    reason: &str,
    via_pod_template: bool,
) -> Vec<Finding> {
    applicable
        .iter()
        .map(|applicable| {
            let mut unknown = unknown_finding(object, applicable, reason);
            unknown.via_pod_template = via_pod_template;
            unknown
        })
        .collect()
}

/// A finding of `verdict` for a constraint, with the component's message.
pub fn finding(
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
    verdict: Verdict,
    message: impl Into<String>,
) -> Finding {
    let constraint = applicable.constraint;
    Finding {
        object: object.checked.clone(),
        constraint_id: constraint.id.clone(),
        constraint_kind: constraint.source.kind.clone(),
        rule: constraint.rule.clone(),
        verdict,
        message: message.into(),
        detail: None,
        field_path: None,
        field_paths: Vec::new(),
        reason: None,
        via_pod_template: applicable.through_pods,
    }
}

/// The admission families an engine owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Kyverno,
    Gatekeeper,
    AdmissionPolicy,
    LimitRange,
    ResourceQuota,
    Webhook,
    Generic,
}

/// A policy engine that enforces through its own admission webhook.
struct WebhookEngine {
    /// As the webhook adapter recognizes it (`Details::Webhook.engine`).
    name: &'static str,
    display: &'static str,
}

impl Family {
    fn webhook_engine(self) -> Option<WebhookEngine> {
        match self {
            Family::Kyverno => Some(WebhookEngine {
                name: "kyverno",
                display: "Kyverno",
            }),
            Family::Gatekeeper => Some(WebhookEngine {
                name: "gatekeeper",
                display: "Gatekeeper",
            }),
            _ => None,
        }
    }
}

/// Whether the engine's validating webhook is registered: `Some(false)` only when the cluster
/// state holds webhook configurations (it is a cluster, not a folder of policies) that could all
/// be read, and none is the engine's; `None` when that cannot be told.
fn engine_webhook_registered(context: &CheckContext<'_>, engine: &str) -> Option<bool> {
    let registered = context.adapted.constraints.iter().any(|constraint| {
        matches!(&constraint.details, Details::Webhook(details) if details.engine.as_deref() == Some(engine))
    });
    if registered {
        return Some(true);
    }
    const KIND: &str = "ValidatingWebhookConfiguration";
    let readable = !context.merged.gaps.iter().any(|gap| gap.kind == KIND);
    let any_configuration = context
        .merged
        .of_kind("admissionregistration.k8s.io", KIND)
        .next()
        .is_some();
    (readable && any_configuration).then_some(false)
}

/// A policy whose engine has no webhook registered decides nothing at admission: what it would
/// block is a warning, said so.
fn not_enforced(finding: &mut Finding, engine: &str) {
    if finding.verdict != Verdict::Blocked {
        return;
    }
    finding.verdict = Verdict::Warning;
    let note = format!(
        "no {engine} validating webhook is registered in this cluster, so {engine} does not \
         enforce this policy at admission now; it would block once {engine} runs"
    );
    finding.reason = Some(match finding.reason.take() {
        Some(reason) => format!("{note}; {reason}"),
        None => note,
    });
}

fn family(constraint: &Constraint) -> Option<Family> {
    if !matches!(
        constraint.constraint_type,
        ConstraintType::Admission | ConstraintType::ResourceLimit
    ) || (constraint.effect == Effect::Mutate
        && !matches!(
            constraint.details,
            Details::LimitRange(_) | Details::Webhook(_)
        ))
    {
        return None;
    }
    Some(match &constraint.details {
        Details::Kyverno(_) => Family::Kyverno,
        Details::Gatekeeper(_) => Family::Gatekeeper,
        Details::AdmissionPolicy(_) => Family::AdmissionPolicy,
        Details::LimitRange(_) => Family::LimitRange,
        Details::ResourceQuota(_) => Family::ResourceQuota,
        Details::Webhook(_) => Family::Webhook,
        Details::Generic(_) if constraint.constraint_type == ConstraintType::Admission => {
            Family::Generic
        }
        _ => return None,
    })
}

/// Every finding of every family's engine on one object.
pub fn evaluate_object(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    state: &mut CheckState,
) -> Vec<Finding> {
    let mut by_family: BTreeMap<Family, Vec<Applicable<'_>>> = BTreeMap::new();
    for matched in context.index.for_workload(object.workload) {
        let constraint = matched.constraint;
        let Some(family) = family(constraint) else {
            continue;
        };
        let through_pods = !object.is_pod() && applies_through_pods(constraint, object.workload);
        // LimitRange and ResourceQuota also act on the object itself (claims, Services, object
        // counts): their engines decide what reaches the Pods.
        let acts_on_object = matches!(family, Family::LimitRange | Family::ResourceQuota);
        if through_pods && !object.creates_pods && !acts_on_object {
            continue;
        }
        by_family.entry(family).or_default().push(Applicable {
            constraint,
            through_pods,
        });
    }
    let mut findings = Vec::new();
    for (family, applicable) in by_family {
        let mut family_findings = match family {
            Family::Kyverno => super::kyverno::admission::evaluate(
                context,
                object,
                &applicable,
                &mut state.kyverno,
            ),
            Family::Gatekeeper => {
                super::gatekeeper::evaluate(context, object, &applicable, &mut state.gatekeeper)
            }
            Family::AdmissionPolicy => super::vap::evaluate(context, object, &applicable),
            Family::LimitRange => super::limitrange::evaluate(context, object, &applicable),
            Family::ResourceQuota => {
                super::quota::evaluate(context, object, &applicable, &mut state.quota)
            }
            Family::Webhook => super::webhooks::evaluate(context, object, &applicable),
            Family::Generic => applicable
                .iter()
                .map(|applicable| {
                    let constraint = applicable.constraint;
                    let engine = match &constraint.details {
                        Details::Generic(details) => details.engine.clone(),
                        _ => String::new(),
                    };
                    unknown_finding(
                        object,
                        applicable,
                        format!(
                            "because `{}` policies ({engine}) are not evaluated",
                            constraint.source.kind
                        ),
                    )
                })
                .collect(),
        };
        if let Some(engine) = family.webhook_engine()
            && engine_webhook_registered(context, engine.name) == Some(false)
        {
            for finding in &mut family_findings {
                not_enforced(finding, engine.display);
            }
        }
        family_findings.sort_by(|left, right| left.constraint_id.cmp(&right.constraint_id));
        findings.extend(family_findings);
    }
    findings
}

/// Whether a constraint reaches a controller only through the Pods it creates (its resources
/// cover Pods but not the controller's own kind).
pub fn applies_through_pods(constraint: &Constraint, workload: &Workload) -> bool {
    if matches!(
        constraint.details,
        Details::ResourceQuota(_) | Details::LimitRange(_)
    ) {
        return true;
    }
    let Some(resources) = &constraint.scope.resources else {
        return false;
    };
    let plural = format!("{}s", workload.kind.to_ascii_lowercase());
    let group = workload
        .api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("");
    let own = if group.is_empty() {
        plural.clone()
    } else {
        format!("{group}/{plural}")
    };
    let covers_own = resources.iter().any(|resource| {
        resource == &own
            || resource == "*"
            || resource == "*/*"
            || resource == &format!("*/{plural}")
            || (!group.is_empty() && resource == &format!("{group}/*"))
            || resource.eq_ignore_ascii_case(&workload.kind)
    });
    !covers_own
        && resources
            .iter()
            .any(|resource| matches!(resource.as_str(), "pods" | "Pod"))
}
