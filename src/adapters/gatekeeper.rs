//! Gatekeeper: ConstraintTemplates (`templates.gatekeeper.sh`, read, never a constraint) and the
//! constraints of group `constraints.gatekeeper.sh` (any kind): one Admission constraint each,
//! enriched with its template's engines and code, its enforcement actions and audit results.

use serde_json::Value;

use super::fields::{selector, strings};
use super::registry::{Adapter, AdapterOutput};
use crate::model::details::gatekeeper::{
    AuditViolation, GatekeeperDetails, GatekeeperTarget, MatchKind, ScopedEnforcementAction,
    TemplateCode,
};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::catalog::GATEKEEPER_CONSTRAINT_GROUP;
use crate::source::{Object, Snapshot};

pub struct GatekeeperAdapter;

/// Every kind of this group is a constraint; the registry should route the whole group here.
pub const CONSTRAINT_GROUP: &str = GATEKEEPER_CONSTRAINT_GROUP;
const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
const TEMPLATE_KIND: &str = "ConstraintTemplate";
const CONFIG_GROUP: &str = "config.gatekeeper.sh";

/// The template kind; constraint kinds are routed by group (see `groups`).
const KINDS: &[(&str, &str)] = &[(TEMPLATE_GROUP, TEMPLATE_KIND)];

/// Enforcement points that act at admission time (the webhook, or a generated VAP).
const ADMISSION_ENFORCEMENT_POINTS: &[&str] = &["validation.gatekeeper.sh", "vap.k8s.io", "*"];

impl Adapter for GatekeeperAdapter {
    fn name(&self) -> &'static str {
        "gatekeeper"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        KINDS
    }

    fn groups(&self) -> &'static [&'static str] {
        &[CONSTRAINT_GROUP]
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let group_kind = object.group_kind();
        if group_kind.group == TEMPLATE_GROUP && group_kind.kind == TEMPLATE_KIND {
            let template = Template::read(object);
            for problem in template.problems {
                output.diagnose(self, object, problem);
            }
        } else if group_kind.group == CONSTRAINT_GROUP {
            self.adapt_constraint(object, snapshot, output);
        }
    }
}

/// What a ConstraintTemplate contributes to its constraints.
struct Template {
    name: String,
    title: Option<String>,
    description: Option<String>,
    engines: Vec<String>,
    targets: Vec<GatekeeperTarget>,
    parameter_schema: Option<Value>,
    problems: Vec<String>,
}

impl Template {
    fn read(object: &Object) -> Template {
        let spec = object.spec();
        let annotations = object.annotations();
        let mut problems = Vec::new();
        let has_kind = spec
            .pointer("/crd/spec/names/kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| !kind.is_empty());
        if !has_kind {
            problems.push(
                "spec.crd.spec.names.kind: missing; constraints find this template by its name"
                    .to_string(),
            );
        }
        let parameter_schema = spec
            .pointer("/crd/spec/validation/openAPIV3Schema")
            .cloned();
        let mut engines: Vec<String> = Vec::new();
        let mut targets = Vec::new();
        match spec.get("targets") {
            Some(Value::Array(items)) if !items.is_empty() => {
                for (index, item) in items.iter().enumerate() {
                    let target = read_target(item, index, &mut problems);
                    if target.rego.is_some() || target.code.iter().any(|code| code.engine == "Rego")
                    {
                        add_unique(&mut engines, "rego");
                    }
                    if target
                        .code
                        .iter()
                        .any(|code| code.engine == "K8sNativeValidation")
                    {
                        add_unique(&mut engines, "cel");
                    }
                    targets.push(target);
                }
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                problems.push("spec.targets: missing; the template has no code".to_string())
            }
            Some(_) => problems.push("spec.targets: must be a list; ignored".to_string()),
        }
        Template {
            name: object.name.clone(),
            title: annotations.get("metadata.gatekeeper.sh/title").cloned(),
            description: annotations
                .get("description")
                .map(|text| text.trim().to_string()),
            engines,
            targets,
            parameter_schema,
            problems,
        }
    }
}

fn read_target(item: &Value, index: usize, problems: &mut Vec<String>) -> GatekeeperTarget {
    let path = format!("spec.targets[{index}]");
    let mut target = GatekeeperTarget {
        target: item
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        rego: item
            .get("rego")
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(str::to_string),
        libs: strings(item.get("libs")),
        code: Vec::new(),
    };
    match item.get("code") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for (code_index, entry) in entries.iter().enumerate() {
                match entry.get("engine").and_then(Value::as_str) {
                    Some(engine) => target.code.push(TemplateCode {
                        engine: engine.to_string(),
                        source: entry.get("source").cloned().unwrap_or(Value::Null),
                    }),
                    None => problems.push(format!(
                        "{path}.code[{code_index}].engine: missing; code ignored"
                    )),
                }
            }
        }
        Some(_) => problems.push(format!("{path}.code: must be a list; ignored")),
    }
    if target.rego.is_none() && target.code.is_empty() {
        problems.push(format!(
            "{path}: neither `rego` nor `code`; the target has no code"
        ));
    }
    target
}

/// `spec.match` of a constraint, read.
#[derive(Default)]
struct ConstraintMatch {
    kinds: Vec<MatchKind>,
    namespaces: Option<Vec<String>>,
    excluded_namespaces: Option<Vec<String>>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    scope: Option<String>,
    name: Option<String>,
    source: Option<String>,
}

fn read_match(spec: &Value, problems: &mut Vec<String>) -> ConstraintMatch {
    let mut found = ConstraintMatch::default();
    let block = match spec.get("match") {
        None | Some(Value::Null) => return found,
        Some(block @ Value::Object(_)) => block,
        Some(_) => {
            problems.push("spec.match: must be a mapping; matching every object".to_string());
            return found;
        }
    };
    match block.get("kinds") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for (index, entry) in entries.iter().enumerate() {
                if !entry.is_object() {
                    problems.push(format!(
                        "spec.match.kinds[{index}]: must be a mapping; ignored"
                    ));
                    continue;
                }
                found.kinds.push(MatchKind {
                    api_groups: strings(entry.get("apiGroups")),
                    kinds: strings(entry.get("kinds")),
                });
            }
        }
        Some(_) => {
            problems.push("spec.match.kinds: must be a list; matching every kind".to_string())
        }
    }
    found.namespaces = string_list(block.get("namespaces"), "spec.match.namespaces", problems);
    found.excluded_namespaces = string_list(
        block.get("excludedNamespaces"),
        "spec.match.excludedNamespaces",
        problems,
    );
    found.label_selector = selector(
        block.get("labelSelector"),
        "spec.match.labelSelector",
        problems,
    );
    found.namespace_selector = selector(
        block.get("namespaceSelector"),
        "spec.match.namespaceSelector",
        problems,
    );
    found.scope = block
        .get("scope")
        .and_then(Value::as_str)
        .map(str::to_string);
    found.name = block
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    found.source = block
        .get("source")
        .and_then(Value::as_str)
        .map(str::to_string);
    found
}

/// The effect a constraint has, from `enforcementAction` and `scopedEnforcementActions`.
struct Enforcement {
    written: String,
    admission_action: Option<String>,
    scoped: Vec<ScopedEnforcementAction>,
}

fn read_enforcement(spec: &Value, problems: &mut Vec<String>) -> Enforcement {
    let written = spec
        .get("enforcementAction")
        .and_then(Value::as_str)
        .filter(|action| !action.is_empty())
        .unwrap_or("deny")
        .to_ascii_lowercase();
    let mut scoped = Vec::new();
    if let Some(Value::Array(entries)) = spec.get("scopedEnforcementActions") {
        for entry in entries {
            let points = match entry.get("enforcementPoints") {
                Some(Value::Array(points)) => points
                    .iter()
                    .filter_map(|point| point.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            };
            scoped.push(ScopedEnforcementAction {
                action: entry
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                enforcement_points: points,
            });
        }
    }
    let admission_action = match written.as_str() {
        "deny" | "warn" => Some(written.clone()),
        "dryrun" => None,
        "scoped" => {
            if scoped.is_empty() {
                problems.push(
                    "spec.scopedEnforcementActions: missing with `enforcementAction: scoped`; \
                     nothing is enforced, listed as audit"
                        .to_string(),
                );
            }
            let at_admission = |action: &str| {
                scoped.iter().any(|entry| {
                    entry.action == action
                        && entry
                            .enforcement_points
                            .iter()
                            .any(|point| ADMISSION_ENFORCEMENT_POINTS.contains(&point.as_str()))
                })
            };
            if at_admission("deny") {
                Some("deny".to_string())
            } else if at_admission("warn") {
                Some("warn".to_string())
            } else {
                None
            }
        }
        other => {
            problems.push(format!(
                "spec.enforcementAction: unknown value `{other}`; treated as deny"
            ));
            Some("deny".to_string())
        }
    };
    Enforcement {
        written,
        admission_action,
        scoped,
    }
}

impl GatekeeperAdapter {
    fn adapt_constraint(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let spec = object.spec();
        let mut problems = Vec::new();
        let found_match = read_match(spec, &mut problems);
        let enforcement = read_enforcement(spec, &mut problems);
        let template = find_template(snapshot, &object.kind).map(Template::read);
        if template.is_none() {
            problems.push(format!(
                "no ConstraintTemplate defines kind `{}`; constraint listed without its template",
                object.kind
            ));
        }
        for problem in problems {
            output.diagnose(self, object, problem);
        }

        let process = if enforcement.admission_action.is_some() {
            "webhook"
        } else {
            "audit"
        };
        let excluded_by_config = config_exclusions(snapshot, process);
        let (effect, severity) = match enforcement.admission_action.as_deref() {
            Some("deny") => (Effect::Deny, Severity::Critical),
            Some(_) => (Effect::Warn, Severity::Warning),
            None => (Effect::Audit, Severity::Info),
        };

        let mut excluded_namespaces = found_match.excluded_namespaces.clone().unwrap_or_default();
        for namespace in &excluded_by_config {
            add_unique(&mut excluded_namespaces, namespace);
        }
        let cluster_only = found_match.scope.as_deref() == Some("Cluster");
        let scope = Scope {
            namespaces: if cluster_only {
                Some(Vec::new())
            } else {
                found_match.namespaces.clone()
            },
            excluded_namespaces: if excluded_namespaces.is_empty() {
                None
            } else {
                Some(excluded_namespaces)
            },
            namespace_selector: found_match.namespace_selector.clone(),
            workload_selector: found_match.label_selector.clone(),
            resources: scope_resources(&found_match.kinds),
            names: found_match.name.clone().map(|name| vec![name]),
            note: cluster_only.then(|| {
                "matches only cluster-scoped objects (`spec.match.scope: Cluster`)".to_string()
            }),
            ..Scope::default()
        };

        let status = object.value.get("status").unwrap_or(&Value::Null);
        let violations = read_violations(status);
        let total_violations = status.get("totalViolations").and_then(Value::as_i64);
        let parameters = spec.get("parameters").cloned();
        let summary = summarize(
            object,
            &found_match,
            &scope,
            effect,
            template.as_ref(),
            parameters.as_ref(),
            total_violations,
        );
        let remediation_hint = match effect {
            Effect::Audit => None,
            _ => Some(format!(
                "change the object to satisfy `{}` `{}`{}; exemptions (namespaces, labels) are \
                 set in the constraint's `spec.match` by its owners",
                object.kind,
                object.name,
                parameters
                    .as_ref()
                    .map(describe_parameters)
                    .filter(|text| !text.is_empty())
                    .map(|text| format!(" ({text})"))
                    .unwrap_or_default()
            )),
        };
        let details = GatekeeperDetails {
            template_name: template.as_ref().map(|template| template.name.clone()),
            template_title: template
                .as_ref()
                .and_then(|template| template.title.clone()),
            template_description: template
                .as_ref()
                .and_then(|template| template.description.clone()),
            engines: template
                .as_ref()
                .map(|template| template.engines.clone())
                .unwrap_or_default(),
            targets: template
                .as_ref()
                .map(|template| template.targets.clone())
                .unwrap_or_default(),
            parameter_schema: template
                .as_ref()
                .and_then(|template| template.parameter_schema.clone()),
            parameters,
            enforcement_action: enforcement.written,
            admission_action: enforcement.admission_action,
            scoped_enforcement_actions: enforcement.scoped,
            match_kinds: found_match.kinds,
            match_scope: found_match.scope,
            match_source: found_match.source,
            excluded_by_config,
            total_violations,
            audit_timestamp: status
                .get("auditTimestamp")
                .and_then(Value::as_str)
                .map(str::to_string),
            violations,
        };
        let source = SourceReference::from_object(object);
        output.constraints.push(Constraint {
            id: Constraint::make_id(&source, None),
            rule: None,
            constraint_type: ConstraintType::Admission,
            effect,
            severity,
            scope,
            summary,
            details: Details::Gatekeeper(details),
            remediation_hint,
            source,
        });
    }
}

/// The template whose CRD kind is `kind` (Gatekeeper also requires its name to be the lowercased kind).
fn find_template<'a>(snapshot: &'a Snapshot, kind: &str) -> Option<&'a Object> {
    let templates = || snapshot.of_kind(TEMPLATE_GROUP, TEMPLATE_KIND);
    templates()
        .find(|template| {
            template
                .spec()
                .pointer("/crd/spec/names/kind")
                .and_then(Value::as_str)
                == Some(kind)
        })
        .or_else(|| templates().find(|template| template.name == kind.to_ascii_lowercase()))
}

/// Namespaces the Gatekeeper `Config` excludes from `process` (`webhook` or `audit`), or from all.
fn config_exclusions(snapshot: &Snapshot, process: &str) -> Vec<String> {
    let mut namespaces = Vec::new();
    for config in snapshot.of_kind(CONFIG_GROUP, "Config") {
        let Some(Value::Array(entries)) = config.spec().get("match") else {
            continue;
        };
        for entry in entries {
            let processes = strings(entry.get("processes"));
            if processes
                .iter()
                .any(|candidate| candidate == "*" || candidate == process)
            {
                for namespace in strings(entry.get("excludedNamespaces")) {
                    add_unique(&mut namespaces, &namespace);
                }
            }
        }
    }
    namespaces
}

/// Kind names for the index (`Pod`, `Deployment`), `group/*` for every kind of a group, `*` for all;
/// `None` when `spec.match.kinds` is empty (every kind).
fn scope_resources(kinds: &[MatchKind]) -> Option<Vec<String>> {
    if kinds.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for entry in kinds {
        let groups: Vec<&str> = if entry.api_groups.is_empty() {
            vec!["*"]
        } else {
            entry.api_groups.iter().map(String::as_str).collect()
        };
        let names: Vec<&str> = if entry.kinds.is_empty() {
            vec!["*"]
        } else {
            entry.kinds.iter().map(String::as_str).collect()
        };
        for kind in names {
            if kind == "*" {
                for group in &groups {
                    if group.is_empty() || *group == "*" {
                        add_unique(&mut resources, "*");
                    } else {
                        add_unique(&mut resources, &format!("{group}/*"));
                    }
                }
            } else {
                add_unique(&mut resources, kind);
            }
        }
    }
    Some(resources)
}

/// `Pod,apps/Deployment` for summaries.
fn describe_kinds(kinds: &[MatchKind]) -> String {
    let mut described = Vec::new();
    for entry in kinds {
        for kind in &entry.kinds {
            let groups: Vec<&str> = entry
                .api_groups
                .iter()
                .map(String::as_str)
                .filter(|group| !group.is_empty() && *group != "*")
                .collect();
            if groups.is_empty() {
                add_unique(&mut described, kind);
            }
            for group in groups {
                add_unique(&mut described, &format!("{group}/{kind}"));
            }
        }
    }
    if described.is_empty() || described.iter().any(|kind| kind == "*") {
        "every kind".to_string()
    } else {
        described.join(",")
    }
}

fn summarize(
    object: &Object,
    found_match: &ConstraintMatch,
    scope: &Scope,
    effect: Effect,
    template: Option<&Template>,
    parameters: Option<&Value>,
    total_violations: Option<i64>,
) -> String {
    let verb = match effect {
        Effect::Deny => "denies",
        Effect::Warn => "warns on",
        _ => "audits",
    };
    let mut text = format!(
        "{} `{}` {verb} {}",
        object.kind,
        object.name,
        describe_kinds(&found_match.kinds)
    );
    if let Some(name) = &found_match.name {
        text.push_str(&format!(" named `{name}`"));
    }
    if let Some(selector) = &found_match.label_selector
        && !selector.is_empty()
    {
        text.push_str(&format!(" with labels {selector}"));
    }
    if found_match.scope.as_deref() == Some("Cluster") {
        text.push_str(" (cluster-scoped objects only)");
    } else if let Some(namespaces) = &found_match.namespaces {
        text.push_str(&format!(" in namespaces {}", namespaces.join(",")));
    }
    if let Some(selector) = &found_match.namespace_selector
        && !selector.is_empty()
    {
        text.push_str(&format!(" in namespaces with {selector}"));
    }
    if let Some(excluded) = &scope.excluded_namespaces {
        text.push_str(&format!(" except in {}", excluded.join(",")));
    }
    match template {
        Some(template) => {
            if let Some(title) = &template.title {
                text.push_str(&format!(": {title}"));
            }
        }
        None => text.push_str(" (template not found)"),
    }
    if let Some(parameters) = parameters {
        let described = describe_parameters(parameters);
        if !described.is_empty() {
            text.push_str(&format!(" (parameters: {described})"));
        }
    }
    if let Some(count) = total_violations
        && count > 0
    {
        let plural = if count == 1 { "" } else { "s" };
        text.push_str(&format!("; last audit found {count} violation{plural}"));
    }
    text
}

/// `labels=[owner], exemptImages=[…]`: each parameter compactly, long values shortened.
fn describe_parameters(parameters: &Value) -> String {
    const LONGEST: usize = 60;
    match parameters {
        Value::Object(fields) => fields
            .iter()
            .map(|(key, value)| {
                let mut text = compact(value);
                if text.chars().count() > LONGEST {
                    text = text.chars().take(LONGEST).collect::<String>() + "…";
                }
                format!("{key}={text}")
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => compact(other),
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(",")
        ),
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(key, value)| format!("{key}:{}", compact(value)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn read_violations(status: &Value) -> Vec<AuditViolation> {
    let Some(Value::Array(entries)) = status.get("violations") else {
        return Vec::new();
    };
    let text = |entry: &Value, field: &str| {
        entry
            .get(field)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    entries
        .iter()
        .map(|entry| AuditViolation {
            group: text(entry, "group"),
            version: text(entry, "version"),
            kind: text(entry, "kind").unwrap_or_default(),
            name: text(entry, "name").unwrap_or_default(),
            namespace: text(entry, "namespace"),
            message: text(entry, "message").unwrap_or_default(),
            enforcement_action: text(entry, "enforcementAction"),
        })
        .collect()
}

/// A list of strings that must be a list: `None` when absent, a problem when it is something else.
fn string_list(
    value: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<Vec<String>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut found = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(text) => found.push(text.to_string()),
                    None => problems.push(format!("{path}[{index}]: must be a string; ignored")),
                }
            }
            Some(found)
        }
        Some(_) => {
            problems.push(format!("{path}: must be a list; ignored"));
            None
        }
    }
}

fn add_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|existing| existing == item) {
        list.push(item.to_string());
    }
}
