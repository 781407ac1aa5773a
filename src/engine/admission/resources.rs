//! Resource arithmetic for the LimitRange and ResourceQuota engines: Kubernetes quantities (parsed
//! and printed the way the apiserver prints them), container and pod requests and limits after API
//! defaulting and LimitRanger defaulting, and what each object is charged against a quota
//! (`pods`, `requests.cpu`, `count/deployments.apps`, `services.nodeports`, storage per class…).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::source::{Object, Snapshot};

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// How a quantity prints, as the apiserver keeps it from the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityFormat {
    /// `500m`, `2`, `1k`, `128M`.
    DecimalSi,
    /// `128Mi`, `1Gi`.
    BinarySi,
    /// `1e3`.
    DecimalExponent,
}

/// A Kubernetes resource quantity, exact to the nano unit (the smallest the apiserver keeps).
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Quantity) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Quantity) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// Why a quantity text is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a quantity ({why})")]
pub struct QuantityError {
    pub text: String,
    pub why: &'static str,
}

impl Quantity {
    pub fn zero() -> Quantity {
        Quantity {
            nanos: 0,
            format: QuantityFormat::DecimalSi,
        }
    }

    /// A whole number of units, printed in decimal (`NewQuantity(n, DecimalSI)`).
    pub fn count(units: i64) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
            format: QuantityFormat::DecimalSi,
        }
    }

    /// Parses `500m`, `1.5Gi`, `2`, `1e3` as the apiserver does (values below a nano round up).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let error = |why| QuantityError {
            text: text.to_string(),
            why,
        };
        let trimmed = text.trim();
        let (negative, body) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let number_end = body
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(number_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(error("no number"));
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{whole}{fraction}");
        if digits.len() > 30 {
            return Err(error("too many digits"));
        }
        let mantissa: i128 = digits.parse().map_err(|_| error("no number"))?;
        let fraction_digits =
            i32::try_from(fraction.len()).map_err(|_| error("too many digits"))?;
        let (format, binary_power, decimal_power) = match suffix {
            "" => (QuantityFormat::DecimalSi, 0, 0),
            "n" => (QuantityFormat::DecimalSi, 0, -9),
            "u" => (QuantityFormat::DecimalSi, 0, -6),
            "m" => (QuantityFormat::DecimalSi, 0, -3),
            "k" => (QuantityFormat::DecimalSi, 0, 3),
            "M" => (QuantityFormat::DecimalSi, 0, 6),
            "G" => (QuantityFormat::DecimalSi, 0, 9),
            "T" => (QuantityFormat::DecimalSi, 0, 12),
            "P" => (QuantityFormat::DecimalSi, 0, 15),
            "E" => (QuantityFormat::DecimalSi, 0, 18),
            "Ki" => (QuantityFormat::BinarySi, 1, 0),
            "Mi" => (QuantityFormat::BinarySi, 2, 0),
            "Gi" => (QuantityFormat::BinarySi, 3, 0),
            "Ti" => (QuantityFormat::BinarySi, 4, 0),
            "Pi" => (QuantityFormat::BinarySi, 5, 0),
            "Ei" => (QuantityFormat::BinarySi, 6, 0),
            exponent if exponent.starts_with(['e', 'E']) => {
                let power: i32 = exponent[1..].parse().map_err(|_| error("unknown suffix"))?;
                if !(-40..=40).contains(&power) {
                    return Err(error("exponent out of range"));
                }
                (QuantityFormat::DecimalExponent, 0, power)
            }
            _ => return Err(error("unknown suffix")),
        };
        let too_large = || error("too large");
        let mut numerator = mantissa;
        for _ in 0..binary_power {
            numerator = numerator.checked_mul(1024).ok_or_else(too_large)?;
        }
        let power = decimal_power + 9 - fraction_digits;
        let nanos = if power >= 0 {
            numerator
                .checked_mul(
                    10i128
                        .checked_pow(power.unsigned_abs())
                        .ok_or_else(too_large)?,
                )
                .ok_or_else(too_large)?
        } else {
            let divisor = 10i128
                .checked_pow(power.unsigned_abs())
                .ok_or_else(too_large)?;
            // Round up to the nano, as the apiserver does.
            (numerator + divisor - 1) / divisor
        };
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
            format,
        })
    }

    /// Reads a quantity from a manifest value (a string or a number).
    pub fn from_value(value: &Value) -> Result<Quantity, QuantityError> {
        match value {
            Value::String(text) => Quantity::parse(text),
            Value::Number(number) => Quantity::parse(&number.to_string()),
            other => Err(QuantityError {
                text: other.to_string(),
                why: "not a string or number",
            }),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// The value in thousandths, rounded up (what LimitRanger compares).
    pub fn milli_value(&self) -> i128 {
        let milli = 1_000_000;
        if self.nanos >= 0 {
            (self.nanos + milli - 1) / milli
        } else {
            self.nanos / milli
        }
    }

    /// `self + other`, printed like `self` (as `Quantity.Add` keeps the receiver's format).
    pub fn plus(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: self.format,
        }
    }

    /// `self - other`, printed like `self`.
    pub fn minus(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_sub(other.nanos),
            format: self.format,
        }
    }

    /// `self × times`.
    pub fn times(&self, times: i64) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_mul(i128::from(times)),
            format: self.format,
        }
    }

    /// The value as a float of units (for ratios).
    pub fn as_units(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_UNIT as f64
    }
}

impl std::fmt::Display for Quantity {
    /// The canonical form the apiserver prints (`Quantity.String()`): `1500m`, `2`, `3Gi`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nanos == 0 {
            return formatter.write_str("0");
        }
        let mut format = self.format;
        if format == QuantityFormat::BinarySi
            && (self.nanos.abs() < 1024 * NANOS_PER_UNIT || self.nanos % NANOS_PER_UNIT != 0)
        {
            format = QuantityFormat::DecimalSi;
        }
        if format == QuantityFormat::BinarySi {
            let mut amount = self.nanos / NANOS_PER_UNIT;
            let mut exponent = 0;
            while amount % 1024 == 0 && exponent < 6 {
                amount /= 1024;
                exponent += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exponent];
            return write!(formatter, "{amount}{suffix}");
        }
        let mut amount = self.nanos;
        let mut exponent: i32 = -9;
        while amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        match exponent.rem_euclid(3) {
            1 => {
                amount *= 10;
                exponent -= 1;
            }
            2 => {
                amount *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        let suffix = match (format, exponent) {
            (QuantityFormat::DecimalExponent, 0) => String::new(),
            (QuantityFormat::DecimalExponent, _) => format!("e{exponent}"),
            (_, -9) => "n".to_string(),
            (_, -6) => "u".to_string(),
            (_, -3) => "m".to_string(),
            (_, 0) => String::new(),
            (_, 3) => "k".to_string(),
            (_, 6) => "M".to_string(),
            (_, 9) => "G".to_string(),
            (_, 12) => "T".to_string(),
            (_, 15) => "P".to_string(),
            (_, 18) => "E".to_string(),
            (_, _) => format!("e{exponent}"),
        };
        write!(formatter, "{amount}{suffix}")
    }
}

/// Resource name → quantity, sorted by name (how the apiserver prints resource lists).
pub type ResourceList = BTreeMap<String, Quantity>;

/// A manifest field that is not what the apiserver would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: {problem}")]
pub struct FieldError {
    /// The field in the object's own terms (`spec.containers[0].resources.limits.cpu`).
    pub path: String,
    pub problem: String,
}

/// Reads a resource list (`requests`, `limits`, `overhead`, `hard`…); `path` names it for errors.
pub fn read_list(value: Option<&Value>, path: &str) -> Result<ResourceList, FieldError> {
    let mut list = ResourceList::new();
    let Some(value) = value else {
        return Ok(list);
    };
    let entries = match value {
        Value::Null => return Ok(list),
        Value::Object(entries) => entries,
        _ => {
            return Err(FieldError {
                path: path.to_string(),
                problem: "not a map of quantities".to_string(),
            });
        }
    };
    for (name, quantity) in entries {
        let quantity = Quantity::from_value(quantity).map_err(|error| FieldError {
            path: format!("{path}.{name}"),
            problem: error.to_string(),
        })?;
        list.insert(name.clone(), quantity);
    }
    Ok(list)
}

/// `a + b` per resource (`quota.Add`): names of either, printed like `a`'s.
pub fn add(left: &ResourceList, right: &ResourceList) -> ResourceList {
    let mut sum = left.clone();
    for (name, quantity) in right {
        sum.entry(name.clone())
            .and_modify(|existing| *existing = existing.plus(quantity))
            .or_insert(*quantity);
    }
    sum
}

/// `a - b` per resource of `a`, never below zero (`quota.SubtractWithNonNegativeResult`).
pub fn subtract_non_negative(left: &ResourceList, right: &ResourceList) -> ResourceList {
    left.iter()
        .map(|(name, quantity)| {
            let difference = match right.get(name) {
                Some(other) => quantity.minus(other),
                None => *quantity,
            };
            let difference = if difference.is_negative() {
                Quantity {
                    nanos: 0,
                    format: quantity.format,
                }
            } else {
                difference
            };
            (name.clone(), difference)
        })
        .collect()
}

/// `list × times` per resource.
pub fn multiply(list: &ResourceList, times: i64) -> ResourceList {
    list.iter()
        .map(|(name, quantity)| (name.clone(), quantity.times(times)))
        .collect()
}

/// The entries of `list` whose names are in `names` (`quota.Mask`).
pub fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    names
        .into_iter()
        .filter_map(|name| list.get(name).map(|quantity| (name.clone(), *quantity)))
        .collect()
}

/// `list` without zero entries (`quota.RemoveZeros`).
pub fn remove_zeros(list: &ResourceList) -> ResourceList {
    list.iter()
        .filter(|(_, quantity)| !quantity.is_zero())
        .map(|(name, quantity)| (name.clone(), *quantity))
        .collect()
}

/// `name=value,name=value` sorted by name (the apiserver's `prettyPrint`).
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(name, quantity)| format!("{name}={quantity}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Which list of a pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Regular,
    Init,
    /// An init container with `restartPolicy: Always` (runs beside the regular containers).
    Sidecar,
}

/// One container's resources, after API defaulting (a limit without a request sets the request).
#[derive(Debug, Clone)]
pub struct ContainerResources {
    pub name: String,
    pub kind: ContainerKind,
    /// Field path of the container inside the Pod (`spec.containers[0]`).
    pub path: String,
    pub requests: ResourceList,
    pub limits: ResourceList,
}

/// The parts of a Pod that decide what it is charged and how it is limited.
#[derive(Debug, Clone)]
pub struct PodResources {
    pub containers: Vec<ContainerResources>,
    pub overhead: ResourceList,
    pub active_deadline_seconds: Option<i64>,
    pub priority_class_name: Option<String>,
    pub cross_namespace_affinity: bool,
    /// `Succeeded` or `Failed`: no compute quota is charged.
    pub terminal: bool,
}

impl PodResources {
    /// Reads a Pod (`{spec: …}`) as the apiserver would see it after API defaulting.
    pub fn from_pod(pod: &Value) -> Result<PodResources, FieldError> {
        let spec = pod.get("spec").unwrap_or(&Value::Null);
        let mut containers = Vec::new();
        for (field, is_init) in [("containers", false), ("initContainers", true)] {
            let Some(items) = spec.get(field).and_then(Value::as_array) else {
                continue;
            };
            for (index, container) in items.iter().enumerate() {
                let path = format!("spec.{field}[{index}]");
                let resources = container.get("resources");
                let mut requests = read_list(
                    resources.and_then(|resources| resources.get("requests")),
                    &format!("{path}.resources.requests"),
                )?;
                let limits = read_list(
                    resources.and_then(|resources| resources.get("limits")),
                    &format!("{path}.resources.limits"),
                )?;
                for (name, limit) in &limits {
                    requests.entry(name.clone()).or_insert(*limit);
                }
                let sidecar = is_init
                    && container.get("restartPolicy").and_then(Value::as_str) == Some("Always");
                containers.push(ContainerResources {
                    name: container
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    kind: match (is_init, sidecar) {
                        (false, _) => ContainerKind::Regular,
                        (true, true) => ContainerKind::Sidecar,
                        (true, false) => ContainerKind::Init,
                    },
                    path,
                    requests,
                    limits,
                });
            }
        }
        let overhead = read_list(spec.get("overhead"), "spec.overhead")?;
        let phase = pod.pointer("/status/phase").and_then(Value::as_str);
        Ok(PodResources {
            containers,
            overhead,
            active_deadline_seconds: spec.get("activeDeadlineSeconds").and_then(Value::as_i64),
            priority_class_name: spec
                .get("priorityClassName")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
                .map(str::to_string),
            cross_namespace_affinity: uses_cross_namespace_affinity(spec),
            terminal: matches!(phase, Some("Succeeded" | "Failed")),
        })
    }

    /// The pod's requests as the scheduler and quota sum them: regular containers and sidecars
    /// add up, each init container counts with the sidecars started before it, the larger of the
    /// two wins per resource, then the overhead is added (`resourcehelper.PodRequests`).
    pub fn requests(&self) -> ResourceList {
        let mut total = self.aggregate(|container| &container.requests);
        for (name, quantity) in &self.overhead {
            total
                .entry(name.clone())
                .and_modify(|existing| *existing = existing.plus(quantity))
                .or_insert(*quantity);
        }
        total
    }

    /// The pod's limits, aggregated like the requests; the overhead is added only to resources
    /// that have a limit (`resourcehelper.PodLimits`).
    pub fn limits(&self) -> ResourceList {
        let mut total = self.aggregate(|container| &container.limits);
        for (name, quantity) in &self.overhead {
            if let Some(existing) = total.get_mut(name) {
                *existing = existing.plus(quantity);
            }
        }
        total
    }

    fn aggregate(&self, pick: impl Fn(&ContainerResources) -> &ResourceList) -> ResourceList {
        let mut total = ResourceList::new();
        for container in &self.containers {
            if container.kind == ContainerKind::Regular {
                total = add(&total, pick(container));
            }
        }
        let mut sidecars = ResourceList::new();
        let mut init_peak = ResourceList::new();
        for container in &self.containers {
            let during = match container.kind {
                ContainerKind::Regular => continue,
                ContainerKind::Sidecar => {
                    total = add(&total, pick(container));
                    sidecars = add(&sidecars, pick(container));
                    sidecars.clone()
                }
                ContainerKind::Init => add(pick(container), &sidecars),
            };
            take_max(&mut init_peak, &during);
        }
        take_max(&mut total, &init_peak);
        total
    }

    /// Quality of service `BestEffort`: no container requests or limits cpu or memory.
    pub fn is_best_effort(&self) -> bool {
        self.containers.iter().all(|container| {
            ["cpu", "memory"].iter().all(|name| {
                container.requests.get(*name).is_none_or(Quantity::is_zero)
                    && container.limits.get(*name).is_none_or(Quantity::is_zero)
            })
        })
    }

    /// `activeDeadlineSeconds` set: the quota scope `Terminating`.
    pub fn is_terminating(&self) -> bool {
        self.active_deadline_seconds
            .is_some_and(|seconds| seconds >= 0)
    }
}

/// `maxResourceList`: per resource, the larger of the two.
fn take_max(list: &mut ResourceList, other: &ResourceList) {
    for (name, quantity) in other {
        match list.get(name) {
            Some(existing) if existing >= quantity => {}
            _ => {
                list.insert(name.clone(), *quantity);
            }
        }
    }
}

fn uses_cross_namespace_affinity(spec: &Value) -> bool {
    let cross = |term: &Value| {
        term.get("namespaces")
            .and_then(Value::as_array)
            .is_some_and(|names| !names.is_empty())
            || term
                .get("namespaceSelector")
                .is_some_and(|selector| !selector.is_null())
    };
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let Some(affinity) = spec.pointer(&format!("/affinity/{kind}")) else {
            return false;
        };
        let required = affinity
            .get("requiredDuringSchedulingIgnoredDuringExecution")
            .and_then(Value::as_array)
            .is_some_and(|terms| terms.iter().any(cross));
        let preferred = affinity
            .get("preferredDuringSchedulingIgnoredDuringExecution")
            .and_then(Value::as_array)
            .is_some_and(|terms| {
                terms
                    .iter()
                    .any(|term| term.get("podAffinityTerm").is_some_and(cross))
            });
        required || preferred
    })
}

/// One entry of a LimitRange's `spec.limits`, with the API defaults of Container entries applied
/// (a missing default limit is the max, a missing default request the default limit, else the min).
#[derive(Debug, Clone)]
pub struct LimitRangeEntry {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    pub limit_type: String,
    pub min: ResourceList,
    pub max: ResourceList,
    pub default: ResourceList,
    pub default_request: ResourceList,
    pub max_limit_request_ratio: ResourceList,
}

/// A LimitRange as LimitRanger applies it.
#[derive(Debug, Clone)]
pub struct LimitRangeRules {
    pub name: String,
    pub entries: Vec<LimitRangeEntry>,
}

impl LimitRangeRules {
    pub fn from_object(object: &Object) -> Result<LimitRangeRules, FieldError> {
        let mut entries = Vec::new();
        let limits = object
            .value
            .pointer("/spec/limits")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (index, limit) in limits.iter().enumerate() {
            let path = format!("spec.limits[{index}]");
            let read = |field: &str| read_list(limit.get(field), &format!("{path}.{field}"));
            let mut entry = LimitRangeEntry {
                limit_type: limit
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                min: read("min")?,
                max: read("max")?,
                default: read("default")?,
                default_request: read("defaultRequest")?,
                max_limit_request_ratio: read("maxLimitRequestRatio")?,
            };
            if entry.limit_type == "Container" {
                for (name, quantity) in &entry.max {
                    entry.default.entry(name.clone()).or_insert(*quantity);
                }
                for (name, quantity) in &entry.default {
                    entry
                        .default_request
                        .entry(name.clone())
                        .or_insert(*quantity);
                }
                for (name, quantity) in &entry.min {
                    entry
                        .default_request
                        .entry(name.clone())
                        .or_insert(*quantity);
                }
            }
            entries.push(entry);
        }
        Ok(LimitRangeRules {
            name: object.name.clone(),
            entries,
        })
    }

    /// The default requests and limits of its Container entries (later entries win).
    fn container_defaults(&self) -> (ResourceList, ResourceList) {
        let mut requests = ResourceList::new();
        let mut limits = ResourceList::new();
        for entry in &self.entries {
            if entry.limit_type == "Container" {
                requests.extend(entry.default_request.clone());
                limits.extend(entry.default.clone());
            }
        }
        (requests, limits)
    }
}

/// Every LimitRange of a namespace, by name; those that cannot be read are returned as errors.
pub fn limit_ranges_in(
    snapshot: &Snapshot,
    namespace: &str,
) -> Vec<Result<LimitRangeRules, (String, FieldError)>> {
    let mut ranges: Vec<&Object> = snapshot
        .of_kind("", "LimitRange")
        .filter(|object| object.namespace.as_deref() == Some(namespace))
        .collect();
    ranges.sort_by(|left, right| left.name.cmp(&right.name));
    ranges
        .into_iter()
        .map(|object| {
            LimitRangeRules::from_object(object).map_err(|error| (object.name.clone(), error))
        })
        .collect()
}

/// What one LimitRange filled in on one container.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedDefaults {
    pub limit_range: String,
    pub container: String,
    pub container_kind: ContainerKind,
    /// Field path of the container inside the Pod.
    pub path: String,
    pub requests: ResourceList,
    pub limits: ResourceList,
}

/// Applies each LimitRange's Container defaults in turn, as LimitRanger mutates a Pod: a request
/// or limit the container does not set is filled in. Returns what each range filled in.
pub fn apply_defaults(pod: &mut PodResources, ranges: &[LimitRangeRules]) -> Vec<InjectedDefaults> {
    let mut injected = Vec::new();
    for range in ranges {
        let (default_requests, default_limits) = range.container_defaults();
        if default_requests.is_empty() && default_limits.is_empty() {
            continue;
        }
        for container in &mut pod.containers {
            let mut set_requests = ResourceList::new();
            let mut set_limits = ResourceList::new();
            for (name, quantity) in &default_limits {
                if !container.limits.contains_key(name) {
                    container.limits.insert(name.clone(), *quantity);
                    set_limits.insert(name.clone(), *quantity);
                }
            }
            for (name, quantity) in &default_requests {
                if !container.requests.contains_key(name) {
                    container.requests.insert(name.clone(), *quantity);
                    set_requests.insert(name.clone(), *quantity);
                }
            }
            if !set_requests.is_empty() || !set_limits.is_empty() {
                injected.push(InjectedDefaults {
                    limit_range: range.name.clone(),
                    container: container.name.clone(),
                    container_kind: container.kind,
                    path: container.path.clone(),
                    requests: set_requests,
                    limits: set_limits,
                });
            }
        }
    }
    injected
}

/// What a Pod is charged for each quota resource (`PodUsageFunc`): `count/pods` always; `pods`,
/// `cpu`/`requests.cpu`, `limits.cpu`, memory and ephemeral storage alike, hugepages and extended
/// resources (`requests.nvidia.com/gpu`) unless the Pod is terminal.
pub fn pod_usage(pod: &PodResources) -> ResourceList {
    let mut usage = ResourceList::new();
    usage.insert("count/pods".to_string(), Quantity::count(1));
    if pod.terminal {
        return usage;
    }
    add_compute_usage(&mut usage, &pod.requests(), &pod.limits());
    usage
}

/// `podComputeUsageHelper`: the quota names a set of requests and limits is charged under.
fn add_compute_usage(usage: &mut ResourceList, requests: &ResourceList, limits: &ResourceList) {
    usage.insert("pods".to_string(), Quantity::count(1));
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(request) = requests.get(name) {
            usage.insert(name.to_string(), *request);
            usage.insert(format!("requests.{name}"), *request);
        }
        if let Some(limit) = limits.get(name) {
            usage.insert(format!("limits.{name}"), *limit);
        }
    }
    for (name, request) in requests {
        if name.starts_with("hugepages-") {
            usage.insert(name.clone(), *request);
            usage.insert(format!("requests.{name}"), *request);
        } else if is_extended_resource(name) {
            usage.insert(format!("requests.{name}"), *request);
        }
    }
}

/// A resource name outside `kubernetes.io` with a domain (`nvidia.com/gpu`).
fn is_extended_resource(name: &str) -> bool {
    match name.split_once('/') {
        Some((domain, _)) => {
            !(domain == "kubernetes.io"
                || domain.ends_with(".kubernetes.io")
                || name.starts_with("requests."))
        }
        None => false,
    }
}

/// The quota resources a Pod evaluator tracks, out of a quota's hard names.
pub fn pod_tracks(name: &str) -> bool {
    matches!(
        name,
        "count/pods"
            | "cpu"
            | "memory"
            | "ephemeral-storage"
            | "requests.cpu"
            | "requests.memory"
            | "requests.ephemeral-storage"
            | "limits.cpu"
            | "limits.memory"
            | "limits.ephemeral-storage"
            | "pods"
    ) || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
        || (name.starts_with("requests.") && name.contains('/') && {
            let rest = &name["requests.".len()..];
            is_extended_resource(rest)
        })
}

/// The compute quota names that every container must set when a quota tracks them (a historical
/// rule the apiserver keeps: "must specify limits.cpu for: app").
pub const MUST_SPECIFY: &[&str] = &[
    "cpu",
    "limits.cpu",
    "limits.memory",
    "memory",
    "requests.cpu",
    "requests.memory",
];

/// For each required compute name, the containers that do not set it (`Constraints`), as
/// `must specify limits.memory for: app; requests.cpu for: a,b`; `None` when all do.
pub fn missing_required(pod: &PodResources, required: &[String]) -> Option<String> {
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for container in &pod.containers {
        let mut own = ResourceList::new();
        add_compute_usage(&mut own, &container.requests, &container.limits);
        for name in required {
            if !MUST_SPECIFY.contains(&name.as_str()) || own.contains_key(name) {
                continue;
            }
            let names = missing.entry(name.clone()).or_default();
            if !names.contains(&container.name) {
                names.push(container.name.clone());
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .into_iter()
        .map(|(name, mut containers)| {
            containers.sort();
            format!("{name} for: {}", containers.join(","))
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

/// What a Service is charged: `services`, `count/services`, `services.loadbalancers` (type
/// LoadBalancer), `services.nodeports` (one per port of a NodePort or LoadBalancer Service, only
/// explicit node ports when `allocateLoadBalancerNodePorts: false`).
pub fn service_usage(service: &Value) -> ResourceList {
    let spec = service.get("spec").unwrap_or(&Value::Null);
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let service_type = spec.get("type").and_then(Value::as_str).unwrap_or_default();
    let mut usage = ResourceList::new();
    usage.insert("count/services".to_string(), Quantity::count(1));
    usage.insert("services".to_string(), Quantity::count(1));
    let count = |number: usize| Quantity::count(i64::try_from(number).unwrap_or(i64::MAX));
    let (load_balancers, node_ports) = match service_type {
        "NodePort" => (0, ports.len()),
        "LoadBalancer" => {
            let explicit_only =
                spec.get("allocateLoadBalancerNodePorts") == Some(&Value::Bool(false));
            let node_ports = if explicit_only {
                ports
                    .iter()
                    .filter(|port| port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0)
                    .count()
            } else {
                ports.len()
            };
            (1, node_ports)
        }
        _ => (0, 0),
    };
    usage.insert("services.loadbalancers".to_string(), count(load_balancers));
    usage.insert("services.nodeports".to_string(), count(node_ports));
    usage
}

/// The StorageClass a claim would get: its own, the beta annotation, else the cluster's default
/// class (the DefaultStorageClass admission plugin runs before quota).
pub fn claim_storage_class(claim: &Value, cluster: &Snapshot) -> Option<String> {
    if let Some(class) = claim.pointer("/spec/storageClassName") {
        return class.as_str().map(str::to_string);
    }
    if let Some(class) = claim
        .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(Value::as_str)
    {
        return Some(class.to_string());
    }
    cluster
        .of_kind("storage.k8s.io", "StorageClass")
        .filter(|class| {
            class
                .annotations()
                .get("storageclass.kubernetes.io/is-default-class")
                == Some(&"true".to_string())
        })
        .map(|class| class.name.clone())
        .max()
}

/// What a PersistentVolumeClaim is charged: its count and storage, overall and for its class
/// (`gold.storageclass.storage.k8s.io/requests.storage`).
pub fn claim_usage(claim: &Value, cluster: &Snapshot) -> Result<ResourceList, FieldError> {
    let mut usage = ResourceList::new();
    usage.insert(
        "count/persistentvolumeclaims".to_string(),
        Quantity::count(1),
    );
    usage.insert("persistentvolumeclaims".to_string(), Quantity::count(1));
    let class = claim_storage_class(claim, cluster).filter(|class| !class.is_empty());
    if let Some(class) = &class {
        usage.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            Quantity::count(1),
        );
    }
    let requests = read_list(
        claim.pointer("/spec/resources/requests"),
        "spec.resources.requests",
    )?;
    if let Some(storage) = requests.get("storage") {
        usage.insert("requests.storage".to_string(), *storage);
        if let Some(class) = &class {
            usage.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                *storage,
            );
        }
    }
    Ok(usage)
}

/// The plural resource name of a kind (`Deployment` → `deployments`, `Ingress` → `ingresses`,
/// `NetworkPolicy` → `networkpolicies`).
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{lower}s")
}

/// The resource as the apiserver names it in errors: `pods`, `deployments.apps`.
pub fn qualified_resource(group: &str, kind: &str) -> String {
    if group.is_empty() {
        plural(kind)
    } else {
        format!("{}.{group}", plural(kind))
    }
}

/// What creating an object of a kind without its own evaluator is charged: `count/<resource>`
/// and, for the kinds quota has always counted, their legacy name (`configmaps`, `secrets`…).
pub fn object_count_usage(group: &str, kind: &str) -> ResourceList {
    let mut usage = ResourceList::new();
    let resource = qualified_resource(group, kind);
    usage.insert(format!("count/{resource}"), Quantity::count(1));
    if group.is_empty()
        && matches!(
            kind,
            "ConfigMap" | "Secret" | "ReplicationController" | "ResourceQuota"
        )
    {
        usage.insert(resource, Quantity::count(1));
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_print_like_the_apiserver() {
        let cases = [
            ("500m", "500m"),
            ("2", "2"),
            ("1000m", "1"),
            ("1.5", "1500m"),
            ("0.1", "100m"),
            ("128Mi", "128Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("512", "512"),
            ("1e3", "1e3"),
            ("1000", "1k"),
            ("100M", "100M"),
            ("0", "0"),
            ("1n", "1n"),
            ("0.0000000001", "1n"),
        ];
        for (text, printed) in cases {
            assert_eq!(
                Quantity::parse(text).unwrap().to_string(),
                printed,
                "{text}"
            );
        }
        let sum = Quantity::parse("1536Mi")
            .unwrap()
            .plus(&Quantity::parse("1536Mi").unwrap());
        assert_eq!(sum.to_string(), "3Gi");
        assert_eq!(
            Quantity::parse("1500m")
                .unwrap()
                .plus(&Quantity::parse("800m").unwrap())
                .to_string(),
            "2300m"
        );
        assert!(Quantity::parse("1Gi").unwrap() > Quantity::parse("1000Mi").unwrap());
        assert!(Quantity::parse("abc").is_err());
        assert!(Quantity::parse("1Xi").is_err());
        assert!(Quantity::parse("").is_err());
    }

    #[test]
    fn pod_requests_take_init_containers_sidecars_and_overhead_into_account() {
        let pod = json!({"spec": {
        "overhead": {"cpu": "50m"},
        "initContainers": [
            {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "migrate", "resources": {"requests": {"cpu": "2"}, "limits": {"memory": "1Gi"}}}
        ],
        "containers": [
            {"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m"}}}
        ]}});
        let resources = PodResources::from_pod(&pod).unwrap();
        let requests = resources.requests();
        // regular 750m + sidecar 100m = 850m < init 2 + sidecar 100m = 2100m; + overhead 50m.
        assert_eq!(requests["cpu"].to_string(), "2150m");
        assert_eq!(requests["memory"].to_string(), "1Gi");
        let limits = resources.limits();
        assert_eq!(limits["cpu"].to_string(), "550m");
        assert!(!resources.is_best_effort());
    }

    #[test]
    fn defaults_fill_only_what_is_missing_and_say_so() {
        let range = crate::source::snapshot::object_from_value(json!({
            "apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "defaults", "namespace": "a"},
            "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"},
                "defaultRequest": {"memory": "64Mi"}}]}}))
        .unwrap();
        let rules = LimitRangeRules::from_object(&range).unwrap();
        let mut pod = PodResources::from_pod(&json!({"spec": {"containers": [
            {"name": "app", "resources": {"requests": {"memory": "32Mi"}}}]}}))
        .unwrap();
        let injected = apply_defaults(&mut pod, &[rules]);
        assert_eq!(injected.len(), 1);
        assert_eq!(pretty(&injected[0].limits), "cpu=1");
        assert_eq!(pretty(&injected[0].requests), "cpu=1");
        assert_eq!(pod.containers[0].requests["memory"].to_string(), "32Mi");
    }

    #[test]
    fn services_claims_and_other_kinds_are_counted() {
        let service =
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            pretty(&service_usage(&service)),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=2"
        );
        let claim = json!({"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "10Gi"}}}});
        let usage = claim_usage(&claim, &Snapshot::new(Default::default())).unwrap();
        assert_eq!(
            usage["gold.storageclass.storage.k8s.io/requests.storage"].to_string(),
            "10Gi"
        );
        assert_eq!(
            pretty(&object_count_usage("apps", "Deployment")),
            "count/deployments.apps=1"
        );
        assert_eq!(
            pretty(&object_count_usage("", "ConfigMap")),
            "configmaps=1,count/configmaps=1"
        );
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("Ingress"), "ingresses");
        assert!(pod_tracks("requests.nvidia.com/gpu"));
        assert!(!pod_tracks("requests.storage"));
    }

    #[test]
    fn missing_compute_requests_are_listed_per_resource() {
        let pod = PodResources::from_pod(&json!({"spec": {"containers": [
            {"name": "b", "resources": {"requests": {"cpu": "1"}}},
            {"name": "a"}]}}))
        .unwrap();
        assert_eq!(
            missing_required(
                &pod,
                &[
                    "limits.memory".to_string(),
                    "requests.cpu".to_string(),
                    "pods".to_string()
                ]
            ),
            Some("must specify limits.memory for: a,b; requests.cpu for: a".to_string())
        );
    }
}
