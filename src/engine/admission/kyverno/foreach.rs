//! Kyverno `validate.foreach`: each declaration's `list` is evaluated, and every element is
//! checked with its own context entries, preconditions and `deny`/`pattern`/`anyPattern`/nested
//! `foreach`, with `element`, `elementIndex` (and `elementN`/`elementIndexN` per nesting level)
//! in scope; `elementScope` decides whether patterns see the element or the whole resource.

use serde_json::Value;

use super::conditions::evaluate_conditions;
use super::variables::{Resolution, VariableContext, substitute_string};
use super::{
    ResourceFacts, RuleStatus, check_deny, check_patterns, condition_failure, load_context,
    render_message,
};

/// Evaluates a `foreach` list at the top level of a rule.
pub fn evaluate(
    declarations: &Value,
    raw_message: &str,
    context: &mut VariableContext,
    rule: &Value,
    facts: &ResourceFacts,
) -> (RuleStatus, String) {
    evaluate_at(declarations, raw_message, context, rule, facts, 0)
}

fn evaluate_at(
    declarations: &Value,
    raw_message: &str,
    context: &VariableContext,
    rule: &Value,
    facts: &ResourceFacts,
    nesting: usize,
) -> (RuleStatus, String) {
    let Value::Array(declarations) = declarations else {
        return (RuleStatus::Error, "`foreach` must be a list".to_string());
    };
    let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut applied = 0;
    for declaration in declarations {
        let Some(elements) = list_elements(declaration, context) else {
            continue;
        };
        let (status, message, count) = evaluate_elements(
            declaration,
            &elements,
            raw_message,
            context,
            rule,
            facts,
            nesting,
        );
        if status != RuleStatus::Pass {
            return (status, message);
        }
        applied += count;
    }
    if applied == 0 {
        return (
            RuleStatus::Skip,
            format!("rule `{rule_name}` skipped: no foreach element applied"),
        );
    }
    (
        RuleStatus::Pass,
        format!("validation rule `{rule_name}` passed"),
    )
}

/// The elements of `list` (a JMESPath expression, optionally inside `{{ }}`); a non-list value
/// is one element; an unresolvable list is `None` (the declaration is skipped, as in Kyverno).
fn list_elements(declaration: &Value, context: &VariableContext) -> Option<Vec<Value>> {
    let list = declaration.get("list").and_then(Value::as_str)?.trim();
    let expression = list
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .unwrap_or(list)
        .trim();
    let expression = match substitute_string(expression, context, Resolution::Strict) {
        Ok(Value::String(expression)) => expression,
        _ => expression.to_string(),
    };
    match context.query(&expression).ok()? {
        Value::Array(items) => Some(items),
        other => Some(vec![other]),
    }
}

fn evaluate_elements(
    declaration: &Value,
    elements: &[Value],
    raw_message: &str,
    context: &VariableContext,
    rule: &Value,
    facts: &ResourceFacts,
    nesting: usize,
) -> (RuleStatus, String, usize) {
    let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    let element_scope = declaration
        .get("elementScope")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut applied = 0;
    for (index, element) in elements.iter().enumerate() {
        if element.is_null() {
            continue;
        }
        let mut element_context = context.clone();
        element_context.set("element", element.clone());
        element_context.set(&format!("element{nesting}"), element.clone());
        element_context.set("elementIndex", Value::from(index));
        element_context.set(&format!("elementIndex{nesting}"), Value::from(index));
        let (status, message) = evaluate_element(
            declaration,
            element,
            element_scope,
            raw_message,
            &mut element_context,
            rule,
            facts,
            nesting,
        );
        match status {
            RuleStatus::Skip => continue,
            RuleStatus::Pass => applied += 1,
            RuleStatus::Error if index + 1 < elements.len() => continue,
            other => {
                return (other, format!("validation failure: {message}"), applied);
            }
        }
    }
    let _ = rule_name;
    (RuleStatus::Pass, String::new(), applied)
}

#[allow(clippy::too_many_arguments)]
fn evaluate_element(
    declaration: &Value,
    element: &Value,
    element_scope: bool,
    raw_message: &str,
    context: &mut VariableContext,
    rule: &Value,
    facts: &ResourceFacts,
    nesting: usize,
) -> (RuleStatus, String) {
    let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    if let Err((status, message)) = load_context(declaration.get("context"), context) {
        return (status, message);
    }
    match evaluate_conditions(
        declaration.get("preconditions").unwrap_or(&Value::Null),
        context,
    ) {
        Ok(true) => {}
        Ok(false) => return (RuleStatus::Skip, "preconditions not met".to_string()),
        Err(error) => return condition_failure(&error, "foreach preconditions"),
    }
    if let Some(deny) = declaration.get("deny") {
        return check_deny(deny, raw_message, context, rule_name);
    }
    if declaration.get("pattern").is_some() || declaration.get("anyPattern").is_some() {
        let resource = if element_scope && element.is_object() {
            element.clone()
        } else {
            context
                .document()
                .get("request")
                .and_then(|request| request.get("object"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let mut validate = declaration.clone();
        if let Some(map) = validate.as_object_mut() {
            map.insert(
                "message".to_string(),
                Value::String(raw_message.to_string()),
            );
        }
        let (status, message) = check_patterns(&validate, &resource, context, rule_name);
        if status == RuleStatus::Fail {
            return (status, message);
        }
        return (status, message);
    }
    if let Some(nested) = declaration.get("foreach") {
        return evaluate_at(nested, raw_message, context, rule, facts, nesting + 1);
    }
    (
        RuleStatus::Error,
        format!(
            "foreach of rule `{rule_name}` has no deny, pattern, anyPattern or foreach: {}",
            render_message(raw_message, context, rule_name)
        ),
    )
}
