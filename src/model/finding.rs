//! The admission verdict model: what `check` reports per object and per constraint (`CheckResult`).
//!
//! Family-neutral on purpose: PodSecurity fills it today; Kyverno, Gatekeeper, ValidatingAdmissionPolicy,
//! quota, limit range and webhook engines add findings of the same shape.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::source::Gap;

/// What admission would do with an object, as far as potoo can tell. Ordered from best to worst,
/// so the worst verdict of a list is its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Evaluated and nothing objects.
    Pass,
    /// Admitted, with a warning shown to the user or an audit annotation recorded.
    Warning,
    /// A constraint applies but could not be evaluated: the object may or may not be admitted.
    Unknown,
    /// Rejected (for a pod controller: the controller is admitted, its Pods are not).
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warning => "warning",
            Verdict::Unknown => "unknown",
            Verdict::Blocked => "blocked",
        }
    }

    /// The word the table output shows for an object with this verdict.
    pub fn headline(self) -> &'static str {
        match self {
            Verdict::Pass => "ADMITTED",
            Verdict::Warning => "WARNINGS",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Blocked => "BLOCKED",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The manifest object a finding is about, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckedObject {
    pub api_version: String,
    pub kind: String,
    /// The namespace it would be created in; absent for cluster-scoped kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The file as given on the command line (`-` for standard input).
    pub file: String,
    /// 1-based index of the YAML document (or JSON array item) in the file.
    pub document: usize,
    /// 1-based line where the YAML document starts (absent for JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 0-based index of the item when the document is a `List`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
}

impl CheckedObject {
    /// `Deployment/web`.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// `web.yaml document 2, line 14` (and `item 3` inside a List).
    pub fn location(&self) -> String {
        let mut location = format!("{} document {}", self.file, self.document);
        if let Some(item) = self.item {
            location.push_str(&format!(" item {item}"));
        }
        if let Some(line) = self.line {
            location.push_str(&format!(", line {line}"));
        }
        location
    }
}

/// One constraint's verdict on one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub object: CheckedObject,
    /// The constraint id (`<kind>/<namespace or _cluster>/<name>#<rule>`, as `query` shows it).
    pub constraint_id: String,
    /// What decides: the admission plugin or policy kind (`PodSecurity`, `ClusterPolicy`,
    /// `K8sRequiredLabels`, `ValidatingAdmissionPolicy`, `ValidatingWebhookConfiguration`…).
    pub constraint_kind: String,
    /// The rule or check inside the constraint (`allowPrivilegeEscalation`, a Kyverno rule name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub verdict: Verdict,
    /// The message as the real component prints it (the apiserver's error or warning, verbatim);
    /// for `unknown` findings, what the constraint is about.
    pub message: String,
    /// This rule's own part of `message` when the component aggregates several rules into one
    /// message (PodSecurity: `reason (detail)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The first field at fault, in the manifest's own terms
    /// (`spec.template.spec.containers[0].securityContext.privileged`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// Every field at fault, when there are several (the first is `fieldPath`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub field_paths: Vec<String>,
    /// Why the verdict is `unknown` ("because Kyverno rules are not evaluated yet"), or what else
    /// the reader must know to trust the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Evaluated on the Pod a controller would create from its template: the controller itself is
    /// admitted, its Pods are what the verdict is about.
    pub via_pod_template: bool,
}

impl Finding {
    /// Sets `fieldPath` and `fieldPaths` from a list of paths (first one wins).
    pub fn with_field_paths(mut self, paths: Vec<String>) -> Finding {
        self.field_path = paths.first().cloned();
        self.field_paths = if paths.len() > 1 { paths } else { Vec::new() };
        self
    }
}

/// Every finding on one object, and its worst verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectVerdict {
    pub object: CheckedObject,
    pub verdict: Verdict,
    /// The object is a pod controller that would be admitted while the Pods it creates would be
    /// rejected (server-side dry-run of the controller cannot show this).
    pub pods_rejected: bool,
    pub findings: Vec<Finding>,
    /// The 1-based line in the manifest file of each field path the findings name (where it
    /// could be found in the YAML text).
    pub field_lines: BTreeMap<String, usize>,
    /// Network restrictions the object's Pods would live under (warnings only: they do not
    /// change the admission verdict).
    pub network: Vec<NetworkWarning>,
    /// The live apiserver's answer to a dry run of the object (`--server-dry-run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<DryRunOutcome>,
}

/// A network restriction the Pods of a checked object would live under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkWarning {
    /// `ingress` or `egress`.
    pub direction: String,
    /// The policies that restrict this direction (constraint ids).
    pub constraint_ids: Vec<String>,
    /// What the Pods may and may not do, in one sentence.
    pub message: String,
}

/// How the apiserver answered a dry run of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRunResult {
    /// The apiserver would admit it.
    Admitted,
    /// The apiserver rejected it (admission or validation).
    Rejected,
    /// The dry run could not be made (no permission, unknown kind, unreachable).
    Error,
}

/// The apiserver's answer to a server-side dry run, beside potoo's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunOutcome {
    pub result: DryRunResult,
    /// The apiserver's message (rejections and errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Warnings the apiserver returned (`Warning` headers).
    pub warnings: Vec<String>,
    /// Set when the apiserver's answer contradicts potoo's verdict: what differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
}

impl DryRunOutcome {
    /// Compares the apiserver's answer with potoo's verdict on the object. A pod controller
    /// whose Pods potoo would reject is admitted by the apiserver (it does not create Pods in a
    /// dry run), so that is no disagreement; an `unknown` verdict cannot disagree.
    pub fn compared_with(mut self, entry: &ObjectVerdict) -> DryRunOutcome {
        let potoo_rejects = entry.verdict == Verdict::Blocked && !entry.pods_rejected;
        let potoo_admits = matches!(entry.verdict, Verdict::Pass | Verdict::Warning)
            || (entry.verdict == Verdict::Blocked && entry.pods_rejected);
        self.disagreement = match self.result {
            DryRunResult::Rejected if potoo_admits => Some(
                "the apiserver rejected the object, potoo expected it to be admitted".to_string(),
            ),
            DryRunResult::Admitted if potoo_rejects => Some(
                "the apiserver admitted the object, potoo expected it to be rejected".to_string(),
            ),
            _ => None,
        };
        self
    }
}

impl ObjectVerdict {
    /// Builds the entry: the verdict is the worst finding's, `pass` when there is none.
    pub fn new(object: CheckedObject, findings: Vec<Finding>) -> ObjectVerdict {
        let verdict = findings
            .iter()
            .map(|finding| finding.verdict)
            .max()
            .unwrap_or(Verdict::Pass);
        let blocked_directly = findings
            .iter()
            .any(|finding| finding.verdict == Verdict::Blocked && !finding.via_pod_template);
        let pods_rejected = !blocked_directly
            && findings
                .iter()
                .any(|finding| finding.verdict == Verdict::Blocked && finding.via_pod_template);
        ObjectVerdict {
            object,
            verdict,
            pods_rejected,
            findings,
            field_lines: BTreeMap::new(),
            network: Vec::new(),
            dry_run: None,
        }
    }
}

/// What `check` answers (`apiVersion: potoo.dev/v1alpha1`, `kind: CheckResult`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    /// Things the reader must know once, not per finding (apiserver configuration potoo cannot see).
    pub notes: Vec<String>,
    pub objects: Vec<ObjectVerdict>,
}

impl CheckResult {
    pub fn new(gaps: Vec<Gap>, notes: Vec<String>, objects: Vec<ObjectVerdict>) -> CheckResult {
        CheckResult {
            api_version: super::report::API_VERSION,
            kind: "CheckResult",
            incomplete: !gaps.is_empty(),
            gaps,
            notes,
            objects,
        }
    }

    /// The worst verdict over every object (`pass` when there is none).
    pub fn verdict(&self) -> Verdict {
        self.objects
            .iter()
            .map(|object| object.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// Whether anything would be blocked (the exit code is 1 then).
    pub fn any_blocked(&self) -> bool {
        self.objects
            .iter()
            .any(|object| object.verdict == Verdict::Blocked)
    }

    /// Whether any object's verdict is at or above `threshold` (`--fail-on`), or the apiserver
    /// disagreed with potoo in a dry run.
    pub fn fails(&self, threshold: Verdict) -> bool {
        self.objects.iter().any(|object| {
            (object.verdict != Verdict::Pass && object.verdict >= threshold)
                || object
                    .dry_run
                    .as_ref()
                    .is_some_and(|outcome| outcome.disagreement.is_some())
        })
    }

    /// How many objects have each verdict, worst first (verdicts with none are left out).
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        [
            Verdict::Blocked,
            Verdict::Unknown,
            Verdict::Warning,
            Verdict::Pass,
        ]
        .into_iter()
        .map(|verdict| {
            let count = self
                .objects
                .iter()
                .filter(|object| object.verdict == verdict)
                .count();
            (verdict, count)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> CheckedObject {
        CheckedObject {
            api_version: "apps/v1".to_string(),
            kind: "Deployment".to_string(),
            namespace: Some("team-a".to_string()),
            name: "web".to_string(),
            file: "web.yaml".to_string(),
            document: 1,
            line: Some(3),
            item: None,
        }
    }

    fn finding(verdict: Verdict, via_pod_template: bool) -> Finding {
        Finding {
            object: object(),
            constraint_id: "Namespace/_cluster/team-a#enforce".to_string(),
            constraint_kind: "PodSecurity".to_string(),
            rule: Some("privileged".to_string()),
            verdict,
            message: "m".to_string(),
            detail: None,
            field_path: None,
            field_paths: Vec::new(),
            reason: None,
            via_pod_template,
        }
    }

    #[test]
    fn the_worst_verdict_wins_and_unknown_is_worse_than_warning() {
        let entry = ObjectVerdict::new(
            object(),
            vec![
                finding(Verdict::Warning, false),
                finding(Verdict::Unknown, false),
            ],
        );
        assert_eq!(entry.verdict, Verdict::Unknown);
        assert!(!entry.pods_rejected);
        assert_eq!(
            ObjectVerdict::new(object(), Vec::new()).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn a_controller_blocked_only_through_its_pods_says_so() {
        let entry = ObjectVerdict::new(object(), vec![finding(Verdict::Blocked, true)]);
        assert_eq!(entry.verdict, Verdict::Blocked);
        assert!(entry.pods_rejected);
    }

    #[test]
    fn serialized_verdicts_are_lowercase_and_paths_are_omitted_when_single() {
        let single = finding(Verdict::Blocked, false).with_field_paths(vec!["spec.a".to_string()]);
        let value = serde_json::to_value(&single).unwrap();
        assert_eq!(value["verdict"], "blocked");
        assert_eq!(value["fieldPath"], "spec.a");
        assert!(value.get("fieldPaths").is_none());
        let several = finding(Verdict::Warning, false)
            .with_field_paths(vec!["spec.a".to_string(), "spec.b".to_string()]);
        let value = serde_json::to_value(&several).unwrap();
        assert_eq!(value["fieldPaths"].as_array().unwrap().len(), 2);
        assert_eq!(value["constraintId"], "Namespace/_cluster/team-a#enforce");
    }
}
