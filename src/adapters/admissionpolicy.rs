//! ValidatingAdmissionPolicy and MutatingAdmissionPolicy with their bindings
//! (`admissionregistration.k8s.io` v1, v1beta1, v1alpha1): one constraint per (policy, binding)
//! pair, scoped to the intersection of the policy's `matchConstraints` and the binding's
//! `matchResources`; a policy without a binding yields one inert info constraint.

use std::collections::BTreeSet;

use serde_json::Value;

use super::fields::strings;
use super::registry::{Adapter, AdapterOutput};
use crate::model::constraint::MatchCondition;
use crate::model::details::admissionpolicy::{
    AdmissionPolicyDetails, AuditAnnotation, MatchResources, Mutation, ParamKind, ParamReference,
    ResourceRule, Validation, Variable,
};
use crate::model::selector::{Operator, Requirement};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{GroupKind, Object, Snapshot};

pub struct AdmissionPolicyAdapter;

const GROUP: &str = "admissionregistration.k8s.io";

impl Adapter for AdmissionPolicyAdapter {
    fn name(&self) -> &'static str {
        "admissionpolicy"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (GROUP, "ValidatingAdmissionPolicy"),
            (GROUP, "ValidatingAdmissionPolicyBinding"),
            (GROUP, "MutatingAdmissionPolicy"),
            (GROUP, "MutatingAdmissionPolicyBinding"),
        ]
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        match object.kind.as_str() {
            "ValidatingAdmissionPolicy" => self.adapt_policy(object, snapshot, output, true),
            "MutatingAdmissionPolicy" => self.adapt_policy(object, snapshot, output, false),
            "ValidatingAdmissionPolicyBinding" => {
                self.check_binding(object, snapshot, output, "ValidatingAdmissionPolicy")
            }
            "MutatingAdmissionPolicyBinding" => {
                self.check_binding(object, snapshot, output, "MutatingAdmissionPolicy")
            }
            _ => {}
        }
    }
}

/// The parts of a policy every binding shares.
struct Policy {
    validating: bool,
    failure_policy: String,
    matching: MatchResources,
    match_conditions: Vec<MatchCondition>,
    variables: Vec<Variable>,
    validations: Vec<Validation>,
    audit_annotations: Vec<AuditAnnotation>,
    mutations: Vec<Mutation>,
    reinvocation_policy: Option<String>,
    param_kind: Option<ParamKind>,
}

impl AdmissionPolicyAdapter {
    fn adapt_policy(
        &self,
        object: &Object,
        snapshot: &Snapshot,
        output: &mut AdapterOutput,
        validating: bool,
    ) {
        let policy = match parse_policy(object.spec(), validating) {
            Ok(policy) => policy,
            Err(message) => {
                output.diagnose(self, object, message);
                return;
            }
        };
        let binding_kind = format!("{}Binding", object.kind);
        let mut bindings: Vec<&Object> = snapshot
            .of_kind(GROUP, &binding_kind)
            .filter(|binding| {
                binding.spec().get("policyName").and_then(Value::as_str)
                    == Some(object.name.as_str())
            })
            .collect();
        bindings.sort_by(|left, right| left.name.cmp(&right.name));
        if bindings.is_empty() {
            output.constraints.push(unbound(object, &policy));
            return;
        }
        for binding in bindings {
            match bound(object, &policy, binding, snapshot) {
                Ok((constraint, problems)) => {
                    for problem in problems {
                        output.diagnose(self, binding, problem);
                    }
                    output.constraints.push(constraint);
                }
                Err(message) => output.diagnose(self, binding, message),
            }
        }
    }

    /// Bindings become constraints through their policy; here only a missing policy is reported.
    fn check_binding(
        &self,
        object: &Object,
        snapshot: &Snapshot,
        output: &mut AdapterOutput,
        policy_kind: &str,
    ) {
        let Some(policy_name) = object.spec().get("policyName").and_then(Value::as_str) else {
            output.diagnose(
                self,
                object,
                "spec.policyName: missing; binding enforces nothing",
            );
            return;
        };
        let exists = snapshot
            .of_kind(GROUP, policy_kind)
            .any(|policy| policy.name == policy_name);
        if !exists {
            output.diagnose(
                self,
                object,
                format!("spec.policyName: {policy_kind} `{policy_name}` not found; binding enforces nothing"),
            );
        }
    }
}

fn parse_policy(spec: &Value, validating: bool) -> Result<Policy, String> {
    let matching = match spec.get("matchConstraints") {
        None | Some(Value::Null) => {
            return Err(
                "spec.matchConstraints: missing, so the policy matches no request; policy ignored"
                    .to_string(),
            );
        }
        Some(value) => parse_match_resources(value, "spec.matchConstraints")?,
    };
    let param_kind = spec
        .get("paramKind")
        .filter(|value| !value.is_null())
        .map(|kind| ParamKind {
            api_version: text(kind, "apiVersion").unwrap_or_default(),
            kind: text(kind, "kind").unwrap_or_default(),
        });
    let validations = items(spec.get("validations"), "spec.validations")?
        .iter()
        .map(|item| Validation {
            expression: text(item, "expression").unwrap_or_default(),
            message: text(item, "message"),
            message_expression: text(item, "messageExpression"),
            reason: text(item, "reason"),
        })
        .collect();
    let mutations = items(spec.get("mutations"), "spec.mutations")?
        .iter()
        .map(|item| {
            let patch_type = text(item, "patchType").unwrap_or_default();
            let expression = item
                .pointer("/applyConfiguration/expression")
                .or_else(|| item.pointer("/jsonPatch/expression"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Mutation {
                patch_type,
                expression,
            }
        })
        .collect();
    Ok(Policy {
        validating,
        failure_policy: text(spec, "failurePolicy").unwrap_or_else(|| "Fail".to_string()),
        matching,
        match_conditions: items(spec.get("matchConditions"), "spec.matchConditions")?
            .iter()
            .map(|item| MatchCondition {
                name: text(item, "name").unwrap_or_default(),
                expression: text(item, "expression").unwrap_or_default(),
            })
            .collect(),
        variables: items(spec.get("variables"), "spec.variables")?
            .iter()
            .map(|item| Variable {
                name: text(item, "name").unwrap_or_default(),
                expression: text(item, "expression").unwrap_or_default(),
            })
            .collect(),
        validations,
        audit_annotations: items(spec.get("auditAnnotations"), "spec.auditAnnotations")?
            .iter()
            .map(|item| AuditAnnotation {
                key: text(item, "key").unwrap_or_default(),
                value_expression: text(item, "valueExpression").unwrap_or_default(),
            })
            .collect(),
        mutations,
        reinvocation_policy: text(spec, "reinvocationPolicy"),
        param_kind,
    })
}

fn parse_match_resources(value: &Value, field: &str) -> Result<MatchResources, String> {
    if !value.is_object() {
        return Err(format!("{field}: must be a mapping; policy ignored"));
    }
    let selector = |name: &str| -> Result<Option<LabelSelector>, String> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(selector) => LabelSelector::from_value(selector)
                .map(Some)
                .map_err(|error| format!("{field}.{name}.{error}; policy ignored")),
        }
    };
    Ok(MatchResources {
        namespace_selector: selector("namespaceSelector")?,
        object_selector: selector("objectSelector")?,
        resource_rules: parse_rules(
            value.get("resourceRules"),
            &format!("{field}.resourceRules"),
        )?,
        exclude_resource_rules: parse_rules(
            value.get("excludeResourceRules"),
            &format!("{field}.excludeResourceRules"),
        )?,
        match_policy: text(value, "matchPolicy"),
    })
}

fn parse_rules(value: Option<&Value>, field: &str) -> Result<Vec<ResourceRule>, String> {
    Ok(items(value, field)?
        .iter()
        .map(|rule| ResourceRule {
            api_groups: strings(rule.get("apiGroups")),
            api_versions: strings(rule.get("apiVersions")),
            resources: strings(rule.get("resources")),
            operations: strings(rule.get("operations")),
            resource_names: strings(rule.get("resourceNames")),
            scope: text(rule, "scope"),
        })
        .collect())
}

/// The constraint of a policy no binding puts into effect: it applies nowhere.
fn unbound(object: &Object, policy: &Policy) -> Constraint {
    let source = SourceReference::from_object(object);
    let (resources, operations) = resources_and_operations(&policy.matching.resource_rules);
    let (effect, would) = if policy.validating {
        (Effect::Audit, "validate")
    } else {
        (Effect::Mutate, "mutate")
    };
    Constraint {
        id: Constraint::make_id(&source, Some("unbound")),
        rule: Some("unbound".to_string()),
        constraint_type: ConstraintType::Admission,
        effect,
        severity: Severity::Info,
        scope: Scope {
            // An empty list matches no namespace: the policy is in effect nowhere.
            namespaces: Some(Vec::new()),
            resources: Some(resources.clone()),
            operations: Some(operations.clone()),
            note: Some("no binding: in effect nowhere".to_string()),
            ..Scope::default()
        },
        summary: format!(
            "{} `{}` has no binding and enforces nothing (it would {would} {} of {})",
            object.kind,
            object.name,
            join_or(&operations, "no operation"),
            join_or(&resources, "no resource"),
        ),
        details: Details::AdmissionPolicy(details(object, policy, None)),
        remediation_hint: Some(format!(
            "nothing to do: a {}Binding naming `{}` would put it into effect",
            object.kind, object.name
        )),
        source,
    }
}

/// One (policy, binding) constraint, plus problems worth a diagnostic on the binding.
fn bound(
    object: &Object,
    policy: &Policy,
    binding: &Object,
    snapshot: &Snapshot,
) -> Result<(Constraint, Vec<String>), String> {
    let spec = binding.spec();
    let mut problems = Vec::new();
    let binding_match = match spec.get("matchResources") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            parse_match_resources(value, "spec.matchResources")
                .map_err(|message| message.replace("policy ignored", "binding ignored"))?,
        ),
    };
    let mut validation_actions = strings(spec.get("validationActions"));
    validation_actions.sort();
    validation_actions.dedup();
    let (effect, severity) = if policy.validating {
        let has = |action: &str| validation_actions.iter().any(|item| item == action);
        if has("Deny") && has("Warn") {
            problems.push(
                "spec.validationActions: `Deny` and `Warn` together are rejected by the apiserver; treated as `Deny`"
                    .to_string(),
            );
        }
        if has("Deny") {
            (Effect::Deny, Severity::Critical)
        } else if has("Warn") {
            (Effect::Warn, Severity::Warning)
        } else if has("Audit") {
            (Effect::Audit, Severity::Info)
        } else {
            return Err(
                "spec.validationActions: missing or without Deny, Warn or Audit; the apiserver requires one; binding ignored"
                    .to_string(),
            );
        }
    } else {
        (Effect::Mutate, Severity::Info)
    };

    let (policy_resources, policy_operations) =
        resources_and_operations(&policy.matching.resource_rules);
    let (resources, operations) = match &binding_match {
        Some(matching) if !matching.resource_rules.is_empty() => {
            let (binding_resources, binding_operations) =
                resources_and_operations(&matching.resource_rules);
            (
                intersect_patterns(&policy_resources, &binding_resources),
                intersect_patterns(&policy_operations, &binding_operations),
            )
        }
        _ => (policy_resources, policy_operations),
    };
    let names = match &binding_match {
        Some(matching) if !matching.resource_rules.is_empty() => intersect_names(
            resource_names(&policy.matching.resource_rules),
            resource_names(&matching.resource_rules),
        ),
        _ => resource_names(&policy.matching.resource_rules),
    };
    let namespace_selector = intersect_selectors(
        policy.matching.namespace_selector.clone(),
        binding_match
            .as_ref()
            .and_then(|matching| matching.namespace_selector.clone()),
    );
    let object_selector = intersect_selectors(
        policy.matching.object_selector.clone(),
        binding_match
            .as_ref()
            .and_then(|matching| matching.object_selector.clone()),
    );
    let mut excluded = Vec::new();
    let exclude_rules = policy.matching.exclude_resource_rules.iter().chain(
        binding_match
            .iter()
            .flat_map(|matching| matching.exclude_resource_rules.iter()),
    );
    for rule in exclude_rules {
        // The index does not compare operations: an exclusion that leaves some of the
        // constraint's operations matched is kept in the details only.
        let rule_operations = rule.operations.clone();
        let covers_all = rule_operations.iter().any(|operation| operation == "*")
            || operations
                .iter()
                .all(|operation| rule_operations.contains(operation));
        if !covers_all {
            continue;
        }
        let (rule_resources, _) = resources_and_operations(std::slice::from_ref(rule));
        excluded.push(Scope {
            resources: Some(rule_resources),
            names: (!rule.resource_names.is_empty()).then(|| rule.resource_names.clone()),
            note: Some("excludeResourceRules".to_string()),
            ..Scope::default()
        });
    }

    let mut details = details(object, policy, Some(binding));
    details.binding_match = binding_match.map(Box::new);
    details.validation_actions = validation_actions.clone();
    resolve_params(policy, spec, snapshot, &mut details);
    let param_note = match details.param_status.as_deref() {
        Some("missing") | Some("noParamRef") => {
            let action = details
                .param_ref
                .as_ref()
                .and_then(|reference| reference.parameter_not_found_action.clone())
                .unwrap_or_else(|| "Deny".to_string());
            if action == "Allow" && details.param_status.as_deref() == Some("missing") {
                "; parameters not found, so every request is allowed (parameterNotFoundAction Allow)"
                    .to_string()
            } else if policy.failure_policy == "Ignore" {
                "; parameters not found, and failurePolicy Ignore lets every request through"
                    .to_string()
            } else {
                "; parameters not found, so every matched request fails (failurePolicy Fail)"
                    .to_string()
            }
        }
        _ => String::new(),
    };

    let verb = match effect {
        Effect::Deny => "denies",
        Effect::Warn => "warns on",
        Effect::Audit => "audits",
        _ => "mutates",
    };
    let failing = if policy.validating { " that fail" } else { "" };
    let where_text = match &namespace_selector {
        None => " in every namespace".to_string(),
        Some(selector) if selector.is_empty() => " in every namespace".to_string(),
        Some(selector) => format!(" in namespaces with {selector}"),
    };
    let labelled = match &object_selector {
        Some(selector) if !selector.is_empty() => format!(" labelled {selector}"),
        _ => String::new(),
    };
    let what = if policy.validating {
        describe_validations(&policy.validations)
    } else {
        describe_mutations(&policy.mutations)
    };
    let summary = format!(
        "{} `{}` (binding `{}`) {verb} {} of {}{labelled}{where_text}{failing}: {what}{param_note}",
        object.kind,
        object.name,
        binding.name,
        join_or(&operations, "no operation"),
        join_or(&resources, "no resource"),
    );
    let remediation_hint = policy.validating.then(|| {
        format!(
            "make the object satisfy the CEL validations of `{}` (see details), or ask a cluster admin to \
             narrow binding `{}`",
            object.name, binding.name
        )
    });
    let source = SourceReference::from_object(object);
    let constraint = Constraint {
        id: Constraint::make_id(&source, Some(&binding.name)),
        rule: Some(binding.name.clone()),
        constraint_type: ConstraintType::Admission,
        effect,
        severity,
        scope: Scope {
            namespace_selector,
            workload_selector: object_selector,
            resources: Some(resources),
            operations: Some(operations),
            names,
            excluded,
            ..Scope::default()
        },
        summary,
        details: Details::AdmissionPolicy(details),
        remediation_hint,
        source,
    };
    Ok((constraint, problems))
}

fn details(object: &Object, policy: &Policy, binding: Option<&Object>) -> AdmissionPolicyDetails {
    AdmissionPolicyDetails {
        policy_type: if policy.validating {
            "validating".to_string()
        } else {
            "mutating".to_string()
        },
        policy: object.name.clone(),
        binding: binding.map(|binding| binding.name.clone()),
        failure_policy: policy.failure_policy.clone(),
        policy_match: Box::new(policy.matching.clone()),
        binding_match: None,
        match_conditions: policy.match_conditions.clone(),
        variables: policy.variables.clone(),
        validations: policy.validations.clone(),
        audit_annotations: policy.audit_annotations.clone(),
        mutations: policy.mutations.clone(),
        reinvocation_policy: policy.reinvocation_policy.clone(),
        validation_actions: Vec::new(),
        param_kind: policy.param_kind.clone(),
        param_ref: None,
        param_status: None,
        param_objects: Vec::new(),
    }
}

/// Looks the binding's parameter objects up in the Snapshot.
fn resolve_params(
    policy: &Policy,
    binding_spec: &Value,
    snapshot: &Snapshot,
    details: &mut AdmissionPolicyDetails,
) {
    let reference = binding_spec
        .get("paramRef")
        .filter(|value| !value.is_null())
        .map(|reference| ParamReference {
            name: text(reference, "name"),
            namespace: text(reference, "namespace"),
            selector: reference
                .get("selector")
                .and_then(|selector| LabelSelector::from_value(selector).ok()),
            parameter_not_found_action: text(reference, "parameterNotFoundAction"),
        });
    details.param_ref = reference.clone().map(Box::new);
    let Some(kind) = &policy.param_kind else {
        return;
    };
    let Some(reference) = reference else {
        details.param_status = Some("noParamRef".to_string());
        return;
    };
    let group_kind = GroupKind::from_api_version(&kind.api_version, &kind.kind);
    let candidates: Vec<&Object> = snapshot
        .of_kind(&group_kind.group, &group_kind.kind)
        .collect();
    if candidates.is_empty() {
        details.param_status = Some("notRead".to_string());
        return;
    }
    let matches_reference = |candidate: &Object| -> bool {
        let name_matches = reference
            .name
            .as_ref()
            .is_none_or(|name| &candidate.name == name);
        let selector_matches = reference
            .selector
            .as_ref()
            .is_none_or(|selector| selector.matches(&candidate.labels()));
        name_matches && selector_matches
    };
    let found: Vec<&Object> = match &reference.namespace {
        Some(namespace) => candidates
            .iter()
            .copied()
            .filter(|candidate| candidate.namespace.as_deref() == Some(namespace.as_str()))
            .filter(|candidate| matches_reference(candidate))
            .collect(),
        None => {
            let cluster_scoped: Vec<&Object> = candidates
                .iter()
                .copied()
                .filter(|candidate| candidate.namespace.is_none())
                .filter(|candidate| matches_reference(candidate))
                .collect();
            if cluster_scoped.is_empty() && candidates.iter().any(|item| item.namespace.is_some()) {
                details.param_status = Some("perRequestNamespace".to_string());
                details.param_objects = candidates
                    .iter()
                    .copied()
                    .filter(|candidate| matches_reference(candidate))
                    .map(qualified_name)
                    .collect();
                return;
            }
            cluster_scoped
        }
    };
    details.param_status = Some(if found.is_empty() { "missing" } else { "found" }.to_string());
    details.param_objects = found.into_iter().map(qualified_name).collect();
}

fn qualified_name(object: &Object) -> String {
    match &object.namespace {
        Some(namespace) => format!("{namespace}/{}", object.name),
        None => object.name.clone(),
    }
}

/// `apps/deployments`, `pods`, `*/*` for each rule's groups × resources, and the operations.
fn resources_and_operations(rules: &[ResourceRule]) -> (Vec<String>, Vec<String>) {
    let mut resources = BTreeSet::new();
    let mut operations = BTreeSet::new();
    for rule in rules {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                resources.insert(if group.is_empty() {
                    resource.clone()
                } else {
                    format!("{group}/{resource}")
                });
            }
        }
        operations.extend(rule.operations.iter().cloned());
    }
    (
        resources.into_iter().collect(),
        operations.into_iter().collect(),
    )
}

/// Resource names restrict the scope only when every rule lists some.
fn resource_names(rules: &[ResourceRule]) -> Option<Vec<String>> {
    if rules.is_empty() || rules.iter().any(|rule| rule.resource_names.is_empty()) {
        return None;
    }
    let names: BTreeSet<String> = rules
        .iter()
        .flat_map(|rule| rule.resource_names.iter().cloned())
        .collect();
    Some(names.into_iter().collect())
}

fn intersect_names(left: Option<Vec<String>>, right: Option<Vec<String>>) -> Option<Vec<String>> {
    match (left, right) {
        (None, other) | (other, None) => other,
        (Some(left), Some(right)) => Some(
            left.into_iter()
                .filter(|name| right.contains(name))
                .collect(),
        ),
    }
}

/// Whether `pattern` (`*`, `*/*`, `apps/*`, `*/deployments`, an exact name) covers `item`.
fn covers(pattern: &str, item: &str) -> bool {
    if pattern == item || pattern == "*" || pattern == "*/*" {
        return true;
    }
    let split = |text: &str| -> (String, String) {
        match text.split_once('/') {
            Some((group, resource)) => (group.to_string(), resource.to_string()),
            None => (String::new(), text.to_string()),
        }
    };
    let (pattern_group, pattern_resource) = split(pattern);
    let (item_group, item_resource) = split(item);
    (pattern_group == "*" || pattern_group == item_group)
        && (pattern_resource == "*" || pattern_resource == item_resource)
}

/// What both lists match: the narrower of each pair that overlaps.
fn intersect_patterns(left: &[String], right: &[String]) -> Vec<String> {
    let mut result = BTreeSet::new();
    for item in right {
        if left.iter().any(|pattern| covers(pattern, item)) {
            result.insert(item.clone());
        }
    }
    for item in left {
        if right.iter().any(|pattern| covers(pattern, item)) {
            result.insert(item.clone());
        }
    }
    result.into_iter().collect()
}

/// Both selectors must match: labels and expressions are ANDed; two different required values
/// for one key become two `In` requirements, which nothing satisfies.
fn intersect_selectors(
    left: Option<LabelSelector>,
    right: Option<LabelSelector>,
) -> Option<LabelSelector> {
    match (left, right) {
        (None, other) | (other, None) => other,
        (Some(mut merged), Some(right)) => {
            for (key, value) in right.match_labels {
                match merged.match_labels.get(&key) {
                    Some(existing) if existing != &value => {
                        merged.match_expressions.push(Requirement {
                            key,
                            operator: Operator::In,
                            values: vec![value],
                        })
                    }
                    _ => {
                        merged.match_labels.insert(key, value);
                    }
                }
            }
            for requirement in right.match_expressions {
                if !merged.match_expressions.contains(&requirement) {
                    merged.match_expressions.push(requirement);
                }
            }
            Some(merged)
        }
    }
}

fn describe_validations(validations: &[Validation]) -> String {
    let Some(first) = validations.first() else {
        return "no validations".to_string();
    };
    let text = first
        .message
        .clone()
        .or_else(|| {
            first
                .message_expression
                .as_ref()
                .map(|expression| format!("message from `{expression}`"))
        })
        .unwrap_or_else(|| format!("`{}` must hold", first.expression));
    if validations.len() > 1 {
        format!("{text} (+{} more validations)", validations.len() - 1)
    } else {
        text
    }
}

fn describe_mutations(mutations: &[Mutation]) -> String {
    if mutations.is_empty() {
        return "no mutations".to_string();
    }
    let kinds: BTreeSet<&str> = mutations
        .iter()
        .map(|mutation| mutation.patch_type.as_str())
        .collect();
    format!(
        "{} mutation(s) ({})",
        mutations.len(),
        kinds.into_iter().collect::<Vec<_>>().join(", ")
    )
}

fn join_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(",")
    }
}

fn items<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a [Value], String> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{field}: must be a list; policy ignored")),
    }
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_string)
}
