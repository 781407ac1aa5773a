//! Kyverno conditions (`preconditions`, `deny.conditions`, foreach preconditions): `any`/`all`
//! blocks or the legacy list, and every operator with Kyverno's typing rules (numbers, quantities,
//! durations, semantic versions, wildcards, JSON-array strings and ranges).

use serde_json::Value;

use super::pattern::{parse_go_duration, parse_quantity, validate_value, wildcard_matches};
use super::variables::{
    Resolution, VariableContext, VariableError, compare_semver, parse_semver, substitute_all,
};

/// Why conditions could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error("unknown condition operator `{0}`")]
    UnknownOperator(String),
    #[error("malformed conditions: {0}")]
    Malformed(String),
    #[error(transparent)]
    Variable(#[from] VariableError),
}

/// Evaluates `{any: [...], all: [...]}` or a legacy list (all must hold). Absent → true.
pub fn evaluate_conditions(
    conditions: &Value,
    context: &VariableContext,
) -> Result<bool, ConditionError> {
    match conditions {
        Value::Null => Ok(true),
        Value::Array(list) => {
            for condition in list {
                if !evaluate_condition(condition, context)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Object(blocks) => {
            if let Some(any) = blocks.get("any").filter(|any| !any.is_null()) {
                let Value::Array(list) = any else {
                    return Err(ConditionError::Malformed(
                        "`any` must be a list".to_string(),
                    ));
                };
                if !list.is_empty() {
                    let mut held = false;
                    for condition in list {
                        if evaluate_condition(condition, context)? {
                            held = true;
                            break;
                        }
                    }
                    if !held {
                        return Ok(false);
                    }
                }
            }
            if let Some(all) = blocks.get("all").filter(|all| !all.is_null()) {
                let Value::Array(list) = all else {
                    return Err(ConditionError::Malformed(
                        "`all` must be a list".to_string(),
                    ));
                };
                for condition in list {
                    if !evaluate_condition(condition, context)? {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        }
        _ => Err(ConditionError::Malformed(
            "conditions must be a map or a list".to_string(),
        )),
    }
}

fn evaluate_condition(
    condition: &Value,
    context: &VariableContext,
) -> Result<bool, ConditionError> {
    let Value::Object(fields) = condition else {
        return Err(ConditionError::Malformed(
            "each condition must be a map".to_string(),
        ));
    };
    let operator = fields
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let key = substitute_all(
        fields.get("key").unwrap_or(&Value::Null),
        context,
        Resolution::Lenient,
    )?;
    let value = substitute_all(
        fields.get("value").unwrap_or(&Value::Null),
        context,
        Resolution::Lenient,
    )?;
    apply_operator(operator, &key, &value)
}

/// One operator applied to a substituted key and value.
pub fn apply_operator(operator: &str, key: &Value, value: &Value) -> Result<bool, ConditionError> {
    use std::cmp::Ordering::*;
    Ok(match operator.to_ascii_lowercase().as_str() {
        "equal" | "equals" => equals(key, value),
        "notequal" | "notequals" => !equals(key, value),
        "in" => membership(key, value, Membership::AllFound),
        "notin" => !membership(key, value, Membership::AllFound),
        "anyin" => membership(key, value, Membership::SomeFound),
        "allin" => membership(key, value, Membership::AllFound),
        "anynotin" => membership(key, value, Membership::SomeMissing),
        "allnotin" => membership(key, value, Membership::NoneFound),
        "greaterthan" => numeric(key, value).is_some_and(|ordering| ordering == Greater),
        "greaterthanorequals" => numeric(key, value).is_some_and(|ordering| ordering != Less),
        "lessthan" => numeric(key, value).is_some_and(|ordering| ordering == Less),
        "lessthanorequals" => numeric(key, value).is_some_and(|ordering| ordering != Greater),
        "durationgreaterthan" => durations(key, value).is_some_and(|ordering| ordering == Greater),
        "durationgreaterthanorequals" => {
            durations(key, value).is_some_and(|ordering| ordering != Less)
        }
        "durationlessthan" => durations(key, value).is_some_and(|ordering| ordering == Less),
        "durationlessthanorequals" => {
            durations(key, value).is_some_and(|ordering| ordering != Greater)
        }
        _ => return Err(ConditionError::UnknownOperator(operator.to_string())),
    })
}

fn as_integer(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|float| float.fract() == 0.0 && float.abs() < 9.0e18)
            .map(|float| float as i64)
    })
}

/// Kyverno's `parseDuration`: at least one side is a duration string; numbers are seconds.
fn duration_pair(key: &Value, value: &Value) -> Option<(f64, f64)> {
    let as_duration = |side: &Value| match side {
        Value::String(text) if text.trim() != "0" => parse_go_duration(text),
        _ => None,
    };
    let (key_duration, value_duration) = (as_duration(key), as_duration(value));
    if key_duration.is_none() && value_duration.is_none() {
        return None;
    }
    let seconds = |side: &Value, parsed: Option<f64>| {
        parsed.or_else(|| match side {
            Value::Number(number) => number.as_f64(),
            _ => None,
        })
    };
    Some((seconds(key, key_duration)?, seconds(value, value_duration)?))
}

fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(expected) => value.as_bool() == Some(*expected),
        Value::Number(number) => match as_integer(number) {
            Some(integer) if number.is_i64() || number.is_u64() => match value {
                Value::Number(other) => match other.as_f64() {
                    Some(float) if float.fract() == 0.0 => float as i64 == integer,
                    _ => false,
                },
                Value::String(text) => text.parse::<i64>().ok() == Some(integer),
                _ => false,
            },
            _ => {
                let float = number.as_f64().unwrap_or_default();
                match value {
                    Value::Number(other) => other.as_f64() == Some(float),
                    Value::String(text) => text.parse::<f64>().ok() == Some(float),
                    _ => false,
                }
            }
        },
        Value::String(text) => {
            if let Some((left, right)) = duration_pair(key, value) {
                return left == right;
            }
            if let (Some(left), Value::String(other)) = (parse_quantity(text), value) {
                return parse_quantity(other) == Some(left);
            }
            match value {
                Value::String(pattern) => wildcard_matches(pattern, text),
                _ => false,
            }
        }
        Value::Object(_) | Value::Array(_) => json_equal(key, value),
        Value::Null => false,
    }
}

/// Deep equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => left == right,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// GreaterThan & co: durations, then numbers, then quantities, then semantic versions.
fn numeric(key: &Value, value: &Value) -> Option<std::cmp::Ordering> {
    if let Some((left, right)) = duration_pair(key, value) {
        return left.partial_cmp(&right);
    }
    match key {
        Value::Number(number) => {
            let left = number.as_f64()?;
            let right = number_of(value)?;
            left.partial_cmp(&right)
        }
        Value::String(text) => {
            if let Ok(left) = text.trim().parse::<f64>() {
                let right = number_of(value).or_else(|| match value {
                    Value::String(other) => parse_quantity(other),
                    _ => None,
                })?;
                return left.partial_cmp(&right);
            }
            if let Some(left) = parse_quantity(text) {
                let right = match value {
                    Value::String(other) => parse_quantity(other)?,
                    Value::Number(other) => other.as_f64()?,
                    _ => return None,
                };
                return left.partial_cmp(&right);
            }
            let (Some(left), Value::String(other)) = (parse_semver(text), value) else {
                return None;
            };
            let right = parse_semver(other)?;
            Some(compare_semver(&left, &right))
        }
        _ => None,
    }
}

/// The deprecated Duration* operators: numbers are seconds, strings Go durations.
fn durations(key: &Value, value: &Value) -> Option<std::cmp::Ordering> {
    let seconds = |side: &Value| match side {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => parse_go_duration(text),
        _ => None,
    };
    seconds(key)?.partial_cmp(&seconds(value)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    /// AnyIn: some key is in the value.
    SomeFound,
    /// AllIn (and the deprecated In): every key is in the value.
    AllFound,
    /// AnyNotIn: some key is not in the value.
    SomeMissing,
    /// AllNotIn: no key is in the value.
    NoneFound,
}

/// Go's `fmt.Sprint` of a JSON value.
fn go_sprint(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => match as_integer(number) {
            Some(integer) => integer.to_string(),
            None => number.to_string(),
        },
        Value::Bool(flag) => flag.to_string(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

fn is_range(text: &str) -> bool {
    matches!(
        super::pattern::comparison_of(text).0,
        super::pattern::Comparison::InRange
    )
}

fn in_range(key: &str, range: &str) -> bool {
    validate_value(
        &Value::String(key.to_string()),
        &Value::String(range.to_string()),
    )
}

fn matches_either_way(key: &str, candidate: &str) -> bool {
    wildcard_matches(key, candidate) || wildcard_matches(candidate, key)
}

fn membership(key: &Value, value: &Value, mode: Membership) -> bool {
    let keys: Vec<String> = match key {
        Value::Array(items) => items.iter().map(go_sprint).collect(),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => vec![go_sprint(key)],
        _ => return false,
    };
    let single_scalar = !key.is_array();
    // which keys are found in the value
    let found: Vec<bool> = match value {
        Value::Array(items) => {
            let candidates: Vec<String> = items.iter().map(go_sprint).collect();
            keys.iter()
                .map(|key| {
                    candidates
                        .iter()
                        .any(|candidate| matches_either_way(key, candidate))
                })
                .collect()
        }
        Value::Number(_) => {
            let candidate = go_sprint(value);
            keys.iter()
                .map(|key| matches_either_way(key, &candidate))
                .collect()
        }
        Value::String(text) => {
            if (keys.len() == 1 && keys[0] == *text)
                || (single_scalar && wildcard_matches(text, &keys[0]))
            {
                vec![true]
            } else if is_range(text) {
                keys.iter().map(|key| in_range(key, text)).collect()
            } else {
                let candidates: Vec<String> = match serde_json::from_str::<Vec<Value>>(text) {
                    Ok(items) => items.iter().map(go_sprint).collect(),
                    Err(_) => vec![text.clone()],
                };
                keys.iter()
                    .map(|key| {
                        candidates.iter().any(|candidate| {
                            if single_scalar {
                                key == candidate
                            } else {
                                matches_either_way(key, candidate)
                            }
                        })
                    })
                    .collect()
            }
        }
        _ => return false,
    };
    match mode {
        Membership::SomeFound => found.iter().any(|found| *found),
        Membership::AllFound => !found.is_empty() && found.iter().all(|found| *found),
        Membership::SomeMissing => found.iter().any(|found| !found),
        Membership::NoneFound => found.iter().all(|found| !found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(operator: &str, key: Value, value: Value) -> bool {
        apply_operator(operator, &key, &value).unwrap_or(false)
    }

    #[test]
    fn equality_with_types_quantities_durations_and_wildcards() {
        assert!(check("Equals", json!("abc"), json!("a*")));
        assert!(check("Equals", json!("1Gi"), json!("1024Mi")));
        assert!(check("Equals", json!("1h"), json!("60m")));
        assert!(check("Equals", json!(3), json!("3")));
        assert!(check("Equals", json!(3), json!(3.0)));
        assert!(check("Equals", json!({"a": [1]}), json!({"a": [1.0]})));
        assert!(check("NotEquals", json!("abc"), json!("abd")));
        assert!(!check("Equals", json!(true), json!("true")));
    }

    #[test]
    fn numeric_comparisons() {
        assert!(check("GreaterThan", json!(3), json!(2)));
        assert!(check("GreaterThan", json!("3"), json!(2)));
        assert!(check("GreaterThanOrEquals", json!("2Gi"), json!("2048Mi")));
        assert!(check("LessThan", json!("30m"), json!("1h")));
        assert!(check("GreaterThan", json!("1.10.0"), json!("1.9.3")));
        assert!(!check("GreaterThan", json!(""), json!(1)));
        assert!(check("DurationGreaterThan", json!("2h"), json!(3600)));
    }

    #[test]
    fn membership_operators() {
        assert!(check("AnyIn", json!("CREATE"), json!(["CREATE", "UPDATE"])));
        assert!(check("AnyIn", json!("kube-system"), json!(["kube-*"])));
        assert!(check("AnyIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(!check("AllIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(check("AllIn", json!(["a", "b"]), json!(["a", "b", "c"])));
        assert!(check("AnyNotIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(!check("AllNotIn", json!(["a", "x"]), json!(["a", "b"])));
        assert!(check("AllNotIn", json!(["y", "x"]), json!(["a", "b"])));
        assert!(check("AnyIn", json!("b"), json!("[\"a\", \"b\"]")));
        assert!(check("AnyIn", json!(8080), json!("8000-9000")));
        assert!(check("AnyNotIn", json!([80, 8080]), json!("8000-9000")));
        assert!(!check("AnyNotIn", json!(["a"]), json!("a")));
        assert!(check("In", json!("a"), json!(["a"])));
        assert!(check("NotIn", json!("z"), json!(["a"])));
    }

    #[test]
    fn any_all_blocks_and_legacy_lists() {
        let context = VariableContext::new();
        let conditions = json!({"any": [{"key": "a", "operator": "Equals", "value": "b"},
                                         {"key": "a", "operator": "Equals", "value": "a"}],
                                "all": [{"key": 1, "operator": "LessThan", "value": 2}]});
        assert_eq!(evaluate_conditions(&conditions, &context), Ok(true));
        let legacy = json!([{"key": "a", "operator": "Equals", "value": "b"}]);
        assert_eq!(evaluate_conditions(&legacy, &context), Ok(false));
        assert!(
            evaluate_conditions(
                &json!([{"key": 1, "operator": "Bogus", "value": 1}]),
                &context
            )
            .is_err()
        );
    }
}
