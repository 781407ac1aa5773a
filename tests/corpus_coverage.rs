//! Parse coverage of the Kyverno and Gatekeeper adapters over the real policy corpora in
//! `../shared/corpora/` (not part of the repository): every policy must adapt without a
//! diagnostic and yield at least one constraint. Prints the counts.

use std::path::{Path, PathBuf};

use potoo::adapters::Registry;
use potoo::model::{Constraint, Details};
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::Value;

/// Kyverno policy kinds: every kind of these groups except exceptions yields constraints.
const KYVERNO_GROUPS: &[&str] = &["kyverno.io", "policies.kyverno.io"];
const GATEKEEPER_TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
const GATEKEEPER_CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";

fn corpora() -> Option<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if directory.is_dir() {
        Some(directory)
    } else {
        println!(
            "note: {} is missing; corpus coverage skipped (CI has it)",
            directory.display()
        );
        None
    }
}

/// YAML files under `directory`, sorted; Chainsaw test folders hold assertions on live objects
/// (status only, no spec), not policies, so they are skipped.
fn yaml_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|name| name == ".chainsaw-test")
            {
                continue;
            }
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            found.push(path);
        }
    }
}

/// Every mapping document of a multi-document YAML file.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let parsed: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|error| panic!("{}: invalid YAML: {error}", path.display()));
    parsed
        .into_iter()
        .filter(|document| document.is_object())
        .collect()
}

fn group_of(document: &Value) -> &str {
    let api_version = document["apiVersion"].as_str().unwrap_or_default();
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}

fn kind_of(document: &Value) -> &str {
    document["kind"].as_str().unwrap_or_default()
}

fn snapshot_of(documents: &[Value]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for document in documents {
        snapshot.insert(object_from_value(document.clone()).unwrap());
    }
    snapshot
}

fn name_of(document: &Value) -> String {
    document["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// One Gatekeeper library unit: its templates, and its constraints with the file each came from.
#[derive(Default)]
struct Unit {
    templates: Vec<Value>,
    constraints: Vec<(PathBuf, Value)>,
}

#[derive(Default)]
struct Counts {
    files: usize,
    policies: usize,
    rules: usize,
    exceptions: usize,
    templates: usize,
    constraint_objects: usize,
    constraints_emitted: usize,
}

#[test]
fn kyverno_policies_adapt_without_diagnostics() {
    let Some(corpora) = corpora() else {
        return;
    };
    let mut files = Vec::new();
    yaml_files(&corpora.join("kyverno-policies"), &mut files);
    let registry = Registry::default();
    let mut counts = Counts::default();
    let mut by_kind: std::collections::BTreeMap<String, (usize, usize)> =
        std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let policies: Vec<Value> = documents(file)
            .into_iter()
            .filter(|document| KYVERNO_GROUPS.contains(&group_of(document)))
            .filter(|document| document.get("spec").is_some())
            .collect();
        if policies.is_empty() {
            continue;
        }
        counts.files += 1;
        for policy in policies {
            let kind = kind_of(&policy).to_string();
            if kind == "PolicyException" {
                counts.exceptions += 1;
                continue;
            }
            counts.policies += 1;
            if let Some(rules) = policy["spec"]["rules"].as_array() {
                counts.rules += rules.len();
            }
            let output = registry.adapt(&snapshot_of(std::slice::from_ref(&policy)));
            let label = format!("{}: {kind}/{}", file.display(), name_of(&policy));
            for diagnostic in &output.diagnostics {
                failures.push(format!("{label}: diagnostic: {}", diagnostic.message));
            }
            let kyverno: Vec<&Constraint> = output
                .constraints
                .iter()
                .filter(|constraint| matches!(constraint.details, Details::Kyverno(_)))
                .collect();
            if kyverno.is_empty() {
                failures.push(format!("{label}: no constraint"));
            }
            counts.constraints_emitted += kyverno.len();
            let tally = by_kind.entry(kind).or_default();
            tally.0 += 1;
            tally.1 += kyverno.len();
        }
    }
    for (kind, (policies, constraints)) in &by_kind {
        println!("kyverno corpus: {kind}: {policies} policies, {constraints} constraints");
    }
    println!(
        "kyverno corpus: {} files with policies, {} policies, {} ClusterPolicy/Policy rules, {} exceptions, {} constraints emitted",
        counts.files, counts.policies, counts.rules, counts.exceptions, counts.constraints_emitted
    );
    assert!(
        counts.policies > 0,
        "no Kyverno policy found under {}",
        corpora.display()
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn gatekeeper_library_adapts_without_diagnostics() {
    let Some(corpora) = corpora() else {
        return;
    };
    let library = corpora.join("gatekeeper-library");
    let mut files = Vec::new();
    yaml_files(&library, &mut files);
    // Templates and constraints by unit directory (the folder holding `template.yaml`).
    let mut units: std::collections::BTreeMap<PathBuf, Unit> = std::collections::BTreeMap::new();
    for file in &files {
        for document in documents(file) {
            let group = group_of(&document).to_string();
            if group != GATEKEEPER_TEMPLATE_GROUP && group != GATEKEEPER_CONSTRAINT_GROUP {
                continue;
            }
            let unit = file
                .ancestors()
                .find(|directory| directory.join("template.yaml").is_file())
                .unwrap_or_else(|| file.parent().unwrap())
                .to_path_buf();
            let entry = units.entry(unit).or_default();
            if group == GATEKEEPER_TEMPLATE_GROUP {
                entry.templates.push(document);
            } else {
                entry.constraints.push((file.clone(), document));
            }
        }
    }
    let registry = Registry::default();
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for (
        unit,
        Unit {
            templates,
            constraints,
        },
    ) in &units
    {
        counts.files += 1;
        counts.templates += templates.len();
        // Templates alone: read, diagnosed if odd, never a constraint.
        let output = registry.adapt(&snapshot_of(templates));
        for diagnostic in &output.diagnostics {
            failures.push(format!(
                "{}: template: diagnostic: {}",
                unit.display(),
                diagnostic.message
            ));
        }
        if !output.constraints.is_empty() {
            failures.push(format!(
                "{}: a template yielded a constraint",
                unit.display()
            ));
        }
        // Each constraint with its unit's templates (sample constraints may share names).
        for (file, constraint) in constraints {
            counts.constraint_objects += 1;
            let mut objects = templates.clone();
            objects.push(constraint.clone());
            let output = registry.adapt(&snapshot_of(&objects));
            let label = format!(
                "{}: {}/{}",
                file.display(),
                kind_of(constraint),
                name_of(constraint)
            );
            for diagnostic in &output.diagnostics {
                failures.push(format!("{label}: diagnostic: {}", diagnostic.message));
            }
            let emitted: Vec<&Constraint> = output
                .constraints
                .iter()
                .filter(|constraint| matches!(constraint.details, Details::Gatekeeper(_)))
                .collect();
            match emitted.as_slice() {
                [one] => {
                    if let Details::Gatekeeper(details) = &one.details
                        && details.template_name.is_none()
                    {
                        failures.push(format!("{label}: template not attached"));
                    }
                }
                [] => failures.push(format!("{label}: no constraint")),
                _ => failures.push(format!("{label}: {} constraints", emitted.len())),
            }
            counts.constraints_emitted += emitted.len();
        }
    }
    println!(
        "gatekeeper corpus: {} units, {} templates, {} constraints read, {} constraints emitted",
        counts.files, counts.templates, counts.constraint_objects, counts.constraints_emitted
    );
    assert!(
        counts.templates > 0,
        "no ConstraintTemplate found under {}",
        library.display()
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
