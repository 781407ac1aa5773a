//! Gatekeeper `gator verify` suites (`test.gatekeeper.sh/v1alpha1 Suite`): every test compiles
//! its ConstraintTemplate and constraint; every case reviews one object (a plain object, or an
//! `admission.k8s.io` AdmissionReview with its operation, `oldObject` and `userInfo`) with the
//! case's `inventory` files as `data.inventory`, and checks each assertion (`violations: yes | no
//! | <n>`, default `yes`, counting the violations whose message matches the `message` regex).
//! Skipped suites, tests and cases are left out; what potoo cannot evaluate (CEL-only templates,
//! Rego errors, `external_data`) is `unknown`, never a pass.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::{CaseOutcome, CaseResult, SuiteResult, SuiteSource, parse_documents};
use crate::engine::admission::gatekeeper::inventory::Inventory;
use crate::engine::admission::gatekeeper::matching::ConstraintMatch;
use crate::engine::admission::gatekeeper::review::Review;
use crate::engine::admission::gatekeeper::template::{
    CompiledTemplate, RegoProgram, TemplateProgram, Violation,
};
use crate::engine::admission::gatekeeper::{ConstraintOutcome, review_constraint};

const ENGINE: &str = "gatekeeper";
const SUITE_GROUP: &str = "test.gatekeeper.sh";

/// Whether a file is a gator Suite: a `.yaml`/`.yml` file whose first document is a
/// `test.gatekeeper.sh` `Suite` (as `gator verify` decides).
pub fn is_suite_file(path: &Path, source: &dyn SuiteSource) -> bool {
    let is_yaml = path
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension == "yaml" || extension == "yml");
    if !is_yaml {
        return false;
    }
    let Ok(text) = source.read(path) else {
        return false;
    };
    if !text.contains(SUITE_GROUP) {
        return false;
    }
    parse_documents(&text)
        .ok()
        .and_then(|documents| documents.into_iter().next())
        .is_some_and(|document| is_suite(&document))
}

fn is_suite(document: &Value) -> bool {
    document.get("kind").and_then(Value::as_str) == Some("Suite")
        && document
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|api_version| api_version.starts_with(&format!("{SUITE_GROUP}/")))
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(value: &Value, field: &str) -> bool {
    value.get(field).and_then(Value::as_bool).unwrap_or(false)
}

/// Runs one suite file.
pub fn run_suite(file: &Path, source: &dyn SuiteSource) -> SuiteResult {
    let mut result = SuiteResult {
        file: file.display().to_string(),
        name: String::new(),
        engine: ENGINE.to_string(),
        cases: Vec::new(),
        error: None,
    };
    let suite = match source
        .read(file)
        .and_then(|text| parse_documents(&text))
        .map(|documents| documents.into_iter().next())
    {
        Ok(Some(suite)) if is_suite(&suite) => suite,
        Ok(_) => {
            result.error = Some("not a `test.gatekeeper.sh` `Suite`".to_string());
            return result;
        }
        Err(error) => {
            result.error = Some(error);
            return result;
        }
    };
    result.name = suite
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if flag(&suite, "skip") {
        return result;
    }
    let directory = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let loader = Loader { directory, source };
    match suite.get("tests") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tests)) => {
            for test in tests.iter().filter(|test| !flag(test, "skip")) {
                result.cases.extend(run_test(&loader, test));
            }
        }
        Some(_) => result.error = Some("`tests` must be a list".to_string()),
    }
    result
}

/// Reads files relative to the suite's directory.
struct Loader<'a> {
    directory: PathBuf,
    source: &'a dyn SuiteSource,
}

impl Loader<'_> {
    fn documents(&self, relative: &str) -> Result<Vec<Value>, String> {
        if relative.is_empty() {
            return Err("no file named".to_string());
        }
        let path = self.directory.join(relative);
        let text = self
            .source
            .read(&path)
            .map_err(|error| format!("`{}`: {error}", path.display()))?;
        let documents =
            parse_documents(&text).map_err(|error| format!("`{}`: {error}", path.display()))?;
        if documents.is_empty() {
            return Err(format!("`{}` defines no YAML objects", path.display()));
        }
        Ok(documents)
    }

    /// The first object of a file.
    fn first(&self, relative: &str, what: &str) -> Result<Value, String> {
        self.documents(relative)
            .map_err(|error| format!("{what}: {error}"))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{what}: `{relative}` defines no YAML objects"))
    }

    fn single(&self, relative: &str, what: &str) -> Result<Value, String> {
        let documents = self
            .documents(relative)
            .map_err(|error| format!("{what}: {error}"))?;
        if documents.len() != 1 {
            return Err(format!(
                "{what}: `{relative}` defines {} objects; a case reviews exactly one",
                documents.len()
            ));
        }
        documents
            .into_iter()
            .next()
            .ok_or_else(|| format!("{what}: `{relative}` defines no YAML objects"))
    }
}

/// What every case of a test shares.
struct TestSetup {
    program: RegoProgram,
    constraint: Value,
    constraint_kind: String,
    matcher: ConstraintMatch,
}

/// A test that cannot run: every case gets the same outcome.
struct TestFailure {
    outcome: CaseOutcome,
    reason: String,
    constraint_kind: String,
}

fn setup(loader: &Loader<'_>, test: &Value) -> Result<TestSetup, TestFailure> {
    let fail = |reason: String| TestFailure {
        outcome: CaseOutcome::Fail,
        reason,
        constraint_kind: String::new(),
    };
    let template = loader
        .first(&text(test, "template"), "template")
        .map_err(fail)?;
    let constraint = loader
        .first(&text(test, "constraint"), "constraint")
        .map_err(fail)?;
    let constraint_kind = text(&constraint, "kind");
    let compiled = match CompiledTemplate::compile(&template) {
        Ok(compiled) => compiled,
        Err(error) => {
            let name = template
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(TestFailure {
                outcome: CaseOutcome::Unknown,
                reason: format!("because ConstraintTemplate `{name}` cannot be evaluated: {error}"),
                constraint_kind,
            });
        }
    };
    if compiled.kind != constraint_kind {
        return Err(TestFailure {
            outcome: CaseOutcome::Fail,
            reason: format!(
                "constraint kind `{constraint_kind}` is not the template's kind `{}`",
                compiled.kind
            ),
            constraint_kind,
        });
    }
    let program = match compiled.program {
        TemplateProgram::Rego(program) | TemplateProgram::Cel(program) => *program,
    };
    let matcher = ConstraintMatch::from_constraint(&constraint).map_err(|reason| TestFailure {
        outcome: CaseOutcome::Fail,
        reason: format!("constraint: {reason}"),
        constraint_kind: constraint_kind.clone(),
    })?;
    Ok(TestSetup {
        program,
        constraint,
        constraint_kind,
        matcher,
    })
}

fn run_test(loader: &Loader<'_>, test: &Value) -> Vec<CaseResult> {
    let test_name = text(test, "name");
    let cases: Vec<&Value> = test
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|case| !flag(case, "skip"))
        .collect();
    if flag(test, "invalid") {
        return vec![CaseResult {
            policy: test_name,
            rule: "(constraint)".to_string(),
            resource: text(test, "constraint"),
            expected: "invalid constraint".to_string(),
            actual: "unknown".to_string(),
            outcome: CaseOutcome::Unknown,
            reason: "because potoo does not validate constraints against their template's schema"
                .to_string(),
            policy_kind: String::new(),
            rule_kind: "rego".to_string(),
        }];
    }
    let setup = match setup(loader, test) {
        Ok(setup) => setup,
        Err(failure) => {
            let names: Vec<(String, String)> = if cases.is_empty() {
                vec![("(test)".to_string(), String::new())]
            } else {
                cases
                    .iter()
                    .map(|case| (text(case, "name"), text(case, "object")))
                    .collect()
            };
            return names
                .into_iter()
                .map(|(name, object)| CaseResult {
                    policy: test_name.clone(),
                    rule: name,
                    resource: object,
                    expected: String::new(),
                    actual: failure.outcome.as_str().to_string(),
                    outcome: failure.outcome,
                    reason: failure.reason.clone(),
                    policy_kind: failure.constraint_kind.clone(),
                    rule_kind: "rego".to_string(),
                })
                .collect();
        }
    };
    cases
        .into_iter()
        .map(|case| run_case(loader, &setup, &test_name, case))
        .collect()
}

/// One `assertions[]` entry.
struct Assertion {
    /// `None`: "yes".
    violations: Expected,
    message: Option<String>,
}

enum Expected {
    Yes,
    No,
    Exactly(u64),
}

impl Assertion {
    fn read(value: &Value, index: usize) -> Result<Assertion, String> {
        let invalid = || {
            format!(
                "assertions[{index}].violations, if set, must be a nonnegative integer, \"yes\", or \"no\""
            )
        };
        let violations = match value.get("violations") {
            None | Some(Value::Null) => Expected::Yes,
            Some(Value::Bool(true)) => Expected::Yes,
            Some(Value::Bool(false)) => Expected::No,
            Some(Value::String(word)) if word == "yes" => Expected::Yes,
            Some(Value::String(word)) if word == "no" => Expected::No,
            Some(Value::Number(count)) => Expected::Exactly(count.as_u64().ok_or_else(invalid)?),
            Some(_) => return Err(invalid()),
        };
        let message = match value.get("message") {
            None | Some(Value::Null) => None,
            Some(Value::String(pattern)) => Some(pattern.clone()),
            Some(other) => Some(other.to_string()),
        };
        Ok(Assertion {
            violations,
            message,
        })
    }

    fn describe(&self) -> String {
        let count = match self.violations {
            Expected::Yes => "yes".to_string(),
            Expected::No => "no".to_string(),
            Expected::Exactly(count) => count.to_string(),
        };
        match &self.message {
            Some(pattern) => format!("violations: {count} message: {pattern}"),
            None => format!("violations: {count}"),
        }
    }

    /// `Err` is gator's failure text for this assertion.
    fn check(&self, violations: &[Violation]) -> Result<(), String> {
        let pattern = match &self.message {
            Some(pattern) => Some(
                Regex::new(pattern)
                    .map_err(|error| format!("invalid message regex `{pattern}`: {error}"))?,
            ),
            None => None,
        };
        let matching = violations
            .iter()
            .filter(|violation| {
                pattern
                    .as_ref()
                    .is_none_or(|pattern| pattern.is_match(&violation.message))
            })
            .count() as u64;
        let containing = self
            .message
            .as_ref()
            .map(|pattern| format!(" containing {pattern:?}"))
            .unwrap_or_default();
        let failure = match self.violations {
            Expected::Exactly(count) if matching != count => Some(format!(
                "got {matching} violations{containing} but want exactly {count}"
            )),
            Expected::Yes if matching == 0 => Some(format!(
                "got {matching} violations{containing} but want at least 1"
            )),
            Expected::No if matching > 0 => Some(format!(
                "got {matching} violations{containing} but want none"
            )),
            _ => None,
        };
        match failure {
            None => Ok(()),
            Some(failure) => {
                let messages: Vec<&str> = violations
                    .iter()
                    .map(|violation| violation.message.as_str())
                    .collect();
                Err(format!("{failure}: got messages [{}]", messages.join(" ")))
            }
        }
    }
}

fn resource_label(object: &Value) -> String {
    let kind = text(object, "kind");
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        Some(namespace) if !namespace.is_empty() => format!("{kind}/{namespace}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

/// What a case computed, before the assertions.
struct CaseRun {
    resource: String,
    outcome: Result<Vec<Violation>, (CaseOutcome, String)>,
}

fn evaluate_case(loader: &Loader<'_>, setup: &TestSetup, case: &Value) -> CaseRun {
    let mut run = CaseRun {
        resource: text(case, "object"),
        outcome: Ok(Vec::new()),
    };
    let fail = |reason: String| Err((CaseOutcome::Fail, reason));
    let document = match loader.single(&text(case, "object"), "object") {
        Ok(document) => document,
        Err(error) => {
            run.outcome = fail(error);
            return run;
        }
    };
    let review = if Review::is_admission_review(&document) {
        match Review::of_admission_review(&document) {
            Ok(review) => review,
            Err(error) => {
                run.outcome = fail(format!("object: {error}"));
                return run;
            }
        }
    } else {
        Review::of_object(&document)
    };
    run.resource = resource_label(review.matched_object());
    let mut inventory = Inventory::new();
    for relative in case
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let documents = match loader.documents(relative) {
            Ok(documents) => documents,
            Err(error) => {
                run.outcome = fail(format!("inventory: {error}"));
                return run;
            }
        };
        for object in &documents {
            if let Err(error) = inventory.add(object) {
                run.outcome = fail(format!("inventory `{relative}`: {error}"));
                return run;
            }
        }
    }
    let program = match setup.program.with_data(&inventory.to_data()) {
        Ok(program) => program,
        Err(error) => {
            run.outcome = Err((CaseOutcome::Unknown, format!("because {error}")));
            return run;
        }
    };
    let namespace = review
        .request
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|namespace| !namespace.is_empty())
        .or_else(|| {
            review
                .matched_object()
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
        })
        .map(str::to_string);
    let namespace_object = namespace
        .as_deref()
        .and_then(|namespace| inventory.namespace(namespace));
    run.outcome = match review_constraint(
        &program,
        &setup.constraint,
        &setup.matcher,
        &review,
        namespace.as_deref(),
        namespace_object,
    ) {
        ConstraintOutcome::NotMatched => Ok(Vec::new()),
        ConstraintOutcome::Violations(violations) => Ok(violations),
        ConstraintOutcome::Unknown(reason) => Err((CaseOutcome::Unknown, reason)),
    };
    run
}

fn run_case(loader: &Loader<'_>, setup: &TestSetup, test_name: &str, case: &Value) -> CaseResult {
    let assertions: Result<Vec<Assertion>, String> = case
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, assertion)| Assertion::read(assertion, index))
        .collect();
    let mut result = CaseResult {
        policy: test_name.to_string(),
        rule: text(case, "name"),
        resource: text(case, "object"),
        expected: String::new(),
        actual: String::new(),
        outcome: CaseOutcome::Fail,
        reason: String::new(),
        policy_kind: setup.constraint_kind.clone(),
        rule_kind: "rego".to_string(),
    };
    let assertions = match assertions {
        Ok(assertions) if !assertions.is_empty() => assertions,
        Ok(_) => {
            result.actual = "error".to_string();
            result.reason = "assertions must be non-empty".to_string();
            return result;
        }
        Err(error) => {
            result.actual = "error".to_string();
            result.reason = error;
            return result;
        }
    };
    result.expected = assertions
        .iter()
        .map(Assertion::describe)
        .collect::<Vec<_>>()
        .join("; ");
    if text(case, "object").is_empty() {
        result.actual = "error".to_string();
        result.reason = "must define object".to_string();
        return result;
    }
    let run = evaluate_case(loader, setup, case);
    result.resource = run.resource;
    match run.outcome {
        Err((outcome, reason)) => {
            result.outcome = outcome;
            result.actual = if outcome == CaseOutcome::Unknown {
                "unknown".to_string()
            } else {
                "error".to_string()
            };
            result.reason = reason;
        }
        Ok(violations) => {
            result.actual = match violations.len() {
                1 => "1 violation".to_string(),
                count => format!("{count} violations"),
            };
            let failures: Vec<String> = assertions
                .iter()
                .filter_map(|assertion| assertion.check(&violations).err())
                .collect();
            if let Some(failure) = failures.into_iter().next() {
                result.reason = failure;
            } else {
                result.outcome = CaseOutcome::Pass;
                result.reason = violations
                    .iter()
                    .map(|violation| violation.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
            }
        }
    }
    result
}
