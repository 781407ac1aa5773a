//! Deferred objects: items of JSON `List` dumps kept as compact JSON text, with their identity
//! read at once, and decoded into a `Value` only when something first reads them. A command then
//! pays for a scan of the whole dump but builds `Value`s only for the kinds it looks at (`query`
//! never builds the 100,000 Pods of a big cluster).

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::snapshot::{GroupKind, Object, object_from_value};

/// An object read from a dump whose `Value` is built on first use.
pub struct DeferredObject {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    /// The item without insignificant whitespace; emptied once decoded.
    text: Mutex<Box<str>>,
    object: OnceLock<Object>,
}

impl std::fmt::Debug for DeferredObject {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeferredObject")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("decoded", &self.is_decoded())
            .finish()
    }
}

impl DeferredObject {
    /// The object, decoded now if it was not yet.
    pub fn object(&self) -> &Object {
        self.object.get_or_init(|| self.decode())
    }

    pub fn is_decoded(&self) -> bool {
        self.object.get().is_some()
    }

    fn decode(&self) -> Object {
        let text = match self.text.lock() {
            Ok(mut guard) => std::mem::take(&mut *guard),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        let group_kind = GroupKind::from_api_version(&self.api_version, &self.kind);
        let decoded = if group_kind.group.is_empty() && group_kind.kind == "Pod" {
            super::slim::decode_pod_or_whole(&text)
        } else {
            serde_json::from_str::<Value>(&text)
        };
        // `defer` only keeps items serde_json has already read with the same limits (syntax,
        // depth, escapes, identity), so neither step can fail; should one, the identity is kept
        // and the failure logged.
        let decoded = decoded
            .map_err(|error| error.to_string())
            .and_then(|mut value| {
                if let Value::Object(fields) = &mut value {
                    fields
                        .entry("kind")
                        .or_insert_with(|| Value::String(self.kind.clone()));
                    fields
                        .entry("apiVersion")
                        .or_insert_with(|| Value::String(self.api_version.clone()));
                }
                object_from_value(value).map_err(|error| error.to_string())
            });
        decoded.unwrap_or_else(|error| {
            tracing::error!(
                "cannot decode {} `{}` read earlier: {error}",
                self.kind,
                self.name
            );
            Object {
                api_version: self.api_version.clone(),
                kind: self.kind.clone(),
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                value: serde_json::json!({"apiVersion": self.api_version, "kind": self.kind,
                    "metadata": {"name": self.name, "namespace": self.namespace}}),
            }
        })
    }
}

/// The identity fields of an item, left as raw JSON so absent, `null` and mistyped fields can be
/// told apart (the eager reader reports each differently).
#[derive(Deserialize)]
struct ItemIdentity<'a> {
    #[serde(default, borrow, rename = "apiVersion", deserialize_with = "present")]
    api_version: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    metadata: Option<MetadataIdentity<'a>>,
}

#[derive(Deserialize)]
struct MetadataIdentity<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    name: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    namespace: Option<&'a RawValue>,
}

/// A field that is present, `null` included (`Option` alone would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(deserializer).map(Some)
}

/// A raw JSON string's text; `None` for anything else.
fn string_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
}

/// `Some` when `compact` (one item of a `List` whose items default to `list_item_kind` and
/// `list_api_version`, without whitespace: see `json_list::compact_json`) can be kept for later:
/// a well-formed object of a kind other than Namespace, Secret or ConfigMap (those are needed at
/// once or must be stripped at once). `None` means: decode it now, the eager reader reports any
/// problem with file and field.
pub fn defer(
    compact: String,
    list_item_kind: Option<&str>,
    list_api_version: &str,
) -> Option<DeferredObject> {
    let identity: ItemIdentity<'_> = serde_json::from_str(&compact).ok()?;
    let api_version = match identity.api_version {
        Some(raw) => string_of(raw)?.into_owned(),
        None => {
            list_item_kind?;
            list_api_version.to_string()
        }
    };
    let kind = match identity.kind {
        Some(raw) => string_of(raw)?.into_owned(),
        None => list_item_kind?.to_string(),
    };
    let metadata = identity.metadata?;
    let name = string_of(metadata.name?)?.into_owned();
    let namespace = match metadata.namespace {
        None => None,
        Some(raw) if raw.get() == "null" => None,
        Some(raw) => Some(string_of(raw)?.into_owned()).filter(|namespace| !namespace.is_empty()),
    };
    if api_version.is_empty() || kind.is_empty() || name.is_empty() {
        return None;
    }
    let group_kind = GroupKind::from_api_version(&api_version, &kind);
    if group_kind.group.is_empty() && matches!(kind.as_str(), "Namespace" | "Secret" | "ConfigMap")
    {
        return None;
    }
    Some(DeferredObject {
        api_version,
        kind,
        namespace,
        name,
        text: Mutex::new(compact.into_boxed_str()),
        object: OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::json_list::compact_json;

    fn defer_raw(raw: &str, list_item_kind: Option<&str>) -> Option<DeferredObject> {
        defer(compact_json(raw)?, list_item_kind, "v1")
    }

    #[test]
    fn identity_is_read_now_and_the_value_later() {
        let deferred = defer_raw(
            r#"{"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "a", "managedFields": [{}]},
                "spec": {"replicas": 2}}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            (deferred.kind.as_str(), deferred.name.as_str()),
            ("Deployment", "web")
        );
        assert_eq!(deferred.namespace.as_deref(), Some("a"));
        assert!(!deferred.is_decoded());
        let object = deferred.object();
        assert!(deferred.is_decoded());
        assert_eq!(object.value["spec"]["replicas"], 2);
        assert!(object.value.pointer("/metadata/managedFields").is_none());
    }

    #[test]
    fn list_defaults_fill_kind_and_api_version() {
        let deferred = defer_raw(
            r#"{"metadata": {"name": "web", "namespace": ""}}"#,
            Some("Service"),
        )
        .unwrap();
        assert_eq!(deferred.namespace, None);
        let object = deferred.object();
        assert_eq!(object.value["kind"], "Service");
        assert_eq!(object.value["apiVersion"], "v1");
    }

    #[test]
    fn anything_unusual_is_left_to_the_eager_reader() {
        let cases = [
            (
                r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {}}"#,
                None,
            ),
            (
                r#"{"apiVersion": "v1", "kind": null, "metadata": {"name": "a"}}"#,
                Some("Pod"),
            ),
            (
                r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 3}}"#,
                None,
            ),
            (
                r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": 1}}"#,
                None,
            ),
            (
                r#"{"apiVersion": "v1", "kind": "Pod", "metadata": "a"}"#,
                None,
            ),
            (r#"{"kind": "Pod", "metadata": {"name": "a"}}"#, None),
            (
                r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "data": {}}"#,
                None,
            ),
            (
                r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}"#,
                None,
            ),
            (r#"[1]"#, Some("Pod")),
        ];
        for (raw, list_item_kind) in cases {
            assert!(defer_raw(raw, list_item_kind).is_none(), "{raw}");
        }
    }
}
