//! Pod Security Standards as the apiserver's `PodSecurity` admission plugin enforces them: every
//! baseline and restricted check of policy versions v1.0 to v1.37, with the upstream check IDs,
//! version revisions, restricted-over-baseline overrides and the exact `reason (detail)` texts.
//!
//! Semantics follow `k8s.io/pod-security-admission` (policy/check_*.go, registry.go, api/helpers.go):
//! a level:version resolves, per check, to the newest revision whose minimum version is at or
//! below it (`latest` and versions above the newest revision resolve to the newest); restricted is
//! every baseline check minus those a restricted check overrides, plus the restricted checks;
//! results are ordered baseline IDs first, then restricted IDs, each sorted bytewise.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// The newest policy version any check has a revision for (`sysctls` v1.37); `latest` means it.
pub const LATEST_MINOR: u64 = 37;

/// The namespace label prefix of the PodSecurity plugin.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// `privileged`, `baseline` or `restricted`, exactly (labels are case-sensitive).
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A policy version: `latest` or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    Latest,
    Minor(u64),
}

impl PolicyVersion {
    /// `latest`, or `v1.<minor>` without leading zeros (the apiserver's `^v1\.([0-9]|[1-9][0-9]*)$`).
    pub fn parse(text: &str) -> Option<PolicyVersion> {
        if text == "latest" {
            return Some(PolicyVersion::Latest);
        }
        let digits = text.strip_prefix("v1.")?;
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !well_formed {
            return None;
        }
        digits.parse().ok().map(PolicyVersion::Minor)
    }

    /// The minor version the checks are resolved at: versions past the newest revision (and
    /// `latest`) resolve to the newest.
    pub fn effective_minor(self) -> u64 {
        match self {
            PolicyVersion::Latest => LATEST_MINOR,
            PolicyVersion::Minor(minor) => minor.min(LATEST_MINOR),
        }
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyVersion::Latest => formatter.write_str("latest"),
            PolicyVersion::Minor(minor) => write!(formatter, "v1.{minor}"),
        }
    }
}

/// A level at a version, printed as the apiserver prints it: `restricted:latest`, `baseline:v1.28`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: PolicyVersion,
}

impl LevelVersion {
    pub fn new(level: Level, version: PolicyVersion) -> LevelVersion {
        LevelVersion { level, version }
    }

    /// Whether two level:versions evaluate the same checks (`latest` equals the newest minor).
    pub fn same_checks(&self, other: &LevelVersion) -> bool {
        self.level == other.level
            && (self.level == Level::Privileged
                || self.version.effective_minor() == other.version.effective_minor())
    }
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.level, self.version)
    }
}

/// The three modes of the plugin, each set by a namespace label pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Enforce,
    Audit,
    Warn,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Enforce, Mode::Audit, Mode::Warn];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
        }
    }

    /// `pod-security.kubernetes.io/enforce`.
    pub fn level_label(self) -> String {
        format!("{LABEL_PREFIX}{}", self.as_str())
    }

    /// `pod-security.kubernetes.io/enforce-version`.
    pub fn version_label(self) -> String {
        format!("{LABEL_PREFIX}{}-version", self.as_str())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An invalid PodSecurity namespace label, as the apiserver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    pub mode: Mode,
    pub label: String,
    pub value: String,
    pub message: String,
    /// What the apiserver evaluates instead.
    pub fallback: String,
}

impl fmt::Display for LabelError {
    /// `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of …`
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "metadata.labels[{}]: Invalid value: {}: {}",
            self.label,
            go_quote(&self.value),
            self.message
        )
    }
}

/// The policy a namespace's labels resolve to, mode by mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
    /// Which modes a label set (the others come from the apiserver's configured defaults).
    pub labelled: BTreeSet<Mode>,
    pub errors: Vec<LabelError>,
}

impl NamespacePolicy {
    /// Resolves the labels like the apiserver's `PolicyToEvaluate`, on top of the default policy
    /// (`privileged:latest` unless the apiserver's AdmissionConfiguration says otherwise). An
    /// invalid enforce level falls back to `restricted` (fail closed), an invalid audit or warn
    /// level to `privileged` (fail open), an invalid version to `latest`.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> NamespacePolicy {
        let default = LevelVersion::new(Level::Privileged, PolicyVersion::Latest);
        let mut policy = NamespacePolicy {
            enforce: default,
            audit: default,
            warn: default,
            labelled: BTreeSet::new(),
            errors: Vec::new(),
        };
        for mode in Mode::ALL {
            let mut resolved = default;
            let level_label = mode.level_label();
            if let Some(text) = labels.get(&level_label) {
                policy.labelled.insert(mode);
                resolved.level = match Level::parse(text) {
                    Some(level) => level,
                    None => {
                        let fallback = if mode == Mode::Enforce {
                            Level::Restricted
                        } else {
                            Level::Privileged
                        };
                        policy.errors.push(LabelError {
                            mode,
                            label: level_label,
                            value: text.clone(),
                            message: "must be one of privileged, baseline, restricted".to_string(),
                            fallback: fallback.as_str().to_string(),
                        });
                        fallback
                    }
                };
            }
            let version_label = mode.version_label();
            if let Some(text) = labels.get(&version_label) {
                policy.labelled.insert(mode);
                resolved.version = match PolicyVersion::parse(text) {
                    Some(version) => version,
                    None => {
                        policy.errors.push(LabelError {
                            mode,
                            label: version_label,
                            value: text.clone(),
                            message: "must be \"latest\" or \"v1.x\"".to_string(),
                            fallback: "latest".to_string(),
                        });
                        PolicyVersion::Latest
                    }
                };
            }
            match mode {
                Mode::Enforce => policy.enforce = resolved,
                Mode::Audit => policy.audit = resolved,
                Mode::Warn => policy.warn = resolved,
            }
        }
        policy
    }

    pub fn for_mode(&self, mode: Mode) -> LevelVersion {
        match mode {
            Mode::Enforce => self.enforce,
            Mode::Audit => self.audit,
            Mode::Warn => self.warn,
        }
    }
}

/// The pod as the checks see it: its metadata and spec (either may be `null`).
#[derive(Debug, Clone, Copy)]
pub struct PodView<'a> {
    pub metadata: &'a Value,
    pub spec: &'a Value,
}

impl<'a> PodView<'a> {
    /// A Pod object (`metadata` and `spec` at the top).
    pub fn of_pod(pod: &'a Value) -> PodView<'a> {
        PodView {
            metadata: pod.get("metadata").unwrap_or(&Value::Null),
            spec: pod.get("spec").unwrap_or(&Value::Null),
        }
    }

    fn annotations(&self) -> BTreeMap<&'a str, &'a str> {
        let mut annotations = BTreeMap::new();
        if let Some(Value::Object(entries)) = self.metadata.get("annotations") {
            for (key, value) in entries {
                if let Some(text) = value.as_str() {
                    annotations.insert(key.as_str(), text);
                }
            }
        }
        annotations
    }

    fn pod_security_context(&self) -> Option<&'a Value> {
        present(self.spec.get("securityContext"))
    }

    /// Init containers, containers, then ephemeral containers (the plugin's visiting order),
    /// each with its path (`spec.initContainers[0]`).
    fn containers(&self) -> Vec<Container<'a>> {
        let mut found = Vec::new();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            if let Some(Value::Array(items)) = self.spec.get(list) {
                for (index, item) in items.iter().enumerate() {
                    found.push(Container {
                        name: item.get("name").and_then(Value::as_str).unwrap_or_default(),
                        path: format!("spec.{list}[{index}]"),
                        value: item,
                    });
                }
            }
        }
        found
    }

    fn is_windows(&self) -> bool {
        self.spec.pointer("/os/name").and_then(Value::as_str) == Some("windows")
    }

    /// `hostUsers: false`: the pod runs in a user namespace (KEP-127).
    fn in_user_namespace(&self) -> bool {
        self.spec.get("hostUsers") == Some(&Value::Bool(false))
    }
}

struct Container<'a> {
    name: &'a str,
    path: String,
    value: &'a Value,
}

impl<'a> Container<'a> {
    fn security_context(&self) -> Option<&'a Value> {
        present(self.value.get("securityContext"))
    }

    fn security_field(&self, field: &str) -> Option<&'a Value> {
        self.security_context()
            .and_then(|context| present(context.get(field)))
    }
}

/// `Some` only for a value that is there and not `null` (Go's non-nil pointer).
fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|value| !value.is_null())
}

fn is_true(value: Option<&Value>) -> bool {
    value == Some(&Value::Bool(true))
}

/// A string field, `""` when absent (Go's zero value).
fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// One failed check: the check ID, the apiserver's reason and detail, and the fields at fault
/// (paths relative to the Pod: `spec.containers[0].securityContext.privileged`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: &'static str,
    pub reason: String,
    pub detail: String,
    pub field_paths: Vec<String>,
}

impl Violation {
    /// `reason (detail)`, or the reason alone when there is no detail.
    pub fn text(&self) -> String {
        if self.detail.is_empty() {
            self.reason.clone()
        } else {
            format!("{} ({})", self.reason, self.detail)
        }
    }
}

/// The apiserver's aggregated detail: every failed check's `reason (detail)`, comma-separated.
pub fn forbidden_detail(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(Violation::text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the apiserver answers a Pod create rejected by enforce mode. `name` is the Pod's name,
/// or its `generateName` prefix for Pods a controller creates.
pub fn enforce_message(
    name: &str,
    level_version: &LevelVersion,
    violations: &[Violation],
) -> String {
    format!(
        "pods \"{name}\" is forbidden: violates PodSecurity \"{level_version}\": {}",
        forbidden_detail(violations)
    )
}

/// The warning (warn mode) or audit annotation (audit mode) text.
pub fn would_violate_message(level_version: &LevelVersion, violations: &[Violation]) -> String {
    format!(
        "would violate PodSecurity \"{level_version}\": {}",
        forbidden_detail(violations)
    )
}

/// A check's failure before the check ID is attached.
struct Outcome {
    reason: String,
    detail: String,
    field_paths: Vec<String>,
}

type CheckFunction = fn(&PodView) -> Option<Outcome>;

struct VersionedCheck {
    minimum_minor: u64,
    check: CheckFunction,
    /// Baseline check IDs this restricted revision replaces.
    overrides: &'static [&'static str],
}

/// One check of the standard, with its revisions by policy version.
struct Check {
    id: &'static str,
    level: Level,
    versions: &'static [VersionedCheck],
}

const fn revision(minimum_minor: u64, check: CheckFunction) -> VersionedCheck {
    VersionedCheck {
        minimum_minor,
        check,
        overrides: &[],
    }
}

const fn overriding(
    minimum_minor: u64,
    check: CheckFunction,
    overrides: &'static [&'static str],
) -> VersionedCheck {
    VersionedCheck {
        minimum_minor,
        check,
        overrides,
    }
}

/// Every check, with the versions each revision starts at.
const CHECKS: &[Check] = &[
    // Baseline.
    Check {
        id: "appArmorProfile",
        level: Level::Baseline,
        versions: &[revision(0, app_armor_profile)],
    },
    Check {
        id: "capabilities_baseline",
        level: Level::Baseline,
        versions: &[revision(0, capabilities_baseline)],
    },
    Check {
        id: "hostNamespaces",
        level: Level::Baseline,
        versions: &[revision(0, host_namespaces)],
    },
    Check {
        id: "hostPathVolumes",
        level: Level::Baseline,
        versions: &[revision(0, host_path_volumes)],
    },
    Check {
        id: "hostPorts",
        level: Level::Baseline,
        versions: &[revision(0, host_ports)],
    },
    Check {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        versions: &[revision(34, host_probes_and_host_lifecycle)],
    },
    Check {
        id: "privileged",
        level: Level::Baseline,
        versions: &[revision(0, privileged)],
    },
    Check {
        id: "procMount",
        level: Level::Baseline,
        versions: &[
            revision(0, proc_mount),
            revision(35, proc_mount_unless_user_namespace),
        ],
    },
    Check {
        id: "seLinuxOptions",
        level: Level::Baseline,
        versions: &[
            revision(0, se_linux_options_1_0),
            revision(31, se_linux_options_1_31),
        ],
    },
    Check {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        versions: &[
            revision(0, seccomp_profile_baseline_annotations),
            revision(19, seccomp_profile_baseline_fields),
        ],
    },
    Check {
        id: "sysctls",
        level: Level::Baseline,
        versions: &[
            revision(0, sysctls_1_0),
            revision(27, sysctls_1_27),
            revision(29, sysctls_1_29),
            revision(32, sysctls_1_32),
            revision(37, sysctls_1_37),
        ],
    },
    Check {
        id: "windowsHostProcess",
        level: Level::Baseline,
        versions: &[revision(0, windows_host_process)],
    },
    // Restricted.
    Check {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        versions: &[
            revision(8, allow_privilege_escalation),
            revision(25, allow_privilege_escalation_unless_windows),
        ],
    },
    Check {
        id: "capabilities_restricted",
        level: Level::Restricted,
        versions: &[
            overriding(22, capabilities_restricted, &["capabilities_baseline"]),
            overriding(
                25,
                capabilities_restricted_unless_windows,
                &["capabilities_baseline"],
            ),
        ],
    },
    Check {
        id: "procMount_restricted",
        level: Level::Restricted,
        versions: &[overriding(35, proc_mount, &["procMount"])],
    },
    Check {
        id: "restrictedVolumes",
        level: Level::Restricted,
        versions: &[overriding(0, restricted_volumes, &["hostPathVolumes"])],
    },
    Check {
        id: "runAsNonRoot",
        level: Level::Restricted,
        versions: &[
            revision(0, run_as_non_root),
            revision(35, run_as_non_root_unless_user_namespace),
        ],
    },
    Check {
        id: "runAsUser",
        level: Level::Restricted,
        versions: &[
            revision(23, run_as_user),
            revision(35, run_as_user_unless_user_namespace),
        ],
    },
    Check {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        versions: &[
            overriding(19, seccomp_profile_restricted, &["seccompProfile_baseline"]),
            overriding(
                25,
                seccomp_profile_restricted_unless_windows,
                &["seccompProfile_baseline"],
            ),
        ],
    },
];

/// Every check ID the standard defines (at any version).
pub fn check_ids() -> Vec<&'static str> {
    CHECKS.iter().map(|check| check.id).collect()
}

/// The checks a level:version runs, in the order the apiserver reports them.
fn resolved_checks(level_version: &LevelVersion) -> Vec<(&'static str, CheckFunction)> {
    if level_version.level == Level::Privileged {
        return Vec::new();
    }
    let minor = level_version.version.effective_minor();
    let newest_revision = |check: &'static Check| {
        check
            .versions
            .iter()
            .rev()
            .find(|revision| revision.minimum_minor <= minor)
            .map(|revision| (check.id, revision))
    };
    let mut baseline: Vec<(&'static str, &'static VersionedCheck)> = CHECKS
        .iter()
        .filter(|check| check.level == Level::Baseline)
        .filter_map(newest_revision)
        .collect();
    let mut restricted: Vec<(&'static str, &'static VersionedCheck)> =
        if level_version.level == Level::Restricted {
            CHECKS
                .iter()
                .filter(|check| check.level == Level::Restricted)
                .filter_map(newest_revision)
                .collect()
        } else {
            Vec::new()
        };
    let overridden: BTreeSet<&str> = restricted
        .iter()
        .flat_map(|(_, revision)| revision.overrides.iter().copied())
        .collect();
    baseline.retain(|(id, _)| !overridden.contains(id));
    baseline.sort_by_key(|(id, _)| *id);
    restricted.sort_by_key(|(id, _)| *id);
    baseline
        .into_iter()
        .chain(restricted)
        .map(|(id, revision)| (id, revision.check))
        .collect()
}

/// The IDs of the checks a level:version runs, in report order.
pub fn check_ids_for(level_version: &LevelVersion) -> Vec<&'static str> {
    resolved_checks(level_version)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// The restricted check that replaces a baseline check at this level:version (`restrictedVolumes`
/// for `hostPathVolumes`…), if any; check IDs compare case-insensitively.
pub fn replaced_by(level_version: &LevelVersion, check_id: &str) -> Option<&'static str> {
    if level_version.level != Level::Restricted {
        return None;
    }
    let minor = level_version.version.effective_minor();
    CHECKS
        .iter()
        .filter(|check| check.level == Level::Restricted)
        .find_map(|check| {
            let revision = check
                .versions
                .iter()
                .rev()
                .find(|revision| revision.minimum_minor <= minor)?;
            revision
                .overrides
                .iter()
                .any(|overridden| overridden.eq_ignore_ascii_case(check_id))
                .then_some(check.id)
        })
}

/// Evaluates a pod at a level:version: the failed checks, in the order the apiserver lists them.
pub fn evaluate(level_version: &LevelVersion, pod: &PodView) -> Vec<Violation> {
    resolved_checks(level_version)
        .into_iter()
        .filter_map(|(id, check)| {
            check(pod).map(|outcome| Violation {
                check: id,
                reason: outcome.reason,
                detail: outcome.detail,
                field_paths: outcome.field_paths,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Message helpers, as the plugin formats them.

fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

/// `"a", "b"`: each item in double quotes, unescaped, comma-separated.
fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|item| format!("\"{}\"", item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `%q` for a string: double-quoted with backslash escapes.
pub fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\u{b}' => quoted.push_str("\\v"),
            control if (control as u32) < 0x20 || control as u32 == 0x7f => {
                quoted.push_str(&format!("\\x{:02x}", control as u32));
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

fn failed(
    reason: impl Into<String>,
    detail: impl Into<String>,
    field_paths: Vec<String>,
) -> Option<Outcome> {
    Some(Outcome {
        reason: reason.into(),
        detail: detail.into(),
        field_paths,
    })
}

// ---------------------------------------------------------------------------------------------
// Baseline checks.

/// `hostNamespaces`: hostNetwork, hostPID and hostIPC must be unset or false.
fn host_namespaces(pod: &PodView) -> Option<Outcome> {
    let mut set = Vec::new();
    let mut paths = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(pod.spec.get(field)) {
            set.push(format!("{field}=true"));
            paths.push(format!("spec.{field}"));
        }
    }
    if set.is_empty() {
        return None;
    }
    failed("host namespaces", set.join(", "), paths)
}

/// `privileged`: no container may set `securityContext.privileged=true`.
fn privileged(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        if is_true(container.security_field("privileged")) {
            names.push(container.name.to_string());
            paths.push(format!("{}.securityContext.privileged", container.path));
        }
    }
    if names.is_empty() {
        return None;
    }
    failed(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&names)
        ),
        paths,
    )
}

const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capability_list<'a>(container: &Container<'a>, field: &str) -> Vec<(usize, String)> {
    match container
        .security_field("capabilities")
        .and_then(|capabilities| capabilities.get(field))
    {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| (index, text_of(Some(item))))
            .collect(),
        _ => Vec::new(),
    }
}

/// `capabilities_baseline`: only the default capabilities may be added.
fn capabilities_baseline(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut forbidden = BTreeSet::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        if container.security_field("capabilities").is_none() {
            continue;
        }
        let mut valid = true;
        for (index, capability) in capability_list(&container, "add") {
            if !BASELINE_CAPABILITIES.contains(&capability.as_str()) {
                valid = false;
                paths.push(format!(
                    "{}.securityContext.capabilities.add[{index}]",
                    container.path
                ));
                forbidden.insert(capability);
            }
        }
        if !valid {
            names.push(container.name.to_string());
        }
    }
    if names.is_empty() {
        return None;
    }
    let forbidden: Vec<String> = forbidden.into_iter().collect();
    failed(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&names),
            join_quote(&forbidden)
        ),
        paths,
    )
}

fn volumes<'a>(pod: &PodView<'a>) -> Vec<(usize, &'a Value)> {
    match pod.spec.get("volumes") {
        Some(Value::Array(items)) => items.iter().enumerate().collect(),
        _ => Vec::new(),
    }
}

/// `hostPathVolumes`: no hostPath volumes.
fn host_path_volumes(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for (index, volume) in volumes(pod) {
        if present(volume.get("hostPath")).is_some() {
            names.push(text_of(volume.get("name")));
            paths.push(format!("spec.volumes[{index}].hostPath"));
        }
    }
    if names.is_empty() {
        return None;
    }
    failed(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        paths,
    )
}

/// `hostPorts`: no container port may set a hostPort.
fn host_ports(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut ports = BTreeSet::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        let mut valid = true;
        if let Some(Value::Array(items)) = container.value.get("ports") {
            for (index, port) in items.iter().enumerate() {
                let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
                if host_port != 0 {
                    valid = false;
                    ports.insert(host_port.to_string());
                    paths.push(format!("{}.ports[{index}].hostPort", container.path));
                }
            }
        }
        if !valid {
            names.push(container.name.to_string());
        }
    }
    if names.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    failed(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&names),
            pluralize("uses", "use", names.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        paths,
    )
}

const APP_ARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_app_armor_type(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

fn allowed_app_armor_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

/// The pod and container `securityContext.<field>.type` values that `allowed` rejects: who set
/// them ("pod", "container ..."), the rejected types, and their paths.
fn disallowed_profile_types(
    pod: &PodView,
    field: &str,
    allowed: fn(&str) -> bool,
) -> (Vec<String>, BTreeSet<String>, Vec<String>) {
    let mut setters = Vec::new();
    let mut bad_values = BTreeSet::new();
    let mut paths = Vec::new();
    if let Some(profile) = pod
        .pod_security_context()
        .and_then(|context| present(context.get(field)))
    {
        let profile_type = text_of(profile.get("type"));
        if !allowed(&profile_type) {
            setters.push("pod".to_string());
            bad_values.insert(profile_type);
            paths.push(format!("spec.securityContext.{field}.type"));
        }
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some(profile) = container.security_field(field) {
            let profile_type = text_of(profile.get("type"));
            if !allowed(&profile_type) {
                names.push(container.name.to_string());
                bad_values.insert(profile_type);
                paths.push(format!("{}.securityContext.{field}.type", container.path));
            }
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    (setters, bad_values, paths)
}

/// `appArmorProfile`: the appArmorProfile fields and the beta annotations may only select the
/// runtime default or a localhost profile.
fn app_armor_profile(pod: &PodView) -> Option<Outcome> {
    let (mut setters, bad_values, mut paths) =
        disallowed_profile_types(pod, "appArmorProfile", allowed_app_armor_type);
    let mut bad_values: Vec<String> = bad_values.into_iter().collect();
    let mut forbidden_annotations = Vec::new();
    for (key, value) in pod.annotations() {
        if key.starts_with(APP_ARMOR_ANNOTATION_PREFIX) && !allowed_app_armor_annotation(value) {
            forbidden_annotations.push(format!("{key}={}", go_quote(value)));
            paths.push(format!("metadata.annotations[{key}]"));
        }
    }
    if !forbidden_annotations.is_empty() {
        forbidden_annotations.sort();
        setters
            .push(pluralize("annotation", "annotations", forbidden_annotations.len()).to_string());
        bad_values.extend(forbidden_annotations);
    }
    if setters.is_empty() {
        return None;
    }
    failed(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            bad_values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&bad_values)
        ),
        paths,
    )
}

const SE_LINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SE_LINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_options_1_0(pod: &PodView) -> Option<Outcome> {
    se_linux_options(pod, SE_LINUX_TYPES_1_0)
}

fn se_linux_options_1_31(pod: &PodView) -> Option<Outcome> {
    se_linux_options(pod, SE_LINUX_TYPES_1_31)
}

/// `seLinuxOptions`: the type must be one of the container types; user and role must be unset.
fn se_linux_options(pod: &PodView, allowed_types: &[&str]) -> Option<Outcome> {
    let mut bad_types = BTreeSet::new();
    let mut set_user = false;
    let mut set_role = false;
    let mut paths = Vec::new();
    let mut validate = |options: &Value, path: &str| {
        let mut valid = true;
        let option_type = text_of(options.get("type"));
        if !allowed_types.contains(&option_type.as_str()) {
            valid = false;
            bad_types.insert(option_type);
            paths.push(format!("{path}.type"));
        }
        if !text_of(options.get("user")).is_empty() {
            valid = false;
            set_user = true;
            paths.push(format!("{path}.user"));
        }
        if !text_of(options.get("role")).is_empty() {
            valid = false;
            set_role = true;
            paths.push(format!("{path}.role"));
        }
        valid
    };
    let mut setters = Vec::new();
    if let Some(options) = pod
        .pod_security_context()
        .and_then(|context| present(context.get("seLinuxOptions")))
        && !validate(options, "spec.securityContext.seLinuxOptions")
    {
        setters.push("pod".to_string());
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some(options) = container.security_field("seLinuxOptions")
            && !validate(
                options,
                &format!("{}.securityContext.seLinuxOptions", container.path),
            )
        {
            names.push(container.name.to_string());
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    let mut bad_data = Vec::new();
    if !bad_types.is_empty() {
        let bad_types: Vec<String> = bad_types.into_iter().collect();
        bad_data.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
    }
    if set_user {
        bad_data.push("user may not be set".to_string());
    }
    if set_role {
        bad_data.push("role may not be set".to_string());
    }
    failed(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            bad_data.join("; ")
        ),
        paths,
    )
}

/// `procMount` (v1.0) and `procMount_restricted`: `securityContext.procMount` must be unset or `Default`.
fn proc_mount(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        if let Some(value) = container.security_field("procMount") {
            let proc_mount_type = text_of(Some(value));
            if proc_mount_type != "Default" {
                names.push(container.name.to_string());
                types.insert(proc_mount_type);
                paths.push(format!("{}.securityContext.procMount", container.path));
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let types: Vec<String> = types.into_iter().collect();
    failed(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&names),
            join_quote(&types)
        ),
        paths,
    )
}

/// `procMount` from v1.35: any procMount is allowed for a pod in a user namespace.
fn proc_mount_unless_user_namespace(pod: &PodView) -> Option<Outcome> {
    if pod.in_user_namespace() {
        return None;
    }
    proc_mount(pod)
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn allowed_seccomp_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

fn allowed_seccomp_type(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

/// `seccompProfile_baseline` before v1.19: the alpha annotations may not select `unconfined`
/// (or anything but the runtime default or a localhost profile).
fn seccomp_profile_baseline_annotations(pod: &PodView) -> Option<Outcome> {
    let annotations = pod.annotations();
    let mut forbidden = BTreeMap::new();
    if let Some(value) = annotations.get(SECCOMP_POD_ANNOTATION)
        && !allowed_seccomp_annotation(value)
    {
        forbidden.insert(
            format!("{SECCOMP_POD_ANNOTATION}={}", go_quote(value)),
            format!("metadata.annotations[{SECCOMP_POD_ANNOTATION}]"),
        );
    }
    for container in pod.containers() {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", container.name);
        if let Some(value) = annotations.get(key.as_str())
            && !allowed_seccomp_annotation(value)
        {
            forbidden.insert(
                format!("{key}={}", go_quote(value)),
                format!("metadata.annotations[{key}]"),
            );
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let values: Vec<String> = forbidden.keys().cloned().collect();
    failed(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", values.len()),
            values.join(", ")
        ),
        forbidden.into_values().collect(),
    )
}

/// `seccompProfile_baseline` from v1.19: an explicit `seccompProfile.type` must be
/// `RuntimeDefault` or `Localhost`.
fn seccomp_profile_baseline_fields(pod: &PodView) -> Option<Outcome> {
    let (setters, bad_values, paths) =
        disallowed_profile_types(pod, "seccompProfile", allowed_seccomp_type);
    if setters.is_empty() {
        return None;
    }
    let bad_values: Vec<String> = bad_values.into_iter().collect();
    failed(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&bad_values)
        ),
        paths,
    )
}

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_ADDED_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_ADDED_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_ADDED_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_ADDED_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctls_1_0(pod: &PodView) -> Option<Outcome> {
    sysctls(pod, &[SYSCTLS_1_0])
}

fn sysctls_1_27(pod: &PodView) -> Option<Outcome> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27])
}

fn sysctls_1_29(pod: &PodView) -> Option<Outcome> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27, SYSCTLS_ADDED_1_29])
}

fn sysctls_1_32(pod: &PodView) -> Option<Outcome> {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_ADDED_1_27,
            SYSCTLS_ADDED_1_29,
            SYSCTLS_ADDED_1_32,
        ],
    )
}

fn sysctls_1_37(pod: &PodView) -> Option<Outcome> {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_ADDED_1_27,
            SYSCTLS_ADDED_1_29,
            SYSCTLS_ADDED_1_32,
            SYSCTLS_ADDED_1_37,
        ],
    )
}

/// The safe sysctls that the version allows (as the list of additions by version).
pub fn allowed_sysctls(minor: u64) -> Vec<&'static str> {
    let mut allowed = SYSCTLS_1_0.to_vec();
    for (since, added) in [
        (27, SYSCTLS_ADDED_1_27),
        (29, SYSCTLS_ADDED_1_29),
        (32, SYSCTLS_ADDED_1_32),
        (37, SYSCTLS_ADDED_1_37),
    ] {
        if minor >= since {
            allowed.extend_from_slice(added);
        }
    }
    allowed
}

/// `sysctls`: only the safe sysctls of the version (in the order the pod lists them).
fn sysctls(pod: &PodView, allowed: &[&[&str]]) -> Option<Outcome> {
    let mut forbidden = Vec::new();
    let mut paths = Vec::new();
    if let Some(Value::Array(items)) = pod
        .pod_security_context()
        .and_then(|context| context.get("sysctls"))
    {
        for (index, sysctl) in items.iter().enumerate() {
            let name = text_of(sysctl.get("name"));
            if !allowed.iter().any(|set| set.contains(&name.as_str())) {
                forbidden.push(name);
                paths.push(format!("spec.securityContext.sysctls[{index}].name"));
            }
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    failed("forbidden sysctls", forbidden.join(", "), paths)
}

/// `windowsHostProcess`: neither the pod nor a container may run as a Windows HostProcess.
fn windows_host_process(pod: &PodView) -> Option<Outcome> {
    let mut setters = Vec::new();
    let mut paths = Vec::new();
    if is_true(
        pod.pod_security_context()
            .and_then(|context| context.pointer("/windowsOptions/hostProcess")),
    ) {
        setters.push("pod".to_string());
        paths.push("spec.securityContext.windowsOptions.hostProcess".to_string());
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if is_true(
            container
                .security_context()
                .and_then(|context| context.pointer("/windowsOptions/hostProcess")),
        ) {
            names.push(container.name.to_string());
            paths.push(format!(
                "{}.securityContext.windowsOptions.hostProcess",
                container.path
            ));
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    failed(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
        paths,
    )
}

/// `hostProbesAndHostLifecycle` (v1.34): probes and lifecycle handlers may not set `host`.
fn host_probes_and_host_lifecycle(pod: &PodView) -> Option<Outcome> {
    let mut names = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        let handlers = [
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle.postStart",
            "lifecycle.preStop",
        ];
        for handler in handlers {
            let pointer = format!("/{}", handler.replace('.', "/"));
            let Some(handler_value) = present(container.value.pointer(&pointer)) else {
                continue;
            };
            for action in ["httpGet", "tcpSocket"] {
                let host = text_of(
                    present(handler_value.get(action)).and_then(|action| action.get("host")),
                );
                if !host.is_empty() {
                    names.insert(container.name.to_string());
                    hosts.insert(host);
                    paths.push(format!("{}.{handler}.{action}.host", container.path));
                }
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let names: Vec<String> = names.into_iter().collect();
    let hosts: Vec<String> = hosts.into_iter().collect();
    failed(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers_phrase(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
        paths,
    )
}

// ---------------------------------------------------------------------------------------------
// Restricted checks.

const ALLOWED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The restricted volume sources, in the order the plugin names a volume's type.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// `restrictedVolumes`: only configMap, csi, downwardAPI, emptyDir, ephemeral, image,
/// persistentVolumeClaim, projected and secret volumes.
fn restricted_volumes(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    let mut paths = Vec::new();
    for (index, volume) in volumes(pod) {
        let allowed = ALLOWED_VOLUME_SOURCES
            .iter()
            .any(|source| present(volume.get(*source)).is_some());
        if allowed {
            continue;
        }
        names.push(text_of(volume.get("name")));
        match RESTRICTED_VOLUME_SOURCES
            .iter()
            .find(|source| present(volume.get(**source)).is_some())
        {
            Some(source) => {
                types.insert(source.to_string());
                paths.push(format!("spec.volumes[{index}].{source}"));
            }
            None => {
                types.insert("unknown".to_string());
                paths.push(format!("spec.volumes[{index}]"));
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let types: Vec<String> = types.into_iter().collect();
    failed(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
        paths,
    )
}

/// `allowPrivilegeEscalation` (v1.8): every container must set it to false.
fn allow_privilege_escalation(pod: &PodView) -> Option<Outcome> {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for container in pod.containers() {
        let value = container.security_field("allowPrivilegeEscalation");
        if value != Some(&Value::Bool(false)) {
            names.push(container.name.to_string());
            paths.push(format!(
                "{}.securityContext.allowPrivilegeEscalation",
                container.path
            ));
        }
    }
    if names.is_empty() {
        return None;
    }
    failed(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&names)
        ),
        paths,
    )
}

/// `allowPrivilegeEscalation` from v1.25: Windows pods (`spec.os.name: windows`) are exempt.
fn allow_privilege_escalation_unless_windows(pod: &PodView) -> Option<Outcome> {
    if pod.is_windows() {
        return None;
    }
    allow_privilege_escalation(pod)
}

/// `capabilities_restricted` (v1.22): every container drops ALL and adds at most NET_BIND_SERVICE.
fn capabilities_restricted(pod: &PodView) -> Option<Outcome> {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden = BTreeSet::new();
    let mut drop_paths = Vec::new();
    let mut add_paths = Vec::new();
    for container in pod.containers() {
        if container.security_field("capabilities").is_none() {
            missing_drop_all.push(container.name.to_string());
            drop_paths.push(format!(
                "{}.securityContext.capabilities.drop",
                container.path
            ));
            continue;
        }
        let dropped_all = capability_list(&container, "drop")
            .iter()
            .any(|(_, capability)| capability == "ALL");
        if !dropped_all {
            missing_drop_all.push(container.name.to_string());
            drop_paths.push(format!(
                "{}.securityContext.capabilities.drop",
                container.path
            ));
        }
        let mut added_forbidden = false;
        for (index, capability) in capability_list(&container, "add") {
            if capability != "NET_BIND_SERVICE" {
                added_forbidden = true;
                add_paths.push(format!(
                    "{}.securityContext.capabilities.add[{index}]",
                    container.path
                ));
                forbidden.insert(capability);
            }
        }
        if added_forbidden {
            adding_forbidden.push(container.name.to_string());
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let forbidden: Vec<String> = forbidden.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    drop_paths.extend(add_paths);
    failed("unrestricted capabilities", details.join("; "), drop_paths)
}

/// `capabilities_restricted` from v1.25: Windows pods are exempt.
fn capabilities_restricted_unless_windows(pod: &PodView) -> Option<Outcome> {
    if pod.is_windows() {
        return None;
    }
    capabilities_restricted(pod)
}

/// `runAsNonRoot` (v1.0): the pod, or every container, must set `runAsNonRoot=true`, and none
/// may set it to false.
fn run_as_non_root(pod: &PodView) -> Option<Outcome> {
    let mut setters = Vec::new();
    let mut explicit_paths = Vec::new();
    let mut pod_run_as_non_root = false;
    match pod
        .pod_security_context()
        .and_then(|context| present(context.get("runAsNonRoot")))
    {
        Some(Value::Bool(true)) => pod_run_as_non_root = true,
        Some(_) => {
            setters.push("pod".to_string());
            explicit_paths.push("spec.securityContext.runAsNonRoot".to_string());
        }
        None => {}
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    let mut implicit_paths = vec!["spec.securityContext.runAsNonRoot".to_string()];
    for container in pod.containers() {
        match container.security_field("runAsNonRoot") {
            Some(Value::Bool(true)) => {}
            Some(_) => {
                explicitly_bad.push(container.name.to_string());
                explicit_paths.push(format!("{}.securityContext.runAsNonRoot", container.path));
            }
            None => {
                if !pod_run_as_non_root {
                    implicitly_bad.push(container.name.to_string());
                    implicit_paths.push(format!("{}.securityContext.runAsNonRoot", container.path));
                }
            }
        }
    }
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    if !setters.is_empty() {
        return failed(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
            explicit_paths,
        );
    }
    if !implicitly_bad.is_empty() {
        return failed(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
            implicit_paths,
        );
    }
    None
}

/// `runAsNonRoot` from v1.35: pods in a user namespace are exempt.
fn run_as_non_root_unless_user_namespace(pod: &PodView) -> Option<Outcome> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_non_root(pod)
}

/// `runAsUser` (v1.23): neither the pod nor a container may set `runAsUser=0`.
fn run_as_user(pod: &PodView) -> Option<Outcome> {
    let is_root = |value: Option<&Value>| value.and_then(Value::as_i64) == Some(0);
    let mut setters = Vec::new();
    let mut paths = Vec::new();
    if is_root(
        pod.pod_security_context()
            .and_then(|context| context.get("runAsUser")),
    ) {
        setters.push("pod".to_string());
        paths.push("spec.securityContext.runAsUser".to_string());
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if is_root(container.security_field("runAsUser")) {
            names.push(container.name.to_string());
            paths.push(format!("{}.securityContext.runAsUser", container.path));
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    failed(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
        paths,
    )
}

/// `runAsUser` from v1.35: pods in a user namespace are exempt.
fn run_as_user_unless_user_namespace(pod: &PodView) -> Option<Outcome> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_user(pod)
}

/// `seccompProfile_restricted` (v1.19): the pod, or every container, must set
/// `seccompProfile.type` to `RuntimeDefault` or `Localhost`.
fn seccomp_profile_restricted(pod: &PodView) -> Option<Outcome> {
    let mut setters = Vec::new();
    let mut bad_values = BTreeSet::new();
    let mut explicit_paths = Vec::new();
    let mut pod_seccomp_set = false;
    if let Some(profile) = pod
        .pod_security_context()
        .and_then(|context| present(context.get("seccompProfile")))
    {
        let profile_type = text_of(profile.get("type"));
        if allowed_seccomp_type(&profile_type) {
            pod_seccomp_set = true;
        } else {
            setters.push("pod".to_string());
            bad_values.insert(profile_type);
            explicit_paths.push("spec.securityContext.seccompProfile.type".to_string());
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    let mut implicit_paths = vec!["spec.securityContext.seccompProfile.type".to_string()];
    for container in pod.containers() {
        match container.security_field("seccompProfile") {
            Some(profile) => {
                let profile_type = text_of(profile.get("type"));
                if !allowed_seccomp_type(&profile_type) {
                    explicitly_bad.push(container.name.to_string());
                    bad_values.insert(profile_type);
                    explicit_paths.push(format!(
                        "{}.securityContext.seccompProfile.type",
                        container.path
                    ));
                }
            }
            None => {
                if !pod_seccomp_set {
                    implicitly_bad.push(container.name.to_string());
                    implicit_paths.push(format!(
                        "{}.securityContext.seccompProfile.type",
                        container.path
                    ));
                }
            }
        }
    }
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    if !setters.is_empty() {
        let bad_values: Vec<String> = bad_values.into_iter().collect();
        return failed(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&bad_values)
            ),
            explicit_paths,
        );
    }
    if !implicitly_bad.is_empty() {
        return failed(
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&implicitly_bad)
            ),
            implicit_paths,
        );
    }
    None
}

/// `seccompProfile_restricted` from v1.25: Windows pods are exempt.
fn seccomp_profile_restricted_unless_windows(pod: &PodView) -> Option<Outcome> {
    if pod.is_windows() {
        return None;
    }
    seccomp_profile_restricted(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(level: Level, version: &str) -> LevelVersion {
        LevelVersion::new(level, PolicyVersion::parse(version).unwrap())
    }

    fn run(level_version: &LevelVersion, pod: Value) -> Vec<Violation> {
        evaluate(level_version, &PodView::of_pod(&pod))
    }

    #[test]
    fn versions_parse_like_the_apiserver() {
        assert_eq!(PolicyVersion::parse("latest"), Some(PolicyVersion::Latest));
        assert_eq!(PolicyVersion::parse("v1.0"), Some(PolicyVersion::Minor(0)));
        assert_eq!(
            PolicyVersion::parse("v1.29"),
            Some(PolicyVersion::Minor(29))
        );
        for invalid in ["v1.01", "1.29", "v2.1", "v1.", "v1.x", "Latest", ""] {
            assert_eq!(PolicyVersion::parse(invalid), None, "{invalid}");
        }
        assert_eq!(PolicyVersion::Minor(99).effective_minor(), LATEST_MINOR);
    }

    #[test]
    fn invalid_labels_fall_back_like_the_apiserver() {
        let labels: BTreeMap<String, String> = [
            ("pod-security.kubernetes.io/enforce", "strict"),
            ("pod-security.kubernetes.io/warn", "loud"),
            ("pod-security.kubernetes.io/audit-version", "1.25"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
        let policy = NamespacePolicy::from_labels(&labels);
        assert_eq!(policy.enforce.to_string(), "restricted:latest");
        assert_eq!(policy.warn.level, Level::Privileged);
        assert_eq!(policy.audit.to_string(), "privileged:latest");
        assert_eq!(policy.errors.len(), 3);
        assert_eq!(
            policy.errors[0].to_string(),
            "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
        );
    }

    #[test]
    fn restricted_replaces_the_baseline_checks_it_overrides() {
        let ids = check_ids_for(&at(Level::Restricted, "latest"));
        assert!(!ids.contains(&"hostPathVolumes"));
        assert!(!ids.contains(&"capabilities_baseline"));
        assert!(!ids.contains(&"seccompProfile_baseline"));
        assert!(!ids.contains(&"procMount"));
        assert!(ids.contains(&"procMount_restricted"));
        let old = check_ids_for(&at(Level::Restricted, "v1.18"));
        assert!(old.contains(&"seccompProfile_baseline"));
        assert!(old.contains(&"capabilities_baseline"));
        assert!(!old.contains(&"runAsUser"));
        assert!(old.contains(&"procMount"));
        let baseline = check_ids_for(&at(Level::Baseline, "v1.33"));
        assert!(!baseline.contains(&"hostProbesAndHostLifecycle"));
        assert!(!baseline.contains(&"allowPrivilegeEscalation"));
        assert_eq!(check_ids(), {
            let mut ids = check_ids();
            ids.dedup();
            ids
        });
        assert_eq!(check_ids().len(), 19);
    }

    #[test]
    fn the_aggregated_message_lists_baseline_then_restricted_checks() {
        let pod = json!({
            "metadata": {"name": "web"},
            "spec": {
                "hostNetwork": true,
                "hostPID": true,
                "containers": [{"name": "app", "securityContext": {"privileged": true}}],
                "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]
            }
        });
        let violations = run(&at(Level::Restricted, "latest"), pod);
        let message = enforce_message("web", &at(Level::Restricted, "latest"), &violations);
        assert_eq!(
            message,
            "pods \"web\" is forbidden: violates PodSecurity \"restricted:latest\": \
             host namespaces (hostNetwork=true, hostPID=true), \
             privileged (container \"app\" must not set securityContext.privileged=true), \
             allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), \
             unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), \
             restricted volume types (volume \"logs\" uses restricted volume type \"hostPath\"), \
             runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), \
             seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(
            violations[0].field_paths,
            vec!["spec.hostNetwork", "spec.hostPID"]
        );
    }

    #[test]
    fn windows_pods_skip_linux_only_restricted_checks_from_v1_25() {
        let pod = json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "app"}],
            "securityContext": {"runAsNonRoot": true}}});
        assert!(run(&at(Level::Restricted, "v1.25"), pod.clone()).is_empty());
        let older: Vec<&str> = run(&at(Level::Restricted, "v1.24"), pod)
            .iter()
            .map(|violation| violation.check)
            .collect();
        assert_eq!(
            older,
            vec![
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "seccompProfile_restricted"
            ]
        );
    }

    #[test]
    fn user_namespaces_relax_run_as_and_baseline_proc_mount_from_v1_35() {
        let pod = json!({"spec": {"hostUsers": false, "securityContext": {"runAsUser": 0,
            "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "securityContext": {"procMount": "Unmasked",
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}});
        assert!(run(&at(Level::Baseline, "v1.35"), pod.clone()).is_empty());
        let restricted: Vec<&str> = run(&at(Level::Restricted, "v1.35"), pod.clone())
            .iter()
            .map(|violation| violation.check)
            .collect();
        assert_eq!(restricted, vec!["procMount_restricted"]);
        let older: Vec<&str> = run(&at(Level::Restricted, "v1.34"), pod)
            .iter()
            .map(|violation| violation.check)
            .collect();
        assert_eq!(older, vec!["procMount", "runAsNonRoot", "runAsUser"]);
    }

    #[test]
    fn details_follow_the_plugin_formats() {
        let pod = json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
            "spec": {
                "securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "root"},
                    "sysctls": [{"name": "net.core.somaxconn"}, {"name": "kernel.msgmax"}]},
                "initContainers": [{"name": "init", "ports": [{"hostPort": 9090}, {"hostPort": 10000}]}],
                "containers": [{"name": "app", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW", "CHOWN"]},
                    "windowsOptions": {"hostProcess": true}},
                    "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]
            }
        });
        let violations = run(&at(Level::Baseline, "v1.18"), pod.clone());
        let texts: Vec<String> = violations.iter().map(Violation::text).collect();
        assert_eq!(
            texts,
            vec![
                "forbidden AppArmor profile (annotation must not set AppArmor profile type to \"container.apparmor.security.beta.kubernetes.io/app=\"unconfined\"\")",
                "non-default capabilities (container \"app\" must not include \"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)",
                "hostPort (container \"init\" uses hostPorts 10000, 9090)",
                "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user may not be set)",
                "seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")",
                "forbidden sysctls (net.core.somaxconn, kernel.msgmax)",
                "hostProcess (container \"app\" must not set securityContext.windowsOptions.hostProcess=true)",
            ]
        );
        let latest: Vec<String> = run(&at(Level::Baseline, "latest"), pod)
            .iter()
            .filter(|violation| violation.check == "hostProbesAndHostLifecycle")
            .map(Violation::text)
            .collect();
        assert_eq!(
            latest,
            vec![
                "probe or lifecycle host (container \"app\" uses probe or lifecycle host \"10.0.0.1\")"
            ]
        );
    }

    #[test]
    fn go_quoting_escapes_quotes_and_controls() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
