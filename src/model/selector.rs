//! Label selectors: decoding the Kubernetes shape, matching with a reason, the kubectl string form.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A Kubernetes label selector. The empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

/// Why a selector could not be decoded; the field is named relative to the selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct SelectorError {
    pub field: String,
    pub problem: String,
}

fn selector_error(field: impl Into<String>, problem: impl Into<String>) -> SelectorError {
    SelectorError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl LabelSelector {
    /// Decodes `{matchLabels, matchExpressions}`; `null` is the empty selector.
    pub fn from_value(value: &Value) -> Result<LabelSelector, SelectorError> {
        let mut selector = LabelSelector::default();
        let fields = match value {
            Value::Null => return Ok(selector),
            Value::Object(fields) => fields,
            _ => return Err(selector_error("", "must be a mapping")),
        };
        match fields.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, label_value) in labels {
                    let text = match label_value {
                        Value::String(text) => text.clone(),
                        Value::Bool(flag) => flag.to_string(),
                        Value::Number(number) => number.to_string(),
                        _ => {
                            return Err(selector_error(
                                format!("matchLabels.{key}"),
                                "must be a string",
                            ));
                        }
                    };
                    selector.match_labels.insert(key.clone(), text);
                }
            }
            Some(_) => return Err(selector_error("matchLabels", "must be a mapping")),
        }
        match fields.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(expressions)) => {
                for (index, expression) in expressions.iter().enumerate() {
                    let field = format!("matchExpressions[{index}]");
                    let key = expression
                        .get("key")
                        .and_then(Value::as_str)
                        .ok_or_else(|| selector_error(format!("{field}.key"), "missing"))?;
                    let operator_text = expression
                        .get("operator")
                        .and_then(Value::as_str)
                        .ok_or_else(|| selector_error(format!("{field}.operator"), "missing"))?;
                    let operator = match operator_text {
                        "In" => Operator::In,
                        "NotIn" => Operator::NotIn,
                        "Exists" => Operator::Exists,
                        "DoesNotExist" => Operator::DoesNotExist,
                        other => {
                            return Err(selector_error(
                                format!("{field}.operator"),
                                format!("unknown operator `{other}`"),
                            ));
                        }
                    };
                    let values: Vec<String> = match expression.get("values") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(values)) => values
                            .iter()
                            .map(|value| match value {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            })
                            .collect(),
                        Some(_) => {
                            return Err(selector_error(
                                format!("{field}.values"),
                                "must be a list",
                            ));
                        }
                    };
                    selector.match_expressions.push(Requirement {
                        key: key.to_string(),
                        operator,
                        values,
                    });
                }
            }
            Some(_) => return Err(selector_error("matchExpressions", "must be a list")),
        }
        Ok(selector)
    }

    /// A selector from a plain label map (Service `spec.selector`, Istio `matchLabels`).
    pub fn from_labels(labels: BTreeMap<String, String>) -> LabelSelector {
        LabelSelector {
            match_labels: labels,
            match_expressions: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self
                .match_expressions
                .iter()
                .all(|requirement| requirement.matches(labels))
    }

    /// `Some(reason)` when the selector matches, naming the labels that satisfied it.
    pub fn explain_match(&self, labels: &BTreeMap<String, String>) -> Option<String> {
        if !self.matches(labels) {
            return None;
        }
        if self.is_empty() {
            return Some("empty selector matches everything".to_string());
        }
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        for requirement in &self.match_expressions {
            let value = labels.get(&requirement.key);
            parts.push(match (requirement.operator, value) {
                (Operator::In, Some(value)) => format!("{}={}", requirement.key, value),
                (Operator::NotIn, Some(value)) => format!(
                    "{}={} is not in ({})",
                    requirement.key,
                    value,
                    requirement.values.join(",")
                ),
                (Operator::Exists, _) => format!("has {}", requirement.key),
                (_, _) => format!("no {} label", requirement.key),
            });
        }
        Some(parts.join(", "))
    }
}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|value| self.values.contains(value)),
            Operator::NotIn => value.is_none_or(|value| !self.values.contains(value)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operator {
            Operator::In => write!(formatter, "{} in ({})", self.key, self.values.join(",")),
            Operator::NotIn => write!(formatter, "{} notin ({})", self.key, self.values.join(",")),
            Operator::Exists => write!(formatter, "{}", self.key),
            Operator::DoesNotExist => write!(formatter, "!{}", self.key),
        }
    }
}

impl fmt::Display for LabelSelector {
    /// The kubectl string form; the empty selector prints as `<all>`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(formatter, "<all>");
        }
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        parts.extend(self.match_expressions.iter().map(Requirement::to_string));
        write!(formatter, "{}", parts.join(","))
    }
}

/// Parses the `-l` string form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`.
pub fn parse_selector(text: &str) -> Result<LabelSelector, SelectorError> {
    let mut selector = LabelSelector::default();
    for term in split_terms(text) {
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        let invalid = |problem: &str| selector_error(term.to_string(), problem.to_string());
        if let Some(key) = term.strip_prefix('!') {
            check_key(key.trim()).map_err(|problem| invalid(&problem))?;
            selector.match_expressions.push(Requirement {
                key: key.trim().to_string(),
                operator: Operator::DoesNotExist,
                values: Vec::new(),
            });
        } else if let Some((key, value)) = term.split_once("!=") {
            check_key(key.trim()).map_err(|problem| invalid(&problem))?;
            selector.match_expressions.push(Requirement {
                key: key.trim().to_string(),
                operator: Operator::NotIn,
                values: vec![value.trim().to_string()],
            });
        } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
            check_key(key.trim()).map_err(|problem| invalid(&problem))?;
            selector
                .match_labels
                .insert(key.trim().to_string(), value.trim().to_string());
        } else if let Some((key, operator, values)) = set_term(term) {
            check_key(key).map_err(|problem| invalid(&problem))?;
            selector.match_expressions.push(Requirement {
                key: key.to_string(),
                operator,
                values,
            });
        } else {
            check_key(term).map_err(|problem| invalid(&problem))?;
            selector.match_expressions.push(Requirement {
                key: term.to_string(),
                operator: Operator::Exists,
                values: Vec::new(),
            });
        }
    }
    Ok(selector)
}

fn check_key(key: &str) -> Result<(), String> {
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./".contains(character));
    if valid {
        Ok(())
    } else {
        Err(format!("invalid label key `{key}`"))
    }
}

/// Splits on commas that are not inside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, character) in text.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
}

fn set_term(term: &str) -> Option<(&str, Operator, Vec<String>)> {
    let open = term.find('(')?;
    let close = term.rfind(')')?;
    let head = term[..open].trim();
    let (key, operator) = if let Some(key) = head.strip_suffix(" notin") {
        (key.trim(), Operator::NotIn)
    } else if let Some(key) = head.strip_suffix(" in") {
        (key.trim(), Operator::In)
    } else {
        return None;
    };
    let values = term[open + 1..close]
        .split(',')
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .collect();
    Some((key, operator, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn matching_follows_kubernetes_semantics() {
        let selector = LabelSelector::from_value(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "NotIn", "values": ["prod"]}
            ]
        }))
        .unwrap();
        let cases = [
            (labels(&[("app", "web"), ("tier", "fe")]), true),
            (
                labels(&[("app", "web"), ("tier", "fe"), ("env", "dev")]),
                true,
            ),
            (
                labels(&[("app", "web"), ("tier", "fe"), ("env", "prod")]),
                false,
            ),
            (labels(&[("app", "web"), ("tier", "db")]), false),
            (
                labels(&[("app", "web"), ("tier", "fe"), ("legacy", "")]),
                false,
            ),
            (labels(&[("tier", "fe")]), false),
        ];
        for (pod_labels, expected) in cases {
            assert_eq!(selector.matches(&pod_labels), expected, "{pod_labels:?}");
        }
        assert_eq!(
            selector.to_string(),
            "app=web,tier in (fe,be),!legacy,env notin (prod)"
        );
    }

    #[test]
    fn empty_selector_matches_everything_and_says_so() {
        let selector = LabelSelector::from_value(&json!({})).unwrap();
        assert_eq!(
            selector.explain_match(&labels(&[("a", "b")])).as_deref(),
            Some("empty selector matches everything")
        );
        assert_eq!(selector.to_string(), "<all>");
    }

    #[test]
    fn unknown_operator_is_an_error_naming_the_field() {
        let error = LabelSelector::from_value(
            &json!({"matchExpressions": [{"key": "a", "operator": "Gt"}]}),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "matchExpressions[0].operator: unknown operator `Gt`"
        );
    }

    #[test]
    fn string_form_parses_like_kubectl() {
        let selector = parse_selector("app=web, tier in (fe,be),!legacy,env!=prod,team").unwrap();
        assert_eq!(selector.match_labels, labels(&[("app", "web")]));
        assert_eq!(selector.match_expressions.len(), 4);
        assert!(selector.matches(&labels(&[("app", "web"), ("tier", "be"), ("team", "x")])));
        assert!(!selector.matches(&labels(&[
            ("app", "web"),
            ("tier", "be"),
            ("team", "x"),
            ("env", "prod")
        ])));
        assert!(parse_selector("a b").is_err());
    }
}
