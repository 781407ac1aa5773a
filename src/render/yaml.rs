//! YAML output: the report document as YAML (the same fields, in the same order, as JSON).

use serde::Serialize;

pub fn render<T: Serialize>(report: &T) -> anyhow::Result<String> {
    // Long one-line strings stay on one line (like kubectl's YAML); multi-line ones use `|`.
    let options = serde_saphyr::ser_options! {
        folded_wrap_chars: usize::MAX,
    };
    serde_saphyr::to_string_with_options(report, options)
        .map_err(|error| anyhow::anyhow!("cannot write YAML: {error}"))
}
