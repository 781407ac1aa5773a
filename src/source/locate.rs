//! Field-line location: the 1-based line of a field path (`spec.template.spec.containers[0].securityContext.privileged`)
//! in the YAML text of one manifest document, for results anchored to the offending field.
//!
//! A line scanner over block-style YAML, not a parser: keys are found by indentation, sequence
//! items by their `- ` markers. When a path goes into flow style (`{…}`, `[…]`) or is not in the
//! text (a field the finding says is missing), the deepest part that was found answers; when
//! nothing is found the caller falls back to the document's first line.

/// One logical entry of a line: a sequence-item marker, or a key/value text at an indentation.
#[derive(Debug, Clone)]
struct Entry<'a> {
    /// 1-based line in the whole file.
    line: usize,
    indent: usize,
    /// The text after the indentation (for items: after `- `).
    text: &'a str,
    /// A `- ` marker; its content (if any, on the same line) is the next entry.
    item: bool,
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Splits `a.b[0].c[some.label/key]` into keys and indices (a bracketed non-number is a key).
fn segments(path: &str) -> Vec<Segment> {
    let mut result = Vec::new();
    let mut current = String::new();
    let mut characters = path.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '.' => {
                if !current.is_empty() {
                    result.push(Segment::Key(std::mem::take(&mut current)));
                }
            }
            '[' => {
                if !current.is_empty() {
                    result.push(Segment::Key(std::mem::take(&mut current)));
                }
                let mut inside = String::new();
                for next in characters.by_ref() {
                    if next == ']' {
                        break;
                    }
                    inside.push(next);
                }
                match inside.parse::<usize>() {
                    Ok(index) => result.push(Segment::Index(index)),
                    Err(_) => result.push(Segment::Key(inside)),
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        result.push(Segment::Key(current));
    }
    result
}

/// The entries of the document that starts at `start_line` (1-based) in a file of `lines`, up to
/// the next `---` or `...` marker.
fn entries<'a>(lines: &[&'a str], start_line: usize) -> Vec<Entry<'a>> {
    let mut result = Vec::new();
    let first = start_line.saturating_sub(1).min(lines.len());
    for (offset, &raw) in lines.iter().enumerate().skip(first) {
        let line = offset + 1;
        if line > start_line && (raw.starts_with("---") || raw.starts_with("...")) {
            break;
        }
        if line == start_line && raw.starts_with("---") {
            continue;
        }
        let trimmed = raw.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut rest = trimmed;
        // `- - x` and `- key: v`: every marker is an item, its content an entry further right.
        while rest == "-" || rest.starts_with("- ") {
            result.push(Entry {
                line,
                indent,
                text: "-",
                item: true,
            });
            let after = &rest[1..];
            let content = after.trim_start_matches(' ');
            indent += 1 + after.len() - content.len();
            rest = content;
            if rest.is_empty() {
                break;
            }
        }
        if !rest.is_empty() {
            result.push(Entry {
                line,
                indent,
                text: rest,
                item: false,
            });
        }
    }
    result
}

/// Whether an entry's text is `key:` (the key plain, single- or double-quoted).
fn is_key(text: &str, key: &str) -> bool {
    let candidates = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    candidates.iter().any(|candidate| {
        text.strip_prefix(candidate.as_str()).is_some_and(|rest| {
            rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with(' '))
        })
    })
}

/// The end of the entries that belong to the node at `position` (a key or an item): those after
/// it that are indented deeper, plus sequence items at a key's own indentation (`key:\n- a`).
fn children_end(entries: &[Entry<'_>], position: usize) -> usize {
    let owner = &entries[position];
    let mut end = position + 1;
    while end < entries.len() {
        let entry = &entries[end];
        let deeper = entry.indent > owner.indent;
        let items_of_key = !owner.item && entry.item && entry.indent == owner.indent;
        if !(deeper || items_of_key) {
            break;
        }
        end += 1;
    }
    end
}

/// The 1-based line of `path` in the document starting at `start_line` of `text`: the line of
/// the deepest part of the path found, `None` when not even its first key is there (the tests'
/// shorthand for [`Document::field_line`]).
#[cfg(test)]
fn field_line(text: &str, start_line: usize, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    Document::new(&lines, start_line).field_line(path)
}

/// One document's entries, scanned once and then asked for any number of field paths.
pub struct Document<'a> {
    entries: Vec<Entry<'a>>,
}

impl<'a> Document<'a> {
    /// The document that starts at `start_line` (1-based) in a file already split into `lines`.
    pub fn new(lines: &[&'a str], start_line: usize) -> Self {
        Document {
            entries: entries(lines, start_line),
        }
    }

    /// The 1-based line of `path` in this document: the line of the deepest part of the path
    /// found, `None` when not even its first key is there.
    pub fn field_line(&self, path: &str) -> Option<usize> {
        let entries = &self.entries;
        let mut range = 0..entries.len();
        let mut found: Option<usize> = None;
        for segment in segments(path) {
            let scope = &entries[range.clone()];
            let Some(first) = scope.first() else {
                break;
            };
            let position = match &segment {
                Segment::Key(key) => {
                    // The mapping's own keys sit at the indentation of its first key.
                    if first.item {
                        break;
                    }
                    let level = first.indent;
                    scope.iter().position(|entry| {
                        !entry.item && entry.indent == level && is_key(entry.text, key)
                    })
                }
                Segment::Index(index) => {
                    if !first.item {
                        break;
                    }
                    let level = first.indent;
                    scope
                        .iter()
                        .enumerate()
                        .filter(|(_, entry)| entry.item && entry.indent == level)
                        .nth(*index)
                        .map(|(position, _)| position)
                }
            };
            let Some(position) = position else {
                break;
            };
            let absolute = range.start + position;
            found = Some(entries[absolute].line);
            range = absolute + 1..children_end(entries, absolute);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "\
# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  template:
    spec:
      hostPID: true
      containers:
      - name: sidecar
        image: a
      - name: app
        image: b
        securityContext:
          privileged: true
          capabilities: {drop: [ALL]}
      volumes:
        - name: proc
          hostPath: {path: /proc}
---
apiVersion: v1
kind: Pod
metadata: {name: second}
spec:
  containers:
  - name: c
    securityContext:
      privileged: true
";

    #[test]
    fn nested_keys_and_sequence_items_are_found() {
        assert_eq!(
            field_line(
                DEPLOYMENT,
                1,
                "spec.template.spec.containers[1].securityContext.privileged"
            ),
            Some(18)
        );
        assert_eq!(
            field_line(DEPLOYMENT, 1, "spec.template.spec.hostPID"),
            Some(11)
        );
        assert_eq!(
            field_line(DEPLOYMENT, 1, "spec.template.spec.containers[0].image"),
            Some(14)
        );
        assert_eq!(
            field_line(DEPLOYMENT, 1, "spec.template.spec.containers[0].name"),
            Some(13)
        );
        assert_eq!(
            field_line(DEPLOYMENT, 1, "spec.template.spec.volumes[0].hostPath"),
            Some(22)
        );
        assert_eq!(
            field_line(DEPLOYMENT, 1, "metadata.labels[app.kubernetes.io/name]"),
            Some(7)
        );
    }

    #[test]
    fn missing_and_flow_style_fields_answer_with_the_deepest_part_found() {
        // `runAsNonRoot` is absent: the container's `securityContext` line answers.
        assert_eq!(
            field_line(
                DEPLOYMENT,
                1,
                "spec.template.spec.containers[1].securityContext.runAsNonRoot"
            ),
            Some(17)
        );
        // Inside a flow mapping: the key that holds it.
        assert_eq!(
            field_line(
                DEPLOYMENT,
                1,
                "spec.template.spec.containers[1].securityContext.capabilities.drop"
            ),
            Some(19)
        );
        assert_eq!(field_line(DEPLOYMENT, 1, "status.phase"), None);
        // The sidecar has no securityContext: its item line answers, not the other container's.
        assert_eq!(
            field_line(
                DEPLOYMENT,
                1,
                "spec.template.spec.containers[0].securityContext.privileged"
            ),
            Some(13)
        );
    }

    #[test]
    fn the_search_stays_inside_its_document() {
        assert_eq!(
            field_line(
                DEPLOYMENT,
                24,
                "spec.containers[0].securityContext.privileged"
            ),
            Some(31)
        );
        // Only the second document's `spec` is found, not the first document's template.
        assert_eq!(
            field_line(DEPLOYMENT, 24, "spec.template.spec.hostPID"),
            Some(27)
        );
        assert_eq!(field_line(DEPLOYMENT, 1, "spec.containers[0]"), Some(8));
        assert_eq!(field_line(DEPLOYMENT, 24, "status"), None);
    }

    #[test]
    fn quoted_keys_and_nested_sequences() {
        let text = "\"spec\":\n  'items':\n  - - a\n    - b\n  - c\n";
        assert_eq!(field_line(text, 1, "spec.items[0][1]"), Some(4));
        assert_eq!(field_line(text, 1, "spec.items[1]"), Some(5));
    }
}
