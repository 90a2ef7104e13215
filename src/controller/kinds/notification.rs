//! QuayNotification: spec → desired notification, one-shot annotations
//! (test, reset failures) and status.

use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde_json::Value;

use super::{CommonStatus, Inputs, ManagedResource, ResourceRef, SecretKey, StepError};
use crate::controller::context::Context;
use crate::crd::notification::{RESET_FAILURES_ANNOTATION, TEST_NOTIFICATION_ANNOTATION};
use crate::crd::reference::split_repository;
use crate::crd::{DeletionPolicy, LocalRef, QuayNotification, QuayNotificationStatus};
use crate::engine::notification::{DesiredNotification, LiveNotification, masked, settled};
use crate::engine::{EngineError, Quay, Report};

/// What a successful reconcile learned, for the status.
pub struct NotificationExtra {
    repository: String,
    uuid: Option<String>,
    failures: Option<u64>,
    test_handled: Option<String>,
    reset_handled: Option<String>,
}

/// The Quay repository a spec targets, as `(namespace, name)`: the literal
/// `repository`, or the resolved `repositoryRef` (falling back to the one
/// recorded in the status, e.g. when the QuayRepository went first on deletion).
pub(super) fn target_repository(
    literal: Option<&str>,
    reference: Option<&LocalRef>,
    values: &Inputs,
    recorded: Option<&str>,
) -> Result<(String, String), String> {
    let full = match (literal, reference) {
        (Some(l), _) => l.to_owned(),
        (None, Some(r)) => values
            .resolved(&ResourceRef::Repository(r.name.clone()))
            .or(recorded)
            .ok_or_else(|| format!("QuayRepository {:?} not found", r.name))?
            .to_owned(),
        (None, None) => return Err("set spec.repositoryRef or spec.repository".to_owned()),
    };
    split_repository(&full)
        .map(|(ns, name)| (ns.to_owned(), name.to_owned()))
        .ok_or_else(|| format!("repository {full:?} is not namespace/name"))
}

/// Publishes a Normal Event about one-shot work; failures to publish are only logged.
pub(super) async fn note<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_: EventType::Normal,
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::debug!(error = %e, "cannot publish event");
    }
}

/// The annotation's value when it is new (not yet handled).
pub(super) fn pending<'a>(
    obj: &'a impl ResourceExt,
    key: &str,
    handled: Option<&str>,
) -> Option<&'a str> {
    obj.annotations()
        .get(key)
        .map(String::as_str)
        .filter(|v| Some(*v) != handled)
}

impl ManagedResource for QuayNotification {
    type Desired = DesiredNotification;
    type Status = QuayNotificationStatus;
    type Extra = NotificationExtra;

    fn secret_refs(&self) -> Vec<SecretKey> {
        self.spec
            .url_secret_ref
            .iter()
            .map(|r| SecretKey {
                name: r.name.clone(),
                key: r.key.clone(),
            })
            .collect()
    }

    fn references_secrets() -> bool {
        true
    }

    fn resource_refs(&self) -> Vec<ResourceRef> {
        self.spec
            .repository_ref
            .iter()
            .map(|r| ResourceRef::Repository(r.name.clone()))
            .collect()
    }

    fn desired(&self, values: &Inputs) -> Result<DesiredNotification, String> {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let (namespace, repository) = target_repository(
            spec.repository.as_deref(),
            spec.repository_ref.as_ref(),
            values,
            status.and_then(|s| s.repository.as_deref()),
        )?;
        let mut config = spec.config.clone();
        // Missing only while deleting (Secrets are then read best-effort): the
        // notification is found by its uuid.
        if let Some(r) = &spec.url_secret_ref
            && let Some(url) = values.get(&r.name, &r.key)
        {
            config.insert("url".to_owned(), Value::String(url.to_owned()));
        }
        Ok(DesiredNotification {
            namespace,
            repository,
            event: spec.event.as_str().to_owned(),
            method: spec.method.as_str().to_owned(),
            title: spec.title.clone(),
            config: Value::Object(config),
            event_config: Value::Object(spec.event_config.clone()),
            uuid: status.and_then(|s| s.uuid.clone()),
        })
    }

    async fn after_apply(
        &self,
        ctx: &Context,
        quay: &Quay,
        report: &Report<LiveNotification>,
    ) -> Result<NotificationExtra, StepError> {
        let status = self.status.clone().unwrap_or_default();
        let (namespace, repository) = match &report.live {
            Some(live) => live.repository(),
            None => {
                return Err(StepError::Quay(EngineError::Rejected(
                    "notification not found after reconcile".into(),
                )));
            }
        };
        let (namespace, repository) = (namespace.to_owned(), repository.to_owned());
        let current = settled(report, quay).await?;
        let mut extra = NotificationExtra {
            repository: format!("{namespace}/{repository}"),
            uuid: current.as_ref().map(|n| n.uuid.clone()),
            failures: current.as_ref().map(|n| n.number_of_failures),
            test_handled: status.test_notification_handled.clone(),
            reset_handled: status.reset_failures_handled.clone(),
        };
        let Some(uuid) = extra.uuid.clone() else {
            return Ok(extra);
        };
        if let Some(value) = pending(
            self,
            TEST_NOTIFICATION_ANNOTATION,
            status.test_notification_handled.as_deref(),
        ) {
            quay.client
                .test_notification(&namespace, &repository, &uuid)
                .await?;
            extra.test_handled = Some(value.to_owned());
            note(
                ctx,
                self,
                "TestNotificationSent",
                format!("sent a test notification ({TEST_NOTIFICATION_ANNOTATION}={value})"),
            )
            .await;
        }
        if let Some(value) = pending(
            self,
            RESET_FAILURES_ANNOTATION,
            status.reset_failures_handled.as_deref(),
        ) {
            quay.client
                .reset_notification_failures(&namespace, &repository, &uuid)
                .await?;
            quay.forget_notifications(&namespace, &repository);
            extra.reset_handled = Some(value.to_owned());
            extra.failures = Some(0);
            note(
                ctx,
                self,
                "FailuresReset",
                format!("reset the failure count ({RESET_FAILURES_ANNOTATION}={value})"),
            )
            .await;
        }
        Ok(extra)
    }

    fn quay_identity(&self) -> String {
        let spec = &self.spec;
        let repository = spec
            .repository
            .clone()
            .or_else(|| self.status.as_ref().and_then(|s| s.repository.clone()))
            .or_else(|| {
                spec.repository_ref
                    .as_ref()
                    .map(|r| format!("(QuayRepository {})", r.name))
            })
            .unwrap_or_default();
        let url = spec
            .url_secret_ref
            .as_ref()
            .map(|r| format!(" url from Secret {}/{}", r.name, r.key))
            .unwrap_or_default();
        format!(
            "{repository} {} via {} {:?} {}{url}",
            spec.event.as_str(),
            spec.method.as_str(),
            spec.title.as_deref().unwrap_or(""),
            masked(&Value::Object(spec.config.clone()))
        )
    }
    fn conflict_key(&self) -> String {
        // The identity masks URLs; two notifications that differ only in
        // their (secret) URL are different objects.
        format!(
            "{} {}",
            self.quay_identity(),
            Value::Object(self.spec.config.clone())
        )
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn status(
        &self,
        common: CommonStatus,
        _registry_host: Option<&str>,
        extra: Option<NotificationExtra>,
    ) -> QuayNotificationStatus {
        let previous = self.status.clone().unwrap_or_default();
        let base = QuayNotificationStatus {
            conditions: common.conditions,
            observed_generation: common.observed_generation,
            origin: common.origin,
            drift: common.drift,
            ..previous
        };
        match extra {
            Some(e) => QuayNotificationStatus {
                repository: Some(e.repository),
                uuid: e.uuid,
                number_of_failures: e.failures,
                test_notification_handled: e.test_handled,
                reset_failures_handled: e.reset_handled,
                ..base
            },
            None => base,
        }
    }
}
