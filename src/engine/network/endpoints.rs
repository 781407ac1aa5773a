//! Endpoints: the pods traffic flows between (real Pods, or one pod per workload from its pod
//! template when the Snapshot has no pods for it), the workload that owns each, Services and
//! what Routes/Ingresses expose, and how `reach` peers (`KIND/NAME`, `ns:NS`, IPs, host names)
//! resolve to them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use super::addresses::IpRange;
use super::connections::{ConnectionSet, PortSet, Protocol};
use crate::source::snapshot::string_map;
use crate::source::{Object, Snapshot};

/// The namespace objects without `metadata.namespace` land in (kubectl's default).
pub const DEFAULT_NAMESPACE: &str = "default";

/// A named or numbered container port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// The workload a pod belongs to: its top-level owner, or the pod itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReference {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl WorkloadReference {
    /// np-guard's peer form: `payments/api[Deployment]`.
    pub fn display(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }
}

/// One pod, real or stood in for by a workload's pod template.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub namespace: String,
    /// The pod's name; for a template stand-in, the workload's name.
    pub pod_name: String,
    pub workload: WorkloadReference,
    /// Every owner between the pod and its workload (`ReplicaSet/web-5d9f`, `Deployment/web`).
    pub owners: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<ContainerPort>,
    pub host_network: bool,
    pub pod_ips: Vec<IpAddr>,
    pub host_ip: Option<IpAddr>,
    pub service_account: String,
    /// Built from a pod template because the Snapshot holds no pod of the workload.
    pub from_template: bool,
    /// In the Istio mesh (a sidecar, or ambient mode): its traffic carries its identity.
    pub in_mesh: bool,
}

impl Endpoint {
    /// The port number a named port stands for on this pod, for the given protocol.
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.ports
            .iter()
            .find(|port| port.name.as_deref() == Some(name) && port.protocol == protocol)
            .map(|port| port.port)
    }

    /// A named port whatever its protocol (Service `targetPort` names).
    pub fn named_port_any(&self, name: &str) -> Option<&ContainerPort> {
        self.ports
            .iter()
            .find(|port| port.name.as_deref() == Some(name))
    }
}

/// A workload and its endpoints (indices into `Inventory::endpoints`).
#[derive(Debug, Clone)]
pub struct WorkloadGroup {
    pub reference: WorkloadReference,
    pub endpoints: Vec<usize>,
}

/// A Service port: `port` is what clients dial, `target` what the pods listen on.
#[derive(Debug, Clone)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
    pub target: PortValue,
}

/// A port given as a number or a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PortValue {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for PortValue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortValue::Number(number) => write!(formatter, "{number}"),
            PortValue::Name(name) => formatter.write_str(name),
        }
    }
}

impl PortValue {
    pub fn parse(text: &str) -> PortValue {
        match text.parse::<u16>() {
            Ok(number) => PortValue::Number(number),
            Err(_) => PortValue::Name(text.to_string()),
        }
    }

    fn from_json(value: &Value) -> Option<PortValue> {
        match value {
            Value::Number(number) => number
                .as_u64()
                .and_then(|number| u16::try_from(number).ok())
                .map(PortValue::Number),
            Value::String(text) if !text.is_empty() => Some(PortValue::parse(text)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// `None`: no selector (endpoints managed by hand or `ExternalName`).
    pub selector: Option<BTreeMap<String, String>>,
    pub ports: Vec<ServicePort>,
    pub cluster_ips: Vec<IpAddr>,
}

impl Service {
    pub fn selects(&self, endpoint: &Endpoint) -> bool {
        match &self.selector {
            Some(selector) if !selector.is_empty() => {
                endpoint.namespace == self.namespace
                    && selector
                        .iter()
                        .all(|(key, value)| endpoint.labels.get(key) == Some(value))
            }
            _ => false,
        }
    }

    /// The Service port a client names by number or port name.
    pub fn port(&self, wanted: &PortValue, protocol: Option<Protocol>) -> Option<&ServicePort> {
        self.ports.iter().find(|port| {
            let same = match wanted {
                PortValue::Number(number) => port.port == *number,
                PortValue::Name(name) => port.name.as_deref() == Some(name.as_str()),
            };
            same && protocol.is_none_or(|protocol| port.protocol == protocol)
        })
    }
}

/// A Route or Ingress sending outside traffic to a Service.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// `Route` or `Ingress`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub service: String,
    /// The Service port (number or name); `None`: every port of the Service.
    pub port: Option<PortValue>,
}

/// A node: its labels and addresses (for AdminNetworkPolicy `nodes` peers).
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub addresses: Vec<IpAddr>,
}

/// Everything reachability needs to know about where traffic can go.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub endpoints: Vec<Endpoint>,
    /// Sorted by display name.
    pub workloads: Vec<WorkloadGroup>,
    pub services: Vec<Service>,
    pub exposures: Vec<Exposure>,
    pub nodes: Vec<Node>,
    /// Things worth telling the user (pods of one workload with different labels…).
    pub notes: Vec<String>,
}

/// Workload kinds: group, kind, and the pointer to the pod template.
const WORKLOAD_KINDS: &[(&str, &str, &str)] = &[
    ("apps", "Deployment", "/spec/template"),
    ("apps.openshift.io", "DeploymentConfig", "/spec/template"),
    ("batch", "CronJob", "/spec/jobTemplate/spec/template"),
    ("apps", "StatefulSet", "/spec/template"),
    ("apps", "DaemonSet", "/spec/template"),
    ("", "ReplicationController", "/spec/template"),
    ("apps", "ReplicaSet", "/spec/template"),
    ("batch", "Job", "/spec/template"),
];

fn is_workload_kind(kind: &str) -> bool {
    WORKLOAD_KINDS
        .iter()
        .any(|(_, candidate, _)| *candidate == kind)
}

fn namespace_of(object: &Object) -> String {
    object
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

/// The controlling owner (`controller: true`), else the first owner: (kind, name).
fn owner_of(value: &Value) -> Option<(String, String)> {
    let owners = value.pointer("/metadata/ownerReferences")?.as_array()?;
    let chosen = owners
        .iter()
        .find(|owner| owner.get("controller") == Some(&Value::Bool(true)))
        .or_else(|| owners.first())?;
    let name = chosen.get("name")?.as_str()?.to_string();
    let kind = chosen
        .get("kind")
        .and_then(Value::as_str)
        .filter(|kind| !kind.is_empty())
        .unwrap_or("Pod")
        .to_string();
    Some((kind, name))
}

fn container_ports(pod_spec: &Value) -> Vec<ContainerPort> {
    let mut ports = Vec::new();
    for field in ["containers", "initContainers"] {
        let Some(containers) = pod_spec.get(field).and_then(Value::as_array) else {
            continue;
        };
        for container in containers {
            let Some(items) = container.get("ports").and_then(Value::as_array) else {
                continue;
            };
            for item in items {
                let Some(port) = item
                    .get("containerPort")
                    .and_then(Value::as_u64)
                    .and_then(|port| u16::try_from(port).ok())
                    .filter(|port| *port > 0)
                else {
                    continue;
                };
                let protocol = item
                    .get("protocol")
                    .and_then(Value::as_str)
                    .and_then(Protocol::parse)
                    .unwrap_or(Protocol::Tcp);
                ports.push(ContainerPort {
                    name: item.get("name").and_then(Value::as_str).map(str::to_string),
                    port,
                    protocol,
                });
            }
        }
    }
    ports
}

fn parse_addresses(value: &Value) -> Vec<IpAddr> {
    let mut addresses = Vec::new();
    if let Some(address) = value
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
    {
        addresses.push(address);
    }
    if let Some(items) = value.pointer("/status/podIPs").and_then(Value::as_array) {
        for item in items {
            if let Some(address) = item
                .get("ip")
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<IpAddr>().ok())
                && !addresses.contains(&address)
            {
                addresses.push(address);
            }
        }
    }
    addresses
}

/// Whether a pod (or a pod template) is in the Istio mesh: it has the sidecar (or its injection
/// marks), or its namespace or itself is enrolled for injection or ambient mode.
fn mesh_member(
    pod: &Value,
    pod_spec: &Value,
    namespace_labels: &BTreeMap<String, String>,
    template: bool,
) -> bool {
    let labels = string_map(pod.pointer("/metadata/labels"));
    let annotations = string_map(pod.pointer("/metadata/annotations"));
    let has_proxy = ["containers", "initContainers"].iter().any(|field| {
        pod_spec
            .get(*field)
            .and_then(Value::as_array)
            .is_some_and(|containers| {
                containers.iter().any(|container| {
                    container.get("name").and_then(Value::as_str) == Some("istio-proxy")
                })
            })
    });
    if has_proxy
        || annotations.contains_key("sidecar.istio.io/status")
        || labels.get("security.istio.io/tlsMode").map(String::as_str) == Some("istio")
    {
        return true;
    }
    if labels.get("istio.io/dataplane-mode").map(String::as_str) == Some("none") {
        return false;
    }
    if labels.get("istio.io/dataplane-mode").map(String::as_str) == Some("ambient")
        || namespace_labels
            .get("istio.io/dataplane-mode")
            .map(String::as_str)
            == Some("ambient")
    {
        return true;
    }
    let has_containers = pod_spec
        .get("containers")
        .and_then(Value::as_array)
        .is_some_and(|containers| !containers.is_empty());
    if !template && has_containers {
        // A created pod without the proxy was not injected, whatever its namespace says now.
        return false;
    }
    let inject = labels
        .get("sidecar.istio.io/inject")
        .or_else(|| annotations.get("sidecar.istio.io/inject"))
        .map(String::as_str);
    match inject {
        Some("false") => false,
        Some("true") => true,
        _ => {
            namespace_labels.get("istio-injection").map(String::as_str) == Some("enabled")
                || namespace_labels.contains_key("istio.io/rev")
        }
    }
}

fn service_account(pod_spec: &Value) -> String {
    pod_spec
        .get("serviceAccountName")
        .or_else(|| pod_spec.get("serviceAccount"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or("default")
        .to_string()
}

struct WorkloadObject<'a> {
    object: &'a Object,
    template_pointer: &'static str,
}

impl Inventory {
    /// Reads pods, workloads, Services, Routes and Ingresses from the Snapshot.
    pub fn build(snapshot: &Snapshot) -> Inventory {
        let mut inventory = Inventory::default();
        let mut workload_objects: HashMap<(String, String, String), WorkloadObject<'_>> =
            HashMap::new();
        for (group, kind, template_pointer) in WORKLOAD_KINDS {
            for object in snapshot.of_kind(group, kind) {
                workload_objects
                    .entry((namespace_of(object), kind.to_string(), object.name.clone()))
                    .or_insert(WorkloadObject {
                        object,
                        template_pointer,
                    });
            }
        }
        let resolve = |namespace: &str, kind: String, name: String| {
            resolve_owner_chain(&workload_objects, namespace, kind, name)
        };

        let mut seen_pods = HashSet::new();
        for pod in snapshot.of_kind("", "Pod") {
            let namespace = namespace_of(pod);
            if !seen_pods.insert((namespace.clone(), pod.name.clone())) {
                continue;
            }
            let phase = pod.value.pointer("/status/phase").and_then(Value::as_str);
            if matches!(phase, Some("Succeeded" | "Failed")) {
                continue;
            }
            // A static pod's mirror is owned by its Node: it is a workload of its own.
            let owner = owner_of(&pod.value).filter(|(kind, _)| kind != "Node");
            let (workload, owners) = match owner {
                Some((kind, name)) => resolve(&namespace, kind, name),
                None => (
                    WorkloadReference {
                        kind: "Pod".to_string(),
                        namespace: namespace.clone(),
                        name: pod.name.clone(),
                    },
                    Vec::new(),
                ),
            };
            let spec = pod.spec();
            let in_mesh = mesh_member(
                &pod.value,
                spec,
                &snapshot.namespace_labels(&namespace),
                false,
            );
            inventory.endpoints.push(Endpoint {
                namespace: namespace.clone(),
                pod_name: pod.name.clone(),
                workload,
                owners,
                labels: pod.labels(),
                ports: container_ports(spec),
                host_network: spec.get("hostNetwork") == Some(&Value::Bool(true)),
                pod_ips: parse_addresses(&pod.value),
                host_ip: pod
                    .value
                    .pointer("/status/hostIP")
                    .and_then(Value::as_str)
                    .and_then(|text| text.parse().ok()),
                service_account: service_account(spec),
                from_template: false,
                in_mesh,
            });
        }

        let mut covered: HashSet<WorkloadReference> = inventory
            .endpoints
            .iter()
            .map(|endpoint| endpoint.workload.clone())
            .collect();
        for (group, kind, _) in WORKLOAD_KINDS {
            for object in snapshot.of_kind(group, kind) {
                let namespace = namespace_of(object);
                let Some(entry) = workload_objects.get(&(
                    namespace.clone(),
                    kind.to_string(),
                    object.name.clone(),
                )) else {
                    continue;
                };
                if !std::ptr::eq(entry.object, object) {
                    continue;
                }
                let (workload, owners) = resolve(&namespace, kind.to_string(), object.name.clone());
                if !covered.insert(workload.clone()) {
                    continue;
                }
                let template = object
                    .value
                    .pointer(entry.template_pointer)
                    .unwrap_or(&Value::Null);
                let pod_spec = template.get("spec").unwrap_or(&Value::Null);
                let in_mesh = mesh_member(
                    template,
                    pod_spec,
                    &snapshot.namespace_labels(&namespace),
                    true,
                );
                inventory.endpoints.push(Endpoint {
                    namespace: namespace.clone(),
                    pod_name: workload.name.clone(),
                    owners,
                    workload,
                    labels: string_map(template.pointer("/metadata/labels")),
                    ports: container_ports(pod_spec),
                    host_network: pod_spec.get("hostNetwork") == Some(&Value::Bool(true)),
                    pod_ips: Vec::new(),
                    host_ip: None,
                    service_account: service_account(pod_spec),
                    from_template: true,
                    in_mesh,
                });
            }
        }

        inventory.endpoints.sort_by(|left, right| {
            (left.workload.display(), &left.pod_name)
                .cmp(&(right.workload.display(), &right.pod_name))
        });
        let mut groups: BTreeMap<String, WorkloadGroup> = BTreeMap::new();
        for (index, endpoint) in inventory.endpoints.iter().enumerate() {
            groups
                .entry(endpoint.workload.display())
                .or_insert_with(|| WorkloadGroup {
                    reference: endpoint.workload.clone(),
                    endpoints: Vec::new(),
                })
                .endpoints
                .push(index);
        }
        for group in groups.values() {
            let first = &inventory.endpoints[group.endpoints[0]];
            let differing = group.endpoints.iter().any(|index| {
                let other = &inventory.endpoints[*index];
                other.labels != first.labels || other.ports != first.ports
            });
            if differing {
                inventory.notes.push(format!(
                    "pods of `{}` differ in labels or ports; its connectivity list uses pod `{}`",
                    group.reference.display(),
                    first.pod_name
                ));
            }
        }
        inventory.workloads = groups.into_values().collect();
        inventory.services = read_services(snapshot);
        inventory.exposures = read_exposures(snapshot);
        inventory.nodes = snapshot
            .of_kind("", "Node")
            .map(|node| Node {
                name: node.name.clone(),
                labels: node.labels(),
                addresses: node
                    .value
                    .pointer("/status/addresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|address| address.get("address")?.as_str()?.parse().ok())
                    .collect(),
            })
            .collect();
        inventory
    }

    pub fn workload(&self, display: &str) -> Option<&WorkloadGroup> {
        self.workloads
            .binary_search_by(|group| group.reference.display().as_str().cmp(display))
            .ok()
            .map(|index| &self.workloads[index])
    }

    /// The endpoint whose pod IP is `address`.
    pub fn endpoint_with_address(&self, address: IpAddr) -> Option<usize> {
        self.endpoints
            .iter()
            .position(|endpoint| endpoint.pod_ips.contains(&address))
    }
}

/// Walks owner references up to the top-level workload: a pod owned by ReplicaSet `web-5d9f`
/// owned by Deployment `web` belongs to `Deployment/web`. When the ReplicaSet (or Job) is not in
/// the Snapshot but a Deployment (or CronJob) whose name prefixes it is, that one is the owner.
fn resolve_owner_chain(
    workload_objects: &HashMap<(String, String, String), WorkloadObject<'_>>,
    namespace: &str,
    kind: String,
    name: String,
) -> (WorkloadReference, Vec<(String, String)>) {
    let mut owners = vec![(kind.clone(), name.clone())];
    let (mut kind, mut name) = (kind, name);
    for _ in 0..8 {
        let key = (namespace.to_string(), kind.clone(), name.clone());
        match workload_objects.get(&key) {
            Some(entry) => match owner_of(&entry.object.value) {
                Some((owner_kind, owner_name)) if is_workload_kind(&owner_kind) => {
                    owners.push((owner_kind.clone(), owner_name.clone()));
                    kind = owner_kind;
                    name = owner_name;
                }
                _ => break,
            },
            None => {
                let parent_kind = match kind.as_str() {
                    "ReplicaSet" => "Deployment",
                    "Job" => "CronJob",
                    _ => break,
                };
                let Some((prefix, _suffix)) = name.rsplit_once('-') else {
                    break;
                };
                let parent_key = (
                    namespace.to_string(),
                    parent_kind.to_string(),
                    prefix.to_string(),
                );
                if workload_objects.contains_key(&parent_key) {
                    owners.push((parent_kind.to_string(), prefix.to_string()));
                    kind = parent_kind.to_string();
                    name = prefix.to_string();
                } else {
                    break;
                }
            }
        }
    }
    (
        WorkloadReference {
            kind,
            namespace: namespace.to_string(),
            name,
        },
        owners,
    )
}

fn read_services(snapshot: &Snapshot) -> Vec<Service> {
    let mut services = Vec::new();
    for object in snapshot.of_kind("", "Service") {
        let spec = object.spec();
        let selector = spec
            .get("selector")
            .filter(|value| value.is_object())
            .map(|value| string_map(Some(value)));
        let mut ports = Vec::new();
        if let Some(items) = spec.get("ports").and_then(Value::as_array) {
            for item in items {
                let Some(port) = item
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|port| u16::try_from(port).ok())
                else {
                    continue;
                };
                let target = item
                    .get("targetPort")
                    .and_then(PortValue::from_json)
                    .unwrap_or(PortValue::Number(port));
                ports.push(ServicePort {
                    name: item.get("name").and_then(Value::as_str).map(str::to_string),
                    port,
                    protocol: item
                        .get("protocol")
                        .and_then(Value::as_str)
                        .and_then(Protocol::parse)
                        .unwrap_or(Protocol::Tcp),
                    target,
                });
            }
        }
        let mut cluster_ips: Vec<IpAddr> = Vec::new();
        for text in spec
            .get("clusterIPs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .chain(spec.get("clusterIP").and_then(Value::as_str))
        {
            if let Ok(address) = text.parse::<IpAddr>()
                && !cluster_ips.contains(&address)
            {
                cluster_ips.push(address);
            }
        }
        services.push(Service {
            namespace: namespace_of(object),
            name: object.name.clone(),
            labels: object.labels(),
            selector,
            ports,
            cluster_ips,
        });
    }
    services
        .sort_by(|left, right| (&left.namespace, &left.name).cmp(&(&right.namespace, &right.name)));
    services
}

fn read_exposures(snapshot: &Snapshot) -> Vec<Exposure> {
    let mut exposures = Vec::new();
    for route in snapshot.of_kind("route.openshift.io", "Route") {
        let spec = route.spec();
        let port = spec
            .pointer("/port/targetPort")
            .and_then(PortValue::from_json);
        let mut targets = Vec::new();
        if let Some(to) = spec.get("to") {
            targets.push(to);
        }
        if let Some(alternates) = spec.get("alternateBackends").and_then(Value::as_array) {
            targets.extend(alternates);
        }
        for target in targets {
            let kind = target
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("Service");
            let Some(service) = target.get("name").and_then(Value::as_str) else {
                continue;
            };
            if kind == "Service" || kind.is_empty() {
                exposures.push(Exposure {
                    kind: "Route".to_string(),
                    namespace: namespace_of(route),
                    name: route.name.clone(),
                    service: service.to_string(),
                    port: port.clone(),
                });
            }
        }
    }
    for group in ["networking.k8s.io", "extensions"] {
        for ingress in snapshot.of_kind(group, "Ingress") {
            let spec = ingress.spec();
            let mut backends: Vec<&Value> = Vec::new();
            if let Some(backend) = spec.get("defaultBackend").or_else(|| spec.get("backend")) {
                backends.push(backend);
            }
            for rule in spec
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for path in rule
                    .pointer("/http/paths")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(backend) = path.get("backend") {
                        backends.push(backend);
                    }
                }
            }
            for backend in backends {
                let (service, port) = match backend.get("service") {
                    Some(service) => (
                        service.get("name").and_then(Value::as_str),
                        service
                            .pointer("/port/number")
                            .or_else(|| service.pointer("/port/name"))
                            .and_then(PortValue::from_json),
                    ),
                    None => (
                        backend.get("serviceName").and_then(Value::as_str),
                        backend.get("servicePort").and_then(PortValue::from_json),
                    ),
                };
                if let Some(service) = service {
                    exposures.push(Exposure {
                        kind: "Ingress".to_string(),
                        namespace: namespace_of(ingress),
                        name: ingress.name.clone(),
                        service: service.to_string(),
                        port,
                    });
                }
            }
        }
    }
    exposures
}

/// The namespace the stand-in ingress controller lives in (np-guard's convention): a pod with no
/// labels there, matched only by rules that admit every namespace.
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";

/// What label selectors can see of a pod: its namespace, its labels and its namespace's labels.
#[derive(Debug, Clone)]
pub struct PodClass {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub namespace_labels: BTreeMap<String, String>,
}

/// Pods grouped by namespace and labels, so selectors are evaluated once per group.
#[derive(Debug, Clone, Default)]
pub struct Classes {
    pub classes: Vec<PodClass>,
    /// The class of each endpoint, by endpoint index.
    pub endpoint_class: Vec<usize>,
    /// The class of the stand-in ingress controller, when Routes or Ingresses exist.
    pub ingress_controller: Option<usize>,
}

impl Classes {
    pub fn build(inventory: &Inventory, snapshot: &Snapshot) -> Classes {
        let mut classes = Classes::default();
        let mut by_key: HashMap<(String, BTreeMap<String, String>), usize> = HashMap::new();
        let mut namespace_labels: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        let mut class_of =
            |classes: &mut Classes, namespace: &str, labels: &BTreeMap<String, String>| {
                let key = (namespace.to_string(), labels.clone());
                if let Some(index) = by_key.get(&key) {
                    return *index;
                }
                let labels_of_namespace = namespace_labels
                    .entry(namespace.to_string())
                    .or_insert_with(|| snapshot.namespace_labels(namespace))
                    .clone();
                classes.classes.push(PodClass {
                    namespace: namespace.to_string(),
                    labels: labels.clone(),
                    namespace_labels: labels_of_namespace,
                });
                let index = classes.classes.len() - 1;
                by_key.insert(key, index);
                index
            };
        for endpoint in &inventory.endpoints {
            let index = class_of(&mut classes, &endpoint.namespace, &endpoint.labels);
            classes.endpoint_class.push(index);
        }
        if !inventory.exposures.is_empty() {
            let index = class_of(&mut classes, INGRESS_CONTROLLER_NAMESPACE, &BTreeMap::new());
            classes.ingress_controller = Some(index);
        }
        classes
    }
}

/// A set of class indices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassSet {
    words: Vec<u64>,
}

impl ClassSet {
    pub fn with_capacity(classes: usize) -> ClassSet {
        ClassSet {
            words: vec![0; classes.div_ceil(64)],
        }
    }

    pub fn insert(&mut self, class: usize) {
        if let Some(word) = self.words.get_mut(class / 64) {
            *word |= 1 << (class % 64);
        }
    }

    pub fn contains(&self, class: usize) -> bool {
        self.words
            .get(class / 64)
            .is_some_and(|word| word & (1 << (class % 64)) != 0)
    }
}

/// The other side of the traffic, as a rule's peers see it.
#[derive(Debug, Clone, Copy)]
pub enum Remote<'a> {
    /// A pod (or the stand-in ingress controller). `class` enables precomputed matching;
    /// `endpoint` gives addresses, service account and ports when the pod is in the inventory.
    Pod {
        namespace: &'a str,
        labels: &'a BTreeMap<String, String>,
        namespace_labels: &'a BTreeMap<String, String>,
        class: Option<usize>,
        endpoint: Option<&'a Endpoint>,
    },
    /// Addresses outside the pod network.
    Address(IpRange),
    /// A host name that is not a Service, with the address it is assumed to resolve to when
    /// potoo evaluates one scenario per address range rules tell apart.
    Host(&'a str, Option<IpRange>),
    /// An address potoo cannot know (a node address that was not recorded).
    Unresolved,
}

/// Whether a rule's peers match the remote side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMatch {
    Yes,
    No,
    /// It depends on what potoo cannot know (the address behind a host name, a node's labels).
    Maybe,
}

impl PeerMatch {
    /// Any of several peers: a sure match wins, then a possible one.
    pub fn or(self, other: PeerMatch) -> PeerMatch {
        match (self, other) {
            (PeerMatch::Yes, _) | (_, PeerMatch::Yes) => PeerMatch::Yes,
            (PeerMatch::Maybe, _) | (_, PeerMatch::Maybe) => PeerMatch::Maybe,
            _ => PeerMatch::No,
        }
    }

    /// All of several requirements.
    pub fn and(self, other: PeerMatch) -> PeerMatch {
        match (self, other) {
            (PeerMatch::No, _) | (_, PeerMatch::No) => PeerMatch::No,
            (PeerMatch::Maybe, _) | (_, PeerMatch::Maybe) => PeerMatch::Maybe,
            _ => PeerMatch::Yes,
        }
    }

    pub fn from_bool(matched: bool) -> PeerMatch {
        if matched {
            PeerMatch::Yes
        } else {
            PeerMatch::No
        }
    }
}

/// A port a rule names: a protocol (`None`: any protocol) and a port, range or port name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub protocol: Option<Protocol>,
    pub port: RulePort,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePort {
    All,
    Range(u16, u16),
    Named(String),
}

/// The connections a list of port rules allows towards `destination` (named ports resolve on
/// its container ports, protocol included; no destination pod: they match nothing), and whether
/// some named port found no match. No port rule: every connection.
pub fn port_rules_connections(
    rules: &[PortRule],
    destination: Option<&Endpoint>,
) -> (ConnectionSet, bool) {
    if rules.is_empty() {
        return (ConnectionSet::all(), false);
    }
    let mut set = ConnectionSet::empty();
    let mut unresolved = false;
    for rule in rules {
        let protocols: &[Protocol] = match &rule.protocol {
            Some(protocol) => std::slice::from_ref(protocol),
            None => &Protocol::ALL,
        };
        match &rule.port {
            RulePort::All => {
                for protocol in protocols {
                    set.union_with(&ConnectionSet::protocol(*protocol));
                }
            }
            RulePort::Range(start, end) => {
                for protocol in protocols {
                    set.union_with(&ConnectionSet::of(*protocol, PortSet::range(*start, *end)));
                }
            }
            RulePort::Named(name) => {
                let mut found = false;
                for protocol in protocols {
                    if let Some(number) =
                        destination.and_then(|pod| pod.named_port(name, *protocol))
                    {
                        set.union_with(&ConnectionSet::of(*protocol, PortSet::single(number)));
                        found = true;
                    }
                }
                unresolved |= !found;
            }
        }
    }
    (set, unresolved)
}

/// A `reach` peer as typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerQuery {
    /// `KIND/NAME` or `NAMESPACE/KIND/NAME`; `kind` is canonical (`Deployment`, `Service`…).
    Object {
        namespace: Option<String>,
        kind: String,
        name: String,
    },
    /// `ns:NAMESPACE`: any pod there.
    Namespace(String),
    /// An IP address or a CIDR.
    Address(IpRange),
    /// A host name: a Service's DNS name, or something outside the cluster.
    Host(String),
}

/// A destination port: a number or a name, and a protocol (TCP unless given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortQuery {
    pub port: PortValue,
    pub protocol: Protocol,
}

/// Kinds a peer may name, by kubectl's full and short names.
pub fn canonical_peer_kind(text: &str) -> Option<&'static str> {
    if let Some(kind) = crate::index::canonical_kind(text) {
        return Some(kind);
    }
    let lowered = text.to_ascii_lowercase();
    Some(match lowered.as_str() {
        "service" | "services" | "svc" => "Service",
        "replicationcontroller" | "replicationcontrollers" | "rc" => "ReplicationController",
        "deploymentconfig" | "deploymentconfigs" | "dc" => "DeploymentConfig",
        _ => return None,
    })
}

/// Parses a source or destination without a port.
pub fn parse_peer(text: &str) -> Result<PeerQuery, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty peer".to_string());
    }
    if let Some(namespace) = text.strip_prefix("ns:") {
        if namespace.is_empty() || namespace.contains('/') {
            return Err(format!("`{text}`: expected `ns:NAMESPACE`"));
        }
        return Ok(PeerQuery::Namespace(namespace.to_string()));
    }
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(range) = IpRange::parse(unbracketed) {
        return Ok(PeerQuery::Address(range));
    }
    let parts: Vec<&str> = text.split('/').collect();
    let (namespace, kind, name) = match parts.as_slice() {
        [kind, name] => (None, *kind, *name),
        [namespace, kind, name] => (Some(namespace.to_string()), *kind, *name),
        [host] if is_host_name(host) => return Ok(PeerQuery::Host(host.to_ascii_lowercase())),
        _ => {
            return Err(format!(
                "`{text}`: expected KIND/NAME, NAMESPACE/KIND/NAME, ns:NAMESPACE, an IP, a CIDR or a host name"
            ));
        }
    };
    let kind = canonical_peer_kind(kind).ok_or_else(|| {
        format!(
            "`{text}`: unknown kind `{kind}` (use pod, deploy, sts, ds, rs, job, cj, rc or svc)"
        )
    })?;
    if name.is_empty() || namespace.as_deref() == Some("") {
        return Err(format!("`{text}`: empty name"));
    }
    let valid = |part: &str| {
        part.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '.' | '_')
        })
    };
    if !valid(name) || !namespace.as_deref().is_none_or(valid) {
        return Err(format!("`{text}`: invalid name"));
    }
    Ok(PeerQuery::Object {
        namespace,
        kind: kind.to_string(),
        name: name.to_string(),
    })
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || character == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Parses `DESTINATION[:PORT[/PROTO]]`; IPv6 addresses with a port need brackets (`[fd00::1]:80`).
pub fn parse_destination(text: &str) -> Result<(PeerQuery, Option<PortQuery>), String> {
    let text = text.trim();
    if let Ok(peer) = parse_peer(text)
        && !matches!(peer, PeerQuery::Host(_))
    {
        return Ok((peer, None));
    }
    let (peer_text, port_text) = if let Some(rest) = text.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((address, port)) => (format!("[{address}]"), Some(port)),
            None => (text.to_string(), None),
        }
    } else {
        match text.rsplit_once(':') {
            Some((peer, port)) if !peer.is_empty() && peer != "ns" => {
                (peer.to_string(), Some(port))
            }
            _ => (text.to_string(), None),
        }
    };
    let peer = parse_peer(&peer_text)?;
    let port = match port_text {
        None => None,
        Some(port_text) => {
            Some(parse_port(port_text).map_err(|problem| format!("`{text}`: {problem}"))?)
        }
    };
    Ok((peer, port))
}

/// `8080`, `8080/udp`, `http`, `dns/UDP`.
pub fn parse_port(text: &str) -> Result<PortQuery, String> {
    let (port_text, protocol_text) = match text.split_once('/') {
        Some((port, protocol)) => (port, Some(protocol)),
        None => (text, None),
    };
    let protocol = match protocol_text {
        None => Protocol::Tcp,
        Some(protocol_text) => Protocol::parse(protocol_text)
            .ok_or_else(|| format!("unknown protocol `{protocol_text}` (use tcp, udp or sctp)"))?,
    };
    let port = match port_text.parse::<u32>() {
        Ok(number) if (1..=65535).contains(&number) => PortValue::Number(number as u16),
        Ok(number) => return Err(format!("port {number} is out of range 1-65535")),
        Err(_) => {
            let valid_name = !port_text.is_empty()
                && port_text.len() <= 15
                && port_text.chars().all(|character| {
                    character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
                })
                && port_text
                    .chars()
                    .any(|character| character.is_ascii_lowercase());
            if !valid_name {
                return Err(format!(
                    "`{port_text}` is neither a port number nor a port name"
                ));
            }
            PortValue::Name(port_text.to_string())
        }
    };
    Ok(PortQuery { port, protocol })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::object_from_value;
    use serde_json::json;

    fn snapshot(objects: Vec<Value>) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for object in objects {
            snapshot.insert(object_from_value(object).unwrap());
        }
        snapshot
    }

    #[test]
    fn pods_belong_to_their_top_level_owner() {
        let snapshot = snapshot(vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a"},
                   "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-5d9f-x", "namespace": "a", "labels": {"app": "web"},
                   "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d9f", "controller": true}]},
                   "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
                   "status": {"podIP": "10.1.0.7"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent-1", "namespace": "a",
                   "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "controller": true}]}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "a"},
                   "spec": {"template": {"metadata": {"labels": {"app": "db"}}, "spec": {"hostNetwork": true}}}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done", "namespace": "a"}, "status": {"phase": "Succeeded"}}),
        ]);
        let inventory = Inventory::build(&snapshot);
        let names: Vec<String> = inventory
            .workloads
            .iter()
            .map(|group| group.reference.display())
            .collect();
        assert_eq!(
            names,
            [
                "a/agent[DaemonSet]",
                "a/db[StatefulSet]",
                "a/web[Deployment]"
            ]
        );
        let web =
            &inventory.endpoints[inventory.workload("a/web[Deployment]").unwrap().endpoints[0]];
        assert!(!web.from_template);
        assert_eq!(web.named_port("http", Protocol::Tcp), Some(8080));
        assert_eq!(web.named_port("http", Protocol::Udp), None);
        assert_eq!(
            inventory.endpoint_with_address("10.1.0.7".parse().unwrap()),
            Some(inventory.workload("a/web[Deployment]").unwrap().endpoints[0])
        );
        let db =
            &inventory.endpoints[inventory.workload("a/db[StatefulSet]").unwrap().endpoints[0]];
        assert!(db.from_template && db.host_network);
    }

    #[test]
    fn peers_parse_like_the_cli_contract() {
        assert_eq!(
            parse_peer("deploy/web").unwrap(),
            PeerQuery::Object {
                namespace: None,
                kind: "Deployment".to_string(),
                name: "web".to_string()
            }
        );
        assert_eq!(
            parse_peer("payments/svc/api").unwrap(),
            PeerQuery::Object {
                namespace: Some("payments".to_string()),
                kind: "Service".to_string(),
                name: "api".to_string()
            }
        );
        assert_eq!(
            parse_peer("ns:payments").unwrap(),
            PeerQuery::Namespace("payments".to_string())
        );
        assert!(matches!(
            parse_peer("10.0.0.0/8").unwrap(),
            PeerQuery::Address(_)
        ));
        assert_eq!(
            parse_peer("api.github.com").unwrap(),
            PeerQuery::Host("api.github.com".to_string())
        );
        assert!(parse_peer("widget/x").is_err());
        assert!(parse_peer("a/b/c/d").is_err());

        let (peer, port) = parse_destination("svc/api:443").unwrap();
        assert!(matches!(peer, PeerQuery::Object { .. }));
        assert_eq!(
            port,
            Some(PortQuery {
                port: PortValue::Number(443),
                protocol: Protocol::Tcp
            })
        );
        let (_, port) = parse_destination("ns:kube-system:dns/udp").unwrap();
        assert_eq!(
            port,
            Some(PortQuery {
                port: PortValue::Name("dns".to_string()),
                protocol: Protocol::Udp
            })
        );
        let (peer, port) = parse_destination("[fd00::1]:53/UDP").unwrap();
        assert!(matches!(peer, PeerQuery::Address(_)));
        assert_eq!(port.unwrap().protocol, Protocol::Udp);
        let (peer, port) = parse_destination("fd00::1").unwrap();
        assert!(matches!(peer, PeerQuery::Address(_)) && port.is_none());
        assert!(parse_destination("deploy/web:0").is_err());
        assert!(parse_destination("deploy/web:80/icmp").is_err());
        assert!(parse_destination("deploy/web:HTTP").is_err());
    }
}
