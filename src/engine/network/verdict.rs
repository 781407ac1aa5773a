//! Verdicts: what each side decides (egress at the source, ingress at the destination) and
//! overall, naming the deciding policy and rule; a pair's explanation split into connection
//! segments with the same reasons; and the `ReachResult` document `reach` prints.

use std::fmt;

use serde::Serialize;

use super::Policies;
use super::connections::{ConnectionSet, Protocol};
use super::decision::{SideEvaluation, SideStatus};
use crate::model::report::API_VERSION;
use crate::source::Gap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Egress,
    Ingress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Egress => "egress",
            Direction::Ingress => "ingress",
        }
    }

    /// `Egress`, `Ingress` (np-guard's and Kubernetes' spelling).
    pub fn title(self) -> &'static str {
        match self {
            Direction::Egress => "Egress",
            Direction::Ingress => "Ingress",
        }
    }

    /// Position in a per-direction `[egress, ingress]` array.
    pub fn index(self) -> usize {
        match self {
            Direction::Egress => 0,
            Direction::Ingress => 1,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Verdict {
    Allowed,
    Denied,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "Allowed",
            Verdict::Denied => "Denied",
            Verdict::Unknown => "Unknown",
        }
    }

    /// Both sides must allow: any denial denies, any doubt is a doubt.
    pub fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Denied, _) | (_, Verdict::Denied) => Verdict::Denied,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Allowed,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A policy object: `NetworkPolicy/payments/allow-frontend`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReference {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl PolicyReference {
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{}/{}/{}", self.kind, namespace, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Why a side is decided the way it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Basis {
    /// The side is not a pod (an address or host outside the cluster): nothing is enforced there.
    External,
    /// A host-network pod: pod policies do not apply to it.
    HostNetwork,
    /// No policy isolates the pod for this direction (Admin or Baseline rules may still decide).
    NotIsolated,
    /// Policies decide.
    Policies,
}

/// What one policy (or one of its rules) says about a piece of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The rule allows it.
    Allows,
    /// The rule allows it if something potoo cannot know holds (the remote address, a node).
    MayAllow,
    /// The rule denies it (AdminNetworkPolicy `Deny`, Cilium deny rules, Istio DENY).
    Denies,
    /// An AdminNetworkPolicy `Pass` rule hands it to NetworkPolicy.
    Passes,
    /// The policy selects the pod but none of its rules selects the remote side.
    NotSelectedByAnyRule,
    /// The policy selects the pod and has no rules in this direction.
    NoRulesDefined,
    /// The rule selects the remote side, but not on these protocols and ports.
    PortsDoNotMatch,
    /// The rule selects the remote side, but its named ports have no match on the destination.
    NamedPortsUnresolved,
    /// An ALLOW AuthorizationPolicy applies to the destination and none of its rules matches.
    NoAllowPolicyMatches,
    /// A CUSTOM AuthorizationPolicy hands the decision to an external authorizer.
    Delegated,
}

/// A policy (and rule) behind a decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    pub policy: PolicyReference,
    /// 1-based rule number, when a numbered rule is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The rule's name (AdminNetworkPolicy rules are named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    pub outcome: Outcome,
    /// `NetworkPolicy/payments/allow-frontend#ingress rule 1`.
    pub display: String,
    /// What the rule (or policy) says, in words.
    pub description: String,
    pub constraint_id: String,
}

/// One side's decision for a piece of traffic, with the policies and rules behind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideDecision {
    pub allowed: bool,
    /// Neither allowed nor denied for sure: it depends on what potoo cannot know.
    pub uncertain: bool,
    pub basis: Basis,
    pub attributions: Vec<Attribution>,
    /// Further conditions on allowed traffic (L7 rules, request attributes, DNS-learned addresses).
    pub conditions: Vec<String>,
}

/// Traffic of a pair that shares one explanation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub connections: ConnectionSet,
    pub allowed: bool,
    pub egress: SideDecision,
    pub ingress: SideDecision,
}

/// One side's verdict for the requested traffic.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideVerdict {
    pub direction: Direction,
    pub verdict: Verdict,
    pub reason: String,
    /// Policies putting the pod in default-deny on this side (empty: not isolated).
    pub isolated_by: Vec<PolicyReference>,
    /// The policies and rules behind the verdict.
    pub rules: Vec<Attribution>,
    /// What this side allows of the requested traffic.
    pub allowed: ConnectionSet,
    /// Conditions on what is allowed (L7 rules, request attributes…).
    pub conditions: Vec<String>,
}

/// Words for the peers and the requested traffic, used in reasons.
pub struct Wording<'a> {
    /// The pod on this side (`payments/api[Deployment]`), or the external peer.
    pub subject: &'a str,
    /// The other side.
    pub remote: &'a str,
    /// The traffic asked about (`TCP/8443`, `any port`).
    pub traffic: &'a str,
}

fn also(attributions: &[&Attribution]) -> String {
    if attributions.len() > 1 {
        format!(
            " (also {})",
            attributions[1..]
                .iter()
                .map(|attribution| attribution.display.clone())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    }
}

/// "`NetworkPolicy/a/b#ingress rule 1` allows from pods with app=web on TCP/80", or, when the
/// description is already a sentence (an adapter's summary), "`X`: denies ingress to …".
fn is_sentence(description: &str) -> bool {
    ["allows ", "denies ", "passes ", "delegates ", "hands "]
        .iter()
        .any(|start| description.starts_with(start))
}

fn phrase(attribution: &Attribution, verb: &str) -> String {
    if is_sentence(&attribution.description) {
        format!("{}: {}", attribution.display, attribution.description)
    } else if attribution.description.is_empty() {
        format!("{} {verb}", attribution.display)
    } else {
        format!("{} {verb} {}", attribution.display, attribution.description)
    }
}

fn with_outcome<'a>(decision: &'a SideDecision, outcomes: &[Outcome]) -> Vec<&'a Attribution> {
    decision
        .attributions
        .iter()
        .filter(|attribution| outcomes.contains(&attribution.outcome))
        .collect()
}

fn allowed_reason(decision: &SideDecision, direction: Direction, words: &Wording<'_>) -> String {
    let passes = with_outcome(decision, &[Outcome::Passes]);
    let prefix = passes
        .first()
        .map(|pass| format!("{} passes it on to NetworkPolicy; ", pass.display))
        .unwrap_or_default();
    let allows = with_outcome(decision, &[Outcome::Allows]);
    let reason = match decision.basis {
        Basis::External => {
            let role = match direction {
                Direction::Egress => "source",
                Direction::Ingress => "destination",
            };
            format!(
                "nothing enforced here: the {role} `{}` is outside the cluster",
                words.subject
            )
        }
        Basis::HostNetwork => format!(
            "not subject: `{}` uses the host network, and pod network policies do not apply to host-network pods",
            words.subject
        ),
        _ if !allows.is_empty() => format!("{}{}", phrase(allows[0], "allows"), also(&allows)),
        _ => format!(
            "not isolated: no NetworkPolicy selects `{}` for {direction}",
            words.subject
        ),
    };
    format!("{prefix}{reason}")
}

fn denied_reason(decision: &SideDecision, words: &Wording<'_>) -> String {
    let passes = with_outcome(decision, &[Outcome::Passes]);
    let prefix = passes
        .first()
        .map(|pass| format!("{} passes it on to NetworkPolicy; ", pass.display))
        .unwrap_or_default();
    let denies = with_outcome(decision, &[Outcome::Denies]);
    if let Some(first) = denies.first() {
        return format!("{prefix}{}", phrase(first, "denies"));
    }
    let no_allow = with_outcome(decision, &[Outcome::NoAllowPolicyMatches]);
    if !no_allow.is_empty() {
        return format!(
            "{prefix}no ALLOW AuthorizationPolicy matches `{}` on {}: {}",
            words.remote,
            words.traffic,
            no_allow
                .iter()
                .map(|attribution| attribution.policy.display())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(delegated) = with_outcome(decision, &[Outcome::Delegated]).first() {
        return format!(
            "{prefix}{} hands the decision to an external authorizer",
            delegated.display
        );
    }
    let mut isolating: Vec<String> = Vec::new();
    for attribution in &decision.attributions {
        let name = attribution.policy.display();
        if !isolating.contains(&name) {
            isolating.push(name);
        }
    }
    let mut reason = format!(
        "{prefix}isolated by {}, no rule allows `{}` on {}",
        isolating.join(", "),
        words.remote,
        words.traffic
    );
    if let Some(miss) = with_outcome(
        decision,
        &[Outcome::PortsDoNotMatch, Outcome::NamedPortsUnresolved],
    )
    .first()
    {
        match miss.outcome {
            Outcome::NamedPortsUnresolved => reason.push_str(&format!(
                "; {} names a port the destination does not declare",
                miss.display
            )),
            _ if miss.description.contains(' ') && is_sentence(&miss.description) => reason
                .push_str(&format!(
                    "; {} selects `{}` but not on {} ({})",
                    miss.display, words.remote, words.traffic, miss.description
                )),
            _ => reason.push_str(&format!(
                "; {} selects `{}` but allows only {}",
                miss.display, words.remote, miss.description
            )),
        }
    }
    reason
}

fn uncertain_reason(decision: &SideDecision, words: &Wording<'_>) -> String {
    if let Some(delegated) = with_outcome(decision, &[Outcome::Delegated]).first() {
        return format!(
            "{} hands the decision to an external authorizer, which potoo cannot consult",
            delegated.display
        );
    }
    let maybe = with_outcome(decision, &[Outcome::MayAllow]);
    match maybe.first() {
        Some(first) => format!(
            "{} — only if `{}` is what the rule names, which potoo cannot tell{}",
            phrase(first, "allows"),
            words.remote,
            also(&maybe)
        ),
        None => {
            let names: Vec<String> = decision
                .attributions
                .iter()
                .map(|attribution| attribution.display.clone())
                .collect();
            format!(
                "depends on whether `{}` matches {}, which potoo cannot tell",
                words.remote,
                if names.is_empty() {
                    "a rule".to_string()
                } else {
                    names.join(", ")
                }
            )
        }
    }
}

/// The verdict of one side for `query` (the requested connections).
pub fn side_verdict(
    side: &SideEvaluation,
    policies: &Policies,
    query: &ConnectionSet,
    words: &Wording<'_>,
) -> SideVerdict {
    let direction = side.direction;
    let boundaries = side.boundaries();
    let pieces = query.partition(&boundaries, |protocol, port| {
        side.decide(policies, protocol, port)
    });
    let mut allowed = ConnectionSet::empty();
    let mut uncertain = ConnectionSet::empty();
    let mut denied = ConnectionSet::empty();
    for (decision, set) in &pieces {
        if decision.allowed {
            allowed.union_with(set);
        } else if decision.uncertain {
            uncertain.union_with(set);
        } else {
            denied.union_with(set);
        }
    }
    let first = |wanted: fn(&SideDecision) -> bool| {
        pieces
            .iter()
            .find(|(decision, _)| wanted(decision))
            .map(|(decision, _)| decision)
    };
    let first_allowed = first(|decision| decision.allowed);
    let first_uncertain = first(|decision| decision.uncertain);
    let first_denied = first(|decision| !decision.allowed && !decision.uncertain);
    let mut conditions: Vec<String> = Vec::new();
    for (decision, _) in pieces.iter().filter(|(decision, _)| decision.allowed) {
        for condition in &decision.conditions {
            if !conditions.contains(condition) {
                conditions.push(condition.clone());
            }
        }
    }
    let (verdict, mut reason, rules) = match (first_allowed, first_uncertain, first_denied) {
        (Some(decision), None, None) => (
            Verdict::Allowed,
            allowed_reason(decision, direction, words),
            decision.attributions.clone(),
        ),
        (Some(decision), _, _) => {
            let mut reason = allowed_reason(decision, direction, words);
            reason.push_str(&format!("; only {allowed} is allowed"));
            if let Some(doubt) = first_uncertain {
                reason.push_str(&format!(
                    "; {uncertain} unknown: {}",
                    uncertain_reason(doubt, words)
                ));
            }
            (Verdict::Allowed, reason, decision.attributions.clone())
        }
        (None, Some(decision), _) => (
            Verdict::Unknown,
            uncertain_reason(decision, words),
            decision.attributions.clone(),
        ),
        (None, None, Some(decision)) => (
            Verdict::Denied,
            denied_reason(decision, words),
            decision.attributions.clone(),
        ),
        (None, None, None) => (
            Verdict::Denied,
            format!("no traffic asked about reaches `{}`", words.subject),
            Vec::new(),
        ),
    };
    if !conditions.is_empty() && verdict == Verdict::Allowed {
        reason.push_str(&format!("; {}", conditions.join("; ")));
    }
    let mut isolated_by: Vec<PolicyReference> = Vec::new();
    let side = side.primary();
    if side.status == SideStatus::Evaluated {
        if let Some(evaluation) = &side.network_policy {
            for outcome in &evaluation.policies {
                isolated_by.push(policies.network.policies[outcome.policy].reference.clone());
            }
        }
        for section in &side.cilium.isolating {
            let reference = policies.cilium.sections[*section].reference.clone();
            if !isolated_by.contains(&reference) {
                isolated_by.push(reference);
            }
        }
    }
    SideVerdict {
        direction,
        verdict,
        reason,
        isolated_by,
        rules,
        allowed,
        conditions,
    }
}

/// A peer as `reach` reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerSummary {
    /// What was asked (`deploy/web`, `ns:payments`, `10.0.0.1`).
    pub query: String,
    /// What it resolved to (`payments/web[Deployment]`, `Service payments/api`, `10.0.0.1`).
    pub display: String,
    /// `workload`, `pod`, `service`, `namespace`, `address`, `host`.
    pub kind: String,
    /// Pods it stands for (0 for addresses and hosts).
    pub pods: usize,
    /// The Snapshot has no pod of it: its pod template stands in.
    pub from_template: bool,
}

/// The requested port and what it became on the destination.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSummary {
    /// As asked: `443/TCP`, `http/TCP`.
    pub requested: String,
    pub protocol: Protocol,
    /// The destination port(s) the traffic reaches (after Service and named-port translation).
    pub resolved: ConnectionSet,
    /// `Service payments/api port 443 → targetPort 8443`, when translated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<String>,
}

/// The verdict for one source pod × destination pod (or address) pair.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairVerdict {
    pub source: String,
    /// The source pod, when it is a real pod (not a workload's template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_pod: Option<String>,
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_pod: Option<String>,
    pub verdict: Verdict,
    pub egress: SideVerdict,
    pub ingress: SideVerdict,
    /// What both sides allow of the requested traffic.
    pub connections: ConnectionSet,
    /// When no port was asked: the traffic split into pieces that share one explanation
    /// (which policy and rule decides each side of each piece).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
}

/// What `reach SRC DST[:PORT]` answers (`kind: ReachResult`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReachResult {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    pub source: PeerSummary,
    pub destination: PeerSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSummary>,
    pub verdict: Verdict,
    pub reason: String,
    /// The egress side of the source (of the first pair when all pairs agree).
    pub egress: SideVerdict,
    /// The ingress side of the destination.
    pub ingress: SideVerdict,
    /// What is allowed of the requested traffic (all of it when no port was given).
    pub connections: ConnectionSet,
    /// Conditions on what is allowed (L7 rules, request attributes, DNS-learned addresses).
    pub conditions: Vec<String>,
    /// Every pod pair evaluated (several when a workload has pods that differ, or a Service has
    /// several backends).
    pub pairs: Vec<PairVerdict>,
    pub notes: Vec<String>,
}

impl ReachResult {
    pub const KIND: &'static str = "ReachResult";
    pub const API_VERSION: &'static str = API_VERSION;
}
