//! Resolution: the identifiers a parser read → the constraints of the Snapshot they name, with a
//! confidence (high: an identifier resolved to an object; medium: the family is known and the
//! candidates are listed; low: keywords only), and what could not be read.

use crate::engine::admission::kyverno::pattern::parse_quantity;
use crate::engine::network::verdict::{ReachResult, SideVerdict, Verdict};
use crate::engine::network::verdict_for;
use crate::model::{Constraint, ConstraintType, Details};
use crate::source::Snapshot;

use super::{Confidence, ExplainRequest, Family, Parsed, ResolvedConstraint};

/// What resolution found for one error.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub confidence: Confidence,
    pub constraints: Vec<ResolvedConstraint>,
    pub summary: String,
    pub unreadable: Vec<String>,
}

/// Everything resolution reads.
struct Context<'a> {
    snapshot: &'a Snapshot,
    constraints: &'a [Constraint],
    request: &'a ExplainRequest,
}

pub fn resolve(
    parsed: &Parsed,
    snapshot: &Snapshot,
    constraints: &[Constraint],
    request: &ExplainRequest,
) -> Resolution {
    let context = Context {
        snapshot,
        constraints,
        request,
    };
    let mut resolution = Resolution {
        confidence: Confidence::Medium,
        constraints: Vec::new(),
        summary: parsed.summary.clone(),
        unreadable: unreadable(parsed.family, snapshot),
    };
    if parsed.keywords_only {
        resolution.confidence = Confidence::Low;
        return resolution;
    }
    let exact = match parsed.family {
        Family::Kyverno => kyverno(parsed, &context, &mut resolution),
        Family::Gatekeeper => gatekeeper(parsed, &context, &mut resolution),
        Family::PodSecurity => pod_security(parsed, &context, &mut resolution),
        Family::ValidatingAdmissionPolicy => admission_policy(parsed, &context, &mut resolution),
        Family::ResourceQuota => quota(parsed, &context, &mut resolution),
        Family::LimitRange => limit_range(parsed, &context, &mut resolution),
        Family::Webhook => webhook(parsed, &context, &mut resolution),
        Family::Network | Family::Cilium | Family::Istio => {
            network(parsed, &context, &mut resolution)
        }
        Family::Rbac | Family::Scheduling | Family::ImagePull | Family::Unknown => false,
    };
    if exact {
        resolution.confidence = Confidence::High;
    } else if !resolution.unreadable.is_empty() {
        let short: Vec<&str> = resolution
            .unreadable
            .iter()
            .map(|gap| gap.split(" (").next().unwrap_or(gap))
            .collect();
        resolution.summary.push_str(&format!(
            " (explained from the message alone: {})",
            short.join("; ")
        ));
    }
    resolution
}

/// The kinds a family's resolution reads, by kind name.
fn family_kinds(family: Family) -> &'static [&'static str] {
    match family {
        Family::Kyverno => &["ClusterPolicy", "Policy", "PolicyException"],
        Family::Gatekeeper => &["ConstraintTemplate"],
        Family::PodSecurity => &["Namespace"],
        Family::ValidatingAdmissionPolicy => &[
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
        ],
        Family::ResourceQuota => &["ResourceQuota"],
        Family::LimitRange => &["LimitRange"],
        Family::Webhook => &[
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ],
        Family::Network | Family::Cilium => &[
            "NetworkPolicy",
            "AdminNetworkPolicy",
            "BaselineAdminNetworkPolicy",
            "CiliumNetworkPolicy",
            "CiliumClusterwideNetworkPolicy",
            "Pod",
        ],
        Family::Istio => &["AuthorizationPolicy", "PeerAuthentication"],
        Family::Rbac | Family::Scheduling | Family::ImagePull | Family::Unknown => &[],
    }
}

/// "cannot read …" for every gap in the kinds the family's resolution reads.
fn unreadable(family: Family, snapshot: &Snapshot) -> Vec<String> {
    let kinds = family_kinds(family);
    snapshot
        .gaps
        .iter()
        .filter(|gap| {
            kinds.contains(&gap.kind.as_str())
                || family == Family::Gatekeeper && gap.resource.contains("gatekeeper.sh")
        })
        .map(|gap| gap.describe())
        .collect()
}

fn add(resolution: &mut Resolution, constraint: &Constraint, why: String) {
    if resolution
        .constraints
        .iter()
        .any(|existing| existing.id == constraint.id)
    {
        return;
    }
    resolution.constraints.push(ResolvedConstraint {
        id: constraint.id.clone(),
        why,
        namespace: constraint.source.namespace.clone(),
    });
}

/// The namespace the error happened in: named by the message, else the request's.
fn namespace<'a>(parsed: &'a Parsed, context: &'a Context) -> &'a str {
    parsed
        .identifier("namespace")
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or(&context.request.namespace)
}

fn kyverno(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let mut all_found = !parsed.causes.is_empty();
    for cause in &parsed.causes {
        let (Some(policy), Some(rule)) = (cause.name.as_deref(), cause.rule.as_deref()) else {
            continue;
        };
        let base_rule = rule
            .strip_prefix("autogen-cronjob-")
            .or_else(|| rule.strip_prefix("autogen-"))
            .unwrap_or(rule);
        let matches: Vec<&Constraint> = context
            .constraints
            .iter()
            .filter(|constraint| {
                let Details::Kyverno(details) = &constraint.details else {
                    return false;
                };
                constraint.source.name == policy
                    && (constraint.source.namespace.is_none()
                        || constraint.source.namespace.as_deref()
                            == Some(namespace(parsed, context)))
                    && (details.rule_name == rule
                        || details.rule_name == base_rule
                        || details.autogen_rules.iter().any(|autogen| autogen == rule))
            })
            .collect();
        if matches.is_empty() {
            all_found = false;
        }
        for constraint in matches {
            add(
                resolution,
                constraint,
                format!(
                    "the message names Kyverno policy `{policy}` rule `{rule}`{}",
                    if rule != base_rule {
                        format!(" (auto-generated from `{base_rule}`)")
                    } else {
                        String::new()
                    }
                ),
            );
        }
    }
    if !all_found {
        let missing: Vec<String> = parsed
            .causes
            .iter()
            .filter_map(|cause| cause.name.clone())
            .filter(|policy| {
                !resolution
                    .constraints
                    .iter()
                    .any(|found| found.id.contains(&format!("/{policy}#")))
            })
            .collect();
        if !missing.is_empty() && resolution.unreadable.is_empty() {
            resolution.summary.push_str(&format!(
                " (policy {} is not in the cluster state read)",
                missing
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    !resolution.constraints.is_empty()
}

fn gatekeeper(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    for cause in &parsed.causes {
        let Some(name) = cause.name.as_deref() else {
            continue;
        };
        for constraint in context.constraints.iter().filter(|constraint| {
            matches!(constraint.details, Details::Gatekeeper(_)) && constraint.source.name == name
        }) {
            add(
                resolution,
                constraint,
                format!(
                    "the message names Gatekeeper constraint `{name}` ({})",
                    constraint.source.kind
                ),
            );
        }
    }
    !resolution.constraints.is_empty()
}

fn pod_security(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let level = parsed.identifier("level").unwrap_or_default();
    let version = parsed.identifier("version").unwrap_or_default();
    let modes: &[&str] = if parsed.identifier("mode") == Some("enforce") {
        &["enforce"]
    } else {
        &["warn", "audit"]
    };
    let is_mode = |constraint: &Constraint, namespace: Option<&str>| {
        matches!(constraint.details, Details::PodSecurity(_))
            && namespace.is_none_or(|namespace| constraint.source.name == namespace)
            && modes
                .iter()
                .any(|mode| constraint.rule.as_deref() == Some(&format!("pod-security-{mode}")))
    };
    let namespace = namespace(parsed, context);
    let own: Vec<&Constraint> = context
        .constraints
        .iter()
        .filter(|constraint| is_mode(constraint, Some(namespace)))
        .collect();
    for constraint in &own {
        add(
            resolution,
            constraint,
            format!(
                "namespace `{namespace}` sets `pod-security.kubernetes.io/{}` (the message reports level `{level}:{version}`)",
                constraint
                    .rule
                    .as_deref()
                    .unwrap_or_default()
                    .trim_start_matches("pod-security-")
            ),
        );
    }
    if !own.is_empty() {
        return true;
    }
    // The message does not name the namespace: list the namespaces at that level.
    let wanted = format!("{level}:{version}");
    for constraint in context.constraints.iter().filter(|constraint| {
        is_mode(constraint, None)
            && serde_json::to_value(&constraint.details)
                .ok()
                .is_some_and(|details| details.to_string().contains(&format!("\"{level}\"")))
    }) {
        add(
            resolution,
            constraint,
            format!(
                "a candidate: namespace `{}` has this mode at level `{level}`, the message reports `{wanted}`",
                constraint.source.name
            ),
        );
    }
    false
}

fn admission_policy(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let policy = parsed.identifier("policy").unwrap_or_default();
    let binding = parsed.identifier("binding");
    for constraint in context.constraints.iter().filter(|constraint| {
        constraint.source.kind == "ValidatingAdmissionPolicy"
            && constraint.source.name == policy
            && binding.is_none_or(|binding| constraint.rule.as_deref() == Some(binding))
    }) {
        add(
            resolution,
            constraint,
            format!(
                "the message names ValidatingAdmissionPolicy `{policy}`{}",
                binding
                    .map(|binding| format!(" with binding `{binding}`"))
                    .unwrap_or_default()
            ),
        );
    }
    !resolution.constraints.is_empty()
}

fn quota(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let name = parsed.identifier("quota").unwrap_or_default();
    let namespace = namespace(parsed, context);
    let named = |constraint: &&Constraint| {
        matches!(constraint.details, Details::ResourceQuota(_)) && constraint.source.name == name
    };
    let mut found: Vec<&Constraint> = context
        .constraints
        .iter()
        .filter(named)
        .filter(|constraint| constraint.source.namespace.as_deref() == Some(namespace))
        .collect();
    if found.is_empty() {
        found = context.constraints.iter().filter(named).collect();
    }
    for constraint in found {
        let hard = match &constraint.details {
            Details::ResourceQuota(details) => details
                .resources
                .iter()
                .map(|resource| format!("{}={}", resource.name, resource.hard))
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        add(
            resolution,
            constraint,
            format!("the message names ResourceQuota `{name}` (hard: {hard})"),
        );
    }
    !resolution.constraints.is_empty()
}

fn same_quantity(left: &str, right: &str) -> bool {
    left == right
        || matches!((parse_quantity(left), parse_quantity(right)), (Some(left), Some(right)) if (left - right).abs() < 1e-9)
}

fn limit_range(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let namespace = namespace(parsed, context);
    let in_namespace: Vec<&Constraint> = context
        .constraints
        .iter()
        .filter(|constraint| {
            matches!(constraint.details, Details::LimitRange(_))
                && constraint.source.namespace.as_deref() == Some(namespace)
        })
        .collect();
    let mut exact = false;
    for cause in &parsed.causes {
        let fact = |key: &str| cause.facts.get(key).map(String::as_str).unwrap_or_default();
        for constraint in &in_namespace {
            let Details::LimitRange(details) = &constraint.details else {
                continue;
            };
            let matching = details.limits.iter().find(|item| {
                let bound = match fact("bound") {
                    "min" => item.min.as_deref(),
                    "max" => item.max.as_deref(),
                    _ => item.max_limit_request_ratio.as_deref(),
                };
                item.limit_type == fact("type")
                    && item.resource == fact("resource")
                    && bound.is_some_and(|bound| same_quantity(bound, fact("enforced")))
            });
            if matching.is_some() {
                exact = true;
                add(
                    resolution,
                    constraint,
                    format!(
                        "LimitRange `{}` sets {} {} {} per {} to {}, the value in the message",
                        constraint.source.name,
                        fact("bound"),
                        fact("resource"),
                        if fact("bound") == "maxLimitRequestRatio" {
                            "ratio"
                        } else {
                            "usage"
                        },
                        fact("type"),
                        fact("enforced")
                    ),
                );
            }
        }
    }
    if !exact {
        for constraint in in_namespace {
            add(
                resolution,
                constraint,
                format!(
                    "a candidate: LimitRange in namespace `{namespace}` (the message does not name it and no bound matched its values)"
                ),
            );
        }
    }
    exact
}

fn webhook(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let name = parsed.identifier("webhook").unwrap_or_default();
    for constraint in context.constraints.iter().filter(|constraint| {
        matches!(&constraint.details, Details::Webhook(details) if details.webhook_name == name)
    }) {
        let failure_policy = match &constraint.details {
            Details::Webhook(details) => details.failure_policy.clone(),
            _ => String::new(),
        };
        add(
            resolution,
            constraint,
            format!(
                "the message names webhook `{name}` of {} `{}` (failurePolicy {failure_policy})",
                constraint.source.kind, constraint.source.name
            ),
        );
    }
    !resolution.constraints.is_empty()
}

/// Network errors: with a source (`--workload`, or a pod in the text) and a destination, the reach
/// engine decides and names the blocking policy; otherwise the candidates are listed.
fn network(parsed: &Parsed, context: &Context, resolution: &mut Resolution) -> bool {
    let namespace = context.request.namespace.as_str();
    let as_peer = |endpoint: &str| match endpoint.split_once('/') {
        Some((namespace, pod)) => format!("{namespace}/pod/{pod}"),
        None => endpoint.to_string(),
    };
    let source = match parsed.family {
        Family::Cilium => parsed.identifier("source").map(as_peer),
        _ => context
            .request
            .workload
            .clone()
            .or_else(|| parsed.identifier("pod").map(str::to_string)),
    };
    let destination_host = match parsed.family {
        Family::Cilium => parsed.identifier("destination").map(as_peer),
        _ => parsed
            .identifier("ip")
            .or(parsed.identifier("host"))
            .map(str::to_string),
    };
    let destination = destination_host.map(|host| match parsed.identifier("port") {
        Some(port) => format!("{host}:{port}"),
        None => host,
    });
    let (Some(source), Some(destination)) = (source, destination) else {
        candidates(parsed, context, resolution);
        if parsed.family != Family::Cilium
            && context.request.workload.is_none()
            && parsed.identifier("pod").is_none()
        {
            resolution
                .summary
                .push_str("; give --workload KIND/NAME (the client) to name the blocking policy");
        }
        return false;
    };
    match verdict_for(
        context.snapshot,
        context.constraints,
        &source,
        &destination,
        namespace,
    ) {
        Ok(result) => reach_verdict(&result, context, resolution),
        Err(error) => {
            resolution
                .summary
                .push_str(&format!("; the reach engine could not decide: {error}"));
            candidates(parsed, context, resolution);
            false
        }
    }
}

fn reach_verdict(result: &ReachResult, context: &Context, resolution: &mut Resolution) -> bool {
    match result.verdict {
        Verdict::Denied => {
            for side in [&result.egress, &result.ingress] {
                if side.verdict == Verdict::Denied {
                    blocking(side, context, resolution);
                }
            }
            resolution.summary = format!(
                "{} → {} is denied: {}",
                result.source.display, result.destination.display, result.reason
            );
            !resolution.constraints.is_empty()
        }
        Verdict::Allowed => {
            resolution.summary.push_str(&format!(
                "; policies allow {} → {} ({}), so the cause is not a network policy",
                result.source.display, result.destination.display, result.reason
            ));
            false
        }
        Verdict::Unknown => {
            resolution.summary.push_str(&format!(
                "; the reach engine cannot decide: {}",
                result.reason
            ));
            false
        }
    }
}

/// The constraints that deny one side: denying rules, else the policies isolating the pod.
fn blocking(side: &SideVerdict, context: &Context, resolution: &mut Resolution) {
    let direction_type = match side.direction {
        crate::engine::network::verdict::Direction::Egress => ConstraintType::NetworkEgress,
        crate::engine::network::verdict::Direction::Ingress => ConstraintType::NetworkIngress,
    };
    let denying: Vec<_> = side
        .rules
        .iter()
        .filter(|attribution| {
            attribution.outcome == crate::engine::network::verdict::Outcome::Denies
        })
        .collect();
    for attribution in &denying {
        if let Some(constraint) = context
            .constraints
            .iter()
            .find(|constraint| constraint.id == attribution.constraint_id)
        {
            add(
                resolution,
                constraint,
                format!(
                    "{} denies: {}",
                    attribution.display, attribution.description
                ),
            );
        }
    }
    if !denying.is_empty() {
        return;
    }
    for policy in &side.isolated_by {
        for constraint in context.constraints.iter().filter(|constraint| {
            constraint.source.kind == policy.kind
                && constraint.source.name == policy.name
                && constraint.source.namespace == policy.namespace
                && (constraint.constraint_type == direction_type
                    || constraint.constraint_type == ConstraintType::MeshPolicy)
        }) {
            add(
                resolution,
                constraint,
                format!(
                    "selects the pod for {} (default deny) and none of its rules allows this traffic",
                    side.direction
                ),
            );
        }
    }
}

/// Without a reach decision: the policies of the family in the namespace, as candidates.
fn candidates(parsed: &Parsed, context: &Context, resolution: &mut Resolution) {
    let namespace = context.request.namespace.as_str();
    let wanted = |constraint: &Constraint| match parsed.family {
        Family::Istio => match parsed.identifier("policyKind") {
            Some(kind) => constraint.source.kind == kind,
            None => constraint.constraint_type == ConstraintType::MeshPolicy,
        },
        _ => matches!(
            constraint.constraint_type,
            ConstraintType::NetworkIngress | ConstraintType::NetworkEgress
        ),
    };
    for constraint in context.constraints.iter().filter(|constraint| {
        wanted(constraint)
            && constraint
                .source
                .namespace
                .as_deref()
                .is_none_or(|own| own == namespace)
    }) {
        add(
            resolution,
            constraint,
            format!(
                "a candidate: {} {} in scope of namespace `{namespace}`",
                constraint.source.kind, constraint.effect
            ),
        );
    }
}
