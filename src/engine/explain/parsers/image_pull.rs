//! Kubelet image pull errors: `Failed to pull image "IMAGE": CAUSE`, `Back-off pulling image
//! "IMAGE"`, and the waiting reasons `ErrImagePull`, `ImagePullBackOff`, `ErrImageNeverPull`,
//! `InvalidImageName`, with the cause classified (not found, unauthorized, registry unreachable,
//! TLS).

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Cause, Family, Parsed};

static FAILED: Pattern = LazyLock::new(|| {
    Regex::new(r#"(?:Failed to pull image|Back-off pulling image|pulling image) "(?P<image>[^"]+)"(?::\s*(?P<cause>[^\n]+))?"#).ok()
});
static REASON: Pattern = LazyLock::new(|| {
    Regex::new(r"\b(?P<reason>ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName)\b")
        .ok()
});

fn classify(cause: &str) -> (&'static str, &'static str) {
    let lowered = cause.to_ascii_lowercase();
    if lowered.contains("not found")
        || lowered.contains("manifest unknown")
        || lowered.contains("name unknown")
    {
        (
            "notFound",
            "the image or tag does not exist in the registry: check the name and tag",
        )
    } else if lowered.contains("unauthorized")
        || lowered.contains("pull access denied")
        || lowered.contains("authentication required")
        || lowered.contains("403 forbidden")
        || lowered.contains("401")
    {
        (
            "unauthorized",
            "the registry refused the credentials: add or fix imagePullSecrets on the Pod or its ServiceAccount",
        )
    } else if lowered.contains("x509") || lowered.contains("certificate") || lowered.contains("tls")
    {
        ("tls", "the node does not trust the registry's certificate")
    } else if lowered.contains("i/o timeout")
        || lowered.contains("dial tcp")
        || lowered.contains("no such host")
        || lowered.contains("connection refused")
        || lowered.contains("deadline exceeded")
    {
        (
            "registryUnreachable",
            "the node cannot reach the registry (node egress, proxy or DNS; pod NetworkPolicies do not apply to pulls)",
        )
    } else if lowered.contains("toomanyrequests") || lowered.contains("rate limit") {
        (
            "rateLimited",
            "the registry rate-limits pulls: authenticate or use a mirror",
        )
    } else {
        ("other", "see the cause")
    }
}

pub fn parse(text: &str) -> Option<Parsed> {
    let failed = captures(&FAILED, text);
    let reason = captures(&REASON, text);
    if failed.is_none() && reason.is_none() {
        return None;
    }
    let image = failed.as_ref().and_then(|found| group(found, "image"));
    let cause = failed
        .as_ref()
        .and_then(|found| group(found, "cause"))
        .unwrap_or_default();
    let reason = reason.as_ref().and_then(|found| group(found, "reason"));
    let (class, advice) = match reason {
        Some("ErrImageNeverPull") => (
            "neverPull",
            "imagePullPolicy is Never and the image is not on the node",
        ),
        Some("InvalidImageName") => ("invalidName", "the image reference is not valid"),
        _ => classify(cause),
    };
    let mut parsed = Parsed::new(
        Family::ImagePull,
        format!(
            "the kubelet could not pull {}: {advice}",
            image
                .map(|image| format!("image `{image}`"))
                .unwrap_or_else(|| "the image".to_string())
        ),
    );
    parsed.identify("image", image);
    parsed.identify("registry", image.map(registry));
    parsed.identify("reason", reason);
    parsed.identify("cause", Some(class));
    parsed.causes.push(Cause {
        name: Some(class.to_string()),
        message: if cause.is_empty() {
            reason.unwrap_or_default().to_string()
        } else {
            cause.to_string()
        },
        fields: vec!["spec.containers[*].image".to_string()],
        ..Cause::default()
    });
    Some(parsed)
}

/// The registry host of an image reference (Docker Hub when the first part is not a host).
fn registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => "docker.io",
    }
}
