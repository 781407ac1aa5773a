//! Go and curl network errors: `dial tcp IP:PORT: connect: connection refused`, `… i/o timeout`,
//! `… connect: no route to host`, `read tcp A->B: read: connection reset by peer`, `dial tcp:
//! lookup HOST on DNS: no such host`, `context deadline exceeded`, curl's `Failed to connect to
//! HOST port PORT … Connection refused` and `Connection timed out`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static DIAL: Pattern = LazyLock::new(|| {
    Regex::new(r"(?:dial|read|write) (?:tcp|udp)[46]? (?:[\d.]+:\d+->)?(?P<host>\[[0-9a-fA-F:]+\]|[\w.-]+):(?P<port>\d+)").ok()
});
static LOOKUP: Pattern = LazyLock::new(|| {
    Regex::new(r"lookup (?P<host>[\w.-]+)(?: on [\w.:\[\]]+)?: no such host").ok()
});
static CURL: Pattern = LazyLock::new(|| {
    Regex::new(r"(?i)(?:Failed to connect to|Connection timed out after \d+ milliseconds|connect to) (?P<host>[\w.-]+)? ?port (?P<port>\d+)").ok()
});
/// A pod named in the text (`pod/web-1`, `team-a/pod/web-1`): the client, when no --workload.
static POD: Pattern = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[\s(])(?:(?P<namespace>[a-z0-9][a-z0-9-]*)/)?pods?/(?P<name>[a-z0-9][a-z0-9.-]*)",
    )
    .ok()
});
static URL: Pattern = LazyLock::new(|| {
    Regex::new(r#"(?:https?|grpc|tcp)://(?P<host>[\w.-]+)(?::(?P<port>\d+))?"#).ok()
});

/// (error class, matched text, what it usually means)
fn classify(text: &str) -> Option<(&'static str, &'static str)> {
    let lowered = text.to_ascii_lowercase();
    let classes: [(&str, &str, &str); 9] = [
        (
            "no such host",
            "dns",
            "the name does not resolve: check the Service name and namespace, or DNS egress",
        ),
        (
            "connection refused",
            "refused",
            "the destination answered but nothing listens on that port (a NetworkPolicy drops, it does not refuse): check the Service targetPort and the pod",
        ),
        (
            "i/o timeout",
            "timeout",
            "no answer: packets are dropped on the way, typically by a NetworkPolicy on either side",
        ),
        (
            "timed out",
            "timeout",
            "no answer: packets are dropped on the way, typically by a NetworkPolicy on either side",
        ),
        (
            "timeout was reached",
            "timeout",
            "no answer: packets are dropped on the way, typically by a NetworkPolicy on either side",
        ),
        (
            "context deadline exceeded",
            "timeout",
            "no answer in time: dropped traffic (NetworkPolicy) or a slow destination",
        ),
        (
            "no route to host",
            "noRoute",
            "no route: the destination is gone, or a CNI rejects the traffic by policy",
        ),
        (
            "connection reset",
            "reset",
            "the connection was reset: mTLS/protocol mismatch, a proxy, or the app closed it",
        ),
        (
            "network is unreachable",
            "unreachable",
            "the network is unreachable from the source",
        ),
    ];
    classes
        .iter()
        .find(|(needle, _, _)| lowered.contains(needle))
        .map(|(_, class, meaning)| (*class, *meaning))
}

pub fn parse(text: &str) -> Option<Parsed> {
    let (class, meaning) = classify(text)?;
    let (host, port) = if let Some(found) = captures(&DIAL, text) {
        (group(&found, "host"), group(&found, "port"))
    } else if let Some(found) = captures(&LOOKUP, text) {
        (group(&found, "host"), None)
    } else if let Some(found) = captures(&CURL, text) {
        (group(&found, "host"), group(&found, "port"))
    } else if let Some(found) = captures(&URL, text) {
        (group(&found, "host"), group(&found, "port"))
    } else {
        (None, None)
    };
    let host = host.map(|host| host.trim_start_matches('[').trim_end_matches(']'));
    let destination = match (host, port) {
        (Some(host), Some(port)) => format!("`{host}:{port}`"),
        (Some(host), None) => format!("`{host}`"),
        _ => "the destination".to_string(),
    };
    let mut parsed = Parsed::new(
        Family::Network,
        format!("connecting to {destination} failed ({class}): {meaning}"),
    );
    let is_address = host.is_some_and(|host| host.parse::<std::net::IpAddr>().is_ok());
    parsed.identify(if is_address { "ip" } else { "host" }, host);
    parsed.identify("port", port);
    parsed.identify("error", Some(class));
    if let Some(pod) = captures(&POD, text) {
        let name = group(&pod, "name").unwrap_or_default();
        let client = match group(&pod, "namespace") {
            Some(namespace) => format!("{namespace}/pod/{name}"),
            None => format!("pod/{name}"),
        };
        parsed.identify("pod", Some(&client));
    }
    parsed.causes.push(Cause {
        name: Some(class.to_string()),
        message: meaning.to_string(),
        ..Cause::default()
    });
    Some(parsed)
}
