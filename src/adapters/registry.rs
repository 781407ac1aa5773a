//! The adapter registry: routes each object to the one adapter that claims its exact group/kind,
//! or to the generic adapter when the kind is policy-like and no adapter claims it.

use serde::Serialize;

use crate::model::Constraint;
use crate::source::catalog::{self, IS_POLICY_ANNOTATION};
use crate::source::{GroupKind, Object, Snapshot};

/// A problem an adapter met in one object; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// `Kind/namespace/name` or `Kind/name`.
    pub object: String,
    pub adapter: String,
    pub message: String,
}

/// What adapters produced from a Snapshot.
#[derive(Debug, Default)]
pub struct AdapterOutput {
    pub constraints: Vec<Constraint>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Converts one policy family into constraints. One file per family implements it.
pub trait Adapter: Sync {
    /// A short name for diagnostics (`networkpolicy`).
    fn name(&self) -> &'static str;
    /// The exact group/kind pairs this adapter owns.
    fn kinds(&self) -> &'static [(&'static str, &'static str)];
    /// Groups whose every kind this adapter owns (Gatekeeper's `constraints.gatekeeper.sh`);
    /// consulted only when no adapter owns the exact kind.
    fn groups(&self) -> &'static [&'static str] {
        &[]
    }
    /// Appends constraints and diagnostics for one object. Must not panic on odd content.
    fn adapt(&self, object: &Object, snapshot: &Snapshot, output: &mut AdapterOutput);
}

/// Names an object the way diagnostics and reasons do.
pub fn object_name(object: &Object) -> String {
    match &object.namespace {
        Some(namespace) => format!("{}/{}/{}", object.kind, namespace, object.name),
        None => format!("{}/{}", object.kind, object.name),
    }
}

impl AdapterOutput {
    pub fn diagnose(&mut self, adapter: &dyn Adapter, object: &Object, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            object: object_name(object),
            adapter: adapter.name().to_string(),
            message: message.into(),
        });
    }
}

/// All adapters, in the order they are consulted.
pub struct Registry {
    adapters: Vec<Box<dyn Adapter>>,
    generic: super::generic::GenericAdapter,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            adapters: vec![
                Box::new(super::networkpolicy::NetworkPolicyAdapter),
                Box::new(super::resourcequota::ResourceQuotaAdapter),
                Box::new(super::limitrange::LimitRangeAdapter),
                Box::new(super::webhook::WebhookAdapter),
                Box::new(super::cilium::CiliumAdapter),
                Box::new(super::adminnetworkpolicy::AdminNetworkPolicyAdapter),
                Box::new(super::gatekeeper::GatekeeperAdapter),
                Box::new(super::kyverno::KyvernoAdapter),
                Box::new(super::istio::IstioAdapter),
                Box::new(super::admissionpolicy::AdmissionPolicyAdapter),
                Box::new(super::podsecurity::PodSecurityAdapter),
                Box::new(super::policyreport::PolicyReportAdapter),
            ],
            generic: super::generic::GenericAdapter,
        }
    }
}

impl Registry {
    /// The adapter that owns this exact group/kind, if any.
    pub fn adapter_for(&self, group_kind: &GroupKind) -> Option<&dyn Adapter> {
        let exact = self.adapters.iter().find(|adapter| {
            adapter
                .kinds()
                .iter()
                .any(|(group, kind)| *group == group_kind.group && *kind == group_kind.kind)
        });
        exact
            .or_else(|| {
                self.adapters
                    .iter()
                    .find(|adapter| adapter.groups().contains(&group_kind.group.as_str()))
            })
            .map(Box::as_ref)
    }

    /// Runs every adapter over the Snapshot. Constraints come out sorted by id.
    pub fn adapt(&self, snapshot: &Snapshot) -> AdapterOutput {
        let mut output = AdapterOutput::default();
        let mut annotated = policy_kinds_from_crds(snapshot);
        annotated.extend(super::generic::profile_target_kinds(snapshot));
        for group_kind in snapshot.kinds() {
            let adapter: &dyn Adapter = match self.adapter_for(&group_kind) {
                Some(adapter) => adapter,
                None if self.generic.claims(&group_kind, &annotated) => &self.generic,
                None => continue,
            };
            let objects: Vec<&Object> = snapshot
                .of_kind(&group_kind.group, &group_kind.kind)
                .collect();
            adapt_in_parallel(adapter, &objects, snapshot, &mut output);
        }
        output.constraints = sorted_by_id(std::mem::take(&mut output.constraints));
        output.diagnostics.sort();
        output
    }
}

/// Objects per thread below which a kind is adapted on one thread.
const OBJECTS_PER_WORKER: usize = 2048;

/// Runs `adapter` over `objects`, many objects on every core; the output is appended in object
/// order, exactly as one thread would write it.
fn adapt_in_parallel(
    adapter: &dyn Adapter,
    objects: &[&Object],
    snapshot: &Snapshot,
    output: &mut AdapterOutput,
) {
    let parts = crate::parallel::map_chunks(objects, OBJECTS_PER_WORKER, |chunk| {
        let mut output = AdapterOutput::default();
        for object in chunk {
            adapter.adapt(object, snapshot, &mut output);
        }
        output
    });
    for part in parts {
        output.constraints.extend(part.constraints);
        output.diagnostics.extend(part.diagnostics);
    }
}

/// Constraints in id order (stable): the order is sorted as indices, so each constraint moves
/// once instead of at every step of the sort.
fn sorted_by_id(constraints: Vec<Constraint>) -> Vec<Constraint> {
    let mut order: Vec<usize> = (0..constraints.len()).collect();
    order.sort_by(|left, right| constraints[*left].id.cmp(&constraints[*right].id));
    let mut slots: Vec<Option<Constraint>> = constraints.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|index| slots.get_mut(index).and_then(Option::take))
        .collect()
}

/// Kinds whose CRD carries `potoo.io/is-policy: "true"`.
pub fn policy_kinds_from_crds(snapshot: &Snapshot) -> Vec<GroupKind> {
    snapshot
        .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        .filter(|crd| {
            crd.annotations()
                .get(IS_POLICY_ANNOTATION)
                .is_some_and(|value| value == "true")
        })
        .filter_map(|crd| {
            let group = crd.spec().get("group")?.as_str()?;
            let kind = crd.spec().pointer("/names/kind")?.as_str()?;
            Some(GroupKind::new(group, kind))
        })
        .collect()
}

/// Whether the catalog or the heuristic calls a kind a policy (for kinds no adapter owns).
pub fn is_policy_kind(group_kind: &GroupKind, annotated: &[GroupKind]) -> bool {
    annotated.contains(group_kind) || catalog::is_policy_like(&group_kind.group, &group_kind.kind)
}
