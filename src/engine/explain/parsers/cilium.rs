//! Cilium drops as Hubble prints them: `SRC:PORT (ID:N) <> DST:PORT (ID:N) Policy denied DROPPED
//! (TCP Flags: SYN)` and `policy-verdict:none INGRESS DENIED`, and `cilium monitor`'s
//! `drop (Policy denied)`. Endpoints are `NAMESPACE/POD:PORT` or `IP:PORT`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static FLOW: Pattern = LazyLock::new(|| {
    Regex::new(r"(?P<source>[\w.-]+/[\w.-]+|\d+\.\d+\.\d+\.\d+)(?::(?P<source_port>\d+))?(?: \([^)]*\))* (?:<>|->) (?P<destination>[\w.-]+/[\w.-]+|\d+\.\d+\.\d+\.\d+)(?::(?P<port>\d+))?(?: \([^)]*\))* (?P<verdict>Policy denied DROPPED|policy-verdict:\S+ (?P<direction>INGRESS|EGRESS) DENIED)(?: \((?P<protocol>TCP|UDP|ICMP\w*|SCTP)\b)?").ok()
});
static MONITOR: Pattern = LazyLock::new(|| {
    Regex::new(r"drop \(Policy denied\).*?(?P<source>\d+\.\d+\.\d+\.\d+):(?P<source_port>\d+) -> (?P<destination>\d+\.\d+\.\d+\.\d+):(?P<port>\d+)").ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    let found = captures(&FLOW, text).or_else(|| captures(&MONITOR, text))?;
    let source = group(&found, "source").unwrap_or_default();
    let destination = group(&found, "destination").unwrap_or_default();
    let port = group(&found, "port");
    let direction = group(&found, "direction").map(str::to_ascii_lowercase);
    let mut parsed = Parsed::new(
        Family::Cilium,
        format!(
            "Cilium dropped traffic from `{source}` to `{destination}`{}{}: a policy isolates {} and none allows this flow",
            port.map(|port| format!(" port {port}")).unwrap_or_default(),
            direction
                .as_deref()
                .map(|direction| format!(" on {direction}"))
                .unwrap_or_default(),
            match direction.as_deref() {
                Some("egress") => "the source",
                Some("ingress") => "the destination",
                _ => "one side",
            }
        ),
    );
    parsed.identify("source", Some(source));
    parsed.identify("destination", Some(destination));
    parsed.identify("port", port);
    parsed.identify("protocol", group(&found, "protocol"));
    parsed.identify("direction", direction.as_deref());
    parsed.causes.push(Cause {
        name: Some("Policy denied".to_string()),
        message: group(&found, "verdict")
            .unwrap_or("drop (Policy denied)")
            .to_string(),
        ..Cause::default()
    });
    Some(parsed)
}
