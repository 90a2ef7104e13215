//! The generic reconciler of every managed kind: finalizer, conflict check,
//! connection, engine, status, events and retry timing.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::reflector::Store;
use kube::{Api, ResourceExt};

use super::connections::{ConnectionError, Connections};
use super::context::Context;
use super::identity;
use super::kinds::{Inputs, ManagedResource, QuayLocation, StepError};
use super::references;
use super::scope::KindScope;
use super::signals::{ConnectionId, Waiter};
use super::status::{Conditions, Progress, patch_status, ready_changed};
use crate::crd::{DeletionPolicy, ManagementPolicy, Origin};
use crate::engine::{self, EngineError, ErrorClass, Managed, Mode, Quay, Report};
use crate::quay::ErrorKind;

/// The finalizer that makes deletion wait for the Quay side.
pub const FINALIZER: &str = "quayconfig.io/finalizer";

/// The retry of a resource whose dependency appeared during its reconcile.
const APPEARED_RETRY: Duration = Duration::from_millis(200);

/// Errors that end a reconcile and go to the error policy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to the Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Deleting the Quay object failed; retry after the given delay.
    #[error("{message}")]
    Cleanup {
        /// What went wrong.
        message: String,
        /// When to try again.
        retry_in: Duration,
    },
    /// The finalizer helper failed.
    #[error(transparent)]
    Finalizer(Box<kube::runtime::finalizer::Error<Error>>),
}

/// The reconciler's view of one kind: shared context plus the kind's cache.
pub struct KindContext<K: ManagedResource> {
    /// Shared controller state.
    pub shared: Arc<Context>,
    /// All objects of the kind (for conflict detection).
    pub store: Store<K>,
}

/// Why one reconcile could not finish.
enum Failure {
    Connection(ConnectionError),
    Spec(String),
    Engine(EngineError),
    Kube(kube::Error),
    /// A referenced resource (QuayRepository, QuayOrganization) does not exist yet.
    Reference(String),
    /// An older resource (`namespace/name`) manages the same Quay object.
    Conflict(String),
}

impl From<StepError> for Failure {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Quay(e) => Failure::Engine(e),
            StepError::Kube(e) => Failure::Kube(e),
        }
    }
}

impl Failure {
    fn class(&self) -> ErrorClass {
        match self {
            Failure::Connection(ConnectionError::Kube(_)) => ErrorClass::Transient,
            Failure::Connection(ConnectionError::Invalid(_)) => ErrorClass::Terminal,
            Failure::Connection(_) => ErrorClass::Waiting,
            Failure::Spec(_) => ErrorClass::Terminal,
            Failure::Engine(e) => e.class(),
            Failure::Kube(_) => ErrorClass::Transient,
            Failure::Reference(_) | Failure::Conflict(_) => ErrorClass::Waiting,
        }
    }
    /// Whether Quay refused the token (401) on a request of this reconcile.
    fn token_refused(&self) -> bool {
        matches!(self, Failure::Engine(e) if e.reason() == ErrorKind::Unauthorized.as_str())
    }
    /// `Stalled` when only a person can unblock it (whatever the retry
    /// pace), else `Reconciling`.
    fn progress(&self) -> Progress {
        match self {
            Failure::Conflict(_)
            | Failure::Connection(
                ConnectionError::NotPermitted(_)
                | ConnectionError::IdentityChanged(_)
                | ConnectionError::TokenRefused(_)
                | ConnectionError::SecretUnusable(_),
            ) => Progress::Stalled,
            _ if self.class() == ErrorClass::Terminal => Progress::Stalled,
            _ => Progress::Reconciling,
        }
    }
    fn reason(&self) -> &'static str {
        match self {
            Failure::Connection(e) => e.reason(),
            Failure::Spec(_) => "InvalidSpec",
            Failure::Engine(e) => e.reason(),
            Failure::Kube(_) => "KubernetesError",
            Failure::Reference(_) => "WaitingForDependency",
            Failure::Conflict(_) => "ConflictingResource",
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Engine(e) => e.retry_after(),
            Failure::Connection(_)
            | Failure::Spec(_)
            | Failure::Kube(_)
            | Failure::Reference(_)
            | Failure::Conflict(_) => None,
        }
    }
    fn message(&self) -> String {
        match self {
            Failure::Connection(e) => e.to_string(),
            Failure::Spec(m) => m.clone(),
            Failure::Engine(e) => e.to_string(),
            Failure::Kube(e) => format!("Kubernetes API: {e}"),
            Failure::Reference(what) => format!("waiting for {what}"),
            Failure::Conflict(owner) => format!("already managed by {owner}"),
        }
    }
}

/// Entry point for the kube-rs controller.
pub async fn reconcile<K: ManagedResource>(
    obj: Arc<K>,
    ctx: Arc<KindContext<K>>,
) -> Result<Action, Error> {
    let api: Api<K> = <K::Scope as KindScope>::api(&ctx.shared.client, obj.namespace().as_deref());
    finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            FinalizerEvent::Apply(obj) => apply(&api, &obj, &ctx).await,
            FinalizerEvent::Cleanup(obj) => cleanup(&api, &obj, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(Box::new(other)),
    })
}

/// Retry timing for errors that escaped the reconciler.
pub fn error_policy<K: ManagedResource>(
    obj: Arc<K>,
    error: &Error,
    _ctx: Arc<KindContext<K>>,
) -> Action {
    tracing::warn!(kind = %K::kind(&()), name = %obj.name_any(), namespace = ?obj.namespace(), %error, "reconcile failed");
    match error {
        Error::Cleanup { retry_in, .. } => Action::requeue(*retry_in),
        _ => Action::requeue(Duration::from_secs(15)),
    }
}

/// `obj` as the wake-ups of [`super::signals`] name it.
fn waiter<K: ManagedResource>(obj: &K) -> Waiter {
    Waiter {
        kind: K::kind(&()).into_owned(),
        namespace: obj.namespace(),
        name: obj.name_any(),
    }
}

fn object_key<K: ManagedResource>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// The other live resources anywhere in the cluster that claim the same
/// Quay object on the same Quay host (whatever connection they use), with
/// whether each is older than `obj`. When a connection's host cannot be
/// read, resources of the same namespace and connection still count.
async fn claimants<K: ManagedResource>(
    obj: &K,
    store: &Store<K>,
    connections: &Connections,
) -> Vec<(String, bool)> {
    let identity = obj.conflict_key();
    let rank = |o: &K| (o.creation_timestamp().map(|t| t.0), o.uid());
    let namespace = obj.namespace().unwrap_or_default();
    let connection = obj.connection();
    // Hosts are looked up only for resources claiming the same object.
    let mut host: Option<Option<String>> = None;
    let mut claimants = Vec::new();
    for other in store.state() {
        if other.uid() == obj.uid()
            || other.meta().deletion_timestamp.is_some()
            || other.conflict_key() != identity
        {
            continue;
        }
        let other_namespace = other.namespace().unwrap_or_default();
        let other_connection = other.connection();
        let same = other_namespace == namespace && other_connection == connection || {
            if host.is_none() {
                host = Some(connections.host_of(&namespace, &connection).await);
            }
            let own = host.clone().flatten();
            own.is_some()
                && connections
                    .host_of(&other_namespace, &other_connection)
                    .await
                    == own
        };
        if same {
            let label = match other_namespace.as_str() {
                "" => other.name_any(),
                ns => format!("{ns}/{}", other.name_any()),
            };
            claimants.push((label, rank(&other) < rank(obj)));
        }
    }
    claimants
}

/// The older resource that manages the same Quay object, if there is one:
/// it wins, this one changes nothing.
async fn conflicting_owner<K: ManagedResource>(
    obj: &K,
    store: &Store<K>,
    connections: &Connections,
) -> Option<String> {
    claimants(obj, store, connections)
        .await
        .into_iter()
        .filter(|(_, older)| *older)
        .map(|(name, _)| name)
        .min()
}

async fn write_status<K: ManagedResource>(
    api: &Api<K>,
    obj: &K,
    conditions: Vec<Condition>,
    origin: Option<Origin>,
    drift: Vec<String>,
    registry_host: Option<&str>,
    extra: Option<K::Extra>,
) -> Result<(), Error> {
    let common = crate::crd::ManagedStatus {
        conditions,
        observed_generation: obj.meta().generation,
        origin,
        drift,
    };
    patch_status(api, obj, &obj.status(common, registry_host, extra)).await?;
    Ok(())
}

/// Sets `Ready=False` (and `progress`) with `reason` and `message`,
/// publishes a Warning event when that changed `Ready` (not on every retry),
/// and returns the conditions to write.
async fn not_ready<K: ManagedResource>(
    shared: &Context,
    obj: &K,
    mut conditions: Conditions,
    progress: Progress,
    reason: &str,
    action: &str,
    message: &str,
) -> Vec<Condition> {
    conditions.set_ready(progress, reason, message);
    let previous = conditions.previous_ready().cloned();
    let next = conditions.into_vec();
    if ready_changed(previous.as_ref(), &next) {
        shared
            .publish(obj, EventType::Warning, reason, action, message.to_owned())
            .await;
    }
    next
}

/// `repository acme/app`, `organization acme`: what a message is about.
fn what<K: ManagedResource>(obj: &K) -> String {
    let kind = K::kind(&());
    format!(
        "{} {}",
        kind.trim_start_matches("Quay").to_lowercase(),
        obj.quay_identity()
    )
}

async fn apply<K: ManagedResource>(
    api: &Api<K>,
    obj: &K,
    ctx: &KindContext<K>,
) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let shared = &ctx.shared;
    let key = object_key(obj);
    let mut conditions = Conditions::new(obj.conditions(), obj.meta().generation);

    let mode = match obj.management_policy() {
        ManagementPolicy::Full => Mode::Apply,
        ManagementPolicy::ObserveOnly => Mode::Observe,
    };
    let namespace = obj.namespace().unwrap_or_default();
    let waiter = waiter(obj);
    let mark = shared.signals.start(&waiter);
    let mut located = obj.quay_location();
    // Whether this reconcile created the Quay object (even if a later step failed).
    let mut created = false;
    let result = async {
        let Prepared {
            quay,
            desired,
            location,
        } = prepare(shared, obj, &namespace, false).await?;
        located = location;
        // Checked once the connection and its tenancy rules admit the
        // resource, before anything is sent to Quay.
        if let Some(owner) = conflicting_owner(obj, &ctx.store, &shared.connections).await {
            return Err(Failure::Conflict(owner));
        }
        let report = engine::reconcile(&desired, &quay, mode)
            .await
            .map_err(Failure::Engine)?;
        created = report.created();
        let extra = match mode {
            Mode::Apply => Some(
                obj.after_apply(shared, &quay, &report)
                    .await
                    .map_err(Failure::from)?,
            ),
            Mode::Observe => None,
        };
        Ok::<_, Failure>((quay, desired, report, extra))
    }
    .await;

    match result {
        Ok((quay, desired, report, extra)) => {
            let host = quay.client.registry_host();
            shared.succeeded(&key);
            shared
                .metrics
                .reconciled(&K::kind(&()), None, started.elapsed());
            let origin = obj.origin().or(match mode {
                Mode::Apply if report.created() => Some(Origin::Created),
                Mode::Apply => Some(Origin::Adopted),
                Mode::Observe => None,
            });
            let adopting = mode == Mode::Apply && report.existed && obj.origin().is_none();
            // Created now, or by an earlier reconcile that failed after the
            // create (the first success of a resource): wake what waits for it.
            if mode == Mode::Apply
                && K::announces()
                && (report.created() || obj.origin().is_none())
                && let Some(location) = located.clone()
            {
                shared.signals.appeared(location, &waiter);
            }
            let (ready, reason, message, drift) = outcome(&desired, &report, mode, adopting);
            // Not ready after a reconcile that worked: observe-only and Quay
            // differs, which the operator will not change by itself.
            let progress = match ready {
                true => Progress::Ready,
                false => Progress::Stalled,
            };
            conditions.set_ready(progress, reason, &message);
            let previous = conditions.previous_ready().cloned();
            let next = conditions.into_vec();
            if report.applied || adopting || (!ready && ready_changed(previous.as_ref(), &next)) {
                let type_ = if ready {
                    EventType::Normal
                } else {
                    EventType::Warning
                };
                shared
                    .publish(obj, type_, reason, "Reconcile", message)
                    .await;
            }
            write_status(api, obj, next, origin, drift, Some(&host), extra).await?;
            // A change feed covering the organization reports what others
            // change; a full observation is then only the safety net.
            let user = (namespace.clone(), obj.connection().to_string());
            let covered = located
                .as_ref()
                .is_some_and(|l| shared.feeds.covers(&quay, &l.namespace, user));
            Ok(Action::requeue(match covered {
                true => shared.full_resync,
                false => shared.resync,
            }))
        }
        Err(Failure::Conflict(owner)) => {
            let message = format!(
                "{} is already managed by {} {owner}; this resource changes nothing",
                what(obj),
                K::kind(&())
            );
            conditions.set("Conflict", true, "ConflictingResource", &message);
            let next = not_ready(
                shared,
                obj,
                conditions,
                Progress::Stalled,
                "ConflictingResource",
                "Reconcile",
                &message,
            )
            .await;
            write_status(api, obj, next, obj.origin(), Vec::new(), None, None).await?;
            Ok(Action::requeue(shared.resync))
        }
        Err(failure) => {
            shared
                .metrics
                .reconciled(&K::kind(&()), Some(failure.reason()), started.elapsed());
            if failure.token_refused() {
                shared
                    .signals
                    .recheck(ConnectionId::of(&namespace, &obj.connection()));
            }
            let mut delay = shared.failed(&key, failure.class(), failure.retry_after());
            // Woken when what it waits for is created; at once when that
            // happened while it looked (its reads may predate it).
            let created =
                created || matches!(failure, Failure::Engine(EngineError::CreatedThenFailed(_)));
            if failure.reason() == "WaitingForDependency"
                && let Some(at) = located.clone()
                && shared.signals.wait(mark, waiter.clone(), at)
            {
                delay = APPEARED_RETRY;
            }
            // Created before it failed (a list of the new object, a Secret
            // write): it is ours, and what waits for it may go on.
            if created
                && K::announces()
                && let Some(location) = located
            {
                shared.signals.appeared(location, &waiter);
            }
            let message = format!("{}: {}", what(obj), failure.message());
            let next = not_ready(
                shared,
                obj,
                conditions,
                failure.progress(),
                failure.reason(),
                "Reconcile",
                &message,
            )
            .await;
            tracing::info!(object = %key, reason = failure.reason(), retry_in = ?delay, "not reconciled");
            let drift = obj_drift(obj);
            // A create that failed half-way left the object: it is ours.
            let origin = match created {
                true => obj.origin().or(Some(Origin::Created)),
                false => obj.origin(),
            };
            write_status(api, obj, next, origin, drift, None, None).await?;
            Ok(Action::requeue(delay))
        }
    }
}

fn obj_drift<K: ManagedResource>(obj: &K) -> Vec<String> {
    serde_json::to_value(obj)
        .ok()
        .and_then(|v| v.pointer("/status/drift").cloned())
        .and_then(|d| serde_json::from_value(d).ok())
        .unwrap_or_default()
}

/// The Quay endpoint and the desired state of `obj`: connection, referenced
/// Secrets and resources, then the kind's conversion. For a deletion
/// (`cleanup`), a gone connection falls back to its last client and missing
/// Secrets or references are skipped (the kind falls back to its status).
async fn prepare<K: ManagedResource>(
    shared: &Context,
    obj: &K,
    namespace: &str,
    cleanup: bool,
) -> Result<Prepared<K::Desired>, Failure> {
    let connection = obj.connection();
    let resolved = if cleanup {
        shared
            .connections
            .resolve_for_cleanup(namespace, &connection)
            .await
    } else {
        shared.connections.resolve(namespace, &connection).await
    }
    .map_err(Failure::Connection)?;
    // Quay refuses the connection's token: asking again per resource would
    // only cost Quay a request each; the connection's check finds when it
    // works again and wakes this resource.
    if !cleanup
        && let Some(refused) = resolved.status.as_ref().and_then(|s| {
            s.conditions.iter().find(|c| {
                c.type_ == "Ready"
                    && c.status == "False"
                    && c.reason == ErrorKind::Unauthorized.as_str()
            })
        })
    {
        return Err(Failure::Connection(ConnectionError::TokenRefused(format!(
            "{connection}: {}",
            refused.message
        ))));
    }
    let mut inputs = shared
        .connections
        .secret_values(namespace, &obj.secret_refs(), cleanup)
        .await
        .map_err(Failure::Connection)?;
    inputs.add_digests(|data| resolved.quay.client.keyed_digest(data));
    references::resolve(
        &shared.client,
        namespace,
        &obj.resource_refs(),
        &mut inputs,
        cleanup,
    )
    .await
    .map_err(|e| Failure::Connection(e.into()))?
    .map_err(Failure::Reference)?;
    let location = location(obj, &inputs);
    if let Some(grant) = &resolved.grant {
        let organization = location.as_ref().map(|l| l.namespace.clone()).ok_or_else(|| {
            Failure::Connection(ConnectionError::NotPermitted(format!(
                "{connection} needs the Quay organization of each resource; set it in the spec (a robot or repository of the token's own user namespace cannot be managed through it)"
            )))
        })?;
        grant
            .permits(&organization, K::kind(&()) == "QuayOrganization")
            .map_err(|e| Failure::Connection(ConnectionError::NotPermitted(e)))?;
    }
    // A token that now belongs to someone else acts for nobody.
    if let Some(pinned) = resolved.status.as_ref().and_then(|s| s.user.as_deref()) {
        let me = resolved
            .quay
            .me()
            .await
            .map_err(|e| Failure::Engine(e.into()))?;
        let confirmed = resolved
            .annotations
            .get(identity::CONFIRM_USER_ANNOTATION)
            .map(String::as_str);
        identity::check(Some(pinned), confirmed, &me.username)
            .map_err(|e| Failure::Connection(e.into()))?;
    }
    let desired = obj.desired(&inputs).map_err(Failure::Spec)?;
    Ok(Prepared {
        quay: resolved.quay,
        desired,
        location,
    })
}

/// What a reconcile works with: see [`prepare`].
struct Prepared<D> {
    quay: Quay,
    desired: D,
    /// Where the Quay object lives (see [`ManagedResource::quay_location`]).
    location: Option<QuayLocation>,
}

/// Where `obj`'s Quay object lives, once its references are resolved: where
/// the reference points now (what the kind's conversion targets, and so what
/// tenancy rules must admit), else what the spec or status says.
fn location<K: ManagedResource>(obj: &K, inputs: &Inputs) -> Option<QuayLocation> {
    inputs.referenced_location().or_else(|| obj.quay_location())
}

/// Ready status, reason, message and drift list for a finished reconcile.
fn outcome<M: Managed>(
    desired: &M,
    report: &Report<M::Live>,
    mode: Mode,
    adopting: bool,
) -> (bool, &'static str, String, Vec<String>) {
    let what = desired.describe();
    let fields = || {
        report
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match mode {
        Mode::Apply if report.created() => (
            true,
            "Created",
            format!("created {what} in Quay"),
            Vec::new(),
        ),
        Mode::Apply if adopting && report.applied => (
            true,
            "Adopted",
            format!("adopted existing {what} and updated {}", fields()),
            Vec::new(),
        ),
        Mode::Apply if adopting => (
            true,
            "Adopted",
            format!("adopted existing {what}; it matches the spec"),
            Vec::new(),
        ),
        Mode::Apply if report.applied => (
            true,
            "Updated",
            format!("updated {} of {what}", fields()),
            Vec::new(),
        ),
        Mode::Apply => (
            true,
            "InSync",
            format!("{what} matches the spec"),
            Vec::new(),
        ),
        Mode::Observe if !report.existed => (
            false,
            "NotFoundInQuay",
            format!("{what} does not exist in Quay (managementPolicy ObserveOnly: not created)"),
            Vec::new(),
        ),
        Mode::Observe if !report.changes.is_empty() => (
            false,
            "DriftDetected",
            format!(
                "{what} differs from the spec in {} (managementPolicy ObserveOnly: not changed)",
                fields()
            ),
            report.changes.iter().map(ToString::to_string).collect(),
        ),
        Mode::Observe => (
            true,
            "ObservedInSync",
            format!("{what} matches the spec"),
            Vec::new(),
        ),
    }
}

/// Whether the Quay object goes when the resource goes: only when the policy
/// says Delete, and for an adopted object only when the user said so explicitly.
fn deletes_quay_object<K: ManagedResource>(obj: &K) -> bool {
    if obj.management_policy() == ManagementPolicy::ObserveOnly {
        return false;
    }
    match (obj.deletion_policy(), obj.origin()) {
        (Some(policy), _) => policy == DeletionPolicy::Delete,
        (None, Some(Origin::Created)) => K::default_deletion_policy() == DeletionPolicy::Delete,
        (None, _) => false,
    }
}

async fn cleanup<K: ManagedResource>(
    api: &Api<K>,
    obj: &K,
    ctx: &KindContext<K>,
) -> Result<Action, Error> {
    let shared = &ctx.shared;
    // A resource on its way out waits for nothing.
    shared.signals.start(&waiter(obj));
    // Another resource still claims the Quay object: hand it over, never delete it.
    if !claimants(obj, &ctx.store, &shared.connections)
        .await
        .is_empty()
        || !deletes_quay_object(obj)
    {
        shared.succeeded(&object_key(obj));
        shared
            .publish(
                obj,
                EventType::Normal,
                "Retained",
                "Delete",
                format!("left {} in Quay", what(obj)),
            )
            .await;
        return Ok(Action::await_change());
    }
    let namespace = obj.namespace().unwrap_or_default();
    let result = async {
        let Prepared { quay, desired, .. } = prepare(shared, obj, &namespace, true).await?;
        engine::delete(&desired, &quay)
            .await
            .map_err(Failure::Engine)
    }
    .await;
    match result {
        Ok(existed) => {
            shared.succeeded(&object_key(obj));
            let note = if existed {
                format!("deleted {} from Quay", what(obj))
            } else {
                format!("{} was already gone from Quay", what(obj))
            };
            shared
                .publish(obj, EventType::Normal, "Deleted", "Delete", note)
                .await;
            Ok(Action::await_change())
        }
        // The tenancy rules no longer let this namespace act on the object:
        // it is left in Quay, and the resource goes.
        Err(Failure::Connection(ConnectionError::NotPermitted(reason))) => {
            shared.succeeded(&object_key(obj));
            shared
                .publish(
                    obj,
                    EventType::Warning,
                    "Retained",
                    "Delete",
                    format!("left {} in Quay: {reason}", what(obj)),
                )
                .await;
            Ok(Action::await_change())
        }
        Err(failure) => {
            let progress = failure.progress();
            let class = match failure.class() {
                ErrorClass::Terminal => ErrorClass::Waiting,
                c => c,
            };
            let retry_in = shared.failed(&object_key(obj), class, failure.retry_after());
            let message = format!(
                "cannot delete {} from Quay: {}; to remove this resource and leave the Quay object, set spec.deletionPolicy to Retain",
                what(obj),
                failure.message()
            );
            let conditions = Conditions::new(obj.conditions(), obj.meta().generation);
            let next = not_ready(
                shared,
                obj,
                conditions,
                progress,
                "DeletionBlocked",
                "Delete",
                &message,
            )
            .await;
            write_status(api, obj, next, obj.origin(), obj_drift(obj), None, None).await?;
            Err(Error::Cleanup { message, retry_in })
        }
    }
}
