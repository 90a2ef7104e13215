//! The connection controllers (QuayConnection and ClusterQuayConnection): a
//! check asks Quay "who am I" once (never per managed object), pins the Quay
//! user the token belongs to, and reports a token that now belongs to someone
//! else until a person confirms it. A QuayConnection carries a finalizer, and
//! puts one on its token Secret, so that deleting its namespace removes the
//! Quay objects of its `Delete`-policy resources first and the connection and
//! token last, also after an operator restart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Api, Client, ResourceExt};
use serde_json::json;

use super::connections::ConnectionError;
use super::context::Context;
use super::identity::{self, CONFIRM_USER_ANNOTATION};
use super::kinds::ManagedResource;
use super::reconcile::{Error, FINALIZER};
use super::signals::ConnectionId;
use super::status::{Conditions, Progress, patch_status};
use crate::crd::{
    ClusterQuayConnection, ConnectionKind, ConnectionRef, QuayConnection, QuayConnectionStatus,
    QuayMirrorConfig, QuayNotification, QuayOAuthApplication, QuayOrganization, QuayProxyCache,
    QuayQuota, QuayRepository, QuayRobotAccount, QuayTeam, QuayUserNamespace,
};
use crate::engine::{ErrorClass, Quay};
use crate::quay::ErrorKind;

/// The finalizer a QuayConnection puts on its token Secret.
pub const TOKEN_FINALIZER: &str = "quayconfig.io/connection-token";

/// How often a deleted connection checks whether its resources are gone.
const DEPENDENTS_RETRY: Duration = Duration::from_secs(5);

/// Reconciles one QuayConnection.
pub async fn reconcile(conn: Arc<QuayConnection>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = conn.namespace().unwrap_or_default();
    let api: Api<QuayConnection> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, conn, |event| async {
        match event {
            FinalizerEvent::Apply(conn) => apply(&api, &conn, &ctx).await,
            FinalizerEvent::Cleanup(conn) => cleanup(&api, &conn, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(Box::new(other)),
    })
}

/// Reconciles one ClusterQuayConnection (its Secrets are in the operator's namespace).
pub async fn reconcile_cluster(
    conn: Arc<ClusterQuayConnection>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let api: Api<ClusterQuayConnection> = Api::all(ctx.client.clone());
    let key = format!("ClusterQuayConnection/{}", conn.name_any());
    let quay = ctx.connections.quay_for_cluster(&conn).await;
    let (status, action) = check(
        &ctx,
        &key,
        quay,
        Checked {
            previous: conn.status.as_ref(),
            annotations: conn.annotations(),
            generation: conn.metadata.generation,
            registry_host: conn.spec.endpoint.registry_host(),
        },
    )
    .await;
    patch_status(&api, &*conn, &status).await?;
    if recovered(conn.status.as_ref(), &status) {
        ctx.signals.recovered(ConnectionId {
            kind: ConnectionKind::ClusterQuayConnection,
            namespace: None,
            name: conn.name_any(),
        });
    }
    Ok(action)
}

/// Retry timing when a reconcile fails.
pub fn error_policy<K: kube::Resource>(conn: Arc<K>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(name = %conn.meta().name.as_deref().unwrap_or_default(), %error, "connection reconcile failed");
    match error {
        Error::Cleanup { retry_in, .. } => Action::requeue(*retry_in),
        _ => Action::requeue(Duration::from_secs(15)),
    }
}

async fn apply(
    api: &Api<QuayConnection>,
    conn: &QuayConnection,
    ctx: &Context,
) -> Result<Action, Error> {
    let namespace = conn.namespace().unwrap_or_default();
    let key = format!("QuayConnection/{namespace}/{}", conn.name_any());
    let token_secret = hold_token_secret(api, &ctx.client, conn).await?;
    let quay = ctx.connections.quay_for(conn).await;
    let (mut status, action) = check(
        ctx,
        &key,
        quay,
        Checked {
            previous: conn.status.as_ref(),
            annotations: conn.annotations(),
            generation: conn.metadata.generation,
            registry_host: conn.spec.registry_host(),
        },
    )
    .await;
    status.token_secret = token_secret;
    patch_status(api, conn, &status).await?;
    if recovered(conn.status.as_ref(), &status) {
        ctx.signals.recovered(ConnectionId {
            kind: ConnectionKind::QuayConnection,
            namespace: Some(namespace),
            name: conn.name_any(),
        });
    }
    Ok(action)
}

/// Whether a connection works now and did not before (or was never
/// checked): said once its status is written, so that the resources it
/// wakes read it Ready.
fn recovered(previous: Option<&QuayConnectionStatus>, next: &QuayConnectionStatus) -> bool {
    let ready = |s: &QuayConnectionStatus| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    };
    ready(next) && !previous.is_some_and(ready)
}

/// What a check starts from.
struct Checked<'a> {
    previous: Option<&'a QuayConnectionStatus>,
    annotations: &'a BTreeMap<String, String>,
    generation: Option<i64>,
    registry_host: Option<String>,
}

/// Asks Quay who the token belongs to and computes the connection's status:
/// the user pinned on the first check, `IdentityChanged` for another one until
/// the confirmation annotation names it.
async fn check(
    ctx: &Context,
    key: &str,
    quay: Result<Quay, ConnectionError>,
    checked: Checked<'_>,
) -> (QuayConnectionStatus, Action) {
    let previous = checked.previous.cloned().unwrap_or_default();
    let mut conditions = Conditions::new(&previous.conditions, checked.generation);
    let mut status = QuayConnectionStatus {
        observed_generation: checked.generation,
        registry_host: checked.registry_host,
        user: previous.user.clone(),
        super_user: previous.super_user,
        token_secret: previous.token_secret.clone(),
        ..QuayConnectionStatus::default()
    };
    let action = match quay {
        Err(e) => {
            let progress = match e {
                ConnectionError::Invalid(_) | ConnectionError::SecretUnusable(_) => {
                    Progress::Stalled
                }
                _ => Progress::Reconciling,
            };
            conditions.set_ready(progress, e.reason(), e.to_string());
            Action::requeue(ctx.failed(key, ErrorClass::Waiting, None))
        }
        Ok(quay) => match quay.client.current_user().await {
            Ok(user) => {
                let confirmed = checked
                    .annotations
                    .get(CONFIRM_USER_ANNOTATION)
                    .map(String::as_str);
                match identity::check(previous.user.as_deref(), confirmed, &user.username) {
                    Ok(()) => {
                        ctx.succeeded(key);
                        let role = if user.super_user { " (superuser)" } else { "" };
                        conditions.set_ready(
                            Progress::Ready,
                            "Connected",
                            format!("authenticated as {}{role}", user.username),
                        );
                        status.user = Some(user.username);
                        status.super_user = Some(user.super_user);
                        Action::requeue(ctx.resync)
                    }
                    Err(changed) => {
                        conditions.set_ready(
                            Progress::Stalled,
                            "IdentityChanged",
                            changed.to_string(),
                        );
                        Action::requeue(ctx.failed(key, ErrorClass::Waiting, None))
                    }
                }
            }
            Err(e) => {
                let message = match e.kind {
                    ErrorKind::Unauthorized => {
                        "Quay rejected the token (missing, invalid or expired); update the token Secret".to_owned()
                    }
                    _ => e.to_string(),
                };
                let (class, progress) = match e.is_transient() {
                    true => (ErrorClass::Transient, Progress::Reconciling),
                    // A refused token or URL: someone must fix the Secret or spec.
                    false => (ErrorClass::Waiting, Progress::Stalled),
                };
                conditions.set_ready(progress, e.kind.as_str(), message);
                Action::requeue(ctx.failed(key, class, e.retry_after))
            }
        },
    };
    status.conditions = conditions.into_vec();
    (status, action)
}

/// Puts the token finalizer on the Secret the connection names (once: the
/// status records which Secret holds it) and takes it off one it no longer
/// names, unless another connection still uses that one. Returns the Secret
/// holding it (`None` while the Secret is missing).
async fn hold_token_secret(
    api: &Api<QuayConnection>,
    client: &Client,
    conn: &QuayConnection,
) -> Result<Option<String>, Error> {
    let wanted = &conn.spec.token_secret_ref.name;
    let held = conn.status.as_ref().and_then(|s| s.token_secret.as_ref());
    if held == Some(wanted) {
        return Ok(Some(wanted.clone()));
    }
    let secrets: Api<Secret> =
        Api::namespaced(client.clone(), &conn.namespace().unwrap_or_default());
    if let Some(old) = held {
        let others = api.list(&ListParams::default()).await?;
        if !shared(&others.items, conn, old) {
            set_token_finalizer(&secrets, old, false).await?;
        }
    }
    Ok(set_token_finalizer(&secrets, wanted, true)
        .await?
        .then(|| wanted.clone()))
}

/// Adds (`hold`) or removes the token finalizer of Secret `name`; `false`
/// when the Secret does not exist.
async fn set_token_finalizer(secrets: &Api<Secret>, name: &str, hold: bool) -> Result<bool, Error> {
    let Some(secret) = secrets.get_metadata_opt(name).await? else {
        return Ok(false);
    };
    let mut finalizers = secret.metadata.finalizers.clone().unwrap_or_default();
    let has = finalizers.iter().any(|f| f == TOKEN_FINALIZER);
    if has == hold {
        return Ok(true);
    }
    finalizers.retain(|f| f != TOKEN_FINALIZER);
    if hold {
        finalizers.push(TOKEN_FINALIZER.to_owned());
    }
    // The resourceVersion makes the list replacement safe against a
    // concurrent change of the Secret's finalizers.
    let patch = json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": secret.metadata.resource_version,
    }});
    secrets
        .patch_metadata(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(true)
}

/// A deleted connection waits until no resource of its namespace uses it (their
/// `Delete`-policy Quay objects are removed through it), then lets its token
/// Secret go, then itself.
async fn cleanup(
    api: &Api<QuayConnection>,
    conn: &QuayConnection,
    ctx: &Context,
) -> Result<Action, Error> {
    let namespace = conn.namespace().unwrap_or_default();
    let target = ConnectionRef::namespaced(conn.name_any());
    let users = users(&ctx.client, &namespace, &target).await?;
    if let Some(example) = users.first() {
        let message = format!(
            "deleting: waiting for {} resource(s) that use this connection to finish their own deletion (e.g. {example})",
            users.len()
        );
        let mut conditions = Conditions::new(
            conn.status
                .as_ref()
                .map(|s| s.conditions.as_slice())
                .unwrap_or_default(),
            conn.metadata.generation,
        );
        conditions.set_ready(Progress::Reconciling, "WaitingForDependents", &message);
        let status = QuayConnectionStatus {
            conditions: conditions.into_vec(),
            ..conn.status.clone().unwrap_or_default()
        };
        patch_status(api, conn, &status).await?;
        return Err(Error::Cleanup {
            message,
            retry_in: DEPENDENTS_RETRY,
        });
    }
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut held: Vec<&String> = conn
        .status
        .as_ref()
        .and_then(|s| s.token_secret.as_ref())
        .into_iter()
        .collect();
    if !held.contains(&&conn.spec.token_secret_ref.name) {
        held.push(&conn.spec.token_secret_ref.name);
    }
    let others = api.list(&ListParams::default()).await?;
    for name in held {
        if !shared(&others.items, conn, name) {
            set_token_finalizer(&secrets, name, false).await?;
        }
    }
    Ok(Action::await_change())
}

/// Whether a connection of `others` other than `conn` names Secret `name` or
/// holds its finalizer: a shared token Secret keeps the finalizer until the
/// last connection using it lets go.
fn shared(others: &[QuayConnection], conn: &QuayConnection, name: &str) -> bool {
    others.iter().any(|other| {
        other.uid() != conn.uid()
            && (other.spec.token_secret_ref.name == name
                || other
                    .status
                    .as_ref()
                    .and_then(|s| s.token_secret.as_deref())
                    == Some(name))
    })
}

/// The resources of `namespace` (kind/name) that use the connection `target`.
async fn users(
    client: &Client,
    namespace: &str,
    target: &ConnectionRef,
) -> Result<Vec<String>, Error> {
    let mut found = Vec::new();
    found.extend(users_of::<QuayOrganization>(client, namespace, target).await?);
    found.extend(users_of::<QuayRepository>(client, namespace, target).await?);
    found.extend(users_of::<QuayRobotAccount>(client, namespace, target).await?);
    found.extend(users_of::<QuayTeam>(client, namespace, target).await?);
    found.extend(users_of::<QuayNotification>(client, namespace, target).await?);
    found.extend(users_of::<QuayMirrorConfig>(client, namespace, target).await?);
    found.extend(users_of::<QuayQuota>(client, namespace, target).await?);
    found.extend(users_of::<QuayOAuthApplication>(client, namespace, target).await?);
    found.extend(users_of::<QuayUserNamespace>(client, namespace, target).await?);
    found.extend(users_of::<QuayProxyCache>(client, namespace, target).await?);
    Ok(found)
}

async fn users_of<K: ManagedResource<Scope = k8s_openapi::NamespaceResourceScope>>(
    client: &Client,
    namespace: &str,
    target: &ConnectionRef,
) -> Result<Vec<String>, Error> {
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let listed = match api.list(&ListParams::default()).await {
        Ok(listed) => listed,
        // The kind's CRD is not installed (yet): nothing of it uses the connection.
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(listed
        .into_iter()
        .filter(|o| o.connection() == *target)
        .map(|o| format!("{} {}", K::kind(&()), o.name_any()))
        .collect())
}
