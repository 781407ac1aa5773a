//! JSON output: the report document as pretty-printed JSON with a trailing newline.

use serde::Serialize;

pub fn render<T: Serialize>(report: &T) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}
