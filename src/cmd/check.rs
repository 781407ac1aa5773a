//! `check -f`: would these manifests be admitted; what blocks or warns, by which rule, at which field.
//!
//! Reads the manifests with their provenance (file, document, List item), loads the cluster
//! Snapshot, lays the manifests' Namespaces over it, runs the adapters and the admission engine.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::CommandOutput;
use crate::cli::{CheckArgs, GlobalOptions, OutputFormat};
use crate::engine::admission::{self, CheckRequest, Manifest};
use crate::render;
use crate::source::NamespaceScope;
use crate::source::files::FilesError;

pub async fn run(global: &GlobalOptions, args: &CheckArgs) -> anyhow::Result<CommandOutput> {
    if global.output == OutputFormat::Connlist {
        return Err(super::unsupported_output("check", global.output));
    }
    let paths = args.files.clone();
    let manifests =
        tokio::task::spawn_blocking(move || read_manifests(&paths, &mut std::io::stdin().lock()))
            .await
            .context("the manifest reader stopped unexpectedly")??;
    if manifests.is_empty() {
        bail!(
            "no objects found in {}",
            args.files
                .iter()
                .map(|path| format!("`{}`", path.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let default_namespace = global.own_namespace().await;
    check_namespaces_match(global, &manifests)?;
    let namespaces: std::collections::BTreeSet<String> = manifests
        .iter()
        .filter_map(|manifest| admission::target_namespace(&manifest.object, &default_namespace))
        .collect();
    let scope = match namespaces.len() {
        1 => NamespaceScope::One(namespaces.into_iter().next().unwrap_or_default()),
        _ => NamespaceScope::All,
    };
    let snapshot = super::load_snapshot(global, &scope).await?;
    let merged = admission::overlay_namespaces(&snapshot, &manifests);
    let adapted = super::adapt(&merged);
    let request = CheckRequest {
        manifests,
        default_namespace,
    };
    let result = admission::check(&snapshot, &merged, &adapted, &request);
    let stdout = match global.output {
        OutputFormat::Json => render::json::render(&result)?,
        OutputFormat::Yaml => render::yaml::render(&result)?,
        OutputFormat::Connlist | OutputFormat::Junit => {
            return Err(super::unsupported_output("check", global.output));
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render::check::table(&result, global.render_options())
        }
    };
    Ok(CommandOutput {
        stdout,
        stderr: super::notes(global, &merged, &adapted),
        findings: result.any_blocked(),
    })
}

/// kubectl refuses an object whose namespace differs from an explicit `-n`; so does `check`.
fn check_namespaces_match(global: &GlobalOptions, manifests: &[Manifest]) -> anyhow::Result<()> {
    let Some(requested) = &global.namespace else {
        return Ok(());
    };
    for manifest in manifests {
        let group_kind = manifest.object.group_kind();
        if !admission::is_namespaced(&group_kind.group, &group_kind.kind) {
            continue;
        }
        if let Some(own) = &manifest.object.namespace
            && own != requested
        {
            bail!(
                "`{}` document {}: the namespace from the provided object \"{own}\" does not match the namespace \"{requested}\"; pass `--namespace={own}` or remove `metadata.namespace`",
                manifest.file,
                manifest.document
            );
        }
    }
    Ok(())
}

/// Reads every path (`-` is standard input; directories recursively, `.yaml`/`.yml`/`.json`
/// files in name order) into objects that remember their file, document and List item. Any bad
/// input fails the whole read, naming file, document and field.
pub fn read_manifests(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
) -> Result<Vec<Manifest>, FilesError> {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|error| file_error("-", format!("cannot read standard input: {error}")))?;
            inputs.push(("-".to_string(), bytes));
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            collect_directory(path, &mut files)?;
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(file_error(
                &path.display().to_string(),
                "no such file or directory",
            ));
        }
        for file in files {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file)
                .map_err(|error| file_error(&name, format!("cannot read: {error}")))?;
            inputs.push((name, bytes));
        }
    }
    let mut manifests = Vec::new();
    for (name, bytes) in &inputs {
        parse_input(name, bytes, &mut manifests)?;
    }
    Ok(manifests)
}

fn file_error(file: &str, message: impl Into<String>) -> FilesError {
    FilesError {
        file: file.to_string(),
        document: None,
        line: None,
        field: None,
        message: message.into(),
    }
}

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

/// One input: JSON when it starts with `{` or `[` (an array's items are documents), else
/// multi-document YAML.
fn parse_input(name: &str, bytes: &[u8], manifests: &mut Vec<Manifest>) -> Result<(), FilesError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|error| file_error(name, format!("not UTF-8 text: {error}")))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let value: Value = serde_json::from_str(text).map_err(|error| FilesError {
            file: name.to_string(),
            document: None,
            line: Some(error.line() as u64),
            field: None,
            message: format!("invalid JSON: {error}"),
        })?;
        let documents = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for (index, document) in documents.into_iter().enumerate() {
            add_document(name, index + 1, None, document, manifests)?;
        }
        return Ok(());
    }
    for (index, (first_line, chunk)) in split_yaml_documents(text).into_iter().enumerate() {
        if is_blank_yaml(chunk) {
            continue;
        }
        let document: Value = serde_saphyr::from_str(chunk).map_err(|error| FilesError {
            file: name.to_string(),
            document: Some(index + 1),
            line: error
                .location()
                .map(|location| location.line() + first_line as u64 - 1),
            field: None,
            message: format!(
                "invalid YAML: {}",
                error
                    .without_snippet()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
            ),
        })?;
        if document.is_null() {
            continue;
        }
        add_document(name, index + 1, Some(first_line), document, manifests)?;
    }
    Ok(())
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

/// One document: an object, or a `List` (`kind: List` or `<Kind>List` with `items`) of objects.
fn add_document(
    name: &str,
    document: usize,
    line: Option<usize>,
    value: Value,
    manifests: &mut Vec<Manifest>,
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
    if kind == "List" || (kind.ends_with("List") && value.get("items").is_some()) {
        let mut value = value;
        let items = match value
            .as_object_mut()
            .and_then(|fields| fields.remove("items"))
        {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(located(
                    Some("items".to_string()),
                    "must be a list".to_string(),
                ));
            }
        };
        let item_kind = kind
            .strip_suffix("List")
            .filter(|item_kind| !item_kind.is_empty())
            .map(str::to_string);
        for (index, mut item) in items.into_iter().enumerate() {
            if let (Some(item_kind), Value::Object(fields)) = (&item_kind, &mut item) {
                fields
                    .entry("kind")
                    .or_insert_with(|| Value::String(item_kind.clone()));
                fields
                    .entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
            }
            let manifest = admission::manifest_from_value(item, name, document, line, Some(index))
                .map_err(|error| located(Some(format!("items[{index}]")), error.to_string()))?;
            manifests.push(manifest);
        }
        return Ok(());
    }
    let manifest = admission::manifest_from_value(value, name, document, line, None)
        .map_err(|error| located(None, error.to_string()))?;
    manifests.push(manifest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Vec<Manifest>, FilesError> {
        let mut input = text.as_bytes();
        read_manifests(&[PathBuf::from("-")], &mut input)
    }

    #[test]
    fn documents_and_list_items_keep_their_position() {
        let manifests = read_text(
            "# comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n- {apiVersion: v1, kind: Pod, metadata: {name: c}}\n",
        )
        .unwrap();
        let positions: Vec<(String, usize, Option<usize>)> = manifests
            .iter()
            .map(|manifest| {
                (
                    manifest.object.name.clone(),
                    manifest.document,
                    manifest.item,
                )
            })
            .collect();
        assert_eq!(
            positions,
            vec![
                ("a".to_string(), 2, None),
                ("b".to_string(), 4, Some(0)),
                ("c".to_string(), 4, Some(1))
            ]
        );
        assert_eq!(manifests[0].file, "-");
    }

    #[test]
    fn errors_name_file_document_line_and_field() {
        let error = read_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {}\n")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`-` document 2 (line 5): missing field `metadata.name`"
        );
        let error = read_text(
            "[{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"kind\": \"Pod\"}]}]",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`-` document 1 field `items[0]`: missing field `apiVersion`"
        );
        let error = read_text("kind: [Pod\n").unwrap_err();
        assert!(
            error.to_string().starts_with("`-` document 1 (line"),
            "{error}"
        );
    }
}
