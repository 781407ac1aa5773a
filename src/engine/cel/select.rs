//! Field selection (`a.b`) and presence tests (`has(a.b)`) that fail on a value that is not a
//! map, as the apiserver's CEL does: cel 0.13 yields `false` there (`null.metadata` is `false`),
//! which could let an expression pass that the apiserver rejects with an error. The compiler
//! rewrites every selection into a call of these functions.

use kube_cel::cel::objects::Key;
use kube_cel::cel::{ExecutionError, Value, extractors::Arguments};

/// Field selection: `SELECT(operand, "field")`.
pub const SELECT: &str = "@potoo.select";
/// Presence test: `HAS(operand, "field")`.
pub const HAS: &str = "@potoo.has";

pub fn register(context: &mut kube_cel::cel::Context<'_>) {
    context.add_function(SELECT, select);
    context.add_function(HAS, has);
}

fn field_of(args: &[Value]) -> Result<(&Value, &std::sync::Arc<String>), ExecutionError> {
    match args {
        [operand, Value::String(field)] => Ok((operand, field)),
        [_, other] => Err(ExecutionError::function_error(
            "select",
            format!("field name must be a string, got {other:?}"),
        )),
        _ => Err(ExecutionError::invalid_argument_count(2, args.len())),
    }
}

fn not_a_map(operand: &Value, field: &str) -> ExecutionError {
    ExecutionError::function_error(
        "select",
        format!(
            "no such key: cannot select field `{field}` of a {}",
            super::type_name(operand)
        ),
    )
}

fn select(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (operand, field) = field_of(&args)?;
    match operand {
        Value::Map(map) => map
            .map
            .get(&Key::String(field.clone()))
            .cloned()
            .ok_or_else(|| ExecutionError::NoSuchKey(field.clone())),
        other => Err(not_a_map(other, field)),
    }
}

fn has(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (operand, field) = field_of(&args)?;
    match operand {
        Value::Map(map) => Ok(Value::Bool(
            map.map.contains_key(&Key::String(field.clone())),
        )),
        other => Err(not_a_map(other, field)),
    }
}
