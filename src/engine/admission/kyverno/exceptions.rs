//! Kyverno PolicyExceptions (`kyverno.io/v2`, `v2beta1`, `v2alpha2`): a rule listed under
//! `spec.exceptions` is skipped on resources the exception's `match` selects and whose
//! `conditions` hold.

use serde_json::Value;

use super::conditions::evaluate_conditions;
use super::pattern::wildcard_matches;
use super::{BlockMode, Policy, Request, ResourceFacts, base_context, block_matches};

/// One PolicyException.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyException {
    pub name: String,
    pub namespace: String,
    /// `(policyName, ruleNames)` pairs; names may be `namespace/name` and use wildcards.
    pub exceptions: Vec<(String, Vec<String>)>,
    pub match_block: Value,
    pub conditions: Value,
}

impl PolicyException {
    /// Reads a PolicyException object; other objects are `None`.
    pub fn from_value(object: &Value) -> Option<PolicyException> {
        if object.get("kind")?.as_str()? != "PolicyException"
            || !object
                .get("apiVersion")?
                .as_str()?
                .starts_with("kyverno.io/")
        {
            return None;
        }
        let metadata = object.get("metadata")?;
        let spec = object.get("spec")?;
        let exceptions = spec
            .get("exceptions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| {
                        let policy = item
                            .get("policyName")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let rules = item
                            .get("ruleNames")
                            .and_then(Value::as_array)
                            .map(|names| {
                                names
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default();
                        (policy, rules)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(PolicyException {
            name: metadata.get("name")?.as_str()?.to_string(),
            namespace: metadata
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            exceptions,
            match_block: spec.get("match").cloned().unwrap_or(Value::Null),
            conditions: spec.get("conditions").cloned().unwrap_or(Value::Null),
        })
    }

    fn covers(&self, policy: &Policy, rule: &str) -> bool {
        self.exceptions.iter().any(|(policy_name, rules)| {
            (wildcard_matches(policy_name, &policy.key())
                || wildcard_matches(policy_name, &policy.name))
                && rules.iter().any(|name| wildcard_matches(name, rule))
        })
    }
}

/// The name of the first exception that exempts `rule` of `policy` for this request.
pub(crate) fn find_exception(
    exceptions: &[PolicyException],
    policy: &Policy,
    rule: &str,
    request: &Request<'_>,
    facts: &ResourceFacts,
) -> Option<String> {
    exceptions
        .iter()
        .find(|exception| {
            exception.covers(policy, rule)
                && block_matches(&exception.match_block, request, facts, BlockMode::Match)
                && evaluate_conditions(&exception.conditions, &base_context(request, facts))
                    .unwrap_or(false)
        })
        .map(|exception| {
            if exception.namespace.is_empty() {
                exception.name.clone()
            } else {
                format!("{}/{}", exception.namespace, exception.name)
            }
        })
}
