//! One ConstraintTemplate compiled for evaluation: the Rego of its `admission.k8s.gatekeeper.sh`
//! target (classic `rego` + `libs`, Rego v0; or `code[]` with `engine: Rego`, whose
//! `source.version: v1` selects Rego v1) in a regorus engine of its own, so libraries of different
//! templates never collide; or, when its only code is `K8sNativeValidation`, its CEL (`cel.rs`).
//! Rego v0 multi-body rules, which regorus rejects or reads as `else`, are split first
//! (`multi_body.rs`). Every evaluation is time-boxed; an error is never a pass.

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value as RegoValue};
use serde_json::Value;
use thiserror::Error;

use super::{builtins, multi_body};
use crate::adapters::fields::strings;

/// The Gatekeeper target that admission constraints use.
pub const TARGET: &str = "admission.k8s.gatekeeper.sh";

/// The longest one evaluation of one template on one object may run.
pub const EVALUATION_LIMIT: Duration = Duration::from_secs(5);

const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(interval) => interval,
    None => NonZeroU32::MIN,
};

/// Why a template cannot be evaluated.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum TemplateError {
    #[error("`spec.crd.spec.names.kind` is missing")]
    MissingKind,
    #[error("it has no `{TARGET}` target")]
    NoTarget,
    #[error("its `{TARGET}` target has no Rego code")]
    NoRego,
    #[error("its Rego does not compile: {0}")]
    Compile(String),
    #[error("its Rego has no `violation` rule")]
    NoViolationRule,
}

/// Why an evaluation produced no verdict.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum EvaluationError {
    #[error("evaluating its Rego failed: {0}")]
    Rego(String),
    #[error("its `violation` rule produced {0}, not a set of `{{msg, details}}` objects")]
    Shape(String),
    #[error("evaluating its CEL failed: {0}")]
    Cel(String),
}

/// A violation as the template reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `msg`, verbatim.
    pub message: String,
    /// `details`, when the template sets any.
    pub details: Option<Value>,
}

/// The Rego language version of a template's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegoVersion {
    V0,
    V1,
}

/// The code a template is evaluated with.
#[derive(Clone)]
pub enum TemplateProgram {
    Rego(Box<RegoProgram>),
    /// Only `K8sNativeValidation` (CEL) code.
    Cel(Box<RegoProgram>),
}

/// A compiled ConstraintTemplate.
#[derive(Clone)]
pub struct CompiledTemplate {
    /// `metadata.name`.
    pub name: String,
    /// `spec.crd.spec.names.kind`: the kind of its constraints.
    pub kind: String,
    pub program: TemplateProgram,
}

/// Rego code loaded in its own engine.
#[derive(Clone)]
pub struct RegoProgram {
    backend: Backend,
    pub version: RegoVersion,
    /// Whether the code mentions `inventory` (so `data.inventory` is worth loading).
    pub uses_inventory: bool,
    /// Whether the code reads `userInfo` (who sends the request).
    pub uses_user_info: bool,
    /// Whether the target also has `K8sNativeValidation` code, which Gatekeeper runs instead of
    /// the Rego when its CEL driver is enabled (it is first in Gatekeeper's driver priority).
    pub has_cel_alternative: bool,
}

/// What evaluates a template: its Rego in a regorus engine, or its `K8sNativeValidation` CEL.
#[derive(Clone)]
enum Backend {
    Rego {
        engine: Box<Engine>,
        /// `data.<package>.violation`.
        rule: String,
    },
    Cel(super::cel::CelCode),
}

/// The Rego source of the target: main module, libraries, version.
struct RegoSource {
    main: String,
    libraries: Vec<String>,
    version: RegoVersion,
}

impl CompiledTemplate {
    /// Compiles a ConstraintTemplate object.
    pub fn compile(template: &Value) -> Result<CompiledTemplate, TemplateError> {
        let name = template
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = template
            .pointer("/spec/crd/spec/names/kind")
            .and_then(Value::as_str)
            .filter(|kind| !kind.is_empty())
            .ok_or(TemplateError::MissingKind)?
            .to_string();
        let target = template
            .pointer("/spec/targets")
            .and_then(Value::as_array)
            .and_then(|targets| {
                targets
                    .iter()
                    .find(|target| target.get("target").and_then(Value::as_str) == Some(TARGET))
            })
            .ok_or(TemplateError::NoTarget)?;
        let program = match rego_source(target) {
            Some(source) => {
                let mut program = RegoProgram::compile(&source)?;
                program.has_cel_alternative = has_cel(target);
                TemplateProgram::Rego(Box::new(program))
            }
            None => match super::cel::CelCode::of_target(target) {
                Some(code) => TemplateProgram::Cel(Box::new(RegoProgram::from_cel(code))),
                None => return Err(TemplateError::NoRego),
            },
        };
        Ok(CompiledTemplate {
            name,
            kind,
            program,
        })
    }
}

/// The target's Rego: `code[]` with `engine: Rego` first (that is where versioned code lives),
/// else the classic `rego` field with `libs`.
fn rego_source(target: &Value) -> Option<RegoSource> {
    let from_code = target
        .get("code")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|code| code.get("engine").and_then(Value::as_str) == Some("Rego"))
        .and_then(|code| code.get("source"))
        .and_then(|source| {
            let main = source.get("rego").and_then(Value::as_str)?;
            let version = match source.get("version").and_then(Value::as_str) {
                Some("v1") => RegoVersion::V1,
                _ => RegoVersion::V0,
            };
            Some(RegoSource {
                main: main.to_string(),
                libraries: strings(source.get("libs")),
                version,
            })
        });
    from_code.or_else(|| {
        let main = target
            .get("rego")
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())?;
        Some(RegoSource {
            main: main.to_string(),
            libraries: strings(target.get("libs")),
            version: RegoVersion::V0,
        })
    })
}

fn has_cel(target: &Value) -> bool {
    target
        .get("code")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|code| code.get("engine").and_then(Value::as_str) == Some("K8sNativeValidation"))
}

fn first_line(error: &anyhow::Error) -> String {
    format!("{error:#}")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl RegoProgram {
    /// Compiles the source with multi-body rules split (`multi_body`): regorus would read
    /// `} {` as `else` or reject it. Falls back to the source as written when the split source
    /// does not compile.
    fn compile(source: &RegoSource) -> Result<RegoProgram, TemplateError> {
        let main = multi_body::split_rule_bodies(&source.main);
        let libraries: Vec<Option<String>> = source
            .libraries
            .iter()
            .map(|library| multi_body::split_rule_bodies(library))
            .collect();
        if main.is_none() && libraries.iter().all(Option::is_none) {
            return RegoProgram::compile_as_written(source);
        }
        let split = RegoSource {
            main: main.unwrap_or_else(|| source.main.clone()),
            libraries: libraries
                .into_iter()
                .zip(&source.libraries)
                .map(|(split, original)| split.unwrap_or_else(|| original.clone()))
                .collect(),
            version: source.version,
        };
        RegoProgram::compile_as_written(&split).or_else(|_| RegoProgram::compile_as_written(source))
    }

    fn compile_as_written(source: &RegoSource) -> Result<RegoProgram, TemplateError> {
        let mut engine = Engine::new();
        engine.set_rego_v0(source.version == RegoVersion::V0);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: EVALUATION_LIMIT,
            check_interval: TIMER_CHECK_INTERVAL,
        });
        builtins::register(&mut engine);
        let package = engine
            .add_policy("template.rego".to_string(), source.main.clone())
            .map_err(|error| TemplateError::Compile(first_line(&error)))?;
        for (index, library) in source.libraries.iter().enumerate() {
            engine
                .add_policy(format!("libs[{index}].rego"), library.clone())
                .map_err(|error| TemplateError::Compile(first_line(&error)))?;
        }
        let declares_violation = engine
            .has_declared_rule_rooted_at("template.rego", "violation")
            .map_err(|error| TemplateError::Compile(first_line(&error)))?;
        if !declares_violation {
            return Err(TemplateError::NoViolationRule);
        }
        let mentions = |word: &str| {
            std::iter::once(&source.main)
                .chain(&source.libraries)
                .any(|code| code.contains(word))
        };
        let uses_inventory = mentions("inventory");
        let uses_user_info = mentions("userInfo");
        Ok(RegoProgram {
            backend: Backend::Rego {
                engine: Box::new(engine),
                rule: format!("{package}.violation"),
            },
            version: source.version,
            uses_inventory,
            uses_user_info,
            has_cel_alternative: false,
        })
    }

    /// A template whose only code is `K8sNativeValidation` CEL.
    fn from_cel(code: super::cel::CelCode) -> RegoProgram {
        RegoProgram {
            backend: Backend::Cel(code),
            version: RegoVersion::V0,
            uses_inventory: false,
            uses_user_info: false,
            has_cel_alternative: false,
        }
    }

    /// Whether the program is the template's CEL (no Rego).
    pub fn is_cel(&self) -> bool {
        matches!(self.backend, Backend::Cel(_))
    }

    /// The same program with `data` set (`{"inventory": …}`, see `Inventory::to_data`); a
    /// program that never mentions the inventory is returned as is.
    pub fn with_data(&self, data: &RegoValue) -> Result<RegoProgram, EvaluationError> {
        let mut program = self.clone();
        if let (true, Backend::Rego { engine, .. }) = (self.uses_inventory, &mut program.backend) {
            engine
                .add_data(data.clone())
                .map_err(|error| EvaluationError::Rego(first_line(&error)))?;
        }
        Ok(program)
    }

    /// The violations of `input` (`{review, parameters}`), in the engine's (sorted) order.
    pub fn violations(&self, input: &Value) -> Result<Vec<Violation>, EvaluationError> {
        let (engine, rule) = match &self.backend {
            Backend::Rego { engine, rule } => (engine, rule),
            Backend::Cel(code) => return code.violations(input),
        };
        let mut engine = Engine::clone(engine);
        engine.set_input(RegoValue::from(input.clone()));
        let result = engine
            .eval_rule(rule.clone())
            .map_err(|error| EvaluationError::Rego(first_line(&error)))?;
        let items: Vec<RegoValue> = match result {
            RegoValue::Undefined => return Ok(Vec::new()),
            RegoValue::Set(items) => items.iter().cloned().collect(),
            RegoValue::Array(items) => items.iter().cloned().collect(),
            other => return Err(EvaluationError::Shape(describe(&other))),
        };
        let mut violations = Vec::with_capacity(items.len());
        for item in items {
            let json = serde_json::to_value(&item)
                .map_err(|error| EvaluationError::Shape(error.to_string()))?;
            let Some(message) = json.get("msg").and_then(Value::as_str) else {
                return Err(EvaluationError::Shape(format!(
                    "an element without a string `msg`: {json}"
                )));
            };
            violations.push(Violation {
                message: message.to_string(),
                details: json
                    .get("details")
                    .filter(|details| !details.is_null())
                    .cloned(),
            });
        }
        Ok(violations)
    }
}

fn describe(value: &RegoValue) -> String {
    match value {
        RegoValue::Null => "null".to_string(),
        RegoValue::Bool(_) => "a boolean".to_string(),
        RegoValue::Number(_) => "a number".to_string(),
        RegoValue::String(_) => "a string".to_string(),
        RegoValue::Object(_) => "an object".to_string(),
        RegoValue::Array(_) => "an array".to_string(),
        RegoValue::Set(_) => "a set".to_string(),
        RegoValue::Undefined => "nothing".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(target: Value) -> Value {
        json!({
            "apiVersion": "templates.gatekeeper.sh/v1",
            "kind": "ConstraintTemplate",
            "metadata": {"name": "k8srequiredlabels"},
            "spec": {"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"}}}, "targets": [target]}
        })
    }

    #[test]
    fn classic_rego_with_a_library_is_v0() -> Result<(), String> {
        let compiled = CompiledTemplate::compile(&template(json!({
            "target": TARGET,
            "rego": "package k8srequiredlabels\nimport data.lib.helpers.missing\nviolation[{\"msg\": msg}] {\n  missing(input.review.object, input.parameters.label)\n  msg := sprintf(\"missing %v\", [input.parameters.label])\n}\n",
            "libs": ["package lib.helpers\nmissing(object, label) {\n  not object.metadata.labels[label]\n}\n"]
        })))
        .map_err(|error| error.to_string())?;
        let TemplateProgram::Rego(program) = compiled.program else {
            return Err("not rego".to_string());
        };
        assert_eq!(program.version, RegoVersion::V0);
        let input = json!({"review": {"object": {"metadata": {"labels": {}}}}, "parameters": {"label": "team"}});
        let violations = program
            .violations(&input)
            .map_err(|error| error.to_string())?;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].message, "missing team");
        Ok(())
    }

    #[test]
    fn versioned_code_selects_rego_v1() -> Result<(), String> {
        let compiled = CompiledTemplate::compile(&template(json!({
            "target": TARGET,
            "code": [{"engine": "Rego", "source": {"version": "v1", "rego": "package k8srequiredlabels\nviolation contains {\"msg\": \"always\"} if { true }\n"}}]
        })))
        .map_err(|error| error.to_string())?;
        let TemplateProgram::Rego(program) = compiled.program else {
            return Err("not rego".to_string());
        };
        assert_eq!(program.version, RegoVersion::V1);
        assert!(!program.has_cel_alternative);
        let violations = program
            .violations(&json!({"review": {}, "parameters": {}}))
            .map_err(|error| error.to_string())?;
        assert_eq!(violations.len(), 1);
        Ok(())
    }

    #[test]
    fn rego_beside_cel_is_evaluated_and_says_so() -> Result<(), String> {
        let compiled = CompiledTemplate::compile(&template(json!({
            "target": TARGET,
            "code": [
                {"engine": "K8sNativeValidation", "source": {"validations": []}},
                {"engine": "Rego", "source": {"rego": "package x\nviolation[{\"msg\": \"no\"}] { true }\n"}}
            ]
        })))
        .map_err(|error| error.to_string())?;
        let TemplateProgram::Rego(program) = compiled.program else {
            return Err("not rego".to_string());
        };
        assert!(program.has_cel_alternative);
        assert_eq!(program.version, RegoVersion::V0);
        Ok(())
    }

    #[test]
    fn cel_only_templates_and_broken_rego_are_told_apart() {
        let cel = CompiledTemplate::compile(&template(json!({
            "target": TARGET,
            "code": [{"engine": "K8sNativeValidation", "source": {"validations": []}}]
        })));
        assert!(matches!(
            cel.map(|compiled| compiled.program),
            Ok(TemplateProgram::Cel(_))
        ));
        let broken = CompiledTemplate::compile(&template(json!({
            "target": TARGET, "rego": "package x\nviolation[{\"msg\": msg}] {"
        })));
        assert!(matches!(broken.err(), Some(TemplateError::Compile(_))));
        let no_rule = CompiledTemplate::compile(&template(json!({
            "target": TARGET, "rego": "package x\nallow { true }\n"
        })));
        assert_eq!(no_rule.err(), Some(TemplateError::NoViolationRule));
    }
}
