//! Istio (`security.istio.io` and `networking.istio.io`, v1/v1beta1/v1alpha3): AuthorizationPolicy
//! (one constraint per policy), PeerAuthentication (one per policy) and Sidecar (egress and
//! ingress listeners), placed at mesh, namespace or workload level as Istio does.

use std::collections::BTreeMap;

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::details::istio::{
    AuthorizationCondition, AuthorizationDetails, AuthorizationOperation, AuthorizationRule,
    AuthorizationSource, IstioDetails, PeerAuthenticationDetails, PortMtls, SidecarDetails,
    SidecarEgressListener, SidecarHost, SidecarIngressListener, SidecarPort, TargetReference,
};
use crate::model::{
    Constraint, ConstraintType, Details, Effect, LabelSelector, Scope, Severity, SourceReference,
};
use crate::source::snapshot::string_map;
use crate::source::{Object, Snapshot};

pub struct IstioAdapter;

/// Istio's default MeshConfig `rootNamespace`; a custom one cannot be read client-side.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// The label Istio puts on the pods of the gateways it deploys for a Gateway API `Gateway`.
const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

const DRY_RUN_ANNOTATION: &str = "istio.io/dry-run";

const ROOT_NAMESPACE_NOTE: &str = "the root namespace is assumed to be `istio-system` \
     (Istio's default): MeshConfig `rootNamespace` cannot be read client-side";

impl Adapter for IstioAdapter {
    fn name(&self) -> &'static str {
        "istio"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("security.istio.io", "AuthorizationPolicy"),
            ("security.istio.io", "PeerAuthentication"),
            ("networking.istio.io", "Sidecar"),
        ]
    }

    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput) {
        let Some(namespace) = object.namespace.clone() else {
            output.diagnose(self, object, "metadata.namespace: missing; policy ignored");
            return;
        };
        let result = match object.kind.as_str() {
            "AuthorizationPolicy" => authorization_policy(object, &namespace, snapshot),
            "PeerAuthentication" => peer_authentication(object, &namespace, snapshot),
            "Sidecar" => sidecar(object, &namespace, snapshot),
            _ => return,
        };
        match result {
            Ok(adapted) => {
                for message in adapted.diagnostics {
                    output.diagnose(self, object, message);
                }
                output.constraints.extend(adapted.constraints);
            }
            Err(message) => output.diagnose(self, object, message),
        }
    }
}

/// What one object yields: constraints plus diagnostics that did not stop it.
#[derive(Default)]
struct Adapted {
    constraints: Vec<Constraint>,
    diagnostics: Vec<String>,
}

/// Where a policy applies, in index terms and in words.
struct Placement {
    scope: Scope,
    /// `mesh`, `namespace`, `workload` or `target`.
    level: &'static str,
    /// "pods with app=api in `payments`", "every workload in the mesh".
    target: String,
}

// ---------------------------------------------------------------------------------------------
// AuthorizationPolicy

fn authorization_policy(
    object: &Object,
    namespace: &str,
    snapshot: &Snapshot,
) -> Result<Adapted, String> {
    let spec = object.spec();
    let mut adapted = Adapted::default();
    let mut notes = Vec::new();
    let selector = workload_selector(spec.get("selector"), "spec.selector")?;
    let targets = target_references(spec)?;
    if selector.is_some() && !targets.is_empty() {
        adapted.diagnostics.push(
            "spec.selector: set together with spec.targetRefs, which Istio rejects; targetRefs used"
                .to_string(),
        );
    }
    let action = match spec.get("action") {
        None | Some(Value::Null) => "ALLOW".to_string(),
        Some(Value::String(action)) => action.to_ascii_uppercase(),
        Some(_) => return Err("spec.action: must be a string; policy ignored".to_string()),
    };
    if !matches!(action.as_str(), "ALLOW" | "DENY" | "AUDIT" | "CUSTOM") {
        return Err(format!(
            "spec.action: unknown action `{action}` (ALLOW, DENY, AUDIT, CUSTOM); policy ignored"
        ));
    }
    let provider = spec
        .pointer("/provider/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    if action == "CUSTOM" && provider.is_none() {
        return Err("spec.provider.name: missing for a CUSTOM policy; policy ignored".to_string());
    }
    let rules = parse_authorization_rules(spec.get("rules"))?;
    let dry_run = object
        .annotations()
        .get(DRY_RUN_ANNOTATION)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));

    let (placement, target_refs) = if targets.is_empty() {
        (
            place_by_selector(
                namespace,
                selector.clone(),
                "AuthorizationPolicy",
                &mut notes,
            ),
            Vec::new(),
        )
    } else {
        place_by_targets(namespace, targets, snapshot, &mut notes)
    };
    if namespace == ROOT_NAMESPACE || placement.level == "mesh" {
        notes.push(ROOT_NAMESPACE_NOTE.to_string());
    }

    let matches_nothing = rules.is_empty();
    let matches_everything = rules.iter().any(rule_is_empty);
    let target = &placement.target;
    let described = describe_authorization_rules(&rules);
    let provider_name = provider.clone().unwrap_or_default();
    let (effect, severity, mut summary) = match (
        action.as_str(),
        matches_nothing,
        matches_everything,
    ) {
        ("ALLOW", true, _) => (
            Effect::Deny,
            Severity::Critical,
            format!("denies every request to {target} (ALLOW policy with no rules: allow-nothing)"),
        ),
        ("ALLOW", false, true) => (
            Effect::Restrict,
            Severity::Info,
            format!("allows every request to {target}"),
        ),
        ("ALLOW", false, false) => (
            Effect::Restrict,
            Severity::Warning,
            format!("allows requests to {target} only {described}"),
        ),
        ("DENY", true, _) => (
            Effect::Deny,
            Severity::Info,
            format!("denies nothing: DENY policy on {target} has no rules"),
        ),
        ("DENY", false, true) => (
            Effect::Deny,
            Severity::Critical,
            format!("denies every request to {target}"),
        ),
        ("DENY", false, false) => (
            Effect::Deny,
            Severity::Critical,
            format!("denies requests to {target} {described}"),
        ),
        ("AUDIT", true, _) => (
            Effect::Audit,
            Severity::Info,
            format!("audits nothing: AUDIT policy on {target} has no rules"),
        ),
        ("AUDIT", false, _) => (
            Effect::Audit,
            Severity::Info,
            format!("audits requests to {target} {described}"),
        ),
        ("CUSTOM", true, _) => (
            Effect::Restrict,
            Severity::Info,
            format!(
                "delegates nothing: CUSTOM policy on {target} (provider `{provider_name}`) has no rules"
            ),
        ),
        (_, false, true) => (
            Effect::Restrict,
            Severity::Warning,
            format!(
                "delegates every request to {target} to provider `{provider_name}`, which may deny it"
            ),
        ),
        (_, _, _) => (
            Effect::Restrict,
            Severity::Warning,
            format!(
                "delegates requests to {target} {described} to provider `{provider_name}`, which may deny them"
            ),
        ),
    };
    let (effect, severity) = if dry_run {
        summary = format!("dry-run (not enforced): {summary}");
        notes.push(format!(
            "annotation `{DRY_RUN_ANNOTATION}: \"true\"`: Istio evaluates and logs the policy but never enforces it"
        ));
        (Effect::Audit, Severity::Info)
    } else {
        (effect, severity)
    };
    let remediation_hint = match (action.as_str(), dry_run, matches_nothing) {
        (_, true, _) => None,
        ("ALLOW", false, true) => Some(format!(
            "add an ALLOW AuthorizationPolicy in `{namespace}` for the requests your callers need; \
             denied requests get HTTP 403 `RBAC: access denied`"
        )),
        ("ALLOW", false, false) if !matches_everything => Some(format!(
            "requests not matched by any ALLOW rule get HTTP 403 `RBAC: access denied`; ask the owners of \
             `{namespace}` to add your caller (principal `cluster.local/ns/<namespace>/sa/<serviceaccount>`) \
             to AuthorizationPolicy `{}`",
            object.name
        )),
        ("DENY", false, false) => Some(format!(
            "requests matching these rules get HTTP 403 `RBAC: access denied`; change the request or ask the \
             owners of `{namespace}` to narrow AuthorizationPolicy `{}`",
            object.name
        )),
        ("CUSTOM", false, false) => Some(format!(
            "the external authorizer `{provider_name}` decides; check its logs for the denied request"
        )),
        _ => None,
    };
    let source = SourceReference::from_object(object);
    adapted.constraints.push(Constraint {
        id: Constraint::make_id(&source, Some("policy")),
        rule: Some("policy".to_string()),
        constraint_type: ConstraintType::MeshPolicy,
        effect,
        severity,
        scope: placement.scope,
        summary,
        details: Details::Istio(IstioDetails {
            resource: "AuthorizationPolicy".to_string(),
            level: placement.level.to_string(),
            root_namespace: ROOT_NAMESPACE.to_string(),
            selector,
            target_refs,
            dry_run,
            authorization: Some(AuthorizationDetails {
                action,
                provider,
                matches_nothing,
                matches_everything,
                rules,
            }),
            peer_authentication: None,
            sidecar: None,
            notes,
        }),
        remediation_hint,
        source,
    });
    Ok(adapted)
}

fn rule_is_empty(rule: &AuthorizationRule) -> bool {
    rule.from.is_empty() && rule.to.is_empty() && rule.when.is_empty()
}

fn parse_authorization_rules(value: Option<&Value>) -> Result<Vec<AuthorizationRule>, String> {
    let items = list(value, "spec.rules")?;
    let mut rules = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("spec.rules[{index}]");
        if !item.is_object() && !item.is_null() {
            return Err(format!("{at}: must be a mapping; policy ignored"));
        }
        let mut rule = AuthorizationRule::default();
        for (entry_index, entry) in list(item.get("from"), &format!("{at}.from"))?
            .iter()
            .enumerate()
        {
            let field = format!("{at}.from[{entry_index}].source");
            let source = entry.get("source").unwrap_or(&Value::Null);
            rule.from.push(AuthorizationSource {
                principals: strings(source, "principals", &field)?,
                not_principals: strings(source, "notPrincipals", &field)?,
                request_principals: strings(source, "requestPrincipals", &field)?,
                not_request_principals: strings(source, "notRequestPrincipals", &field)?,
                namespaces: strings(source, "namespaces", &field)?,
                not_namespaces: strings(source, "notNamespaces", &field)?,
                service_accounts: strings(source, "serviceAccounts", &field)?,
                not_service_accounts: strings(source, "notServiceAccounts", &field)?,
                ip_blocks: strings(source, "ipBlocks", &field)?,
                not_ip_blocks: strings(source, "notIpBlocks", &field)?,
                remote_ip_blocks: strings(source, "remoteIpBlocks", &field)?,
                not_remote_ip_blocks: strings(source, "notRemoteIpBlocks", &field)?,
            });
        }
        for (entry_index, entry) in list(item.get("to"), &format!("{at}.to"))?
            .iter()
            .enumerate()
        {
            let field = format!("{at}.to[{entry_index}].operation");
            let operation = entry.get("operation").unwrap_or(&Value::Null);
            rule.to.push(AuthorizationOperation {
                hosts: strings(operation, "hosts", &field)?,
                not_hosts: strings(operation, "notHosts", &field)?,
                ports: strings(operation, "ports", &field)?,
                not_ports: strings(operation, "notPorts", &field)?,
                methods: strings(operation, "methods", &field)?,
                not_methods: strings(operation, "notMethods", &field)?,
                paths: strings(operation, "paths", &field)?,
                not_paths: strings(operation, "notPaths", &field)?,
            });
        }
        for (entry_index, entry) in list(item.get("when"), &format!("{at}.when"))?
            .iter()
            .enumerate()
        {
            let field = format!("{at}.when[{entry_index}]");
            let key = entry
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{field}.key: missing; policy ignored"))?;
            rule.when.push(AuthorizationCondition {
                key: key.to_string(),
                values: strings(entry, "values", &field)?,
                not_values: strings(entry, "notValues", &field)?,
            });
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// "from principals a,b on methods GET and paths /v1/* when request.auth.claims[iss] in (x)",
/// rules joined with " or ".
fn describe_authorization_rules(rules: &[AuthorizationRule]) -> String {
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = rules.iter().take(SHOWN).map(describe_rule).collect();
    if rules.len() > SHOWN {
        parts.push(format!("{} more rules", rules.len() - SHOWN));
    }
    parts.join(" or ")
}

fn describe_rule(rule: &AuthorizationRule) -> String {
    let mut words = Vec::new();
    if !rule.from.is_empty() {
        let sources: Vec<String> = rule.from.iter().map(describe_source).collect();
        words.push(format!("from {}", sources.join(" or ")));
    }
    if !rule.to.is_empty() {
        let operations: Vec<String> = rule.to.iter().map(describe_operation).collect();
        words.push(format!("on {}", operations.join(" or ")));
    }
    for condition in &rule.when {
        let mut condition_words = vec![condition.key.clone()];
        if !condition.values.is_empty() {
            condition_words.push(format!("in ({})", condition.values.join(",")));
        }
        if !condition.not_values.is_empty() {
            condition_words.push(format!("not in ({})", condition.not_values.join(",")));
        }
        words.push(format!("when {}", condition_words.join(" ")));
    }
    if words.is_empty() {
        "from anywhere".to_string()
    } else {
        words.join(" ")
    }
}

fn describe_fields(fields: &[(&str, &Vec<String>)]) -> String {
    let described: Vec<String> = fields
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(name, values)| format!("{name} {}", values.join(",")))
        .collect();
    if described.is_empty() {
        "any".to_string()
    } else {
        described.join(" and ")
    }
}

fn describe_source(source: &AuthorizationSource) -> String {
    describe_fields(&[
        ("principals", &source.principals),
        ("not principals", &source.not_principals),
        ("request principals", &source.request_principals),
        ("not request principals", &source.not_request_principals),
        ("namespaces", &source.namespaces),
        ("not namespaces", &source.not_namespaces),
        ("service accounts", &source.service_accounts),
        ("not service accounts", &source.not_service_accounts),
        ("ipBlocks", &source.ip_blocks),
        ("not ipBlocks", &source.not_ip_blocks),
        ("remoteIpBlocks", &source.remote_ip_blocks),
        ("not remoteIpBlocks", &source.not_remote_ip_blocks),
    ])
}

fn describe_operation(operation: &AuthorizationOperation) -> String {
    describe_fields(&[
        ("hosts", &operation.hosts),
        ("not hosts", &operation.not_hosts),
        ("ports", &operation.ports),
        ("not ports", &operation.not_ports),
        ("methods", &operation.methods),
        ("not methods", &operation.not_methods),
        ("paths", &operation.paths),
        ("not paths", &operation.not_paths),
    ])
}

/// One `targetRefs` entry as written.
struct RawTarget {
    group: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

/// `targetRefs` plus the deprecated single `targetRef`.
fn target_references(spec: &Value) -> Result<Vec<RawTarget>, String> {
    let mut entries: Vec<(String, &Value)> = Vec::new();
    if let Some(single) = spec.get("targetRef").filter(|value| !value.is_null()) {
        entries.push(("spec.targetRef".to_string(), single));
    }
    for (index, item) in list(spec.get("targetRefs"), "spec.targetRefs")?
        .iter()
        .enumerate()
    {
        entries.push((format!("spec.targetRefs[{index}]"), item));
    }
    let mut targets = Vec::new();
    for (field, entry) in entries {
        let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_string);
        let kind = text("kind").ok_or_else(|| format!("{field}.kind: missing; policy ignored"))?;
        let name = text("name").ok_or_else(|| format!("{field}.name: missing; policy ignored"))?;
        targets.push(RawTarget {
            group: text("group").unwrap_or_default(),
            kind,
            name,
            namespace: text("namespace"),
        });
    }
    Ok(targets)
}

/// Resolves `targetRefs` into alternatives: a Gateway's pods by the label Istio gives them, a
/// Service's pods by its selector (its waypoint enforces the policy for traffic to it).
fn place_by_targets(
    namespace: &str,
    targets: Vec<RawTarget>,
    snapshot: &Snapshot,
    notes: &mut Vec<String>,
) -> (Placement, Vec<TargetReference>) {
    let mut alternatives = Vec::new();
    let mut references = Vec::new();
    let mut words = Vec::new();
    let mut mesh_wide = false;
    for RawTarget {
        group,
        kind,
        name,
        namespace: target_namespace,
    } in targets
    {
        let lookup_namespace = target_namespace.clone().unwrap_or(namespace.to_string());
        let (alternative, resolution) = match (group.as_str(), kind.as_str()) {
            ("gateway.networking.k8s.io", "Gateway") => (
                vec![gateway_pods(&name)],
                format!("pods labelled `{GATEWAY_NAME_LABEL}={name}` (the gateway Istio deploys)"),
            ),
            ("" | "core", "Service") => {
                let service = snapshot.of_kind("", "Service").find(|service| {
                    service.name == name
                        && service.namespace.as_deref() == Some(lookup_namespace.as_str())
                });
                let selector = service
                    .map(|service| string_map(service.spec().get("selector")))
                    .filter(|labels| !labels.is_empty());
                match selector {
                    Some(labels) => {
                        let selector = LabelSelector::from_labels(labels);
                        let resolution = format!(
                            "Service `{name}` selects pods with {selector}; its waypoint enforces the policy on traffic to it"
                        );
                        (
                            vec![Scope {
                                workload_selector: Some(selector),
                                ..Scope::default()
                            }],
                            resolution,
                        )
                    }
                    None => (
                        vec![by_name(&name)],
                        format!(
                            "Service `{name}` is not in the snapshot or selects no pods: matched by workload name"
                        ),
                    ),
                }
            }
            ("gateway.networking.k8s.io", "GatewayClass") => {
                mesh_wide = true;
                let gateways: Vec<String> = snapshot
                    .of_kind("gateway.networking.k8s.io", "Gateway")
                    .filter(|gateway| {
                        gateway
                            .spec()
                            .get("gatewayClassName")
                            .and_then(Value::as_str)
                            == Some(name.as_str())
                    })
                    .map(|gateway| gateway.name.clone())
                    .collect();
                if gateways.is_empty() {
                    (
                        vec![by_name(&name)],
                        format!(
                            "no Gateway of class `{name}` in the snapshot: matched by workload name"
                        ),
                    )
                } else {
                    let resolution = format!("Gateways of class `{name}`: {}", gateways.join(", "));
                    (
                        gateways
                            .iter()
                            .map(|gateway| gateway_pods(gateway))
                            .collect(),
                        resolution,
                    )
                }
            }
            _ => (
                vec![by_name(&name)],
                format!(
                    "target kind `{kind}` is not resolved to workloads: matched by workload name"
                ),
            ),
        };
        words.push(format!("{kind} `{name}`"));
        alternatives.extend(alternative);
        references.push(TargetReference {
            group,
            kind,
            name,
            namespace: target_namespace,
            resolution,
        });
    }
    notes.push(
        "targetRefs: the policy is enforced by the targeted gateway or waypoint proxy".to_string(),
    );
    let mut scope = if mesh_wide && namespace == ROOT_NAMESPACE {
        Scope {
            note: Some(format!(
                "mesh-wide: GatewayClass target in the root namespace `{ROOT_NAMESPACE}`"
            )),
            ..Scope::default()
        }
    } else {
        Scope {
            namespaces: Some(vec![namespace.to_string()]),
            ..Scope::default()
        }
    };
    if alternatives.len() == 1 {
        let only = alternatives.remove(0);
        scope.workload_selector = only.workload_selector;
        scope.names = only.names;
    } else {
        scope.any_of = alternatives;
    }
    let target = format!("{} in `{namespace}`", words.join(", "));
    (
        Placement {
            scope,
            level: "target",
            target,
        },
        references,
    )
}

fn gateway_pods(name: &str) -> Scope {
    Scope {
        workload_selector: Some(LabelSelector::from_labels(BTreeMap::from([(
            GATEWAY_NAME_LABEL.to_string(),
            name.to_string(),
        )]))),
        ..Scope::default()
    }
}

fn by_name(name: &str) -> Scope {
    Scope {
        names: Some(vec![name.to_string()]),
        ..Scope::default()
    }
}

// ---------------------------------------------------------------------------------------------
// PeerAuthentication

const MTLS_MODES: [&str; 4] = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

fn mtls_mode(value: Option<&Value>, field: &str) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok("UNSET".to_string()),
        Some(Value::String(mode)) if MTLS_MODES.contains(&mode.to_ascii_uppercase().as_str()) => {
            Ok(mode.to_ascii_uppercase())
        }
        Some(other) => Err(format!(
            "{field}: unknown mode {other} (UNSET, DISABLE, PERMISSIVE, STRICT); policy ignored"
        )),
    }
}

fn peer_authentication(
    object: &Object,
    namespace: &str,
    snapshot: &Snapshot,
) -> Result<Adapted, String> {
    let spec = object.spec();
    let mut adapted = Adapted::default();
    let mut notes = Vec::new();
    let selector = workload_selector(spec.get("selector"), "spec.selector")?;
    if namespace == ROOT_NAMESPACE && selector.is_some() {
        return Err(format!(
            "spec.selector: Istio ignores a PeerAuthentication with a selector in the root namespace \
             `{ROOT_NAMESPACE}`; policy ignored"
        ));
    }
    let mode = mtls_mode(spec.pointer("/mtls/mode"), "spec.mtls.mode")?;
    let mut port_level_mtls = Vec::new();
    match spec.get("portLevelMtls") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ports)) => {
            for (port, setting) in ports {
                let field = format!("spec.portLevelMtls.{port}");
                let Ok(number) = port.parse::<u32>() else {
                    return Err(format!("{field}: not a port number; policy ignored"));
                };
                port_level_mtls.push(PortMtls {
                    port: number,
                    mode: mtls_mode(setting.get("mode"), &format!("{field}.mode"))?,
                });
            }
        }
        Some(_) => return Err("spec.portLevelMtls: must be a mapping; policy ignored".to_string()),
    }
    port_level_mtls.sort_by_key(|port| port.port);
    let port_level_applies = selector.is_some();
    if !port_level_mtls.is_empty() && !port_level_applies {
        adapted.diagnostics.push(
            "spec.portLevelMtls: Istio applies it only with a workload selector; ignored"
                .to_string(),
        );
    }
    let mut placement = place_by_selector(
        namespace,
        selector.clone(),
        "PeerAuthentication",
        &mut notes,
    );
    if placement.level == "mesh" {
        notes.push(ROOT_NAMESPACE_NOTE.to_string());
    }
    // A more specific PeerAuthentication (namespace, then workload) overrides the mode of a
    // broader one; UNSET inherits, so only policies with a mode take precedence.
    let overriding =
        more_specific_policies(object, namespace, placement.level, snapshot, |other| {
            mtls_mode(other.spec().pointer("/mtls/mode"), "")
                .is_ok_and(|other_mode| other_mode != "UNSET")
        });
    apply_precedence(&mut placement.scope, overriding);

    let strict_ports: Vec<String> = port_level_mtls
        .iter()
        .filter(|port| port_level_applies && port.mode == "STRICT")
        .map(|port| port.port.to_string())
        .collect();
    let exceptions: Vec<String> = port_level_mtls
        .iter()
        .filter(|port| port_level_applies && port.mode != mode)
        .map(|port| format!("{} {}", port.port, port.mode))
        .collect();
    let exceptions_text = if exceptions.is_empty() {
        String::new()
    } else {
        format!(" (ports: {})", exceptions.join(", "))
    };
    let target = &placement.target;
    let (effect, severity, summary) = match mode.as_str() {
        "STRICT" => (
            Effect::Require,
            Severity::Warning,
            format!(
                "requires mTLS for traffic to {target}: plaintext traffic rejected{exceptions_text}"
            ),
        ),
        _ if !strict_ports.is_empty() => (
            Effect::Require,
            Severity::Warning,
            format!(
                "requires mTLS on port {} of {target}: plaintext traffic rejected there (mode {mode} elsewhere)",
                strict_ports.join(",")
            ),
        ),
        "DISABLE" => (
            Effect::Restrict,
            Severity::Info,
            format!(
                "disables mTLS for traffic to {target}{exceptions_text}: AuthorizationPolicy rules on principals or namespaces cannot match plaintext callers"
            ),
        ),
        "PERMISSIVE" => (
            Effect::Require,
            Severity::Info,
            format!("accepts mTLS and plaintext traffic to {target} (PERMISSIVE){exceptions_text}"),
        ),
        _ => (
            Effect::Require,
            Severity::Info,
            format!(
                "inherits the mTLS mode for {target} from the namespace or mesh (UNSET){exceptions_text}"
            ),
        ),
    };
    let remediation_hint = (severity == Severity::Warning).then(|| {
        "clients without an Istio proxy are rejected (connection reset); add the client to the mesh \
         (label its namespace `istio-injection=enabled` or `istio.io/dataplane-mode=ambient`) or ask for a \
         PERMISSIVE PeerAuthentication on this workload"
            .to_string()
    });
    let source = SourceReference::from_object(object);
    adapted.constraints.push(Constraint {
        id: Constraint::make_id(&source, Some("mtls")),
        rule: Some("mtls".to_string()),
        constraint_type: ConstraintType::MeshPolicy,
        effect,
        severity,
        scope: placement.scope,
        summary,
        details: Details::Istio(IstioDetails {
            resource: "PeerAuthentication".to_string(),
            level: placement.level.to_string(),
            root_namespace: ROOT_NAMESPACE.to_string(),
            selector,
            target_refs: Vec::new(),
            dry_run: false,
            authorization: None,
            peer_authentication: Some(PeerAuthenticationDetails {
                mode,
                port_level_mtls,
                port_level_applies,
            }),
            sidecar: None,
            notes,
        }),
        remediation_hint,
        source,
    });
    Ok(adapted)
}

// ---------------------------------------------------------------------------------------------
// Sidecar

fn sidecar(object: &Object, namespace: &str, snapshot: &Snapshot) -> Result<Adapted, String> {
    let spec = object.spec();
    let mut adapted = Adapted::default();
    let mut notes = Vec::new();
    let selector = match spec.pointer("/workloadSelector/labels") {
        None | Some(Value::Null) => None,
        Some(Value::Object(labels)) => {
            let labels = string_map(Some(&Value::Object(labels.clone())));
            (!labels.is_empty()).then(|| LabelSelector::from_labels(labels))
        }
        Some(_) => {
            return Err(
                "spec.workloadSelector.labels: must be a mapping; policy ignored".to_string(),
            );
        }
    };
    let mut egress = Vec::new();
    for (index, listener) in list(spec.get("egress"), "spec.egress")?.iter().enumerate() {
        let field = format!("spec.egress[{index}]");
        let mut hosts = Vec::new();
        for (host_index, host) in strings(listener, "hosts", &field)?.iter().enumerate() {
            match host.split_once('/') {
                Some((host_namespace, dns_name)) if !host_namespace.is_empty() => {
                    hosts.push(SidecarHost {
                        namespace: host_namespace.to_string(),
                        dns_name: dns_name.to_string(),
                    })
                }
                _ => adapted.diagnostics.push(format!(
                    "{field}.hosts[{host_index}]: `{host}` is not `namespace/dnsName`; host ignored"
                )),
            }
        }
        egress.push(SidecarEgressListener {
            port: sidecar_port(listener.get("port")),
            bind: text(listener, "bind"),
            capture_mode: text(listener, "captureMode"),
            hosts,
        });
    }
    let mut ingress = Vec::new();
    for listener in list(spec.get("ingress"), "spec.ingress")? {
        ingress.push(SidecarIngressListener {
            port: sidecar_port(listener.get("port")),
            bind: text(listener, "bind"),
            capture_mode: text(listener, "captureMode"),
            default_endpoint: text(listener, "defaultEndpoint"),
        });
    }
    let outbound_traffic_policy = spec
        .pointer("/outboundTrafficPolicy/mode")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    if let Some(mode) = &outbound_traffic_policy
        && mode != "REGISTRY_ONLY"
        && mode != "ALLOW_ANY"
    {
        return Err(format!(
            "spec.outboundTrafficPolicy.mode: unknown mode `{mode}` (REGISTRY_ONLY, ALLOW_ANY); policy ignored"
        ));
    }
    let egress_proxy = spec
        .pointer("/outboundTrafficPolicy/egressProxy")
        .and_then(|proxy| {
            let host = proxy.get("host").and_then(Value::as_str)?;
            Some(
                match proxy.pointer("/port/number").and_then(Value::as_u64) {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                },
            )
        });

    let mut placement = place_by_selector(namespace, selector.clone(), "Sidecar", &mut notes);
    if placement.level == "mesh" {
        notes.push(ROOT_NAMESPACE_NOTE.to_string());
        notes.push(
            "a Sidecar without selector in the root namespace is the default of every namespace \
             that has no Sidecar of its own"
                .to_string(),
        );
    }
    // One Sidecar applies per workload: a selecting one beats the namespace's selector-less
    // one, which beats the root namespace's default.
    let overriding = more_specific_policies(object, namespace, placement.level, snapshot, |_| true);
    apply_precedence(&mut placement.scope, overriding);

    let details = SidecarDetails {
        outbound_traffic_policy: outbound_traffic_policy.clone(),
        egress_proxy,
        egress,
        ingress,
    };
    let hosts: Vec<String> = details
        .egress
        .iter()
        .flat_map(|listener| &listener.hosts)
        .map(|host| format!("{}/{}", host.namespace, host.dns_name))
        .collect();
    let target = placement.target.clone();
    let source = SourceReference::from_object(object);
    let make_details = |details: SidecarDetails, notes: Vec<String>| {
        Details::Istio(IstioDetails {
            resource: "Sidecar".to_string(),
            level: placement.level.to_string(),
            root_namespace: ROOT_NAMESPACE.to_string(),
            selector: selector.clone(),
            target_refs: Vec::new(),
            dry_run: false,
            authorization: None,
            peer_authentication: None,
            sidecar: Some(details),
            notes,
        })
    };

    if !hosts.is_empty() || outbound_traffic_policy.is_some() {
        let host_text = if hosts.is_empty() {
            "every service".to_string()
        } else {
            hosts.join(", ")
        };
        let mut egress_notes = notes.clone();
        let (severity, summary, hint) = match outbound_traffic_policy.as_deref() {
            Some("REGISTRY_ONLY") => (
                Severity::Warning,
                format!(
                    "allows outbound traffic from {target} only to registered services in {host_text}; \
                     other destinations are blocked (HTTP 502 or connection reset)"
                ),
                Some(format!(
                    "to reach an external host, ask for a ServiceEntry for it and for its namespace in the \
                     egress hosts of Sidecar `{}` in `{namespace}`",
                    object.name
                )),
            ),
            Some(_) => (
                Severity::Info,
                format!(
                    "allows outbound traffic from {target} to any destination (ALLOW_ANY); the proxy is \
                     configured for {host_text}, other destinations pass through without mesh routing or mTLS"
                ),
                None,
            ),
            None => {
                egress_notes.push(
                    "outboundTrafficPolicy is not set: the mesh-wide MeshConfig value applies, which \
                     cannot be read client-side (Istio's default is ALLOW_ANY; with REGISTRY_ONLY \
                     other destinations are blocked)"
                        .to_string(),
                );
                (
                    Severity::Info,
                    format!(
                        "limits the outbound configuration of {target} to {host_text}; other destinations \
                         pass through without mesh routing or mTLS, or are blocked if the mesh is REGISTRY_ONLY"
                    ),
                    None,
                )
            }
        };
        adapted.constraints.push(Constraint {
            id: Constraint::make_id(&source, Some("egress")),
            rule: Some("egress".to_string()),
            constraint_type: ConstraintType::NetworkEgress,
            effect: Effect::Restrict,
            severity,
            scope: placement.scope.clone(),
            summary,
            details: make_details(details.clone(), egress_notes),
            remediation_hint: hint,
            source: source.clone(),
        });
    }
    if !details.ingress.is_empty() {
        let listeners: Vec<String> = details
            .ingress
            .iter()
            .map(|listener| {
                let port = listener
                    .port
                    .as_ref()
                    .map(|port| {
                        format!(
                            "{}/{}",
                            port.protocol.as_deref().unwrap_or("TCP"),
                            port.number
                                .map(|number| number.to_string())
                                .unwrap_or_default()
                        )
                    })
                    .unwrap_or_else(|| "any port".to_string());
                match &listener.default_endpoint {
                    Some(endpoint) => format!("{port} to {endpoint}"),
                    None => port,
                }
            })
            .collect();
        adapted.constraints.push(Constraint {
            id: Constraint::make_id(&source, Some("ingress")),
            rule: Some("ingress".to_string()),
            constraint_type: ConstraintType::MeshPolicy,
            effect: Effect::Restrict,
            severity: Severity::Info,
            scope: placement.scope.clone(),
            summary: format!(
                "configures the inbound listeners of {target}: {}",
                listeners.join(", ")
            ),
            details: make_details(details.clone(), notes.clone()),
            remediation_hint: None,
            source: source.clone(),
        });
    }
    Ok(adapted)
}

fn sidecar_port(value: Option<&Value>) -> Option<SidecarPort> {
    let port = value.filter(|value| value.is_object())?;
    Some(SidecarPort {
        number: port
            .get("number")
            .and_then(Value::as_u64)
            .and_then(|number| u32::try_from(number).ok()),
        protocol: text(port, "protocol"),
        name: text(port, "name"),
    })
}

// ---------------------------------------------------------------------------------------------
// Placement shared by the three kinds

/// Mesh level (root namespace, no selector), root namespace with a selector (the selector
/// applies in every namespace, for AuthorizationPolicy), namespace level, or workload level.
fn place_by_selector(
    namespace: &str,
    selector: Option<LabelSelector>,
    resource: &str,
    notes: &mut Vec<String>,
) -> Placement {
    let in_root = namespace == ROOT_NAMESPACE;
    match selector {
        None if in_root => Placement {
            scope: Scope {
                note: Some(format!(
                    "mesh-wide: defined in the root namespace `{ROOT_NAMESPACE}`"
                )),
                ..Scope::default()
            },
            level: "mesh",
            target: "every workload in the mesh".to_string(),
        },
        None => Placement {
            scope: Scope {
                namespaces: Some(vec![namespace.to_string()]),
                ..Scope::default()
            },
            level: "namespace",
            target: format!("every workload in `{namespace}`"),
        },
        Some(selector) if in_root && resource == "AuthorizationPolicy" => {
            notes.push(format!(
                "defined in the root namespace `{ROOT_NAMESPACE}`: the selector matches workloads in every namespace"
            ));
            let target = format!("pods with {selector} in every namespace");
            Placement {
                scope: Scope {
                    workload_selector: Some(selector),
                    note: Some(format!(
                        "mesh-wide selector: defined in the root namespace `{ROOT_NAMESPACE}`"
                    )),
                    ..Scope::default()
                },
                level: "workload",
                target,
            }
        }
        Some(selector) => {
            let target = format!("pods with {selector} in `{namespace}`");
            Placement {
                scope: Scope {
                    namespaces: Some(vec![namespace.to_string()]),
                    workload_selector: Some(selector),
                    ..Scope::default()
                },
                level: "workload",
                target,
            }
        }
    }
}

/// Policies of the same kind that take precedence over this one where they apply: for a
/// mesh-level policy, namespace-level ones (whole namespaces) and workload-level ones; for a
/// namespace-level policy, workload-level ones in its namespace.
struct Overrides {
    namespaces: Vec<String>,
    workloads: Vec<(String, LabelSelector)>,
}

fn more_specific_policies(
    object: &Object,
    namespace: &str,
    level: &str,
    snapshot: &Snapshot,
    counts: impl Fn(&Object) -> bool,
) -> Overrides {
    let mut overrides = Overrides {
        namespaces: Vec::new(),
        workloads: Vec::new(),
    };
    if level != "mesh" && level != "namespace" {
        return overrides;
    }
    let group_kind = object.group_kind();
    for other in snapshot.of_kind(&group_kind.group, &group_kind.kind) {
        let Some(other_namespace) = other.namespace.as_deref() else {
            continue;
        };
        if other.name == object.name && other_namespace == namespace {
            continue;
        }
        if !counts(other) {
            continue;
        }
        let other_selector = if object.kind == "Sidecar" {
            let labels = string_map(other.value.pointer("/spec/workloadSelector/labels"));
            (!labels.is_empty()).then(|| LabelSelector::from_labels(labels))
        } else {
            other
                .spec()
                .get("selector")
                .and_then(|value| LabelSelector::from_value(value).ok())
                .filter(|selector| !selector.is_empty())
        };
        match (level, other_selector) {
            ("mesh", None) if other_namespace != ROOT_NAMESPACE => {
                overrides.namespaces.push(other_namespace.to_string());
            }
            ("mesh", Some(selector)) if other_namespace != ROOT_NAMESPACE => {
                overrides
                    .workloads
                    .push((other_namespace.to_string(), selector));
            }
            ("mesh", Some(selector)) if object.kind == "Sidecar" => {
                overrides
                    .workloads
                    .push((other_namespace.to_string(), selector));
            }
            ("namespace", Some(selector)) if other_namespace == namespace => {
                overrides
                    .workloads
                    .push((other_namespace.to_string(), selector));
            }
            _ => {}
        }
    }
    overrides.namespaces.sort();
    overrides.namespaces.dedup();
    overrides
}

fn apply_precedence(scope: &mut Scope, overrides: Overrides) {
    if !overrides.namespaces.is_empty() {
        scope.excluded_namespaces = Some(overrides.namespaces);
    }
    for (namespace, selector) in overrides.workloads {
        scope.excluded.push(Scope {
            namespaces: Some(vec![namespace]),
            workload_selector: Some(selector),
            note: Some("a more specific policy of the same kind selects these pods".to_string()),
            ..Scope::default()
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Small readers

/// Istio's WorkloadSelector (`matchLabels` only); an empty selector selects everything, as
/// no selector does.
fn workload_selector(value: Option<&Value>, field: &str) -> Result<Option<LabelSelector>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let selector = LabelSelector::from_value(value)
                .map_err(|error| format!("{field}.{error}; policy ignored"))?;
            if !selector.match_expressions.is_empty() {
                return Err(format!(
                    "{field}.matchExpressions: Istio selectors take matchLabels only; policy ignored"
                ));
            }
            Ok((!selector.is_empty()).then_some(selector))
        }
    }
}

fn list<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a [Value], String> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{field}: must be a list; policy ignored")),
    }
}

/// A list of strings; numbers (ports written unquoted) are accepted as their text.
fn strings(value: &Value, name: &str, field: &str) -> Result<Vec<String>, String> {
    list(value.get(name), &format!("{field}.{name}"))?
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(text.clone()),
            Value::Number(number) => Ok(number.to_string()),
            _ => Err(format!(
                "{field}.{name}: must be a list of strings; policy ignored"
            )),
        })
        .collect()
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_string)
}
