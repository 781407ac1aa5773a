//! Detail levels (DESIGN §6) and redaction of reports before they are rendered.
//!
//! `full` shows everything read. `detailed` hides rule bodies (Rego, CEL, patterns, specs) and
//! the selectors of other namespaces' constraints. `summary` also replaces names of constraints
//! outside the user's namespace — in another namespace, or cluster-scoped (except the user's own
//! Namespace, whose labels carry Pod Security) — with their kind and type and hides the ports
//! and CIDRs of other namespaces. Secret/ConfigMap data and the last-applied annotation never
//! reach a report at any level (`source::snapshot::object_from_value` strips them).
//!
//! Reports built from constraints (`query`) are redacted field by field; reports that quote
//! constraints in text (`check` messages, `remediate` steps, `explain`) are scrubbed of the
//! strings `hidden_strings` lists for each constraint they mention.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cli::DetailLevel;
use crate::model::finding::CheckResult;
use crate::model::remediation::Remediation;
use crate::model::report::{QueryEntry, QueryResult};
use crate::model::{Constraint, Details, SourceReference};

/// What replaces a hidden string in text.
pub const HIDDEN: &str = "<hidden>";

/// Keys whose values are rule bodies: hidden from `detailed` on.
const RULE_BODY_KEYS: &[&str] = &[
    "spec",
    "rego",
    "libs",
    "code",
    "pattern",
    "anyPattern",
    "deny",
    "conditions",
    "preconditions",
    "foreach",
    "cel",
    "expression",
    "expressions",
    "validations",
    "variables",
    "matchConditions",
    "messageExpression",
    "mutations",
    "patches",
    "parameters",
    "body",
    "manifests",
];

/// Keys that reveal another namespace's selectors, ports or addresses.
const FOREIGN_KEYS: &[&str] = &[
    "podSelector",
    "namespaceSelector",
    "workloadSelector",
    "endpointSelector",
    "selector",
    "objectSelector",
    "peers",
    "ports",
    "ipBlock",
    "cidr",
    "cidrs",
    "except",
    "rules",
    "from",
    "to",
    "matchLabels",
    "matchExpressions",
    "toFQDNs",
    "hosts",
    "principals",
];

/// Keys whose values are selectors (their `key=value` pairs are hidden for other namespaces).
const SELECTOR_KEYS: &[&str] = &[
    "podSelector",
    "namespaceSelector",
    "workloadSelector",
    "endpointSelector",
    "selector",
    "objectSelector",
    "nodeSelector",
    "matchLabels",
    "identitySelector",
];

/// Keys whose values are ports, addresses, hosts or identities (hidden at `summary`).
const ADDRESS_KEYS: &[&str] = &[
    "port",
    "ports",
    "endPort",
    "notPorts",
    "number",
    "cidr",
    "cidrs",
    "except",
    "ipBlocks",
    "notIpBlocks",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
    "hosts",
    "notHosts",
    "matchName",
    "matchPattern",
    "domainNames",
    "principals",
    "notPrincipals",
    "serviceAccounts",
    "notServiceAccounts",
    "requestPrincipals",
    "client",
];

/// The label every Namespace carries with its own name: selecting by it names a namespace, and
/// namespace names are shown at every level.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Rule parts of constraint ids that name no one (a direction, a whole policy, a PSA mode).
const GENERIC_RULE_NAMES: &[&str] = &[
    "ingress",
    "egress",
    "policy",
    "pod-security-enforce",
    "pod-security-warn",
    "pod-security-audit",
];

/// Whether a constraint's policy lives in another namespace than `own_namespace`.
pub fn in_other_namespace(source: &SourceReference, own_namespace: &str) -> bool {
    source
        .namespace
        .as_deref()
        .is_some_and(|namespace| namespace != own_namespace)
}

/// Whether a constraint lies outside the user's namespace: in another namespace, or
/// cluster-scoped — except the user's own Namespace object (Pod Security labels).
pub fn is_outside(source: &SourceReference, own_namespace: &str) -> bool {
    match &source.namespace {
        Some(namespace) => namespace != own_namespace,
        None => !(source.kind == "Namespace" && source.name == own_namespace),
    }
}

/// `ClusterPolicy (Admission)`: what replaces a hidden constraint name at `summary`.
pub fn hidden_label(constraint: &Constraint) -> String {
    format!(
        "{} ({})",
        constraint.source.kind, constraint.constraint_type
    )
}

/// `NetworkPolicy/payments/<hidden>`: what replaces a hidden constraint id at `summary`.
pub fn hidden_id(source: &SourceReference) -> String {
    format!(
        "{}/{}/{HIDDEN}",
        source.kind,
        source.namespace.as_deref().unwrap_or("_cluster")
    )
}

/// Redacts a query result in place for `level`; `own_namespace` is the user's namespace.
pub fn redact_query(result: &mut QueryResult, level: DetailLevel, own_namespace: &str) {
    if level == DetailLevel::Full {
        return;
    }
    for entry in &mut result.constraints {
        redact_entry(entry, level, own_namespace);
    }
    if level == DetailLevel::Summary {
        let prefix_own = format!("/{own_namespace}/");
        result.diagnostics.retain(|diagnostic| {
            diagnostic.object.contains(&prefix_own) || diagnostic.object.matches('/').count() == 1
        });
    }
}

fn redact_entry(entry: &mut QueryEntry, level: DetailLevel, own_namespace: &str) {
    let other_namespace = in_other_namespace(&entry.constraint.source, own_namespace);
    let outside = is_outside(&entry.constraint.source, own_namespace);
    let hidden = hidden_strings(&entry.constraint, level, own_namespace);
    for reason in &mut entry.matched_because {
        *reason = scrub(reason, &hidden);
    }
    redact_constraint(&mut entry.constraint, level, own_namespace);
    if other_namespace {
        let namespace = entry
            .constraint
            .source
            .namespace
            .clone()
            .unwrap_or_default();
        entry.matched_because = vec![format!("defined in namespace `{namespace}`")];
    } else if outside && level == DetailLevel::Summary {
        entry.matched_because = vec!["cluster-wide".to_string()];
    }
}

/// Redacts one constraint in place (for `query`, and for `explain` documents that embed
/// constraints): rule bodies from `detailed` on; another namespace's selectors, scope and hint
/// from `detailed` on; at `summary`, the name, rule and id of constraints outside the user's
/// namespace, and every detail but the family and direction.
pub fn redact_constraint(constraint: &mut Constraint, level: DetailLevel, own_namespace: &str) {
    if level == DetailLevel::Full {
        return;
    }
    let other_namespace = in_other_namespace(&constraint.source, own_namespace);
    let outside = is_outside(&constraint.source, own_namespace);
    let hidden = hidden_strings(constraint, level, own_namespace);
    constraint.summary = scrub(&constraint.summary, &hidden);
    constraint.remediation_hint = constraint
        .remediation_hint
        .as_deref()
        .map(|hint| scrub(hint, &hidden));
    let mut details = serde_json::to_value(&constraint.details).unwrap_or(Value::Null);
    remove_keys(&mut details, RULE_BODY_KEYS);
    if other_namespace {
        remove_keys(&mut details, FOREIGN_KEYS);
        constraint.scope.workload_selector = None;
        constraint.scope.namespace_selector = None;
        constraint.remediation_hint = None;
        let namespace = constraint.source.namespace.clone().unwrap_or_default();
        constraint.summary = format!(
            "{} {} in namespace `{}` (details hidden: another namespace)",
            constraint.source.kind, constraint.effect, namespace
        );
    }
    if outside && level == DetailLevel::Summary {
        let label = hidden_label(constraint);
        if !other_namespace {
            constraint.summary = format!(
                "{} {} (details hidden: outside your namespace)",
                label, constraint.effect
            );
            constraint.scope.workload_selector = None;
            constraint.scope.namespace_selector = None;
            constraint.scope.names = None;
            constraint.scope.any_of = Vec::new();
            constraint.scope.excluded = Vec::new();
            constraint.remediation_hint = None;
        }
        constraint.id = hidden_id(&constraint.source);
        constraint.source.name = label;
        constraint.source.uid = None;
        constraint.rule = None;
        if let Value::Object(fields) = &mut details {
            fields.retain(|key, _| key == "family" || key == "direction" || key == "defaultDeny");
        }
    }
    constraint.details = Details::Redacted(details);
}

/// The strings `level` must not print about `constraint` when it appears in free text (a
/// message, a step, a command): rule bodies from `detailed` on; for another namespace's
/// constraint, its selectors from `detailed` on; at `summary`, the name, rule, ports, CIDRs,
/// hosts and identities of any constraint outside the user's namespace.
/// Longest first, so replacing them in order never leaves a fragment.
pub fn hidden_strings(
    constraint: &Constraint,
    level: DetailLevel,
    own_namespace: &str,
) -> Vec<String> {
    let mut hidden = BTreeSet::new();
    if level == DetailLevel::Full {
        return Vec::new();
    }
    let details = serde_json::to_value(&constraint.details).unwrap_or(Value::Null);
    collect_under(&details, RULE_BODY_KEYS, false, &mut |text| {
        if is_code(text) {
            hidden.insert(text.to_string());
        }
    });
    if in_other_namespace(&constraint.source, own_namespace) {
        let scope = serde_json::to_value(&constraint.scope).unwrap_or(Value::Null);
        for value in [&details, &scope] {
            collect_selector_pairs(value, false, &mut hidden);
        }
    }
    if level == DetailLevel::Summary && is_outside(&constraint.source, own_namespace) {
        collect_under(&details, ADDRESS_KEYS, false, &mut |text| {
            if !text.is_empty() && text != "TCP" && text != "UDP" && text != "SCTP" {
                hidden.insert(text.to_string());
            }
        });
        hidden.insert(constraint.source.name.clone());
        if let Some(rule) = constraint
            .rule
            .as_ref()
            .filter(|rule| !GENERIC_RULE_NAMES.contains(&rule.as_str()))
        {
            hidden.insert(rule.clone());
        }
        if let Details::Kyverno(kyverno) = &constraint.details {
            hidden.extend(kyverno.autogen_rules.iter().cloned());
        }
        if let Some(uid) = &constraint.source.uid {
            hidden.insert(uid.clone());
        }
        hidden.insert(constraint.id.clone());
    }
    hidden.retain(|text| text.len() > 1);
    let mut ordered: Vec<String> = hidden.into_iter().collect();
    ordered.sort_by(|left, right| right.len().cmp(&left.len()).then(left.cmp(right)));
    ordered
}

/// Text that reads as code or a pattern rather than a word: CEL, Rego, regexes, globs.
fn is_code(text: &str) -> bool {
    text.len() >= 8
        && (text.contains(char::is_whitespace)
            || text.contains(['(', '[', '*', '^', '$', '{', '=', '!', '|']))
}

/// Calls `found` with every scalar (as text) under one of `keys`, at any depth.
fn collect_under(value: &Value, keys: &[&str], inside: bool, found: &mut dyn FnMut(&str)) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                collect_under(child, keys, inside || keys.contains(&key.as_str()), found);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_under(item, keys, inside, found);
            }
        }
        Value::String(text) if inside => found(text),
        Value::Number(number) if inside => found(&number.to_string()),
        _ => {}
    }
}

/// `key=value` (and `key in (…)` forms' values) of every selector, at any depth.
fn collect_selector_pairs(value: &Value, inside: bool, hidden: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            if inside && let Some(Value::Object(labels)) = fields.get("matchLabels") {
                for (key, label) in labels {
                    if key == NAMESPACE_NAME_LABEL {
                        continue;
                    }
                    if let Some(label) = label.as_str() {
                        hidden.insert(format!("{key}={label}"));
                        hidden.insert(format!("{key}: {label}"));
                    }
                }
            }
            if inside && let Some(Value::Array(expressions)) = fields.get("matchExpressions") {
                for expression in expressions {
                    let key = expression.get("key").and_then(Value::as_str);
                    if key == Some(NAMESPACE_NAME_LABEL) {
                        continue;
                    }
                    if let Some(Value::Array(values)) = expression.get("values") {
                        for label in values.iter().filter_map(Value::as_str) {
                            if let Some(key) = expression.get("key").and_then(Value::as_str) {
                                hidden.insert(format!("{key}={label}"));
                            }
                            if label.len() > 2 {
                                hidden.insert(label.to_string());
                            }
                        }
                    }
                }
            }
            for (key, child) in fields {
                let selector = SELECTOR_KEYS.contains(&key.as_str());
                if selector
                    && child.get("matchLabels").is_none()
                    && let Value::Object(labels) = child
                {
                    // A plain label map (Istio `selector.matchLabels` is decoded the same way).
                    for (label_key, label) in labels {
                        if label_key == NAMESPACE_NAME_LABEL {
                            continue;
                        }
                        if let Some(label) = label.as_str() {
                            hidden.insert(format!("{label_key}={label}"));
                            hidden.insert(format!("{label_key}: {label}"));
                        }
                    }
                }
                collect_selector_pairs(child, inside || selector, hidden);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_selector_pairs(item, inside, hidden);
            }
        }
        _ => {}
    }
}

/// Replaces every whole occurrence of each hidden string in `text` (not inside a longer name:
/// the characters around it are not letters, digits, `-`, `_` or `.`).
pub fn scrub(text: &str, hidden: &[String]) -> String {
    let mut result = text.to_string();
    for secret in hidden {
        result = replace_whole(&result, secret);
    }
    result
}

/// Whether `text` contains any hidden string as a whole token.
pub fn reveals(text: &str, hidden: &[String]) -> bool {
    hidden
        .iter()
        .any(|secret| replace_whole(text, secret) != text)
}

fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
}

fn replace_whole(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text.to_string();
    }
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    let mut previous: Option<char> = None;
    while let Some(position) = rest.find(secret) {
        let before = rest[..position].chars().next_back().or(previous);
        let after = rest[position + secret.len()..].chars().next();
        let starts_clean =
            !before.is_some_and(is_name_character) || !secret.starts_with(is_name_character);
        let ends_clean =
            !after.is_some_and(is_name_character) || !secret.ends_with(is_name_character);
        let end = position + secret.len();
        if starts_clean && ends_clean {
            result.push_str(&rest[..position]);
            result.push_str(HIDDEN);
        } else {
            result.push_str(&rest[..end]);
        }
        previous = rest[..end].chars().next_back();
        rest = &rest[end..];
    }
    result.push_str(rest);
    result
}

/// The constraints by id, for redacting the results that name them.
fn by_id(constraints: &[Constraint]) -> std::collections::HashMap<&str, &Constraint> {
    constraints
        .iter()
        .map(|constraint| (constraint.id.as_str(), constraint))
        .collect()
}

/// Redacts a check result in place: each finding's texts are scrubbed of what `level` hides
/// about its constraint, and at `summary` a constraint outside the object's namespace is named
/// by its kind and type only. `constraints` are the adapted constraints the findings name.
pub fn redact_check(
    result: &mut CheckResult,
    constraints: &[Constraint],
    level: DetailLevel,
    default_namespace: &str,
) {
    if level == DetailLevel::Full {
        return;
    }
    let by_id = by_id(constraints);
    for object in &mut result.objects {
        let own_namespace = object
            .object
            .namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string());
        for finding in &mut object.findings {
            let Some(constraint) = by_id.get(finding.constraint_id.as_str()) else {
                continue;
            };
            let hidden = hidden_strings(constraint, level, &own_namespace);
            finding.message = scrub(&finding.message, &hidden);
            finding.detail = finding.detail.as_deref().map(|text| scrub(text, &hidden));
            finding.reason = finding.reason.as_deref().map(|text| scrub(text, &hidden));
            if level == DetailLevel::Summary && is_outside(&constraint.source, &own_namespace) {
                finding.constraint_id = hidden_id(&constraint.source);
                finding.rule = None;
                if finding.verdict == crate::model::finding::Verdict::Unknown {
                    // potoo's own description of the constraint, not the component's message.
                    finding.message = format!(
                        "{} {} (details hidden: outside your namespace)",
                        hidden_label(constraint),
                        constraint.effect
                    );
                }
            } else if let Some(rule) = &finding.rule {
                finding.rule = Some(scrub(rule, &hidden));
            }
        }
        for warning in &mut object.network {
            for id in &mut warning.constraint_ids {
                let Some(constraint) = by_id.get(id.as_str()) else {
                    continue;
                };
                let hidden = hidden_strings(constraint, level, &own_namespace);
                warning.message = scrub(&warning.message, &hidden);
                if level == DetailLevel::Summary && is_outside(&constraint.source, &own_namespace) {
                    *id = hidden_id(&constraint.source);
                }
            }
        }
    }
}

/// Redacts a remediation in place: steps read from rule bodies go from `detailed` on; texts are
/// scrubbed of what `level` hides about `constraint`; a command or patch that would reveal it is
/// dropped rather than printed broken; at `summary` a constraint outside the user's namespace is
/// named by its kind and type only.
pub fn redact_remediation(
    remediation: &mut Remediation,
    constraint: &Constraint,
    level: DetailLevel,
    own_namespace: &str,
) {
    if level == DetailLevel::Full {
        return;
    }
    let hidden = hidden_strings(constraint, level, own_namespace);
    let level_name = match level {
        DetailLevel::Detailed => "detailed",
        _ => "summary",
    };
    remediation.steps.retain(|step| !step.from_rule_body);
    for step in &mut remediation.steps {
        let commands_before = step.commands.len();
        step.commands.retain(|command| !reveals(command, &hidden));
        let patch_hidden = step
            .patch
            .as_ref()
            .is_some_and(|patch| reveals(&patch.body, &hidden) || reveals(&patch.target, &hidden));
        if patch_hidden {
            step.patch = None;
            // Commands that apply the patch shown below have nothing left to apply.
            step.commands
                .retain(|command| !command.contains(crate::remediation::MANIFEST_PLACEHOLDER));
        }
        step.text = scrub(&step.text, &hidden);
        if patch_hidden || step.commands.len() < commands_before {
            step.text.push_str(&format!(
                " (commands and patches that name it are hidden at --detail {level_name})"
            ));
        }
    }
    for contact in &mut remediation.contacts {
        contact.source = scrub(&contact.source, &hidden);
    }
    if level == DetailLevel::Summary && is_outside(&constraint.source, own_namespace) {
        remediation.constraint_id = hidden_id(&constraint.source);
        remediation.summary = format!(
            "{} {} (details hidden: outside your namespace)",
            hidden_label(constraint),
            constraint.effect
        );
    } else {
        remediation.summary = scrub(&remediation.summary, &hidden);
    }
    if let Some(privilege) = remediation.steps.iter().map(|step| step.privilege).min() {
        remediation.privilege = privilege;
    }
}

/// Removes `keys` at any depth.
fn remove_keys(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(fields) => {
            fields.retain(|key, _| !keys.contains(&key.as_str()));
            for child in fields.values_mut() {
                remove_keys(child, keys);
            }
        }
        Value::Array(items) => {
            for item in items {
                remove_keys(item, keys);
            }
        }
        _ => {}
    }
}

/// Redacts an explanation in place for `level`: constraints of other namespaces lose their reasons
/// from `detailed` on (they may quote selectors, ports and CIDRs) and their names at `summary`,
/// where a summary that relied on them is replaced too. At `summary`, cluster-scoped constraints
/// outside the user's namespace are hidden as well, by the same rule (`is_outside`) as `check`
/// and `remediate`.
pub fn redact_explanation(
    explanation: &mut crate::engine::explain::Explanation,
    constraints: &[Constraint],
    level: DetailLevel,
    own_namespace: &str,
) {
    if level == DetailLevel::Full {
        return;
    }
    let by_id = by_id(constraints);
    for error in &mut explanation.errors {
        for remediation in &mut error.remediations {
            if let Some(constraint) = by_id.get(remediation.constraint_id.as_str()) {
                redact_remediation(remediation, constraint, level, own_namespace);
            }
        }
        let mut hid_other_namespace = false;
        let mut hid_cluster_scoped = false;
        for resolved in &mut error.constraints {
            if let Some(namespace) = resolved
                .namespace
                .clone()
                .filter(|namespace| namespace != own_namespace)
            {
                hid_other_namespace = true;
                resolved.why = format!(
                    "defined in namespace `{namespace}` (details hidden: another namespace)"
                );
                if level == DetailLevel::Summary {
                    let kind = resolved
                        .id
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    resolved.id = format!("{kind}/{namespace}/{HIDDEN}");
                }
                continue;
            }
            if level != DetailLevel::Summary {
                continue;
            }
            let Some(constraint) = by_id.get(resolved.id.as_str()) else {
                continue;
            };
            if constraint.source.namespace.is_none()
                && is_outside(&constraint.source, own_namespace)
            {
                hid_cluster_scoped = true;
                resolved.id = hidden_id(&constraint.source);
                resolved.why = format!(
                    "{} {} (details hidden: outside your namespace)",
                    hidden_label(constraint),
                    constraint.effect
                );
            }
        }
        if level == DetailLevel::Summary {
            if hid_other_namespace {
                error.summary = format!(
                    "{} error: a constraint in another namespace is involved (details hidden)",
                    error.family.as_str()
                );
            } else if hid_cluster_scoped {
                error.summary = format!(
                    "{} error: a constraint outside your namespace is involved (details hidden)",
                    error.family.as_str()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(list: &[&str]) -> Vec<String> {
        list.iter().map(|text| text.to_string()).collect()
    }

    #[test]
    fn scrubbing_replaces_whole_names_only() {
        let secrets = hidden(&["api", "53", "10.0.0.0/8"]);
        assert_eq!(
            scrub(
                "policy api blocks payments-api on 53/UDP and 5353, not 10.0.0.0/8",
                &secrets
            ),
            "policy <hidden> blocks payments-api on <hidden>/UDP and 5353, not <hidden>"
        );
        assert_eq!(scrub("`api`#api", &secrets), "`<hidden>`#<hidden>");
        assert!(reveals("kubectl describe networkpolicy/api", &secrets));
        assert!(!reveals("kubectl describe networkpolicy/apis", &secrets));
    }

    #[test]
    fn outside_means_another_namespace_or_cluster_scoped_but_not_the_own_namespace_object() {
        let reference = |kind: &str, namespace: Option<&str>, name: &str| SourceReference {
            api_version: "v1".to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            uid: None,
        };
        assert!(is_outside(&reference("NetworkPolicy", Some("b"), "x"), "a"));
        assert!(!is_outside(
            &reference("NetworkPolicy", Some("a"), "x"),
            "a"
        ));
        assert!(is_outside(&reference("ClusterPolicy", None, "x"), "a"));
        assert!(!is_outside(&reference("Namespace", None, "a"), "a"));
        assert!(is_outside(&reference("Namespace", None, "b"), "a"));
        assert!(!in_other_namespace(
            &reference("ClusterPolicy", None, "x"),
            "a"
        ));
    }

    fn network_policy(namespace: &str) -> Constraint {
        use crate::model::constraint::{
            NetworkPeer, NetworkPolicyDetails, NetworkPort, NetworkRule,
        };
        use crate::model::{ConstraintType, Effect, LabelSelector, Scope, Severity};
        let source = SourceReference {
            api_version: "networking.k8s.io/v1".to_string(),
            kind: "NetworkPolicy".to_string(),
            namespace: Some(namespace.to_string()),
            name: "allow-db".to_string(),
            uid: Some("uid-1".to_string()),
        };
        Constraint {
            id: Constraint::make_id(&source, Some("ingress")),
            source,
            rule: Some("ingress".to_string()),
            constraint_type: ConstraintType::NetworkIngress,
            effect: Effect::Restrict,
            severity: Severity::Info,
            scope: Scope::default(),
            summary: "allows ingress from app=billing on 5432".to_string(),
            details: Details::NetworkPolicy(NetworkPolicyDetails {
                direction: "ingress".to_string(),
                default_deny: false,
                allow_all: false,
                rules: vec![NetworkRule {
                    peers: vec![NetworkPeer {
                        pod_selector: Some(LabelSelector::from_labels(
                            [("app".to_string(), "billing".to_string())].into(),
                        )),
                        namespace_selector: None,
                        ip_block: None,
                    }],
                    ports: vec![NetworkPort {
                        protocol: "TCP".to_string(),
                        port: Some("5432".to_string()),
                        end_port: None,
                    }],
                }],
            }),
            remediation_hint: None,
        }
    }

    #[test]
    fn explain_hides_cluster_scoped_constraints_at_summary_like_check() {
        use crate::engine::explain::{
            Confidence, ErrorExplanation, Explanation, Family, ResolvedConstraint,
        };
        let mut constraint = network_policy("shop");
        constraint.source.kind = "ClusterPolicy".to_string();
        constraint.source.namespace = None;
        constraint.id = Constraint::make_id(&constraint.source, Some("ingress"));
        let explanation = Explanation {
            api_version: "potoo.io/v1",
            kind: Explanation::KIND,
            incomplete: false,
            gaps: Vec::new(),
            errors: vec![ErrorExplanation {
                text: "denied".to_string(),
                family: Family::Kyverno,
                confidence: Confidence::High,
                identifiers: Default::default(),
                causes: Vec::new(),
                constraints: vec![ResolvedConstraint {
                    id: constraint.id.clone(),
                    why: "policy allow-db matched".to_string(),
                    namespace: None,
                }],
                summary: "allow-db denied it".to_string(),
                unreadable: Vec::new(),
                remediations: Vec::new(),
            }],
        };
        let mut detailed = explanation.clone();
        redact_explanation(
            &mut detailed,
            std::slice::from_ref(&constraint),
            DetailLevel::Detailed,
            "shop",
        );
        assert_eq!(detailed.errors[0].constraints[0].id, constraint.id);
        let mut summary = explanation;
        redact_explanation(
            &mut summary,
            std::slice::from_ref(&constraint),
            DetailLevel::Summary,
            "shop",
        );
        let text = serde_json::to_string(&summary).unwrap();
        assert!(!text.contains("allow-db"), "{text}");
        assert_eq!(
            summary.errors[0].constraints[0].id,
            hidden_id(&constraint.source)
        );
    }

    #[test]
    fn free_text_is_scrubbed_per_level() {
        let constraint = network_policy("data");
        let text = "NetworkPolicy allow-db (rule ingress) allows app=billing on port 5432";
        let scrubbed = |level: DetailLevel, own_namespace: &str| {
            scrub(text, &hidden_strings(&constraint, level, own_namespace))
        };
        assert_eq!(scrubbed(DetailLevel::Full, "shop"), text);
        assert_eq!(
            scrubbed(DetailLevel::Detailed, "shop"),
            "NetworkPolicy allow-db (rule ingress) allows <hidden> on port 5432"
        );
        assert_eq!(
            scrubbed(DetailLevel::Summary, "shop"),
            "NetworkPolicy <hidden> (rule ingress) allows <hidden> on port <hidden>"
        );
        assert_eq!(
            scrubbed(DetailLevel::Summary, "data"),
            text,
            "the user's own namespace stays visible"
        );
    }

    #[test]
    fn remediation_steps_from_rule_bodies_go_from_detailed_on() {
        use crate::model::remediation::{Privilege, Step};
        let constraint = network_policy("data");
        let remediation = Remediation {
            constraint_id: constraint.id.clone(),
            constraint_kind: "NetworkPolicy".to_string(),
            constraint_type: "NetworkIngress".to_string(),
            summary: constraint.summary.clone(),
            workload: None,
            privilege: Privilege::Developer,
            steps: vec![
                Step::new(Privilege::Developer, "the pattern wants x").from_rule_body(),
                Step::new(Privilege::NamespaceAdmin, "ask about allow-db")
                    .command("kubectl -n data describe networkpolicy/allow-db"),
            ],
            contacts: Vec::new(),
        };
        let mut detailed = remediation.clone();
        redact_remediation(&mut detailed, &constraint, DetailLevel::Detailed, "shop");
        assert_eq!(detailed.steps.len(), 1);
        assert_eq!(detailed.privilege, Privilege::NamespaceAdmin);
        assert_eq!(detailed.steps[0].commands.len(), 1);
        let mut summary = remediation.clone();
        redact_remediation(&mut summary, &constraint, DetailLevel::Summary, "shop");
        assert!(summary.steps[0].commands.is_empty());
        assert!(
            summary.steps[0]
                .text
                .starts_with("ask about <hidden> (commands")
        );
        assert_eq!(summary.constraint_id, "NetworkPolicy/data/<hidden>");
    }

    #[test]
    fn code_is_told_from_words() {
        assert!(is_code("object.metadata.labels.team != ''"));
        assert!(is_code("^[a-z][a-z0-9-]+$"));
        assert!(!is_code("Enforce"));
        assert!(!is_code("payments-api"));
    }
}
