//! `-o connlist`: np-guard netpol-analyzer's text form, one `src => dst : conns` line per
//! allowed connection, sorted as that tool sorts (by the whole line).

use crate::engine::network::connlist::ConnectivityList;
use crate::engine::network::verdict::ReachResult;

/// Every line of a connectivity list, newline-terminated; empty when nothing is allowed.
pub fn render(list: &ConnectivityList) -> String {
    let mut text = String::new();
    for entry in &list.connections {
        text.push_str(&entry.line());
        text.push('\n');
    }
    text
}

/// One `reach` answer as connlist lines: one per evaluated pair that allows something.
pub fn reach(result: &ReachResult) -> String {
    let mut lines: Vec<String> = result
        .pairs
        .iter()
        .filter(|pair| !pair.connections.is_empty())
        .map(|pair| {
            format!(
                "{} => {} : {}",
                pair.source,
                pair.destination,
                pair.connections.connlist_text()
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}
