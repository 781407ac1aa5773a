//! Small readers of policy fields shared by the family adapters.

use serde_json::Value;

use crate::model::LabelSelector;

/// The strings of a JSON list; anything else (absent, not a list, non-string items) reads as none.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An optional label selector at `path`; an unreadable one is recorded in `problems` and ignored.
pub fn selector(
    value: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<LabelSelector> {
    match value {
        None | Some(Value::Null) => None,
        Some(value) => match LabelSelector::from_value(value) {
            Ok(selector) => Some(selector),
            Err(error) if error.field.is_empty() => {
                problems.push(format!("{path}: {}; selector ignored", error.problem));
                None
            }
            Err(error) => {
                problems.push(format!("{path}.{error}; selector ignored"));
                None
            }
        },
    }
}
