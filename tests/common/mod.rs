//! Helpers shared by the integration tests: running the real binary and comparing JSON by subset.
//!
//! Each integration test is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// Runs `kubectl-potoo` from the repository root without colours and without a kubeconfig.
pub fn potoo(arguments: &[&str]) -> assert_cmd::assert::Assert {
    let mut command = cargo_bin_cmd!("kubectl-potoo");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG");
    command.args(arguments).assert()
}

/// Standard output of a run that must succeed.
pub fn stdout_of(arguments: &[&str]) -> String {
    let output = potoo(arguments).success().get_output().clone();
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Standard output of a run that must exit with `code`.
pub fn stdout_with_code(arguments: &[&str], code: i32) -> String {
    let output = potoo(arguments).code(code).get_output().clone();
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Every key in `expected` must be present in `actual` with an equal value (objects recursively;
/// lists element by element and of the same length).
pub fn assert_subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(expected_fields), Value::Object(actual_fields)) => {
            for (key, expected_value) in expected_fields {
                let actual_value = actual_fields
                    .get(key)
                    .ok_or_else(|| format!("{path}.{key}: missing in {actual}"))?;
                assert_subset(expected_value, actual_value, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(expected_items), Value::Array(actual_items)) => {
            if expected_items.len() != actual_items.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    expected_items.len(),
                    actual_items.len()
                ));
            }
            for (index, (expected_item, actual_item)) in
                expected_items.iter().zip(actual_items).enumerate()
            {
                assert_subset(expected_item, actual_item, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}
