//! Detail levels (DESIGN §6) and redaction of reports before they are rendered.
//!
//! `full` shows everything read. `detailed` hides rule bodies (Rego, CEL, patterns, specs) and
//! the selectors of other namespaces' constraints. `summary` also replaces names of constraints
//! outside the user's namespace with their kind and type and hides their ports and CIDRs.
//! Secret/ConfigMap data and the last-applied annotation never reach a report at any level
//! (`source::snapshot::object_from_value` strips them).

use serde_json::Value;

use crate::cli::DetailLevel;
use crate::model::Details;
use crate::model::report::{QueryEntry, QueryResult};

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

/// Redacts a query result in place for `level`; `own_namespace` is the user's namespace.
pub fn redact_query(result: &mut QueryResult, level: DetailLevel, own_namespace: &str) {
    if level == DetailLevel::Full {
        return;
    }
    for entry in &mut result.constraints {
        let foreign = entry
            .constraint
            .source
            .namespace
            .as_deref()
            .is_some_and(|namespace| namespace != own_namespace);
        redact_entry(entry, level, foreign);
    }
    if level == DetailLevel::Summary {
        let prefix_own = format!("/{own_namespace}/");
        result.diagnostics.retain(|diagnostic| {
            diagnostic.object.contains(&prefix_own) || diagnostic.object.matches('/').count() == 1
        });
    }
}

fn redact_entry(entry: &mut QueryEntry, level: DetailLevel, foreign: bool) {
    let constraint = &mut entry.constraint;
    let mut details = serde_json::to_value(&constraint.details).unwrap_or(Value::Null);
    remove_keys(&mut details, RULE_BODY_KEYS);
    if foreign {
        remove_keys(&mut details, FOREIGN_KEYS);
        constraint.scope.workload_selector = None;
        constraint.scope.namespace_selector = None;
        constraint.remediation_hint = None;
        let namespace = constraint.source.namespace.clone().unwrap_or_default();
        constraint.summary = format!(
            "{} {} in namespace `{}` (details hidden: another namespace)",
            constraint.source.kind, constraint.effect, namespace
        );
        entry.matched_because = vec![format!("defined in namespace `{namespace}`")];
        if level == DetailLevel::Summary {
            let label = format!(
                "{} ({})",
                constraint.source.kind, constraint.constraint_type
            );
            constraint.source.name = label.clone();
            constraint.source.uid = None;
            constraint.rule = None;
            constraint.id = format!("{}/{}/<hidden>", constraint.source.kind, namespace);
            if let Value::Object(fields) = &mut details {
                fields
                    .retain(|key, _| key == "family" || key == "direction" || key == "defaultDeny");
            }
        }
    }
    constraint.details = Details::Redacted(details);
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
/// where a summary that relied on them is replaced too.
pub fn redact_explanation(
    explanation: &mut crate::engine::explain::Explanation,
    level: DetailLevel,
    own_namespace: &str,
) {
    if level == DetailLevel::Full {
        return;
    }
    for error in &mut explanation.errors {
        let mut hid_any = false;
        for constraint in &mut error.constraints {
            let Some(namespace) = constraint
                .namespace
                .clone()
                .filter(|namespace| namespace != own_namespace)
            else {
                continue;
            };
            hid_any = true;
            constraint.why =
                format!("defined in namespace `{namespace}` (details hidden: another namespace)");
            if level == DetailLevel::Summary {
                let kind = constraint
                    .id
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                constraint.id = format!("{kind}/{namespace}/<hidden>");
            }
        }
        if hid_any && level == DetailLevel::Summary {
            error.summary = format!(
                "{} error: a constraint in another namespace is involved (details hidden)",
                error.family.as_str()
            );
        }
    }
}
