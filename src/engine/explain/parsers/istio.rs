//! Istio/Envoy errors: `RBAC: access denied` (an AuthorizationPolicy denied the request),
//! `upstream connect error or disconnect/reset before headers. [retried and the latest] reset
//! reason: REASON[, transport failure reason: TRANSPORT]` (mTLS mismatch, refused or terminated
//! upstream), `no healthy upstream` and `upstream request timeout`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static ACCESS_DENIED: Pattern = LazyLock::new(|| Regex::new(r"RBAC: access denied").ok());
static RESET: Pattern = LazyLock::new(|| {
    Regex::new(r"upstream connect error or disconnect/reset before headers\.?\s*(?:(?P<retried>retried and the latest )?reset reason: (?P<reason>[^,\n]+)(?:, transport failure reason: (?P<transport>[^\n]+))?)?").ok()
});
static OTHER: Pattern =
    LazyLock::new(|| Regex::new(r"(?P<what>no healthy upstream|upstream request timeout)").ok());

pub fn parse(text: &str) -> Option<Parsed> {
    if captures(&ACCESS_DENIED, text).is_some() {
        let mut parsed = Parsed::new(
            Family::Istio,
            "an Istio AuthorizationPolicy on the destination denied the request (Envoy's RBAC filter answered 403): a DENY policy matched, or ALLOW policies exist and none matched",
        );
        parsed.identify("error", Some("RBAC: access denied"));
        parsed.identify("policyKind", Some("AuthorizationPolicy"));
        parsed.causes.push(Cause {
            name: Some("authorization".to_string()),
            message: "RBAC: access denied".to_string(),
            ..Cause::default()
        });
        return Some(parsed);
    }
    if let Some(found) = captures(&RESET, text) {
        let reason = group(&found, "reason").unwrap_or_default().trim();
        let transport = group(&found, "transport").unwrap_or_default().trim();
        let lowered = format!("{reason} {transport}").to_ascii_lowercase();
        let (class, advice) = if lowered.contains("tls")
            || lowered.contains("ssl")
            || lowered.contains("certificate")
        {
            (
                "mtls",
                "the TLS handshake with the upstream failed: the mTLS settings of the two sides disagree (PeerAuthentication STRICT/DISABLE vs DestinationRule tls mode, or a side without a sidecar)",
            )
        } else if lowered.contains("connection termination") || lowered.contains("connection reset")
        {
            (
                "terminated",
                "the upstream closed the connection: a plaintext client against STRICT mTLS, a protocol mismatch (port naming), or the app crashed",
            )
        } else if lowered.contains("111") || lowered.contains("refused") {
            (
                "refused",
                "nothing listens on the upstream port (connection refused)",
            )
        } else if lowered.contains("timeout") || lowered.contains("110") {
            (
                "timeout",
                "the upstream did not answer: a NetworkPolicy may drop the traffic",
            )
        } else {
            ("reset", "the upstream reset the connection")
        };
        let mut parsed = Parsed::new(
            Family::Istio,
            format!("Envoy could not reach the upstream: {advice}"),
        );
        parsed.identify("error", Some("upstream connect error"));
        parsed.identify("resetReason", Some(reason));
        parsed.identify("transportFailure", Some(transport));
        parsed.identify("cause", Some(class));
        if class == "mtls" || class == "terminated" {
            parsed.identify("policyKind", Some("PeerAuthentication"));
        }
        parsed.causes.push(Cause {
            name: Some(class.to_string()),
            message: [reason, transport]
                .iter()
                .filter(|part| !part.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(": "),
            ..Cause::default()
        });
        return Some(parsed);
    }
    let found = captures(&OTHER, text)?;
    let what = group(&found, "what").unwrap_or_default();
    let advice = if what == "no healthy upstream" {
        "the destination Service has no ready endpoints (or outlier detection ejected them all)"
    } else {
        "the upstream did not answer within the route timeout"
    };
    let mut parsed = Parsed::new(Family::Istio, format!("Envoy: {what}: {advice}"));
    parsed.identify("error", Some(what));
    Some(parsed)
}
