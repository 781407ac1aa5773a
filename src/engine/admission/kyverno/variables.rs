//! Kyverno variables: the JSON context a rule is evaluated in, `{{ }}` substitution, and JMESPath
//! with Kyverno's custom functions (string, regex, arithmetic on numbers/quantities/durations,
//! base64, semver, time, parsing and object helpers).

use std::cell::OnceCell;
use std::sync::LazyLock;

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::{Map, Value};

use super::pattern::{format_go_duration, parse_go_duration, parse_quantity, wildcard_matches};

/// Why a variable could not be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VariableError {
    /// The expression selected nothing (`Unknown key` in Kyverno's JMESPath).
    #[error("variable `{0}` could not be resolved")]
    NotFound(String),
    /// The expression is not valid JMESPath or a function failed.
    #[error("variable `{expression}`: {problem}")]
    Invalid { expression: String, problem: String },
    /// The expression calls something potoo does not evaluate (e.g. `x509_decode`).
    #[error("variable `{expression}` uses `{function}`, which is not evaluated")]
    Unsupported {
        expression: String,
        function: String,
    },
}

/// How unresolved variables are treated: patterns and messages fail, conditions read `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Strict,
    /// Kyverno's preconditions/deny resolver: an unresolved variable becomes the empty string.
    Lenient,
}

/// The JSON document `{{ }}` expressions are evaluated against.
#[derive(Debug, Clone, Default)]
pub struct VariableContext {
    document: Map<String, Value>,
    cached: OnceCell<Rcvar>,
}

impl VariableContext {
    pub fn new() -> VariableContext {
        VariableContext::default()
    }

    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// Kyverno's `AddVariable`: a dotted key (`request.object.spec.x`) merged into the document.
    pub fn set_dotted(&mut self, key: &str, value: Value) {
        self.cached = OnceCell::new();
        let parts: Vec<&str> = key.split('.').collect();
        let mut current = &mut self.document;
        for (index, part) in parts.iter().enumerate() {
            if index + 1 == parts.len() {
                current.insert((*part).to_string(), value);
                return;
            }
            let entry = current
                .entry((*part).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry {
                Value::Object(map) => current = map,
                _ => return,
            }
        }
    }

    /// Replaces one top-level entry (context entries, `element`, `elementIndex`).
    pub fn set(&mut self, name: &str, value: Value) {
        self.cached = OnceCell::new();
        self.document.insert(name.to_string(), value);
    }

    pub fn remove(&mut self, name: &str) {
        self.cached = OnceCell::new();
        self.document.remove(name);
    }

    /// Whether a top-level name (or a dotted path under it) is present.
    pub fn has(&self, name: &str) -> bool {
        self.document.contains_key(name)
    }

    fn root(&self) -> Result<Rcvar, VariableError> {
        if let Some(root) = self.cached.get() {
            return Ok(root.clone());
        }
        let variable =
            Variable::try_from(Value::Object(self.document.clone())).map_err(|error| {
                VariableError::Invalid {
                    expression: String::new(),
                    problem: error.to_string(),
                }
            })?;
        let root = Rcvar::new(variable);
        let _ = self.cached.set(root.clone());
        Ok(root)
    }

    /// Evaluates one JMESPath expression. A plain field path that selects nothing is `NotFound`
    /// (Kyverno's `Unknown key`); other expressions may yield `null`.
    pub fn query(&self, expression: &str) -> Result<Value, VariableError> {
        let expression = expression.trim();
        let root = self.root()?;
        let value = evaluate(expression, &root)?;
        if value.is_null() && is_field_path(expression) {
            return Err(VariableError::NotFound(expression.to_string()));
        }
        Ok(value)
    }

    /// Evaluates an expression against any JSON value (context `variable` entries with `value`).
    pub fn query_value(expression: &str, data: &Value) -> Result<Value, VariableError> {
        let variable =
            Variable::try_from(data.clone()).map_err(|error| VariableError::Invalid {
                expression: expression.to_string(),
                problem: error.to_string(),
            })?;
        evaluate(expression.trim(), &Rcvar::new(variable))
    }
}

/// `a.b."c.d".e`: identifiers and quoted identifiers joined by dots, nothing else.
fn is_field_path(expression: &str) -> bool {
    static FIELD_PATH: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(
            r#"^([A-Za-z_][A-Za-z0-9_]*|"[^"]*")(\.([A-Za-z_][A-Za-z0-9_]*|"[^"]*"))*$"#,
        )
        .ok()
    });
    FIELD_PATH
        .as_ref()
        .is_some_and(|path| path.is_match(expression))
}

fn evaluate(expression: &str, root: &Rcvar) -> Result<Value, VariableError> {
    let compiled = RUNTIME
        .compile(expression)
        .map_err(|error| VariableError::Invalid {
            expression: expression.to_string(),
            problem: error.to_string(),
        })?;
    let result = compiled.search(root.clone()).map_err(|error| {
        let message = error.to_string();
        if let Some(function) = message.split(UNSUPPORTED_MARKER).nth(1).map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        }) {
            return VariableError::Unsupported {
                expression: expression.to_string(),
                function,
            };
        }
        VariableError::Invalid {
            expression: expression.to_string(),
            problem: message,
        }
    })?;
    serde_json::to_value(&*result).map_err(|error| VariableError::Invalid {
        expression: expression.to_string(),
        problem: error.to_string(),
    })
}

/// Substitutes every `{{ }}` in every string of `value` (keys are left alone).
pub fn substitute_all(
    value: &Value,
    context: &VariableContext,
    resolution: Resolution,
) -> Result<Value, VariableError> {
    match value {
        Value::String(text) => substitute_string(text, context, resolution),
        Value::Array(items) => items
            .iter()
            .map(|item| substitute_all(item, context, resolution))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, item) in fields {
                out.insert(key.clone(), substitute_all(item, context, resolution)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Whether a string holds a `{{ }}` variable (not escaped).
pub fn has_variables(text: &str) -> bool {
    find_innermost_variable(text).is_some()
}

/// Substitutes the variables of one string: a string that is exactly one variable takes the
/// variable's type; otherwise values are interpolated (non-strings as JSON). Innermost first, so
/// `{{ map."{{ key }}" }}` works.
pub fn substitute_string(
    text: &str,
    context: &VariableContext,
    resolution: Resolution,
) -> Result<Value, VariableError> {
    let mut current = text.to_string();
    for _ in 0..64 {
        let Some((start, end)) = find_innermost_variable(&current) else {
            break;
        };
        let expression = current[start + 2..end - 2].trim().to_string();
        let resolved = match resolve(&expression, context) {
            Ok(value) => value,
            Err(error @ VariableError::Unsupported { .. }) => return Err(error),
            Err(_) if resolution == Resolution::Lenient => Value::String(String::new()),
            Err(error) => return Err(error),
        };
        if start == 0 && end == current.len() {
            return Ok(match resolved {
                Value::String(text) => Value::String(unescape(&text)),
                other => other,
            });
        }
        let replacement = match resolved {
            Value::String(text) => text,
            other => other.to_string(),
        };
        current.replace_range(start..end, &replacement);
    }
    Ok(Value::String(unescape(&current)))
}

fn resolve(expression: &str, context: &VariableContext) -> Result<Value, VariableError> {
    if expression == "@" {
        return context
            .document()
            .get("element")
            .cloned()
            .ok_or_else(|| VariableError::NotFound("@".to_string()));
    }
    context.query(expression)
}

fn unescape(text: &str) -> String {
    text.replace("\\{{", "{{")
}

/// The byte range of the first `{{ … }}` that holds no other `{{`, skipping `\{{`.
fn find_innermost_variable(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find("{{") {
        let start = search_from + offset;
        if start > 0 && bytes[start - 1] == b'\\' {
            search_from = start + 2;
            continue;
        }
        // scan to the closing `}}`, allowing single-brace JMESPath literals inside
        let mut index = start + 2;
        let mut depth = 0usize;
        let mut nested = false;
        while index < bytes.len() {
            if bytes[index] == b'{' {
                if index + 1 < bytes.len() && bytes[index + 1] == b'{' && depth == 0 {
                    nested = true;
                    break;
                }
                depth += 1;
            } else if bytes[index] == b'}' {
                if depth == 0 {
                    if index + 1 < bytes.len() && bytes[index + 1] == b'}' {
                        return Some((start, index + 2));
                    }
                    break;
                }
                depth -= 1;
            }
            index += 1;
        }
        search_from = if nested { index } else { start + 2 };
    }
    None
}

// ---------------------------------------------------------------------------------------------
// JMESPath runtime with Kyverno's functions

const UNSUPPORTED_MARKER: &str = "unsupported-function:";

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    register_kyverno_functions(&mut runtime);
    runtime
});

type FunctionResult = Result<Value, String>;

fn to_json(value: &Rcvar) -> Value {
    serde_json::to_value(&**value).unwrap_or(Value::Null)
}

fn from_json(value: Value, ctx: &Context<'_>) -> Result<Rcvar, JmespathError> {
    Variable::try_from(value)
        .map(Rcvar::new)
        .map_err(|error| JmespathError::from_ctx(ctx, ErrorReason::Parse(error.to_string())))
}

fn register(
    runtime: &mut Runtime,
    name: &'static str,
    inputs: Vec<ArgumentType>,
    variadic: Option<ArgumentType>,
    body: fn(&[Value]) -> FunctionResult,
) {
    let function = CustomFunction::new(
        Signature::new(inputs, variadic),
        Box::new(move |args: &[Rcvar], ctx: &mut Context<'_>| {
            let values: Vec<Value> = args.iter().map(to_json).collect();
            match body(&values) {
                Ok(value) => from_json(value, ctx),
                Err(problem) => Err(JmespathError::from_ctx(
                    ctx,
                    ErrorReason::Parse(format!("{name}: {problem}")),
                )),
            }
        }),
    );
    runtime.register_function(name, Box::new(function));
}

fn register_unsupported(runtime: &mut Runtime, name: &'static str) {
    runtime.register_function(
        name,
        Box::new(move |_: &[Rcvar], ctx: &mut Context<'_>| {
            Err(JmespathError::from_ctx(
                ctx,
                ErrorReason::Parse(format!("{UNSUPPORTED_MARKER}{name} ")),
            ))
        }),
    );
}

fn string_arg(values: &[Value], index: usize) -> Result<String, String> {
    match values.get(index) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(other) => Err(format!("argument {index} must be a string, got {other}")),
        None => Err(format!("argument {index} is missing")),
    }
}

fn number_value(number: f64) -> Value {
    if number.fract() == 0.0 && number.abs() < 9.0e15 {
        Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn register_kyverno_functions(runtime: &mut Runtime) {
    use ArgumentType::{Any, Array, Number, Object, String as Text};
    let text_or_number = || ArgumentType::Union(vec![Text, Number]);

    register(runtime, "compare", vec![Text, Text], None, |values| {
        let (left, right) = (string_arg(values, 0)?, string_arg(values, 1)?);
        Ok(Value::from(match left.cmp(&right) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        }))
    });
    register(runtime, "equal_fold", vec![Text, Text], None, |values| {
        Ok(Value::Bool(
            string_arg(values, 0)?.to_lowercase() == string_arg(values, 1)?.to_lowercase(),
        ))
    });
    register(
        runtime,
        "replace",
        vec![Text, Text, Text, Number],
        None,
        |values| {
            let (text, old, new) = (
                string_arg(values, 0)?,
                string_arg(values, 1)?,
                string_arg(values, 2)?,
            );
            let count = values.get(3).and_then(Value::as_f64).unwrap_or(-1.0);
            Ok(Value::String(if count < 0.0 {
                text.replace(&old, &new)
            } else {
                text.replacen(&old, &new, count as usize)
            }))
        },
    );
    register(
        runtime,
        "replace_all",
        vec![Text, Text, Text],
        None,
        |values| {
            Ok(Value::String(
                string_arg(values, 0)?.replace(&string_arg(values, 1)?, &string_arg(values, 2)?),
            ))
        },
    );
    register(runtime, "to_upper", vec![Text], None, |values| {
        Ok(Value::String(string_arg(values, 0)?.to_uppercase()))
    });
    register(runtime, "to_lower", vec![Text], None, |values| {
        Ok(Value::String(string_arg(values, 0)?.to_lowercase()))
    });
    register(runtime, "trim", vec![Text, Text], None, |values| {
        let cutset: Vec<char> = string_arg(values, 1)?.chars().collect();
        Ok(Value::String(
            string_arg(values, 0)?
                .trim_matches(|character| cutset.contains(&character))
                .to_string(),
        ))
    });
    register(runtime, "trim_prefix", vec![Text, Text], None, |values| {
        let (text, prefix) = (string_arg(values, 0)?, string_arg(values, 1)?);
        Ok(Value::String(
            text.strip_prefix(prefix.as_str())
                .unwrap_or(text.as_str())
                .to_string(),
        ))
    });
    register(runtime, "split", vec![Text, Text], None, |values| {
        let (text, separator) = (string_arg(values, 0)?, string_arg(values, 1)?);
        let parts: Vec<Value> = if separator.is_empty() {
            text.chars().map(|c| Value::String(c.to_string())).collect()
        } else {
            text.split(separator.as_str())
                .map(|part| Value::String(part.to_string()))
                .collect()
        };
        Ok(Value::Array(parts))
    });
    register(
        runtime,
        "regex_replace_all",
        vec![Text, text_or_number(), text_or_number()],
        None,
        |values| {
            let expression =
                regex::Regex::new(&string_arg(values, 0)?).map_err(|error| error.to_string())?;
            let replacement = go_expansion_to_rust(&string_arg(values, 2)?);
            Ok(Value::String(
                expression
                    .replace_all(&string_arg(values, 1)?, replacement.as_str())
                    .into_owned(),
            ))
        },
    );
    register(
        runtime,
        "regex_replace_all_literal",
        vec![Text, text_or_number(), text_or_number()],
        None,
        |values| {
            let expression =
                regex::Regex::new(&string_arg(values, 0)?).map_err(|error| error.to_string())?;
            let replacement = string_arg(values, 2)?;
            Ok(Value::String(
                expression
                    .replace_all(
                        &string_arg(values, 1)?,
                        regex::NoExpand(replacement.as_str()),
                    )
                    .into_owned(),
            ))
        },
    );
    register(
        runtime,
        "regex_match",
        vec![Text, text_or_number()],
        None,
        |values| {
            let expression =
                regex::Regex::new(&string_arg(values, 0)?).map_err(|error| error.to_string())?;
            Ok(Value::Bool(expression.is_match(&string_arg(values, 1)?)))
        },
    );
    register(
        runtime,
        "pattern_match",
        vec![Text, text_or_number()],
        None,
        |values| {
            Ok(Value::Bool(wildcard_matches(
                &string_arg(values, 0)?,
                &string_arg(values, 1)?,
            )))
        },
    );
    register(
        runtime,
        "label_match",
        vec![Object, Object],
        None,
        |values| {
            let (Some(selector), Some(labels)) = (values[0].as_object(), values[1].as_object())
            else {
                return Err("arguments must be objects".to_string());
            };
            Ok(Value::Bool(
                selector
                    .iter()
                    .all(|(key, value)| labels.get(key) == Some(value)),
            ))
        },
    );
    register(
        runtime,
        "to_boolean",
        vec![Text],
        None,
        |values| match string_arg(values, 0)?.to_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(format!("cannot convert `{other}` to a boolean")),
        },
    );
    register(runtime, "add", vec![Any, Any], None, |values| {
        arithmetic(&values[0], &values[1], ArithmeticOperation::Add)
    });
    register(runtime, "subtract", vec![Any, Any], None, |values| {
        arithmetic(&values[0], &values[1], ArithmeticOperation::Subtract)
    });
    register(runtime, "multiply", vec![Any, Any], None, |values| {
        arithmetic(&values[0], &values[1], ArithmeticOperation::Multiply)
    });
    register(runtime, "divide", vec![Any, Any], None, |values| {
        arithmetic(&values[0], &values[1], ArithmeticOperation::Divide)
    });
    register(runtime, "modulo", vec![Any, Any], None, |values| {
        arithmetic(&values[0], &values[1], ArithmeticOperation::Modulo)
    });
    register(runtime, "sum", vec![Array], None, |values| {
        let items = values[0].as_array().cloned().unwrap_or_default();
        let mut iterator = items.into_iter();
        let Some(mut total) = iterator.next() else {
            return Err("cannot sum an empty array".to_string());
        };
        for item in iterator {
            total = arithmetic(&total, &item, ArithmeticOperation::Add)?;
        }
        Ok(total)
    });
    register(runtime, "round", vec![Number, Number], None, |values| {
        let (value, digits) = (
            values[0].as_f64().unwrap_or_default(),
            values[1].as_f64().unwrap_or_default(),
        );
        let factor = 10f64.powi(digits as i32);
        Ok(number_value((value * factor).round() / factor))
    });
    register(runtime, "base64_decode", vec![Text], None, |values| {
        let bytes = base64_decode(&string_arg(values, 0)?)?;
        String::from_utf8(bytes)
            .map(Value::String)
            .map_err(|error| error.to_string())
    });
    register(runtime, "base64_encode", vec![Text], None, |values| {
        Ok(Value::String(base64_encode(
            string_arg(values, 0)?.as_bytes(),
        )))
    });
    register(runtime, "path_canonicalize", vec![Text], None, |values| {
        Ok(Value::String(clean_path(&string_arg(values, 0)?)))
    });
    register(runtime, "truncate", vec![Text, Number], None, |values| {
        let length = values[1].as_f64().unwrap_or_default().max(0.0) as usize;
        Ok(Value::String(
            string_arg(values, 0)?.chars().take(length).collect(),
        ))
    });
    register(
        runtime,
        "semver_compare",
        vec![Text, Text],
        None,
        |values| {
            let version = parse_semver(&string_arg(values, 0)?)
                .ok_or_else(|| "invalid version".to_string())?;
            Ok(Value::Bool(semver_range_matches(
                &version,
                &string_arg(values, 1)?,
            )?))
        },
    );
    register(runtime, "parse_json", vec![Text], None, |values| {
        serde_json::from_str(&string_arg(values, 0)?).map_err(|error| error.to_string())
    });
    register(runtime, "parse_yaml", vec![Text], None, |values| {
        serde_saphyr::from_str::<Value>(&string_arg(values, 0)?).map_err(|error| error.to_string())
    });
    register(
        runtime,
        "lookup",
        vec![
            ArgumentType::Union(vec![Object, Array]),
            ArgumentType::Union(vec![Text, Number]),
        ],
        None,
        |values| match (&values[0], &values[1]) {
            (Value::Object(map), Value::String(key)) => {
                Ok(map.get(key).cloned().unwrap_or(Value::Null))
            }
            (Value::Array(items), Value::Number(index)) => Ok(index
                .as_f64()
                .filter(|index| *index >= 0.0 && index.fract() == 0.0)
                .and_then(|index| items.get(index as usize).cloned())
                .unwrap_or(Value::Null)),
            _ => Err("invalid key type for the collection".to_string()),
        },
    );
    register(
        runtime,
        "items",
        vec![ArgumentType::Union(vec![Object, Array]), Text, Text],
        None,
        |values| {
            let (key_name, value_name) = (string_arg(values, 1)?, string_arg(values, 2)?);
            let pairs: Vec<(Value, Value)> = match &values[0] {
                Value::Object(map) => map
                    .iter()
                    .map(|(key, value)| (Value::String(key.clone()), value.clone()))
                    .collect(),
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(index, value)| (Value::from(index), value.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Value::Array(
                pairs
                    .into_iter()
                    .map(|(key, value)| {
                        let mut entry = Map::new();
                        entry.insert(key_name.clone(), key);
                        entry.insert(value_name.clone(), value);
                        Value::Object(entry)
                    })
                    .collect(),
            ))
        },
    );
    register(
        runtime,
        "object_from_lists",
        vec![Array, Array],
        None,
        |values| {
            let keys = values[0].as_array().cloned().unwrap_or_default();
            let items = values[1].as_array().cloned().unwrap_or_default();
            let mut out = Map::new();
            for (index, key) in keys.iter().enumerate() {
                let key = match key {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                out.insert(key, items.get(index).cloned().unwrap_or(Value::Null));
            }
            Ok(Value::Object(out))
        },
    );
    register(runtime, "image_normalize", vec![Text], None, |values| {
        let image = super::parse_image(&string_arg(values, 0)?)
            .ok_or_else(|| "invalid image reference".to_string())?;
        Ok(Value::String(image.normalized()))
    });
    register(runtime, "is_external_url", vec![Text], None, |values| {
        let text = string_arg(values, 0)?;
        let host = text
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_string();
        let internal = host.is_empty()
            || host == "localhost"
            || host.starts_with("127.")
            || host.starts_with("10.")
            || host.starts_with("192.168.")
            || host.ends_with(".svc")
            || host.ends_with(".cluster.local");
        Ok(Value::Bool(!internal))
    });
    register(
        runtime,
        "time_since",
        vec![Text, Text, Text],
        None,
        |values| {
            let start = parse_time(&string_arg(values, 1)?)?;
            let end_text = string_arg(values, 2)?;
            let end = if end_text.is_empty() {
                now_seconds()
            } else {
                parse_time(&end_text)?
            };
            Ok(Value::String(format_go_duration(end - start)))
        },
    );
    register(runtime, "time_now_utc", vec![], None, |_| {
        Ok(Value::String(format_time(now_seconds())))
    });
    register(runtime, "time_now", vec![], None, |_| {
        Ok(Value::String(format_time(now_seconds())))
    });
    register(runtime, "time_utc", vec![Text], None, |values| {
        Ok(Value::String(format_time(parse_time(&string_arg(
            values, 0,
        )?)?)))
    });
    register(runtime, "time_add", vec![Text, Text], None, |values| {
        let start = parse_time(&string_arg(values, 0)?)?;
        let duration = parse_go_duration(&string_arg(values, 1)?)
            .ok_or_else(|| "invalid duration".to_string())?;
        Ok(Value::String(format_time(start + duration)))
    });
    register(runtime, "time_diff", vec![Text, Text], None, |values| {
        let start = parse_time(&string_arg(values, 0)?)?;
        let end = parse_time(&string_arg(values, 1)?)?;
        Ok(Value::String(format_go_duration(end - start)))
    });
    register(runtime, "time_before", vec![Text, Text], None, |values| {
        Ok(Value::Bool(
            parse_time(&string_arg(values, 0)?)? < parse_time(&string_arg(values, 1)?)?,
        ))
    });
    register(runtime, "time_after", vec![Text, Text], None, |values| {
        Ok(Value::Bool(
            parse_time(&string_arg(values, 0)?)? > parse_time(&string_arg(values, 1)?)?,
        ))
    });
    register(
        runtime,
        "time_between",
        vec![Text, Text, Text],
        None,
        |values| {
            let time = parse_time(&string_arg(values, 0)?)?;
            Ok(Value::Bool(
                time > parse_time(&string_arg(values, 1)?)?
                    && time < parse_time(&string_arg(values, 2)?)?,
            ))
        },
    );
    for name in [
        "x509_decode",
        "random",
        "time_parse",
        "time_to_cron",
        "time_truncate",
        "sha256",
    ] {
        register_unsupported(runtime, name);
    }
}

/// Go's `${1}`/`$1` expansion is Rust's too, except Rust reads `$1a` as group `1a`: brace them.
fn go_expansion_to_rust(replacement: &str) -> String {
    let mut out = String::new();
    let characters: Vec<char> = replacement.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        if characters[index] == '$'
            && index + 1 < characters.len()
            && characters[index + 1].is_ascii_digit()
        {
            let mut end = index + 1;
            while end < characters.len() && characters[end].is_ascii_digit() {
                end += 1;
            }
            out.push_str("${");
            out.extend(&characters[index + 1..end]);
            out.push('}');
            index = end;
            continue;
        }
        out.push(characters[index]);
        index += 1;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithmeticOperation {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

#[derive(Debug, Clone, Copy)]
enum Operand {
    Number(f64),
    /// A quantity in base units, and whether it was written with a binary suffix.
    Quantity(f64, bool),
    /// A duration in seconds.
    Duration(f64),
}

fn operand(value: &Value) -> Result<Operand, String> {
    match value {
        Value::Number(number) => Ok(Operand::Number(number.as_f64().unwrap_or_default())),
        Value::String(text) => {
            if let Some(quantity) = parse_quantity(text) {
                let binary = text.trim_end().ends_with('i');
                return Ok(Operand::Quantity(quantity, binary));
            }
            if let Some(seconds) = parse_go_duration(text) {
                return Ok(Operand::Duration(seconds));
            }
            Err(format!("`{text}` is not a number, quantity or duration"))
        }
        other => Err(format!("{other} is not a number, quantity or duration")),
    }
}

fn arithmetic(left: &Value, right: &Value, operation: ArithmeticOperation) -> FunctionResult {
    use ArithmeticOperation::*;
    let (left, right) = (operand(left)?, operand(right)?);
    let apply = |a: f64, b: f64| -> Result<f64, String> {
        Ok(match operation {
            Add => a + b,
            Subtract => a - b,
            Multiply => a * b,
            Divide => {
                if b == 0.0 {
                    return Err("division by zero".to_string());
                }
                a / b
            }
            Modulo => {
                if b == 0.0 {
                    return Err("modulo by zero".to_string());
                }
                a % b
            }
        })
    };
    match (left, right, operation) {
        (Operand::Number(a), Operand::Number(b), _) => Ok(number_value(apply(a, b)?)),
        (Operand::Quantity(a, binary), Operand::Quantity(b, _), Add | Subtract | Modulo) => {
            Ok(Value::String(format_quantity(apply(a, b)?, binary)))
        }
        (Operand::Quantity(a, _), Operand::Quantity(b, _), Divide) => {
            Ok(number_value(apply(a, b)?))
        }
        (Operand::Quantity(a, binary), Operand::Number(b), Multiply | Divide) => {
            Ok(Value::String(format_quantity(apply(a, b)?, binary)))
        }
        (Operand::Number(a), Operand::Quantity(b, binary), Multiply) => {
            Ok(Value::String(format_quantity(apply(a, b)?, binary)))
        }
        (Operand::Duration(a), Operand::Duration(b), Add | Subtract | Modulo) => {
            Ok(Value::String(format_go_duration(apply(a, b)?)))
        }
        (Operand::Duration(a), Operand::Duration(b), Divide) => Ok(number_value(apply(a, b)?)),
        (Operand::Duration(a), Operand::Number(b), Multiply | Divide) => {
            Ok(Value::String(format_go_duration(apply(a, b)?)))
        }
        (Operand::Number(a), Operand::Duration(b), Multiply) => {
            Ok(Value::String(format_go_duration(apply(a, b)?)))
        }
        _ => Err("operands have incompatible types".to_string()),
    }
}

/// Canonical Kubernetes quantity text for a value in base units.
pub(crate) fn format_quantity(value: f64, binary: bool) -> String {
    let near_integer = |number: f64| (number - number.round()).abs() < 1e-9 * number.abs().max(1.0);
    if binary && near_integer(value) {
        for (suffix, power) in [
            ("Ei", 60),
            ("Pi", 50),
            ("Ti", 40),
            ("Gi", 30),
            ("Mi", 20),
            ("Ki", 10),
        ] {
            let scaled = value / 2f64.powi(power);
            if scaled.abs() >= 1.0 && near_integer(scaled) {
                return format!("{}{suffix}", scaled.round() as i64);
            }
        }
        return format!("{}", value.round() as i64);
    }
    for (suffix, exponent) in [
        ("E", 18),
        ("P", 15),
        ("T", 12),
        ("G", 9),
        ("M", 6),
        ("k", 3),
        ("", 0),
        ("m", -3),
        ("u", -6),
        ("n", -9),
    ] {
        let scaled = value / 10f64.powi(exponent);
        if (scaled.abs() >= 1.0 || exponent == -9) && near_integer(scaled) {
            return format!("{}{suffix}", scaled.round() as i64);
        }
    }
    format!("{value}")
}

const BASE64_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let triple = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for position in 0..4 {
            if position <= chunk.len() {
                let index = ((triple >> (18 - 6 * position)) & 0x3f) as usize;
                out.push(BASE64_ALPHABET[index] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for character in text.trim().bytes() {
        if character == b'=' {
            break;
        }
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'\n' | b'\r' => continue,
            _ => return Err("invalid base64 input".to_string()),
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Ok(out)
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A semantic version: major, minor, patch and whether it carries a pre-release.
pub(crate) type SemanticVersion = (u64, u64, u64, String);

pub(crate) fn parse_semver(text: &str) -> Option<SemanticVersion> {
    let text = text.trim().trim_start_matches('v');
    let (core, prerelease) = match text.split_once('-') {
        Some((core, rest)) => (core, rest.split('+').next().unwrap_or_default().to_string()),
        None => (text.split('+').next().unwrap_or_default(), String::new()),
    };
    let mut numbers = core.split('.');
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next().map_or(Some(0), |part| part.parse().ok())?;
    let patch = numbers.next().map_or(Some(0), |part| part.parse().ok())?;
    if numbers.next().is_some() {
        return None;
    }
    Some((major, minor, patch, prerelease))
}

pub(crate) fn compare_semver(
    left: &SemanticVersion,
    right: &SemanticVersion,
) -> std::cmp::Ordering {
    (left.0, left.1, left.2)
        .cmp(&(right.0, right.1, right.2))
        .then_with(|| match (left.3.is_empty(), right.3.is_empty()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => left.3.cmp(&right.3),
        })
}

/// blang/semver ranges: `>=1.0.0 <2.0.0` (AND), `||` (OR), operators `= == != > >= < <=`, `x` wildcards.
fn semver_range_matches(version: &SemanticVersion, range: &str) -> Result<bool, String> {
    use std::cmp::Ordering::*;
    for alternative in range.split("||") {
        let mut all = true;
        for term in alternative.split_whitespace() {
            let operator_end = term
                .find(|character: char| character.is_ascii_digit() || character == 'v')
                .unwrap_or(term.len());
            let (operator, target) = term.split_at(operator_end);
            let wildcard_parts: Vec<&str> = target.split('.').collect();
            if wildcard_parts
                .iter()
                .any(|part| *part == "x" || *part == "X" || *part == "*")
            {
                let matches = wildcard_parts.iter().enumerate().all(|(index, part)| {
                    let actual = [version.0, version.1, version.2][index.min(2)];
                    part.parse::<u64>()
                        .map_or(true, |expected| expected == actual)
                });
                all &= if operator == "!=" { !matches } else { matches };
                continue;
            }
            let target =
                parse_semver(target).ok_or_else(|| format!("invalid range term `{term}`"))?;
            let ordering = compare_semver(version, &target);
            all &= match operator {
                "" | "=" | "==" => ordering == Equal,
                "!=" | "!" => ordering != Equal,
                ">" => ordering == Greater,
                ">=" => ordering != Less,
                "<" => ordering == Less,
                "<=" => ordering != Greater,
                other => return Err(format!("invalid range operator `{other}`")),
            };
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs_f64())
        .unwrap_or_default()
}

/// Seconds since the epoch of an RFC 3339 timestamp (`2023-01-02T03:04:05Z`, offsets allowed).
pub(crate) fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not an RFC 3339 time");
    if text.len() < 19 {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        text.get(range)
            .and_then(|part| part.parse().ok())
            .ok_or_else(invalid)
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = &text[19..];
    let mut fraction = 0.0;
    if let Some(stripped) = rest.strip_prefix('.') {
        let digits: String = stripped.chars().take_while(char::is_ascii_digit).collect();
        fraction = format!("0.{digits}").parse().unwrap_or_default();
        rest = &stripped[digits.len()..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        zone if zone.len() == 6 => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let hours: i64 = zone[1..3].parse().map_err(|_| invalid())?;
            let minutes: i64 = zone[4..6].parse().map_err(|_| invalid())?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return Err(invalid()),
    };
    let days = days_from_civil(year, month, day);
    Ok((days * 86_400 + hour * 3600 + minute * 60 + second - offset) as f64 + fraction)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn format_time(seconds: f64) -> String {
    let total = seconds.floor() as i64;
    let days = total.div_euclid(86_400);
    let remainder = total.rem_euclid(86_400);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        remainder / 3600,
        remainder % 3600 / 60,
        remainder % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> VariableContext {
        let mut context = VariableContext::new();
        context.set(
            "request",
            json!({"operation": "CREATE", "object": {"metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox"}]}}}),
        );
        context.set_dotted("saMap.data.web", json!("[\"x\"]"));
        context
    }

    #[test]
    fn whole_string_keeps_type_and_interpolation_makes_text() {
        let context = context();
        assert_eq!(
            substitute_string(
                "{{ length(request.object.spec.containers) }}",
                &context,
                Resolution::Strict
            ),
            Ok(json!(2))
        );
        assert_eq!(
            substitute_string(
                "n={{ length(request.object.spec.containers) }}",
                &context,
                Resolution::Strict
            ),
            Ok(json!("n=2"))
        );
        assert_eq!(
            substitute_string(
                "{{ saMap.data.\"{{ request.object.metadata.name }}\" }}",
                &context,
                Resolution::Strict
            ),
            Ok(json!("[\"x\"]"))
        );
    }

    #[test]
    fn unresolved_variables_fail_strictly_and_read_empty_leniently() {
        let context = context();
        assert!(matches!(
            substitute_string(
                "{{ request.object.metadata.labels.missing }}",
                &context,
                Resolution::Strict
            ),
            Err(VariableError::NotFound(_))
        ));
        assert_eq!(
            substitute_string(
                "{{ request.object.metadata.labels.missing }}",
                &context,
                Resolution::Lenient
            ),
            Ok(json!(""))
        );
        assert_eq!(
            substitute_string(
                "{{ request.object.metadata.labels.missing || 'none' }}",
                &context,
                Resolution::Strict
            ),
            Ok(json!("none"))
        );
    }

    #[test]
    fn kyverno_functions() {
        let context = context();
        let query = |expression: &str| context.query(expression);
        assert_eq!(query("to_upper('abc')"), Ok(json!("ABC")));
        assert_eq!(query("split('a/b/c', '/')"), Ok(json!(["a", "b", "c"])));
        assert_eq!(query("regex_match('^ng', 'nginx')"), Ok(json!(true)));
        assert_eq!(
            query("regex_replace_all('([a-z]+)-(\\d+)', 'abc-12', '$2-$1')"),
            Ok(json!("12-abc"))
        );
        assert_eq!(query("pattern_match('ngi*', 'nginx')"), Ok(json!(true)));
        assert_eq!(query("add(`1`, `2`)"), Ok(json!(3)));
        assert_eq!(query("multiply('250m', `2`)"), Ok(json!("500m")));
        assert_eq!(query("add('1Gi', '512Mi')"), Ok(json!("1536Mi")));
        assert_eq!(query("divide('1Gi', '512Mi')"), Ok(json!(2)));
        assert_eq!(query("add('1h', '30s')"), Ok(json!("1h0m30s")));
        assert_eq!(query("base64_encode('hello')"), Ok(json!("aGVsbG8=")));
        assert_eq!(query("base64_decode('aGVsbG8=')"), Ok(json!("hello")));
        assert_eq!(
            query("semver_compare('1.2.3', '>=1.0.0 <2.0.0')"),
            Ok(json!(true))
        );
        assert_eq!(query("semver_compare('2.2.3', '1.x')"), Ok(json!(false)));
        assert_eq!(query("parse_json('{\"a\": 1}').a"), Ok(json!(1)));
        assert_eq!(query("parse_yaml('a: [1, 2]').a[1]"), Ok(json!(2)));
        assert_eq!(query("path_canonicalize('/a/../b//c/')"), Ok(json!("/b/c")));
        assert_eq!(query("truncate('abcdef', `3`)"), Ok(json!("abc")));
        assert_eq!(
            query("object_from_lists(['a', 'b'], [`1`, `2`])"),
            Ok(json!({"a": 1, "b": 2}))
        );
        assert_eq!(
            query("items({a: 'x'}, 'key', 'value')"),
            Ok(json!([{"key": "a", "value": "x"}]))
        );
        assert_eq!(
            query("label_match({app: 'web'}, request.object.metadata.labels)"),
            Ok(json!(true))
        );
        assert_eq!(
            query("image_normalize('nginx')"),
            Ok(json!("docker.io/nginx:latest"))
        );
        assert_eq!(
            query("time_since('', '2023-01-01T00:00:00Z', '2023-01-01T01:30:00Z')"),
            Ok(json!("1h30m0s"))
        );
        assert!(matches!(
            query("x509_decode('x')"),
            Err(VariableError::Unsupported { .. })
        ));
    }

    #[test]
    fn dotted_values_merge_into_the_document() {
        let mut context = context();
        context.set_dotted("request.object.spec.serviceAccountName", json!("robot"));
        assert_eq!(
            context.query("request.object.spec.serviceAccountName"),
            Ok(json!("robot"))
        );
        assert_eq!(
            context.query("request.object.metadata.name"),
            Ok(json!("web"))
        );
    }
}
