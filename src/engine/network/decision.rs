//! How one side (egress at the source, ingress at the destination) decides, combining the
//! layers in their order of precedence: AdminNetworkPolicy (Allow/Deny decide, Pass hands on),
//! Cilium deny rules, then NetworkPolicy and Cilium allow rules for a pod they isolate, else
//! BaselineAdminNetworkPolicy, else allowed; at the destination, Istio AuthorizationPolicy then
//! filters TCP for mesh workloads. Computed as sets (fast, for every pair) and per port (with
//! the policies and rules behind each decision, for explanations and verdicts).

use super::Policies;
use super::adminnetworkpolicy::{AdminAction, AdminEvaluation};
use super::cilium::CiliumEvaluation;
use super::connections::{ConnectionSet, Protocol};
use super::istio::MeshEvaluation;
use super::networkpolicy::Evaluation;
use super::verdict::{Basis, Direction, Outcome, Segment, SideDecision};

/// The state of one side of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideStatus {
    /// The side is not a pod: nothing is enforced there.
    External,
    /// A host-network pod: pod policies do not apply to it.
    HostNetwork,
    /// Policies are evaluated.
    Evaluated,
}

/// Everything one side's policies say about a pair.
#[derive(Debug, Clone)]
pub struct SideEvaluation {
    pub direction: Direction,
    pub status: SideStatus,
    pub admin: AdminEvaluation,
    /// NetworkPolicies selecting the pod (`None`: none does).
    pub network_policy: Option<Evaluation>,
    pub cilium: CiliumEvaluation,
    pub mesh: MeshEvaluation,
    /// For an address potoo cannot know: the evaluation under each address it could have.
    pub scenarios: Vec<SideEvaluation>,
    /// Certainly allowed.
    pub allowed: ConnectionSet,
    /// Allowed only if something potoo cannot know holds (an address, a node, an authorizer).
    pub uncertain: ConnectionSet,
}

impl SideEvaluation {
    pub fn unrestricted(direction: Direction, status: SideStatus) -> SideEvaluation {
        SideEvaluation {
            direction,
            status,
            admin: AdminEvaluation::default(),
            network_policy: None,
            cilium: CiliumEvaluation::default(),
            mesh: MeshEvaluation::default(),
            scenarios: Vec::new(),
            allowed: ConnectionSet::all(),
            uncertain: ConnectionSet::empty(),
        }
    }

    /// The evaluation that describes the pod's own policies (the first scenario, if any).
    pub fn primary(&self) -> &SideEvaluation {
        self.scenarios.first().unwrap_or(self)
    }

    /// A pod NetworkPolicy or a Cilium policy puts in default-deny for this direction.
    pub fn isolated(&self) -> bool {
        if let Some(first) = self.scenarios.first() {
            return first.isolated();
        }
        self.network_policy
            .as_ref()
            .is_some_and(|evaluation| evaluation.isolated)
            || !self.cilium.isolating.is_empty()
    }

    fn has_uncertainty(&self) -> bool {
        self.admin.admin.iter().any(|outcome| outcome.uncertain)
            || self.admin.baseline.iter().any(|outcome| outcome.uncertain)
            || self.network_policy.as_ref().is_some_and(|evaluation| {
                !evaluation.uncertain.is_empty()
                    || evaluation
                        .policies
                        .iter()
                        .any(|policy| policy.matching_rules.iter().any(|rule| rule.uncertain))
            })
            || self.cilium.allows.iter().any(|outcome| outcome.uncertain)
            || self.cilium.denies.iter().any(|outcome| outcome.uncertain)
            || self.mesh.allow.iter().any(|outcome| outcome.uncertain)
            || self.mesh.deny.iter().any(|outcome| outcome.uncertain)
            || !self.mesh.custom.is_empty()
    }

    /// Fills `allowed` and `uncertain` from the layers.
    pub fn finish(mut self, policies: &Policies) -> SideEvaluation {
        if self.status != SideStatus::Evaluated {
            return self;
        }
        if !self.scenarios.is_empty() {
            let mut always = ConnectionSet::all();
            let mut sometimes = ConnectionSet::empty();
            for scenario in &self.scenarios {
                always = always.intersection(&scenario.allowed);
                sometimes.union_with(&scenario.allowed);
                sometimes.union_with(&scenario.uncertain);
            }
            self.uncertain = sometimes.difference(&always);
            self.allowed = always;
            return self;
        }
        let only_network_policy = self.admin.is_empty()
            && self.cilium.isolating.is_empty()
            && self.cilium.allows.is_empty()
            && self.cilium.denies.is_empty()
            && !self.mesh.applies;
        if only_network_policy && let Some(evaluation) = &self.network_policy {
            self.allowed = evaluation.allowed.clone();
            self.uncertain = evaluation.uncertain.clone();
            return self;
        }
        let assume_no = self.allowed_assuming(false, policies);
        if self.has_uncertainty() {
            let assume_yes = self.allowed_assuming(true, policies);
            self.allowed = assume_no.intersection(&assume_yes);
            self.uncertain = assume_no.union(&assume_yes).difference(&self.allowed);
        } else {
            self.allowed = assume_no;
            self.uncertain = ConnectionSet::empty();
        }
        self
    }

    /// What the side allows if every uncertain match holds (`assume`) or none does.
    fn allowed_assuming(&self, assume: bool, policies: &Policies) -> ConnectionSet {
        let applies = |uncertain: bool| !uncertain || assume;
        let mut undecided = ConnectionSet::all();
        let mut allowed = ConnectionSet::empty();
        let mut passed = ConnectionSet::empty();
        for outcome in &self.admin.admin {
            if !applies(outcome.uncertain) {
                continue;
            }
            let decided = outcome.connections.intersection(&undecided);
            if decided.is_empty() {
                continue;
            }
            match policies.admin.rules[outcome.rule].action {
                AdminAction::Allow => allowed.union_with(&decided),
                AdminAction::Deny => {}
                AdminAction::Pass => passed.union_with(&decided),
            }
            undecided = undecided.difference(&decided);
        }
        undecided.union_with(&passed);
        for outcome in &self.cilium.denies {
            if applies(outcome.uncertain) {
                undecided = undecided.difference(&outcome.connections);
            }
        }
        if self.isolated() {
            let mut pod_allowed = ConnectionSet::empty();
            if let Some(evaluation) = &self.network_policy {
                pod_allowed.union_with(&evaluation.allowed);
                if assume {
                    pod_allowed.union_with(&evaluation.uncertain);
                }
            }
            for outcome in &self.cilium.allows {
                if applies(outcome.uncertain) {
                    pod_allowed.union_with(&outcome.connections);
                }
            }
            allowed.union_with(&undecided.intersection(&pod_allowed));
        } else {
            for outcome in &self.admin.baseline {
                if !applies(outcome.uncertain) {
                    continue;
                }
                let decided = outcome.connections.intersection(&undecided);
                if policies.admin.rules[outcome.rule].action == AdminAction::Allow {
                    allowed.union_with(&decided);
                }
                undecided = undecided.difference(&decided);
            }
            allowed.union_with(&undecided);
        }
        if self.mesh.applies {
            allowed = allowed.intersection(&self.mesh_allowed(assume));
        }
        allowed
    }

    /// What the destination's AuthorizationPolicies let through (UDP and SCTP untouched).
    fn mesh_allowed(&self, assume: bool) -> ConnectionSet {
        let applies = |uncertain: bool| !uncertain || assume;
        let tcp = ConnectionSet::protocol(Protocol::Tcp);
        let mut through = if self.mesh.allow_policies.is_empty() {
            tcp.clone()
        } else {
            let mut union = ConnectionSet::empty();
            for outcome in &self.mesh.allow {
                if applies(outcome.uncertain) {
                    union.union_with(&outcome.connections);
                }
            }
            union.intersection(&tcp)
        };
        for outcome in &self.mesh.deny {
            if applies(outcome.uncertain) && outcome.conditions.is_empty() {
                through = through.difference(&outcome.connections);
            }
        }
        if !assume {
            for outcome in &self.mesh.custom {
                through = through.difference(&outcome.connections);
            }
        }
        through.union(&ConnectionSet::all().difference(&tcp))
    }

    /// Every set whose edges may change a decision (for splitting traffic into segments).
    pub fn boundaries(&self) -> Vec<&ConnectionSet> {
        let mut sets = vec![&self.allowed, &self.uncertain];
        for scenario in &self.scenarios {
            sets.extend(scenario.boundaries());
        }
        sets.extend(self.admin.admin.iter().map(|outcome| &outcome.connections));
        sets.extend(
            self.admin
                .baseline
                .iter()
                .map(|outcome| &outcome.connections),
        );
        if let Some(evaluation) = &self.network_policy {
            for policy in &evaluation.policies {
                sets.extend(policy.matching_rules.iter().map(|rule| &rule.connections));
            }
        }
        for outcome in self.cilium.allows.iter().chain(&self.cilium.denies) {
            sets.push(&outcome.connections);
            sets.extend(outcome.conditions.iter().map(|(set, _)| set));
        }
        for outcome in self
            .mesh
            .allow
            .iter()
            .chain(&self.mesh.deny)
            .chain(&self.mesh.custom)
        {
            sets.push(&outcome.connections);
        }
        sets
    }

    /// The decision for one protocol/port, with the policies and rules behind it.
    pub fn decide(&self, policies: &Policies, protocol: Protocol, port: u16) -> SideDecision {
        let basis = match self.status {
            SideStatus::External => Basis::External,
            SideStatus::HostNetwork => Basis::HostNetwork,
            SideStatus::Evaluated if self.isolated() => Basis::Policies,
            SideStatus::Evaluated => Basis::NotIsolated,
        };
        if self.status != SideStatus::Evaluated {
            return SideDecision {
                allowed: true,
                uncertain: false,
                basis,
                attributions: Vec::new(),
                conditions: Vec::new(),
            };
        }
        if !self.scenarios.is_empty() {
            let decisions: Vec<SideDecision> = self
                .scenarios
                .iter()
                .map(|scenario| scenario.decide(policies, protocol, port))
                .collect();
            let Some(first) = decisions.first() else {
                return self.decide_assuming(policies, protocol, port, false, basis);
            };
            if decisions
                .iter()
                .all(|decision| decision.allowed == first.allowed && !decision.uncertain)
            {
                return first.clone();
            }
            // Allowed under some addresses only: report the rules that might allow.
            let mut decision = decisions
                .iter()
                .find(|decision| decision.allowed)
                .unwrap_or(first)
                .clone();
            decision.allowed = false;
            decision.uncertain = true;
            for attribution in &mut decision.attributions {
                if attribution.outcome == Outcome::Allows {
                    attribution.outcome = Outcome::MayAllow;
                }
            }
            return decision;
        }
        let certain = self.decide_assuming(policies, protocol, port, false, basis);
        if !self.has_uncertainty() {
            return certain;
        }
        let hopeful = self.decide_assuming(policies, protocol, port, true, basis);
        if certain.allowed == hopeful.allowed {
            return certain;
        }
        // Allowed only if an uncertain match holds: report the rules that might allow.
        let mut decision = hopeful;
        decision.allowed = false;
        decision.uncertain = true;
        for attribution in &mut decision.attributions {
            if attribution.outcome == Outcome::Allows {
                attribution.outcome = Outcome::MayAllow;
            }
        }
        decision
    }

    fn decide_assuming(
        &self,
        policies: &Policies,
        protocol: Protocol,
        port: u16,
        assume: bool,
        basis: Basis,
    ) -> SideDecision {
        let applies = |uncertain: bool| !uncertain || assume;
        let direction = self.direction;
        let mut decision = SideDecision {
            allowed: true,
            uncertain: false,
            basis,
            attributions: Vec::new(),
            conditions: Vec::new(),
        };
        let mut decided = false;
        for outcome in &self.admin.admin {
            if !applies(outcome.uncertain) || !outcome.connections.contains(protocol, port) {
                continue;
            }
            let rule = &policies.admin.rules[outcome.rule];
            let (allowed, result) = match rule.action {
                AdminAction::Allow => (true, Outcome::Allows),
                AdminAction::Deny => (false, Outcome::Denies),
                AdminAction::Pass => (true, Outcome::Passes),
            };
            decision
                .attributions
                .push(policies.admin_attribution(outcome.rule, result));
            if rule.action != AdminAction::Pass {
                decision.allowed = allowed;
                decision.basis = Basis::Policies;
                decided = true;
            }
            break;
        }
        if !decided
            && let Some(outcome) = self.cilium.denies.iter().find(|outcome| {
                applies(outcome.uncertain) && outcome.connections.contains(protocol, port)
            })
        {
            decision.attributions.push(policies.cilium_attribution(
                outcome.section,
                outcome.rule,
                Outcome::Denies,
            ));
            decision.allowed = false;
            decision.basis = Basis::Policies;
            decided = true;
        }
        if !decided && self.isolated() {
            let mut allowing = Vec::new();
            let mut denying = Vec::new();
            if let Some(evaluation) = &self.network_policy {
                for outcome in &evaluation.policies {
                    if outcome.rules_defined == 0 {
                        denying.push(policies.network_attribution(
                            outcome.policy,
                            None,
                            Outcome::NoRulesDefined,
                        ));
                        continue;
                    }
                    if outcome.matching_rules.is_empty() {
                        denying.push(policies.network_attribution(
                            outcome.policy,
                            None,
                            Outcome::NotSelectedByAnyRule,
                        ));
                        continue;
                    }
                    for rule in &outcome.matching_rules {
                        let contains = rule.connections.contains(protocol, port);
                        if contains && applies(rule.uncertain) {
                            allowing.push(policies.network_attribution(
                                outcome.policy,
                                Some(rule.number),
                                Outcome::Allows,
                            ));
                        } else if contains {
                            denying.push(policies.network_attribution(
                                outcome.policy,
                                Some(rule.number),
                                Outcome::MayAllow,
                            ));
                        } else if rule.connections.is_empty() && rule.named_ports_unresolved {
                            denying.push(policies.network_attribution(
                                outcome.policy,
                                Some(rule.number),
                                Outcome::NamedPortsUnresolved,
                            ));
                        } else {
                            denying.push(policies.network_attribution(
                                outcome.policy,
                                Some(rule.number),
                                Outcome::PortsDoNotMatch,
                            ));
                        }
                    }
                }
            }
            for outcome in &self.cilium.allows {
                if applies(outcome.uncertain) && outcome.connections.contains(protocol, port) {
                    let attribution =
                        policies.cilium_attribution(outcome.section, outcome.rule, Outcome::Allows);
                    for (set, condition) in &outcome.conditions {
                        let condition = condition.replace("{rule}", &attribution.display);
                        if set.contains(protocol, port) && !decision.conditions.contains(&condition)
                        {
                            decision.conditions.push(condition);
                        }
                    }
                    allowing.push(attribution);
                }
            }
            for section in &self.cilium.isolating {
                let matched = self
                    .cilium
                    .allows
                    .iter()
                    .filter(|outcome| outcome.section == *section)
                    .collect::<Vec<_>>();
                if matched.is_empty() {
                    denying.push(policies.cilium_attribution(
                        *section,
                        0,
                        Outcome::NotSelectedByAnyRule,
                    ));
                } else if !matched
                    .iter()
                    .any(|outcome| outcome.connections.contains(protocol, port))
                {
                    denying.push(policies.cilium_attribution(
                        *section,
                        matched[0].rule,
                        Outcome::PortsDoNotMatch,
                    ));
                }
            }
            decision.basis = Basis::Policies;
            if allowing.is_empty() {
                decision.allowed = false;
                decision.attributions.extend(denying);
                decided = true;
            } else {
                decision.attributions.extend(allowing);
            }
        } else if !decided {
            for outcome in &self.admin.baseline {
                if !applies(outcome.uncertain) || !outcome.connections.contains(protocol, port) {
                    continue;
                }
                let rule = &policies.admin.rules[outcome.rule];
                let allowed = rule.action == AdminAction::Allow;
                decision.attributions.push(policies.admin_attribution(
                    outcome.rule,
                    if allowed {
                        Outcome::Allows
                    } else {
                        Outcome::Denies
                    },
                ));
                decision.allowed = allowed;
                decision.basis = Basis::Policies;
                decided = !allowed;
                break;
            }
        }
        if decided || !decision.allowed {
            return decision;
        }
        if direction == Direction::Ingress && self.mesh.applies && protocol == Protocol::Tcp {
            self.decide_mesh(policies, port, assume, &mut decision);
        }
        decision
    }

    fn decide_mesh(
        &self,
        policies: &Policies,
        port: u16,
        assume: bool,
        decision: &mut SideDecision,
    ) {
        let applies = |uncertain: bool| !uncertain || assume;
        let contains = |set: &ConnectionSet| set.contains(Protocol::Tcp, port);
        if let Some(outcome) = self
            .mesh
            .custom
            .iter()
            .find(|outcome| contains(&outcome.connections))
        {
            decision.attributions.push(policies.mesh_attribution(
                outcome.policy,
                outcome.rule,
                Outcome::Delegated,
            ));
            if !assume {
                decision.allowed = false;
                decision.basis = Basis::Policies;
                return;
            }
        }
        for outcome in &self.mesh.deny {
            if !applies(outcome.uncertain) || !contains(&outcome.connections) {
                continue;
            }
            if outcome.conditions.is_empty() {
                decision.attributions.push(policies.mesh_attribution(
                    outcome.policy,
                    outcome.rule,
                    Outcome::Denies,
                ));
                decision.allowed = false;
                decision.basis = Basis::Policies;
                return;
            }
            decision.conditions.push(format!(
                "except requests with {} ({} denies them)",
                outcome.conditions.join(", "),
                policies.mesh_display(outcome.policy, outcome.rule)
            ));
        }
        if self.mesh.allow_policies.is_empty() {
            return;
        }
        let allowing: Vec<_> = self
            .mesh
            .allow
            .iter()
            .filter(|outcome| applies(outcome.uncertain) && contains(&outcome.connections))
            .collect();
        if allowing.is_empty() {
            decision.allowed = false;
            decision.basis = Basis::Policies;
            for policy in &self.mesh.allow_policies {
                decision.attributions.push(policies.mesh_attribution(
                    *policy,
                    0,
                    Outcome::NoAllowPolicyMatches,
                ));
            }
            return;
        }
        decision.basis = Basis::Policies;
        let unconditional = allowing.iter().any(|outcome| outcome.conditions.is_empty());
        for outcome in &allowing {
            decision.attributions.push(policies.mesh_attribution(
                outcome.policy,
                outcome.rule,
                Outcome::Allows,
            ));
        }
        if !unconditional {
            for outcome in &allowing {
                decision.conditions.push(format!(
                    "only requests with {} ({})",
                    outcome.conditions.join(", "),
                    policies.mesh_display(outcome.policy, outcome.rule)
                ));
            }
        }
    }
}

/// Both sides of one source → destination pair.
#[derive(Debug, Clone)]
pub struct PairEvaluation {
    pub egress: SideEvaluation,
    pub ingress: SideEvaluation,
}

impl PairEvaluation {
    /// What both sides certainly allow.
    pub fn allowed(&self) -> ConnectionSet {
        self.egress.allowed.intersection(&self.ingress.allowed)
    }

    /// The traffic space split into segments with one explanation each (allowed ones first).
    pub fn segments(&self, policies: &Policies) -> Vec<Segment> {
        self.segments_of(&ConnectionSet::all(), policies)
    }

    /// `traffic` split into segments with one explanation each (allowed ones first).
    pub fn segments_of(&self, traffic: &ConnectionSet, policies: &Policies) -> Vec<Segment> {
        let mut boundaries = self.egress.boundaries();
        boundaries.extend(self.ingress.boundaries());
        let groups = traffic.partition(&boundaries, |protocol, port| {
            (
                self.egress.decide(policies, protocol, port),
                self.ingress.decide(policies, protocol, port),
            )
        });
        let mut segments: Vec<Segment> = groups
            .into_iter()
            .map(|((egress, ingress), connections)| Segment {
                allowed: egress.allowed && ingress.allowed,
                connections,
                egress,
                ingress,
            })
            .collect();
        segments.sort_by(|left, right| {
            (!left.allowed, left.connections.explanation_text())
                .cmp(&(!right.allowed, right.connections.explanation_text()))
        });
        segments
    }
}
