//! The Snapshot: every object a source read, keyed by kind/namespace/name, plus the gaps.

use std::collections::BTreeMap;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::deferred::DeferredObject;

/// The group and kind of an object (`networking.k8s.io`, `NetworkPolicy`); the core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn new(group: &str, kind: &str) -> GroupKind {
        GroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Splits an `apiVersion` (`apps/v1`, `v1`) into its group (`apps`, ``).
    pub fn from_api_version(api_version: &str, kind: &str) -> GroupKind {
        let group = match api_version.rsplit_once('/') {
            Some((group, _version)) => group,
            None => "",
        };
        GroupKind::new(group, kind)
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            write!(formatter, "{}", self.kind)
        } else {
            write!(formatter, "{}.{}", self.kind, self.group)
        }
    }
}

/// One Kubernetes object as read, with its identity pulled out for indexing.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The whole object; `managedFields` and the last-applied annotation are already stripped.
    pub value: Value,
}

impl Object {
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::from_api_version(&self.api_version, &self.kind)
    }

    pub fn uid(&self) -> Option<&str> {
        self.value.pointer("/metadata/uid").and_then(Value::as_str)
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        string_map(self.value.pointer("/metadata/labels"))
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        string_map(self.value.pointer("/metadata/annotations"))
    }

    /// `spec`, or `null` when absent.
    pub fn spec(&self) -> &Value {
        self.value.get("spec").unwrap_or(&Value::Null)
    }
}

/// Reads a JSON object of strings (labels, annotations) into a map, skipping non-strings.
pub fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(Value::Object(entries)) = value {
        for (key, entry) in entries {
            if let Some(text) = entry.as_str() {
                map.insert(key.clone(), text.to_string());
            }
        }
    }
    map
}

/// Why a kind could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GapReason {
    /// RBAC denied the list (HTTP 403).
    Forbidden,
    /// The server does not serve the kind (HTTP 404) although discovery listed it.
    NotFound,
    /// The request did not finish within `--request-timeout`.
    Timeout,
    /// Authentication failed (HTTP 401).
    Unauthorized,
    /// Any other failure: a broken aggregated API, a 5xx, a decode error.
    Error,
}

/// A kind that could not be read, and why: shown in every output so nothing partial looks complete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gap {
    /// `group/version/resource`, e.g. `admissionregistration.k8s.io/v1/validatingwebhookconfigurations`.
    pub resource: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub reason: GapReason,
    pub message: String,
}

impl Gap {
    /// One line for humans: "cannot read ValidatingWebhookConfigurations (forbidden): ...".
    pub fn describe(&self) -> String {
        let scope = match &self.namespace {
            Some(namespace) => format!(" in namespace `{namespace}`"),
            None => String::new(),
        };
        if self.kind == "APIResourceList" {
            return format!(
                "cannot discover `{}`{} ({}): {}",
                self.resource,
                scope,
                gap_reason_word(self.reason),
                self.message
            );
        }
        let reason = gap_reason_word(self.reason);
        format!(
            "cannot read {}{} ({}): {}",
            plural_kind(&self.kind),
            scope,
            reason,
            self.message
        )
    }
}

fn gap_reason_word(reason: GapReason) -> &'static str {
    match reason {
        GapReason::Forbidden => "forbidden",
        GapReason::NotFound => "not found",
        GapReason::Timeout => "timed out",
        GapReason::Unauthorized => "unauthorized",
        GapReason::Error => "error",
    }
}

fn plural_kind(kind: &str) -> String {
    if kind.ends_with("cy") {
        format!("{}ies", &kind[..kind.len() - 1])
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

/// What a source could say about the cluster beyond objects (used by `status`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// `live` or `files`.
    pub kind: String,
    /// The context or the file paths.
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// Group/kind pairs discovery found served (live), so `status` can say which engines exist
    /// even when their objects could not be listed.
    #[serde(skip)]
    pub served_kinds: Vec<ServedKind>,
}

/// A kind the server serves, as discovery reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedKind {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// One stored object: decoded, or deferred until first read (items of JSON `List` dumps, see
/// `deferred.rs`). Its identity is known either way.
#[derive(Debug)]
pub(crate) enum Entry {
    Decoded(Box<Object>),
    Deferred(Box<DeferredObject>),
}

impl Entry {
    /// The object, decoding it if it was deferred.
    pub(crate) fn object(&self) -> &Object {
        match self {
            Entry::Decoded(object) => object,
            Entry::Deferred(deferred) => deferred.object(),
        }
    }

    pub(crate) fn api_version(&self) -> &str {
        match self {
            Entry::Decoded(object) => &object.api_version,
            Entry::Deferred(deferred) => &deferred.api_version,
        }
    }

    pub(crate) fn kind(&self) -> &str {
        match self {
            Entry::Decoded(object) => &object.kind,
            Entry::Deferred(deferred) => &deferred.kind,
        }
    }

    pub(crate) fn namespace(&self) -> Option<&str> {
        match self {
            Entry::Decoded(object) => object.namespace.as_deref(),
            Entry::Deferred(deferred) => deferred.namespace.as_deref(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            Entry::Decoded(object) => &object.name,
            Entry::Deferred(deferred) => &deferred.name,
        }
    }

    fn group_kind(&self) -> GroupKind {
        GroupKind::from_api_version(self.api_version(), self.kind())
    }

    fn is_pending(&self) -> bool {
        matches!(self, Entry::Deferred(deferred) if !deferred.is_decoded())
    }
}

/// An object of a kind the command does not read (see `KindsRead`): only its identity is kept,
/// so that it is counted and its namespace is known. The identity is one string (group, kind,
/// namespace, name joined by NUL, which no JSON string read plainly holds): one allocation, one
/// hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UnreadObject {
    identity: Box<str>,
}

impl UnreadObject {
    pub(crate) fn new(
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> UnreadObject {
        let namespace = namespace.unwrap_or_default();
        let mut identity =
            String::with_capacity(group.len() + kind.len() + namespace.len() + name.len() + 3);
        for (position, part) in [group, kind, namespace, name].into_iter().enumerate() {
            if position > 0 {
                identity.push('\0');
            }
            identity.push_str(part);
        }
        UnreadObject {
            identity: identity.into_boxed_str(),
        }
    }

    pub(crate) fn namespace(&self) -> Option<&str> {
        self.identity
            .split('\0')
            .nth(2)
            .filter(|namespace| !namespace.is_empty())
    }
}

/// A kind with at least this many undecoded objects is decoded on every core at its first read.
const PARALLEL_DECODE_THRESHOLD: usize = 2048;

/// Everything a source read. Live and offline sources produce the same shape.
#[derive(Debug, Default)]
pub struct Snapshot {
    entries: Vec<Entry>,
    by_kind: HashMap<GroupKind, Vec<usize>>,
    namespaces: HashMap<String, usize>,
    /// Objects read from the input but not kept, without repeats.
    unread: std::collections::HashSet<UnreadObject>,
    pub gaps: Vec<Gap>,
    pub source: SourceInfo,
}

impl Snapshot {
    pub fn new(source: SourceInfo) -> Snapshot {
        Snapshot {
            source,
            ..Snapshot::default()
        }
    }

    /// Adds an object; a later object with the same kind/namespace/name replaces nothing, both are kept
    /// only once (the first wins) so a directory holding a dump and its parts does not double count.
    pub fn insert(&mut self, object: Object) {
        self.insert_entry(Entry::Decoded(Box::new(object)));
    }

    pub(crate) fn insert_entry(&mut self, entry: Entry) {
        let group_kind = entry.group_kind();
        let index = self.entries.len();
        if group_kind.group.is_empty() && group_kind.kind == "Namespace" {
            if self.namespaces.contains_key(entry.name()) {
                return;
            }
            self.namespaces.insert(entry.name().to_string(), index);
        }
        self.by_kind.entry(group_kind).or_default().push(index);
        self.entries.push(entry);
    }

    /// Drops namespaced objects outside `namespace` (cluster-scoped objects stay), as a live read
    /// limited to one namespace would.
    pub fn retain_namespace(&mut self, namespace: &str) {
        let entries = std::mem::take(&mut self.entries);
        self.by_kind.clear();
        self.namespaces.clear();
        for entry in entries {
            if entry.namespace().is_none_or(|own| own == namespace) {
                self.insert_entry(entry);
            }
        }
        self.unread
            .retain(|object| object.namespace().is_none_or(|own| own == namespace));
        self.gaps
            .retain(|gap| gap.namespace.as_deref().is_none_or(|own| own == namespace));
    }

    /// Records objects that were read but not kept.
    pub(crate) fn set_unread(&mut self, unread: std::collections::HashSet<UnreadObject>) {
        self.unread = unread;
    }

    pub fn add_gap(&mut self, gap: Gap) {
        if !self.gaps.contains(&gap) {
            self.gaps.push(gap);
        }
    }

    pub fn is_incomplete(&self) -> bool {
        !self.gaps.is_empty()
    }

    /// Every object (deferred ones are decoded as they are reached).
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.entries.iter().map(Entry::object)
    }

    /// How many objects were read, kept or not.
    pub fn len(&self) -> usize {
        self.entries.len() + self.unread.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn indices(&self, group: &str, kind: &str) -> &[usize] {
        self.by_kind
            .get(&GroupKind::new(group, kind))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// All objects of one group/kind. The first read of a kind with many deferred objects decodes
    /// them on every core.
    pub fn of_kind<'a>(&'a self, group: &str, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        let indices = self.indices(group, kind);
        self.decode_in_parallel(indices);
        indices
            .iter()
            .map(move |index| self.entries[*index].object())
    }

    fn decode_in_parallel(&self, indices: &[usize]) {
        let pending: Vec<&Entry> = indices
            .iter()
            .map(|index| &self.entries[*index])
            .filter(|entry| entry.is_pending())
            .collect();
        if pending.len() < PARALLEL_DECODE_THRESHOLD {
            return;
        }
        let workers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        if workers <= 1 {
            return;
        }
        let chunk_size = pending.len().div_ceil(workers);
        std::thread::scope(|scope| {
            for chunk in pending.chunks(chunk_size) {
                scope.spawn(move || {
                    for entry in chunk {
                        entry.object();
                    }
                });
            }
        });
    }

    /// One object by group, kind, namespace and name (only that one is decoded).
    pub fn find(
        &self,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&Object> {
        self.indices(group, kind)
            .iter()
            .map(|index| &self.entries[*index])
            .find(|entry| entry.name() == name && entry.namespace() == namespace)
            .map(Entry::object)
    }

    /// The group/kinds present, sorted.
    pub fn kinds(&self) -> Vec<GroupKind> {
        let mut kinds: Vec<GroupKind> = self.by_kind.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    pub fn namespace(&self, name: &str) -> Option<&Object> {
        self.namespaces
            .get(name)
            .map(|index| self.entries[*index].object())
    }

    /// Namespace names: those with a Namespace object, plus any namespace an object lives in.
    pub fn namespace_names(&self) -> Vec<String> {
        let mut names: std::collections::BTreeSet<String> =
            self.namespaces.keys().cloned().collect();
        let object_namespaces = self
            .entries
            .iter()
            .map(Entry::namespace)
            .chain(self.unread.iter().map(UnreadObject::namespace));
        for namespace in object_namespaces.flatten() {
            if !names.contains(namespace) {
                names.insert(namespace.to_string());
            }
        }
        names.into_iter().collect()
    }

    /// Labels of a namespace; a namespace known only from its objects has just the
    /// `kubernetes.io/metadata.name` label the apiserver sets on every namespace.
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        let mut labels = self.namespace(name).map(Object::labels).unwrap_or_default();
        labels
            .entry("kubernetes.io/metadata.name".to_string())
            .or_insert_with(|| name.to_string());
        labels
    }
}

/// The `potoo snapshot` document: objects (already stripped of sensitive data) and gaps.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub source: &'a SourceInfo,
    pub incomplete: bool,
    pub gaps: &'a [Gap],
    pub objects: Vec<&'a Value>,
}

impl Snapshot {
    pub fn document(&self) -> SnapshotDocument<'_> {
        SnapshotDocument {
            api_version: "potoo.dev/v1alpha1",
            kind: "Snapshot",
            source: &self.source,
            incomplete: self.is_incomplete(),
            gaps: &self.gaps,
            objects: self.objects().map(|object| &object.value).collect(),
        }
    }
}

/// Removes what must never be kept or printed: `managedFields`, and the last-applied annotation
/// (it can hold a whole Secret manifest, data included).
pub fn strip_sensitive_metadata(value: &mut Value) {
    if let Some(Value::Object(metadata)) = value.get_mut("metadata") {
        metadata.remove("managedFields");
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
}

/// Removes the contents of Secrets and ConfigMaps, keeping only their metadata.
pub fn strip_secret_contents(group_kind: &GroupKind, value: &mut Value) {
    let is_secret_or_config_map = group_kind.group.is_empty()
        && (group_kind.kind == "Secret" || group_kind.kind == "ConfigMap");
    if is_secret_or_config_map && let Value::Object(fields) = value {
        fields.retain(|key, _| {
            matches!(
                key.as_str(),
                "apiVersion" | "kind" | "metadata" | "type" | "immutable"
            )
        });
    }
}

/// Why a document is not a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("document is not a mapping")]
    NotAMapping,
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("field `{0}` must be a non-empty string")]
    NotAString(&'static str),
}

/// Turns a decoded document into an [`Object`], stripping sensitive metadata and Secret/ConfigMap contents.
pub fn object_from_value(mut value: Value) -> Result<Object, ObjectError> {
    if !value.is_object() {
        return Err(ObjectError::NotAMapping);
    }
    let api_version = required_string(&value, "/apiVersion", "apiVersion")?;
    let kind = required_string(&value, "/kind", "kind")?;
    if value.get("metadata").is_none() {
        return Err(ObjectError::MissingField("metadata"));
    }
    let name = required_string(&value, "/metadata/name", "metadata.name")?;
    let namespace = match value.pointer("/metadata/namespace") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(ObjectError::NotAString("metadata.namespace")),
    };
    let group_kind = GroupKind::from_api_version(&api_version, &kind);
    strip_sensitive_metadata(&mut value);
    strip_secret_contents(&group_kind, &mut value);
    Ok(Object {
        api_version,
        kind,
        namespace,
        name,
        value,
    })
}

fn required_string(
    value: &Value,
    pointer: &str,
    field: &'static str,
) -> Result<String, ObjectError> {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Err(ObjectError::MissingField(field)),
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(_) => Err(ObjectError::NotAString(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_identity_is_read_and_last_applied_is_stripped() {
        let object = object_from_value(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "team-a", "managedFields": [{}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
            "spec": {}
        }))
        .unwrap();
        assert_eq!(
            object.group_kind(),
            GroupKind::new("networking.k8s.io", "NetworkPolicy")
        );
        assert_eq!(object.namespace.as_deref(), Some("team-a"));
        assert!(object.value.pointer("/metadata/managedFields").is_none());
        assert!(object.value.pointer("/metadata/annotations").is_none());
    }

    #[test]
    fn secret_data_is_never_kept() {
        let object = object_from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "team-a"},
            "data": {"password": "aHVudGVyMg=="}, "stringData": {"x": "y"}
        }))
        .unwrap();
        assert!(object.value.get("data").is_none());
        assert!(object.value.get("stringData").is_none());
        assert_eq!(object.value["type"], "Opaque");
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let cases = [
            (json!([1]), ObjectError::NotAMapping),
            (
                json!({"kind": "Pod", "metadata": {"name": "a"}}),
                ObjectError::MissingField("apiVersion"),
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
                ObjectError::MissingField("kind"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod"}),
                ObjectError::MissingField("metadata"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}),
                ObjectError::MissingField("metadata.name"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 3}}),
                ObjectError::NotAString("metadata.name"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": 1}}),
                ObjectError::NotAString("metadata.namespace"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(object_from_value(value).unwrap_err(), expected);
        }
    }

    #[test]
    fn unread_objects_keep_their_namespace_and_identity() {
        let pod = UnreadObject::new("", "Pod", Some("team-a"), "web-1");
        assert_eq!(pod.namespace(), Some("team-a"));
        assert_eq!(
            UnreadObject::new("apps", "Deployment", None, "x").namespace(),
            None
        );
        assert_ne!(pod, UnreadObject::new("", "Pod", Some("team-b"), "web-1"));
        assert_eq!(pod, UnreadObject::new("", "Pod", Some("team-a"), "web-1"));
    }

    #[test]
    fn namespaces_known_only_from_objects_get_the_name_label() {
        let mut snapshot = Snapshot::default();
        snapshot.insert(object_from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}})).unwrap());
        assert_eq!(snapshot.namespace_names(), vec!["x".to_string()]);
        assert_eq!(
            snapshot
                .namespace_labels("x")
                .get("kubernetes.io/metadata.name")
                .map(String::as_str),
            Some("x")
        );
    }
}
