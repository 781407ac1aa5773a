//! CEL optional values (`a.?b`, `a[?k]`, and selection/indexing chained after them), which
//! cel 0.13 implements only in part: the compiler rewrites them into calls of these functions.

use std::sync::Arc;

use kube_cel::cel::objects::{Key, OptionalValue};
use kube_cel::cel::{
    Context, ExecutionError, Value,
    extractors::{Arguments, This},
};

/// Optional field selection: `SELECT(operand, "field")`.
pub const SELECT: &str = "@potoo.optionalSelect";
/// Optional index: `INDEX(operand, key)`.
pub const INDEX: &str = "@potoo.optionalIndex";

pub fn register(context: &mut Context<'_>) {
    context.add_function(SELECT, select);
    context.add_function(INDEX, index);
    context.add_function("orValue", or_value);
    context.add_function("hasValue", has_value);
    context.add_function("value", value);
}

/// `x.orValue(default)`: the value of an optional, or the default when it is none. On a value
/// that is not optional, the value itself (Kyverno's policies call it on plain fields, and
/// Kyverno accepts that).
fn or_value(This(this): This<Value>, default: Value) -> Result<Value, ExecutionError> {
    Ok(match <&OptionalValue>::try_from(&this) {
        Ok(optional) => optional.value().cloned().unwrap_or(default),
        Err(_) => this,
    })
}

/// `x.hasValue()`: whether an optional holds a value; a plain value has one.
fn has_value(This(this): This<Value>) -> Result<bool, ExecutionError> {
    Ok(match <&OptionalValue>::try_from(&this) {
        Ok(optional) => optional.value().is_some(),
        Err(_) => true,
    })
}

/// `x.value()`: the value of an optional (an error when none); a plain value is itself.
fn value(This(this): This<Value>) -> Result<Value, ExecutionError> {
    match <&OptionalValue>::try_from(&this) {
        Ok(optional) => optional
            .value()
            .cloned()
            .ok_or_else(|| ExecutionError::function_error("value", "optional.none() dereference")),
        Err(_) => Ok(this),
    }
}

fn none() -> Value {
    Value::Opaque(Arc::new(OptionalValue::none()))
}

fn of(value: Value) -> Value {
    Value::Opaque(Arc::new(OptionalValue::of(value)))
}

/// The operand with an optional unwrapped; `None` when it is `optional.none()`.
fn unwrap(operand: &Value) -> Option<Value> {
    match <&OptionalValue>::try_from(operand) {
        Ok(optional) => optional.value().cloned(),
        Err(_) => Some(operand.clone()),
    }
}

fn arguments(args: &[Value]) -> Result<(&Value, &Value), ExecutionError> {
    match args {
        [operand, key] => Ok((operand, key)),
        _ => Err(ExecutionError::invalid_argument_count(2, args.len())),
    }
}

fn select(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (operand, field) = arguments(&args)?;
    let Some(operand) = unwrap(operand) else {
        return Ok(none());
    };
    match (&operand, field) {
        (Value::Map(map), Value::String(field)) => Ok(map
            .map
            .get(&Key::String(field.clone()))
            .cloned()
            .map(of)
            .unwrap_or_else(none)),
        (Value::Null, _) => Ok(none()),
        _ => Err(ExecutionError::function_error(
            "_?._",
            format!("no such field `{field:?}` on {operand:?}"),
        )),
    }
}

fn index(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (operand, key) = arguments(&args)?;
    let Some(operand) = unwrap(operand) else {
        return Ok(none());
    };
    match (&operand, key) {
        (Value::Map(map), key) => {
            let key = match key {
                Value::String(text) => Key::String(text.clone()),
                Value::Int(integer) => Key::Int(*integer),
                Value::UInt(unsigned) => Key::Uint(*unsigned),
                Value::Bool(boolean) => Key::Bool(*boolean),
                other => return Err(ExecutionError::UnsupportedMapIndex(other.clone())),
            };
            Ok(map.map.get(&key).cloned().map(of).unwrap_or_else(none))
        }
        (Value::List(items), Value::Int(position)) => Ok(usize::try_from(*position)
            .ok()
            .and_then(|position| items.get(position))
            .cloned()
            .map(of)
            .unwrap_or_else(none)),
        (Value::List(items), Value::UInt(position)) => Ok(usize::try_from(*position)
            .ok()
            .and_then(|position| items.get(position))
            .cloned()
            .map(of)
            .unwrap_or_else(none)),
        (Value::Null, _) => Ok(none()),
        _ => Err(ExecutionError::function_error(
            "_[?_]",
            format!("cannot index {operand:?} with {key:?}"),
        )),
    }
}
