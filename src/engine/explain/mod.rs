//! `explain`: a pasted error (or a whole `kubectl apply`/`describe` output) → one explanation per
//! error: the family whose real message format it has, the identifiers in it, the constraints
//! they resolve to in the Snapshot, and a confidence.
//!
//! Pipeline, top to bottom: [`split_units`] cuts the paste into error units, [`parsers::parse`]
//! recognizes each unit's format (one parser per family), [`resolve::resolve`] finds the
//! constraints, and [`explain`] assembles the `Explanation` document.

pub mod parsers;
pub mod resolve;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Constraint;
use crate::model::remediation::Remediation;
use crate::model::report::API_VERSION;
use crate::source::{Gap, Snapshot};

/// The component whose message format an error has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Family {
    Webhook,
    Gatekeeper,
    Kyverno,
    PodSecurity,
    ValidatingAdmissionPolicy,
    ResourceQuota,
    LimitRange,
    Rbac,
    Scheduling,
    ImagePull,
    Network,
    Istio,
    Cilium,
    /// Keywords only: no known message format.
    Unknown,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Webhook => "webhook",
            Family::Gatekeeper => "gatekeeper",
            Family::Kyverno => "kyverno",
            Family::PodSecurity => "podSecurity",
            Family::ValidatingAdmissionPolicy => "validatingAdmissionPolicy",
            Family::ResourceQuota => "resourceQuota",
            Family::LimitRange => "limitRange",
            Family::Rbac => "rbac",
            Family::Scheduling => "scheduling",
            Family::ImagePull => "imagePull",
            Family::Network => "network",
            Family::Istio => "istio",
            Family::Cilium => "cilium",
            Family::Unknown => "unknown",
        }
    }
}

/// How sure the explanation is: `high` when an identifier of the message resolved to an object,
/// `medium` when the family is known (candidates listed), `low` when only keywords matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// One cause inside a message: a Kyverno policy rule, a Gatekeeper constraint, a Pod Security
/// check, a LimitRange bound, a scheduler reason…
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// The policy, constraint or check named by the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
    /// Fields of the object at fault (`spec.containers[app].securityContext.privileged`).
    pub fields: Vec<String>,
    /// Parsed values (`resource: cpu`, `enforced: 1`, `actual: 2`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
}

/// What a parser read from one error unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub family: Family,
    pub identifiers: BTreeMap<String, String>,
    pub causes: Vec<Cause>,
    /// What the message says, in words.
    pub summary: String,
    /// Recognized by keywords only (no known format).
    pub keywords_only: bool,
}

impl Parsed {
    pub fn new(family: Family, summary: impl Into<String>) -> Parsed {
        Parsed {
            family,
            identifiers: BTreeMap::new(),
            causes: Vec::new(),
            summary: summary.into(),
            keywords_only: false,
        }
    }

    /// Records an identifier when it is present and not empty.
    pub fn identify(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) {
            self.identifiers.insert(key.to_string(), value.to_string());
        }
    }

    pub fn identifier(&self, key: &str) -> Option<&str> {
        self.identifiers.get(key).map(String::as_str)
    }
}

/// A constraint an error resolved to, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedConstraint {
    pub id: String,
    pub why: String,
    /// The namespace of the constraint's source object (for `--detail` redaction); not printed.
    #[serde(skip)]
    pub namespace: Option<String>,
}

/// One explained error.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorExplanation {
    pub text: String,
    pub family: Family,
    pub confidence: Confidence,
    pub identifiers: BTreeMap<String, String>,
    pub causes: Vec<Cause>,
    pub constraints: Vec<ResolvedConstraint>,
    pub summary: String,
    /// What could not be read that the explanation would have used.
    pub unreadable: Vec<String>,
    /// What to do, for each resolved constraint when the confidence is high (as `remediate`
    /// answers it); empty otherwise.
    pub remediations: Vec<Remediation>,
}

/// The `Explanation` document `explain` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    pub errors: Vec<ErrorExplanation>,
}

impl Explanation {
    pub const KIND: &'static str = "Explanation";

    /// Whether at least one error was recognized (by format or keywords).
    pub fn recognized(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The question: the pasted text and what the user told about it.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// The namespace the request was made in (`-n`, the context's, or `default`), used when the
    /// message does not name one.
    pub namespace: String,
    /// `--workload KIND/NAME` or `NAMESPACE/KIND/NAME`: the workload that saw the error (the
    /// client of a network error); remediations are tailored to it.
    pub workload: Option<String>,
}

/// Explains every error in `text`.
pub fn explain(
    text: &str,
    snapshot: &Snapshot,
    constraints: &[Constraint],
    request: &ExplainRequest,
) -> Explanation {
    let errors = split_units(text)
        .into_iter()
        .filter_map(|unit| {
            let parsed = parsers::parse(&unit)?;
            let resolution = resolve::resolve(&parsed, snapshot, constraints, request);
            let remediations = if resolution.confidence == Confidence::High {
                remediations(snapshot, constraints, request, &resolution.constraints)
            } else {
                Vec::new()
            };
            Some(ErrorExplanation {
                text: unit,
                family: parsed.family,
                confidence: resolution.confidence,
                identifiers: parsed.identifiers,
                causes: parsed.causes,
                constraints: resolution.constraints,
                summary: resolution.summary,
                unreadable: resolution.unreadable,
                remediations,
            })
        })
        .collect();
    Explanation {
        api_version: API_VERSION,
        kind: Explanation::KIND,
        incomplete: snapshot.is_incomplete(),
        gaps: snapshot.gaps.clone(),
        errors,
    }
}

/// What to do about each resolved constraint (`remediate`'s answer), tailored to `--workload`
/// when it names a workload in the request's namespace.
fn remediations(
    snapshot: &Snapshot,
    constraints: &[Constraint],
    request: &ExplainRequest,
    resolved: &[ResolvedConstraint],
) -> Vec<Remediation> {
    let workload = request.workload.as_deref().and_then(|text| {
        let (namespace, kind, name) =
            crate::engine::query::parse_workload(text, Some(&request.namespace)).ok()?;
        crate::index::find_workload(snapshot, &namespace, &kind, &name)
    });
    resolved
        .iter()
        .filter_map(|resolved| {
            let constraint = constraints
                .iter()
                .find(|constraint| constraint.id == resolved.id)?;
            Some(crate::remediation::remediation(
                snapshot,
                constraint,
                workload.as_ref(),
            ))
        })
        .collect()
}

/// Cuts a paste into error units: every line a parser recognizes as the start of an error opens a
/// unit; indented lines, Kyverno's per-policy block and the lines after a message ending in `:`
/// continue it; a blank line closes it. Lines outside any unit (`deployment.apps/web created`)
/// are dropped.
pub fn split_units(text: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut open = false;
    let mut in_policy_block = false;
    for raw_line in text.lines() {
        let line = raw_line.trim_end();
        if line.trim().is_empty() {
            let continues = units
                .last()
                .is_some_and(|unit| unit.ends_with(':') || in_policy_block);
            if open && !continues {
                open = false;
            }
            continue;
        }
        // A `kubectl describe` event of type Normal is never an error and ends the one before.
        if line.trim_start().starts_with("Normal ")
            && line.contains("  ")
            && !parsers::starts_error(line)
        {
            open = false;
            in_policy_block = false;
            continue;
        }
        let kyverno_header = parsers::kyverno::is_header(line);
        let starts = parsers::starts_error(line);
        let indented = line.starts_with(char::is_whitespace);
        let continuation = open
            && (in_policy_block && (indented || parsers::kyverno::is_policy_line(line))
                || kyverno_header
                || indented && !starts
                || units.last().is_some_and(|unit| {
                    unit.ends_with(':')
                        || indented && unit.ends_with(',')
                        || line.starts_with('[') && unit.contains("denied the request")
                }));
        if continuation && !(in_policy_block && starts && !indented) {
            if let Some(unit) = units.last_mut() {
                unit.push('\n');
                unit.push_str(line);
            }
        } else if starts || kyverno_header {
            units.push(line.trim_start().to_string());
            open = true;
            in_policy_block = false;
        } else {
            open = false;
            in_policy_block = false;
            continue;
        }
        if kyverno_header {
            in_policy_block = true;
        }
    }
    units
}

/// Whether some error in `text` is a network error, whose explanation needs every namespace's
/// policies (traffic crosses namespaces).
pub fn crosses_namespaces(text: &str) -> bool {
    split_units(text).iter().any(|unit| {
        parsers::parse(unit).is_some_and(|parsed| {
            matches!(
                parsed.family,
                Family::Network | Family::Cilium | Family::Istio
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paste_is_cut_into_error_units_and_noise_is_dropped() {
        let paste = "deployment.apps/web created\n\
            Error from server (Forbidden): pods \"a\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1\n\
            service/web unchanged\n\
            Warning: would violate PodSecurity \"restricted:latest\": runAsNonRoot != true (pod or container \"a\" must set securityContext.runAsNonRoot=true)\n";
        let units = split_units(paste);
        assert_eq!(units.len(), 2);
        assert!(units[0].starts_with("Error from server"));
        assert!(units[1].starts_with("Warning: would violate"));
    }

    #[test]
    fn kyverno_block_stays_one_unit_across_blank_lines() {
        let paste = "Error from server: admission webhook \"validate.kyverno.svc-fail\" denied the request: \n\
            \n\
            resource Pod/ns/p was blocked due to the following policies \n\
            \n\
            policy-a:\n  rule-a: 'message a'\npolicy-b:\n  rule-b: 'message\n    continued'\n\
            pod/other created\n";
        let units = split_units(paste);
        assert_eq!(units.len(), 1, "{units:?}");
        assert!(units[0].contains("policy-b:"));
        assert!(units[0].contains("continued"));
        assert!(!units[0].contains("pod/other"));
    }

    #[test]
    fn gatekeeper_violation_lines_continue_the_denial() {
        let paste =
            "admission webhook \"validation.gatekeeper.sh\" denied the request: [a] one\n[b] two\n";
        assert_eq!(split_units(paste).len(), 1);
    }

    #[test]
    fn describe_events_are_one_unit_each_and_wrapped_lines_join_them() {
        let events = "  Warning  FailedScheduling  12s   default-scheduler  0/3 nodes are available:\n           1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },\n           2 Insufficient cpu. preemption: 0/3 nodes are available.\n  Normal   Scheduled  1m  default-scheduler  Successfully assigned a/b to node-1\n  Warning  Failed  58s  kubelet  Error: ErrImagePull\n";
        let units = split_units(events);
        assert_eq!(units.len(), 2, "{units:?}");
        assert!(units[0].contains("Insufficient cpu"));
        assert!(!units[0].contains("Successfully assigned"));
    }

    #[test]
    fn text_without_errors_has_no_units() {
        assert!(split_units("deployment.apps/web created\nservice/web unchanged\n").is_empty());
    }
}
