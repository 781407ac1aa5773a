//! `data.inventory`: the objects Gatekeeper replicates for templates that look at other objects,
//! keyed `inventory.namespace[ns][apiVersion][kind][name]` for namespaced objects and
//! `inventory.cluster[apiVersion][kind][name]` for the rest. From the Snapshot, only the kinds the
//! Gatekeeper `Config` (`spec.sync.syncOnly`) and `SyncSet`s (`spec.gvks`) sync are included, as
//! in the cluster; when the Snapshot holds neither, every object read is included.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::source::Snapshot;

/// apiVersion → kind → name → object.
type ByVersion = BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>;

/// The replicated objects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    cluster: ByVersion,
    namespaced: BTreeMap<String, ByVersion>,
}

fn versions_value(versions: &ByVersion) -> Value {
    Value::Object(
        versions
            .iter()
            .map(|(api_version, kinds)| {
                let kinds: Map<String, Value> = kinds
                    .iter()
                    .map(|(kind, names)| {
                        let names: Map<String, Value> = names
                            .iter()
                            .map(|(name, object)| (name.clone(), object.clone()))
                            .collect();
                        (kind.clone(), Value::Object(names))
                    })
                    .collect();
                (api_version.clone(), Value::Object(kinds))
            })
            .collect(),
    )
}

impl Inventory {
    pub fn new() -> Inventory {
        Inventory::default()
    }

    /// Adds one object; `Err` names what it lacks (`apiVersion`, `kind`).
    pub fn add(&mut self, object: &Value) -> Result<(), String> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .ok_or("the object has no `apiVersion`")?;
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .ok_or("the object has no `kind`")?;
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty());
        let versions = match namespace {
            Some(namespace) => self.namespaced.entry(namespace.to_string()).or_default(),
            None => &mut self.cluster,
        };
        versions
            .entry(api_version.to_string())
            .or_default()
            .entry(kind.to_string())
            .or_default()
            .insert(name.to_string(), object.clone());
        Ok(())
    }

    /// The inventory Gatekeeper would hold for a cluster in this state.
    pub fn from_snapshot(snapshot: &Snapshot) -> Inventory {
        let synced = synced_kinds(snapshot);
        let mut inventory = Inventory::new();
        for object in snapshot.objects() {
            let group_kind = object.group_kind();
            let included = match &synced {
                Some(kinds) => kinds.contains(&(group_kind.group.clone(), group_kind.kind.clone())),
                None => true,
            };
            if included {
                // Objects in a Snapshot always have an apiVersion and a kind.
                let _ = inventory.add(&object.value);
            }
        }
        inventory
    }

    /// A Namespace object of the inventory, for `namespaceSelector`.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.cluster.get("v1")?.get("Namespace")?.get(name)
    }

    /// The `data` document templates read: `{"inventory": …}`.
    pub fn to_data(&self) -> regorus::Value {
        let mut data = Map::new();
        data.insert("inventory".to_string(), self.to_value());
        regorus::Value::from(Value::Object(data))
    }

    /// `data.inventory`.
    pub fn to_value(&self) -> Value {
        let mut inventory = Map::new();
        inventory.insert("cluster".to_string(), versions_value(&self.cluster));
        let namespaced: Map<String, Value> = self
            .namespaced
            .iter()
            .map(|(namespace, versions)| (namespace.clone(), versions_value(versions)))
            .collect();
        inventory.insert("namespace".to_string(), Value::Object(namespaced));
        Value::Object(inventory)
    }
}

/// (group, kind) pairs the Gatekeeper Config and SyncSets sync; `None` when neither was read.
fn synced_kinds(snapshot: &Snapshot) -> Option<BTreeSet<(String, String)>> {
    let mut kinds = BTreeSet::new();
    let mut found = false;
    let mut add = |entries: Option<&Value>| {
        for entry in entries.and_then(Value::as_array).into_iter().flatten() {
            let group = entry
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(kind) = entry.get("kind").and_then(Value::as_str) {
                kinds.insert((group.to_string(), kind.to_string()));
            }
        }
    };
    for config in snapshot.of_kind("config.gatekeeper.sh", "Config") {
        found = true;
        add(config.spec().pointer("/sync/syncOnly"));
    }
    for sync_set in snapshot.of_kind("syncset.gatekeeper.sh", "SyncSet") {
        found = true;
        add(sync_set.spec().get("gvks"));
    }
    found.then_some(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_keyed_by_namespace_group_version_kind_and_name() -> Result<(), String> {
        let mut inventory = Inventory::new();
        inventory.add(
            &json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "shop"}}),
        )?;
        inventory.add(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"team": "a"}}}))?;
        let value = inventory.to_value();
        assert_eq!(
            value["namespace"]["shop"]["networking.k8s.io/v1"]["Ingress"]["web"]["metadata"]["name"],
            "web"
        );
        assert_eq!(
            inventory
                .namespace("shop")
                .map(|namespace| namespace["metadata"]["labels"]["team"].clone()),
            Some(json!("a"))
        );
        assert!(inventory.add(&json!({"kind": "Pod"})).is_err());
        Ok(())
    }
}
