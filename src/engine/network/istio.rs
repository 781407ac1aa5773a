//! Istio AuthorizationPolicy between mesh workloads, enforced at the destination's proxy for TCP
//! traffic: CUSTOM policies first (an external authorizer decides), then DENY, then ALLOW (when
//! any ALLOW policy applies, a request must match one; an ALLOW policy without rules matches
//! nothing and so denies everything). Sources are known by namespace and service-account
//! principal (`cluster.local/ns/NS/sa/SA`) only when they are in the mesh; request-level fields
//! (methods, paths, hosts, JWT principals, most `when` keys) make a match conditional, and the
//! condition is named. Dry-run and AUDIT policies never decide.

use super::addresses::{AddressSet, Coverage, IpRange};
use super::connections::{ConnectionSet, PortSet, Protocol};
use super::endpoints::{DEFAULT_NAMESPACE, Endpoint, Inventory, PeerMatch, Remote};
use super::verdict::PolicyReference;
use crate::model::details::istio::{
    AuthorizationCondition, AuthorizationOperation, AuthorizationRule, AuthorizationSource,
    TargetReference,
};
use crate::model::{Constraint, Details, LabelSelector};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshAction {
    Allow,
    Deny,
    Custom,
}

#[derive(Debug, Clone)]
pub struct AuthorizationPolicy {
    pub reference: PolicyReference,
    pub constraint_id: String,
    pub action: MeshAction,
    pub provider: Option<String>,
    pub level: String,
    pub namespace: String,
    pub root_namespace: String,
    pub selector: Option<LabelSelector>,
    pub targets: Vec<TargetReference>,
    pub rules: Vec<AuthorizationRule>,
    pub description: String,
}

/// A rule matching the pair.
#[derive(Debug, Clone)]
pub struct MeshRuleOutcome {
    pub policy: usize,
    /// 1-based; 0 for a policy matching everything without rules of its own.
    pub rule: usize,
    pub connections: ConnectionSet,
    pub uncertain: bool,
    /// Request-level conditions the rule also requires ("method GET", "path /api/*").
    pub conditions: Vec<String>,
}

/// What the destination's AuthorizationPolicies say about the pair.
#[derive(Debug, Clone, Default)]
pub struct MeshEvaluation {
    /// The destination is in the mesh and at least one enforcing policy applies to it.
    pub applies: bool,
    pub custom: Vec<MeshRuleOutcome>,
    pub deny: Vec<MeshRuleOutcome>,
    pub allow: Vec<MeshRuleOutcome>,
    /// ALLOW policies applying to the destination (when any, a request must match one).
    pub allow_policies: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct MeshPolicies {
    pub policies: Vec<AuthorizationPolicy>,
    pub diagnostics: Vec<String>,
}

impl MeshPolicies {
    pub fn build(constraints: &[Constraint]) -> MeshPolicies {
        let mut result = MeshPolicies::default();
        for constraint in constraints {
            let Details::Istio(details) = &constraint.details else {
                continue;
            };
            let Some(authorization) = &details.authorization else {
                continue;
            };
            if details.dry_run {
                result.diagnostics.push(format!(
                    "`{}` is dry-run (`istio.io/dry-run`): logged, never enforced; ignored",
                    constraint.id
                ));
                continue;
            }
            let action = match authorization.action.as_str() {
                "ALLOW" | "" => MeshAction::Allow,
                "DENY" => MeshAction::Deny,
                "CUSTOM" => MeshAction::Custom,
                _ => continue,
            };
            result.policies.push(AuthorizationPolicy {
                reference: PolicyReference {
                    kind: constraint.source.kind.clone(),
                    namespace: constraint.source.namespace.clone(),
                    name: constraint.source.name.clone(),
                },
                constraint_id: constraint.id.clone(),
                action,
                provider: authorization.provider.clone(),
                level: details.level.clone(),
                namespace: constraint
                    .source
                    .namespace
                    .clone()
                    .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
                root_namespace: details.root_namespace.clone(),
                selector: details.selector.clone(),
                targets: details.target_refs.clone(),
                rules: authorization.rules.clone(),
                description: constraint.summary.clone(),
            });
        }
        result
            .policies
            .sort_by(|left, right| left.reference.cmp(&right.reference));
        result
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// What the policies applying to `destination` say about traffic from `source`.
    pub fn evaluate(
        &self,
        destination: &Endpoint,
        source: Remote<'_>,
        inventory: &Inventory,
    ) -> MeshEvaluation {
        let mut evaluation = MeshEvaluation::default();
        if !destination.in_mesh {
            return evaluation;
        }
        for (index, policy) in self.policies.iter().enumerate() {
            if !policy.applies_to(destination, inventory) {
                continue;
            }
            evaluation.applies = true;
            if policy.action == MeshAction::Allow {
                evaluation.allow_policies.push(index);
            }
            let mut outcomes = Vec::new();
            for (rule_index, rule) in policy.rules.iter().enumerate() {
                if let Some(outcome) = rule_outcome(rule, source, destination) {
                    outcomes.push(MeshRuleOutcome {
                        policy: index,
                        rule: rule_index + 1,
                        ..outcome
                    });
                }
            }
            match policy.action {
                MeshAction::Allow => evaluation.allow.extend(outcomes),
                MeshAction::Deny => evaluation.deny.extend(outcomes),
                MeshAction::Custom => evaluation.custom.extend(outcomes),
            }
        }
        evaluation
    }
}

impl AuthorizationPolicy {
    fn applies_to(&self, destination: &Endpoint, inventory: &Inventory) -> bool {
        let namespace_ok =
            self.namespace == self.root_namespace || self.namespace == destination.namespace;
        match self.level.as_str() {
            "mesh" => true,
            "namespace" => namespace_ok,
            "workload" => {
                namespace_ok
                    && self
                        .selector
                        .as_ref()
                        .is_none_or(|selector| selector.matches(&destination.labels))
            }
            "target" => self.targets.iter().any(|target| {
                let namespace = target.namespace.as_deref().unwrap_or(&self.namespace);
                match target.kind.as_str() {
                    "Service" => inventory.services.iter().any(|service| {
                        service.namespace == namespace
                            && service.name == target.name
                            && service.selects(destination)
                    }),
                    "Gateway" => {
                        destination.namespace == namespace
                            && destination
                                .labels
                                .get("gateway.networking.k8s.io/gateway-name")
                                .is_some_and(|name| *name == target.name)
                    }
                    _ => false,
                }
            }),
            _ => false,
        }
    }
}

/// Istio's string match: exact, `prefix*`, `*suffix`, or `*` (present and anything).
fn value_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

/// A positive field: the value must be known and match one pattern.
fn positive(patterns: &[String], value: Option<&str>) -> PeerMatch {
    if patterns.is_empty() {
        return PeerMatch::Yes;
    }
    PeerMatch::from_bool(
        value.is_some_and(|value| patterns.iter().any(|pattern| value_matches(pattern, value))),
    )
}

/// A negative field: an absent value does not match any pattern.
fn negative(patterns: &[String], value: Option<&str>) -> PeerMatch {
    if patterns.is_empty() {
        return PeerMatch::Yes;
    }
    PeerMatch::from_bool(
        !value.is_some_and(|value| patterns.iter().any(|pattern| value_matches(pattern, value))),
    )
}

/// What the proxy knows of the source: identity (mTLS, only for mesh pods) and addresses.
struct SourceFacts<'a> {
    namespace: Option<String>,
    principal: Option<String>,
    service_account: Option<String>,
    addresses: Option<Vec<IpRange>>,
    _remote: Remote<'a>,
}

fn source_facts(source: Remote<'_>) -> SourceFacts<'_> {
    match source {
        Remote::Pod {
            namespace,
            endpoint,
            ..
        } => {
            let in_mesh = endpoint.is_some_and(|endpoint| endpoint.in_mesh);
            let service_account = endpoint.map(|endpoint| endpoint.service_account.clone());
            SourceFacts {
                namespace: in_mesh.then(|| namespace.to_string()),
                principal: match (&service_account, in_mesh) {
                    (Some(account), true) => {
                        Some(format!("cluster.local/ns/{namespace}/sa/{account}"))
                    }
                    _ => None,
                },
                service_account: match (&service_account, in_mesh) {
                    (Some(account), true) => Some(format!("{namespace}/{account}")),
                    _ => None,
                },
                addresses: endpoint
                    .filter(|endpoint| !endpoint.pod_ips.is_empty())
                    .map(|endpoint| {
                        endpoint
                            .pod_ips
                            .iter()
                            .map(|address| IpRange::address(*address))
                            .collect()
                    }),
                _remote: source,
            }
        }
        Remote::Address(range) => SourceFacts {
            namespace: None,
            principal: None,
            service_account: None,
            addresses: Some(vec![range]),
            _remote: source,
        },
        Remote::Host(_, Some(range)) => SourceFacts {
            namespace: None,
            principal: None,
            service_account: None,
            addresses: Some(vec![range]),
            _remote: source,
        },
        Remote::Host(_, None) | Remote::Unresolved => SourceFacts {
            namespace: None,
            principal: None,
            service_account: None,
            addresses: None,
            _remote: source,
        },
    }
}

fn blocks_match(blocks: &[String], facts: &SourceFacts<'_>, positive_field: bool) -> PeerMatch {
    if blocks.is_empty() {
        return PeerMatch::Yes;
    }
    let sets: Vec<AddressSet> = blocks
        .iter()
        .filter_map(|block| AddressSet::from_block(block, &[]).ok())
        .collect();
    let inside = match &facts.addresses {
        None => PeerMatch::Maybe,
        Some(addresses) => addresses.iter().fold(PeerMatch::No, |found, address| {
            found.or(sets.iter().fold(PeerMatch::No, |any, set| {
                any.or(match set.coverage(address) {
                    Coverage::Full => PeerMatch::Yes,
                    Coverage::Partial => PeerMatch::Maybe,
                    Coverage::None => PeerMatch::No,
                })
            }))
        }),
    };
    if positive_field {
        inside
    } else {
        match inside {
            PeerMatch::Yes => PeerMatch::No,
            PeerMatch::No => PeerMatch::Yes,
            PeerMatch::Maybe => PeerMatch::Maybe,
        }
    }
}

fn source_matches(
    source: &AuthorizationSource,
    facts: &SourceFacts<'_>,
    conditions: &mut Vec<String>,
) -> PeerMatch {
    if !source.request_principals.is_empty() {
        conditions.push(format!(
            "request principal (JWT) {}",
            source.request_principals.join(", ")
        ));
    }
    if !source.not_request_principals.is_empty() {
        conditions.push(format!(
            "request principal (JWT) not {}",
            source.not_request_principals.join(", ")
        ));
    }
    positive(&source.principals, facts.principal.as_deref())
        .and(negative(&source.not_principals, facts.principal.as_deref()))
        .and(positive(&source.namespaces, facts.namespace.as_deref()))
        .and(negative(&source.not_namespaces, facts.namespace.as_deref()))
        .and(positive(
            &source.service_accounts,
            facts.service_account.as_deref(),
        ))
        .and(negative(
            &source.not_service_accounts,
            facts.service_account.as_deref(),
        ))
        .and(blocks_match(&source.ip_blocks, facts, true))
        .and(blocks_match(&source.not_ip_blocks, facts, false))
        .and(blocks_match(&source.remote_ip_blocks, facts, true))
        .and(blocks_match(&source.not_remote_ip_blocks, facts, false))
}

fn port_set(ports: &[String]) -> PortSet {
    ports
        .iter()
        .filter_map(|port| port.parse::<u16>().ok())
        .fold(PortSet::empty(), |set, port| {
            set.union(&PortSet::single(port))
        })
}

fn operation_connections(
    operation: &AuthorizationOperation,
    conditions: &mut Vec<String>,
) -> ConnectionSet {
    let mut ports = if operation.ports.is_empty() {
        PortSet::all()
    } else {
        port_set(&operation.ports)
    };
    ports = ports.difference(&port_set(&operation.not_ports));
    let mut words = Vec::new();
    let mut add = |name: &str, values: &[String], negated: bool| {
        if !values.is_empty() {
            words.push(format!(
                "{name}{} {}",
                if negated { " not" } else { "" },
                values.join(", ")
            ));
        }
    };
    add("method", &operation.methods, false);
    add("method", &operation.not_methods, true);
    add("path", &operation.paths, false);
    add("path", &operation.not_paths, true);
    add("host", &operation.hosts, false);
    add("host", &operation.not_hosts, true);
    if !words.is_empty() {
        conditions.push(words.join(", "));
    }
    ConnectionSet::of(Protocol::Tcp, ports)
}

fn condition_matches(
    condition: &AuthorizationCondition,
    facts: &SourceFacts<'_>,
    connections: &mut ConnectionSet,
    conditions: &mut Vec<String>,
) -> PeerMatch {
    let key = condition.key.as_str();
    match key {
        "source.namespace" => positive(&condition.values, facts.namespace.as_deref())
            .and(negative(&condition.not_values, facts.namespace.as_deref())),
        "source.principal" => positive(&condition.values, facts.principal.as_deref())
            .and(negative(&condition.not_values, facts.principal.as_deref())),
        "source.ip" | "remote.ip" => blocks_match(&condition.values, facts, true)
            .and(blocks_match(&condition.not_values, facts, false)),
        "destination.port" => {
            let mut ports = if condition.values.is_empty() {
                PortSet::all()
            } else {
                port_set(&condition.values)
            };
            ports = ports.difference(&port_set(&condition.not_values));
            *connections = connections.intersection(&ConnectionSet::of(Protocol::Tcp, ports));
            PeerMatch::Yes
        }
        _ => {
            let mut text = key.to_string();
            if !condition.values.is_empty() {
                text.push_str(&format!(" in {}", condition.values.join(", ")));
            }
            if !condition.not_values.is_empty() {
                text.push_str(&format!(" not in {}", condition.not_values.join(", ")));
            }
            conditions.push(text);
            PeerMatch::Yes
        }
    }
}

/// Whether one rule matches traffic from `source`; `None` when it cannot.
fn rule_outcome(
    rule: &AuthorizationRule,
    source: Remote<'_>,
    _destination: &Endpoint,
) -> Option<MeshRuleOutcome> {
    let facts = source_facts(source);
    let mut conditions = Vec::new();
    let from = if rule.from.is_empty() {
        PeerMatch::Yes
    } else {
        let mut best = PeerMatch::No;
        let mut best_conditions = Vec::new();
        for entry in &rule.from {
            let mut entry_conditions = Vec::new();
            let matched = source_matches(entry, &facts, &mut entry_conditions);
            if matched != PeerMatch::No
                && (best == PeerMatch::No
                    || (matched == PeerMatch::Yes && entry_conditions.is_empty()))
            {
                best = best.or(matched);
                best_conditions = entry_conditions;
            }
        }
        conditions.extend(best_conditions);
        best
    };
    if from == PeerMatch::No {
        return None;
    }
    let mut connections = if rule.to.is_empty() {
        ConnectionSet::protocol(Protocol::Tcp)
    } else {
        let mut union = ConnectionSet::empty();
        let mut operation_conditions = Vec::new();
        for operation in &rule.to {
            let mut words = Vec::new();
            union.union_with(&operation_connections(operation, &mut words));
            operation_conditions.extend(words);
        }
        if !operation_conditions.is_empty() {
            conditions.push(operation_conditions.join(" or "));
        }
        union
    };
    let mut matched = from;
    for condition in &rule.when {
        matched = matched.and(condition_matches(
            condition,
            &facts,
            &mut connections,
            &mut conditions,
        ));
    }
    if matched == PeerMatch::No || connections.is_empty() {
        return None;
    }
    Some(MeshRuleOutcome {
        policy: 0,
        rule: 0,
        connections,
        uncertain: matched == PeerMatch::Maybe,
        conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_string_matches() {
        assert!(value_matches("*", "x"));
        assert!(value_matches(
            "cluster.local/ns/a/*",
            "cluster.local/ns/a/sa/web"
        ));
        assert!(value_matches("*/sa/web", "cluster.local/ns/a/sa/web"));
        assert!(!value_matches(
            "cluster.local/ns/b/*",
            "cluster.local/ns/a/sa/web"
        ));
        assert_eq!(positive(&["*".to_string()], None), PeerMatch::No);
        assert_eq!(negative(&["*".to_string()], None), PeerMatch::Yes);
    }
}
