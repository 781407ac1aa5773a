//! Kyverno's cluster and registry lookups (`resource.Get`, `resource.List`, `image.GetMetadata`)
//! answered from data given up front — a Kyverno test's `Context` file — never from the network.
//! Without such data the calls stay unknown ("not available client-side"): potoo does not keep
//! ConfigMap data or ask registries, so guessing an answer would be a silent pass.
//!
//! The compiler rewrites `resource.Get(a, r, ns, n)` into `GET(LOOKUPS, a, r, ns, n)` (and the
//! others alike); `LOOKUPS` is bound only where data was given.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{ExecutionError, Value};
use serde_json::Value as Json;

/// The hidden variable holding the lookup data.
pub const LOOKUPS: &str = "__potoo_lookups";
const GET: &str = "__potoo_resource_get";
const LIST: &str = "__potoo_resource_list";
const IMAGE: &str = "__potoo_image_metadata";

/// The qualified Kyverno functions answered here, and the potoo function each becomes.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("resource.Get", GET),
    ("resource.List", LIST),
    ("image.GetMetadata", IMAGE),
];

pub fn register(context: &mut kube_cel::cel::Context<'_>) {
    context.add_function(GET, get);
    context.add_function(LIST, list);
    context.add_function(IMAGE, image);
}

/// Lookup data: objects (each keyed by its apiVersion, plural resource, namespace and name) and
/// image metadata (keyed by the image reference as written). An object or image given twice is
/// an error naming the second entry (`spec.resources[1]`, `spec.images[1]`), rather than one of
/// them silently hiding the other.
pub fn lookups(objects: &[Json], images: &[(String, Json)]) -> Result<Value, String> {
    let mut resources = HashMap::new();
    for (index, object) in objects.iter().enumerate() {
        let text = |pointer: &str| object.pointer(pointer).and_then(Json::as_str).unwrap_or("");
        let (kind, namespace, name) = (
            text("/kind"),
            text("/metadata/namespace"),
            text("/metadata/name"),
        );
        let key = object_key(
            text("/apiVersion"),
            &super::admission::plural(kind),
            namespace,
            name,
        );
        if resources
            .insert(Key::String(Arc::new(key)), super::to_cel(object))
            .is_some()
        {
            let place = if namespace.is_empty() {
                String::new()
            } else {
                format!(" in namespace `{namespace}`")
            };
            return Err(format!(
                "`spec.resources[{index}]` repeats {kind} `{name}`{place}"
            ));
        }
    }
    let mut metadata = HashMap::new();
    for (index, (reference, entry)) in images.iter().enumerate() {
        if metadata
            .insert(
                Key::String(Arc::new(reference.clone())),
                super::to_cel(entry),
            )
            .is_some()
        {
            return Err(format!(
                "`spec.images[{index}]` repeats image `{reference}`"
            ));
        }
    }
    Ok(map([
        ("resources", map_of(resources)),
        ("images", map_of(metadata)),
    ]))
}

fn object_key(api_version: &str, resource: &str, namespace: &str, name: &str) -> String {
    format!("{api_version}\u{0}{resource}\u{0}{namespace}\u{0}{name}")
}

fn map_of(entries: HashMap<Key, Value>) -> Value {
    Value::Map(Map {
        map: Arc::new(entries),
    })
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    map_of(
        entries
            .into_iter()
            .map(|(key, value)| (Key::String(Arc::new(key.to_string())), value))
            .collect(),
    )
}

/// Marks an error as a form of the call potoo does not evaluate (reported unknown, not failed).
pub const UNSUPPORTED_FORM: &str = "unsupported form: ";

fn unsupported_form(function: &str, detail: String) -> ExecutionError {
    ExecutionError::function_error(function, format!("{UNSUPPORTED_FORM}{detail}"))
}

/// The `resources` or `images` part of the lookup data, and the string arguments after it; any
/// other shape (newer Kyverno forms: label selectors, GVR arguments) is an unsupported form.
fn arguments<'a>(
    function: &str,
    part: &str,
    args: &'a [Value],
    count: usize,
) -> Result<(&'a HashMap<Key, Value>, Vec<&'a str>), ExecutionError> {
    let Some((Value::Map(data), rest)) = args.split_first() else {
        return Err(ExecutionError::function_error(function, "no lookup data"));
    };
    if rest.len() != count {
        return Err(unsupported_form(
            function,
            format!(
                "{} arguments (potoo reads the {count}-argument form)",
                rest.len()
            ),
        ));
    }
    let Some(Value::Map(part)) = data.map.get(&Key::String(Arc::new(part.to_string()))) else {
        return Err(ExecutionError::function_error(function, "no lookup data"));
    };
    let mut strings = Vec::with_capacity(count);
    for argument in rest {
        match argument {
            Value::String(text) => strings.push(text.as_str()),
            other => {
                return Err(unsupported_form(
                    function,
                    format!(
                        "a {} argument (potoo reads string arguments)",
                        super::type_name(other)
                    ),
                ));
            }
        }
    }
    Ok((&part.map, strings))
}

/// `resource.Get(apiVersion, resource, namespace, name)`: the object, or an error as the
/// apiserver's "not found".
fn get(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (resources, strings) = arguments("resource.Get", "resources", &args, 4)?;
    let key = object_key(strings[0], strings[1], strings[2], strings[3]);
    resources
        .get(&Key::String(Arc::new(key)))
        .cloned()
        .ok_or_else(|| {
            ExecutionError::function_error(
                "resource.Get",
                format!(
                    "{} \"{}\" not found (apiVersion `{}`, namespace `{}`)",
                    strings[1], strings[3], strings[0], strings[2]
                ),
            )
        })
}

/// `resource.List(apiVersion, resource, namespace)`: `{items: [...]}` in name order; an empty
/// namespace lists every namespace, as the apiserver does.
fn list(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (resources, strings) = arguments("resource.List", "resources", &args, 3)?;
    let prefix = if strings[2].is_empty() {
        format!("{}\u{0}{}\u{0}", strings[0], strings[1])
    } else {
        format!("{}\u{0}{}\u{0}{}\u{0}", strings[0], strings[1], strings[2])
    };
    let mut found: Vec<(&str, &Value)> = resources
        .iter()
        .filter_map(|(key, value)| match key {
            Key::String(key) if key.starts_with(&prefix) => Some((key.as_str(), value)),
            _ => None,
        })
        .collect();
    found.sort_by(|left, right| left.0.cmp(right.0));
    let items: Vec<Value> = found.into_iter().map(|(_, value)| value.clone()).collect();
    Ok(map([("items", Value::List(Arc::new(items)))]))
}

/// `image.GetMetadata(reference)`: the metadata given for the image, else an error.
fn image(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (images, strings) = arguments("image.GetMetadata", "images", &args, 1)?;
    images
        .get(&Key::String(Arc::new(strings[0].to_string())))
        .cloned()
        .ok_or_else(|| {
            ExecutionError::function_error(
                "image.GetMetadata",
                format!("no metadata for image `{}`", strings[0]),
            )
        })
}
