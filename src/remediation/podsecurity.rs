//! Pod Security remediation: the exact `securityContext` fields each failing check wants (by the
//! PSA engine's check IDs), as one strategic-merge patch of the workload's pod template; what a
//! patch cannot express (removing volumes, ports, capabilities) as field-by-field steps.

use serde_json::{Map, Value, json};

use super::{Context, yaml};
use crate::engine::admission::podtemplate;
use crate::engine::admission::psa::{self, Level, LevelVersion, PodView, PolicyVersion};
use crate::model::details::podsecurity::PodSecurityDetails;
use crate::model::remediation::{Patch, PatchFormat, Privilege, Step};

/// What fixes one check: pod-level and container-level `securityContext` fields to set, and
/// what to do by hand.
struct Fix {
    pod: Value,
    container: Value,
    by_hand: &'static str,
}

fn fix(check: &str) -> Fix {
    let none = Value::Null;
    let (pod, container, by_hand) = match check {
        "allowPrivilegeEscalation" => (
            none,
            json!({"allowPrivilegeEscalation": false}),
            "set `securityContext.allowPrivilegeEscalation: false` in every container",
        ),
        "capabilities_restricted" => (
            none,
            json!({"capabilities": {"drop": ["ALL"]}}),
            "drop `ALL` capabilities in every container and add none but `NET_BIND_SERVICE`",
        ),
        "capabilities_baseline" => (
            none,
            Value::Null,
            "remove `capabilities.add` entries outside AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT",
        ),
        "privileged" => (
            none,
            json!({"privileged": false}),
            "set `securityContext.privileged: false` (or remove it) in every container",
        ),
        "runAsNonRoot" => (
            json!({"runAsNonRoot": true}),
            Value::Null,
            "set `spec.securityContext.runAsNonRoot: true` and remove `runAsNonRoot: false` from containers; the image must run as a non-zero UID",
        ),
        "runAsUser" => (
            none,
            json!({"runAsUser": 1000}),
            "never set `runAsUser: 0`: use a non-zero UID your image can run as (1000 below is an example)",
        ),
        "seccompProfile_restricted" => (
            json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            Value::Null,
            "set `spec.securityContext.seccompProfile.type: RuntimeDefault` (or `Localhost`) and remove `Unconfined` profiles",
        ),
        "seccompProfile_baseline" => (
            json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            Value::Null,
            "do not use the `Unconfined` seccomp profile: use `RuntimeDefault`",
        ),
        "hostNamespaces" => (
            json!({}),
            Value::Null,
            "remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false)",
        ),
        "hostPathVolumes" => (
            none,
            Value::Null,
            "replace `hostPath` volumes with another volume type",
        ),
        "restrictedVolumes" => (
            none,
            Value::Null,
            "use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes",
        ),
        "hostPorts" => (none, Value::Null, "remove `hostPort` from container ports"),
        "hostProbesAndHostLifecycle" => (
            none,
            Value::Null,
            "remove `host` from probe and lifecycle handlers",
        ),
        "procMount" | "procMount_restricted" => (
            none,
            json!({"procMount": "Default"}),
            "use `procMount: Default` (or remove it)",
        ),
        "seLinuxOptions" => (
            none,
            Value::Null,
            "remove `seLinuxOptions.user` and `role`, and use a type among container_t, container_init_t, container_kvm_t, container_engine_t (or none)",
        ),
        "sysctls" => (
            none,
            Value::Null,
            "keep only safe sysctls in `spec.securityContext.sysctls`",
        ),
        "appArmorProfile" => (
            json!({"appArmorProfile": {"type": "RuntimeDefault"}}),
            Value::Null,
            "use the `RuntimeDefault` or a `Localhost` AppArmor profile and remove `unconfined` ones (fields and annotations)",
        ),
        "windowsHostProcess" => (
            json!({"windowsOptions": {"hostProcess": false}}),
            Value::Null,
            "do not run Windows host processes (`windowsOptions.hostProcess`)",
        ),
        _ => (
            none,
            Value::Null,
            "see the Pod Security Standards for this check",
        ),
    };
    Fix {
        pod,
        container,
        by_hand,
    }
}

pub(super) fn steps(context: &Context, details: &PodSecurityDetails) -> Vec<Step> {
    let level = Level::parse(&details.level).unwrap_or(Level::Restricted);
    let version = PolicyVersion::parse(&details.version).unwrap_or(PolicyVersion::Latest);
    let level_version = LevelVersion::new(level, version);
    let namespace = context
        .constraint
        .source
        .namespace
        .clone()
        .unwrap_or_else(|| context.constraint.source.name.clone());
    let mut steps = Vec::new();
    if level == Level::Privileged {
        steps.push(Step::new(
            Privilege::Developer,
            format!("Pod Security `{level_version}` restricts nothing: no change is needed"),
        ));
        return steps;
    }
    if details.mode != "enforce" {
        steps.push(Step::new(
            Privilege::Developer,
            format!(
                "This is the `{}` mode: pods are admitted and only {}; fixing the fields below silences it",
                details.mode,
                if details.mode == "warn" {
                    "warned about"
                } else {
                    "recorded in the audit log"
                }
            ),
        ));
    }
    match context.pod_template() {
        Some(template) => steps.extend(fix_workload(context, &level_version, template)),
        None => steps.push(level_snippet(&level_version)),
    }
    steps.push(
        Step::new(
            Privilege::ClusterAdmin,
            format!(
                "If the workload truly needs more, ask a cluster admin (see contacts) to exempt it (apiserver AdmissionConfiguration `PodSecurity` exemptions by user, runtime class or namespace) or to lower the namespace's `{}` level; this weakens every pod in `{namespace}`",
                details.mode
            ),
        )
        .command(format!(
            "kubectl label namespace {namespace} pod-security.kubernetes.io/{}=<level> --overwrite",
            details.mode
        )),
    );
    steps
}

/// Evaluates the workload's pod template and patches what fails.
fn fix_workload(context: &Context, level_version: &LevelVersion, template: &Value) -> Vec<Step> {
    let view = PodView {
        metadata: template.get("metadata").unwrap_or(&Value::Null),
        spec: template.get("spec").unwrap_or(&Value::Null),
    };
    let violations = psa::evaluate(level_version, &view);
    if violations.is_empty() {
        return vec![Step::new(
            Privilege::Developer,
            format!(
                "The pod template of {} passes every `{level_version}` check: nothing to change",
                context.workload_label()
            ),
        )];
    }
    let prefix = context
        .workload_object
        .and_then(|object| {
            let group = object.group_kind().group;
            podtemplate::template_kind(&group, &object.kind)
        })
        .map(|kind| format!("{}.", kind.path))
        .unwrap_or_default();
    let mut pod_fields = Map::new();
    let mut container_fields = Map::new();
    let mut steps = Vec::new();
    let mut patched_checks = Vec::new();
    for violation in &violations {
        let wanted = fix(violation.check);
        let fields: Vec<String> = violation
            .field_paths
            .iter()
            .map(|path| format!("{prefix}{path}"))
            .collect();
        let mut patchable = false;
        if let Value::Object(fields) = &wanted.pod {
            if violation.check == "hostNamespaces" {
                for key in ["hostNetwork", "hostPID", "hostIPC"] {
                    if view.spec.get(key) == Some(&Value::Bool(true)) {
                        pod_fields.insert(format!("@spec.{key}"), Value::Bool(false));
                        patchable = true;
                    }
                }
            }
            for (key, value) in fields {
                pod_fields.insert(key.clone(), value.clone());
                patchable = true;
            }
        }
        if let Value::Object(fields) = &wanted.container {
            for (key, value) in fields {
                container_fields.insert(key.clone(), value.clone());
                patchable = true;
            }
        }
        let detail = violation.text();
        if patchable {
            patched_checks.push(format!("`{}` ({detail})", violation.check));
        } else {
            steps.push(Step::new(
                Privilege::Developer,
                format!(
                    "Check `{}` fails ({detail}): {}{}",
                    violation.check,
                    wanted.by_hand,
                    if fields.is_empty() {
                        String::new()
                    } else {
                        format!(" — at {}", fields.join(", "))
                    }
                ),
            ));
        }
    }
    if pod_fields.is_empty() && container_fields.is_empty() {
        return steps;
    }
    let mut spec = Map::new();
    let mut security_context = Map::new();
    for (key, value) in pod_fields {
        match key.strip_prefix("@spec.") {
            Some(spec_key) => {
                spec.insert(spec_key.to_string(), value);
            }
            None => {
                security_context.insert(key, value);
            }
        }
    }
    if !security_context.is_empty() {
        spec.insert(
            "securityContext".to_string(),
            Value::Object(security_context),
        );
    }
    if !container_fields.is_empty() {
        for (list, container) in context.containers() {
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            let entry = spec
                .entry(list.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(containers) = entry {
                containers.push(json!({
                    "name": name,
                    "securityContext": Value::Object(container_fields.clone()),
                }));
            }
        }
    }
    let patch_step = context.template_patch_step(
        Privilege::Developer,
        format!(
            "Set the securityContext fields Pod Security `{level_version}` wants in {}; failing checks: {}",
            context.workload_label(),
            patched_checks.join(", ")
        ),
        json!({"spec": Value::Object(spec)}),
    );
    let mut ordered = vec![patch_step];
    ordered.extend(steps);
    ordered
}

/// Without a workload: the fields every pod needs at the level.
fn level_snippet(level_version: &LevelVersion) -> Step {
    let checks = psa::check_ids_for(level_version);
    let body = if level_version.level == Level::Restricted {
        json!({
            "spec": {
                "securityContext": {
                    "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [{
                    "name": "<container>",
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }],
            },
        })
    } else {
        json!({
            "spec": {
                "containers": [{
                    "name": "<container>",
                    "securityContext": {"privileged": false},
                }],
            },
        })
    };
    Step::new(
        Privilege::Developer,
        format!(
            "Pods must pass the `{level_version}` checks ({}); the pod template needs at least these fields, and no host namespaces, hostPath volumes, host ports or added capabilities beyond the baseline list. Give `--workload KIND/NAME` for a patch of your own workload",
            checks.join(", ")
        ),
    )
    .patch(Patch {
        target: "your pod template".to_string(),
        format: PatchFormat::YamlSnippet,
        body: yaml(&body),
    })
}
