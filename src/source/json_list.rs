//! A one-pass reader of JSON `List` dumps: finds the list's `kind`, `apiVersion` and items and
//! copies each item without insignificant whitespace, in a single scan of the file. It only
//! delimits: serde_json reads every compact item afterwards (which checks its syntax), and any
//! surprise at the top level returns `None` so the caller falls back to serde_json's reader,
//! which reports the problem with its line.

use std::borrow::Cow;

use serde::de::IgnoredAny;

/// Nesting at or above which an item is left whole (decoded at once by the caller): serde_json
/// refuses 128 levels, and a deferred item must decode later without fail.
pub const MAX_COMPACT_DEPTH: usize = 100;

/// The top of a `List` document and its items.
pub struct SplitList<'a> {
    pub kind: Option<String>,
    pub api_version: Option<String>,
    pub items: Vec<ListItemText<'a>>,
}

/// One item: its text as written, and without whitespace unless it is nested deeper than
/// [`MAX_COMPACT_DEPTH`] or holds a `\u` escape (a lone surrogate passes a scan, not a decode).
pub struct ListItemText<'a> {
    pub raw: &'a str,
    pub compact: Option<String>,
}

/// Splits `text` when it is one JSON object with `items` and a `kind` ending in `List`; `None`
/// for anything else, including anything malformed at the top level.
pub fn split_list(text: &str) -> Option<SplitList<'_>> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        index: 0,
    };
    let mut kind: Option<Option<String>> = None;
    let mut api_version: Option<Option<String>> = None;
    let mut items: Option<Vec<ListItemText<'_>>> = None;
    scanner.skip_whitespace();
    scanner.expect(b'{')?;
    scanner.skip_whitespace();
    if scanner.peek() == Some(b'}') {
        return None;
    }
    loop {
        scanner.skip_whitespace();
        let key_start = scanner.index;
        scanner.skip_string()?;
        let key: Cow<'_, str> = serde_json::from_str(text.get(key_start..scanner.index)?).ok()?;
        scanner.skip_whitespace();
        scanner.expect(b':')?;
        scanner.skip_whitespace();
        match key.as_ref() {
            "items" if items.is_none() => items = Some(scanner.items(text)?),
            "kind" if kind.is_none() => kind = Some(scanner.string_or_null(text)?),
            "apiVersion" if api_version.is_none() => {
                api_version = Some(scanner.string_or_null(text)?);
            }
            "items" | "kind" | "apiVersion" => return None,
            _ => {
                let start = scanner.index;
                scanner.skip_value()?;
                serde_json::from_str::<IgnoredAny>(text.get(start..scanner.index)?).ok()?;
            }
        }
        scanner.skip_whitespace();
        match scanner.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    scanner.skip_whitespace();
    if scanner.index != scanner.bytes.len() {
        return None;
    }
    let kind = kind.flatten();
    if !kind.as_deref().is_some_and(|kind| kind.ends_with("List")) {
        return None;
    }
    Some(SplitList {
        kind,
        api_version: api_version.flatten(),
        items: items?,
    })
}

/// `raw` (one JSON value) without insignificant whitespace; `None` when it is nested deeper than
/// [`MAX_COMPACT_DEPTH`], holds a `\u` escape, or is not one value.
pub fn compact_json(raw: &str) -> Option<String> {
    let mut scanner = Scanner {
        bytes: raw.as_bytes(),
        index: 0,
    };
    scanner.skip_whitespace();
    let mut compact = Vec::with_capacity(raw.len());
    let compact = scanner.compact_value(&mut compact)?;
    scanner.skip_whitespace();
    (scanner.index == scanner.bytes.len()).then_some(compact)
}

/// The identity of one `List` item as written: `apiVersion`, `kind`, `metadata.namespace` and
/// `metadata.name`, each `None` when absent (a `null` namespace too). For text serde_json has
/// already read; `None` when a field is anything but a plain string (an escape, `null`, another
/// type) or appears twice, so that the caller takes its full path and reports any problem there.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RawIdentity<'a> {
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// Reads [`RawIdentity`] from one item without building anything: the item's top-level keys
/// are walked until `apiVersion`, `kind` and `metadata` have been seen.
pub fn raw_identity(raw: &str) -> Option<RawIdentity<'_>> {
    let mut scanner = Scanner {
        bytes: raw.as_bytes(),
        index: 0,
    };
    let mut identity = RawIdentity::default();
    let mut seen_metadata = false;
    scanner.skip_whitespace();
    let mut keys = scanner.object_keys()?;
    while let Some(key) = keys.next_key(&mut scanner)? {
        match key {
            "apiVersion" if identity.api_version.is_none() => {
                identity.api_version = Some(scanner.plain_string(raw)?);
            }
            "kind" if identity.kind.is_none() => identity.kind = Some(scanner.plain_string(raw)?),
            "metadata" if !seen_metadata => {
                seen_metadata = true;
                let mut metadata_keys = scanner.object_keys()?;
                while let Some(key) = metadata_keys.next_key(&mut scanner)? {
                    match key {
                        "name" if identity.name.is_none() => {
                            identity.name = Some(scanner.plain_string(raw)?);
                        }
                        "namespace" if identity.namespace.is_none() => {
                            if scanner.bytes.get(scanner.index..scanner.index + 4) == Some(b"null")
                            {
                                scanner.index += 4;
                            } else {
                                identity.namespace = Some(scanner.plain_string(raw)?);
                            }
                        }
                        "name" | "namespace" => return None,
                        _ => scanner.skip_value()?,
                    }
                    let complete = identity.api_version.is_some()
                        && identity.kind.is_some()
                        && identity.name.is_some()
                        && identity.namespace.is_some();
                    if complete {
                        // Nothing else is needed: the rest was checked by serde_json.
                        return Some(identity);
                    }
                }
            }
            "apiVersion" | "kind" | "metadata" => return None,
            _ => scanner.skip_value()?,
        }
        if identity.api_version.is_some() && identity.kind.is_some() && seen_metadata {
            break;
        }
    }
    Some(identity)
}

/// Walks the keys of one JSON object, leaving the scanner at each key's value.
struct ObjectKeys {
    first: bool,
    done: bool,
}

impl ObjectKeys {
    /// The next key (`Ok(None)` at the end of the object), or `None` for anything unexpected.
    fn next_key<'a>(&mut self, scanner: &mut Scanner<'a>) -> Option<Option<&'a str>> {
        if self.done {
            return Some(None);
        }
        scanner.skip_whitespace();
        if !self.first {
            match scanner.next()? {
                b',' => scanner.skip_whitespace(),
                b'}' => {
                    self.done = true;
                    return Some(None);
                }
                _ => return None,
            }
        }
        self.first = false;
        let bytes = scanner.bytes;
        let key = scanner.plain_string_bytes()?;
        scanner.skip_whitespace();
        scanner.expect(b':')?;
        scanner.skip_whitespace();
        std::str::from_utf8(bytes.get(key)?).ok().map(Some)
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    index: usize,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// Bytes that end a number or literal.
fn is_delimiter(byte: u8) -> bool {
    DELIMITERS[usize::from(byte)]
}

const DELIMITERS: [bool; 256] = {
    let mut table = [false; 256];
    let delimiters = *b" \n\r\t\"{}[],:";
    let mut index = 0;
    while index < delimiters.len() {
        table[delimiters[index] as usize] = true;
        index += 1;
    }
    table
};

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.index).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.index += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next()? == wanted).then_some(())
    }

    fn skip_whitespace(&mut self) {
        // Indentation comes in long runs of spaces: skip eight at a time.
        while self
            .bytes
            .get(self.index..self.index + 8)
            .is_some_and(|run| run == b"        ")
        {
            self.index += 8;
        }
        while self.peek().is_some_and(is_whitespace) {
            self.index += 1;
        }
    }

    /// At a `"`: moves past the closing quote. Returns whether the string holds a `\u` escape.
    fn skip_string(&mut self) -> Option<bool> {
        self.expect(b'"')?;
        let mut unicode_escape = false;
        loop {
            let rest = self.bytes.get(self.index..)?;
            let offset = rest
                .iter()
                .position(|byte| *byte == b'"' || *byte == b'\\')?;
            self.index += offset;
            if self.next()? == b'"' {
                return Some(unicode_escape);
            }
            unicode_escape |= self.next()? == b'u';
        }
    }

    fn skip_scalar(&mut self) {
        while self.peek().is_some_and(|byte| !is_delimiter(byte)) {
            self.index += 1;
        }
    }

    /// Moves past one value (no checks inside it: serde_json reads it afterwards).
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                byte if is_whitespace(byte) => self.skip_whitespace(),
                b'"' => {
                    self.skip_string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.index += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.index += 1;
                }
                b',' | b':' => {
                    if depth == 0 {
                        return None;
                    }
                    self.index += 1;
                }
                _ => {
                    let start = self.index;
                    self.skip_scalar();
                    if self.index == start {
                        return None;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }

    /// At `{`: a walk over the object's keys (an empty object has none).
    fn object_keys(&mut self) -> Option<ObjectKeys> {
        self.expect(b'{')?;
        self.skip_whitespace();
        let empty = self.peek() == Some(b'}');
        if empty {
            self.index += 1;
        }
        Some(ObjectKeys {
            first: true,
            done: empty,
        })
    }

    /// At `"`: the range of a string's contents, `None` when it holds any escape.
    fn plain_string_bytes(&mut self) -> Option<std::ops::Range<usize>> {
        self.expect(b'"')?;
        let start = self.index;
        let offset = self
            .bytes
            .get(start..)?
            .iter()
            .position(|byte| *byte == b'"' || *byte == b'\\')?;
        if self.bytes.get(start + offset) != Some(&b'"') {
            return None;
        }
        self.index = start + offset + 1;
        Some(start..start + offset)
    }

    /// A string value without escapes.
    fn plain_string<'a>(&mut self, text: &'a str) -> Option<&'a str> {
        let range = self.plain_string_bytes()?;
        text.get(range)
    }

    /// A string or `null` value.
    fn string_or_null(&mut self, text: &str) -> Option<Option<String>> {
        let start = self.index;
        self.skip_value()?;
        serde_json::from_str(text.get(start..self.index)?).ok()
    }

    /// At `[`: the items of the array, each with its compact copy.
    fn items<'a>(&mut self, text: &'a str) -> Option<Vec<ListItemText<'a>>> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        let mut scratch = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.index += 1;
            return Some(items);
        }
        loop {
            self.skip_whitespace();
            let start = self.index;
            let compact = self.compact_value(&mut scratch);
            if compact.is_none() {
                self.index = start;
                self.skip_value()?;
            }
            items.push(ListItemText {
                raw: text.get(start..self.index)?,
                compact,
            });
            self.skip_whitespace();
            match self.next()? {
                b',' => continue,
                b']' => return Some(items),
                _ => return None,
            }
        }
    }

    /// Copies one value without whitespace; `None` (position unspecified) when it cannot be
    /// compacted: too deep, a `\u` escape, or not one value.
    fn compact_value(&mut self, compact: &mut Vec<u8>) -> Option<String> {
        compact.clear();
        let bytes = self.bytes;
        let mut index = self.index;
        let mut depth = 0usize;
        loop {
            let mut byte = *bytes.get(index)?;
            let after_whitespace = is_whitespace(byte);
            if after_whitespace {
                // Indentation comes in long runs of spaces: skip eight at a time.
                index += 1;
                while bytes
                    .get(index..index + 8)
                    .is_some_and(|run| run == b"        ")
                {
                    index += 8;
                }
                while bytes.get(index).copied().is_some_and(is_whitespace) {
                    index += 1;
                }
                byte = *bytes.get(index)?;
            }
            match byte {
                b'"' => {
                    let start = index;
                    index += 1;
                    loop {
                        let offset = bytes
                            .get(index..)?
                            .iter()
                            .position(|byte| *byte == b'"' || *byte == b'\\')?;
                        index += offset;
                        if bytes.get(index) == Some(&b'"') {
                            index += 1;
                            break;
                        }
                        if bytes.get(index + 1) == Some(&b'u') {
                            return None;
                        }
                        index += 2;
                    }
                    compact.extend_from_slice(bytes.get(start..index)?);
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth >= MAX_COMPACT_DEPTH {
                        return None;
                    }
                    compact.push(byte);
                    index += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    compact.push(byte);
                    index += 1;
                }
                b',' | b':' => {
                    if depth == 0 {
                        return None;
                    }
                    compact.push(byte);
                    index += 1;
                }
                _ => {
                    // Whitespace between two literals (`tr ue`, `1 2`) is kept so that the
                    // compact copy stays exactly as invalid as the original.
                    if after_whitespace && compact.last().is_some_and(|last| !is_delimiter(*last)) {
                        compact.push(b' ');
                    }
                    let start = index;
                    while bytes.get(index).is_some_and(|byte| !is_delimiter(*byte)) {
                        index += 1;
                    }
                    compact.extend_from_slice(bytes.get(start..index)?);
                }
            }
            if depth == 0 {
                self.index = index;
                return std::str::from_utf8(compact).ok().map(str::to_string);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn raw_identity_reads_plain_fields_and_refuses_anything_else() {
        let identity = |api_version, kind, namespace, name| RawIdentity {
            api_version,
            kind,
            namespace,
            name,
        };
        let cases = [
            (
                r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}, "spec": {}}"#,
                Some(identity(Some("v1"), Some("Pod"), Some("x"), Some("a"))),
            ),
            (
                r#"{ "spec": {"a": [1, {"kind": "no"}]}, "metadata" : { "labels": {"name": "no"}, "name" : "a" } }"#,
                Some(identity(None, None, None, Some("a"))),
            ),
            (
                r#"{"kind": "Pod", "metadata": {"namespace": null, "name": "a"}}"#,
                Some(identity(None, Some("Pod"), None, Some("a"))),
            ),
            ("{}", Some(identity(None, None, None, None))),
            (
                r#"{"metadata": {}}"#,
                Some(identity(None, None, None, None)),
            ),
            // Anything unusual is left to the full reader.
            (r#"{"kind": "P\u006fd", "metadata": {"name": "a"}}"#, None),
            (r#"{"kind": null, "metadata": {"name": "a"}}"#, None),
            (r#"{"kind": "Pod", "metadata": {"name": 3}}"#, None),
            (
                r#"{"kind": "Pod", "kind": "Job", "metadata": {"name": "a"}}"#,
                None,
            ),
            (
                r#"{"kind": "Pod", "metadata": {"name": "a", "name": "b"}}"#,
                None,
            ),
            (r#"{"kind": "Pod", "metadata": null}"#, None),
            (r#"["kind", "Pod"]"#, None),
        ];
        for (raw, expected) in cases {
            assert_eq!(raw_identity(raw), expected, "{raw}");
        }
    }

    #[test]
    fn compact_copies_drop_only_insignificant_whitespace() {
        let raw = "{\n    \"a\": [1, 2.5e3, true, null],\n    \"b c\": \"x \\\" y\\\\\",\n    \"d\": {}\n}";
        let compact = compact_json(raw).unwrap();
        assert_eq!(
            compact,
            r#"{"a":[1,2.5e3,true,null],"b c":"x \" y\\","d":{}}"#
        );
        let original: Value = serde_json::from_str(raw).unwrap();
        let again: Value = serde_json::from_str(&compact).unwrap();
        assert_eq!(original, again);
    }

    #[test]
    fn invalid_json_stays_invalid() {
        for raw in [r#"{"a": tr ue}"#, r#"[1 2]"#, r#"{"a": 1 "b": 2}"#] {
            let compact = compact_json(raw).unwrap();
            assert!(
                serde_json::from_str::<Value>(&compact).is_err(),
                "{compact}"
            );
        }
    }

    #[test]
    fn deep_items_and_unicode_escapes_are_left_whole() {
        assert!(compact_json(r#"{"a": "\u0026"}"#).is_none());
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_COMPACT_DEPTH),
            "]".repeat(MAX_COMPACT_DEPTH)
        );
        assert!(compact_json(&deep).is_none());
        let shallow = format!("{}{}", "[".repeat(10), "]".repeat(10));
        assert_eq!(compact_json(&shallow).unwrap(), shallow);
        let text =
            format!(r#"{{"kind": "List", "items": [{deep}, {{"a": "\u0026"}}, {{"b": 1}}]}}"#);
        let list = split_list(&text).unwrap();
        let compact: Vec<Option<&str>> = list
            .items
            .iter()
            .map(|item| item.compact.as_deref())
            .collect();
        assert_eq!(compact, vec![None, None, Some(r#"{"b":1}"#)]);
        assert_eq!(list.items[1].raw, r#"{"a": "\u0026"}"#);
    }

    #[test]
    fn lists_are_split_with_their_kind_and_api_version() {
        let list = split_list(
            "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"kind\": \"Pod\"},\n    {\"kind\": \"Service\"}\n  ],\n  \"kind\": \"List\",\n  \"metadata\": {\"resourceVersion\": \"\"}\n}\n",
        )
        .unwrap();
        assert_eq!(list.kind.as_deref(), Some("List"));
        assert_eq!(list.api_version.as_deref(), Some("v1"));
        let raw: Vec<&str> = list.items.iter().map(|item| item.raw).collect();
        assert_eq!(raw, vec![r#"{"kind": "Pod"}"#, r#"{"kind": "Service"}"#]);
    }

    #[test]
    fn anything_else_is_left_to_serde_json() {
        for text in [
            r#"{"kind": "Pod", "metadata": {"name": "a"}}"#,
            r#"{"kind": "List"}"#,
            r#"{"kind": "List", "items": [], "kind": "List"}"#,
            r#"{"kind": "List", "items": [1,]}"#,
            r#"{"kind": "List", "items": [], "metadata": {"a": tru}}"#,
            r#"{"kind": "List", "items": []} trailing"#,
            r#"{"kind": "List", "items": [{"a": "unterminated}]}"#,
            r#"{"kind": 3, "items": []}"#,
            r#"[]"#,
            r#"{}"#,
        ] {
            assert!(split_list(text).is_none(), "{text}");
        }
    }
}
