//! The QuayConnection controller: checks that the token works (one "who am
//! I" call per check, never per managed object) and reports the user.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::context::Context;
use super::status::{Conditions, patch_status};
use crate::crd::{QuayConnection, QuayConnectionStatus};
use crate::engine::ErrorClass;
use crate::quay::ErrorKind;

/// Reconciles one QuayConnection.
pub async fn reconcile(
    conn: Arc<QuayConnection>,
    ctx: Arc<Context>,
) -> Result<Action, kube::Error> {
    let namespace = conn.namespace().unwrap_or_default();
    let api: Api<QuayConnection> = Api::namespaced(ctx.client.clone(), &namespace);
    let key = format!("QuayConnection/{namespace}/{}", conn.name_any());
    let mut conditions = Conditions::new(
        conn.status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or_default(),
        conn.metadata.generation,
    );
    let mut status = QuayConnectionStatus {
        observed_generation: conn.metadata.generation,
        registry_host: conn.spec.registry_host(),
        ..QuayConnectionStatus::default()
    };
    let action = match ctx.connections.quay_for(&conn).await {
        Err(e) => {
            conditions.set("Ready", false, e.reason(), e.to_string());
            Action::requeue(ctx.failed(&key, ErrorClass::Waiting, None))
        }
        Ok(quay) => match quay.client.current_user().await {
            Ok(user) => {
                ctx.succeeded(&key);
                let role = if user.super_user { " (superuser)" } else { "" };
                conditions.set(
                    "Ready",
                    true,
                    "Connected",
                    format!("authenticated as {}{role}", user.username),
                );
                status.user = Some(user.username);
                status.super_user = Some(user.super_user);
                Action::requeue(ctx.resync)
            }
            Err(e) => {
                let message = match e.kind {
                    ErrorKind::Unauthorized => {
                        "Quay rejected the token (missing, invalid or expired); update the token Secret".to_owned()
                    }
                    _ => e.to_string(),
                };
                conditions.set("Ready", false, e.kind.as_str(), message);
                let class = if e.is_transient() {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Waiting
                };
                Action::requeue(ctx.failed(&key, class, e.retry_after))
            }
        },
    };
    status.conditions = conditions.into_vec();
    patch_status(&api, &*conn, &status).await?;
    Ok(action)
}

/// Retry timing when a status write fails.
pub fn error_policy(_conn: Arc<QuayConnection>, error: &kube::Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(%error, "QuayConnection reconcile failed");
    Action::requeue(Duration::from_secs(15))
}
