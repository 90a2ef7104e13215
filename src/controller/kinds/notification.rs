//! QuayNotification: spec → desired notification, one-shot annotations
//! (test, reset failures) and status.

use kube::runtime::events::EventType;
use serde_json::Value;

use super::{
    Inputs, ManagedResource, ResourceRef, SecretKey, StepError, pending, repository_label,
    target_repository,
};
use crate::controller::context::Context;
use crate::crd::notification::{RESET_FAILURES_ANNOTATION, TEST_NOTIFICATION_ANNOTATION};
use crate::crd::{DeletionPolicy, QuayNotification, QuayNotificationStatus};
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

    fn referenced_kinds() -> &'static [super::Referenced] {
        &[super::Referenced::Repository]
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
            ctx.publish(
                self,
                EventType::Normal,
                "TestNotificationSent",
                "Reconcile",
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
            ctx.publish(
                self,
                EventType::Normal,
                "FailuresReset",
                "Reconcile",
                format!("reset the failure count ({RESET_FAILURES_ANNOTATION}={value})"),
            )
            .await;
        }
        Ok(extra)
    }

    fn quay_identity(&self) -> String {
        let spec = &self.spec;
        let repository = repository_label(
            spec.repository.as_deref(),
            spec.repository_ref.as_ref(),
            self.status.as_ref().and_then(|s| s.repository.as_deref()),
        );
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
    fn quay_location(&self) -> Option<super::QuayLocation> {
        let recorded = self.status.as_ref().and_then(|s| s.repository.as_deref());
        super::QuayLocation::of_repository(self.spec.repository.as_deref().or(recorded)?)
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<NotificationExtra>,
    ) -> QuayNotificationStatus {
        let previous = self.status.clone().unwrap_or_default();
        let base = QuayNotificationStatus { common, ..previous };
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
