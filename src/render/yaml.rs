//! YAML output: the report document as YAML (same fields as JSON).

use serde::Serialize;

pub fn render<T: Serialize>(report: &T) -> anyhow::Result<String> {
    // Going through serde_json::Value keeps field order and `[]` for empty lists identical to JSON.
    let value = serde_json::to_value(report)?;
    let text = serde_saphyr::to_string(&value)
        .map_err(|error| anyhow::anyhow!("cannot write YAML: {error}"))?;
    Ok(text)
}
