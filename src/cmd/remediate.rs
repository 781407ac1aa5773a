//! `remediate NAME`: what to do about one constraint — steps, commands, patches, whom to ask.
//!
//! NAME is a constraint id as `query` prints it (`NetworkPolicy/payments/default-deny-all#egress`),
//! or the policy object as `KIND/NAME`, `KIND/NAMESPACE/NAME` or `NAME` (in the `-n` namespace or
//! cluster-scoped), optionally with `#RULE`. It must name one policy object; every constraint of
//! that object is remediated.

use std::collections::BTreeSet;

use super::CommandOutput;
use crate::cli::{GlobalOptions, OutputFormat, RemediateArgs};
use crate::engine::query::parse_workload;
use crate::index::Workload;
use crate::model::Constraint;
use crate::model::remediation::RemediationResult;
use crate::render;
use crate::source::NamespaceScope;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "no constraint named `{name}` {place}; run `kubectl potoo query` to list constraint ids"
    )]
    NotFound { name: String, place: String },
    #[error("`{name}` names {} policy objects; use one of: {}", candidates.len(), candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
}

pub async fn run(global: &GlobalOptions, args: &RemediateArgs) -> anyhow::Result<CommandOutput> {
    if matches!(global.output, OutputFormat::Connlist | OutputFormat::Junit) {
        return Err(super::unsupported_output("remediate", global.output));
    }
    let default_namespace = global.own_namespace().await;
    let workload_name = match &args.workload {
        Some(text) => Some(parse_workload(text, Some(&default_namespace))?),
        None => None,
    };
    let own_namespace = workload_name.as_ref().map_or_else(
        || default_namespace.clone(),
        |(namespace, _, _)| namespace.clone(),
    );
    let scope = read_scope(global, &args.name, &own_namespace, &default_namespace);
    let snapshot = super::load_snapshot(global, &scope).await?;
    let adapted = super::adapt(&snapshot);
    let search_namespace = (!global.all_namespaces).then_some(own_namespace.as_str());
    let constraints = resolve(&adapted.constraints, &args.name, search_namespace)?;
    let workload: Option<Workload> = match &workload_name {
        Some((namespace, kind, name)) => {
            Some(super::named_workload(&snapshot, namespace, kind, name)?)
        }
        None => None,
    };
    let remediations = constraints
        .iter()
        .map(|constraint| {
            let mut remediation =
                crate::remediation::remediation(&snapshot, constraint, workload.as_ref());
            crate::privacy::redact_remediation(
                &mut remediation,
                constraint,
                global.detail,
                &own_namespace,
            );
            remediation
        })
        .collect();
    let hidden: Vec<String> = constraints
        .iter()
        .flat_map(|constraint| {
            crate::privacy::hidden_strings(constraint, global.detail, &own_namespace)
        })
        .collect();
    let shown_name = crate::privacy::scrub(&args.name, &hidden);
    let result = RemediationResult::new(shown_name, snapshot.gaps.clone(), remediations);
    let stdout = super::render_result("remediate", global, &result, render::remediation::table)?;
    let stderr = super::notes(global, &snapshot, &adapted);
    super::release_at_exit(snapshot, adapted);
    Ok(CommandOutput {
        stdout,
        stderr,
        findings: false,
    })
}

/// The namespaces to read: every one with `-A`, else the user's plus any NAME names.
fn read_scope(
    global: &GlobalOptions,
    name: &str,
    own_namespace: &str,
    default_namespace: &str,
) -> NamespaceScope {
    if global.all_namespaces {
        return NamespaceScope::All;
    }
    let mut namespaces = BTreeSet::from([own_namespace.to_string(), default_namespace.to_string()]);
    let base = name.split('#').next().unwrap_or(name);
    if let [_, namespace, _] = base.split('/').collect::<Vec<_>>().as_slice()
        && *namespace != "_cluster"
    {
        namespaces.insert(namespace.to_string());
    }
    if namespaces.len() == 1 {
        NamespaceScope::One(own_namespace.to_string())
    } else {
        NamespaceScope::All
    }
}

/// kubectl's short and plural names for the policy kinds people type most.
fn kind_matches(typed: &str, kind: &str) -> bool {
    let typed = typed.to_ascii_lowercase();
    let lowered = kind.to_ascii_lowercase();
    let plural = match lowered.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{lowered}s"),
    };
    if typed == lowered || typed == plural {
        return true;
    }
    let canonical = match typed.as_str() {
        "netpol" => "networkpolicy",
        "quota" => "resourcequota",
        "limits" => "limitrange",
        "cpol" => "clusterpolicy",
        "pol" => "policy",
        "vap" => "validatingadmissionpolicy",
        "map" => "mutatingadmissionpolicy",
        "cnp" => "ciliumnetworkpolicy",
        "ccnp" => "ciliumclusterwidenetworkpolicy",
        "anp" => "adminnetworkpolicy",
        "banp" => "baselineadminnetworkpolicy",
        "ns" => "namespace",
        "ap" => "authorizationpolicy",
        "pa" => "peerauthentication",
        "polr" => "policyreport",
        _ => return false,
    };
    canonical == lowered
}

/// Finds the constraints NAME designates: an exact id, else the constraints of one policy
/// object named `KIND/NAMESPACE/NAME`, `KIND/NAME` or `NAME` (optionally `#RULE`). `namespace`
/// limits the last two forms to that namespace and cluster-scoped objects (`None`: any).
pub fn resolve<'a>(
    constraints: &'a [Constraint],
    name: &str,
    namespace: Option<&str>,
) -> Result<Vec<&'a Constraint>, ResolveError> {
    if let Some(exact) = constraints.iter().find(|constraint| constraint.id == name) {
        return Ok(vec![exact]);
    }
    let (base, rule) = match name.split_once('#') {
        Some((base, rule)) => (base, Some(rule)),
        None => (name, None),
    };
    let parts: Vec<&str> = base.split('/').collect();
    let in_scope = |constraint: &Constraint| match (&constraint.source.namespace, namespace) {
        (None, _) | (_, None) => true,
        (Some(own), Some(wanted)) => own == wanted,
    };
    let matches: Vec<&Constraint> = constraints
        .iter()
        .filter(|constraint| {
            let source = &constraint.source;
            let object_matches = match parts.as_slice() {
                [kind, object_namespace, object_name] => {
                    kind_matches(kind, &source.kind)
                        && source.name == *object_name
                        && source.namespace.as_deref().unwrap_or("_cluster") == *object_namespace
                }
                [kind, object_name] => {
                    kind_matches(kind, &source.kind)
                        && source.name == *object_name
                        && in_scope(constraint)
                }
                [object_name] => source.name == *object_name && in_scope(constraint),
                _ => false,
            };
            object_matches && rule.is_none_or(|rule| constraint.rule.as_deref() == Some(rule))
        })
        .collect();
    let objects: BTreeSet<String> = matches
        .iter()
        .map(|constraint| Constraint::make_id(&constraint.source, None))
        .collect();
    match objects.len() {
        0 => Err(ResolveError::NotFound {
            name: name.to_string(),
            place: match namespace {
                Some(namespace) => format!("in namespace `{namespace}` or cluster-wide"),
                None => "in any namespace".to_string(),
            },
        }),
        1 => Ok(matches),
        _ => Err(ResolveError::Ambiguous {
            name: name.to_string(),
            candidates: objects.into_iter().collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConstraintType, Details, Effect, Scope, Severity, SourceReference};

    fn constraint(
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        rule: Option<&str>,
    ) -> Constraint {
        let source = SourceReference {
            api_version: "v1".to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            uid: None,
        };
        Constraint {
            id: Constraint::make_id(&source, rule),
            source,
            rule: rule.map(str::to_string),
            constraint_type: ConstraintType::Unknown,
            effect: Effect::Deny,
            severity: Severity::Info,
            scope: Scope::default(),
            summary: String::new(),
            details: Details::Redacted(serde_json::Value::Null),
            remediation_hint: None,
        }
    }

    fn ids(found: &[&Constraint]) -> Vec<String> {
        found
            .iter()
            .map(|constraint| constraint.id.clone())
            .collect()
    }

    #[test]
    fn names_resolve_by_id_kind_and_name_with_short_kinds() {
        let all = vec![
            constraint("NetworkPolicy", Some("a"), "deny", Some("ingress")),
            constraint("NetworkPolicy", Some("a"), "deny", Some("egress")),
            constraint("NetworkPolicy", Some("b"), "deny", Some("egress")),
            constraint("ClusterPolicy", None, "labels", Some("check")),
        ];
        assert_eq!(
            ids(&resolve(&all, "NetworkPolicy/b/deny#egress", Some("a")).unwrap()),
            vec!["NetworkPolicy/b/deny#egress"]
        );
        assert_eq!(
            resolve(&all, "netpol/deny", Some("a")).unwrap().len(),
            2,
            "every constraint of the object"
        );
        assert_eq!(
            ids(&resolve(&all, "networkpolicies/deny#egress", Some("a")).unwrap()),
            vec!["NetworkPolicy/a/deny#egress"]
        );
        assert_eq!(
            ids(&resolve(&all, "labels", Some("a")).unwrap()),
            vec!["ClusterPolicy/_cluster/labels#check"]
        );
        assert_eq!(
            ids(&resolve(&all, "cpol/_cluster/labels", None).unwrap()),
            vec!["ClusterPolicy/_cluster/labels#check"]
        );
    }

    #[test]
    fn ambiguous_and_unknown_names_are_clear_errors() {
        let all = vec![
            constraint("NetworkPolicy", Some("a"), "deny", Some("ingress")),
            constraint("NetworkPolicy", Some("b"), "deny", Some("egress")),
        ];
        let error = resolve(&all, "deny", None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`deny` names 2 policy objects; use one of: NetworkPolicy/a/deny, NetworkPolicy/b/deny"
        );
        let error = resolve(&all, "absent", Some("a")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no constraint named `absent` in namespace `a` or cluster-wide; run `kubectl potoo query` to list constraint ids"
        );
        assert!(resolve(&all, "deny", Some("c")).is_err());
    }
}
