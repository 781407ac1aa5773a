//! `check` for CI: the SARIF, JUnit and Markdown outputs (insta goldens under
//! `testdata/snapshots/check_outputs_*`), SARIF validated against the SARIF 2.1.0 JSON schema and
//! JUnit against the Jenkins xUnit `junit-10.xsd` (both in `testdata/check-outputs/schemas/`),
//! `--fail-on` exit codes, `--server-dry-run` refusals, and the dry run against a fake apiserver.

mod common;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use common::{potoo, stdout_with_code};

const CLUSTER: &str = "testdata/check/cluster.yaml";
const MANIFESTS: &str = "testdata/check/manifests";
const SARIF_SCHEMA: &str = "testdata/check-outputs/schemas/sarif-schema-2.1.0.json";
const JUNIT_SCHEMA: &str = "testdata/check-outputs/schemas/junit-10.xsd";

fn check_output(format: &str) -> String {
    stdout_with_code(
        &["check", "-f", MANIFESTS, "--from", CLUSTER, "-o", format],
        1,
    )
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../testdata/snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A JSON Schema (draft-04) validator for the keywords the SARIF schema uses. A keyword it does
// not know fails the test, so the schema cannot silently outgrow it.

struct JsonSchema {
    root: Value,
}

const KNOWN_KEYWORDS: &[&str] = &[
    "$schema",
    "$ref",
    "id",
    "title",
    "description",
    "default",
    "definitions",
    "type",
    "properties",
    "additionalProperties",
    "required",
    "enum",
    "items",
    "minItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "oneOf",
    "anyOf",
];

impl JsonSchema {
    fn validate(&self, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(&self.root, value, "$", &mut errors);
        errors
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.trim_start_matches("#/definitions/");
                &self.root["definitions"][name]
            }
            None => schema,
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(object) = schema.as_object() else {
            return;
        };
        for keyword in object.keys() {
            if !KNOWN_KEYWORDS.contains(&keyword.as_str()) {
                errors.push(format!(
                    "{at}: the test validator does not know `{keyword}`"
                ));
            }
        }
        if let Some(types) = object.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(single) => vec![single.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let matches = allowed.iter().any(|kind| match *kind {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            });
            if !matches {
                errors.push(format!("{at}: {value} is not of type {allowed:?}"));
                return;
            }
        }
        if let Some(Value::Array(options)) = object.get("enum")
            && !options.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
        if let Some(number) = value.as_f64() {
            if let Some(minimum) = object.get("minimum").and_then(Value::as_f64)
                && number < minimum
            {
                errors.push(format!("{at}: {number} < minimum {minimum}"));
            }
            if let Some(maximum) = object.get("maximum").and_then(Value::as_f64)
                && number > maximum
            {
                errors.push(format!("{at}: {number} > maximum {maximum}"));
            }
        }
        if let (Some(text), Some(pattern)) = (
            value.as_str(),
            object.get("pattern").and_then(Value::as_str),
        ) && !regex::Regex::new(pattern).unwrap().is_match(text)
        {
            errors.push(format!("{at}: `{text}` does not match /{pattern}/"));
        }
        if let Some(items) = value.as_array() {
            if let Some(minimum) = object.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < minimum
            {
                errors.push(format!("{at}: fewer than {minimum} items"));
            }
            if object.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (index, item) in items.iter().enumerate() {
                    if items[..index].contains(item) {
                        errors.push(format!("{at}[{index}]: duplicate item"));
                    }
                }
            }
            if let Some(item_schema) = object.get("items") {
                for (index, item) in items.iter().enumerate() {
                    self.check(item_schema, item, &format!("{at}[{index}]"), errors);
                }
            }
        }
        if let Some(map) = value.as_object() {
            if let Some(Value::Array(required)) = object.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        errors.push(format!("{at}: missing required `{name}`"));
                    }
                }
            }
            let properties = object.get("properties").and_then(Value::as_object);
            for (name, member) in map {
                let path = format!("{at}.{name}");
                match properties.and_then(|properties| properties.get(name)) {
                    Some(member_schema) => self.check(member_schema, member, &path, errors),
                    None => match object.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{at}: property `{name}` is not allowed"));
                        }
                        Some(extra) if extra.is_object() => {
                            self.check(extra, member, &path, errors)
                        }
                        _ => {}
                    },
                }
            }
        }
        for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
            if let Some(Value::Array(options)) = object.get(keyword) {
                let passing = options
                    .iter()
                    .filter(|option| {
                        let mut option_errors = Vec::new();
                        self.check(option, value, at, &mut option_errors);
                        option_errors.is_empty()
                    })
                    .count();
                if (exactly_one && passing != 1) || (!exactly_one && passing == 0) {
                    errors.push(format!("{at}: {passing} of the {keyword} schemas match"));
                }
            }
        }
    }
}

#[test]
fn the_schema_validator_rejects_what_the_sarif_schema_forbids() {
    let schema = JsonSchema {
        root: serde_json::from_str(&read(SARIF_SCHEMA)).unwrap(),
    };
    let valid =
        json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]});
    assert_eq!(schema.validate(&valid), Vec::<String>::new());
    let wrong_version = json!({"version": "2.0.0", "runs": []});
    assert!(!schema.validate(&wrong_version).is_empty());
    let bad_level = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "level": "fatal"}]}]});
    assert!(!schema.validate(&bad_level).is_empty());
    let unknown_property =
        json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "colour": 1}}}]});
    assert!(!schema.validate(&unknown_property).is_empty());
    let zero_line = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]});
    assert!(!schema.validate(&zero_line).is_empty());
}

#[test]
fn sarif_is_valid_sarif_2_1_0_with_stable_rules_lines_and_fingerprints() {
    let text = check_output("sarif");
    snapshot!("check_outputs_sarif", &text);
    let document: Value = serde_json::from_str(&text).unwrap();
    let schema = JsonSchema {
        root: serde_json::from_str(&read(SARIF_SCHEMA)).unwrap(),
    };
    assert_eq!(schema.validate(&document), Vec::<String>::new());

    let run = &document["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "potoo");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    let mut sorted = rule_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(rule_ids, sorted, "rule ids are unique and ordered");
    assert!(rule_ids.contains(&"potoo/PodSecurity/privileged"));
    let results = run["results"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["potooFinding/v1"].is_string());
    }
    let privileged = results
        .iter()
        .find(|result| result["ruleId"] == "potoo/PodSecurity/privileged")
        .unwrap();
    assert_eq!(privileged["level"], "error");
    let location = &privileged["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "testdata/check/manifests/02-agent.yaml"
    );
    // `privileged: true` is on line 17 of 02-agent.yaml.
    assert_eq!(location["region"]["startLine"], 17);
    let levels: Vec<&str> = results
        .iter()
        .map(|result| result["level"].as_str().unwrap())
        .collect();
    for level in ["error", "warning", "note"] {
        assert!(levels.contains(&level), "{level} in {levels:?}");
    }
    // Fingerprints do not depend on lines: the same finding in a file shifted down keeps it.
    let fingerprints: Vec<&Value> = results
        .iter()
        .map(|result| &result["partialFingerprints"]["potooFinding/v1"])
        .collect();
    let mut unique = fingerprints.clone();
    unique.dedup();
    assert_eq!(unique.len(), fingerprints.len());
}

#[test]
fn sarif_fingerprints_survive_lines_moving() {
    let directory = tempfile::tempdir().unwrap();
    let original = read("testdata/check/manifests/02-agent.yaml");
    let shifted = format!("# one\n# two\n# three\n{original}");
    let first = directory.path().join("a.yaml");
    std::fs::write(&first, &original).unwrap();
    let fingerprints = |path: &std::path::Path| {
        let text = stdout_with_code(
            &[
                "check",
                "-f",
                path.to_str().unwrap(),
                "--from",
                CLUSTER,
                "-o",
                "sarif",
            ],
            1,
        );
        let document: Value = serde_json::from_str(&text).unwrap();
        document["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| {
                (
                    result["partialFingerprints"]["potooFinding/v1"].clone(),
                    result["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = fingerprints(&first);
    std::fs::write(&first, shifted).unwrap();
    let after = fingerprints(&first);
    assert_eq!(before.len(), after.len());
    for ((fingerprint_before, line_before), (fingerprint_after, line_after)) in
        before.iter().zip(&after)
    {
        assert_eq!(fingerprint_before, fingerprint_after);
        assert_eq!(
            line_before.as_u64().unwrap() + 3,
            line_after.as_u64().unwrap()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A small XML reader and a validator for the subset of XML Schema `junit-10.xsd` uses: global
// `xs:element`s with a `complexType` of attributes (`use="required"`) and child element refs in
// `xs:sequence`/`xs:choice`, or a simple `type` (text only).

#[derive(Debug, Clone, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(position) = rest.find('&') {
        out.push_str(&rest[..position]);
        let end = rest[position..].find(';').expect("entity ends with `;`") + position;
        let entity = &rest[position + 1..end];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            numeric if numeric.starts_with('#') => {
                char::from_u32(numeric[1..].parse().expect("decimal reference")).unwrap()
            }
            other => panic!("unknown entity &{other};"),
        });
        rest = &rest[end + 1..];
    }
    assert!(!rest.contains('<'), "unescaped `<` in text");
    out.push_str(rest);
    out
}

/// Parses a well-formed XML document (no DTD, no CDATA) into its root element; panics on
/// anything malformed, which fails the test.
fn parse_xml(text: &str) -> Element {
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>").unwrap() + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->").unwrap() + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').unwrap();
            let name = after[..end].trim();
            let element = stack.pop().unwrap();
            assert_eq!(element.name, name, "mismatched closing tag");
            stack.last_mut().unwrap().children.push(element);
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').unwrap();
            let mut tag = &after[..end];
            let self_closing = tag.ends_with('/');
            if self_closing {
                tag = &tag[..tag.len() - 1];
            }
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let mut element = Element {
                name: tag[..name_end].to_string(),
                ..Element::default()
            };
            let mut attributes = tag[name_end..].trim();
            while !attributes.is_empty() {
                let equals = attributes.find('=').unwrap();
                let name = attributes[..equals].trim().to_string();
                let quoted = attributes[equals + 1..].trim_start();
                let quote = quoted.chars().next().unwrap();
                assert!(
                    quote == '"' || quote == '\'',
                    "attribute `{name}` is not quoted"
                );
                let close = quoted[1..].find(quote).unwrap() + 1;
                let value = unescape(&quoted[1..close]);
                assert!(
                    element.attributes.insert(name.clone(), value).is_none(),
                    "duplicate attribute `{name}`"
                );
                attributes = quoted[close + 1..].trim_start();
            }
            if self_closing {
                stack.last_mut().unwrap().children.push(element);
            } else {
                stack.push(element);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = unescape(&rest[..end]);
            stack.last_mut().unwrap().text.push_str(&text);
            rest = &rest[end..];
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

/// What the XSD allows for one element.
#[derive(Debug, Default)]
struct ElementRule {
    attributes: Vec<String>,
    required: Vec<String>,
    children: Vec<String>,
    text_only: bool,
}

fn collect(node: &Element, rule: &mut ElementRule) {
    for child in &node.children {
        match child.name.as_str() {
            "xs:attribute" => {
                let name = child.attributes["name"].clone();
                if child.attributes.get("use").map(String::as_str) == Some("required") {
                    rule.required.push(name.clone());
                }
                rule.attributes.push(name);
            }
            "xs:element" => {
                if let Some(reference) = child.attributes.get("ref") {
                    rule.children.push(reference.clone());
                } else {
                    rule.children.push(child.attributes["name"].clone());
                }
            }
            _ => collect(child, rule),
        }
    }
}

fn xsd_rules(xsd: &Element) -> BTreeMap<String, ElementRule> {
    let mut types: BTreeMap<String, ElementRule> = BTreeMap::new();
    for node in &xsd.children {
        if node.name == "xs:complexType" {
            let mut rule = ElementRule::default();
            collect(node, &mut rule);
            types.insert(node.attributes["name"].clone(), rule);
        }
    }
    let mut rules = BTreeMap::new();
    for node in xsd.children.iter().filter(|node| node.name == "xs:element") {
        let name = node.attributes["name"].clone();
        let mut rule = ElementRule::default();
        match node.attributes.get("type") {
            Some(kind) if kind.starts_with("xs:") => rule.text_only = true,
            Some(kind) => {
                let named = &types[kind];
                rule.attributes = named.attributes.clone();
                rule.required = named.required.clone();
                rule.children = named.children.clone();
            }
            None => collect(node, &mut rule),
        }
        rules.insert(name, rule);
    }
    rules
}

fn validate_xml(
    element: &Element,
    rules: &BTreeMap<String, ElementRule>,
    errors: &mut Vec<String>,
) {
    let Some(rule) = rules.get(&element.name) else {
        errors.push(format!("<{}> is not declared", element.name));
        return;
    };
    for name in element.attributes.keys() {
        if !rule.attributes.contains(name) {
            errors.push(format!(
                "<{}> has undeclared attribute `{name}`",
                element.name
            ));
        }
    }
    for name in &rule.required {
        if !element.attributes.contains_key(name) {
            errors.push(format!(
                "<{}> lacks required attribute `{name}`",
                element.name
            ));
        }
    }
    if rule.text_only && !element.children.is_empty() {
        errors.push(format!("<{}> must hold text only", element.name));
    }
    for child in &element.children {
        if !rule.children.contains(&child.name) {
            errors.push(format!(
                "<{}> may not contain <{}>",
                element.name, child.name
            ));
        }
        validate_xml(child, rules, errors);
    }
}

fn junit_errors(text: &str) -> Vec<String> {
    let rules = xsd_rules(&parse_xml(&read(JUNIT_SCHEMA)));
    let document = parse_xml(text);
    let mut errors = Vec::new();
    if document.name != "testsuites" {
        errors.push(format!("the root is <{}>", document.name));
    }
    validate_xml(&document, &rules, &mut errors);
    errors
}

#[test]
fn the_xsd_validator_rejects_what_the_junit_schema_forbids() {
    assert_eq!(
        junit_errors(
            "<testsuites><testsuite name=\"a\" tests=\"0\" failures=\"0\" errors=\"0\"/></testsuites>"
        ),
        Vec::<String>::new()
    );
    assert!(!junit_errors("<testsuites><testsuite name=\"a\"/></testsuites>").is_empty());
    assert!(!junit_errors("<testsuites><testcase name=\"a\"/></testsuites>").is_empty());
    assert!(
        !junit_errors("<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase name=\"x\" colour=\"red\"/></testsuite></testsuites>")
            .is_empty()
    );
}

#[test]
fn junit_is_valid_against_the_jenkins_xsd_with_one_case_per_object() {
    let text = check_output("junit");
    snapshot!("check_outputs_junit", &text);
    assert_eq!(junit_errors(&text), Vec::<String>::new());
    let document = parse_xml(&text);
    assert_eq!(document.attributes["tests"], "5");
    assert_eq!(document.attributes["failures"], "1");
    let suites = &document.children;
    assert_eq!(suites.len(), 3, "one suite per manifest file");
    let agent = &suites[1];
    assert_eq!(
        agent.attributes["name"],
        "testdata/check/manifests/02-agent.yaml"
    );
    assert_eq!(agent.attributes["skipped"], "1");
    let blocked = &agent.children[0];
    assert_eq!(blocked.attributes["name"], "DaemonSet/node-agent in team-a");
    assert_eq!(blocked.children[0].name, "failure");
    assert_eq!(blocked.children[0].attributes["type"], "blocked");
    assert!(blocked.children[0].text.contains("02-agent.yaml:17"));
    let unknown = &agent.children[1];
    assert_eq!(unknown.children[0].name, "skipped");
}

#[test]
fn junit_fails_warnings_and_unknowns_when_fail_on_says_so() {
    let text = stdout_with_code(
        &[
            "check",
            "-f",
            MANIFESTS,
            "--from",
            CLUSTER,
            "-o",
            "junit",
            "--fail-on",
            "warning",
        ],
        1,
    );
    assert_eq!(junit_errors(&text), Vec::<String>::new());
    let document = parse_xml(&text);
    // Blocked, unknown and warning objects fail; the two admitted ones pass.
    assert_eq!(document.attributes["failures"], "3");
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let text = check_output("markdown");
    snapshot!("check_outputs_markdown", &text);
    assert!(text.starts_with(
        "### potoo check: 5 objects: 1 blocked, 1 unknown, 1 admitted with warnings, 2 admitted\n"
    ));
    assert!(
        text.contains("<details><summary>1 constraint not evaluated by potoo (unknown)</summary>")
    );
    assert!(text.contains("`testdata/check/manifests/02-agent.yaml:17` `spec.template.spec.containers[0].securityContext.privileged`"));
    for line in text.lines().filter(|line| line.starts_with("| ")) {
        assert_eq!(
            line.replace("\\|", "").matches('|').count(),
            6,
            "five cells per row: {line}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Exit codes.

fn exit_code(manifests: &str, fail_on: Option<&str>) -> i32 {
    let mut arguments = vec!["check", "-f", manifests, "--from", CLUSTER, "-o", "json"];
    if let Some(fail_on) = fail_on {
        arguments.extend(["--fail-on", fail_on]);
    }
    potoo(&arguments).get_output().status.code().unwrap()
}

#[test]
fn fail_on_tightens_the_exit_code() {
    let admitted = "testdata/check/manifests/01-web.yaml";
    let warning = "testdata/check/manifests/03-namespace.yaml";
    let directory = tempfile::tempdir().unwrap();
    let unknown = directory.path().join("debug.yaml");
    let agent = read("testdata/check/manifests/02-agent.yaml");
    let pod = agent.split("\n---\n").nth(1).unwrap();
    std::fs::write(&unknown, pod).unwrap();
    let unknown = unknown.to_str().unwrap();
    let blocked = MANIFESTS;

    assert_eq!(exit_code(admitted, None), 0);
    assert_eq!(exit_code(warning, None), 0);
    assert_eq!(exit_code(unknown, None), 0);
    assert_eq!(exit_code(blocked, None), 1);

    assert_eq!(exit_code(admitted, Some("unknown")), 0);
    assert_eq!(exit_code(warning, Some("unknown")), 0);
    assert_eq!(exit_code(unknown, Some("unknown")), 1);

    assert_eq!(exit_code(admitted, Some("warning")), 0);
    assert_eq!(exit_code(warning, Some("warning")), 1);
    assert_eq!(exit_code(unknown, Some("warning")), 1);

    assert_eq!(exit_code(blocked, Some("blocked")), 1);
    assert_eq!(exit_code(warning, Some("blocked")), 0);
}

#[test]
fn server_dry_run_needs_a_live_cluster() {
    let output = potoo(&[
        "check",
        "-f",
        MANIFESTS,
        "--from",
        CLUSTER,
        "--server-dry-run",
    ])
    .code(2)
    .get_output()
    .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`--server-dry-run` sends the objects to a live apiserver and cannot be used with `--from`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn other_commands_refuse_the_check_formats() {
    for format in ["sarif", "markdown"] {
        let output = potoo(&["status", "--from", CLUSTER, "-o", format])
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(&format!("`status` cannot write `-o {format}`")),
            "{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks that would be called, and network warnings (`testdata/check-outputs/scenario/`).

const SCENARIO_CLUSTER: &str = "testdata/check-outputs/scenario/cluster.yaml";

fn scenario_json(manifest: &str) -> Value {
    let text = stdout_with_code(
        &[
            "check",
            "-f",
            manifest,
            "--from",
            SCENARIO_CLUSTER,
            "-o",
            "json",
        ],
        0,
    );
    serde_json::from_str(&text).unwrap()
}

fn unknown_webhooks(object: &Value) -> Vec<String> {
    object["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["verdict"] == "unknown")
        .map(|finding| finding["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_the_webhooks_that_would_be_called_are_unknown() {
    let text = stdout_with_code(
        &[
            "check",
            "-f",
            "testdata/check-outputs/scenario/api.yaml",
            "--from",
            SCENARIO_CLUSTER,
        ],
        0,
    );
    snapshot!("check_outputs_scenario_table", &text);
    let document = scenario_json("testdata/check-outputs/scenario/api.yaml");
    let object = &document["objects"][0];
    // The sidecar injector (mutating, namespaceSelector team=shop) is called for the Pods; the
    // batch webhook's objectSelector, the replicas webhook's matchCondition (2 > 5) and the
    // scale subresource rule leave the others out.
    assert_eq!(unknown_webhooks(object), vec!["inject.sidecar.example.com"]);
    let sidecar = &object["findings"][0];
    assert_eq!(sidecar["viaPodTemplate"], true);
    let reason = sidecar["reason"].as_str().unwrap();
    assert!(
        reason.contains("failurePolicy Ignore, timeout 5s, sideEffects None"),
        "{reason}"
    );

    let directory = tempfile::tempdir().unwrap();
    let scaled = directory.path().join("api.yaml");
    std::fs::write(
        &scaled,
        read("testdata/check-outputs/scenario/api.yaml").replace("replicas: 2", "replicas: 6"),
    )
    .unwrap();
    let document = scenario_json(scaled.to_str().unwrap());
    assert_eq!(
        unknown_webhooks(&document["objects"][0]),
        vec!["inject.sidecar.example.com", "replicas.example.com"]
    );
}

#[test]
fn pods_get_network_warnings_for_default_deny_egress_without_dns() {
    let document = scenario_json("testdata/check-outputs/scenario/api.yaml");
    let network = document["objects"][0]["network"].as_array().unwrap();
    assert_eq!(network.len(), 1);
    assert_eq!(network[0]["direction"], "egress");
    assert_eq!(
        network[0]["message"],
        "egress from these pods is default-denied by NetworkPolicy `deny-all`, `to-db`; allowed: TCP 5432 to app=db; no DNS (UDP/TCP 53) egress allowed"
    );
    let sarif: Value = serde_json::from_str(&stdout_with_code(
        &[
            "check",
            "-f",
            "testdata/check-outputs/scenario/api.yaml",
            "--from",
            SCENARIO_CLUSTER,
            "-o",
            "sarif",
        ],
        0,
    ))
    .unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"potoo/network/egress"), "{rules:?}");
}

#[test]
fn the_reach_engine_answers_for_dns_when_the_dns_service_was_read() {
    let document = scenario_json("testdata/check-outputs/scenario/two-namespaces.yaml");
    let objects = document["objects"].as_array().unwrap();
    let network = objects[0]["network"].as_array().unwrap();
    assert_eq!(network.len(), 1);
    let message = network[0]["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "DNS egress (UDP 53 to Service kube-system/kube-dns) is denied: egress denied: isolated by NetworkPolicy/shop/deny-all, NetworkPolicy/shop/to-db, no rule allows `kube-system/coredns-1[Pod]` on UDP/53"
        ),
        "{message}"
    );
    // A Pod in a namespace without policies lives under no restriction.
    assert_eq!(objects[1]["network"], json!([]));
}

#[test]
fn detail_levels_show_the_target_namespace_and_hide_cluster_scoped_names_at_summary() {
    // The namespace a manifest is deployed into is the user's own (they are deploying there):
    // its NetworkPolicies stay readable at every level; a cluster-scoped webhook is outside it
    // and is named by kind and type only at `summary`.
    let document = |level: &str| -> Value {
        serde_json::from_str(&stdout_with_code(
            &[
                "check",
                "-f",
                "testdata/check-outputs/scenario/api.yaml",
                "--from",
                SCENARIO_CLUSTER,
                "-o",
                "json",
                "--detail",
                level,
            ],
            0,
        ))
        .unwrap()
    };
    for level in ["full", "detailed", "summary"] {
        let warning = &document(level)["objects"][0]["network"][0];
        assert!(
            warning["message"].as_str().unwrap().contains("TCP 5432"),
            "{level}: {warning}"
        );
        assert_eq!(
            warning["constraintIds"][0],
            "NetworkPolicy/shop/deny-all#egress"
        );
    }
    let webhook =
        "MutatingWebhookConfiguration/_cluster/sidecar-injector#inject.sidecar.example.com";
    assert_eq!(
        document("detailed")["objects"][0]["findings"][0]["constraintId"],
        webhook
    );
    let summary = document("summary");
    let finding = &summary["objects"][0]["findings"][0];
    assert_eq!(
        finding["constraintId"],
        "MutatingWebhookConfiguration/_cluster/<hidden>"
    );
    assert!(
        !summary.to_string().contains("sidecar-injector"),
        "{summary}"
    );
}

#[test]
fn webhooks_on_cluster_scoped_objects_are_never_passed_over() {
    let document = scenario_json("testdata/check-outputs/scenario/namespaces.yaml");
    let objects = document["objects"].as_array().unwrap();
    // `new-team` carries the `team` label the webhook's namespaceSelector asks for (a Namespace
    // is matched on its own labels); `sandbox` does not.
    assert_eq!(objects[0]["verdict"], "unknown");
    assert_eq!(
        unknown_webhooks(&objects[0]),
        vec!["namespaces.example.com"]
    );
    let reason = objects[0]["findings"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("called for CREATE v1/namespaces"),
        "{reason}"
    );
    assert_eq!(objects[1]["verdict"], "pass");
    assert_eq!(objects[1]["findings"], json!([]));
}
