//! Server-side dry run for `check --server-dry-run`: sends each manifest object to the live
//! apiserver with `dryRun=All` (a create; a server-side apply when the object already exists)
//! and records the apiserver's answer: admitted or rejected, its message and its warnings.
//!
//! The only requests potoo sends that are not get/list, and only with the flag: `dryRun=All`
//! means the apiserver runs admission and validation and persists nothing. Secrets and
//! ConfigMaps are never sent (potoo does not keep their contents).

use std::collections::HashMap;

use http::StatusCode;
use kube::core::params::{Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, Request, Resource as _};
use serde_json::Value;

use super::catalog;
use super::live::{self, LiveOptions};
use crate::engine::admission::Manifest;
use crate::model::finding::{DryRunOutcome, DryRunResult};

/// The field manager named in dry-run requests.
const FIELD_MANAGER: &str = "kubectl-potoo";

/// One object to send: the manifest and the namespace it would be created in.
pub struct DryRunTarget<'a> {
    pub manifest: &'a Manifest,
    pub namespace: Option<&'a str>,
}

/// Connects with the user's kubeconfig and dry-runs every target, in order.
pub async fn run(
    options: &LiveOptions,
    targets: &[DryRunTarget<'_>],
) -> anyhow::Result<Vec<DryRunOutcome>> {
    let (client, _identity) = live::connect(options).await?;
    Ok(run_with_client(&client, targets, live::effective_timeout(options)).await)
}

/// Dry-runs every target with an existing client (tests use a fake apiserver); each request
/// (discovery included) is answered within `timeout` or recorded as an error.
pub async fn run_with_client(
    client: &kube::Client,
    targets: &[DryRunTarget<'_>],
    timeout: Option<std::time::Duration>,
) -> Vec<DryRunOutcome> {
    let mut outcomes = Vec::with_capacity(targets.len());
    let mut resources = Resources::new();
    let sender = Sender {
        client,
        timeout,
        unreachable: std::sync::Mutex::new(None),
    };
    for target in targets {
        // An apiserver that did not answer once is not waited for again, object after object.
        let unreachable = sender
            .unreachable
            .lock()
            .map(|reason| reason.clone())
            .unwrap_or_default();
        outcomes.push(match unreachable {
            Some(reason) => error(format!(
                "not sent: an earlier dry run got no answer ({reason})"
            )),
            None => dry_run(&sender, &mut resources, target).await,
        });
    }
    outcomes
}

/// The client, the time each request may take, and why the apiserver is unreachable once a
/// request got no answer at all (a timeout, a refused connection, no credentials).
struct Sender<'a> {
    client: &'a kube::Client,
    timeout: Option<std::time::Duration>,
    unreachable: std::sync::Mutex<Option<String>>,
}

impl Sender<'_> {
    fn mark_unreachable(&self, reason: &str) {
        if let Ok(mut unreachable) = self.unreachable.lock() {
            unreachable.get_or_insert_with(|| reason.to_string());
        }
    }
}

/// The apiserver resource (or why it was not found) per `apiVersion` and kind, so discovery is
/// asked once per kind in a run, not once per object.
type Resources = HashMap<(String, String), Result<ApiResource, String>>;

fn error(message: String) -> DryRunOutcome {
    DryRunOutcome {
        result: DryRunResult::Error,
        message: Some(message),
        warnings: Vec::new(),
        disagreement: None,
    }
}

/// The apiserver resource of the object's kind: potoo's catalog first, else discovery.
async fn resource(sender: &Sender<'_>, manifest: &Manifest) -> Result<ApiResource, String> {
    let object = &manifest.object;
    let (group, version) = match object.api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", object.api_version.as_str()),
    };
    let gvk = GroupVersionKind::gvk(group, version, &object.kind);
    if let Some(known) = catalog::known_kind(group, &object.kind) {
        return Ok(ApiResource::from_gvk_with_plural(&gvk, known.plural));
    }
    let not_found = |failure: String| {
        format!(
            "cannot find `{}` `{}` in the cluster's API: {failure}",
            object.api_version, object.kind
        )
    };
    let discovery = kube::discovery::pinned_kind(sender.client, &gvk);
    let found = match sender.timeout {
        Some(timeout) => match tokio::time::timeout(timeout, discovery).await {
            Ok(found) => found,
            Err(_) => {
                let reason = format!(
                    "no answer to the discovery of `{}` within {}",
                    object.api_version,
                    live::describe_duration(timeout)
                );
                sender.mark_unreachable(&reason);
                return Err(format!(
                    "cannot look up `{}` `{}`: {reason}",
                    object.api_version, object.kind
                ));
            }
        },
        None => discovery.await,
    };
    found
        .map(|(resource, _)| resource)
        .map_err(|failure| not_found(failure.to_string()))
}

async fn dry_run(
    sender: &Sender<'_>,
    resources: &mut Resources,
    target: &DryRunTarget<'_>,
) -> DryRunOutcome {
    let object = &target.manifest.object;
    if object.api_version == "v1" && matches!(object.kind.as_str(), "Secret" | "ConfigMap") {
        return error(format!(
            "not sent: potoo does not keep the contents of {}s",
            object.kind
        ));
    }
    let key = (object.api_version.clone(), object.kind.clone());
    let resource = match resources.get(&key) {
        Some(known) => known.clone(),
        None => {
            let found = resource(sender, target.manifest).await;
            resources.insert(key, found.clone());
            found
        }
    };
    let resource = match resource {
        Ok(resource) => resource,
        Err(message) => return error(message),
    };
    let path = DynamicObject::url_path(&resource, target.namespace);
    let request = Request::new(&path);
    let mut body = object.value.clone();
    if let (Some(namespace), Some(metadata)) = (
        target.namespace,
        body.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata.insert(
            "namespace".to_string(),
            Value::String(namespace.to_string()),
        );
    }
    let post = PostParams {
        dry_run: true,
        field_manager: Some(FIELD_MANAGER.to_string()),
    };
    let create = serde_json::to_vec(&body)
        .map_err(|failure| failure.to_string())
        .and_then(|bytes| {
            request
                .create(&post, bytes)
                .map_err(|failure| failure.to_string())
        });
    let create = match create {
        Ok(create) => create,
        Err(message) => return error(format!("cannot build the dry-run request: {message}")),
    };
    let answer = match send(sender, create).await {
        Ok(answer) => answer,
        Err(message) => return error(message),
    };
    let answer = if answer.status == StatusCode::CONFLICT && answer.reason() == "AlreadyExists" {
        // The object exists: what an apply would do is an update; server-side apply says.
        let apply = PatchParams::apply(FIELD_MANAGER).dry_run().force();
        match request.patch(&object.name, &apply, &Patch::Apply(&body)) {
            Ok(patch) => match send(sender, patch).await {
                Ok(answer) => answer,
                Err(message) => return error(message),
            },
            Err(failure) => {
                return error(format!("cannot build the dry-run request: {failure}"));
            }
        }
    } else {
        answer
    };
    interpret(answer, &resource, target)
}

/// The apiserver's answer to one request.
struct Answer {
    status: StatusCode,
    body: Value,
    warnings: Vec<String>,
    verb: &'static str,
}

impl Answer {
    fn reason(&self) -> &str {
        self.body
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn message(&self) -> String {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

async fn send(sender: &Sender<'_>, request: http::Request<Vec<u8>>) -> Result<Answer, String> {
    let verb = if request.method() == http::Method::PATCH {
        "patch"
    } else {
        "create"
    };
    let uri = request.uri().to_string();
    let answer = live::exchange(sender.client, request, sender.timeout)
        .await
        .map_err(|failure| {
            let message = failure.message();
            if failure.is_unanswered() {
                sender.mark_unreachable(&message);
            }
            if message.contains(&uri) {
                format!("the dry run failed: {message}")
            } else {
                format!("the dry run `{uri}` failed: {message}")
            }
        })?;
    let warnings = answer
        .headers
        .get_all(http::header::WARNING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(warning_text)
        .collect();
    let body = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    Ok(Answer {
        status: answer.status,
        body,
        warnings,
        verb,
    })
}

/// The text of a `Warning: 299 - "text"` header (RFC 7234), as kubectl prints it.
fn warning_text(header: &str) -> String {
    let rest = header
        .trim()
        .strip_prefix("299")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix('-'))
        .map(str::trim);
    match rest {
        Some(quoted) if quoted.starts_with('"') => {
            let inner = &quoted[1..];
            let end = inner.rfind('"').unwrap_or(inner.len());
            inner[..end].replace("\\\"", "\"").replace("\\\\", "\\")
        }
        _ => header.trim().to_string(),
    }
}

fn interpret(answer: Answer, resource: &ApiResource, target: &DryRunTarget<'_>) -> DryRunOutcome {
    let place = match target.namespace {
        Some(namespace) => format!(" in namespace `{namespace}`"),
        None => String::new(),
    };
    let group_resource = if resource.group.is_empty() {
        resource.plural.clone()
    } else {
        format!("{}.{}", resource.plural, resource.group)
    };
    let outcome = |result, message| DryRunOutcome {
        result,
        message,
        warnings: answer.warnings.clone(),
        disagreement: None,
    };
    match answer.status {
        status if status.is_success() => outcome(DryRunResult::Admitted, None),
        StatusCode::FORBIDDEN if answer.reason() == "Forbidden" && !is_admission(&answer) => {
            outcome(
                DryRunResult::Error,
                Some(format!(
                    "server-side dry run needs `{}` permission on `{group_resource}`{place}: {}",
                    answer.verb,
                    answer.message()
                )),
            )
        }
        // Typically the namespace does not exist yet: a Namespace in the same manifests is
        // dry-run too, and a dry run persists nothing.
        StatusCode::NOT_FOUND => outcome(
            DryRunResult::Error,
            Some(format!(
                "the apiserver could not dry-run it: {} (a Namespace created by these manifests does not exist during a dry run)",
                answer.message()
            )),
        ),
        StatusCode::UNAUTHORIZED => outcome(
            DryRunResult::Error,
            Some(format!(
                "the apiserver refused the credentials: {}",
                answer.message()
            )),
        ),
        status if status.is_client_error() => {
            outcome(DryRunResult::Rejected, Some(answer.message()))
        }
        _ => outcome(
            DryRunResult::Error,
            Some(format!(
                "the apiserver failed the dry run: {}",
                answer.message()
            )),
        ),
    }
}

/// Whether a 403 is an admission rejection (PodSecurity, webhooks, policies answer 403
/// Forbidden with "is forbidden: …" too) rather than missing RBAC permission, which the
/// authorizer words `User "…" cannot create resource …`.
fn is_admission(answer: &Answer) -> bool {
    let message = answer.message();
    !(message.contains(" cannot ") && message.contains(" resource "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_headers_are_unquoted_like_kubectl_prints_them() {
        assert_eq!(
            warning_text(r#"299 - "would violate PodSecurity \"restricted:latest\": x""#),
            r#"would violate PodSecurity "restricted:latest": x"#
        );
        assert_eq!(warning_text("odd"), "odd");
    }

    fn answer(status: u16, message: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: serde_json::json!({"kind": "Status", "reason": if status == 403 {"Forbidden"} else {"Invalid"}, "message": message}),
            warnings: Vec::new(),
            verb: "create",
        }
    }

    #[test]
    fn missing_permission_and_admission_rejections_are_told_apart() {
        let manifest = crate::engine::admission::manifest_from_value(
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
            "p.yaml",
            1,
            Some(1),
            None,
        )
        .unwrap();
        let target = DryRunTarget {
            manifest: &manifest,
            namespace: Some("team-a"),
        };
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Pod"), "pods");
        let denied = interpret(
            answer(
                403,
                "pods is forbidden: User \"dev\" cannot create resource \"pods\" in API group \"\" in the namespace \"team-a\"",
            ),
            &resource,
            &target,
        );
        assert_eq!(denied.result, DryRunResult::Error);
        assert!(denied.message.unwrap().starts_with(
            "server-side dry run needs `create` permission on `pods` in namespace `team-a`: "
        ));
        let rejected = interpret(
            answer(
                403,
                "pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": privileged",
            ),
            &resource,
            &target,
        );
        assert_eq!(rejected.result, DryRunResult::Rejected);
        let invalid = interpret(answer(422, "Pod \"p\" is invalid"), &resource, &target);
        assert_eq!(invalid.result, DryRunResult::Rejected);
        let missing_namespace = interpret(
            answer(404, "namespaces \"team-a\" not found"),
            &resource,
            &target,
        );
        assert_eq!(missing_namespace.result, DryRunResult::Error);
    }
}
