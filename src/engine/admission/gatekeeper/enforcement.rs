//! What a constraint's violations do at one enforcement point: `spec.enforcementAction` (`deny`,
//! the default; `warn`; `dryrun`) or, with `enforcementAction: scoped`, the
//! `spec.scopedEnforcementActions` entries naming that point (or `*`).

use serde_json::Value;

/// Gatekeeper's validating webhook.
pub const WEBHOOK: &str = "validation.gatekeeper.sh";

/// What a violation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Recorded by audit only.
    Dryrun,
    /// Admitted with a warning.
    Warn,
    /// Rejected.
    Deny,
}

/// The strongest action the constraint takes at `point`; `None` when it takes none there
/// (scoped to other enforcement points).
pub fn action_at(constraint: &Value, point: &str) -> Option<Action> {
    let written = constraint
        .pointer("/spec/enforcementAction")
        .and_then(Value::as_str)
        .filter(|action| !action.is_empty())
        .unwrap_or("deny")
        .to_ascii_lowercase();
    match written.as_str() {
        "deny" => Some(Action::Deny),
        "warn" => Some(Action::Warn),
        "dryrun" => Some(Action::Dryrun),
        "scoped" => constraint
            .pointer("/spec/scopedEnforcementActions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|entry| {
                entry
                    .get("enforcementPoints")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|point| point.get("name").and_then(Value::as_str))
                    .any(|name| name == point || name == "*")
            })
            .filter_map(|entry| {
                match entry
                    .get("action")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("deny") => Some(Action::Deny),
                    Some("warn") => Some(Action::Warn),
                    Some("dryrun") => Some(Action::Dryrun),
                    _ => None,
                }
            })
            .max(),
        // Gatekeeper rejects constraints with other values; potoo's adapter reads them as deny.
        _ => Some(Action::Deny),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_and_scoped_actions() {
        assert_eq!(action_at(&json!({"spec": {}}), WEBHOOK), Some(Action::Deny));
        assert_eq!(
            action_at(&json!({"spec": {"enforcementAction": "dryrun"}}), WEBHOOK),
            Some(Action::Dryrun)
        );
        let scoped = json!({"spec": {"enforcementAction": "scoped", "scopedEnforcementActions": [
            {"action": "warn", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
            {"action": "deny", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]}
        ]}});
        assert_eq!(action_at(&scoped, WEBHOOK), Some(Action::Warn));
        assert_eq!(action_at(&scoped, "gator.gatekeeper.sh"), None);
    }
}
