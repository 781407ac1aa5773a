//! Admission webhooks for `check`: which validating and mutating webhooks the apiserver would
//! call for the object, evaluated as the apiserver does: `rules` (operations, apiGroups,
//! apiVersions, resources with subresources, scope), `namespaceSelector` against the namespace's
//! labels (with the `kubernetes.io/metadata.name` label the apiserver sets; a Namespace is
//! matched on its own labels), `objectSelector` against the object's labels, and
//! `matchConditions` (CEL, with kube-cel). A webhook of an engine potoo evaluates itself
//! (Kyverno, Gatekeeper) is folded into that engine's verdict; any other that would be called is
//! `unknown: webhook X decides` with its failurePolicy, timeout and side effects — never `pass`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::constraint::{MatchCondition, WebhookDetails, WebhookRule};
use crate::model::finding::{CheckedObject, Finding, Verdict};
use crate::model::{Constraint, Details, LabelSelector};
use crate::source::catalog;

use super::Manifest;
use super::dispatch::{Applicable, CheckContext, ObjectUnderCheck, unknown_finding};

/// The admission request the apiserver would send, as far as webhook matching needs it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub operation: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Plural resource (`deployments`).
    pub resource: String,
    /// Empty for the main resource.
    pub subresource: String,
    pub namespaced: bool,
    pub namespace: String,
    pub name: String,
    /// The labels `namespaceSelector` is matched against.
    pub namespace_labels: BTreeMap<String, String>,
    /// The object as sent.
    pub object: Value,
}

impl RequestView {
    fn object_labels(&self) -> BTreeMap<String, String> {
        crate::source::snapshot::string_map(self.object.pointer("/metadata/labels"))
    }
}

/// Whether a webhook would be called, and why (or why not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Called; the notes say what potoo could not decide (a matchCondition not evaluated).
    Called {
        notes: Vec<String>,
    },
    NotCalled {
        reason: String,
    },
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

/// The request for the object itself, or for the Pods its controller creates.
fn request_view(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    through_pods: bool,
) -> RequestView {
    if through_pods && let Some(template) = object.template {
        return RequestView {
            operation: "CREATE".to_string(),
            group: String::new(),
            version: "v1".to_string(),
            kind: "Pod".to_string(),
            resource: "pods".to_string(),
            subresource: String::new(),
            namespaced: true,
            namespace: object.namespace.to_string(),
            name: template.display_name.clone(),
            namespace_labels: context.merged.namespace_labels(object.namespace),
            object: template.pod.clone(),
        };
    }
    object_request(context, object.manifest, Some(object.namespace))
}

/// The request for a manifest object as written: CREATE, or UPDATE when the cluster state read
/// has it. `namespace` is where it would be created (`None` for cluster-scoped kinds).
fn object_request(
    context: &CheckContext<'_>,
    manifest: &Manifest,
    namespace: Option<&str>,
) -> RequestView {
    let object = &manifest.object;
    let (group, version) = split_api_version(&object.api_version);
    let resource = catalog::known_kind(&group, &object.kind).map_or_else(
        || format!("{}s", object.kind.to_ascii_lowercase()),
        |known| known.plural.to_string(),
    );
    let existing = context
        .cluster
        .find(&group, &object.kind, namespace, &object.name);
    let is_namespace = group.is_empty() && object.kind == "Namespace";
    let namespace_labels = match namespace {
        Some(namespace) => context.merged.namespace_labels(namespace),
        None if is_namespace => {
            let mut labels = object.labels();
            labels
                .entry("kubernetes.io/metadata.name".to_string())
                .or_insert_with(|| object.name.clone());
            labels
        }
        None => BTreeMap::new(),
    };
    RequestView {
        operation: if existing.is_some() {
            "UPDATE"
        } else {
            "CREATE"
        }
        .to_string(),
        group,
        version,
        kind: object.kind.clone(),
        resource,
        subresource: String::new(),
        namespaced: namespace.is_some(),
        namespace: namespace.unwrap_or_default().to_string(),
        name: object.name.clone(),
        namespace_labels,
        object: object.value.clone(),
    }
}

fn listed(values: &[String], wanted: &str) -> bool {
    values.iter().any(|value| value == "*" || value == wanted)
}

/// One rule of a webhook against the request, as the apiserver's rule matcher does it.
pub fn rule_matches(rule: &WebhookRule, request: &RequestView) -> bool {
    rule_matches_as(rule, request, &request.group, &request.version)
}

/// `rule_matches` for the request's resource seen in another group and version.
fn rule_matches_as(rule: &WebhookRule, request: &RequestView, group: &str, version: &str) -> bool {
    let scope_matches = match rule.scope.as_deref().unwrap_or("*") {
        "Cluster" => !request.namespaced,
        "Namespaced" => request.namespaced,
        _ => true,
    };
    scope_matches
        && listed(&rule.operations, &request.operation)
        && listed(&rule.api_groups, group)
        && listed(&rule.api_versions, version)
        && rule.resources.iter().any(|entry| {
            let (resource, subresource) = entry.split_once('/').unwrap_or((entry.as_str(), ""));
            (resource == "*" || resource == request.resource)
                && (subresource == "*" || subresource == request.subresource)
        })
}

/// Groups that serve the same resources (the apiserver converts between them), for
/// `matchPolicy: Equivalent`.
const EQUIVALENT_GROUPS: &[(&str, &[&str])] = &[
    ("deployments", &["apps", "extensions"]),
    ("daemonsets", &["apps", "extensions"]),
    ("replicasets", &["apps", "extensions"]),
    ("ingresses", &["networking.k8s.io", "extensions"]),
    ("networkpolicies", &["networking.k8s.io", "extensions"]),
];

/// With `matchPolicy: Equivalent` (the default), a rule also matches when it names the same
/// resource in another version, or in an equivalent group: the apiserver converts the request.
fn equivalent_rule_matches(rule: &WebhookRule, request: &RequestView) -> Option<String> {
    let mut groups = vec![request.group.as_str()];
    if let Some((_, equivalent)) = EQUIVALENT_GROUPS.iter().find(|(resource, groups)| {
        *resource == request.resource && groups.contains(&request.group.as_str())
    }) {
        groups.extend(
            equivalent
                .iter()
                .copied()
                .filter(|group| *group != request.group),
        );
    }
    for group in groups {
        for version in &rule.api_versions {
            if rule_matches_as(rule, request, group, version) {
                let shown = if group.is_empty() {
                    version.clone()
                } else {
                    format!("{group}/{version}")
                };
                return Some(format!(
                    "called through matchPolicy Equivalent: the rule names {shown} {}, and the apiserver converts the request",
                    request.resource
                ));
            }
        }
    }
    None
}

/// Whether the webhook would be called for the request. `exact` is `matchPolicy: Exact`
/// (otherwise Equivalent, the default: rules naming the resource in another version or an
/// equivalent group match too).
pub fn call(
    details: &WebhookDetails,
    namespace_selector: Option<&LabelSelector>,
    exact: bool,
    request: &RequestView,
) -> Call {
    let mut notes = Vec::new();
    if !details.rules.iter().any(|rule| rule_matches(rule, request)) {
        let equivalent = if exact {
            None
        } else {
            details
                .rules
                .iter()
                .find_map(|rule| equivalent_rule_matches(rule, request))
        };
        match equivalent {
            Some(note) => notes.push(note),
            None => {
                return Call::NotCalled {
                    reason: format!(
                        "no rule covers {} {}",
                        request.operation,
                        qualified_resource(request)
                    ),
                };
            }
        }
    }
    // The apiserver skips namespaceSelector for cluster-scoped objects other than Namespaces.
    let is_namespace = request.group.is_empty() && request.kind == "Namespace";
    if (request.namespaced || is_namespace)
        && let Some(selector) = namespace_selector
        && !selector.matches(&request.namespace_labels)
    {
        return Call::NotCalled {
            reason: format!("namespaceSelector `{selector}` does not match"),
        };
    }
    if let Some(selector) = &details.object_selector
        && !selector.matches(&request.object_labels())
    {
        return Call::NotCalled {
            reason: format!("objectSelector `{selector}` does not match"),
        };
    }
    for condition in &details.match_conditions {
        match match_condition(condition, request) {
            Ok(true) => {}
            Ok(false) => {
                return Call::NotCalled {
                    reason: format!("matchCondition `{}` is false", condition.name),
                };
            }
            Err(error) => notes.push(format!(
                "matchCondition `{}` not evaluated ({error}): the webhook may or may not be called",
                condition.name
            )),
        }
    }
    Call::Called { notes }
}

fn qualified_resource(request: &RequestView) -> String {
    if request.group.is_empty() {
        format!("{}/{}", request.version, request.resource)
    } else {
        format!("{}/{}/{}", request.group, request.version, request.resource)
    }
}

/// What a false expression reports, to tell it apart from errors in kube-cel's results.
const FALSE_MARKER: &str = "\u{0}potoo: false";

/// A matchCondition's CEL expression on the request (`object`, `oldObject`, `request`);
/// `Err` when it cannot be evaluated client-side (`authorizer`, unsupported syntax, errors).
fn match_condition(condition: &MatchCondition, request: &RequestView) -> Result<bool, String> {
    use kube_cel::{
        AdmissionRequest, GroupVersionKind, GroupVersionResource, VapEvaluator, VapExpression,
    };
    if condition.expression.contains("authorizer") {
        return Err("`authorizer` checks the requester's permissions in the cluster".to_string());
    }
    let evaluator = VapEvaluator::builder()
        .object(request.object.clone())
        .old_object(Value::Null)
        .request(AdmissionRequest {
            operation: request.operation.clone(),
            name: request.name.clone(),
            namespace: request.namespace.clone(),
            kind: GroupVersionKind {
                group: request.group.clone(),
                version: request.version.clone(),
                kind: request.kind.clone(),
            },
            resource: GroupVersionResource {
                group: request.group.clone(),
                version: request.version.clone(),
                resource: request.resource.clone(),
            },
            ..AdmissionRequest::default()
        })
        .build();
    let results = evaluator.evaluate(&[VapExpression {
        expression: condition.expression.clone(),
        message: Some(FALSE_MARKER.to_string()),
        message_expression: None,
    }]);
    let Some(result) = results.first() else {
        return Err("no result".to_string());
    };
    if result.passed {
        return Ok(true);
    }
    match result.message.as_deref() {
        Some(FALSE_MARKER) => Ok(false),
        Some(message) => Err(message.to_string()),
        None => Err("no result".to_string()),
    }
}

/// The webhook's `matchPolicy` as written in its configuration (`Equivalent` when absent, the
/// `admissionregistration.k8s.io/v1` default).
fn match_policy(
    context: &CheckContext<'_>,
    constraint: &Constraint,
    details: &WebhookDetails,
) -> String {
    let source = &constraint.source;
    context
        .merged
        .find(
            "admissionregistration.k8s.io",
            &source.kind,
            None,
            &source.name,
        )
        .and_then(|configuration| configuration.value.get("webhooks"))
        .and_then(Value::as_array)
        .and_then(|webhooks| {
            webhooks.iter().find(|webhook| {
                webhook.get("name").and_then(Value::as_str) == Some(details.webhook_name.as_str())
            })
        })
        .and_then(|webhook| webhook.get("matchPolicy"))
        .and_then(Value::as_str)
        .unwrap_or("Equivalent")
        .to_string()
}

/// Whether a webhook is called for the request, with the notes of how (`None`: not called).
fn called(
    context: &CheckContext<'_>,
    constraint: &Constraint,
    details: &WebhookDetails,
    request: &RequestView,
) -> Option<Vec<String>> {
    let exact = match_policy(context, constraint, details) == "Exact";
    match call(
        details,
        constraint.scope.namespace_selector.as_ref(),
        exact,
        request,
    ) {
        Call::Called { notes } => Some(notes),
        Call::NotCalled { .. } => None,
    }
}

/// Why a called webhook makes the verdict unknown.
fn decides(details: &WebhookDetails, request: &RequestView, notes: Vec<String>) -> String {
    let mut reason = format!(
        "because {} webhook `{}` decides: it is called for {} {} (failurePolicy {}, timeout {}s, sideEffects {}) and runs in the cluster, so potoo cannot evaluate it",
        details.webhook_type,
        details.webhook_name,
        request.operation,
        qualified_resource(request),
        details.failure_policy,
        details.timeout_seconds,
        details.side_effects.as_deref().unwrap_or("Unknown"),
    );
    for note in notes {
        reason.push_str("; ");
        reason.push_str(&note);
    }
    reason
}

/// Findings of every webhook that would be called for the object.
pub fn evaluate(
    context: &CheckContext<'_>,
    object: &ObjectUnderCheck<'_>,
    applicable: &[Applicable<'_>],
) -> Vec<Finding> {
    let family_present = |is_family: fn(&Details) -> bool| {
        context
            .adapted
            .constraints
            .iter()
            .any(|constraint| is_family(&constraint.details))
    };
    applicable
        .iter()
        .filter_map(|applicable| {
            let Details::Webhook(details) = &applicable.constraint.details else {
                return None;
            };
            let request = request_view(context, object, applicable.through_pods);
            let notes = called(context, applicable.constraint, details, &request)?;
            let folded = match details.engine.as_deref() {
                Some("kyverno") => family_present(|details| matches!(details, Details::Kyverno(_))),
                Some("gatekeeper") => {
                    family_present(|details| matches!(details, Details::Gatekeeper(_)))
                }
                _ => false,
            };
            if folded {
                return None;
            }
            Some(unknown_finding(
                object,
                applicable,
                decides(details, &request, notes),
            ))
        })
        .collect()
}

/// Findings of every webhook that would be called for a cluster-scoped object (a Namespace, a
/// ClusterRole…), which no policy engine evaluates in `check`: even a Kyverno or Gatekeeper
/// webhook is `unknown` here.
pub fn evaluate_cluster_scoped(
    context: &CheckContext<'_>,
    manifest: &Manifest,
    checked: &CheckedObject,
) -> Vec<Finding> {
    let request = object_request(context, manifest, None);
    let mut findings: Vec<Finding> = context
        .adapted
        .constraints
        .iter()
        .filter_map(|constraint| {
            let Details::Webhook(details) = &constraint.details else {
                return None;
            };
            let notes = called(context, constraint, details, &request)?;
            let mut reason = decides(details, &request, notes);
            if let Some(engine) = &details.engine {
                reason.push_str(&format!(
                    "; potoo does not evaluate {engine} policies on cluster-scoped objects"
                ));
            }
            Some(Finding {
                object: checked.clone(),
                constraint_id: constraint.id.clone(),
                constraint_kind: constraint.source.kind.clone(),
                rule: constraint.rule.clone(),
                verdict: Verdict::Unknown,
                message: constraint.summary.clone(),
                detail: None,
                field_path: None,
                field_paths: Vec::new(),
                reason: Some(reason),
                via_pod_template: false,
            })
        })
        .collect();
    findings.sort_by(|left, right| left.constraint_id.cmp(&right.constraint_id));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        operations: &[&str],
        groups: &[&str],
        versions: &[&str],
        resources: &[&str],
    ) -> WebhookRule {
        let strings = |values: &[&str]| values.iter().map(|value| value.to_string()).collect();
        WebhookRule {
            operations: strings(operations),
            api_groups: strings(groups),
            api_versions: strings(versions),
            resources: strings(resources),
            scope: None,
        }
    }

    fn request(group: &str, resource: &str, labels: Value) -> RequestView {
        RequestView {
            operation: "CREATE".to_string(),
            group: group.to_string(),
            version: "v1".to_string(),
            kind: "Deployment".to_string(),
            resource: resource.to_string(),
            subresource: String::new(),
            namespaced: true,
            namespace: "team-a".to_string(),
            name: "web".to_string(),
            namespace_labels: BTreeMap::from([
                (
                    "kubernetes.io/metadata.name".to_string(),
                    "team-a".to_string(),
                ),
                ("tier".to_string(), "prod".to_string()),
            ]),
            object: serde_json::json!({"metadata": {"name": "web", "labels": labels}, "spec": {"replicas": 3}}),
        }
    }

    fn details(rules: Vec<WebhookRule>) -> WebhookDetails {
        WebhookDetails {
            webhook_type: "validating".to_string(),
            webhook_name: "check.example.com".to_string(),
            rules,
            object_selector: None,
            match_conditions: Vec::new(),
            failure_policy: "Fail".to_string(),
            side_effects: Some("None".to_string()),
            timeout_seconds: 10,
            client: None,
            engine: None,
        }
    }

    #[test]
    fn rules_match_like_the_apiserver() {
        let deployment = request("apps", "deployments", serde_json::json!({}));
        assert!(rule_matches(
            &rule(&["CREATE"], &["apps"], &["v1"], &["deployments"]),
            &deployment
        ));
        assert!(rule_matches(
            &rule(&["*"], &["*"], &["*"], &["*"]),
            &deployment
        ));
        assert!(rule_matches(
            &rule(&["*"], &["*"], &["*"], &["*/*"]),
            &deployment
        ));
        assert!(rule_matches(
            &rule(&["*"], &["apps"], &["*"], &["deployments/*"]),
            &deployment
        ));
        assert!(!rule_matches(
            &rule(&["UPDATE"], &["apps"], &["v1"], &["deployments"]),
            &deployment
        ));
        assert!(!rule_matches(
            &rule(&["CREATE"], &[""], &["v1"], &["deployments"]),
            &deployment
        ));
        assert!(!rule_matches(
            &rule(&["CREATE"], &["apps"], &["v1beta1"], &["deployments"]),
            &deployment
        ));
        assert!(!rule_matches(
            &rule(&["CREATE"], &["apps"], &["v1"], &["deployments/scale"]),
            &deployment
        ));
        assert!(!rule_matches(
            &rule(&["CREATE"], &["apps"], &["v1"], &["*/scale"]),
            &deployment
        ));
        let mut cluster_only = rule(&["*"], &["*"], &["*"], &["*"]);
        cluster_only.scope = Some("Cluster".to_string());
        assert!(!rule_matches(&cluster_only, &deployment));
        cluster_only.scope = Some("Namespaced".to_string());
        assert!(rule_matches(&cluster_only, &deployment));
    }

    #[test]
    fn selectors_and_match_conditions_decide_the_call() {
        let all = vec![rule(&["*"], &["*"], &["*"], &["*"])];
        let labelled = request("apps", "deployments", serde_json::json!({"app": "web"}));
        let namespace_selector = LabelSelector::from_value(
            &serde_json::json!({"matchLabels": {"kubernetes.io/metadata.name": "team-a"}}),
        )
        .unwrap();
        let other_namespace =
            LabelSelector::from_value(&serde_json::json!({"matchLabels": {"tier": "dev"}}))
                .unwrap();
        assert_eq!(
            call(
                &details(all.clone()),
                Some(&namespace_selector),
                false,
                &labelled
            ),
            Call::Called { notes: Vec::new() }
        );
        assert!(matches!(
            call(
                &details(all.clone()),
                Some(&other_namespace),
                false,
                &labelled
            ),
            Call::NotCalled { .. }
        ));

        let mut with_object_selector = details(all.clone());
        with_object_selector.object_selector = Some(
            LabelSelector::from_value(&serde_json::json!({"matchLabels": {"app": "db"}})).unwrap(),
        );
        assert!(matches!(
            call(&with_object_selector, None, false, &labelled),
            Call::NotCalled { .. }
        ));

        let condition = |expression: &str| MatchCondition {
            name: "c".to_string(),
            expression: expression.to_string(),
        };
        let mut conditional = details(all.clone());
        conditional.match_conditions = vec![condition("object.metadata.name == 'web'")];
        assert_eq!(
            call(&conditional, None, false, &labelled),
            Call::Called { notes: Vec::new() }
        );
        conditional.match_conditions = vec![condition("request.operation == 'UPDATE'")];
        assert_eq!(
            call(&conditional, None, false, &labelled),
            Call::NotCalled {
                reason: "matchCondition `c` is false".to_string()
            }
        );
        conditional.match_conditions = vec![condition(
            "authorizer.group('').resource('pods').check('create').allowed()",
        )];
        let Call::Called { notes } = call(&conditional, None, false, &labelled) else {
            panic!("an unevaluated condition must not skip the webhook");
        };
        assert!(notes[0].contains("may or may not be called"), "{notes:?}");
        conditional.match_conditions = vec![condition("object.spec.nope.deeper == 1")];
        assert!(
            matches!(call(&conditional, None, false, &labelled), Call::Called { notes } if notes.len() == 1)
        );
    }
}
