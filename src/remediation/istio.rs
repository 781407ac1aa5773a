//! Istio remediation: for an AuthorizationPolicy, the rule that lets the caller's principal
//! `cluster.local/ns/NS/sa/SA` through; for PeerAuthentication STRICT, joining the mesh; for a
//! Sidecar with `REGISTRY_ONLY`, a ServiceEntry for the outside host.

use serde_json::{Value, json};

use super::{Context, apply_command, patch_command, yaml};
use crate::model::details::istio::{AuthorizationDetails, IstioDetails};
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

pub(super) fn steps(context: &Context, details: &IstioDetails) -> Vec<Step> {
    let mut steps = vec![
        Step::new(
            Privilege::Developer,
            format!(
                "See Istio {} `{}` ({}-level{})",
                details.resource,
                context.constraint.source.name,
                details.level,
                if details.dry_run {
                    ", dry run: logged, never enforced"
                } else {
                    ""
                }
            ),
        )
        .command(context.policy_get_command()),
    ];
    if let Some(authorization) = &details.authorization {
        if matches!(authorization.action.as_str(), "ALLOW" | "DENY") {
            steps[0]
                .text
                .push_str("; requests it refuses get HTTP 403 `RBAC: access denied`");
        }
        steps.extend(authorization_steps(context, details, authorization));
    }
    if let Some(peer) = &details.peer_authentication
        && peer.mode == "STRICT"
    {
        steps.push(
            context
                .template_patch_step(
                    Privilege::Developer,
                    format!(
                        "mTLS is STRICT: callers without an Istio sidecar are refused. Put {} in the mesh (sidecar injection) if it calls these pods",
                        context.workload_label()
                    ),
                    json!({"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}}),
                ),
        );
        steps.push(
            Step::new(
                Privilege::ClusterAdmin,
                format!(
                    "Or have a cluster admin enable injection for the whole namespace `{}`",
                    context.namespace_text()
                ),
            )
            .command(format!(
                "kubectl label namespace {} istio-injection=enabled --overwrite",
                context.namespace_text()
            )),
        );
    }
    if let Some(sidecar) = &details.sidecar
        && sidecar.outbound_traffic_policy.as_deref() == Some("REGISTRY_ONLY")
    {
        let manifest = json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": "<external-host>", "namespace": context.namespace_text()},
            "spec": {
                "hosts": ["<external.example.com>"],
                "location": "MESH_EXTERNAL",
                "resolution": "DNS",
                "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            },
        });
        steps.push(
            Step::new(
                Privilege::NamespaceAdmin,
                "Outbound traffic is REGISTRY_ONLY: register the outside host the pods call with a ServiceEntry",
            )
            .command(apply_command(&context.kubectl()))
            .patch(Patch {
                target: format!("new ServiceEntry in {}", context.namespace_text()),
                format: PatchFormat::Manifest,
                body: yaml(&manifest),
            }),
        );
    }
    steps
}

/// Whether the user's workload is one of the pods the policy protects (rather than a caller).
fn protects_workload(context: &Context, details: &IstioDetails) -> bool {
    let Some(workload) = context.workload else {
        return false;
    };
    let same_namespace = context.constraint.source.namespace.as_deref()
        == Some(workload.namespace.as_str())
        || details.level == "mesh";
    same_namespace
        && details
            .selector
            .as_ref()
            .is_none_or(|selector| selector.matches(&workload.pod_labels))
}

fn authorization_steps(
    context: &Context,
    details: &IstioDetails,
    authorization: &AuthorizationDetails,
) -> Vec<Step> {
    let principal = if protects_workload(context, details) || context.workload.is_none() {
        "cluster.local/ns/<caller namespace>/sa/<caller service account>".to_string()
    } else {
        format!(
            "cluster.local/ns/{}/sa/{}",
            context.namespace_text(),
            context.service_account()
        )
    };
    let privilege = if details.level == "mesh" {
        Privilege::ClusterAdmin
    } else {
        context.policy_owner_privilege()
    };
    let owner_namespace = context
        .constraint
        .source
        .namespace
        .clone()
        .unwrap_or_default();
    let reference = format!("authorizationpolicy/{}", context.constraint.source.name);
    match authorization.action.as_str() {
        "ALLOW" => {
            let operations = json!([{
                "op": "add",
                "path": "/spec/rules/-",
                "value": {"from": [{"source": {"principals": [principal]}}]},
            }]);
            vec![
                Step::new(
                    privilege,
                    format!(
                        "ALLOW policies admit only what a rule matches: add a rule for the caller's principal `{principal}` (mTLS identity; the caller needs a sidecar)"
                    ),
                )
                .command(patch_command(
                    &format!("kubectl -n {owner_namespace}"),
                    &reference,
                    "json",
                    &operations,
                ))
                .patch(json_patch(context, &operations)),
            ]
        }
        "DENY" => {
            let exempting = authorization
                .rules
                .iter()
                .enumerate()
                .flat_map(|(rule_index, rule)| {
                    rule.from
                        .iter()
                        .enumerate()
                        .filter(|(_, source)| !source.not_principals.is_empty())
                        .map(move |(source_index, _)| (rule_index, source_index))
                })
                .next();
            match exempting {
                Some((rule_index, source_index)) => {
                    let operations = json!([{
                        "op": "add",
                        "path": format!("/spec/rules/{rule_index}/from/{source_index}/source/notPrincipals/-"),
                        "value": principal,
                    }]);
                    vec![
                        Step::new(
                            privilege,
                            format!(
                                "This DENY policy refuses callers not in its `notPrincipals` list: ask its owners (see contacts) to add `{principal}`"
                            ),
                        )
                        .command(patch_command(
                            &format!("kubectl -n {owner_namespace}"),
                            &reference,
                            "json",
                            &operations,
                        ))
                        .patch(json_patch(context, &operations)),
                    ]
                }
                None => vec![Step::new(
                    privilege,
                    format!(
                        "This DENY policy matches the request: only its owners (see contacts) can narrow it, e.g. with `notPrincipals: [{principal}]`"
                    ),
                )],
            }
        }
        "CUSTOM" => vec![Step::new(
            privilege,
            format!(
                "The external authorizer `{}` decides: its owners (see contacts) must allow the request",
                authorization.provider.as_deref().unwrap_or("unknown")
            ),
        )],
        _ => vec![Step::new(
            Privilege::Developer,
            format!("Action `{}` never rejects a request", authorization.action),
        )],
    }
}

fn json_patch(context: &Context, operations: &Value) -> Patch {
    Patch {
        target: format!(
            "AuthorizationPolicy {}/{}",
            context
                .constraint
                .source
                .namespace
                .as_deref()
                .unwrap_or_default(),
            context.constraint.source.name
        ),
        format: PatchFormat::JsonPatch,
        body: yaml(operations),
    }
}
