//! Renderers: one file per output format; each turns one report into text.

pub mod check;
pub mod check_junit;
pub mod check_markdown;
pub mod check_sarif;
pub mod connlist;
pub mod explain;
pub mod json;
pub mod reach;
pub mod remediation;
pub mod table;
pub mod yaml;

/// How to render for this invocation.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Colour escapes in tables (stdout is a terminal and colour is not disabled).
    pub color: bool,
    /// `-o wide`: extra columns.
    pub wide: bool,
}
