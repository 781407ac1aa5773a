//! Kyverno's validation pattern language: wildcards, operators (`!`, `>`, `<`, `>=`, `<=`, `|`,
//! `&`, ranges `a-b` and `a!-b`), quantities and durations compared as such, and the anchors
//! (conditional `()`, equality `=()`, negation `X()`, global `<()`, existence `^()`; `+()` is a
//! mutate anchor and is ignored here) on maps and lists of maps.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

pub(crate) use crate::index::wildcard_matches;

/// The result of matching a resource against one pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternOutcome {
    Pass,
    /// A field did not match: the path (`/spec/containers/0/image/`) and why.
    Fail {
        path: String,
        message: String,
    },
    /// A conditional or global anchor did not hold: the rule does not apply.
    Skip {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Mismatch {
    Fail {
        path: String,
        message: String,
    },
    Conditional {
        path: String,
        message: String,
    },
    Global {
        path: String,
        message: String,
    },
    Negation {
        path: String,
        message: String,
    },
    /// Every element of a list was skipped by its anchors.
    AllSkipped {
        path: String,
        message: String,
    },
}

impl Mismatch {
    fn is_skip(&self) -> bool {
        matches!(
            self,
            Mismatch::Conditional { .. } | Mismatch::Global { .. } | Mismatch::AllSkipped { .. }
        )
    }

    fn message(&self) -> &str {
        match self {
            Mismatch::Fail { message, .. }
            | Mismatch::Conditional { message, .. }
            | Mismatch::Global { message, .. }
            | Mismatch::Negation { message, .. }
            | Mismatch::AllSkipped { message, .. } => message,
        }
    }

    fn path(&self) -> &str {
        match self {
            Mismatch::Fail { path, .. }
            | Mismatch::Conditional { path, .. }
            | Mismatch::Global { path, .. }
            | Mismatch::Negation { path, .. }
            | Mismatch::AllSkipped { path, .. } => path,
        }
    }
}

fn fail(path: &str, message: impl Into<String>) -> Mismatch {
    Mismatch::Fail {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Matches `resource` against `pattern` from the root, as Kyverno's `MatchPattern` does.
pub fn match_pattern(resource: &Value, pattern: &Value) -> PatternOutcome {
    match validate_element(resource, pattern, "/") {
        Ok(()) => PatternOutcome::Pass,
        Err(mismatch) if mismatch.is_skip() => PatternOutcome::Skip {
            message: mismatch.message().to_string(),
        },
        Err(mismatch) => PatternOutcome::Fail {
            path: mismatch.path().to_string(),
            message: mismatch.message().to_string(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// anchors

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnchorKind {
    Condition,
    Global,
    Negation,
    AddIfNotPresent,
    Equality,
    Existence,
}

/// Splits `(key)`, `<(key)`, `X(key)`, `+(key)`, `=(key)`, `^(key)` into the anchor and the key.
pub(crate) fn parse_anchor(key: &str) -> Option<(AnchorKind, &str)> {
    let key = key.trim();
    let (kind, rest) = match key.chars().next()? {
        '(' => (AnchorKind::Condition, key),
        '<' => (AnchorKind::Global, &key[1..]),
        'X' => (AnchorKind::Negation, &key[1..]),
        '+' => (AnchorKind::AddIfNotPresent, &key[1..]),
        '=' => (AnchorKind::Equality, &key[1..]),
        '^' => (AnchorKind::Existence, &key[1..]),
        _ => return None,
    };
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    if inner.is_empty() {
        return None;
    }
    Some((kind, inner))
}

fn has_nested_anchors(pattern: &Value) -> bool {
    match pattern {
        Value::Object(map) => map.iter().any(|(key, value)| {
            parse_anchor(key).is_some_and(|(kind, _)| kind != AnchorKind::AddIfNotPresent)
                || has_nested_anchors(value)
        }),
        Value::Array(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// structure

fn validate_element(resource: &Value, pattern: &Value, path: &str) -> Result<(), Mismatch> {
    match pattern {
        Value::Object(pattern_map) => match resource {
            Value::Object(resource_map) => validate_map(resource_map, pattern_map, path),
            other => Err(fail(
                path,
                format!("expected a map at `{path}`, found {}", type_name(other)),
            )),
        },
        Value::Array(pattern_items) => match resource {
            Value::Array(resource_items) => validate_array(resource_items, pattern_items, path),
            _ => Err(fail(
                path,
                format!("validation rule failed at path `{path}`: expected a list"),
            )),
        },
        scalar => match resource {
            Value::Array(items) => {
                for item in items {
                    if !validate_value(item, scalar) {
                        return Err(value_mismatch(resource, scalar, path));
                    }
                }
                Ok(())
            }
            other => {
                if validate_value(other, scalar) {
                    Ok(())
                } else {
                    Err(value_mismatch(other, scalar, path))
                }
            }
        },
    }
}

fn value_mismatch(resource: &Value, pattern: &Value, path: &str) -> Mismatch {
    fail(
        path,
        format!(
            "resource value `{}` does not match `{}` at path `{path}`",
            display(resource),
            display(pattern)
        ),
    )
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn validate_map(
    resource: &Map<String, Value>,
    pattern: &Map<String, Value>,
    path: &str,
) -> Result<(), Mismatch> {
    let pattern = expand_metadata_wildcards(pattern, resource);
    let mut anchors: Vec<(&String, AnchorKind, &str, &Value)> = Vec::new();
    let mut plain: Vec<(&String, &Value)> = Vec::new();
    for (key, value) in pattern.iter() {
        match parse_anchor(key) {
            Some((
                kind @ (AnchorKind::Condition
                | AnchorKind::Existence
                | AnchorKind::Equality
                | AnchorKind::Negation),
                inner,
            )) => anchors.push((key, kind, inner, value)),
            Some((AnchorKind::AddIfNotPresent, _)) => {}
            _ => plain.push((key, value)),
        }
    }
    anchors.sort_by(|left, right| left.0.cmp(right.0));
    for (_, kind, inner, value) in anchors {
        handle_anchor(kind, inner, value, resource, path)?;
    }
    // keys with nested anchors (and global anchors) first, as Kyverno orders them
    plain.sort_by(|left, right| left.0.cmp(right.0));
    let mut front: Vec<(&String, &Value)> = Vec::new();
    let mut back: Vec<(&String, &Value)> = Vec::new();
    for (key, value) in plain {
        let global = parse_anchor(key).is_some_and(|(kind, _)| kind == AnchorKind::Global);
        if global || has_nested_anchors(value) {
            front.insert(0, (key, value));
        } else {
            back.push((key, value));
        }
    }
    for (key, value) in front.into_iter().chain(back) {
        match parse_anchor(key) {
            Some((AnchorKind::Global, inner)) => {
                handle_anchor(AnchorKind::Global, inner, value, resource, path)?
            }
            _ => {
                let current_path = format!("{path}{key}/");
                let field = resource.get(key.as_str()).unwrap_or(&Value::Null);
                if value.as_str() == Some("*") {
                    if field.is_null() {
                        return Err(fail(path, format!("field `{key}` is required at `{path}`")));
                    }
                    continue;
                }
                validate_element(field, value, &current_path)?;
            }
        }
    }
    Ok(())
}

fn handle_anchor(
    kind: AnchorKind,
    key: &str,
    pattern: &Value,
    resource: &Map<String, Value>,
    path: &str,
) -> Result<(), Mismatch> {
    let current_path = format!("{path}{key}/");
    let value = resource.get(key);
    match kind {
        AnchorKind::Condition => match value {
            Some(value) => validate_element(value, pattern, &current_path).map_err(|error| {
                Mismatch::Conditional {
                    path: current_path.clone(),
                    message: format!("conditional anchor mismatch: {}", error.message()),
                }
            }),
            None => Err(Mismatch::Conditional {
                path: current_path,
                message: format!("conditional anchor key `{key}` does not exist in the resource"),
            }),
        },
        AnchorKind::Global => match value {
            Some(value) => {
                validate_element(value, pattern, &current_path).map_err(|error| Mismatch::Global {
                    path: current_path.clone(),
                    message: format!("global anchor mismatch: {}", error.message()),
                })
            }
            None => Ok(()),
        },
        AnchorKind::Negation => match value {
            Some(_) => Err(Mismatch::Negation {
                message: format!("`{current_path}` is not allowed"),
                path: current_path,
            }),
            None => Ok(()),
        },
        AnchorKind::Equality => match value {
            Some(value) => validate_element(value, pattern, &current_path),
            None => Ok(()),
        },
        AnchorKind::Existence => match value {
            Some(Value::Array(items)) => {
                let Value::Array(pattern_items) = pattern else {
                    return Err(fail(
                        &current_path,
                        "an existence anchor needs a list pattern",
                    ));
                };
                for pattern_item in pattern_items {
                    if !pattern_item.is_object() {
                        return Err(fail(
                            &current_path,
                            "an existence anchor needs a list of maps",
                        ));
                    }
                    let found = items.iter().enumerate().any(|(index, item)| {
                        validate_element(item, pattern_item, &format!("{current_path}{index}/"))
                            .is_ok()
                    });
                    if !found {
                        return Err(fail(
                            &current_path,
                            format!("no element of `{current_path}` matches the existence anchor"),
                        ));
                    }
                }
                Ok(())
            }
            Some(_) => Err(fail(
                &current_path,
                "an existence anchor can only be used on a list",
            )),
            None => Ok(()),
        },
        AnchorKind::AddIfNotPresent => Ok(()),
    }
}

fn validate_array(resource: &[Value], pattern: &[Value], path: &str) -> Result<(), Mismatch> {
    let Some(first) = pattern.first() else {
        return Err(fail(path, "the pattern list is empty"));
    };
    match first {
        Value::Object(_) => {
            let mut applied = 0;
            let mut skipped: Vec<String> = Vec::new();
            for (index, item) in resource.iter().enumerate() {
                match validate_element(item, first, &format!("{path}{index}/")) {
                    Ok(()) => applied += 1,
                    Err(mismatch) if mismatch.is_skip() => {
                        skipped.push(mismatch.message().to_string())
                    }
                    Err(mismatch) => return Err(mismatch),
                }
            }
            if applied == 0 && !skipped.is_empty() {
                return Err(Mismatch::AllSkipped {
                    path: path.to_string(),
                    message: skipped.join("; "),
                });
            }
            Ok(())
        }
        Value::Array(_) => {
            if resource.len() < pattern.len() {
                return Err(fail(
                    path,
                    format!(
                        "the resource list has {} elements, the pattern {}",
                        resource.len(),
                        pattern.len()
                    ),
                ));
            }
            let mut applied = 0;
            let mut skipped: Vec<String> = Vec::new();
            for (index, pattern_item) in pattern.iter().enumerate() {
                match validate_element(&resource[index], pattern_item, &format!("{path}{index}/")) {
                    Ok(()) => applied += 1,
                    Err(mismatch) if mismatch.is_skip() => {
                        skipped.push(mismatch.message().to_string())
                    }
                    Err(mismatch) => return Err(mismatch),
                }
            }
            if applied == 0 && !skipped.is_empty() {
                return Err(Mismatch::AllSkipped {
                    path: path.to_string(),
                    message: skipped.join("; "),
                });
            }
            Ok(())
        }
        scalar => validate_element(&Value::Array(resource.to_vec()), scalar, path),
    }
}

/// Wildcard keys under `metadata.labels`/`metadata.annotations` take the first matching key of
/// the resource (anchors kept), as Kyverno's `ExpandInMetadata`.
fn expand_metadata_wildcards(
    pattern: &Map<String, Value>,
    resource: &Map<String, Value>,
) -> Map<String, Value> {
    let mut pattern = pattern.clone();
    let Some(metadata_key) = pattern
        .keys()
        .find(|key| {
            *key == "metadata" || parse_anchor(key).is_some_and(|(_, inner)| inner == "metadata")
        })
        .cloned()
    else {
        return pattern;
    };
    let Some(Value::Object(resource_metadata)) = resource.get("metadata") else {
        return pattern;
    };
    let Some(Value::Object(pattern_metadata)) = pattern.get_mut(&metadata_key) else {
        return pattern;
    };
    for tag in ["labels", "annotations"] {
        let Some(tag_key) = pattern_metadata
            .keys()
            .find(|key| *key == tag || parse_anchor(key).is_some_and(|(_, inner)| inner == tag))
            .cloned()
        else {
            continue;
        };
        let Some(Value::Object(resource_values)) = resource_metadata.get(tag) else {
            continue;
        };
        let Some(Value::Object(pattern_values)) = pattern_metadata.get(&tag_key) else {
            continue;
        };
        let mut resource_keys: Vec<&String> = resource_values.keys().collect();
        resource_keys.sort();
        let mut expanded = Map::new();
        for (key, value) in pattern_values {
            let (anchor, inner) = match parse_anchor(key) {
                Some((kind, inner)) => (Some((kind, key.find('(').unwrap_or(0))), inner),
                None => (None, key.as_str()),
            };
            if !(inner.contains('*') || inner.contains('?')) {
                expanded.insert(key.clone(), value.clone());
                continue;
            }
            let matched = resource_keys
                .iter()
                .find(|candidate| wildcard_matches(inner, candidate))
                .map(|candidate| (*candidate).clone())
                .unwrap_or_else(|| inner.to_string());
            let new_key = match anchor {
                Some((_, open)) => format!("{}({matched})", &key[..open]),
                None => matched,
            };
            expanded.insert(new_key, value.clone());
        }
        pattern_metadata.insert(tag_key, Value::Object(expanded));
    }
    pattern
}

// ---------------------------------------------------------------------------------------------
// scalar values

/// Kyverno's `pattern.Validate`: one resource value against one pattern value.
pub fn validate_value(value: &Value, pattern: &Value) -> bool {
    match pattern {
        Value::Bool(expected) => value.as_bool() == Some(*expected),
        Value::Number(number) => {
            if let Some(expected) = number.as_i64().or_else(|| {
                number
                    .as_f64()
                    .filter(|float| float.fract() == 0.0 && float.abs() < 9.0e18)
                    .map(|float| float as i64)
            }) {
                validate_int(value, expected)
            } else {
                validate_float(value, number.as_f64().unwrap_or_default())
            }
        }
        Value::Null => match value {
            Value::Null => true,
            Value::Number(number) => number.as_f64() == Some(0.0),
            Value::String(text) => text.is_empty(),
            Value::Bool(flag) => !flag,
            _ => false,
        },
        Value::Object(_) => value.is_object(),
        Value::Array(_) => false,
        Value::String(text) => validate_string_patterns(value, text),
    }
}

fn validate_int(value: &Value, expected: i64) -> bool {
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(actual) => actual == expected,
            None => number
                .as_f64()
                .is_some_and(|float| float.fract() == 0.0 && float as i64 == expected),
        },
        Value::String(text) => text.parse::<i64>().ok() == Some(expected),
        _ => false,
    }
}

fn validate_float(value: &Value, expected: f64) -> bool {
    match value {
        Value::Number(number) => number.as_f64() == Some(expected),
        Value::String(text) => text.parse::<f64>().ok() == Some(expected),
        _ => false,
    }
}

fn validate_string_patterns(value: &Value, pattern: &str) -> bool {
    if value.as_str() == Some(pattern) {
        return true;
    }
    pattern.split('|').any(|alternative| {
        alternative
            .trim_matches(' ')
            .split('&')
            .all(|condition| validate_string_pattern(value, condition.trim_matches(' ')))
    })
}

/// The comparison a string pattern starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equal,
    NotEqual,
    More,
    MoreEqual,
    Less,
    LessEqual,
    InRange,
    NotInRange,
}

static NOT_IN_RANGE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^-?\d+(\.\d+)?[^-!]*!-\s*-?\d+(\.\d+)?[^-]*$").ok());
static IN_RANGE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^-?\d+(\.\d+)?[^-!]*-\s*-?\d+(\.\d+)?[^-]*$").ok());

fn is_match(regex: &LazyLock<Option<Regex>>, text: &str) -> bool {
    regex.as_ref().is_some_and(|regex| regex.is_match(text))
}

pub(crate) fn comparison_of(pattern: &str) -> (Comparison, &str) {
    if pattern.len() >= 2 {
        for (prefix, comparison) in [
            (">=", Comparison::MoreEqual),
            ("<=", Comparison::LessEqual),
            (">", Comparison::More),
            ("<", Comparison::Less),
            ("!", Comparison::NotEqual),
        ] {
            if let Some(rest) = pattern.strip_prefix(prefix) {
                if comparison == Comparison::NotEqual && rest.starts_with('-') {
                    break;
                }
                return (comparison, rest.trim());
            }
        }
    }
    if is_match(&NOT_IN_RANGE, pattern) {
        return (Comparison::NotInRange, pattern);
    }
    if is_match(&IN_RANGE, pattern) {
        return (Comparison::InRange, pattern);
    }
    (Comparison::Equal, pattern)
}

fn split_range<'a>(pattern: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    // the left bound may be negative: split after its first character
    let offset = usize::from(pattern.starts_with('-'));
    let index = pattern[offset..].find(separator)? + offset;
    Some((
        pattern[..index].trim(),
        pattern[index + separator.len()..].trim(),
    ))
}

pub(crate) fn validate_string_pattern(value: &Value, pattern: &str) -> bool {
    let (comparison, rest) = comparison_of(pattern);
    match comparison {
        Comparison::InRange => match split_range(rest, "-") {
            Some((low, high)) => {
                compare(value, low, Comparison::MoreEqual)
                    && compare(value, high, Comparison::LessEqual)
            }
            None => false,
        },
        Comparison::NotInRange => match split_range(rest, "!-") {
            Some((low, high)) => {
                compare(value, low, Comparison::Less) || compare(value, high, Comparison::More)
            }
            None => false,
        },
        other => compare(value, rest, other),
    }
}

fn compare(value: &Value, pattern: &str, comparison: Comparison) -> bool {
    compare_durations(value, pattern, comparison)
        || compare_quantities(value, pattern, comparison)
        || compare_strings(value, pattern, comparison)
}

fn number_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("0".to_string()),
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(match number.as_i64() {
            Some(integer) => integer.to_string(),
            None => format!("{:.6}", number.as_f64().unwrap_or_default()),
        }),
        _ => None,
    }
}

fn ordering_satisfies(ordering: std::cmp::Ordering, comparison: Comparison) -> bool {
    use std::cmp::Ordering::*;
    match comparison {
        Comparison::Equal => ordering == Equal,
        Comparison::NotEqual => ordering != Equal,
        Comparison::More => ordering == Greater,
        Comparison::Less => ordering == Less,
        Comparison::MoreEqual => ordering != Less,
        Comparison::LessEqual => ordering != Greater,
        Comparison::InRange | Comparison::NotInRange => false,
    }
}

fn compare_durations(value: &Value, pattern: &str, comparison: Comparison) -> bool {
    let (Some(expected), Some(actual)) = (
        parse_go_duration(pattern),
        number_to_string(value).and_then(|text| parse_go_duration(&text)),
    ) else {
        return false;
    };
    actual
        .partial_cmp(&expected)
        .is_some_and(|ordering| ordering_satisfies(ordering, comparison))
}

fn compare_quantities(value: &Value, pattern: &str, comparison: Comparison) -> bool {
    let (Some(expected), Some(actual)) = (
        parse_quantity(pattern),
        number_to_string(value).and_then(|text| parse_quantity(&text)),
    ) else {
        return false;
    };
    actual
        .partial_cmp(&expected)
        .is_some_and(|ordering| ordering_satisfies(ordering, comparison))
}

fn compare_strings(value: &Value, pattern: &str, comparison: Comparison) -> bool {
    if !matches!(comparison, Comparison::Equal | Comparison::NotEqual) {
        return false;
    }
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => integer.to_string(),
            None => go_exponent_format(number.as_f64().unwrap_or_default()),
        },
        _ => return false,
    };
    let matched = wildcard_matches(pattern, &text);
    if comparison == Comparison::NotEqual {
        !matched
    } else {
        matched
    }
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: `1.5E+00`.
fn go_exponent_format(number: f64) -> String {
    let formatted = format!("{number:E}");
    match formatted.split_once('E') {
        Some((mantissa, exponent)) => {
            let exponent: i32 = exponent.parse().unwrap_or_default();
            let sign = if exponent < 0 { '-' } else { '+' };
            format!("{mantissa}E{sign}{:02}", exponent.abs())
        }
        None => formatted,
    }
}

static QUANTITY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|n|u|m|k|M|G|T|P|E)?$",
    )
    .ok()
});

/// A Kubernetes quantity (`500m`, `1Gi`, `2e3`, `10`) in base units.
pub(crate) fn parse_quantity(text: &str) -> Option<f64> {
    let captures = QUANTITY.as_ref()?.captures(text.trim())?;
    let number: f64 = captures.get(1)?.as_str().parse().ok()?;
    let multiplier = match captures.get(2).map(|suffix| suffix.as_str()) {
        None => 1.0,
        Some("Ki") => 1024f64,
        Some("Mi") => 1024f64.powi(2),
        Some("Gi") => 1024f64.powi(3),
        Some("Ti") => 1024f64.powi(4),
        Some("Pi") => 1024f64.powi(5),
        Some("Ei") => 1024f64.powi(6),
        Some("n") => 1e-9,
        Some("u") => 1e-6,
        Some("m") => 1e-3,
        Some("k") => 1e3,
        Some("M") => 1e6,
        Some("G") => 1e9,
        Some("T") => 1e12,
        Some("P") => 1e15,
        Some("E") => 1e18,
        Some(exponent) => 10f64.powi(exponent[1..].parse().ok()?),
    };
    Some(number * multiplier)
}

/// Go's `time.ParseDuration` (`1h30m`, `1.5s`, `-2m`, `0`), in seconds.
pub(crate) fn parse_go_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|character: char| character.is_ascii_digit() || character == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * seconds;
    }
    Some(sign * total)
}

/// Go's `time.Duration.String()` for a number of seconds.
pub(crate) fn format_go_duration(seconds: f64) -> String {
    let nanoseconds = (seconds * 1e9).round() as i128;
    if nanoseconds == 0 {
        return "0s".to_string();
    }
    let sign = if nanoseconds < 0 { "-" } else { "" };
    let magnitude = nanoseconds.abs();
    let trim = |value: f64| {
        let text = format!("{value:.9}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if magnitude < 1_000 {
        return format!("{sign}{magnitude}ns");
    }
    if magnitude < 1_000_000 {
        return format!("{sign}{}µs", trim(magnitude as f64 / 1e3));
    }
    if magnitude < 1_000_000_000 {
        return format!("{sign}{}ms", trim(magnitude as f64 / 1e6));
    }
    let hours = magnitude / 3_600_000_000_000;
    let minutes = magnitude % 3_600_000_000_000 / 60_000_000_000;
    let rest = (magnitude % 60_000_000_000) as f64 / 1e9;
    let mut out = sign.to_string();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", trim(rest)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(resource: Value, pattern: Value) -> PatternOutcome {
        match_pattern(&resource, &pattern)
    }

    #[test]
    fn operators_on_values() {
        assert!(validate_value(&json!(80), &json!(">=80")));
        assert!(!validate_value(&json!(79), &json!(">=80")));
        assert!(validate_value(&json!("nginx:1.2"), &json!("!*:latest")));
        assert!(validate_value(&json!("2Gi"), &json!("<=4Gi & >1Gi")));
        assert!(validate_value(&json!("a"), &json!("b | a")));
        assert!(validate_value(&json!(5), &json!("1-10")));
        assert!(!validate_value(&json!(11), &json!("1-10")));
        assert!(validate_value(&json!(11), &json!("1!-10")));
        assert!(validate_value(&json!("90m"), &json!(">1h")));
        assert!(validate_value(&json!("500m"), &json!("<1")));
        assert!(validate_value(&Value::Null, &Value::Null));
        assert!(validate_value(&json!(false), &Value::Null));
        assert!(validate_value(&json!("abc"), &json!("?*")));
        assert!(!validate_value(&json!(""), &json!("?*")));
        assert!(validate_value(&json!(true), &json!(true)));
        assert!(validate_value(&json!("8080"), &json!(8080)));
        // a missing value reads as 0 for numeric comparisons, as in Kyverno
        assert!(validate_value(&Value::Null, &json!("<10")));
    }

    #[test]
    fn maps_lists_and_wildcards() {
        let pod = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox:latest"}]}});
        assert_eq!(
            outcome(pod.clone(), json!({"spec": {"containers": [{"image": "!*:latest"}]}})),
            PatternOutcome::Fail {
                path: "/spec/containers/1/image/".to_string(),
                message: "resource value `busybox:latest` does not match `!*:latest` at path `/spec/containers/1/image/`".to_string()
            }
        );
        assert_eq!(
            outcome(
                pod.clone(),
                json!({"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}})
            ),
            PatternOutcome::Pass
        );
        assert!(matches!(
            outcome(pod.clone(), json!({"metadata": {"labels": {"team": "?*"}}})),
            PatternOutcome::Fail { .. }
        ));
        assert_eq!(
            outcome(pod, json!({"spec": {"containers": [{"name": "*"}]}})),
            PatternOutcome::Pass
        );
    }

    #[test]
    fn anchors() {
        let pod =
            json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "nginx"}]}});
        // conditional anchor not met: skip
        assert!(matches!(
            outcome(
                pod.clone(),
                json!({"spec": {"(hostNetwork)": false, "containers": [{"image": "x"}]}})
            ),
            PatternOutcome::Skip { .. }
        ));
        // conditional anchor met: siblings checked
        assert!(matches!(
            outcome(
                pod.clone(),
                json!({"spec": {"(hostNetwork)": true, "containers": [{"image": "x"}]}})
            ),
            PatternOutcome::Fail { .. }
        ));
        // equality anchor: only if present
        assert_eq!(
            outcome(pod.clone(), json!({"spec": {"=(hostPID)": false}})),
            PatternOutcome::Pass
        );
        assert!(matches!(
            outcome(pod.clone(), json!({"spec": {"=(hostNetwork)": false}})),
            PatternOutcome::Fail { .. }
        ));
        // negation anchor
        assert!(matches!(
            outcome(pod.clone(), json!({"spec": {"X(hostNetwork)": "null"}})),
            PatternOutcome::Fail { .. }
        ));
        assert_eq!(
            outcome(pod.clone(), json!({"spec": {"X(hostPID)": "null"}})),
            PatternOutcome::Pass
        );
        // existence anchor: at least one element
        assert_eq!(
            outcome(
                pod.clone(),
                json!({"spec": {"^(containers)": [{"image": "nginx"}]}})
            ),
            PatternOutcome::Pass
        );
        assert!(matches!(
            outcome(
                pod.clone(),
                json!({"spec": {"^(containers)": [{"image": "redis"}]}})
            ),
            PatternOutcome::Fail { .. }
        ));
        // global anchor: the whole rule is skipped
        assert!(matches!(
            outcome(
                pod.clone(),
                json!({"spec": {"containers": [{"<(image)": "redis", "name": "x"}]}})
            ),
            PatternOutcome::Skip { .. }
        ));
        // conditional anchors inside list elements skip those elements
        assert_eq!(
            outcome(pod, json!({"spec": {"containers": [{"(name)": "b", "image": "redis"}]}})),
            PatternOutcome::Skip {
                message: "conditional anchor mismatch: resource value `a` does not match `b` at path `/spec/containers/0/name/`".to_string()
            }
        );
    }

    #[test]
    fn quantities_and_durations() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("1Ki"), Some(1024.0));
        assert_eq!(parse_quantity("2e3"), Some(2000.0));
        assert_eq!(parse_quantity("abc"), None);
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(format_go_duration(5400.0), "1h30m0s");
        assert_eq!(format_go_duration(1.5), "1.5s");
        assert_eq!(format_go_duration(0.5), "500ms");
        assert_eq!(go_exponent_format(1.5), "1.5E+00");
    }
}
