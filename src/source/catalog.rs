//! The kinds potoo reads: known policy kinds per engine, workloads, metadata-only kinds, and the
//! heuristic that recognizes other policy-like kinds.

/// What potoo does with a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A policy, constraint or limit: fed to the adapters.
    Policy,
    /// Namespaces, workloads, pods, services: what constraints apply to.
    Workload,
    /// Listed as PartialObjectMetadata only (Secrets, ConfigMaps): contents are never fetched.
    MetadataOnly,
    /// Cluster facts used by `status` and discovery (CRDs).
    Cluster,
}

/// A kind potoo knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownKind {
    pub group: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub purpose: Purpose,
    /// The engine or project the kind belongs to, for `status`.
    pub engine: &'static str,
}

const fn known(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    purpose: Purpose,
    engine: &'static str,
) -> KnownKind {
    KnownKind {
        group,
        kind,
        plural,
        namespaced,
        purpose,
        engine,
    }
}

use Purpose::{Cluster, MetadataOnly, Policy, Workload};

/// Every kind potoo reads by name. Gatekeeper constraint kinds are found by group (see
/// [`GATEKEEPER_CONSTRAINT_GROUP`]).
pub const KNOWN_KINDS: &[KnownKind] = &[
    known("", "Namespace", "namespaces", false, Workload, "kubernetes"),
    known("", "Pod", "pods", true, Workload, "kubernetes"),
    known("", "Service", "services", true, Workload, "kubernetes"),
    known(
        "apps",
        "Deployment",
        "deployments",
        true,
        Workload,
        "kubernetes",
    ),
    known(
        "apps",
        "StatefulSet",
        "statefulsets",
        true,
        Workload,
        "kubernetes",
    ),
    known(
        "apps",
        "DaemonSet",
        "daemonsets",
        true,
        Workload,
        "kubernetes",
    ),
    known(
        "apps",
        "ReplicaSet",
        "replicasets",
        true,
        Workload,
        "kubernetes",
    ),
    known("batch", "Job", "jobs", true, Workload, "kubernetes"),
    known("batch", "CronJob", "cronjobs", true, Workload, "kubernetes"),
    known("", "Secret", "secrets", true, MetadataOnly, "kubernetes"),
    known(
        "",
        "ConfigMap",
        "configmaps",
        true,
        MetadataOnly,
        "kubernetes",
    ),
    known(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        Cluster,
        "kubernetes",
    ),
    known(
        "",
        "ResourceQuota",
        "resourcequotas",
        true,
        Policy,
        "kubernetes",
    ),
    known("", "LimitRange", "limitranges", true, Policy, "kubernetes"),
    known(
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        true,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "policy.networking.k8s.io",
        "AdminNetworkPolicy",
        "adminnetworkpolicies",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "policy.networking.k8s.io",
        "BaselineAdminNetworkPolicy",
        "baselineadminnetworkpolicies",
        false,
        Policy,
        "kubernetes",
    ),
    known(
        "cilium.io",
        "CiliumNetworkPolicy",
        "ciliumnetworkpolicies",
        true,
        Policy,
        "cilium",
    ),
    known(
        "cilium.io",
        "CiliumClusterwideNetworkPolicy",
        "ciliumclusterwidenetworkpolicies",
        false,
        Policy,
        "cilium",
    ),
    known(
        "templates.gatekeeper.sh",
        "ConstraintTemplate",
        "constrainttemplates",
        false,
        Policy,
        "gatekeeper",
    ),
    known(
        "kyverno.io",
        "ClusterPolicy",
        "clusterpolicies",
        false,
        Policy,
        "kyverno",
    ),
    known("kyverno.io", "Policy", "policies", true, Policy, "kyverno"),
    known(
        "kyverno.io",
        "PolicyException",
        "policyexceptions",
        true,
        Policy,
        "kyverno",
    ),
    known(
        "policies.kyverno.io",
        "ValidatingPolicy",
        "validatingpolicies",
        false,
        Policy,
        "kyverno",
    ),
    known(
        "policies.kyverno.io",
        "PolicyException",
        "policyexceptions",
        true,
        Policy,
        "kyverno",
    ),
    known(
        "wgpolicyk8s.io",
        "PolicyReport",
        "policyreports",
        true,
        Policy,
        "policy-reports",
    ),
    known(
        "wgpolicyk8s.io",
        "ClusterPolicyReport",
        "clusterpolicyreports",
        false,
        Policy,
        "policy-reports",
    ),
    known(
        "openreports.io",
        "Report",
        "reports",
        true,
        Policy,
        "policy-reports",
    ),
    known(
        "openreports.io",
        "ClusterReport",
        "clusterreports",
        false,
        Policy,
        "policy-reports",
    ),
    known(
        "security.istio.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
        true,
        Policy,
        "istio",
    ),
    known(
        "security.istio.io",
        "PeerAuthentication",
        "peerauthentications",
        true,
        Policy,
        "istio",
    ),
    known(
        "networking.istio.io",
        "Sidecar",
        "sidecars",
        true,
        Policy,
        "istio",
    ),
    known(
        "potoo.io",
        "ConstraintProfile",
        "constraintprofiles",
        false,
        Policy,
        "potoo",
    ),
];

/// Every kind in this group is a Gatekeeper constraint.
pub const GATEKEEPER_CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";

/// The CRD annotation that marks a kind as a policy explicitly.
pub const IS_POLICY_ANNOTATION: &str = "potoo.io/is-policy";

pub fn known_kind(group: &str, kind: &str) -> Option<&'static KnownKind> {
    KNOWN_KINDS
        .iter()
        .find(|known| known.group == group && known.kind == kind)
}

/// The engine a group belongs to, for kinds found by discovery rather than by name.
pub fn engine_of_group(group: &str) -> &'static str {
    if let Some(known) = KNOWN_KINDS.iter().find(|known| known.group == group) {
        return known.engine;
    }
    match group {
        GATEKEEPER_CONSTRAINT_GROUP => "gatekeeper",
        _ if group.ends_with("gatekeeper.sh") => "gatekeeper",
        _ if group.ends_with("kyverno.io") => "kyverno",
        _ if group.ends_with("istio.io") => "istio",
        _ if group.ends_with("cilium.io") => "cilium",
        _ if group.ends_with(".k8s.io") || group.is_empty() => "kubernetes",
        _ => "other",
    }
}

/// Groups whose kinds are never policies although their names may look like one.
const NOT_POLICY_GROUPS: &[&str] = &[
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "coordination.k8s.io",
    "events.k8s.io",
    "metrics.k8s.io",
];

/// Kinds whose names look like policies but are bookkeeping (Kyverno's own internal kinds).
const NOT_POLICY_KINDS: &[(&str, &str)] = &[
    ("kyverno.io", "UpdateRequest"),
    ("kyverno.io", "CleanupPolicy"),
    ("kyverno.io", "ClusterCleanupPolicy"),
    ("reports.kyverno.io", "EphemeralReport"),
    ("reports.kyverno.io", "ClusterEphemeralReport"),
    ("policy", "PodDisruptionBudget"),
    ("policy.networking.k8s.io", "ExternalNetworkSet"),
    ("cilium.io", "CiliumLocalRedirectPolicy"),
    ("cilium.io", "CiliumCIDRGroup"),
];

/// The heuristic for unknown kinds: group or kind names containing policy, constraint, rule or quota.
pub fn is_policy_like(group: &str, kind: &str) -> bool {
    if known_kind(group, kind).is_some() {
        return known_kind(group, kind).is_some_and(|known| known.purpose == Policy);
    }
    if group == GATEKEEPER_CONSTRAINT_GROUP {
        return true;
    }
    if NOT_POLICY_GROUPS.contains(&group)
        || NOT_POLICY_KINDS
            .iter()
            .any(|(not_group, not_kind)| *not_group == group && *not_kind == kind)
    {
        return false;
    }
    let kind_lower = kind.to_ascii_lowercase();
    let group_lower = group.to_ascii_lowercase();
    ["policy", "policies", "constraint", "rule", "quota"]
        .iter()
        .any(|word| {
            kind_lower.contains(word)
                || group_lower
                    .split('.')
                    .next()
                    .is_some_and(|first| first.contains(word))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_like_heuristic() {
        let cases = [
            ("networking.k8s.io", "NetworkPolicy", true),
            ("networking.k8s.io", "Ingress", false),
            ("constraints.gatekeeper.sh", "K8sRequiredLabels", true),
            ("kyverno.io", "UpdateRequest", false),
            ("example.com", "TrafficRule", true),
            ("quota.example.com", "Budget", true),
            ("rbac.authorization.k8s.io", "ClusterRole", false),
            ("apps", "Deployment", false),
            ("policy", "PodDisruptionBudget", false),
            ("", "Secret", false),
        ];
        for (group, kind, expected) in cases {
            assert_eq!(is_policy_like(group, kind), expected, "{group}/{kind}");
        }
    }
}
