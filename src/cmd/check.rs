//! `check -f`: would these manifests be admitted; what blocks or warns, by which rule, at which field.
//!
//! Reads the manifests with their provenance (file, document, List item) and text, loads the
//! cluster Snapshot, lays the manifests' Namespaces over it, runs the adapters and the admission
//! engine, finds the line of every field at fault, optionally asks the live apiserver for a dry
//! run of each object, and renders (table, wide, json, yaml, sarif, junit, markdown). Exit 1 when
//! an object's verdict is at or above `--fail-on`, or a dry run disagrees with potoo.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::CommandOutput;
use crate::cli::{CheckArgs, FailOn, GlobalOptions, OutputFormat};
use crate::engine::admission::{self, CheckRequest, Manifest};
use crate::model::finding::{CheckResult, Verdict};
use crate::render;
use crate::source::files::{self, FilesError};
use crate::source::{NamespaceScope, dry_run, locate};

pub async fn run(global: &GlobalOptions, args: &CheckArgs) -> anyhow::Result<CommandOutput> {
    if global.output == OutputFormat::Connlist {
        return Err(super::unsupported_output("check", global.output));
    }
    if args.server_dry_run && global.is_offline() {
        bail!(
            "`--server-dry-run` sends the objects to a live apiserver and cannot be used with `--from`"
        );
    }
    let paths = args.files.clone();
    let (manifests, texts) = tokio::task::spawn_blocking(move || {
        read_manifests_with_text(&paths, &mut std::io::stdin().lock())
    })
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
    let mut result = admission::check(&snapshot, &merged, &adapted, &request);
    locate_fields(&mut result, &request.manifests, &texts);
    if args.server_dry_run {
        let targets: Vec<dry_run::DryRunTarget<'_>> = request
            .manifests
            .iter()
            .zip(&result.objects)
            .map(|(manifest, entry)| dry_run::DryRunTarget {
                manifest,
                namespace: entry.object.namespace.as_deref(),
            })
            .collect();
        let outcomes = dry_run::run(&global.live_options(), &targets).await?;
        for (entry, outcome) in result.objects.iter_mut().zip(outcomes) {
            entry.dry_run = Some(outcome.compared_with(entry));
        }
    }
    crate::privacy::redact_check(
        &mut result,
        &adapted.constraints,
        global.detail,
        &request.default_namespace,
    );
    let threshold = threshold(args.fail_on);
    let stdout = match global.output {
        OutputFormat::Json => render::json::render(&result)?,
        OutputFormat::Yaml => render::yaml::render(&result)?,
        OutputFormat::Sarif => {
            let working_directory = std::env::current_dir().unwrap_or_default();
            render::check_sarif::render(&result, &working_directory)?
        }
        OutputFormat::Junit => render::check_junit::render(&result, threshold),
        OutputFormat::Markdown => render::check_markdown::render(&result),
        OutputFormat::Connlist => {
            return Err(super::unsupported_output("check", global.output));
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render::check::table(&result, global.render_options())
        }
    };
    Ok(CommandOutput {
        stdout,
        stderr: super::notes(global, &merged, &adapted),
        findings: result.fails(threshold),
    })
}

/// The lowest verdict `--fail-on` fails on.
fn threshold(fail_on: FailOn) -> Verdict {
    match fail_on {
        FailOn::Blocked => Verdict::Blocked,
        FailOn::Unknown => Verdict::Unknown,
        FailOn::Warning => Verdict::Warning,
    }
}

/// Fills each object's `fieldLines`: the line of every field path its findings name, found in
/// the YAML text of its document (under `items[N]` for a List item).
fn locate_fields(
    result: &mut CheckResult,
    manifests: &[Manifest],
    texts: &BTreeMap<String, String>,
) {
    // Each file is split into lines once, each document scanned once for all its paths.
    let lines: BTreeMap<&str, Vec<&str>> = texts
        .iter()
        .map(|(file, text)| (file.as_str(), text.lines().collect()))
        .collect();
    for (entry, manifest) in result.objects.iter_mut().zip(manifests) {
        let (Some(lines), Some(start)) = (lines.get(manifest.file.as_str()), manifest.line) else {
            continue;
        };
        let paths: Vec<String> = entry
            .findings
            .iter()
            .flat_map(|finding| finding.field_path.iter().chain(finding.field_paths.iter()))
            .cloned()
            .collect();
        if paths.is_empty() {
            continue;
        }
        let document = locate::Document::new(lines, start);
        for path in paths {
            let in_document = match manifest.item {
                Some(item) => format!("items[{item}].{path}"),
                None => path.clone(),
            };
            if let Some(line) = document.field_line(&in_document) {
                entry.field_lines.insert(path, line);
            }
        }
    }
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
    read_manifests_with_text(paths, stdin).map(|(manifests, _)| manifests)
}

/// `read_manifests`, also returning the text of every file read (by file name as given), for
/// locating fields.
pub fn read_manifests_with_text(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
) -> Result<(Vec<Manifest>, BTreeMap<String, String>), FilesError> {
    let mut texts = BTreeMap::new();
    let mut manifests = Vec::new();
    for input in files::collect_inputs(paths, stdin)? {
        let (name, bytes) = input.load()?;
        let text = std::str::from_utf8(&bytes).map_err(|error| FilesError {
            file: name.clone(),
            document: None,
            line: None,
            field: None,
            message: format!("not UTF-8 text: {error}"),
        })?;
        for document in files::decode_documents(&name, text)? {
            let located = |field: Option<String>, message: String| FilesError {
                file: name.clone(),
                document: Some(document.index),
                line: document.line.map(|line| line as u64),
                field,
                message,
            };
            let items = files::list_items(document.value)
                .map_err(|(field, message)| located(Some(field), message))?;
            for (item, value) in items {
                let manifest = admission::manifest_from_value(
                    value,
                    &name,
                    document.index,
                    document.line,
                    item,
                )
                .map_err(|error| {
                    located(
                        item.map(|index| format!("items[{index}]")),
                        error.to_string(),
                    )
                })?;
                manifests.push(manifest);
            }
        }
        texts.insert(name.clone(), text.to_string());
    }
    Ok((manifests, texts))
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
