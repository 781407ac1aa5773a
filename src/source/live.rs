//! The live source: reads the cluster with the user's kubeconfig through kube-rs.
//!
//! Discovery is done by hand (aggregated discovery first, per-group discovery as the fallback) so
//! one broken aggregated API group cannot fail the read, as `Discovery::run` would. Lists are raw,
//! paginated requests sent through kube's client, so every HTTP status becomes a precise gap and
//! one undecodable object cannot spoil the rest of its kind.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{StreamExt, stream};
use http::StatusCode;
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Request;
use kube::core::params::{GetParams, ListParams};
use serde::Deserialize;
use serde_json::Value;

use super::catalog::{self, Purpose};
use super::snapshot::{ServedKind, SourceInfo, object_from_value};
use super::{Gap, GapReason, NamespaceScope, Object, Snapshot};

/// How many discovery requests or lists run at the same time.
const CONCURRENCY: usize = 8;
/// Objects per list page.
const PAGE_SIZE: u32 = 500;
/// How often a request throttled with HTTP 429 is retried.
const THROTTLE_RETRIES: u32 = 3;
/// The longest pause before retrying a throttled request, whatever `Retry-After` says.
const THROTTLE_PAUSE_LIMIT: Duration = Duration::from_secs(5);
/// The Accept header asking for aggregated discovery, falling back to the classic documents.
const ACCEPT_AGGREGATED_DISCOVERY: &str = kube::core::discovery::v2::ACCEPT_AGGREGATED_DISCOVERY_V2;
/// The group of CustomResourceDefinitions.
const CRD_GROUP: &str = "apiextensions.k8s.io";
const CRD_KIND: &str = "CustomResourceDefinition";
/// The name and user shown for an in-cluster (service account) configuration.
const IN_CLUSTER_NAME: &str = "in-cluster";

/// How to reach the cluster, from the kubectl-style global flags.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub impersonate_user: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub request_timeout: Option<Duration>,
    /// Show an indicatif progress bar on stderr (only honoured when stderr is a terminal).
    pub progress: bool,
    /// Kinds not read in full are listed metadata-only (still counted, namespaces known).
    pub kinds_read: super::KindsRead,
}

/// Errors that stop a live read entirely (per-kind failures become gaps instead).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the cluster at `{server}`: {message}")]
    Unreachable { server: String, message: String },
    #[error("the cluster refused every read as `{user}`: {message}")]
    NoAccess { user: String, message: String },
}

/// Who a live read runs as and against which server: the snapshot description and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    /// The kubeconfig context name (`in-cluster` for a service account configuration).
    pub context: String,
    /// The server URL of the context's cluster.
    pub server: String,
    /// The impersonated user, else the kubeconfig user name of the context.
    pub user: String,
}

impl ClusterIdentity {
    fn description(&self) -> String {
        format!("{} ({})", self.context, self.server)
    }
}

/// The namespace the current context names, else `default`.
pub async fn context_namespace(options: &LiveOptions) -> Result<String, LiveError> {
    match select_context(options)? {
        Selection::Kubeconfig(selected) => Ok(selected.namespace),
        Selection::InCluster(config) => Ok(config.default_namespace),
    }
}

/// Reads everything potoo needs in `scope` into a Snapshot.
pub async fn read(options: &LiveOptions, scope: &NamespaceScope) -> Result<Snapshot, LiveError> {
    let (client, identity) = connect(options).await?;
    read_with_client(client, &identity, options, scope).await
}

/// Builds a kube client the way kubectl would from `options`: kubeconfig files, context,
/// impersonation, exec plugins, proxies and the request timeout. Nothing is sent yet.
pub async fn connect(options: &LiveOptions) -> Result<(kube::Client, ClusterIdentity), LiveError> {
    let (mut config, context, user) = match select_context(options)? {
        Selection::Kubeconfig(selected) => {
            let kube_options = KubeConfigOptions {
                context: Some(selected.context.clone()),
                cluster: None,
                user: None,
            };
            let config = kube::Config::from_custom_kubeconfig(*selected.kubeconfig, &kube_options)
                .await
                .map_err(|error| {
                    LiveError::Kubeconfig(format!(
                        "context `{}` in {}: {error}",
                        selected.context, selected.origin
                    ))
                })?;
            (config, selected.context, selected.user)
        }
        Selection::InCluster(config) => (
            *config,
            IN_CLUSTER_NAME.to_string(),
            IN_CLUSTER_NAME.to_string(),
        ),
    };
    // Audit logs name the tool, as kubectl's do.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(concat!("kubectl-potoo/", env!("CARGO_PKG_VERSION"))),
    ));
    if let Some(user) = &options.impersonate_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !options.impersonate_groups.is_empty() {
        config.auth_info.impersonate_groups = Some(options.impersonate_groups.clone());
    }
    if let Some(timeout) = effective_timeout(options) {
        config.read_timeout = Some(timeout);
        config.reset_reader_on_write = true;
        config.connect_timeout = Some(
            config
                .connect_timeout
                .map_or(timeout, |connect| connect.min(timeout)),
        );
    }
    // kube's default retry waits up to minutes on a 503; a broken aggregated API must cost one request.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let identity = ClusterIdentity {
        context: context.clone(),
        server,
        user: options.impersonate_user.clone().unwrap_or(user),
    };
    let client = kube::Client::try_from(config).map_err(|error| {
        LiveError::Kubeconfig(format!(
            "cannot build a client for context `{context}`: {}",
            error_chain(&error)
        ))
    })?;
    Ok((client, identity))
}

/// Reads everything potoo needs in `scope` with an existing client (tests use a fake apiserver).
/// Only `request_timeout` and `progress` of `options` are used here.
pub async fn read_with_client(
    client: kube::Client,
    identity: &ClusterIdentity,
    options: &LiveOptions,
    scope: &NamespaceScope,
) -> Result<Snapshot, LiveError> {
    let fetcher = Fetcher {
        client,
        timeout: effective_timeout(options),
    };
    let server_version = probe(&fetcher, identity).await?;

    let discovered = discover(&fetcher).await;
    if discovered.refused_entirely() {
        let message = discovered
            .failures
            .first()
            .map(|failure| failure.failure.message())
            .unwrap_or_default();
        return Err(LiveError::NoAccess {
            user: identity.user.clone(),
            message: format!("discovery was refused: {message}"),
        });
    }

    let mut outcomes = Vec::new();
    let mut resources = discovered.resources;

    // CustomResourceDefinitions first: their annotations decide what else is a policy, and they
    // describe the kinds of groups whose discovery failed.
    let crd_resource = resources
        .iter()
        .find(|resource| {
            resource.group == CRD_GROUP && resource.kind == CRD_KIND && resource.can_list()
        })
        .cloned();
    let mut custom_resources = Vec::new();
    if let Some(crd_resource) = crd_resource {
        let outcome = run_task(&fetcher, ListTask::new(crd_resource, None, false), scope).await;
        custom_resources = outcome
            .objects
            .iter()
            .filter_map(CustomResource::from_object)
            .collect();
        outcomes.push(outcome);
    }

    let mut gaps = Vec::new();
    let recovered = recover_failed_groups(
        &discovered.failures,
        &resources,
        &custom_resources,
        &mut gaps,
    );
    resources.extend(recovered);
    resources.sort_by(|left, right| (&left.group, &left.kind).cmp(&(&right.group, &right.kind)));

    let annotated: BTreeSet<(String, String)> = custom_resources
        .iter()
        .filter(|custom| custom.is_policy)
        .map(|custom| (custom.group.clone(), custom.kind.clone()))
        .collect();
    let tasks = plan(&resources, &annotated, scope, options.kinds_read);
    let planned: BTreeSet<(String, String)> = tasks
        .iter()
        .map(|task| (task.resource.group.clone(), task.resource.kind.clone()))
        .collect();

    let progress = Progress::start(
        options.progress,
        tasks.len() + outcomes.len(),
        outcomes.len(),
    );
    let mut results = stream::iter(tasks)
        .map(|task| run_task(&fetcher, task, scope))
        .buffer_unordered(CONCURRENCY);
    while let Some(outcome) = results.next().await {
        progress.advance();
        outcomes.push(outcome);
    }
    drop(results);
    // Kinds registered by a ConstraintProfile are read too, once the profiles are known.
    let profile_targets: BTreeSet<(String, String)> = outcomes
        .iter()
        .flat_map(|outcome| outcome.objects.iter())
        .filter(|object| {
            object.kind == "ConstraintProfile" && object.group_kind().group == "potoo.io"
        })
        .filter_map(|profile| {
            let target = profile.spec().get("target")?;
            let group = target
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = target.get("kind").and_then(Value::as_str)?;
            Some((group.to_string(), kind.to_string()))
        })
        .filter(|target| !planned.contains(target))
        .collect();
    if !profile_targets.is_empty() {
        let extra: Vec<ServedResource> = resources
            .iter()
            .filter(|resource| {
                profile_targets.contains(&(resource.group.clone(), resource.kind.clone()))
            })
            .cloned()
            .collect();
        let extra_tasks = plan(&extra, &profile_targets, scope, options.kinds_read);
        let mut extra_results = stream::iter(extra_tasks)
            .map(|task| run_task(&fetcher, task, scope))
            .buffer_unordered(CONCURRENCY);
        while let Some(outcome) = extra_results.next().await {
            outcomes.push(outcome);
        }
    }
    progress.finish();

    let attempted = outcomes.len();
    let refusals: Vec<&Failure> = outcomes
        .iter()
        .filter_map(|outcome| outcome.failure.as_ref())
        .filter(|failure| failure.is_refusal())
        .collect();
    if attempted > 0 && refusals.len() == attempted {
        let mut messages: Vec<String> = refusals.iter().map(|failure| failure.message()).collect();
        messages.sort();
        return Err(LiveError::NoAccess {
            user: identity.user.clone(),
            message: messages.into_iter().next().unwrap_or_default(),
        });
    }

    let served_kinds = resources.iter().map(ServedResource::served_kind).collect();
    let mut snapshot = Snapshot::new(SourceInfo {
        kind: "live".to_string(),
        description: identity.description(),
        server_version,
        served_kinds,
    });
    let mut objects = Vec::new();
    for outcome in outcomes {
        objects.extend(outcome.objects);
        gaps.extend(outcome.gaps);
    }
    objects.sort_by(|left, right| object_order(left).cmp(&object_order(right)));
    for object in objects {
        snapshot.insert(object);
    }
    gaps.sort();
    for gap in gaps {
        snapshot.add_gap(gap);
    }
    Ok(snapshot)
}

fn object_order(object: &Object) -> (String, &str, Option<&str>, &str) {
    (
        object.group_kind().group,
        &object.kind,
        object.namespace.as_deref(),
        &object.name,
    )
}

/// `--request-timeout`; zero means no timeout, as in kubectl.
pub(super) fn effective_timeout(options: &LiveOptions) -> Option<Duration> {
    options.request_timeout.filter(|timeout| !timeout.is_zero())
}

// ---------------------------------------------------------------------------------------------
// Kubeconfig

/// The kubeconfig as kubectl resolves it, or the in-cluster configuration when there is none.
enum Selection {
    Kubeconfig(SelectedContext),
    InCluster(Box<kube::Config>),
}

struct SelectedContext {
    kubeconfig: Box<Kubeconfig>,
    /// The files read, in backticks, for error messages.
    origin: String,
    context: String,
    user: String,
    namespace: String,
}

/// Where the kubeconfig comes from: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`.
fn kubeconfig_paths(options: &LiveOptions) -> Result<(Vec<PathBuf>, bool), LiveError> {
    resolve_kubeconfig_paths(
        options.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::home_dir(),
    )
}

/// The kubeconfig files to read, and whether they were named explicitly (`--kubeconfig`).
fn resolve_kubeconfig_paths(
    explicit: Option<&Path>,
    environment: Option<&std::ffi::OsStr>,
    home: Option<PathBuf>,
) -> Result<(Vec<PathBuf>, bool), LiveError> {
    if let Some(path) = explicit {
        return Ok((vec![path.to_path_buf()], true));
    }
    if let Some(value) = environment {
        let paths: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|path| !path.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return Ok((paths, false));
        }
    }
    match home {
        Some(home) => Ok((vec![home.join(".kube").join("config")], false)),
        None => Err(LiveError::Kubeconfig(
            "no `--kubeconfig`, no `KUBECONFIG` and no home directory to find `~/.kube/config` in"
                .to_string(),
        )),
    }
}

fn describe_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads and merges the kubeconfig files (the first file to set a value wins) and picks the context.
fn select_context(options: &LiveOptions) -> Result<Selection, LiveError> {
    let (paths, explicit) = kubeconfig_paths(options)?;
    select_from_paths(&paths, explicit, options.context.as_deref())
}

fn select_from_paths(
    paths: &[PathBuf],
    explicit: bool,
    requested_context: Option<&str>,
) -> Result<Selection, LiveError> {
    let origin = describe_paths(paths);
    if explicit && let Some(path) = paths.first().filter(|path| !path.exists()) {
        return Err(LiveError::Kubeconfig(format!(
            "`{}` does not exist",
            path.display()
        )));
    }
    // kubectl skips files of a `KUBECONFIG` list that do not exist.
    let existing: Vec<&PathBuf> = paths.iter().filter(|path| path.exists()).collect();
    if existing.is_empty() {
        if requested_context.is_none()
            && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
            && let Ok(config) = kube::Config::incluster()
        {
            return Ok(Selection::InCluster(Box::new(config)));
        }
        return Err(LiveError::Kubeconfig(format!(
            "no kubeconfig found at {origin}"
        )));
    }
    let mut merged = Kubeconfig::default();
    for path in existing {
        let next = read_kubeconfig_file(path)?;
        merged = merged.merge(next).map_err(|error| {
            LiveError::Kubeconfig(format!("cannot merge `{}`: {error}", path.display()))
        })?;
    }
    let context = match requested_context
        .map(str::to_string)
        .or_else(|| merged.current_context.clone())
    {
        Some(context) if !context.is_empty() => context,
        _ => {
            return Err(LiveError::Kubeconfig(format!(
                "{origin} sets no `current-context`; pass `--context`"
            )));
        }
    };
    let Some(named) = merged.contexts.iter().find(|named| named.name == context) else {
        return Err(LiveError::Kubeconfig(format!(
            "context `{context}` not found in {origin}"
        )));
    };
    let Some(details) = &named.context else {
        return Err(LiveError::Kubeconfig(format!(
            "context `{context}` in {origin} is empty"
        )));
    };
    let namespace = details
        .namespace
        .clone()
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let user = details
        .user
        .clone()
        .filter(|user| !user.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    Ok(Selection::Kubeconfig(SelectedContext {
        kubeconfig: Box::new(merged),
        origin,
        context,
        user,
        namespace,
    }))
}

fn read_kubeconfig_file(path: &Path) -> Result<Kubeconfig, LiveError> {
    Kubeconfig::read_from(path).map_err(|error| {
        let detail = match &error {
            kube::config::KubeconfigError::ReadConfig(source, _) => source.to_string(),
            other => other.to_string(),
        };
        LiveError::Kubeconfig(format!("cannot read `{}`: {detail}", path.display()))
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// Why one request failed.
#[derive(Debug, Clone)]
pub(super) enum Failure {
    /// The server answered with an error status.
    Status { code: StatusCode, message: String },
    /// The request did not finish within `--request-timeout`.
    Timeout(String),
    /// No answer: connection refused, DNS, TLS, a broken connection.
    Transport(String),
    /// The credentials could not be obtained (exec plugin, token file, OIDC refresh).
    Credentials(String),
    /// The answer was not what was asked for.
    Decode(String),
}

impl Failure {
    fn reason(&self) -> GapReason {
        match self {
            Failure::Status { code, .. } => match *code {
                StatusCode::UNAUTHORIZED => GapReason::Unauthorized,
                StatusCode::FORBIDDEN => GapReason::Forbidden,
                StatusCode::NOT_FOUND => GapReason::NotFound,
                StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => GapReason::Timeout,
                _ => GapReason::Error,
            },
            Failure::Timeout(_) => GapReason::Timeout,
            Failure::Credentials(_) => GapReason::Unauthorized,
            Failure::Transport(_) | Failure::Decode(_) => GapReason::Error,
        }
    }

    /// No answer at all: a timeout, no connection, no credentials.
    pub(super) fn is_unanswered(&self) -> bool {
        matches!(
            self,
            Failure::Timeout(_) | Failure::Transport(_) | Failure::Credentials(_)
        )
    }

    /// 401 or 403: the user may not read this.
    fn is_refusal(&self) -> bool {
        matches!(self, Failure::Status { code, .. } if *code == StatusCode::UNAUTHORIZED || *code == StatusCode::FORBIDDEN)
    }

    pub(super) fn message(&self) -> String {
        match self {
            Failure::Status { code, message } => format!("HTTP {}: {message}", code.as_u16()),
            Failure::Timeout(message)
            | Failure::Transport(message)
            | Failure::Credentials(message)
            | Failure::Decode(message) => message.clone(),
        }
    }
}

/// Sends requests through kube's client (auth, impersonation, proxies) and keeps the HTTP status.
struct Fetcher {
    client: kube::Client,
    timeout: Option<Duration>,
}

impl Fetcher {
    /// Sends a GET and decodes the JSON answer; 429s are retried a few times.
    async fn fetch(&self, request: http::Request<Vec<u8>>) -> Result<Value, Failure> {
        let (parts, _body) = request.into_parts();
        let mut attempt = 0;
        loop {
            let mut builder = http::Request::builder()
                .method(parts.method.clone())
                .uri(parts.uri.clone());
            if let Some(headers) = builder.headers_mut() {
                headers.extend(parts.headers.clone());
            }
            let request = builder.body(Vec::new()).map_err(|error| {
                Failure::Decode(format!("cannot build request `{}`: {error}", parts.uri))
            })?;
            let (status, retry_after, body) = self.send_once(request).await?;
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < THROTTLE_RETRIES {
                attempt += 1;
                let pause = retry_after.unwrap_or(Duration::from_millis(500 * u64::from(attempt)));
                tokio::time::sleep(pause.min(THROTTLE_PAUSE_LIMIT)).await;
                continue;
            }
            if !status.is_success() {
                return Err(Failure::Status {
                    code: status,
                    message: status_message(status, &body),
                });
            }
            return serde_json::from_slice(&body).map_err(|error| {
                Failure::Decode(format!(
                    "cannot decode the answer to `{}`: {error}",
                    parts.uri
                ))
            });
        }
    }

    async fn send_once(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<(StatusCode, Option<Duration>, Vec<u8>), Failure> {
        let answer = exchange(&self.client, request, self.timeout).await?;
        let retry_after = answer
            .headers
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Ok((answer.status, retry_after, answer.body))
    }
}

/// One answer as it came: status, headers and body.
pub(super) struct RawAnswer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// Sends one request through kube's client (auth, impersonation, proxies) and reads the whole
/// answer within `timeout` (`--request-timeout`); failures without an answer are classified.
pub(super) async fn exchange(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
    timeout: Option<Duration>,
) -> Result<RawAnswer, Failure> {
    let uri = request.uri().to_string();
    let exchange = async {
        let response = client.send(request.map(Body::from)).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect_bytes().await?;
        Ok::<_, kube::Error>(RawAnswer {
            status,
            headers,
            body: body.to_vec(),
        })
    };
    let result = match timeout {
        Some(timeout) => match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                return Err(Failure::Timeout(format!(
                    "no answer to `{uri}` within {}",
                    describe_duration(timeout)
                )));
            }
        },
        None => exchange.await,
    };
    result.map_err(|error| classify_transport_error(&error))
}

pub(super) fn describe_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

fn classify_transport_error(error: &kube::Error) -> Failure {
    let message = error_chain(error);
    if matches!(error, kube::Error::Auth(_)) {
        return Failure::Credentials(message);
    }
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(inner) = current {
        if let Some(io_error) = inner.downcast_ref::<std::io::Error>()
            && io_error.kind() == std::io::ErrorKind::TimedOut
        {
            return Failure::Timeout(message);
        }
        current = inner.source();
    }
    Failure::Transport(message)
}

/// An error and its sources on one line, skipping sources its message already repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut current = error.source();
    while let Some(inner) = current {
        let text = inner.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        current = inner.source();
    }
    message
}

/// The `message` of a `Status` body, else the body text, else the status reason.
fn status_message(status: StatusCode, body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body)
        && let Some(message) = value
            .get("message")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    {
        return message.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no message")
            .to_lowercase();
    }
    let mut shortened: String = text.chars().take(200).collect();
    if shortened.len() < text.len() {
        shortened.push('…');
    }
    shortened
}

fn get_request(path: &str, accept: Option<&str>) -> Result<http::Request<Vec<u8>>, Failure> {
    let mut builder = http::Request::get(path);
    if let Some(accept) = accept {
        builder = builder.header(http::header::ACCEPT, accept);
    }
    builder
        .body(Vec::new())
        .map_err(|error| Failure::Decode(format!("cannot build request `{path}`: {error}")))
}

/// `/version`: the first request, so a cluster that cannot be reached fails the read right away.
async fn probe(fetcher: &Fetcher, identity: &ClusterIdentity) -> Result<Option<String>, LiveError> {
    let request = get_request("/version", None).map_err(|failure| LiveError::Unreachable {
        server: identity.server.clone(),
        message: failure.message(),
    })?;
    match fetcher.fetch(request).await {
        Ok(version) => Ok(version
            .get("gitVersion")
            .and_then(Value::as_str)
            .map(str::to_string)),
        Err(Failure::Transport(message) | Failure::Timeout(message)) => {
            Err(LiveError::Unreachable {
                server: identity.server.clone(),
                message,
            })
        }
        Err(Failure::Credentials(message)) => Err(LiveError::Kubeconfig(format!(
            "cannot get credentials for user `{}` of context `{}`: {message}",
            identity.user, identity.context
        ))),
        Err(failure) => {
            tracing::debug!("cannot read the server version: {}", failure.message());
            Ok(None)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery

/// One kind the server serves, at its preferred version.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServedResource {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    verbs: Vec<String>,
}

impl ServedResource {
    fn can_list(&self) -> bool {
        self.verbs.iter().any(|verb| verb == "list")
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `group/version/plural` (`v1/pods` for the core group), as gaps name resources.
    fn resource_name(&self) -> String {
        format!("{}/{}", self.api_version(), self.plural)
    }

    fn collection_path(&self, namespace: Option<&str>) -> String {
        let root = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(namespace) if self.namespaced => {
                format!("{root}/namespaces/{namespace}/{}", self.plural)
            }
            _ => format!("{root}/{}", self.plural),
        }
    }

    fn served_kind(&self) -> ServedKind {
        ServedKind {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
            namespaced: self.namespaced,
        }
    }
}

/// A group (version) whose discovery failed.
#[derive(Debug, Clone)]
struct GroupFailure {
    group: String,
    /// `group/version`, `v1` or the discovery root (`/api`, `/apis`) that failed.
    target: String,
    failure: Failure,
}

#[derive(Debug, Default)]
struct Discovered {
    resources: Vec<ServedResource>,
    failures: Vec<GroupFailure>,
    /// Both discovery roots (`/api` and `/apis`) were refused with 401/403.
    roots_refused: bool,
}

impl Discovered {
    fn refused_entirely(&self) -> bool {
        self.roots_refused && self.resources.is_empty()
    }
}

#[derive(Deserialize)]
struct ResourceListDocument {
    #[serde(default)]
    resources: Vec<ResourceEntry>,
}

#[derive(Deserialize)]
struct ResourceEntry {
    name: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
}

#[derive(Deserialize)]
struct CoreVersionsDocument {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct GroupListDocument {
    #[serde(default)]
    groups: Vec<GroupEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupEntry {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionEntry>,
    preferred_version: Option<GroupVersionEntry>,
}

#[derive(Deserialize)]
struct GroupVersionEntry {
    version: String,
}

#[derive(Deserialize)]
struct AggregatedDocument {
    #[serde(default)]
    items: Vec<AggregatedGroup>,
}

#[derive(Deserialize)]
struct AggregatedGroup {
    #[serde(default)]
    metadata: Option<AggregatedMetadata>,
    #[serde(default)]
    versions: Vec<AggregatedVersion>,
}

#[derive(Deserialize)]
struct AggregatedMetadata {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedVersion {
    version: String,
    #[serde(default)]
    resources: Vec<AggregatedResource>,
    #[serde(default)]
    freshness: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedResource {
    resource: String,
    #[serde(default)]
    response_kind: Option<AggregatedKind>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    verbs: Vec<String>,
}

#[derive(Deserialize)]
struct AggregatedKind {
    #[serde(default)]
    kind: Option<String>,
}

/// What one group version serves, with its rank in the group's version preference (0 = preferred).
struct VersionResources {
    group: String,
    version: String,
    rank: usize,
    resources: Vec<ServedResource>,
}

/// A group version still to be fetched with classic discovery.
struct PendingVersion {
    group: String,
    version: String,
    rank: usize,
}

impl PendingVersion {
    fn path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    fn target(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Discovers every served kind, tolerating failures of single groups.
async fn discover(fetcher: &Fetcher) -> Discovered {
    let mut discovered = Discovered::default();
    let mut served = Vec::new();
    let mut pending = Vec::new();
    let mut refused_roots = 0;

    for (root, group_list) in [("/api", false), ("/apis", true)] {
        let answer = match get_request(root, Some(ACCEPT_AGGREGATED_DISCOVERY)) {
            Ok(request) => fetcher.fetch(request).await,
            Err(failure) => Err(failure),
        };
        let document = match answer {
            Ok(document) => document,
            Err(failure) => {
                if failure.is_refusal() {
                    refused_roots += 1;
                }
                discovered.failures.push(GroupFailure {
                    group: String::new(),
                    target: root.to_string(),
                    failure,
                });
                continue;
            }
        };
        let parsed = if is_aggregated(&document) {
            parse_aggregated(document, &mut served, &mut discovered.failures)
        } else if group_list {
            parse_group_list(document, &mut pending)
        } else {
            parse_core_versions(document, &mut pending)
        };
        if let Err(failure) = parsed {
            discovered.failures.push(GroupFailure {
                group: String::new(),
                target: root.to_string(),
                failure,
            });
        }
    }
    discovered.roots_refused = refused_roots == 2;

    let fetched: Vec<(PendingVersion, Result<Value, Failure>)> = stream::iter(pending)
        .map(|version| async move {
            let answer = match get_request(&version.path(), None) {
                Ok(request) => fetcher.fetch(request).await,
                Err(failure) => Err(failure),
            };
            (version, answer)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (version, answer) in fetched {
        let parsed = answer.and_then(|document| {
            serde_json::from_value::<ResourceListDocument>(document).map_err(|error| {
                Failure::Decode(format!(
                    "cannot decode the resource list of `{}`: {error}",
                    version.target()
                ))
            })
        });
        match parsed {
            Ok(document) => served.push(VersionResources {
                resources: document
                    .resources
                    .into_iter()
                    .filter_map(|entry| classic_resource(&version.group, &version.version, entry))
                    .collect(),
                group: version.group,
                version: version.version,
                rank: version.rank,
            }),
            Err(failure) => discovered.failures.push(GroupFailure {
                target: version.target(),
                group: version.group,
                failure,
            }),
        }
    }

    discovered.resources = preferred_resources(served);
    discovered
}

fn is_aggregated(document: &Value) -> bool {
    document.get("kind").and_then(Value::as_str) == Some("APIGroupDiscoveryList")
}

fn parse_core_versions(document: Value, pending: &mut Vec<PendingVersion>) -> Result<(), Failure> {
    let document: CoreVersionsDocument = serde_json::from_value(document).map_err(|error| {
        Failure::Decode(format!("cannot decode the core api versions: {error}"))
    })?;
    for (rank, version) in document.versions.into_iter().enumerate() {
        pending.push(PendingVersion {
            group: String::new(),
            version,
            rank,
        });
    }
    Ok(())
}

fn parse_group_list(document: Value, pending: &mut Vec<PendingVersion>) -> Result<(), Failure> {
    let document: GroupListDocument = serde_json::from_value(document)
        .map_err(|error| Failure::Decode(format!("cannot decode the api group list: {error}")))?;
    for group in document.groups {
        let mut versions: Vec<String> = Vec::new();
        for version in group.preferred_version.into_iter().chain(group.versions) {
            if !versions.contains(&version.version) {
                versions.push(version.version);
            }
        }
        for (rank, version) in versions.into_iter().enumerate() {
            pending.push(PendingVersion {
                group: group.name.clone(),
                version,
                rank,
            });
        }
    }
    Ok(())
}

fn parse_aggregated(
    document: Value,
    served: &mut Vec<VersionResources>,
    failures: &mut Vec<GroupFailure>,
) -> Result<(), Failure> {
    let document: AggregatedDocument = serde_json::from_value(document)
        .map_err(|error| Failure::Decode(format!("cannot decode aggregated discovery: {error}")))?;
    for group in document.items {
        let name = group
            .metadata
            .and_then(|metadata| metadata.name)
            .unwrap_or_default();
        // Versions come in preference order.
        for (rank, version) in group.versions.into_iter().enumerate() {
            let target = if name.is_empty() {
                version.version.clone()
            } else {
                format!("{name}/{}", version.version)
            };
            if version.freshness.as_deref() == Some("Stale") {
                failures.push(GroupFailure {
                    group: name.clone(),
                    target: target.clone(),
                    failure: Failure::Status {
                        code: StatusCode::SERVICE_UNAVAILABLE,
                        message: format!("aggregated discovery reports `{target}` as stale"),
                    },
                });
                continue;
            }
            let resources = version
                .resources
                .into_iter()
                .filter_map(|resource| aggregated_resource(&name, &version.version, resource))
                .collect();
            served.push(VersionResources {
                group: name.clone(),
                version: version.version,
                rank,
                resources,
            });
        }
    }
    Ok(())
}

fn classic_resource(group: &str, version: &str, entry: ResourceEntry) -> Option<ServedResource> {
    if entry.name.contains('/') || entry.kind.is_empty() {
        return None;
    }
    Some(ServedResource {
        group: group.to_string(),
        version: version.to_string(),
        kind: entry.kind,
        plural: entry.name,
        namespaced: entry.namespaced,
        verbs: entry.verbs,
    })
}

fn aggregated_resource(
    group: &str,
    version: &str,
    resource: AggregatedResource,
) -> Option<ServedResource> {
    let kind = resource.response_kind.and_then(|kind| kind.kind)?;
    if resource.resource.contains('/') || kind.is_empty() {
        return None;
    }
    Some(ServedResource {
        group: group.to_string(),
        version: version.to_string(),
        kind,
        plural: resource.resource,
        namespaced: resource.scope.as_deref() == Some("Namespaced"),
        verbs: resource.verbs,
    })
}

/// One entry per group/kind, at the most preferred version that serves it.
fn preferred_resources(mut served: Vec<VersionResources>) -> Vec<ServedResource> {
    served.sort_by(|left, right| {
        (&left.group, left.rank, &left.version).cmp(&(&right.group, right.rank, &right.version))
    });
    let mut chosen: BTreeMap<(String, String), ServedResource> = BTreeMap::new();
    for version in served {
        for resource in version.resources {
            chosen
                .entry((resource.group.clone(), resource.kind.clone()))
                .or_insert(resource);
        }
    }
    chosen.into_values().collect()
}

/// A CustomResourceDefinition, as far as potoo cares.
#[derive(Debug, Clone)]
struct CustomResource {
    group: String,
    kind: String,
    plural: String,
    namespaced: bool,
    /// The served storage version, else the first served version.
    version: Option<String>,
    is_policy: bool,
}

impl CustomResource {
    fn from_object(object: &Object) -> Option<CustomResource> {
        let spec = object.spec();
        let group = spec.get("group")?.as_str()?.to_string();
        let kind = spec.pointer("/names/kind")?.as_str()?.to_string();
        let plural = spec.pointer("/names/plural")?.as_str()?.to_string();
        let namespaced = spec.get("scope").and_then(Value::as_str) == Some("Namespaced");
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let served: Vec<&Value> = versions
            .iter()
            .filter(|version| version.get("served").and_then(Value::as_bool) == Some(true))
            .collect();
        let version = served
            .iter()
            .find(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
            .or_else(|| served.first())
            .and_then(|version| version.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let is_policy = object
            .annotations()
            .get(catalog::IS_POLICY_ANNOTATION)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        Some(CustomResource {
            group,
            kind,
            plural,
            namespaced,
            version,
            is_policy,
        })
    }
}

/// Whether a group whose discovery failed may hold kinds potoo reads (so the failure is a gap).
fn group_matters(group: &str, custom_resources: &[CustomResource]) -> bool {
    catalog::KNOWN_KINDS
        .iter()
        .any(|known| known.group == group)
        || group == catalog::GATEKEEPER_CONSTRAINT_GROUP
        || catalog::is_policy_like(group, "")
        || custom_resources
            .iter()
            .any(|custom| custom.group == group && custom.is_policy)
}

/// For groups whose discovery failed: kinds recovered from their CRDs, and gaps for what stays unknown.
fn recover_failed_groups(
    failures: &[GroupFailure],
    resources: &[ServedResource],
    custom_resources: &[CustomResource],
    gaps: &mut Vec<Gap>,
) -> Vec<ServedResource> {
    let mut recovered: Vec<ServedResource> = Vec::new();
    for failure in failures {
        let from_crds: Vec<ServedResource> = custom_resources
            .iter()
            .filter(|custom| custom.group == failure.group && !failure.group.is_empty())
            .filter(|custom| {
                !resources
                    .iter()
                    .chain(recovered.iter())
                    .any(|resource| resource.group == custom.group && resource.kind == custom.kind)
            })
            .filter_map(|custom| {
                Some(ServedResource {
                    group: custom.group.clone(),
                    version: custom.version.clone()?,
                    kind: custom.kind.clone(),
                    plural: custom.plural.clone(),
                    namespaced: custom.namespaced,
                    verbs: vec!["list".to_string()],
                })
            })
            .collect();
        let is_root = failure.target.starts_with('/');
        if !from_crds.is_empty() {
            tracing::debug!(
                "discovery of `{}` failed ({}); using its CustomResourceDefinitions",
                failure.target,
                failure.failure.message()
            );
            recovered.extend(from_crds);
        } else if is_root || group_matters(&failure.group, custom_resources) {
            gaps.push(Gap {
                resource: failure.target.clone(),
                kind: "APIResourceList".to_string(),
                namespace: None,
                reason: failure.failure.reason(),
                message: format!(
                    "discovery of `{}` failed: {}",
                    failure.target,
                    failure.failure.message()
                ),
            });
        } else {
            tracing::debug!(
                "discovery of `{}` failed and it holds no policy kinds: {}",
                failure.target,
                failure.failure.message()
            );
        }
    }
    recovered
}

// ---------------------------------------------------------------------------------------------
// Lists

/// One kind to list, in one namespace or cluster-wide.
struct ListTask {
    resource: ServedResource,
    namespace: Option<String>,
    metadata_only: bool,
}

impl ListTask {
    fn new(resource: ServedResource, namespace: Option<String>, metadata_only: bool) -> ListTask {
        ListTask {
            resource,
            namespace,
            metadata_only,
        }
    }

    fn gap(&self, failure: &Failure) -> Gap {
        Gap {
            resource: self.resource.resource_name(),
            kind: self.resource.kind.clone(),
            namespace: self.namespace.clone(),
            reason: failure.reason(),
            message: failure.message(),
        }
    }
}

/// What listing one kind produced.
struct ListOutcome {
    objects: Vec<Object>,
    gaps: Vec<Gap>,
    /// Why the list itself failed (its objects may be partial then).
    failure: Option<Failure>,
}

/// The kinds to list: known kinds, Gatekeeper constraints, policy-like kinds and annotated CRDs.
fn plan(
    resources: &[ServedResource],
    annotated: &BTreeSet<(String, String)>,
    scope: &NamespaceScope,
    kinds_read: super::KindsRead,
) -> Vec<ListTask> {
    let mut tasks = Vec::new();
    for resource in resources {
        if !resource.can_list() || (resource.group == CRD_GROUP && resource.kind == CRD_KIND) {
            continue;
        }
        let known = catalog::known_kind(&resource.group, &resource.kind);
        let wanted = known.is_some()
            || resource.group == catalog::GATEKEEPER_CONSTRAINT_GROUP
            || catalog::is_policy_like(&resource.group, &resource.kind)
            || annotated.contains(&(resource.group.clone(), resource.kind.clone()));
        if !wanted {
            continue;
        }
        let metadata_only = known.is_some_and(|known| known.purpose == Purpose::MetadataOnly)
            || !kinds_read.reads(&resource.group, &resource.kind);
        let namespace = match scope {
            NamespaceScope::One(namespace) if resource.namespaced => Some(namespace.clone()),
            _ => None,
        };
        tasks.push(ListTask::new(resource.clone(), namespace, metadata_only));
    }
    tasks
}

async fn run_task(fetcher: &Fetcher, task: ListTask, scope: &NamespaceScope) -> ListOutcome {
    let mut outcome = list_pages(fetcher, &task).await;
    let is_namespace_kind = task.resource.group.is_empty() && task.resource.kind == "Namespace";
    let forbidden = matches!(&outcome.failure, Some(Failure::Status { code, .. }) if *code == StatusCode::FORBIDDEN);
    if let (true, true, NamespaceScope::One(namespace)) = (is_namespace_kind, forbidden, scope) {
        match get_namespace(fetcher, &task.resource, namespace).await {
            Ok(object) => {
                tracing::debug!(
                    "listing namespaces is forbidden; read namespace `{namespace}` by name"
                );
                outcome.objects = vec![object];
                outcome.failure = None;
            }
            Err(get_failure) => {
                tracing::debug!(
                    "cannot get namespace `{namespace}` either: {}",
                    get_failure.message()
                );
            }
        }
    }
    if let Some(failure) = &outcome.failure {
        outcome.gaps.push(task.gap(failure));
    }
    outcome
}

async fn get_namespace(
    fetcher: &Fetcher,
    resource: &ServedResource,
    namespace: &str,
) -> Result<Object, Failure> {
    let request = Request::new(resource.collection_path(None))
        .get(namespace, &GetParams::default())
        .map_err(|error| {
            Failure::Decode(format!(
                "cannot build the request for namespace `{namespace}`: {error}"
            ))
        })?;
    let mut value = fetcher.fetch(request).await?;
    set_identity(&mut value, resource);
    object_from_value(value)
        .map_err(|error| Failure::Decode(format!("cannot decode namespace `{namespace}`: {error}")))
}

/// Lists one kind page by page; objects read before a failure are kept.
async fn list_pages(fetcher: &Fetcher, task: &ListTask) -> ListOutcome {
    let mut outcome = ListOutcome {
        objects: Vec::new(),
        gaps: Vec::new(),
        failure: None,
    };
    let path = task.resource.collection_path(task.namespace.as_deref());
    let mut continue_token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(token) = &continue_token {
            params = params.continue_token(token);
        }
        let request = if task.metadata_only {
            Request::new(&path).list_metadata(&params)
        } else {
            Request::new(&path).list(&params)
        };
        let page = match request {
            Ok(request) => fetcher.fetch(request).await,
            Err(error) => Err(Failure::Decode(format!(
                "cannot build the list request `{path}`: {error}"
            ))),
        };
        let mut page = match page {
            Ok(page) => page,
            Err(failure) => {
                outcome.failure = Some(failure);
                return outcome;
            }
        };
        let items = match page.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                outcome.failure = Some(Failure::Decode(format!(
                    "the list `{path}` has no `items` array"
                )));
                return outcome;
            }
        };
        for (index, mut item) in items.into_iter().enumerate() {
            set_identity(&mut item, &task.resource);
            let name = item
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{index}"), |name| format!("`{name}`"));
            let namespace = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| task.namespace.clone());
            match object_from_value(item) {
                Ok(object) => outcome.objects.push(object),
                Err(error) => outcome.gaps.push(Gap {
                    resource: task.resource.resource_name(),
                    kind: task.resource.kind.clone(),
                    namespace,
                    reason: GapReason::Error,
                    message: format!(
                        "cannot decode {} object {name}: {error}",
                        task.resource.kind
                    ),
                }),
            }
        }
        let next = page
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_string);
        match next {
            None => return outcome,
            Some(token) if continue_token.as_ref() == Some(&token) => {
                outcome.failure = Some(Failure::Decode(format!(
                    "the server repeated the continue token of `{path}`"
                )));
                return outcome;
            }
            Some(token) => continue_token = Some(token),
        }
    }
}

/// List items carry no `apiVersion`/`kind` (metadata lists say `PartialObjectMetadata`): set them.
fn set_identity(item: &mut Value, resource: &ServedResource) {
    if let Value::Object(fields) = item {
        fields.insert(
            "apiVersion".to_string(),
            Value::String(resource.api_version()),
        );
        fields.insert("kind".to_string(), Value::String(resource.kind.clone()));
    }
}

// ---------------------------------------------------------------------------------------------
// Progress

/// A progress bar on stderr while listing, when asked for and stderr is a terminal.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(enabled: bool, total: usize, done: usize) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} reading kinds {pos}/{len} {wide_bar}",
        ) {
            bar.set_style(style);
        }
        bar.set_position(done as u64);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn advance(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, kind: &str, plural: &str, namespaced: bool) -> ServedResource {
        ServedResource {
            group: group.to_string(),
            version: "v1".to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            namespaced,
            verbs: vec!["get".to_string(), "list".to_string()],
        }
    }

    #[test]
    fn paths_follow_scope() {
        let pods = resource("", "Pod", "pods", true);
        assert_eq!(
            pods.collection_path(Some("team-a")),
            "/api/v1/namespaces/team-a/pods"
        );
        assert_eq!(pods.collection_path(None), "/api/v1/pods");
        let webhooks = resource(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
        );
        assert_eq!(
            webhooks.collection_path(Some("team-a")),
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
        );
        assert_eq!(
            webhooks.resource_name(),
            "admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
        );
    }

    #[test]
    fn plan_picks_known_policy_like_and_annotated_kinds_only() {
        let mut unlistable = resource("example.com", "QuotaReview", "quotareviews", false);
        unlistable.verbs = vec!["create".to_string()];
        let resources = vec![
            resource("", "Pod", "pods", true),
            resource("", "Secret", "secrets", true),
            resource("", "Event", "events", true),
            resource(
                "constraints.gatekeeper.sh",
                "K8sRequiredLabels",
                "k8srequiredlabels",
                false,
            ),
            resource("example.com", "TrafficRule", "trafficrules", true),
            resource("example.com", "Widget", "widgets", true),
            resource("other.example.com", "Guard", "guards", false),
            resource(CRD_GROUP, CRD_KIND, "customresourcedefinitions", false),
            unlistable,
        ];
        let annotated = BTreeSet::from([("other.example.com".to_string(), "Guard".to_string())]);
        let tasks = plan(
            &resources,
            &annotated,
            &NamespaceScope::One("team-a".to_string()),
            crate::source::KindsRead::Every,
        );
        let planned: Vec<(&str, Option<&str>, bool)> = tasks
            .iter()
            .map(|task| {
                (
                    task.resource.kind.as_str(),
                    task.namespace.as_deref(),
                    task.metadata_only,
                )
            })
            .collect();
        assert_eq!(
            planned,
            vec![
                ("Pod", Some("team-a"), false),
                ("Secret", Some("team-a"), true),
                ("K8sRequiredLabels", None, false),
                ("TrafficRule", Some("team-a"), false),
                ("Guard", None, false),
            ]
        );
        // A command that does not read workloads lists them metadata-only; nothing else changes.
        let lean = plan(
            &resources,
            &annotated,
            &NamespaceScope::All,
            crate::source::KindsRead::AllButWorkloads,
        );
        let metadata_only: Vec<(&str, bool)> = lean
            .iter()
            .map(|task| (task.resource.kind.as_str(), task.metadata_only))
            .collect();
        assert_eq!(
            metadata_only,
            vec![
                ("Pod", true),
                ("Secret", true),
                ("K8sRequiredLabels", false),
                ("TrafficRule", false),
                ("Guard", false),
            ]
        );
    }

    #[test]
    fn preferred_version_wins_per_kind() {
        let mut beta = resource(
            "admissionregistration.k8s.io",
            "MutatingAdmissionPolicy",
            "mutatingadmissionpolicies",
            false,
        );
        beta.version = "v1beta1".to_string();
        let mut beta_webhooks = resource(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
        );
        beta_webhooks.version = "v1beta1".to_string();
        let served = vec![
            VersionResources {
                group: "admissionregistration.k8s.io".to_string(),
                version: "v1beta1".to_string(),
                rank: 1,
                resources: vec![beta, beta_webhooks],
            },
            VersionResources {
                group: "admissionregistration.k8s.io".to_string(),
                version: "v1".to_string(),
                rank: 0,
                resources: vec![resource(
                    "admissionregistration.k8s.io",
                    "ValidatingWebhookConfiguration",
                    "validatingwebhookconfigurations",
                    false,
                )],
            },
        ];
        let chosen: Vec<(String, String)> = preferred_resources(served)
            .into_iter()
            .map(|resource| (resource.kind, resource.version))
            .collect();
        assert_eq!(
            chosen,
            vec![
                ("MutatingAdmissionPolicy".to_string(), "v1beta1".to_string()),
                (
                    "ValidatingWebhookConfiguration".to_string(),
                    "v1".to_string()
                ),
            ]
        );
    }

    #[test]
    fn kubeconfig_paths_follow_kubectl_precedence() {
        let home = Some(PathBuf::from("/home/dev"));
        let explicit = resolve_kubeconfig_paths(
            Some(Path::new("/tmp/explicit")),
            Some(std::ffi::OsStr::new("/a:/b")),
            home.clone(),
        );
        assert!(
            matches!(explicit, Ok((paths, true)) if paths == vec![PathBuf::from("/tmp/explicit")])
        );
        let environment =
            resolve_kubeconfig_paths(None, Some(std::ffi::OsStr::new("/a::/b")), home.clone());
        assert!(
            matches!(environment, Ok((paths, false)) if paths == vec![PathBuf::from("/a"), PathBuf::from("/b")])
        );
        let fallback = resolve_kubeconfig_paths(None, Some(std::ffi::OsStr::new("")), home);
        assert!(
            matches!(fallback, Ok((paths, false)) if paths == vec![PathBuf::from("/home/dev/.kube/config")])
        );
        assert!(matches!(
            resolve_kubeconfig_paths(None, None, None),
            Err(LiveError::Kubeconfig(_))
        ));
    }

    #[test]
    fn kubeconfig_lists_merge_first_wins_and_skip_missing_files() {
        let directory = tempfile::TempDir::new().unwrap();
        let first = directory.path().join("first");
        let second = directory.path().join("second");
        std::fs::write(
            &first,
            "current-context: shared\ncontexts:\n- name: shared\n  context: {cluster: one, user: alice, namespace: from-first}\n",
        )
        .unwrap();
        std::fs::write(
            &second,
            "current-context: other\nclusters:\n- name: one\n  cluster: {server: 'https://one.example'}\ncontexts:\n- name: shared\n  context: {cluster: one, namespace: from-second}\n- name: other\n  context: {cluster: one}\n",
        )
        .unwrap();
        let paths = vec![first, directory.path().join("missing"), second];
        let Ok(Selection::Kubeconfig(selected)) = select_from_paths(&paths, false, None) else {
            panic!("the merged kubeconfig selects a context");
        };
        assert_eq!(
            (
                selected.context.as_str(),
                selected.namespace.as_str(),
                selected.user.as_str()
            ),
            ("shared", "from-first", "alice")
        );
        let Ok(Selection::Kubeconfig(other)) = select_from_paths(&paths, false, Some("other"))
        else {
            panic!("the second file's context is found");
        };
        assert_eq!(other.namespace, "default");
        match select_from_paths(&paths, false, Some("absent")) {
            Err(LiveError::Kubeconfig(message)) => {
                assert!(message.contains("`absent`"), "{message}")
            }
            _ => panic!("an unknown context is an error"),
        }
    }

    #[test]
    fn status_messages_prefer_the_status_body() {
        let body = br#"{"kind":"Status","message":"pods is forbidden"}"#;
        assert_eq!(
            status_message(StatusCode::FORBIDDEN, body),
            "pods is forbidden"
        );
        assert_eq!(
            status_message(StatusCode::SERVICE_UNAVAILABLE, b""),
            "service unavailable"
        );
        assert_eq!(
            status_message(StatusCode::BAD_GATEWAY, b" upstream down \n"),
            "upstream down"
        );
    }
}
