//! Rego builtins that Gatekeeper templates use and regorus lacks, added to each template's engine
//! as extensions: OPA's deprecated `re_match`, `any`, `all`, `set_diff` and `cast_*`, and
//! Gatekeeper's `external_data`, which fails the evaluation (an external provider cannot be
//! reached client-side, so the constraint is reported `unknown`).

use std::collections::BTreeSet;

use anyhow::{anyhow, bail};
use regorus::{Engine, Value};

/// The message an `external_data` call fails the evaluation with.
pub const EXTERNAL_DATA_UNAVAILABLE: &str =
    "`external_data` asks a Gatekeeper external data provider, which potoo cannot reach";

/// Adds every shim to `engine`. A name regorus already provides is left to regorus.
pub fn register(engine: &mut Engine) {
    let shims: [(&str, u8, Box<dyn regorus::Extension>); 10] = [
        ("re_match", 2, Box::new(regex_match)),
        ("any", 1, Box::new(any)),
        ("all", 1, Box::new(all)),
        ("set_diff", 2, Box::new(set_difference)),
        ("cast_array", 1, Box::new(cast_array)),
        ("cast_set", 1, Box::new(cast_set)),
        ("cast_string", 1, Box::new(cast_string)),
        ("cast_boolean", 1, Box::new(cast_boolean)),
        ("cast_null", 1, Box::new(cast_null)),
        ("external_data", 1, Box::new(external_data)),
    ];
    for (name, arguments, shim) in shims {
        // An error only means the name is already registered.
        let _ = engine.add_extension(name.to_string(), arguments, shim);
    }
    let _ = engine.add_extension("cast_object".to_string(), 1, Box::new(cast_object));
}

fn argument(arguments: &[Value], index: usize, name: &str) -> anyhow::Result<Value> {
    arguments
        .get(index)
        .cloned()
        .ok_or_else(|| anyhow!("`{name}`: missing argument {}", index + 1))
}

fn string_argument(arguments: &[Value], index: usize, name: &str) -> anyhow::Result<String> {
    match argument(arguments, index, name)? {
        Value::String(text) => Ok(text.to_string()),
        other => bail!(
            "`{name}`: operand {} must be a string, got {}",
            index + 1,
            type_name(&other)
        ),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

/// The elements of an array or a set.
fn elements(value: &Value, name: &str) -> anyhow::Result<Vec<Value>> {
    match value {
        Value::Array(items) => Ok(items.iter().cloned().collect()),
        Value::Set(items) => Ok(items.iter().cloned().collect()),
        other => bail!(
            "`{name}`: operand 1 must be an array or a set, got {}",
            type_name(other)
        ),
    }
}

/// `re_match(pattern, value)`: the old name of `regex.match`.
fn regex_match(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let pattern = string_argument(&arguments, 0, "re_match")?;
    let value = string_argument(&arguments, 1, "re_match")?;
    let expression = regex::Regex::new(&pattern)
        .map_err(|error| anyhow!("`re_match`: invalid pattern `{pattern}`: {error}"))?;
    Ok(Value::from(expression.is_match(&value)))
}

/// `any(collection)`: whether some element is `true`.
fn any(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let items = elements(&argument(&arguments, 0, "any")?, "any")?;
    Ok(Value::from(items.contains(&Value::Bool(true))))
}

/// `all(collection)`: whether every element is `true` (an empty collection: `true`).
fn all(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let items = elements(&argument(&arguments, 0, "all")?, "all")?;
    Ok(Value::from(
        items.iter().all(|item| *item == Value::Bool(true)),
    ))
}

/// `set_diff(a, b)`: the elements of set `a` that are not in set `b`.
fn set_difference(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let (Value::Set(left), Value::Set(right)) = (
        argument(&arguments, 0, "set_diff")?,
        argument(&arguments, 1, "set_diff")?,
    ) else {
        bail!("`set_diff`: both operands must be sets");
    };
    let difference: BTreeSet<Value> = left
        .iter()
        .filter(|item| !right.contains(item))
        .cloned()
        .collect();
    Ok(Value::from(difference))
}

fn cast_array(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let value = argument(&arguments, 0, "cast_array")?;
    Ok(Value::from(elements(&value, "cast_array")?))
}

fn cast_set(arguments: Vec<Value>) -> anyhow::Result<Value> {
    let value = argument(&arguments, 0, "cast_set")?;
    let items: BTreeSet<Value> = elements(&value, "cast_set")?.into_iter().collect();
    Ok(Value::from(items))
}

fn cast_to(arguments: &[Value], name: &str, wanted: &str) -> anyhow::Result<Value> {
    let value = argument(arguments, 0, name)?;
    if type_name(&value) == wanted {
        Ok(value)
    } else {
        bail!(
            "`{name}`: operand 1 must be {wanted}, got {}",
            type_name(&value)
        )
    }
}

fn cast_string(arguments: Vec<Value>) -> anyhow::Result<Value> {
    cast_to(&arguments, "cast_string", "string")
}

fn cast_boolean(arguments: Vec<Value>) -> anyhow::Result<Value> {
    cast_to(&arguments, "cast_boolean", "boolean")
}

fn cast_null(arguments: Vec<Value>) -> anyhow::Result<Value> {
    cast_to(&arguments, "cast_null", "null")
}

fn cast_object(arguments: Vec<Value>) -> anyhow::Result<Value> {
    cast_to(&arguments, "cast_object", "object")
}

/// `external_data({provider, keys})`: fails, so the constraint is reported `unknown`.
fn external_data(_arguments: Vec<Value>) -> anyhow::Result<Value> {
    bail!("{EXTERNAL_DATA_UNAVAILABLE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluate(rego: &str, rule: &str) -> anyhow::Result<Value> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        register(&mut engine);
        engine.add_policy("shims.rego".to_string(), rego.to_string())?;
        engine.eval_rule(format!("data.shims.{rule}"))
    }

    #[test]
    fn deprecated_builtins_behave_like_opa() -> anyhow::Result<()> {
        let rego = r#"package shims
matched { re_match("^nginx:[0-9.]+$", "nginx:1.25") }
unmatched { re_match("^nginx$", "redis") }
some_true { any([false, true]) }
every_true { all({true}) }
empty_all { all([]) }
difference = set_diff({"a", "b"}, {"b"})
as_array = cast_array({"x"})
"#;
        assert_eq!(evaluate(rego, "matched")?, Value::from(true));
        assert_eq!(evaluate(rego, "unmatched")?, Value::Undefined);
        assert_eq!(evaluate(rego, "some_true")?, Value::from(true));
        assert_eq!(evaluate(rego, "every_true")?, Value::from(true));
        assert_eq!(evaluate(rego, "empty_all")?, Value::from(true));
        let expected: BTreeSet<Value> = [Value::from("a")].into_iter().collect();
        assert_eq!(evaluate(rego, "difference")?, Value::from(expected));
        assert_eq!(
            evaluate(rego, "as_array")?,
            Value::from(vec![Value::from("x")])
        );
        Ok(())
    }

    #[test]
    fn external_data_fails_the_evaluation() {
        let rego = r#"package shims
answer = external_data({"provider": "p", "keys": ["k"]})
"#;
        let error = evaluate(rego, "answer")
            .err()
            .map(|error| format!("{error:#}"));
        assert!(
            error
                .as_deref()
                .is_some_and(|text| text.contains("external data provider")),
            "{error:?}"
        );
    }
}
