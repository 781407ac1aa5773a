//! The Gatekeeper engine: evaluates a constraint's ConstraintTemplate (Rego with regorus, one
//! engine per template) on a review (`input.review`, `input.parameters`, `data.inventory`) after
//! re-checking the constraint's `spec.match` on the real object. `check` turns violations into
//! findings with the webhook's message (`[<constraint name>] <msg>`) and the verdict of the
//! constraint's enforcement action at the webhook; `test` (gator suites) counts them. Templates
//! with only `K8sNativeValidation` code run their CEL (`cel.rs`); Rego that fails, CEL that
//! errors and `external_data` calls are `unknown`, never a pass.

pub mod builtins;
pub mod cel;
pub mod enforcement;
pub mod inventory;
pub mod matching;
pub mod multi_body;
pub mod review;
pub mod template;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::Details;
use crate::model::finding::{Finding, Verdict};

use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, finding, unknown_finding};
use enforcement::Action;
use inventory::Inventory;
use matching::{ConstraintMatch, MatchTarget};
use review::Review;
use template::{CompiledTemplate, RegoProgram, TemplateProgram, Violation};

/// The group of every constraint kind.
pub const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";
const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
const TEMPLATE_KIND: &str = "ConstraintTemplate";
/// The Namespace label that keeps Gatekeeper's webhook away (its `namespaceSelector`).
pub const IGNORE_LABEL: &str = "admission.gatekeeper.sh/ignore";

/// What one constraint says about one review.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintOutcome {
    /// `spec.match` does not select the object.
    NotMatched,
    /// Evaluated: these violations (none: admitted).
    Violations(Vec<Violation>),
    /// Not evaluated, because … (the reason starts with "because").
    Unknown(String),
}

/// Compiles a template and loads `data`; `Err` is the reason it cannot be evaluated.
pub fn prepare(template: &Value, data: &regorus::Value) -> Result<RegoProgram, String> {
    let name = template
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let compiled = CompiledTemplate::compile(template).map_err(|error| {
        format!("because ConstraintTemplate `{name}` cannot be evaluated: {error}")
    })?;
    match compiled.program {
        TemplateProgram::Rego(program) => program.with_data(data).map_err(|error| {
            format!("because ConstraintTemplate `{name}` cannot be evaluated: {error}")
        }),
        TemplateProgram::Cel(program) => Ok(*program),
    }
}

/// Matches and evaluates one constraint on one review. `namespace_object` is the Namespace of
/// the reviewed object, when known (for `namespaceSelector`).
pub fn review_constraint(
    program: &RegoProgram,
    constraint: &Value,
    matcher: &ConstraintMatch,
    review: &Review,
    namespace: Option<&str>,
    namespace_object: Option<&Value>,
) -> ConstraintOutcome {
    let target = MatchTarget {
        object: review.matched_object(),
        namespace,
        namespace_object,
    };
    match matcher.matches(&target) {
        Ok(false) => return ConstraintOutcome::NotMatched,
        Ok(true) => {}
        Err(reason) => return ConstraintOutcome::Unknown(format!("because {reason}")),
    }
    let input = review.input(constraint.pointer("/spec/parameters"));
    match program.violations(&input) {
        Ok(violations) => ConstraintOutcome::Violations(violations),
        Err(error) => {
            let name = constraint
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ConstraintOutcome::Unknown(format!(
                "because constraint `{name}` could not be evaluated: {error}"
            ))
        }
    }
}

/// The ConstraintTemplate that defines constraint kind `kind`.
pub fn find_template<'a>(
    templates: impl IntoIterator<Item = &'a Value>,
    kind: &str,
) -> Option<&'a Value> {
    templates.into_iter().find(|template| {
        template
            .pointer("/spec/crd/spec/names/kind")
            .and_then(Value::as_str)
            == Some(kind)
    })
}

/// What `check` keeps across the objects of one run: the inventory and compiled templates.
#[derive(Default)]
pub struct RunCache {
    data: Option<regorus::Value>,
    /// Template kind → program, or why it cannot be evaluated.
    programs: BTreeMap<String, Result<RegoProgram, String>>,
}

impl RunCache {
    fn program(&mut self, context: &CheckContext<'_>, kind: &str) -> Result<&RegoProgram, String> {
        if !self.programs.contains_key(kind) {
            let data = self
                .data
                .get_or_insert_with(|| Inventory::from_snapshot(context.cluster).to_data())
                .clone();
            let templates = context
                .merged
                .of_kind(TEMPLATE_GROUP, TEMPLATE_KIND)
                .map(|object| &object.value);
            let prepared = match find_template(templates, kind) {
                Some(template) => prepare(template, &data),
                None => Err(format!(
                    "because no ConstraintTemplate defining kind `{kind}` was read"
                )),
            };
            self.programs.insert(kind.to_string(), prepared);
        }
        match self.programs.get(kind) {
            Some(Ok(program)) => Ok(program),
            Some(Err(reason)) => Err(reason.clone()),
            None => Err(format!("because the template of `{kind}` was not compiled")),
        }
    }
}

/// Findings of every Gatekeeper constraint that applies to the object.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
    cache: &mut RunCache,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for applicable in applicable {
        findings.extend(evaluate_one(context, object, applicable, cache));
    }
    findings
}

/// The object as the webhook would see it: the Pod a controller creates, or the manifest with
/// its namespace filled in (the apiserver sets it before admission).
fn reviewed_object(object: &ObjectUnderCheck<'_>, through_pods: bool) -> Value {
    let mut value = match (through_pods, object.template) {
        (true, Some(template)) => template.pod.clone(),
        _ => object.manifest.object.value.clone(),
    };
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut)
        && !metadata.contains_key("namespace")
    {
        metadata.insert("namespace".to_string(), json!(object.namespace));
    }
    value
}

fn evaluate_one(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
    cache: &mut RunCache,
) -> Vec<Finding> {
    let constraint = applicable.constraint;
    let Details::Gatekeeper(details) = &constraint.details else {
        return Vec::new();
    };
    let source = &constraint.source;
    let Some(constraint_object) = context.merged.find(
        CONSTRAINT_GROUP,
        &source.kind,
        source.namespace.as_deref(),
        &source.name,
    ) else {
        return vec![unknown_finding(
            object,
            applicable,
            format!(
                "because {} `{}` could not be read back from the cluster state",
                source.kind, source.name
            ),
        )];
    };
    let namespace_labels = context.merged.namespace_labels(object.namespace);
    if namespace_labels.contains_key(IGNORE_LABEL) {
        // The webhook is never called for requests in this namespace.
        return Vec::new();
    }
    let constraint_value = &constraint_object.value;
    let mut matcher = match ConstraintMatch::from_constraint(constraint_value) {
        Ok(matcher) => matcher,
        Err(reason) => {
            return vec![unknown_finding(
                object,
                applicable,
                format!("because {reason}"),
            )];
        }
    };
    matcher.exclude_namespaces(&details.excluded_by_config);
    let program = match cache.program(context, &source.kind) {
        Ok(program) => program,
        Err(reason) => return vec![unknown_finding(object, applicable, reason)],
    };
    let reviewed = reviewed_object(object, applicable.through_pods);
    let existing = (!applicable.through_pods)
        .then(|| {
            let group_kind = object.manifest.object.group_kind();
            context.cluster.find(
                &group_kind.group,
                &group_kind.kind,
                Some(object.namespace),
                &object.manifest.object.name,
            )
        })
        .flatten()
        .map(|existing| &existing.value);
    let review = Review::of_admission(&reviewed, Some(object.namespace), existing);
    let namespace_object = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": object.namespace,
            "labels": namespace_labels,
        }
    });
    let outcome = review_constraint(
        program,
        constraint_value,
        &matcher,
        &review,
        Some(object.namespace),
        Some(&namespace_object),
    );
    let uses_user_info = program.uses_user_info;
    let has_cel_alternative = program.has_cel_alternative;
    match outcome {
        ConstraintOutcome::NotMatched => Vec::new(),
        ConstraintOutcome::Unknown(reason) => vec![unknown_finding(object, applicable, reason)],
        ConstraintOutcome::Violations(violations) => {
            let action = enforcement::action_at(constraint_value, enforcement::WEBHOOK);
            violations
                .into_iter()
                .map(|violation| {
                    let mut entry =
                        violation_finding(object, applicable, &source.name, action, violation);
                    let mut notes = Vec::new();
                    if uses_user_info {
                        notes.push(
                            "the template reads `input.review.userInfo`, which potoo leaves \
                             empty: who applies the manifest may change the verdict",
                        );
                    }
                    if has_cel_alternative {
                        notes.push(
                            "evaluated with the template's Rego; Gatekeeper runs its \
                             `K8sNativeValidation` (CEL) code instead when the CEL driver is \
                             enabled, whose message may be worded differently",
                        );
                    }
                    if !notes.is_empty() {
                        let mut reason = entry
                            .reason
                            .take()
                            .map(|reason| vec![reason])
                            .unwrap_or_default();
                        reason.extend(notes.into_iter().map(str::to_string));
                        entry.reason = Some(reason.join("; "));
                    }
                    entry
                })
                .collect()
        }
    }
}

fn violation_finding(
    object: &ObjectUnderCheck<'_>,
    applicable: &Applicable<'_>,
    constraint_name: &str,
    action: Option<Action>,
    violation: Violation,
) -> Finding {
    let message = format!("[{constraint_name}] {}", violation.message);
    let (verdict, reason) = match action {
        Some(Action::Deny) => (Verdict::Blocked, None),
        Some(Action::Warn) => (Verdict::Warning, None),
        Some(Action::Dryrun) => (
            Verdict::Warning,
            Some("dryrun: recorded by audit only".to_string()),
        ),
        None => (
            Verdict::Warning,
            Some(format!(
                "scoped: not enforced by the webhook (`{}`); recorded by the other enforcement points",
                enforcement::WEBHOOK
            )),
        ),
    };
    let mut entry = finding(object, applicable, verdict, message);
    entry.reason = reason;
    entry.detail = violation
        .details
        .filter(|details| details.as_object().is_none_or(|fields| !fields.is_empty()))
        .map(|details| details.to_string());
    entry
}
