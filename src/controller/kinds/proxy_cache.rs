//! QuayProxyCache: spec (and credentials Secret) → desired proxy cache, and status.

use super::{Inputs, ManagedResource, ResourceRef, SecretKey, StepError, credentials};
use crate::controller::context::Context;
use crate::crd::{DeletionPolicy, QuayProxyCache, QuayProxyCacheStatus};
use crate::engine::proxy_cache::{DesiredProxyCache, LiveProxyCache};
use crate::engine::{EngineError, Quay, Report};
use crate::quay::api::proxycache::ProxyCache;

/// What a successful reconcile learned, for the status.
pub struct ProxyCacheExtra {
    live: LiveProxyCache,
}

impl QuayProxyCache {
    /// The organization, when it is known without resolving a reference.
    fn known_organization(&self) -> Option<String> {
        self.spec
            .target
            .organization
            .clone()
            .or_else(|| self.status.as_ref().and_then(|s| s.organization.clone()))
    }
}

impl ManagedResource for QuayProxyCache {
    type Desired = DesiredProxyCache;
    type Status = QuayProxyCacheStatus;
    type Extra = ProxyCacheExtra;

    fn secret_refs(&self) -> Vec<SecretKey> {
        credentials::secret_keys(self.spec.credentials_secret_ref.as_ref())
    }

    fn references_secrets() -> bool {
        true
    }

    fn referenced_kinds() -> &'static [super::Referenced] {
        &[super::Referenced::Organization]
    }

    fn resource_refs(&self) -> Vec<ResourceRef> {
        super::organization_refs(self.spec.target.organization_ref.as_ref())
    }

    fn desired(&self, values: &Inputs) -> Result<DesiredProxyCache, String> {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let recorded = status.and_then(|s| s.organization.as_deref());
        let organization = super::target_organization(&spec.target, values, recorded)?;
        let credentials = credentials::read(spec.credentials_secret_ref.as_ref(), values);
        Ok(DesiredProxyCache {
            organization,
            upstream_registry: spec.upstream_registry.clone(),
            expiration_s: spec.expiration_seconds,
            insecure: spec.insecure,
            credentials,
            credentials_sent: status.and_then(|s| s.credentials_version.clone()),
        })
    }

    async fn after_apply(
        &self,
        _: &Context,
        _: &Quay,
        report: &Report<LiveProxyCache>,
    ) -> Result<ProxyCacheExtra, StepError> {
        let Some(live) = &report.live else {
            return Err(StepError::Quay(EngineError::Rejected(
                "proxy cache not found after reconcile".into(),
            )));
        };
        // After a successful apply Quay holds the spec's configuration: what
        // was written is known without reading it back.
        let mut live = live.clone();
        if report.applied {
            live.config = ProxyCache {
                upstream_registry: self.spec.upstream_registry.clone(),
                expiration_s: self.spec.expiration_seconds,
                insecure: self.spec.insecure,
            };
        }
        Ok(ProxyCacheExtra { live })
    }

    fn quay_identity(&self) -> String {
        super::organization_label(
            self.known_organization(),
            self.spec.target.organization_ref.as_ref(),
        )
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        self.known_organization()
            .map(|org| super::QuayLocation::of_namespace(&org))
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<ProxyCacheExtra>,
    ) -> QuayProxyCacheStatus {
        let previous = self.status.clone().unwrap_or_default();
        let base = QuayProxyCacheStatus { common, ..previous };
        let Some(e) = extra else {
            return base;
        };
        let config = &e.live.config;
        QuayProxyCacheStatus {
            organization: Some(e.live.organization.clone()),
            upstream_registry: Some(config.upstream_registry.clone()),
            expiration_seconds: Some(config.expiration_s),
            insecure: Some(config.insecure),
            credentials_version: e.live.credentials_version,
            ..base
        }
    }
}
