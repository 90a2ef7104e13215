//! QuayMirrorConfig: spec (and credentials Secret) → desired mirror, the
//! one-shot sync-now / sync-cancel annotations and status.

use super::access::{robot_full_name, robot_refs};
use super::{Inputs, ManagedResource, ResourceRef, SecretKey, StepError, credentials};
use super::{pending, repository_label, target_repository};
use crate::controller::context::Context;
use crate::crd::mirror::{SYNC_CANCEL_ANNOTATION, SYNC_NOW_ANNOTATION};
use crate::crd::{DeletionPolicy, QuayMirrorConfig, QuayMirrorConfigStatus};
use crate::engine::mirror::{DesiredMirror, LiveMirror, quay_date};
use crate::engine::{EngineError, Quay, Report};
use crate::quay::api::mirror::{MirrorConfig, ProxyConfig, RegistryConfig};
use kube::runtime::events::EventType;

/// What a successful reconcile learned, for the status.
pub struct MirrorExtra {
    repository: String,
    config: Option<MirrorConfig>,
    credentials_version: Option<String>,
    sync_now_handled: Option<String>,
    sync_cancel_handled: Option<String>,
}

impl ManagedResource for QuayMirrorConfig {
    type Desired = DesiredMirror;
    type Status = QuayMirrorConfigStatus;
    type Extra = MirrorExtra;

    fn secret_refs(&self) -> Vec<SecretKey> {
        credentials::secret_keys(self.spec.credentials_secret_ref.as_ref())
    }

    fn references_secrets() -> bool {
        true
    }

    fn referenced_kinds() -> &'static [super::Referenced] {
        &[super::Referenced::Repository]
    }

    fn resource_refs(&self) -> Vec<ResourceRef> {
        let mut refs: Vec<ResourceRef> = self
            .spec
            .repository_ref
            .iter()
            .map(|r| ResourceRef::Repository(r.name.clone()))
            .collect();
        refs.extend(robot_refs(std::iter::once(
            self.spec.robot_username.as_str(),
        )));
        refs
    }

    fn desired(&self, values: &Inputs) -> Result<DesiredMirror, String> {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let (namespace, repository) = target_repository(
            spec.repository.as_deref(),
            spec.repository_ref.as_ref(),
            values,
            status.and_then(|s| s.repository.as_deref()),
        )?;
        let interval = humantime::parse_duration(&spec.sync_interval).map_err(|e| {
            format!(
                "syncInterval {:?} is not a duration like 1h or 30m: {e}",
                spec.sync_interval
            )
        })?;
        let sync_interval = i64::try_from(interval.as_secs())
            .map_err(|_| format!("syncInterval {:?} is too long", spec.sync_interval))?;
        let sync_start_date = spec.sync_start_date.as_deref().map(quay_date).transpose()?;
        let robot = robot_full_name(&namespace, &spec.robot_username, values);
        let credentials = credentials::read(spec.credentials_secret_ref.as_ref(), values);
        let registry_config = spec
            .external_registry_config
            .as_ref()
            .map(|c| RegistryConfig {
                verify_tls: c.verify_tls,
                unsigned_images: c.unsigned_images,
                proxy: c.proxy.as_ref().map(|p| ProxyConfig {
                    http_proxy: p.http_proxy.clone(),
                    https_proxy: p.https_proxy.clone(),
                    no_proxy: p.no_proxy.clone(),
                }),
            });
        Ok(DesiredMirror {
            namespace,
            repository,
            is_enabled: spec.is_enabled,
            external_reference: spec.external_reference.clone(),
            credentials,
            credentials_sent: status.and_then(|s| s.credentials_version.clone()),
            robot,
            root_rule: spec.root_rule.clone(),
            sync_interval,
            sync_start_date,
            registry_config,
        })
    }

    async fn after_apply(
        &self,
        ctx: &Context,
        quay: &Quay,
        report: &Report<LiveMirror>,
    ) -> Result<MirrorExtra, StepError> {
        let status = self.status.clone().unwrap_or_default();
        let Some(live) = &report.live else {
            return Err(StepError::Quay(EngineError::Rejected(
                "mirror configuration not found after reconcile".into(),
            )));
        };
        let (ns, repo) = (live.namespace.as_str(), live.repository.as_str());
        let mut extra = MirrorExtra {
            repository: format!("{ns}/{repo}"),
            config: Some(live.config.clone()),
            credentials_version: live.credentials_version.clone(),
            sync_now_handled: status.sync_now_handled.clone(),
            sync_cancel_handled: status.sync_cancel_handled.clone(),
        };
        let mut changed = report.applied && report.existed;
        if let Some(value) = pending(
            self,
            SYNC_NOW_ANNOTATION,
            status.sync_now_handled.as_deref(),
        ) {
            quay.client.mirror_sync_now(ns, repo).await?;
            extra.sync_now_handled = Some(value.to_owned());
            changed = true;
            ctx.publish(
                self,
                EventType::Normal,
                "SyncStarted",
                "Reconcile",
                format!("started a mirror sync ({SYNC_NOW_ANNOTATION}={value})"),
            )
            .await;
        }
        if let Some(value) = pending(
            self,
            SYNC_CANCEL_ANNOTATION,
            status.sync_cancel_handled.as_deref(),
        ) {
            let message = match quay.client.mirror_sync_cancel(ns, repo).await {
                Ok(()) => "cancelled the mirror sync",
                // Quay answers 404 when no sync is pending or running.
                Err(e) if e.is_not_found() => "no mirror sync was running to cancel",
                Err(e) => return Err(e.into()),
            };
            extra.sync_cancel_handled = Some(value.to_owned());
            changed = true;
            ctx.publish(
                self,
                EventType::Normal,
                "SyncCancelled",
                "Reconcile",
                format!("{message} ({SYNC_CANCEL_ANNOTATION}={value})"),
            )
            .await;
        }
        if changed {
            extra.config = live.refresh(quay).await?;
        }
        Ok(extra)
    }

    fn quay_identity(&self) -> String {
        repository_label(
            self.spec.repository.as_deref(),
            self.spec.repository_ref.as_ref(),
            self.status.as_ref().and_then(|s| s.repository.as_deref()),
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
        extra: Option<MirrorExtra>,
    ) -> QuayMirrorConfigStatus {
        let previous = self.status.clone().unwrap_or_default();
        let base = QuayMirrorConfigStatus { common, ..previous };
        let Some(e) = extra else {
            return base;
        };
        let config = e.config;
        QuayMirrorConfigStatus {
            repository: Some(e.repository),
            sync_status: config.as_ref().and_then(|c| c.sync_status.clone()),
            next_sync_time: config.as_ref().and_then(|c| c.sync_start_date.clone()),
            sync_expiration_time: config.as_ref().and_then(|c| c.sync_expiration_date.clone()),
            retries_remaining: config.as_ref().and_then(|c| c.sync_retries_remaining),
            credentials_version: e.credentials_version,
            sync_now_handled: e.sync_now_handled,
            sync_cancel_handled: e.sync_cancel_handled,
            ..base
        }
    }
}
