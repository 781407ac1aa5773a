//! Index cases: which constraints apply to a namespace or workload, and the recorded reasons.

use potoo::adapters::Registry;
use potoo::index::{Index, find_workload};
use potoo::source::Snapshot;
use potoo::source::snapshot::object_from_value;
use serde_json::json;

fn snapshot() -> Snapshot {
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments", "labels": {"team": "payments", "istio-injection": "enabled"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "payments", "labels": {"inject": "true"}},
               "spec": {"template": {"metadata": {"labels": {"app": "api", "tier": "backend"}}}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "worker", "namespace": "payments"},
               "spec": {"template": {"metadata": {"labels": {"app": "worker"}}}}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "api-only", "namespace": "payments"},
               "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [{}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "payments"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "policy"},
        "webhooks": [
          {"name": "not-system.example.com", "rules": [{"apiGroups": [""], "resources": ["pods"], "operations": ["CREATE"]}],
           "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}},
          {"name": "configmaps.example.com", "rules": [{"apiGroups": [""], "resources": ["configmaps"], "operations": ["CREATE"]}]},
          {"name": "injected.example.com", "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "operations": ["CREATE"]}],
           "objectSelector": {"matchLabels": {"inject": "true"}}}
        ]}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": {"name": "mesh"},
               "webhooks": [{"name": "sidecar.example.com", "rules": [{"apiGroups": [""], "resources": ["pods"], "operations": ["CREATE"]}],
                             "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}}}]}),
    ];
    let mut snapshot = Snapshot::default();
    for object in objects {
        snapshot.insert(object_from_value(object).unwrap());
    }
    snapshot
}

#[test]
fn namespace_matches_carry_reasons() {
    let snapshot = snapshot();
    let adapted = Registry::default().adapt(&snapshot);
    let index = Index::new(&snapshot, &adapted.constraints);
    let payments: Vec<(String, String)> = index
        .for_namespace("payments")
        .into_iter()
        .map(|found| (found.constraint.id.clone(), found.reasons.join("; ")))
        .collect();
    let expected = [
        (
            "NetworkPolicy/payments/api-only#ingress",
            "defined in namespace `payments`; selects pods with `app=api`",
        ),
        (
            "NetworkPolicy/payments/deny#ingress",
            "defined in namespace `payments`; empty selector: all pods in namespace",
        ),
        (
            "MutatingWebhookConfiguration/_cluster/mesh#sidecar.example.com",
            "namespaceSelector `istio-injection=enabled` matched namespace `payments` (istio-injection=enabled); no selector: all pods in namespace",
        ),
        (
            "ValidatingWebhookConfiguration/_cluster/policy#configmaps.example.com",
            "cluster-wide: every namespace; concerns `configmaps`, not pods",
        ),
        (
            "ValidatingWebhookConfiguration/_cluster/policy#injected.example.com",
            "cluster-wide: every namespace; selects pods with `inject=true`",
        ),
        (
            "ValidatingWebhookConfiguration/_cluster/policy#not-system.example.com",
            "namespaceSelector `kubernetes.io/metadata.name notin (kube-system)` matched namespace `payments` (kubernetes.io/metadata.name=payments is not in (kube-system)); no selector: all pods in namespace",
        ),
    ];
    let mut sorted = payments.clone();
    sorted.sort();
    let mut expected_sorted: Vec<(String, String)> = expected
        .iter()
        .map(|(id, why)| (id.to_string(), why.to_string()))
        .collect();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted);

    let system: Vec<String> = index
        .for_namespace("kube-system")
        .into_iter()
        .map(|found| found.constraint.id.clone())
        .collect();
    assert!(
        !system.iter().any(|id| id.contains("not-system")),
        "{system:?}"
    );
    assert!(!system.iter().any(|id| id.contains("mesh")), "{system:?}");
}

#[test]
fn workload_matches_use_pod_labels_and_resources() {
    let snapshot = snapshot();
    let adapted = Registry::default().adapt(&snapshot);
    let index = Index::new(&snapshot, &adapted.constraints);
    let api = find_workload(&snapshot, "payments", "Deployment", "api").unwrap();
    let worker = find_workload(&snapshot, "payments", "Deployment", "worker").unwrap();
    let ids = |workload| -> Vec<String> {
        let mut ids: Vec<String> = index
            .for_workload(workload)
            .into_iter()
            .map(|found| found.constraint.id.clone())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&api),
        vec![
            "MutatingWebhookConfiguration/_cluster/mesh#sidecar.example.com",
            "NetworkPolicy/payments/api-only#ingress",
            "NetworkPolicy/payments/deny#ingress",
            "ValidatingWebhookConfiguration/_cluster/policy#injected.example.com",
            "ValidatingWebhookConfiguration/_cluster/policy#not-system.example.com",
        ]
    );
    assert_eq!(
        ids(&worker),
        vec![
            "MutatingWebhookConfiguration/_cluster/mesh#sidecar.example.com",
            "NetworkPolicy/payments/deny#ingress",
            "ValidatingWebhookConfiguration/_cluster/policy#not-system.example.com",
        ]
    );
    let api_reasons: Vec<String> = index
        .for_workload(&api)
        .into_iter()
        .filter(|found| {
            found.constraint.id.contains("api-only") || found.constraint.id.contains("injected")
        })
        .map(|found| found.reasons.join("; "))
        .collect();
    assert_eq!(
        api_reasons,
        vec![
            "defined in namespace `payments`; selector `app=api` matched pod labels (app=api)",
            "cluster-wide: every namespace; rules cover `apps/deployments`; selector `inject=true` matched Deployment labels (inject=true)",
        ]
    );
}
