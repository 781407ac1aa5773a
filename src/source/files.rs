//! The offline source (`--from`): YAML/JSON files, directories, stdin, `v1 List` dumps, snapshots.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::KindsRead;
use super::deferred::defer;
use super::snapshot::{
    Entry, Gap, GapReason, Snapshot, SourceInfo, UnreadObject, object_from_value,
};

/// Where in the input a problem is: file, 1-based document index, field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesError {
    pub file: String,
    pub document: Option<usize>,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for FilesError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "`{}`", self.file)?;
        if let Some(document) = self.document {
            write!(formatter, " document {document}")?;
        }
        if let Some(line) = self.line {
            write!(formatter, " (line {line})")?;
        }
        if let Some(field) = &self.field {
            write!(formatter, " field `{field}`")?;
        }
        write!(formatter, ": {}", self.message)
    }
}

impl std::error::Error for FilesError {}

fn file_error(file: &str, message: impl Into<String>) -> FilesError {
    FilesError {
        file: file.to_string(),
        document: None,
        line: None,
        field: None,
        message: message.into(),
    }
}

/// Reads every path (`-` is stdin) into one Snapshot. Any unreadable input fails the whole read:
/// nothing partial is presented as complete.
pub fn read_paths(paths: &[PathBuf], stdin: &mut dyn Read) -> Result<Snapshot, FilesError> {
    read_paths_keeping(paths, stdin, KindsRead::Every)
}

/// [`read_paths`], keeping whole only the objects of kinds `kinds_read` reads; the items of other
/// kinds in JSON `List` dumps are still checked, counted and their namespaces known.
pub fn read_paths_keeping(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
    kinds_read: KindsRead,
) -> Result<Snapshot, FilesError> {
    read_paths_in(paths, stdin, kinds_read, None)
}

/// [`read_paths_keeping`] for one namespace (`-n`): in JSON `List` dumps, items of other
/// namespaces are skipped before they are decoded (callers still apply
/// [`Snapshot::retain_namespace`], which settles the other inputs).
pub fn read_paths_in(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
    kinds_read: KindsRead,
    namespace: Option<&str>,
) -> Result<Snapshot, FilesError> {
    let inputs = collect_inputs(paths, stdin)?;
    let keep = Keep {
        kinds_read,
        namespace,
    };
    let parsed = parse_in_parallel(&inputs, keep)?;
    let description = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut snapshot = Snapshot::new(SourceInfo {
        kind: "files".to_string(),
        description,
        server_version: None,
        served_kinds: Vec::new(),
    });
    let mut entries = Vec::new();
    // Objects not kept are only counted: one set (no sort) drops the repeats.
    let unread_count = parsed.iter().map(|contents| contents.unread.len()).sum();
    let mut unread: HashSet<UnreadObject> = HashSet::with_capacity(unread_count);
    for contents in parsed {
        entries.extend(contents.objects);
        unread.extend(contents.unread);
        for gap in contents.gaps {
            snapshot.add_gap(gap);
        }
    }
    for entry in sorted_without_repeats(entries) {
        snapshot.insert_entry(entry);
    }
    snapshot.set_unread(unread);
    Ok(snapshot)
}

/// Entries in [`entry_order`], the first of each identity only: the same object twice (a dump
/// and its parts, or two API versions of it) is kept once. Keys are computed once and the order
/// sorted as indices, so entries do not move at every step of the sort.
fn sorted_without_repeats(entries: Vec<Entry>) -> Vec<Entry> {
    let mut keyed: Vec<_> = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| (entry_order(entry), index))
        .collect();
    keyed.sort_unstable();
    keyed.dedup_by(|later, first| later.0 == first.0);
    let order: Vec<usize> = keyed.into_iter().map(|(_, index)| index).collect();
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|index| slots.get_mut(index).and_then(Option::take))
        .collect()
}

/// Sort key without allocation: group, kind, namespace, name.
fn entry_order(entry: &Entry) -> (&str, &str, Option<&str>, &str) {
    let group = entry
        .api_version()
        .rsplit_once('/')
        .map_or("", |(group, _)| group);
    (group, entry.kind(), entry.namespace(), entry.name())
}

/// Files under a directory with a YAML or JSON extension, recursively, in a stable order.
fn collect_directory(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), FilesError> {
    let name = directory.display().to_string();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(|error| file_error(&name, format!("cannot read directory: {error}")))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|file_name| file_name.to_str())
            .is_some_and(|file_name| file_name.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            collect_directory(&entry, files)?;
        } else if matches!(
            entry.extension().and_then(|extension| extension.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(entry);
        }
    }
    Ok(())
}

/// What one input held.
#[derive(Debug, Default)]
struct Contents {
    objects: Vec<Entry>,
    unread: Vec<UnreadObject>,
    gaps: Vec<Gap>,
}

/// What a command keeps of its inputs: the kinds it reads whole and, with `-n`, one namespace.
#[derive(Debug, Clone, Copy)]
struct Keep<'a> {
    kinds_read: KindsRead,
    namespace: Option<&'a str>,
}

/// One input: bytes already read (stdin), or a file read when it is parsed, so a file's bytes
/// live only while it is parsed.
pub enum Input {
    Read(String, Vec<u8>),
    File(PathBuf),
}

impl Input {
    /// The input's name and bytes.
    pub fn load(&self) -> Result<(String, std::borrow::Cow<'_, [u8]>), FilesError> {
        match self {
            Input::Read(name, bytes) => Ok((name.clone(), std::borrow::Cow::Borrowed(bytes))),
            Input::File(path) => {
                let name = path.display().to_string();
                let bytes = std::fs::read(path)
                    .map_err(|error| file_error(&name, format!("cannot read: {error}")))?;
                Ok((name, std::borrow::Cow::Owned(bytes)))
            }
        }
    }

    /// Parses the input; a `List` dump's items are split over `workers` threads. A file is read
    /// into `buffer`, which a worker reuses from file to file (no fresh pages for every file).
    fn parse(
        &self,
        workers: usize,
        buffer: &mut Vec<u8>,
        keep: Keep<'_>,
    ) -> Result<Contents, FilesError> {
        match self {
            Input::Read(name, bytes) => parse_input(name, bytes, workers, keep),
            Input::File(path) => {
                let name = path.display().to_string();
                buffer.clear();
                std::fs::File::open(path)
                    .and_then(|mut file| file.read_to_end(buffer))
                    .map_err(|error| file_error(&name, format!("cannot read: {error}")))?;
                parse_input(&name, buffer, workers, keep)
            }
        }
    }
}

/// The inputs `paths` name, in order: `-` is standard input (read now), directories give their
/// `.yaml`/`.yml`/`.json` files recursively in name order; a missing path is an error.
pub fn collect_inputs(paths: &[PathBuf], stdin: &mut dyn Read) -> Result<Vec<Input>, FilesError> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|error| file_error("-", format!("cannot read standard input: {error}")))?;
            inputs.push(Input::Read("-".to_string(), bytes));
        } else if path.is_dir() {
            let mut files = Vec::new();
            collect_directory(path, &mut files)?;
            inputs.extend(files.into_iter().map(Input::File));
        } else if path.exists() {
            inputs.push(Input::File(path.clone()));
        } else {
            return Err(file_error(
                &path.display().to_string(),
                "no such file or directory",
            ));
        }
    }
    Ok(inputs)
}

/// Parses the inputs on every core, each worker taking the next input when it is done with one
/// (so one slow file does not leave a core idle); a single input is split by items instead.
fn parse_in_parallel(inputs: &[Input], keep: Keep<'_>) -> Result<Vec<Contents>, FilesError> {
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let workers = cores.min(inputs.len());
    if workers <= 1 {
        let mut buffer = Vec::new();
        return inputs
            .iter()
            .map(|input| input.parse(cores, &mut buffer, keep))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parsed: Vec<Vec<(usize, Result<Contents, FilesError>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut parsed = Vec::new();
                    let mut buffer = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(input) = inputs.get(index) else {
                            break;
                        };
                        let result = input.parse(1, &mut buffer, keep);
                        let failed = result.is_err();
                        parsed.push((index, result));
                        if failed {
                            break;
                        }
                    }
                    parsed
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    vec![(
                        0,
                        Err(file_error(
                            "<worker>",
                            "a parser thread stopped unexpectedly",
                        )),
                    )]
                })
            })
            .collect()
    });
    let mut parsed: Vec<(usize, Result<Contents, FilesError>)> =
        parsed.into_iter().flatten().collect();
    // The first failing input in order is the one reported, as a sequential read would.
    parsed.sort_by_key(|(index, _)| *index);
    parsed.into_iter().map(|(_, result)| result).collect()
}

/// Parses one file: JSON when it starts with `{` or `[`, else multi-document YAML.
fn parse_input(
    name: &str,
    bytes: &[u8],
    workers: usize,
    keep: Keep<'_>,
) -> Result<Contents, FilesError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|error| file_error(name, format!("not UTF-8 text: {error}")))?;
    let trimmed = text.trim_start();
    let mut contents = Contents::default();
    if trimmed.starts_with('{')
        && (keep.kinds_read != KindsRead::Every || keep.namespace.is_some())
        && let Some(list) = parse_json_list(name, text)?
    {
        // serde_json checks the whole dump in one pass; items of other namespaces are then
        // skipped, items of kinds not read only counted (see `unread_object`), the others
        // decoded at once on this reader thread (compacted for a later decode when every kind
        // is read).
        add_raw_list(name, list, workers, keep, &mut contents)?;
    } else if trimmed.starts_with('{')
        && let Some(list) = super::json_list::split_list(text)
        && let Ok(entries) = split_list_entries(name, list, workers)
    {
        // A problem in an item sends the file to serde_json's reader below, which reports it.
        contents.objects = entries;
    } else if trimmed.starts_with('{')
        && let Some(list) = parse_json_list(name, text)?
    {
        let keep = Keep {
            kinds_read: KindsRead::Every,
            namespace: None,
        };
        add_raw_list(name, list, workers, keep, &mut contents)?;
    } else {
        for document in decode_documents(name, text)? {
            add_document(
                name,
                document.index,
                document.line,
                document.value,
                &mut contents,
            )?;
        }
    }
    Ok(contents)
}

/// The top of a JSON `List` document with its items left undecoded.
#[derive(serde::Deserialize)]
struct RawList<'a> {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default, borrow)]
    items: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// `Some` when the JSON document is a `List`/`*List` with items: those are decoded one by one
/// (Pods slimly, see `slim.rs`), which is much faster than decoding the whole dump at once.
fn parse_json_list<'a>(name: &str, text: &'a str) -> Result<Option<RawList<'a>>, FilesError> {
    let list: RawList<'a> = serde_json::from_str(text).map_err(|error| FilesError {
        file: name.to_string(),
        document: None,
        line: Some(error.line() as u64),
        field: None,
        message: format!("invalid JSON: {error}"),
    })?;
    let is_list = list
        .kind
        .as_deref()
        .is_some_and(|kind| kind.ends_with("List"))
        && list.items.is_some();
    Ok(is_list.then_some(list))
}

/// The entries of a `List` split by `json_list::split_list`, items on `workers` threads.
fn split_list_entries(
    name: &str,
    list: super::json_list::SplitList<'_>,
    workers: usize,
) -> Result<Vec<Entry>, FilesError> {
    let api_version = list.api_version.unwrap_or_default();
    let kind = list.kind.unwrap_or_default();
    let item_kind = kind
        .strip_suffix("List")
        .filter(|item_kind| !item_kind.is_empty());
    in_parallel(list.items, workers, |index, item| {
        list_item_entry(name, index, item.raw, item.compact, item_kind, &api_version)
    })
}

/// `entry_of(index, item)` for every item, on up to `workers` threads (fewer for short lists),
/// in order; the first error in order is returned.
fn in_parallel<Item: Send, Output: Send>(
    items: Vec<Item>,
    workers: usize,
    entry_of: impl Fn(usize, Item) -> Result<Output, FilesError> + Sync,
) -> Result<Vec<Output>, FilesError> {
    let workers = workers.min(items.len() / ITEMS_PER_WORKER).max(1);
    if workers == 1 {
        return items
            .into_iter()
            .enumerate()
            .map(|(index, item)| entry_of(index, item))
            .collect();
    }
    let chunk_size = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<Item>> = Vec::new();
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<Item> = items.by_ref().take(chunk_size).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let entry_of = &entry_of;
    let results: Vec<Result<Vec<Output>, FilesError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(chunk, items)| {
                scope.spawn(move || {
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(index, item)| entry_of(chunk * chunk_size + index, item))
                        .collect::<Result<Vec<Output>, FilesError>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(file_error(
                        "<worker>",
                        "a parser thread stopped unexpectedly",
                    ))
                })
            })
            .collect()
    });
    let mut outputs = Vec::new();
    for result in results {
        outputs.extend(result?);
    }
    Ok(outputs)
}

/// Items per thread below which a `List` is not split.
const ITEMS_PER_WORKER: usize = 2048;

fn add_raw_list(
    name: &str,
    list: RawList<'_>,
    workers: usize,
    keep: Keep<'_>,
    contents: &mut Contents,
) -> Result<(), FilesError> {
    let kinds_read = keep.kinds_read;
    let kind = list.kind.unwrap_or_default();
    let api_version = list.api_version.unwrap_or_default();
    let item_kind = kind
        .strip_suffix("List")
        .filter(|item_kind| !item_kind.is_empty());
    let items = list.items.unwrap_or_default();
    let entries = in_parallel(items, workers, |index, raw| {
        let raw = raw.get();
        // The identity is scanned once, for the namespace and for the kind.
        let identity = (keep.namespace.is_some() || kinds_read != KindsRead::Every)
            .then(|| super::json_list::raw_identity(raw))
            .flatten();
        if let (Some(namespace), Some(own)) = (
            keep.namespace,
            identity.as_ref().and_then(|identity| identity.namespace),
        ) && !own.is_empty()
            && own != namespace
        {
            return Ok(ListEntry::Skipped);
        }
        if let Some(unread) = identity
            .and_then(|identity| unread_object(identity, item_kind, &api_version, kinds_read))
        {
            return Ok(ListEntry::Unread(unread));
        }
        // A command that leaves kinds unread reads the few it keeps: they are decoded now, on
        // this reader thread, rather than compacted and decoded again later.
        let compact = match kinds_read {
            KindsRead::Every => super::json_list::compact_json(raw),
            KindsRead::AllButWorkloads => None,
        };
        list_item_entry(name, index, raw, compact, item_kind, &api_version).map(ListEntry::Kept)
    })?;
    for entry in entries {
        match entry {
            ListEntry::Kept(entry) => contents.objects.push(entry),
            ListEntry::Unread(unread) => contents.unread.push(unread),
            ListEntry::Skipped => {}
        }
    }
    Ok(())
}

/// One item of a `List` dump: kept, only counted, or skipped (another namespace).
enum ListEntry {
    Kept(Entry),
    Unread(UnreadObject),
    Skipped,
}

/// `Some` when the item whose `identity` was scanned (an item serde_json has checked) is of a
/// kind `kinds_read` does not read, with a plain identity. Anything unusual returns `None`: the
/// item then takes the full path, which reports any problem with file and field.
fn unread_object(
    identity: super::json_list::RawIdentity<'_>,
    list_item_kind: Option<&str>,
    list_api_version: &str,
    kinds_read: KindsRead,
) -> Option<UnreadObject> {
    if kinds_read == KindsRead::Every {
        return None;
    }
    let api_version = match identity.api_version {
        Some(api_version) => api_version,
        None => {
            list_item_kind?;
            list_api_version
        }
    };
    let kind = identity.kind.or(list_item_kind)?;
    let name = identity.name.filter(|name| !name.is_empty())?;
    if api_version.is_empty() || kind.is_empty() {
        return None;
    }
    let group = api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group);
    if kinds_read.reads(group, kind) {
        return None;
    }
    let namespace = identity.namespace.filter(|namespace| !namespace.is_empty());
    Some(UnreadObject::new(group, kind, namespace, name))
}

/// One item of a JSON `List`: deferred when it is a well-formed object (see `deferred.rs`),
/// else decoded now so that a problem is reported with file and field.
fn list_item_entry(
    name: &str,
    index: usize,
    raw: &str,
    compact: Option<String>,
    item_kind: Option<&str>,
    api_version: &str,
) -> Result<Entry, FilesError> {
    if let Some(deferred) = compact.and_then(|compact| defer(compact, item_kind, api_version)) {
        return Ok(Entry::Deferred(Box::new(deferred)));
    }
    let located = |message: String| FilesError {
        file: name.to_string(),
        document: Some(1),
        line: None,
        field: Some(format!("items[{index}]")),
        message,
    };
    let mut item = super::slim::decode_item(raw, item_kind)
        .map_err(|error| located(format!("invalid item: {error}")))?;
    if let (Some(item_kind), Value::Object(fields)) = (item_kind, &mut item) {
        fields
            .entry("kind")
            .or_insert_with(|| Value::String(item_kind.to_string()));
        fields
            .entry("apiVersion")
            .or_insert_with(|| Value::String(api_version.to_string()));
    }
    let object = object_from_value(item).map_err(|error| located(error.to_string()))?;
    Ok(Entry::Decoded(Box::new(object)))
}

/// One decoded document of an input, with where it starts.
pub struct Document {
    /// 1-based index in the stream (JSON arrays: the element index).
    pub index: usize,
    /// First line of a YAML document.
    pub line: Option<usize>,
    pub value: Value,
}

/// Decodes `text`: JSON when it starts with `{` or `[` (an array's elements are documents),
/// else multi-document YAML; empty documents are skipped but keep their index.
pub fn decode_documents(name: &str, text: &str) -> Result<Vec<Document>, FilesError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let value: Value = serde_json::from_str(text).map_err(|error| FilesError {
            file: name.to_string(),
            document: None,
            line: Some(error.line() as u64),
            field: None,
            message: format!("invalid JSON: {error}"),
        })?;
        let values = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        return Ok(values
            .into_iter()
            .enumerate()
            .map(|(index, value)| Document {
                index: index + 1,
                line: None,
                value,
            })
            .collect());
    }
    let mut documents = Vec::new();
    for (index, (first_line, chunk)) in split_yaml_documents(text).into_iter().enumerate() {
        if is_blank_yaml(chunk) {
            continue;
        }
        let value: Value = serde_saphyr::from_str(chunk).map_err(|error| FilesError {
            file: name.to_string(),
            document: Some(index + 1),
            line: error
                .location()
                .map(|location| location.line() + first_line as u64 - 1),
            field: None,
            message: format!(
                "invalid YAML: {}",
                first_line_of(&error.without_snippet().to_string())
            ),
        })?;
        if !value.is_null() {
            documents.push(Document {
                index: index + 1,
                line: Some(first_line),
                value,
            });
        }
    }
    Ok(documents)
}

/// A list item's index (`None` for a plain document) and its value.
pub type ListItem = (Option<usize>, Value);

/// A document's objects: the document itself, or the items of a `List`/`*List` with their
/// `kind`/`apiVersion` filled in from the list. The error names the field (`items`).
pub fn list_items(value: Value) -> Result<Vec<ListItem>, (String, String)> {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !(kind == "List" || (kind.ends_with("List") && value.get("items").is_some())) {
        return Ok(vec![(None, value)]);
    }
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut value = value;
    let items = match value
        .as_object_mut()
        .and_then(|fields| fields.remove("items"))
    {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(("items".to_string(), "must be a list".to_string())),
    };
    let item_kind = kind
        .strip_suffix("List")
        .filter(|item_kind| !item_kind.is_empty());
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(index, mut item)| {
            if let (Some(item_kind), Value::Object(fields)) = (item_kind, &mut item) {
                fields
                    .entry("kind")
                    .or_insert_with(|| Value::String(item_kind.to_string()));
                fields
                    .entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
            }
            (Some(index), item)
        })
        .collect())
}

fn first_line_of(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// Splits a YAML stream at `---` lines, keeping each document's first line number (1-based).
fn split_yaml_documents(text: &str) -> Vec<(usize, &str)> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (line_index, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end();
        if content == "---" || content.starts_with("--- ") {
            documents.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = line_index + 2;
        }
        offset += line.len();
    }
    documents.push((start_line, &text[start..]));
    documents
}

fn is_blank_yaml(chunk: &str) -> bool {
    chunk.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "..."
    })
}

/// Adds one decoded document: an object, a `List` of objects, or a potoo snapshot.
fn add_document(
    name: &str,
    document: usize,
    line: Option<usize>,
    value: Value,
    contents: &mut Contents,
) -> Result<(), FilesError> {
    let located = |field: Option<String>, message: String| FilesError {
        file: name.to_string(),
        document: Some(document),
        line: line.map(|line| line as u64),
        field,
        message,
    };
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if api_version.starts_with("potoo.dev/") && kind == "Snapshot" {
        return add_snapshot_document(value, contents, &located);
    }
    let items = list_items(value).map_err(|(field, message)| located(Some(field), message))?;
    contents.objects.reserve(items.len());
    for (item, value) in items {
        let object = object_from_value(value).map_err(|error| {
            located(
                item.map(|index| format!("items[{index}]")),
                error.to_string(),
            )
        })?;
        contents.objects.push(Entry::Decoded(Box::new(object)));
    }
    Ok(())
}

/// A file written by `potoo snapshot`: `{apiVersion: potoo.dev/v1alpha1, kind: Snapshot, objects, gaps}`.
fn add_snapshot_document(
    value: Value,
    contents: &mut Contents,
    located: &dyn Fn(Option<String>, String) -> FilesError,
) -> Result<(), FilesError> {
    let mut value = value;
    let objects = match value
        .as_object_mut()
        .and_then(|fields| fields.remove("objects"))
    {
        Some(Value::Array(objects)) => objects,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(located(
                Some("objects".to_string()),
                "must be a list".to_string(),
            ));
        }
    };
    for (index, item) in objects.into_iter().enumerate() {
        let object = object_from_value(item)
            .map_err(|error| located(Some(format!("objects[{index}]")), error.to_string()))?;
        contents.objects.push(Entry::Decoded(Box::new(object)));
    }
    if let Some(Value::Array(gaps)) = value.get("gaps") {
        for (index, gap) in gaps.iter().enumerate() {
            let field = |name: &str| gap.get(name).and_then(Value::as_str).map(str::to_string);
            let reason = match field("reason").as_deref() {
                Some("forbidden") => GapReason::Forbidden,
                Some("notFound") => GapReason::NotFound,
                Some("timeout") => GapReason::Timeout,
                Some("unauthorized") => GapReason::Unauthorized,
                Some("error") => GapReason::Error,
                _ => {
                    return Err(located(
                        Some(format!("gaps[{index}].reason")),
                        "must be forbidden, notFound, timeout, unauthorized or error".to_string(),
                    ));
                }
            };
            contents.gaps.push(Gap {
                resource: field("resource").unwrap_or_default(),
                kind: field("kind").unwrap_or_default(),
                namespace: field("namespace"),
                reason,
                message: field("message").unwrap_or_default(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Snapshot, FilesError> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("input.yaml");
        std::fs::write(&path, text).unwrap();
        read_paths(&[path], &mut std::io::empty()).map_err(|mut error| {
            error.file = "input.yaml".to_string();
            error
        })
    }

    #[test]
    fn multi_document_yaml_with_empty_documents() {
        let snapshot = read_text(
            "# leading comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\n",
        )
        .unwrap();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(snapshot.of_kind("", "Pod").count(), 1);
    }

    #[test]
    fn kubectl_list_output_and_typed_lists() {
        let snapshot = read_text(
            r#"{"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a"}}]}"#,
        )
        .unwrap();
        assert_eq!(snapshot.len(), 2);
        let typed = read_text(
            r#"{"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "p", "namespace": "a"}}]}"#,
        )
        .unwrap();
        assert_eq!(typed.of_kind("", "Pod").count(), 1);
    }

    #[test]
    fn errors_name_file_document_and_field() {
        let error = read_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: {}\n")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`input.yaml` document 2 (line 6): missing field `metadata.name`"
        );
        let list_error = read_text(r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {}}]}"#)
            .unwrap_err();
        assert_eq!(
            list_error.to_string(),
            "`input.yaml` document 1 field `items[0]`: missing field `metadata.name`"
        );
    }

    #[test]
    fn yaml_syntax_errors_give_the_absolute_line() {
        let error = read_text(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: [Pod\n",
        )
        .unwrap_err();
        assert_eq!(error.document, Some(2));
        assert!(error.line.is_some_and(|line| line >= 7), "{error}");
        assert!(error.message.starts_with("invalid YAML"), "{error}");
    }

    #[test]
    fn directories_are_read_recursively_and_missing_paths_fail() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir(directory.path().join("nested")).unwrap();
        std::fs::write(
            directory.path().join("a.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        )
        .unwrap();
        std::fs::write(
            directory.path().join("nested/b.json"),
            r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}"#,
        )
        .unwrap();
        std::fs::write(directory.path().join("notes.txt"), "ignored").unwrap();
        let snapshot =
            read_paths(&[directory.path().to_path_buf()], &mut std::io::empty()).unwrap();
        assert_eq!(
            snapshot.namespace_names(),
            vec!["a".to_string(), "b".to_string()]
        );
        let missing = read_paths(
            &[directory.path().join("absent.yaml")],
            &mut std::io::empty(),
        )
        .unwrap_err();
        assert!(missing.to_string().ends_with("no such file or directory"));
    }

    #[test]
    fn stdin_is_read_for_dash() {
        let mut input =
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-stdin\n".as_bytes();
        let snapshot = read_paths(&[PathBuf::from("-")], &mut input).unwrap();
        assert!(snapshot.namespace("from-stdin").is_some());
    }

    #[test]
    fn snapshot_files_keep_their_gaps() {
        let snapshot = read_text(
            r#"{"apiVersion": "potoo.dev/v1alpha1", "kind": "Snapshot",
                "objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}],
                "gaps": [{"resource": "admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                          "kind": "ValidatingWebhookConfiguration", "reason": "forbidden", "message": "denied"}]}"#,
        )
        .unwrap();
        assert!(snapshot.is_incomplete());
        assert_eq!(snapshot.gaps[0].reason, GapReason::Forbidden);
    }
}
