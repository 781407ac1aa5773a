//! Policy reports (`wgpolicyk8s.io/v1alpha2` PolicyReport/ClusterPolicyReport, `openreports.io/v1alpha1`
//! Report/ClusterReport): every `fail`, `warn` and `error` result becomes a constraint on the
//! resource it names (or the report's scope), so a developer who cannot read the policy still
//! sees that it fails on their workload. `pass` and `skip` results are only counted.

use std::collections::HashSet;

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::details::policyreport::{PolicyReportDetails, ResourceReference, ResultCounts};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::snapshot::string_map;
use crate::source::{GroupKind, Object, Snapshot};

pub struct PolicyReportAdapter;

/// The longest message kept in a summary (the whole message stays in the details).
const SUMMARY_MESSAGE_LENGTH: usize = 200;

/// Property keys and values that say a result comes from an enforcing policy.
const ENFORCE_PROPERTY_KEYS: &[&str] = &[
    "enforcement",
    "enforcementAction",
    "validationFailureAction",
    "failureAction",
    "action",
    "mode",
];
const ENFORCE_PROPERTY_VALUES: &[&str] = &["enforce", "deny", "protect", "block"];

impl Adapter for PolicyReportAdapter {
    fn name(&self) -> &'static str {
        "policyreport"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("wgpolicyk8s.io", "PolicyReport"),
            ("wgpolicyk8s.io", "ClusterPolicyReport"),
            ("openreports.io", "Report"),
            ("openreports.io", "ClusterReport"),
        ]
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let results = match object.value.get("results") {
            None | Some(Value::Null) => return,
            Some(Value::Array(results)) => results,
            Some(_) => {
                output.diagnose(self, object, "results: must be a list; report ignored");
                return;
            }
        };
        let counts = count_results(results);
        let report_source = text(&object.value, "source");
        let scope_reference = object
            .value
            .get("scope")
            .filter(|value| value.is_object())
            .and_then(resource_reference);
        let scope_selector = match selector(object.value.get("scopeSelector")) {
            Ok(selector) => selector,
            Err(error) => {
                output.diagnose(
                    self,
                    object,
                    format!("scopeSelector.{error}; selector ignored"),
                );
                None
            }
        };
        let mut seen = HashSet::new();
        for (index, result) in results.iter().enumerate() {
            let outcome = text(result, "result").unwrap_or_default();
            match outcome.as_str() {
                "fail" | "warn" | "error" => {}
                "pass" | "skip" => continue,
                other => {
                    output.diagnose(
                        self,
                        object,
                        format!(
                            "results[{index}].result: unknown result `{other}` (pass, fail, warn, error, skip); result ignored"
                        ),
                    );
                    continue;
                }
            }
            let Some(policy) = text(result, "policy") else {
                output.diagnose(
                    self,
                    object,
                    format!("results[{index}].policy: missing; result ignored"),
                );
                continue;
            };
            let result_selector = match selector(result.get("resourceSelector")) {
                Ok(selector) => selector.or_else(|| scope_selector.clone()),
                Err(error) => {
                    output.diagnose(
                        self,
                        object,
                        format!("results[{index}].resourceSelector.{error}; result ignored"),
                    );
                    continue;
                }
            };
            let mut resources: Vec<ResourceReference> = result
                .get("resources")
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(resource_reference).collect())
                .unwrap_or_default();
            if resources.is_empty()
                && result_selector.is_none()
                && let Some(reference) = &scope_reference
            {
                resources.push(reference.clone());
            }
            let finding = Finding {
                report: object,
                snapshot,
                result,
                outcome: &outcome,
                policy: &policy,
                source: text(result, "source").or_else(|| report_source.clone()),
                counts,
            };
            if resources.is_empty() {
                if object.namespace.is_none() && result_selector.is_none() {
                    output.diagnose(
                        self,
                        object,
                        format!(
                            "results[{index}]: names no resource and the report has no scope; result ignored"
                        ),
                    );
                    continue;
                }
                let constraint = finding.constraint(None, result_selector);
                if seen.insert(constraint.id.clone()) {
                    output.constraints.push(constraint);
                }
                continue;
            }
            for resource in resources {
                let constraint = finding.constraint(Some(resource), result_selector.clone());
                if seen.insert(constraint.id.clone()) {
                    output.constraints.push(constraint);
                }
            }
        }
    }
}

fn count_results(results: &[Value]) -> ResultCounts {
    let mut counts = ResultCounts::default();
    for result in results {
        match result.get("result").and_then(Value::as_str) {
            Some("pass") => counts.pass += 1,
            Some("fail") => counts.fail += 1,
            Some("warn") => counts.warn += 1,
            Some("error") => counts.error += 1,
            Some("skip") => counts.skip += 1,
            _ => {}
        }
    }
    counts
}

/// One result that becomes constraints.
struct Finding<'a> {
    report: &'a Object,
    snapshot: &'a Snapshot,
    result: &'a Value,
    outcome: &'a str,
    policy: &'a str,
    source: Option<String>,
    counts: ResultCounts,
}

impl Finding<'_> {
    fn constraint(
        &self,
        resource: Option<ResourceReference>,
        resource_selector: Option<LabelSelector>,
    ) -> Constraint {
        let report = self.report;
        let rule = text(self.result, "rule").filter(|rule| !rule.is_empty());
        let severity_text = text(self.result, "severity").or_else(|| {
            self.result
                .pointer("/properties/severity")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let properties = string_map(self.result.get("properties"));
        let enforced = properties.iter().any(|(key, value)| {
            ENFORCE_PROPERTY_KEYS.contains(&key.as_str())
                && ENFORCE_PROPERTY_VALUES.contains(&value.to_ascii_lowercase().as_str())
        }) || kyverno_enforces(self.snapshot, self.policy, rule.as_deref());
        let high = matches!(
            severity_text
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("critical" | "high")
        );
        let (effect, severity, verb) = match self.outcome {
            "fail" if enforced => (Effect::Deny, Severity::Critical, "fails on"),
            "fail" if high => (Effect::Audit, Severity::Critical, "fails on"),
            "fail" => (Effect::Audit, Severity::Warning, "fails on"),
            "warn" => (Effect::Warn, Severity::Warning, "warns on"),
            _ => (Effect::Audit, Severity::Info, "could not be evaluated on"),
        };

        let mut owners = Vec::new();
        let (scope, subject, resource_part) = match &resource {
            Some(resource) => {
                owners = owner_chain(self.snapshot, resource);
                let (scope, subject) = resource_scope(report, resource, &owners);
                let part = match &resource.namespace {
                    Some(namespace) if Some(namespace) != report.namespace.as_ref() => {
                        format!("{}/{}/{}", resource.kind, namespace, resource.name)
                    }
                    _ => format!("{}/{}", resource.kind, resource.name),
                };
                (scope, subject, Some(part))
            }
            None => {
                let subject = match &resource_selector {
                    Some(selector) => format!("resources with {selector}"),
                    None => format!(
                        "namespace `{}`",
                        report.namespace.as_deref().unwrap_or_default()
                    ),
                };
                let scope = Scope {
                    namespaces: report.namespace.clone().map(|namespace| vec![namespace]),
                    workload_selector: resource_selector.clone(),
                    ..Scope::default()
                };
                (scope, subject, None)
            }
        };
        let scope = match (&resource, &resource_selector) {
            (Some(_), Some(selector)) => Scope {
                workload_selector: Some(selector.clone()),
                ..scope
            },
            _ => scope,
        };

        let rule_id = {
            let mut parts = vec![
                self.policy.to_string(),
                rule.clone().unwrap_or_else(|| "_".to_string()),
            ];
            if let Some(part) = &resource_part {
                parts.push(part.clone());
            }
            parts.join("/")
        };
        let message = text(self.result, "message").or_else(|| text(self.result, "description"));
        let label = policy_label(self.snapshot, self.source.as_deref(), self.policy);
        let summary = match &message {
            Some(message) => format!(
                "{label} (from {}) {verb} {subject}: {}",
                report.kind,
                short(message)
            ),
            None => format!("{label} (from {}) {verb} {subject}", report.kind),
        };
        let plural = match report.kind.as_str() {
            "PolicyReport" => "policyreports.wgpolicyk8s.io",
            "ClusterPolicyReport" => "clusterpolicyreports.wgpolicyk8s.io",
            "Report" => "reports.openreports.io",
            _ => "clusterreports.openreports.io",
        };
        let namespace_flag = report
            .namespace
            .as_ref()
            .map(|namespace| format!(" -n {namespace}"))
            .unwrap_or_default();
        let remediation_hint = Some(format!(
            "make {subject} satisfy {label}{}; `kubectl get {plural}{namespace_flag} {} -o yaml` shows the full result",
            rule.as_ref()
                .map(|rule| format!(" rule `{rule}`"))
                .unwrap_or_default(),
            report.name
        ));
        let source = SourceReference::from_object(report);
        Constraint {
            id: Constraint::make_id(&source, Some(&rule_id)),
            rule: Some(rule_id),
            constraint_type: ConstraintType::Admission,
            effect,
            severity,
            scope,
            summary,
            details: Details::PolicyReport(PolicyReportDetails {
                report_kind: report.kind.clone(),
                report_name: report.name.clone(),
                source: self.source.clone(),
                policy: self.policy.to_string(),
                rule,
                result: self.outcome.to_string(),
                severity: severity_text,
                category: text(self.result, "category"),
                message,
                scored: self.result.get("scored").and_then(Value::as_bool),
                timestamp: self
                    .result
                    .pointer("/timestamp/seconds")
                    .and_then(Value::as_i64),
                properties,
                resource,
                resource_selector,
                owners,
                enforced,
                counts: self.counts,
            }),
            remediation_hint,
            source,
        }
    }
}

/// The scope of one named resource, and how to name it in a summary. A Pod or ReplicaSet owned
/// by a controller also matches its top-level owner (the index lists owners, not their pods).
fn resource_scope(
    report: &Object,
    resource: &ResourceReference,
    owners: &[String],
) -> (Scope, String) {
    let subject = format!("{}/{}", resource.kind, resource.name);
    if resource.kind == "Namespace" && resource.api_version.as_deref().unwrap_or("v1") == "v1" {
        let scope = Scope {
            namespaces: Some(vec![resource.name.clone()]),
            resources: Some(vec!["Namespace".to_string()]),
            names: Some(vec![resource.name.clone()]),
            ..Scope::default()
        };
        return (scope, subject);
    }
    let namespace = resource
        .namespace
        .clone()
        .or_else(|| report.namespace.clone());
    let Some(namespace) = namespace else {
        // A cluster-scoped resource other than a Namespace concerns no namespace's workloads.
        let scope = Scope {
            namespaces: Some(Vec::new()),
            resources: Some(vec![resource.kind.clone()]),
            names: Some(vec![resource.name.clone()]),
            note: Some("cluster-scoped resource: attached to no namespace".to_string()),
            ..Scope::default()
        };
        return (scope, subject);
    };
    let own = Scope {
        resources: Some(vec![resource.kind.clone()]),
        names: Some(vec![resource.name.clone()]),
        ..Scope::default()
    };
    let mut scope = Scope {
        namespaces: Some(vec![namespace]),
        ..Scope::default()
    };
    match owners.last() {
        Some(owner) => {
            let (kind, name) = owner.split_once('/').unwrap_or((owner.as_str(), ""));
            scope.any_of = vec![
                own,
                Scope {
                    resources: Some(vec![kind.to_string()]),
                    names: Some(vec![name.to_string()]),
                    note: Some(format!("owner of {subject}")),
                    ..Scope::default()
                },
            ];
        }
        None => {
            scope.resources = own.resources;
            scope.names = own.names;
        }
    }
    (scope, subject)
}

/// The controllers above a resource in the Snapshot, nearest first (`ReplicaSet/web-7d4`,
/// `Deployment/web`), following `ownerReferences` with `controller: true`.
fn owner_chain(snapshot: &Snapshot, resource: &ResourceReference) -> Vec<String> {
    let Some(namespace) = &resource.namespace else {
        return Vec::new();
    };
    let mut chain = Vec::new();
    let mut current = (
        resource.api_version.clone().unwrap_or_default(),
        resource.kind.clone(),
        resource.name.clone(),
    );
    for _ in 0..4 {
        let (api_version, kind, name) = &current;
        let group = if api_version.is_empty() {
            workload_group(kind).to_string()
        } else {
            GroupKind::from_api_version(api_version, kind).group
        };
        let Some(object) = snapshot
            .of_kind(&group, kind)
            .find(|object| &object.name == name && object.namespace.as_ref() == Some(namespace))
        else {
            break;
        };
        let owner = object
            .value
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .and_then(|owners| {
                owners
                    .iter()
                    .find(|owner| owner.get("controller") == Some(&Value::Bool(true)))
            })
            .and_then(|owner| {
                Some((
                    text(owner, "apiVersion").unwrap_or_default(),
                    text(owner, "kind")?,
                    text(owner, "name")?,
                ))
            });
        let Some(owner) = owner else {
            break;
        };
        chain.push(format!("{}/{}", owner.1, owner.2));
        current = owner;
    }
    chain
}

/// The API group of a workload kind named without `apiVersion`.
fn workload_group(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps",
        "Job" | "CronJob" => "batch",
        _ => "",
    }
}

/// Whether the Kyverno policy the result names enforces the rule (policy-level
/// `validationFailureAction`, or the rule's `validate.failureAction`).
fn kyverno_enforces(snapshot: &Snapshot, policy: &str, rule: Option<&str>) -> bool {
    let found = match policy.split_once('/') {
        Some((namespace, name)) => snapshot
            .of_kind("kyverno.io", "Policy")
            .find(|object| object.name == name && object.namespace.as_deref() == Some(namespace)),
        None => snapshot
            .of_kind("kyverno.io", "ClusterPolicy")
            .find(|object| object.name == policy),
    };
    let Some(found) = found else {
        return false;
    };
    let is_enforce = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .is_some_and(|action| action.eq_ignore_ascii_case("enforce"))
    };
    let rule_action = rule.and_then(|rule| {
        found
            .spec()
            .get("rules")
            .and_then(Value::as_array)?
            .iter()
            .find(|item| item.get("name").and_then(Value::as_str) == Some(rule))?
            .pointer("/validate/failureAction")
    });
    match rule_action {
        Some(action) => is_enforce(Some(action)),
        None => is_enforce(found.spec().get("validationFailureAction")),
    }
}

/// "ClusterPolicy `require-labels`", "Policy `team-a/require-app-label`", or "policy `x`".
fn policy_label(snapshot: &Snapshot, source: Option<&str>, policy: &str) -> String {
    let kyverno_source =
        source.is_some_and(|source| source.to_ascii_lowercase().contains("kyverno"));
    if let Some((namespace, name)) = policy.split_once('/') {
        let known = snapshot
            .of_kind("kyverno.io", "Policy")
            .any(|object| object.name == name && object.namespace.as_deref() == Some(namespace));
        if known || kyverno_source {
            return format!("Policy `{policy}`");
        }
        return format!("policy `{policy}`");
    }
    for (group, kind) in [
        ("kyverno.io", "ClusterPolicy"),
        ("policies.kyverno.io", "ValidatingPolicy"),
        ("policies.kyverno.io", "ImageValidatingPolicy"),
    ] {
        if snapshot
            .of_kind(group, kind)
            .any(|object| object.name == policy)
        {
            return format!("{kind} `{policy}`");
        }
    }
    if source.is_some_and(|source| source.eq_ignore_ascii_case("kyverno")) {
        return format!("ClusterPolicy `{policy}`");
    }
    match source {
        Some(source) => format!("{source} policy `{policy}`"),
        None => format!("policy `{policy}`"),
    }
}

fn resource_reference(value: &Value) -> Option<ResourceReference> {
    Some(ResourceReference {
        api_version: text(value, "apiVersion"),
        kind: text(value, "kind")?,
        namespace: text(value, "namespace").filter(|namespace| !namespace.is_empty()),
        name: text(value, "name")?,
        uid: text(value, "uid"),
    })
}

fn selector(value: Option<&Value>) -> Result<Option<LabelSelector>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => LabelSelector::from_value(value)
            .map(|selector| (!selector.is_empty()).then_some(selector))
            .map_err(|error| error.to_string()),
    }
}

/// The first line of a message, at most [`SUMMARY_MESSAGE_LENGTH`] characters.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    if line.chars().count() > SUMMARY_MESSAGE_LENGTH {
        let cut: String = line.chars().take(SUMMARY_MESSAGE_LENGTH).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::object_from_value;
    use serde_json::json;

    fn adapt(objects: Vec<Value>) -> AdapterOutput {
        let mut snapshot = Snapshot::default();
        for object in objects {
            snapshot.insert(object_from_value(object).unwrap());
        }
        let mut output = AdapterOutput::default();
        for object in snapshot.of_kind("wgpolicyk8s.io", "PolicyReport") {
            PolicyReportAdapter.adapt(object, &snapshot, &mut output);
        }
        output
    }

    fn report(policy: &str, rule: &str) -> Value {
        json!({
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "kind": "PolicyReport",
            "metadata": {"name": "r", "namespace": "team-a"},
            "scope": {"apiVersion": "v1", "kind": "Pod", "name": "debug", "namespace": "team-a"},
            "results": [{"policy": policy, "rule": rule, "result": "fail", "source": "kyverno",
                         "message": "limits are required"}]
        })
    }

    #[test]
    fn a_failure_of_an_enforcing_kyverno_policy_in_the_snapshot_is_a_denial() {
        let output = adapt(vec![
            json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
                   "metadata": {"name": "require-limits"},
                   "spec": {"validationFailureAction": "Enforce",
                            "rules": [{"name": "check", "validate": {"message": "x"}}]}}),
            report("require-limits", "check"),
        ]);
        let constraint = &output.constraints[0];
        assert_eq!(
            (constraint.effect, constraint.severity),
            (Effect::Deny, Severity::Critical)
        );
        assert_eq!(
            constraint.summary,
            "ClusterPolicy `require-limits` (from PolicyReport) fails on Pod/debug: limits are required"
        );
    }

    #[test]
    fn a_rule_level_audit_action_overrides_an_enforcing_policy() {
        let output = adapt(vec![
            json!({"apiVersion": "kyverno.io/v1", "kind": "Policy",
                   "metadata": {"name": "require-app-label", "namespace": "team-a"},
                   "spec": {"validationFailureAction": "Enforce",
                            "rules": [{"name": "check", "validate": {"failureAction": "Audit"}}]}}),
            report("team-a/require-app-label", "check"),
        ]);
        let constraint = &output.constraints[0];
        assert_eq!(
            (constraint.effect, constraint.severity),
            (Effect::Audit, Severity::Warning)
        );
        assert!(
            constraint.summary.starts_with(
                "Policy `team-a/require-app-label` (from PolicyReport) fails on Pod/debug"
            ),
            "{}",
            constraint.summary
        );
    }
}
