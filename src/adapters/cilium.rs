//! Cilium (`cilium.io/v2`): CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy. One constraint
//! per rule set (`spec`, each `specs` entry), direction and allow/deny section.
//!
//! Semantics (from Cilium's documentation and its policy parser):
//! - Selector keys may carry a label source (`k8s:`, `any:`, `reserved:`…). `k8s:`/`any:` keys are
//!   pod labels, except `io.kubernetes.pod.namespace` (the pod's namespace) and
//!   `io.cilium.k8s.namespace.labels.<label>` (a label of the pod's namespace);
//!   `io.cilium.k8s.policy.serviceaccount` and other `io.cilium.k8s.*` keys are identity labels.
//! - A CiliumNetworkPolicy only selects pods in its own namespace; its endpoint peers without a
//!   namespace requirement are limited to its own namespace too (`fromEndpoints: [{}]` means every
//!   pod of the namespace). A CiliumClusterwideNetworkPolicy's subject and peers are limited to the
//!   namespaces they name, if any (`fromEndpoints: [{}]` means every pod of the cluster).
//! - A rule set with rules in a direction puts its subjects in default-deny for that direction,
//!   allow and deny sections alike, unless `enableDefaultDeny.<direction>` is false.
//! - A rule with no peer and no port (`ingress: [{}]`) allows nothing: with default deny, it is a
//!   deny-all. A rule with ports and no peer applies to every peer.
//! - Deny sections win over every allow rule of every policy kind.
//! - Host policies (`nodeSelector`, clusterwide only) apply to nodes: their constraints list in
//!   every namespace with a `host policy` note, carry `resources: [nodes]` and match no workload.

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::details::cilium::{
    CiliumDetails, CiliumDnsRule, CiliumEndpointSelector, CiliumHttpRule, CiliumIcmp,
    CiliumL7Rules, CiliumPeer, CiliumPort, CiliumPortRule, CiliumRule, CiliumSubject,
};
use crate::model::selector::{Operator, Requirement, SelectorError};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::{Object, Snapshot};

/// The label the apiserver sets on every Namespace; namespace names are matched through it.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Cilium's identity label for the pod's namespace.
const POD_NAMESPACE_KEY: &str = "io.kubernetes.pod.namespace";
/// Cilium's identity labels for the labels of the pod's namespace.
const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";
/// Cilium's identity labels that are not pod labels (service account, cluster name…).
const IDENTITY_PREFIX: &str = "io.cilium.k8s.";
const SERVICE_ACCOUNT_KEY: &str = "io.cilium.k8s.policy.serviceaccount";
const RESERVED_PREFIX: &str = "reserved:";

/// Entities Cilium accepts in `fromEntities`/`toEntities`.
const ENTITIES: &[&str] = &[
    "all",
    "world",
    "world-ipv4",
    "world-ipv6",
    "cluster",
    "host",
    "remote-node",
    "kube-apiserver",
    "init",
    "health",
    "unmanaged",
    "ingress",
    "none",
];

const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP", "ANY"];

pub struct CiliumAdapter;

impl Adapter for CiliumAdapter {
    fn name(&self) -> &'static str {
        "cilium"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("cilium.io", "CiliumNetworkPolicy"),
            ("cilium.io", "CiliumClusterwideNetworkPolicy"),
        ]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let clusterwide = object.kind == "CiliumClusterwideNetworkPolicy";
        let namespace = if clusterwide {
            None
        } else {
            match object.namespace.as_deref() {
                Some(namespace) => Some(namespace),
                None => {
                    output.diagnose(
                        self,
                        object,
                        "metadata.namespace: missing on a namespaced policy; policy ignored",
                    );
                    return;
                }
            }
        };
        let policy = Policy {
            object,
            clusterwide,
            namespace,
        };
        let mut messages = Vec::new();
        let rule_sets = rule_sets(object, &mut messages);
        for message in messages {
            output.diagnose(self, object, message);
        }
        for rule_set in rule_sets {
            let mut messages = Vec::new();
            policy.adapt_rule_set(&rule_set, &mut output.constraints, &mut messages);
            for message in messages {
                output.diagnose(self, object, message);
            }
        }
    }
}

/// The policy object being read, with what every rule set needs.
struct Policy<'a> {
    object: &'a Object,
    clusterwide: bool,
    /// The policy's namespace; `None` for a CiliumClusterwideNetworkPolicy.
    namespace: Option<&'a str>,
}

/// One entry of `spec`/`specs`.
struct RuleSet<'a> {
    /// `spec` or `specs[1]`, for messages.
    path: String,
    /// Prefix of the constraint rule names: empty, or `specs[1].` when rule sets need telling apart.
    rule_prefix: String,
    spec_index: Option<usize>,
    value: &'a Value,
}

/// One allow or deny section of a rule set.
struct Section<'a> {
    field: &'static str,
    direction: &'static str,
    deny: bool,
    rule_suffix: &'static str,
    items: &'a [Value],
}

const SECTIONS: [(&str, &str, bool, &str); 4] = [
    ("ingress", "ingress", false, "ingress"),
    ("ingressDeny", "ingress", true, "ingress-deny"),
    ("egress", "egress", false, "egress"),
    ("egressDeny", "egress", true, "egress-deny"),
];

/// The rule sets of a policy: `spec` and the entries of `specs` (both may be present).
fn rule_sets<'a>(object: &'a Object, messages: &mut Vec<String>) -> Vec<RuleSet<'a>> {
    let present = |field: &str| object.value.get(field).filter(|value| !value.is_null());
    let spec = present("spec");
    let specs = match present("specs") {
        None => None,
        Some(Value::Array(items)) => Some(items.as_slice()),
        Some(_) => {
            messages.push("specs: must be a list; ignored".to_string());
            None
        }
    };
    if spec.is_none() && specs.is_none_or(|items| items.is_empty()) {
        messages
            .push("spec: missing (neither `spec` nor `specs` has rules); policy ignored".into());
        return Vec::new();
    }
    let mut sets = Vec::new();
    if let Some(value) = spec {
        if value.is_object() {
            sets.push(RuleSet {
                path: "spec".to_string(),
                rule_prefix: String::new(),
                spec_index: None,
                value,
            });
        } else {
            messages.push("spec: must be a mapping; ignored".to_string());
        }
    }
    let items = specs.unwrap_or_default();
    let indexed = items.len() > 1 || (spec.is_some() && !items.is_empty());
    for (index, value) in items.iter().enumerate() {
        let path = format!("specs[{index}]");
        if !value.is_object() {
            messages.push(format!("{path}: must be a mapping; ignored"));
            continue;
        }
        sets.push(RuleSet {
            rule_prefix: if indexed {
                format!("{path}.")
            } else {
                String::new()
            },
            path,
            spec_index: Some(index),
            value,
        });
    }
    sets
}

/// The subject of a rule set, ready for constraints.
struct Subject {
    scope: Scope,
    /// "pods with app=api", "nodes with role=edge (host policy)".
    text: String,
    details: CiliumSubject,
}

/// A selector's requirements sorted by what their keys mean to Cilium.
#[derive(Default)]
struct SplitSelector {
    pods: LabelSelector,
    /// Requirements on the namespace name, keyed `kubernetes.io/metadata.name`.
    namespace_names: LabelSelector,
    namespace_labels: LabelSelector,
    identity: LabelSelector,
}

enum KeyMeaning {
    Pod(String),
    NamespaceName,
    NamespaceLabel(String),
    Identity(String),
}

fn key_meaning(key: &str) -> KeyMeaning {
    let (source, bare) = key.split_once(':').unwrap_or(("any", key));
    match source {
        "k8s" | "any" | "unspec" => {}
        "reserved" => return KeyMeaning::Identity(format!("{RESERVED_PREFIX}{bare}")),
        _ => return KeyMeaning::Identity(key.to_string()),
    }
    if bare == POD_NAMESPACE_KEY {
        KeyMeaning::NamespaceName
    } else if let Some(label) = bare.strip_prefix(NAMESPACE_LABELS_PREFIX) {
        KeyMeaning::NamespaceLabel(label.to_string())
    } else if bare.starts_with(IDENTITY_PREFIX) {
        KeyMeaning::Identity(bare.to_string())
    } else {
        KeyMeaning::Pod(bare.to_string())
    }
}

/// Adds `key=value`; a second, different value for the same key becomes an `In` requirement so
/// that both must hold (as they do in Cilium, where `k8s:app` and `any:app` name the same label).
fn add_label(selector: &mut LabelSelector, key: String, value: String) {
    match selector.match_labels.get(&key) {
        Some(existing) if *existing != value => selector.match_expressions.push(Requirement {
            key,
            operator: Operator::In,
            values: vec![value],
        }),
        _ => {
            selector.match_labels.insert(key, value);
        }
    }
}

fn merge_selectors(mut into: LabelSelector, from: LabelSelector) -> LabelSelector {
    for (key, value) in from.match_labels {
        add_label(&mut into, key, value);
    }
    into.match_expressions.extend(from.match_expressions);
    into
}

fn non_empty(selector: LabelSelector) -> Option<LabelSelector> {
    if selector.is_empty() {
        None
    } else {
        Some(selector)
    }
}

/// `path.field: problem`, or `path: problem` when the problem is the selector itself.
fn selector_problem(path: &str, error: &SelectorError) -> String {
    if error.field.is_empty() {
        format!("{path}: {}", error.problem)
    } else {
        format!("{path}.{}: {}", error.field, error.problem)
    }
}

fn split_selector(value: &Value, path: &str) -> Result<SplitSelector, String> {
    let decoded =
        LabelSelector::from_value(value).map_err(|error| selector_problem(path, &error))?;
    let mut split = SplitSelector::default();
    for (key, value) in decoded.match_labels {
        match key_meaning(&key) {
            KeyMeaning::Pod(key) => add_label(&mut split.pods, key, value),
            KeyMeaning::NamespaceName => add_label(
                &mut split.namespace_names,
                NAMESPACE_NAME_LABEL.into(),
                value,
            ),
            KeyMeaning::NamespaceLabel(key) => add_label(&mut split.namespace_labels, key, value),
            KeyMeaning::Identity(key) => add_label(&mut split.identity, key, value),
        }
    }
    for requirement in decoded.match_expressions {
        let (target, key) = match key_meaning(&requirement.key) {
            KeyMeaning::Pod(key) => (&mut split.pods, key),
            KeyMeaning::NamespaceName => {
                (&mut split.namespace_names, NAMESPACE_NAME_LABEL.to_string())
            }
            KeyMeaning::NamespaceLabel(key) => (&mut split.namespace_labels, key),
            KeyMeaning::Identity(key) => (&mut split.identity, key),
        };
        target
            .match_expressions
            .push(Requirement { key, ..requirement });
    }
    Ok(split)
}

/// A node selector: node labels, source prefixes removed.
fn node_selector(value: &Value, path: &str) -> Result<LabelSelector, String> {
    let decoded =
        LabelSelector::from_value(value).map_err(|error| selector_problem(path, &error))?;
    let strip = |key: &str| -> String {
        match key.split_once(':') {
            Some(("k8s" | "any", bare)) => bare.to_string(),
            _ => key.to_string(),
        }
    };
    let mut selector = LabelSelector::default();
    for (key, value) in decoded.match_labels {
        add_label(&mut selector, strip(&key), value);
    }
    for requirement in decoded.match_expressions {
        selector.match_expressions.push(Requirement {
            key: strip(&requirement.key),
            ..requirement
        });
    }
    Ok(selector)
}

/// The reserved identities (`host`, `world`…) a selector requires, if any.
fn reserved_identities(identity: &LabelSelector) -> Vec<String> {
    let mut names: Vec<String> = identity
        .match_labels
        .keys()
        .filter_map(|key| key.strip_prefix(RESERVED_PREFIX))
        .map(str::to_string)
        .collect();
    names.extend(
        identity
            .match_expressions
            .iter()
            .filter(|requirement| matches!(requirement.operator, Operator::In | Operator::Exists))
            .filter_map(|requirement| requirement.key.strip_prefix(RESERVED_PREFIX))
            .map(str::to_string),
    );
    names
}

/// The namespaces a set of requirements on the namespace name admits, as scope fields:
/// names (`In`, `=`) become `namespaces`, `NotIn` becomes `excludedNamespaces`.
fn scope_namespace_names(names: &LabelSelector, scope: &mut Scope) {
    let mut admitted: Option<Vec<String>> = None;
    let mut narrow = |values: Vec<String>| {
        admitted = Some(match admitted.take() {
            None => values,
            Some(previous) => previous
                .into_iter()
                .filter(|name| values.contains(name))
                .collect(),
        });
    };
    for value in names.match_labels.values() {
        narrow(vec![value.clone()]);
    }
    let mut excluded = Vec::new();
    for requirement in &names.match_expressions {
        match requirement.operator {
            Operator::In => narrow(requirement.values.clone()),
            Operator::NotIn => excluded.extend(requirement.values.iter().cloned()),
            // Every pod has a namespace.
            Operator::Exists => {}
            Operator::DoesNotExist => narrow(Vec::new()),
        }
    }
    if let Some(mut admitted) = admitted {
        admitted.retain(|name| !excluded.contains(name));
        scope.namespaces = Some(admitted);
    } else if !excluded.is_empty() {
        scope.excluded_namespaces = Some(excluded);
    }
}

impl Policy<'_> {
    fn adapt_rule_set(
        &self,
        rule_set: &RuleSet<'_>,
        constraints: &mut Vec<Constraint>,
        messages: &mut Vec<String>,
    ) {
        let path = &rule_set.path;
        let subject = match self.subject(rule_set, messages) {
            Ok(subject) => subject,
            Err(message) => {
                messages.push(format!("{message}; rule set ignored"));
                return;
            }
        };
        let mut sections = Vec::new();
        let mut directions_with_rules = Vec::new();
        for (field, direction, deny, rule_suffix) in SECTIONS {
            match rule_set.value.get(field) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) if items.is_empty() => {}
                Some(Value::Array(items)) => {
                    directions_with_rules.push(direction);
                    sections.push(Section {
                        field,
                        direction,
                        deny,
                        rule_suffix,
                        items,
                    });
                }
                Some(_) => {
                    directions_with_rules.push(direction);
                    messages.push(format!("{path}.{field}: must be a list; section ignored"));
                }
            }
        }
        if directions_with_rules.is_empty() {
            messages.push(format!(
                "{path}: no `ingress`, `ingressDeny`, `egress` or `egressDeny` rules; \
                 Cilium rejects such a rule set"
            ));
            return;
        }
        let default_deny = |direction: &str| -> bool {
            let has_rules = directions_with_rules.contains(&direction);
            match rule_set
                .value
                .get("enableDefaultDeny")
                .and_then(|config| config.get(direction))
            {
                None | Some(Value::Null) => has_rules,
                Some(Value::Bool(enabled)) => *enabled && has_rules,
                Some(_) => has_rules,
            }
        };
        for direction in ["ingress", "egress"] {
            let value = rule_set
                .value
                .get("enableDefaultDeny")
                .and_then(|config| config.get(direction));
            if value.is_some_and(|value| !value.is_null() && !value.is_boolean()) {
                messages.push(format!(
                    "{path}.enableDefaultDeny.{direction}: must be a boolean; the default is used"
                ));
            }
        }
        for section in &sections {
            let section_path = format!("{path}.{}", section.field);
            let mut unsupported = Vec::new();
            let rules = match self.rules(section, &section_path, messages, &mut unsupported) {
                Ok(rules) => rules,
                Err(message) => {
                    messages.push(format!("{message}; section ignored"));
                    continue;
                }
            };
            let has_allow = sections
                .iter()
                .any(|other| other.direction == section.direction && !other.deny);
            constraints.push(self.constraint(
                rule_set,
                &subject,
                section,
                SectionFacts {
                    rules,
                    default_deny: default_deny(section.direction),
                    has_allow,
                    unsupported,
                },
            ));
        }
    }

    fn subject(
        &self,
        rule_set: &RuleSet<'_>,
        messages: &mut Vec<String>,
    ) -> Result<Subject, String> {
        let path = &rule_set.path;
        let present = |field: &str| rule_set.value.get(field).filter(|value| !value.is_null());
        match (present("endpointSelector"), present("nodeSelector")) {
            (Some(_), Some(_)) => Err(format!(
                "{path}: sets both `endpointSelector` and `nodeSelector`"
            )),
            (None, None) => Err(format!(
                "{path}: needs `endpointSelector` or `nodeSelector`"
            )),
            (None, Some(_)) if !self.clusterwide => Err(format!(
                "{path}.nodeSelector: only a CiliumClusterwideNetworkPolicy may select nodes"
            )),
            (None, Some(value)) => {
                let nodes = node_selector(value, &format!("{path}.nodeSelector"))?;
                let text = if nodes.is_empty() {
                    "all nodes (host policy)".to_string()
                } else {
                    format!("nodes with {nodes} (host policy)")
                };
                let note = if nodes.is_empty() {
                    "host policy: applies to every node, not to pods".to_string()
                } else {
                    format!("host policy: applies to nodes with `{nodes}`, not to pods")
                };
                Ok(Subject {
                    scope: Scope {
                        resources: Some(vec!["nodes".to_string()]),
                        note: Some(note),
                        ..Scope::default()
                    },
                    text,
                    details: CiliumSubject {
                        endpoints: None,
                        nodes: Some(nodes),
                    },
                })
            }
            (Some(value), None) => {
                let split = split_selector(value, &format!("{path}.endpointSelector"))?;
                Ok(self.endpoint_subject(split, path, messages))
            }
        }
    }

    fn endpoint_subject(
        &self,
        split: SplitSelector,
        path: &str,
        messages: &mut Vec<String>,
    ) -> Subject {
        let mut scope = Scope {
            workload_selector: Some(split.pods.clone()),
            namespace_selector: non_empty(split.namespace_labels.clone()),
            ..Scope::default()
        };
        let mut namespace_text = String::new();
        match self.namespace {
            Some(namespace) => {
                scope.namespaces = Some(vec![namespace.to_string()]);
                let own = [(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string())]
                    .into_iter()
                    .collect();
                if !split.namespace_names.matches(&own) {
                    messages.push(format!(
                        "{path}.endpointSelector: namespace requirement `{}` does not match the \
                         policy's namespace `{namespace}`; a CiliumNetworkPolicy only selects pods \
                         in its own namespace",
                        split.namespace_names
                    ));
                }
            }
            None => {
                scope_namespace_names(&split.namespace_names, &mut scope);
                namespace_text = match (&scope.namespaces, &scope.excluded_namespaces) {
                    (Some(names), _) if names.is_empty() => " in no namespace".to_string(),
                    (Some(names), _) => format!(" in {}", name_list("namespace", names)),
                    (None, Some(excluded)) => {
                        format!(" outside {}", name_list("namespace", excluded))
                    }
                    (None, None) => String::new(),
                };
                namespace_text.push_str(&match &scope.namespace_selector {
                    Some(selector) => format!(" in namespaces with {selector}"),
                    None if namespace_text.is_empty() => " in all namespaces".to_string(),
                    None => String::new(),
                });
            }
        }
        let reserved = reserved_identities(&split.identity);
        let pods_text = if split.pods.is_empty() {
            "all pods".to_string()
        } else {
            format!("pods with {}", split.pods)
        };
        let mut text = format!("{pods_text}{namespace_text}");
        if !reserved.is_empty() {
            let names = reserved.join(", ");
            text = format!("Cilium reserved identity {names}");
            scope.resources = Some(
                reserved
                    .iter()
                    .map(|name| format!("{RESERVED_PREFIX}{name}"))
                    .collect(),
            );
            scope.note = Some(format!(
                "selects the Cilium reserved identity `{names}`, not pods"
            ));
        } else if !split.identity.is_empty() {
            let identity = describe_identity(&split.identity);
            text.push_str(&identity);
            scope.note = Some(format!(
                "only pods{identity} (not checked against workloads)"
            ));
        }
        Subject {
            scope,
            text,
            details: CiliumSubject {
                endpoints: Some(CiliumEndpointSelector {
                    pod_selector: split.pods,
                    namespace_selector: non_empty(merge_selectors(
                        // Cilium replaces a CiliumNetworkPolicy's namespace requirement by its own.
                        match self.namespace {
                            Some(namespace) => own_namespace_selector(namespace),
                            None => split.namespace_names,
                        },
                        split.namespace_labels,
                    )),
                    identity_selector: non_empty(split.identity),
                }),
                nodes: None,
            },
        }
    }

    /// An endpoint peer as Cilium resolves it: a CiliumNetworkPolicy limits peers without a
    /// namespace requirement to its own namespace; reserved identities are never limited.
    fn peer_selector(&self, split: SplitSelector, limit_reserved: bool) -> CiliumEndpointSelector {
        let has_namespace_requirement =
            !split.namespace_names.is_empty() || !split.namespace_labels.is_empty();
        let reserved = !reserved_identities(&split.identity).is_empty();
        let mut namespace_selector = non_empty(merge_selectors(
            split.namespace_names,
            split.namespace_labels,
        ));
        if !has_namespace_requirement
            && (limit_reserved || !reserved)
            && let Some(namespace) = self.namespace
        {
            namespace_selector = Some(own_namespace_selector(namespace));
        }
        CiliumEndpointSelector {
            pod_selector: split.pods,
            namespace_selector,
            identity_selector: non_empty(split.identity),
        }
    }

    fn rules(
        &self,
        section: &Section<'_>,
        path: &str,
        messages: &mut Vec<String>,
        unsupported: &mut Vec<String>,
    ) -> Result<Vec<CiliumRule>, String> {
        section
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                self.rule(
                    item,
                    &format!("{path}[{index}]"),
                    section,
                    messages,
                    unsupported,
                )
            })
            .collect()
    }

    fn rule(
        &self,
        item: &Value,
        path: &str,
        section: &Section<'_>,
        messages: &mut Vec<String>,
        unsupported: &mut Vec<String>,
    ) -> Result<CiliumRule, String> {
        if !item.is_object() {
            return Err(format!("{path}: must be a mapping"));
        }
        let ingress = section.direction == "ingress";
        let prefix = if ingress { "from" } else { "to" };
        let field = |name: &str| format!("{prefix}{name}");
        let mut peers = Vec::new();

        let endpoints_field = field("Endpoints");
        for (index, entry) in list(item, &endpoints_field, path)?.iter().enumerate() {
            let split = split_selector(entry, &format!("{path}.{endpoints_field}[{index}]"))?;
            peers.push(CiliumPeer::Endpoints(self.peer_selector(split, false)));
        }
        let entities_field = field("Entities");
        for (index, entry) in list(item, &entities_field, path)?.iter().enumerate() {
            let entry_path = format!("{path}.{entities_field}[{index}]");
            let entity = entry
                .as_str()
                .ok_or_else(|| format!("{entry_path}: must be a string"))?;
            if !ENTITIES.contains(&entity) {
                messages.push(format!(
                    "{entry_path}: unknown entity `{entity}`; kept as written"
                ));
            }
            peers.push(CiliumPeer::Entity {
                entity: entity.to_string(),
            });
        }
        let cidr_field = field("CIDR");
        for (index, entry) in list(item, &cidr_field, path)?.iter().enumerate() {
            let cidr = entry
                .as_str()
                .ok_or_else(|| format!("{path}.{cidr_field}[{index}]: must be a string"))?;
            peers.push(CiliumPeer::Cidr {
                cidr: cidr.to_string(),
                except: Vec::new(),
            });
        }
        let cidr_set_field = field("CIDRSet");
        for (index, entry) in list(item, &cidr_set_field, path)?.iter().enumerate() {
            peers.push(cidr_rule(
                entry,
                &format!("{path}.{cidr_set_field}[{index}]"),
            )?);
        }
        let nodes_field = field("Nodes");
        for (index, entry) in list(item, &nodes_field, path)?.iter().enumerate() {
            peers.push(CiliumPeer::Nodes {
                node_selector: node_selector(entry, &format!("{path}.{nodes_field}[{index}]"))?,
            });
        }
        let groups_field = field("Groups");
        if !list(item, &groups_field, path)?.is_empty() {
            let group_path = format!("{path}.{groups_field}");
            messages.push(format!(
                "{group_path}: cloud provider groups are not interpreted; listed as unsupported"
            ));
            unsupported.push(group_path);
            peers.push(CiliumPeer::Unsupported {
                field: groups_field,
            });
        }
        if !ingress {
            for (index, entry) in list(item, "toFQDNs", path)?.iter().enumerate() {
                peers.push(fqdn(entry, &format!("{path}.toFQDNs[{index}]"))?);
            }
            for (index, entry) in list(item, "toServices", path)?.iter().enumerate() {
                peers.push(service(entry, &format!("{path}.toServices[{index}]"))?);
            }
        }

        let requires_field = field("Requires");
        let mut requires = Vec::new();
        for (index, entry) in list(item, &requires_field, path)?.iter().enumerate() {
            let split = split_selector(entry, &format!("{path}.{requires_field}[{index}]"))?;
            requires.push(self.peer_selector(split, true));
        }

        let mut ports = Vec::new();
        for (index, entry) in list(item, "toPorts", path)?.iter().enumerate() {
            ports.push(port_rule(
                entry,
                &format!("{path}.toPorts[{index}]"),
                section.deny,
                messages,
            )?);
        }
        let mut icmps = Vec::new();
        for (index, entry) in list(item, "icmps", path)?.iter().enumerate() {
            let entry_path = format!("{path}.icmps[{index}]");
            for (field_index, icmp_field) in list(entry, "fields", &entry_path)?.iter().enumerate()
            {
                let field_path = format!("{entry_path}.fields[{field_index}]");
                let icmp_type = match icmp_field.get("type") {
                    Some(Value::Number(number)) => number.to_string(),
                    Some(Value::String(name)) => name.clone(),
                    _ => return Err(format!("{field_path}.type: missing")),
                };
                icmps.push(CiliumIcmp {
                    family: icmp_field
                        .get("family")
                        .and_then(Value::as_str)
                        .unwrap_or("IPv4")
                        .to_string(),
                    icmp_type,
                });
            }
        }
        let any_peer = peers.is_empty() && (!ports.is_empty() || !icmps.is_empty());
        Ok(CiliumRule {
            peers,
            any_peer,
            requires,
            ports,
            icmps,
            authentication: item
                .pointer("/authentication/mode")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    fn constraint(
        &self,
        rule_set: &RuleSet<'_>,
        subject: &Subject,
        section: &Section<'_>,
        facts: SectionFacts,
    ) -> Constraint {
        let source = SourceReference::from_object(self.object);
        let rule = format!("{}{}", rule_set.rule_prefix, section.rule_suffix);
        let direction = section.direction;
        let ingress = direction == "ingress";
        let (towards, from_or_to) = if ingress {
            ("to", "from")
        } else {
            ("from", "to")
        };
        let rules = &facts.rules;
        let matches_nothing = rules
            .iter()
            .all(|rule| rule.peers.is_empty() && !rule.any_peer);
        let allows_everything = rules.iter().any(|rule| {
            rule.ports.is_empty()
                && rule.icmps.is_empty()
                && rule.requires.is_empty()
                && rule
                    .peers
                    .iter()
                    .any(|peer| matches!(peer, CiliumPeer::Entity { entity } if entity == "all"))
        });
        let subject_text = &subject.text;
        let rules_text = self.describe_rules(rules);
        let l7 = l7_suffix(rules);
        let name = format!("{}/{}", self.object.kind, self.object.name);
        let (effect, severity, summary, hint) = if section.deny {
            let mut summary = if matches_nothing {
                format!("its {direction} deny rules match no traffic {towards} {subject_text}")
            } else {
                format!("denies {direction} {towards} {subject_text} {from_or_to} {rules_text}")
            };
            if facts.default_deny && !facts.has_allow {
                summary.push_str(&format!(
                    "; also turns on default deny for {direction}, so traffic no allow rule permits \
                     is dropped"
                ));
            }
            if matches_nothing && !facts.default_deny {
                (Effect::Restrict, Severity::Info, summary, None)
            } else {
                let hint = if matches_nothing {
                    default_deny_hint(direction)
                } else {
                    format!(
                        "deny rules win over every allow rule (NetworkPolicy, CiliumNetworkPolicy, \
                         CiliumClusterwideNetworkPolicy): ask the owner of `{name}` to narrow it"
                    )
                };
                (Effect::Deny, Severity::Critical, summary, Some(hint))
            }
        } else if matches_nothing {
            if facts.default_deny {
                (
                    Effect::Deny,
                    Severity::Critical,
                    format!(
                        "denies all {direction} {towards} {subject_text} (default deny: its rules \
                         allow nothing)"
                    ),
                    Some(default_deny_hint(direction)),
                )
            } else {
                (
                    Effect::Restrict,
                    Severity::Info,
                    format!(
                        "has no effect on {direction} {towards} {subject_text}: its rules allow \
                         nothing and `enableDefaultDeny.{direction}` is false"
                    ),
                    None,
                )
            }
        } else if allows_everything {
            (
                Effect::Restrict,
                Severity::Info,
                format!("allows all {direction} {towards} {subject_text}"),
                None,
            )
        } else if facts.default_deny {
            (
                Effect::Restrict,
                Severity::Warning,
                format!(
                    "allows {direction} {towards} {subject_text} only {from_or_to} {rules_text}{l7}"
                ),
                Some(default_deny_hint(direction)),
            )
        } else {
            (
                Effect::Restrict,
                Severity::Info,
                format!(
                    "allows {direction} {towards} {subject_text} {from_or_to} {rules_text}{l7} \
                     without turning on default deny"
                ),
                None,
            )
        };
        Constraint {
            id: Constraint::make_id(&source, Some(&rule)),
            rule: Some(rule),
            constraint_type: if ingress {
                ConstraintType::NetworkIngress
            } else {
                ConstraintType::NetworkEgress
            },
            effect,
            severity,
            scope: subject.scope.clone(),
            summary,
            details: Details::Cilium(CiliumDetails {
                direction: direction.to_string(),
                deny: section.deny,
                spec_index: rule_set.spec_index,
                clusterwide: self.clusterwide,
                subject: subject.details.clone(),
                default_deny: facts.default_deny,
                rules: facts.rules,
                unsupported: facts.unsupported,
                description: rule_set
                    .value
                    .get("description")
                    .and_then(Value::as_str)
                    .filter(|text| !text.is_empty())
                    .map(str::to_string),
            }),
            remediation_hint: hint,
            source,
        }
    }

    /// "pods with app=web on TCP/8080; world on any port".
    fn describe_rules(&self, rules: &[CiliumRule]) -> String {
        rules
            .iter()
            .map(|rule| {
                let peers = if rule.any_peer {
                    "anywhere".to_string()
                } else if rule.peers.is_empty() {
                    "nothing".to_string()
                } else {
                    rule.peers
                        .iter()
                        .map(|peer| self.describe_peer(peer))
                        .collect::<Vec<_>>()
                        .join(" or ")
                };
                let requires = if rule.requires.is_empty() {
                    String::new()
                } else {
                    let required: Vec<String> = rule
                        .requires
                        .iter()
                        .map(|selector| self.describe_endpoints(selector))
                        .collect();
                    format!(" (peers must also be {})", required.join(" and "))
                };
                format!("{peers} on {}{requires}", describe_ports(rule))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn describe_peer(&self, peer: &CiliumPeer) -> String {
        match peer {
            CiliumPeer::Endpoints(selector) => self.describe_endpoints(selector),
            CiliumPeer::Entity { entity } => entity.clone(),
            CiliumPeer::Cidr { cidr, except } if except.is_empty() => cidr.clone(),
            CiliumPeer::Cidr { cidr, except } => format!("{cidr} except {}", except.join(",")),
            CiliumPeer::CidrGroup {
                name: Some(name), ..
            } => format!("CIDR group `{name}`"),
            CiliumPeer::CidrGroup { selector, .. } => match selector {
                Some(selector) if !selector.is_empty() => format!("CIDR groups with {selector}"),
                _ => "every CIDR group".to_string(),
            },
            CiliumPeer::Fqdn {
                match_name,
                match_pattern,
            } => match_name
                .as_deref()
                .or(match_pattern.as_deref())
                .unwrap_or("any name")
                .to_string(),
            CiliumPeer::Service {
                name,
                namespace,
                selector,
            } => {
                let base = match (name, selector) {
                    (Some(name), _) => match namespace {
                        Some(namespace) => return format!("service `{namespace}/{name}`"),
                        None => return format!("service `{name}`"),
                    },
                    (None, Some(selector)) if !selector.is_empty() => {
                        format!("services with {selector}")
                    }
                    (None, _) => "every service".to_string(),
                };
                match namespace {
                    Some(namespace) => format!("{base} in namespace `{namespace}`"),
                    None => base,
                }
            }
            CiliumPeer::Nodes { node_selector } if node_selector.is_empty() => {
                "all nodes".to_string()
            }
            CiliumPeer::Nodes { node_selector } => format!("nodes with {node_selector}"),
            CiliumPeer::Unsupported { field } => format!("`{field}` peers (not interpreted)"),
        }
    }

    /// "pods with app=web", "all pods in namespace `monitoring`", "pods with app=x in any namespace".
    fn describe_endpoints(&self, selector: &CiliumEndpointSelector) -> String {
        let identity = selector.identity_selector.clone().unwrap_or_default();
        let reserved = reserved_identities(&identity);
        if !reserved.is_empty() && selector.pod_selector.is_empty() {
            return format!("reserved identity {}", reserved.join(","));
        }
        let pods = if selector.pod_selector.is_empty() {
            "all pods".to_string()
        } else {
            format!("pods with {}", selector.pod_selector)
        };
        let namespace = match &selector.namespace_selector {
            None if self.clusterwide => " in any namespace".to_string(),
            None => String::new(),
            Some(namespaces) => match single_namespace(namespaces) {
                Some(name) if Some(name) == self.namespace => String::new(),
                Some(name) => format!(" in namespace `{name}`"),
                None => format!(" in namespaces with {namespaces}"),
            },
        };
        let identity = if identity.is_empty() {
            String::new()
        } else {
            describe_identity(&identity)
        };
        format!("{pods}{namespace}{identity}")
    }
}

/// What a section turned into, plus the facts its summary depends on.
struct SectionFacts {
    rules: Vec<CiliumRule>,
    default_deny: bool,
    /// The rule set has an allow section in the same direction.
    has_allow: bool,
    unsupported: Vec<String>,
}

fn default_deny_hint(direction: &str) -> String {
    format!(
        "the selected pods drop {direction} traffic no allow rule permits: allow it here or in \
         another CiliumNetworkPolicy or NetworkPolicy that selects them (allow rules add up)"
    )
}

/// `kubernetes.io/metadata.name=<namespace>`.
fn own_namespace_selector(namespace: &str) -> LabelSelector {
    LabelSelector::from_labels(
        [(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string())]
            .into_iter()
            .collect(),
    )
}

/// " running as service account `x`", or " with Cilium identity labels `…`".
fn describe_identity(identity: &LabelSelector) -> String {
    match identity.match_labels.get(SERVICE_ACCOUNT_KEY) {
        Some(account)
            if identity.match_labels.len() == 1 && identity.match_expressions.is_empty() =>
        {
            format!(" running as service account `{account}`")
        }
        _ => format!(" with Cilium identity labels `{identity}`"),
    }
}

/// The one namespace a selector names through `kubernetes.io/metadata.name`, if that is all it says.
fn single_namespace(selector: &LabelSelector) -> Option<&str> {
    if selector.match_labels.len() == 1 && selector.match_expressions.is_empty() {
        selector
            .match_labels
            .get(NAMESPACE_NAME_LABEL)
            .map(String::as_str)
    } else {
        None
    }
}

/// "namespace `a`" or "namespaces `a`, `b`".
fn name_list(noun: &str, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    if quoted.len() == 1 {
        format!("{noun} {}", quoted[0])
    } else {
        format!("{noun}s {}", quoted.join(", "))
    }
}

/// `field` of `item` as a list; absent or null is empty.
fn list<'a>(item: &'a Value, field: &str, path: &str) -> Result<&'a [Value], String> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{path}.{field}: must be a list")),
    }
}

fn strings(item: &Value, field: &str, path: &str) -> Result<Vec<String>, String> {
    list(item, field, path)?
        .iter()
        .enumerate()
        .map(|(index, value)| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{path}.{field}[{index}]: must be a string"))
        })
        .collect()
}

fn text(item: &Value, field: &str) -> Option<String> {
    item.get(field)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

fn cidr_rule(entry: &Value, path: &str) -> Result<CiliumPeer, String> {
    if !entry.is_object() {
        return Err(format!("{path}: must be a mapping"));
    }
    if let Some(cidr) = text(entry, "cidr") {
        return Ok(CiliumPeer::Cidr {
            cidr,
            except: strings(entry, "except", path)?,
        });
    }
    if let Some(name) = text(entry, "cidrGroupRef") {
        return Ok(CiliumPeer::CidrGroup {
            name: Some(name),
            selector: None,
        });
    }
    if let Some(selector) = entry
        .get("cidrGroupSelector")
        .filter(|value| !value.is_null())
    {
        return Ok(CiliumPeer::CidrGroup {
            name: None,
            selector: Some(node_selector(
                selector,
                &format!("{path}.cidrGroupSelector"),
            )?),
        });
    }
    Err(format!(
        "{path}: needs `cidr`, `cidrGroupRef` or `cidrGroupSelector`"
    ))
}

fn fqdn(entry: &Value, path: &str) -> Result<CiliumPeer, String> {
    let match_name = text(entry, "matchName");
    let match_pattern = text(entry, "matchPattern");
    if match_name.is_none() && match_pattern.is_none() {
        return Err(format!("{path}: needs `matchName` or `matchPattern`"));
    }
    Ok(CiliumPeer::Fqdn {
        match_name,
        match_pattern,
    })
}

fn service(entry: &Value, path: &str) -> Result<CiliumPeer, String> {
    if let Some(by_name) = entry.get("k8sService").filter(|value| value.is_object()) {
        return Ok(CiliumPeer::Service {
            name: text(by_name, "serviceName"),
            namespace: text(by_name, "namespace"),
            selector: None,
        });
    }
    if let Some(by_labels) = entry
        .get("k8sServiceSelector")
        .filter(|value| value.is_object())
    {
        let selector = node_selector(
            by_labels.get("selector").unwrap_or(&Value::Null),
            &format!("{path}.k8sServiceSelector.selector"),
        )?;
        return Ok(CiliumPeer::Service {
            name: None,
            namespace: text(by_labels, "namespace"),
            selector: Some(selector),
        });
    }
    Err(format!(
        "{path}: needs `k8sService` or `k8sServiceSelector`"
    ))
}

fn port_rule(
    entry: &Value,
    path: &str,
    deny: bool,
    messages: &mut Vec<String>,
) -> Result<CiliumPortRule, String> {
    if !entry.is_object() {
        return Err(format!("{path}: must be a mapping"));
    }
    let mut ports = Vec::new();
    for (index, port) in list(entry, "ports", path)?.iter().enumerate() {
        let port_path = format!("{path}.ports[{index}]");
        if !port.is_object() {
            return Err(format!("{port_path}: must be a mapping"));
        }
        let protocol = port
            .get("protocol")
            .and_then(Value::as_str)
            .filter(|protocol| !protocol.is_empty())
            .unwrap_or("ANY")
            .to_ascii_uppercase();
        if !PROTOCOLS.contains(&protocol.as_str()) {
            messages.push(format!(
                "{port_path}.protocol: unknown protocol `{protocol}`; kept as written"
            ));
        }
        let number = match port.get("port") {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            None | Some(Value::Null) => None,
            Some(_) => return Err(format!("{port_path}.port: must be a number or a name")),
        };
        ports.push(CiliumPort {
            protocol,
            // Port 0 means every port.
            port: number.filter(|text| !text.is_empty() && text != "0"),
            end_port: port
                .get("endPort")
                .and_then(Value::as_i64)
                .filter(|end| *end > 0),
        });
    }
    let l7 = match entry.get("rules").filter(|value| !value.is_null()) {
        None => None,
        Some(_) if deny => {
            messages.push(format!(
                "{path}.rules: L7 rules are not allowed in deny rules; ignored"
            ));
            None
        }
        Some(rules) => l7_rules(rules, &format!("{path}.rules"))?,
    };
    Ok(CiliumPortRule {
        ports,
        l7,
        server_names: strings(entry, "serverNames", path)?,
    })
}

fn l7_rules(rules: &Value, path: &str) -> Result<Option<CiliumL7Rules>, String> {
    if !rules.is_object() {
        return Err(format!("{path}: must be a mapping"));
    }
    let mut http = Vec::new();
    for (index, rule) in list(rules, "http", path)?.iter().enumerate() {
        let rule_path = format!("{path}.http[{index}]");
        if !rule.is_object() {
            return Err(format!("{rule_path}: must be a mapping"));
        }
        http.push(CiliumHttpRule {
            method: text(rule, "method"),
            path: text(rule, "path"),
            host: text(rule, "host"),
            headers: strings(rule, "headers", &rule_path)?,
            header_matches: list(rule, "headerMatches", &rule_path)?
                .iter()
                .filter_map(|header| text(header, "name"))
                .collect(),
        });
    }
    let mut dns = Vec::new();
    for (index, rule) in list(rules, "dns", path)?.iter().enumerate() {
        let rule_path = format!("{path}.dns[{index}]");
        let match_name = text(rule, "matchName");
        let match_pattern = text(rule, "matchPattern");
        if match_name.is_none() && match_pattern.is_none() {
            return Err(format!("{rule_path}: needs `matchName` or `matchPattern`"));
        }
        dns.push(CiliumDnsRule {
            match_name,
            match_pattern,
        });
    }
    let flat = |field: &str| -> Result<Vec<_>, String> {
        Ok(list(rules, field, path)?
            .iter()
            .map(|rule| {
                rule.as_object()
                    .map(|fields| {
                        fields
                            .iter()
                            .filter_map(|(key, value)| match value {
                                Value::String(text) => Some((key.clone(), text.clone())),
                                Value::Number(number) => Some((key.clone(), number.to_string())),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect())
    };
    let l7 = CiliumL7Rules {
        http,
        kafka: flat("kafka")?,
        dns,
        l7_protocol: text(rules, "l7proto"),
        l7: flat("l7")?,
    };
    let empty = l7.http.is_empty()
        && l7.kafka.is_empty()
        && l7.dns.is_empty()
        && l7.l7_protocol.is_none()
        && l7.l7.is_empty();
    Ok(if empty { None } else { Some(l7) })
}

/// "TCP/8080,UDP/53", "any port".
fn describe_ports(rule: &CiliumRule) -> String {
    let mut parts = Vec::new();
    for port_rule in &rule.ports {
        if port_rule.ports.is_empty() {
            parts.push("any port".to_string());
        }
        for port in &port_rule.ports {
            parts.push(match (&port.port, port.end_port) {
                (Some(start), Some(end)) => format!("{}/{start}-{end}", port.protocol),
                (Some(number), None) => format!("{}/{number}", port.protocol),
                (None, _) => format!("{}/any", port.protocol),
            });
        }
    }
    for icmp in &rule.icmps {
        let family = if icmp.family.eq_ignore_ascii_case("IPv6") {
            "ICMPv6"
        } else {
            "ICMP"
        };
        parts.push(format!("{family} type {}", icmp.icmp_type));
    }
    if parts.is_empty() {
        "any port".to_string()
    } else {
        parts.join(",")
    }
}

/// "; further filtered by L7 http rules" when any port rule carries L7 rules.
fn l7_suffix(rules: &[CiliumRule]) -> String {
    let mut kinds: Vec<String> = Vec::new();
    let mut add = |kind: &str| {
        if !kinds.iter().any(|known| known == kind) {
            kinds.push(kind.to_string());
        }
    };
    for l7 in rules
        .iter()
        .flat_map(|rule| &rule.ports)
        .filter_map(|port_rule| port_rule.l7.as_ref())
    {
        if !l7.http.is_empty() {
            add("http");
        }
        if !l7.kafka.is_empty() {
            add("kafka");
        }
        if !l7.dns.is_empty() {
            add("dns");
        }
        if let Some(protocol) = &l7.l7_protocol {
            add(protocol);
        }
    }
    if kinds.is_empty() {
        String::new()
    } else {
        format!("; further filtered by L7 {} rules", kinds.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_keys_are_sorted_by_what_cilium_means() {
        let cases = [
            ("app", "pod app"),
            ("k8s:app", "pod app"),
            ("any:app", "pod app"),
            ("k8s:io.kubernetes.pod.namespace", "namespace name"),
            ("io.kubernetes.pod.namespace", "namespace name"),
            (
                "k8s:io.cilium.k8s.namespace.labels.team",
                "namespace label team",
            ),
            (
                "io.cilium.k8s.policy.serviceaccount",
                "identity io.cilium.k8s.policy.serviceaccount",
            ),
            ("reserved:host", "identity reserved:host"),
            ("container:id", "identity container:id"),
        ];
        for (key, expected) in cases {
            let meaning = match key_meaning(key) {
                KeyMeaning::Pod(label) => format!("pod {label}"),
                KeyMeaning::NamespaceName => "namespace name".to_string(),
                KeyMeaning::NamespaceLabel(label) => format!("namespace label {label}"),
                KeyMeaning::Identity(label) => format!("identity {label}"),
            };
            assert_eq!(meaning, expected, "{key}");
        }
    }

    #[test]
    fn namespace_name_requirements_become_namespace_lists() {
        let scope_of = |selector: serde_json::Value| {
            let split = split_selector(&selector, "selector").unwrap();
            let mut scope = Scope::default();
            scope_namespace_names(&split.namespace_names, &mut scope);
            (scope.namespaces, scope.excluded_namespaces)
        };
        assert_eq!(
            scope_of(
                json!({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "a"},
                "matchExpressions": [{"key": "io.kubernetes.pod.namespace", "operator": "In", "values": ["a", "b"]}]})
            ),
            (Some(vec!["a".to_string()]), None)
        );
        assert_eq!(
            scope_of(json!({"matchExpressions": [
                {"key": "io.kubernetes.pod.namespace", "operator": "NotIn", "values": ["kube-system"]}]})),
            (None, Some(vec!["kube-system".to_string()]))
        );
        assert_eq!(
            scope_of(json!({"matchExpressions": [
                {"key": "io.kubernetes.pod.namespace", "operator": "DoesNotExist"}]})),
            (Some(Vec::new()), None)
        );
        assert_eq!(scope_of(json!({"matchLabels": {"app": "x"}})), (None, None));
    }

    #[test]
    fn conflicting_values_for_one_label_must_both_hold() {
        let split = split_selector(
            &json!({"matchLabels": {"k8s:app": "a", "app": "b"}}),
            "selector",
        )
        .unwrap();
        let labels = |value: &str| {
            [("app".to_string(), value.to_string())]
                .into_iter()
                .collect()
        };
        assert!(!split.pods.matches(&labels("a")));
        assert!(!split.pods.matches(&labels("b")));
    }
}
