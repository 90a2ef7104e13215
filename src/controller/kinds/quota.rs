//! QuayQuota: spec → desired quota (organization or user namespace) and status.

use super::{Inputs, ManagedResource, ResourceRef, StepError, referenced_organization};
use crate::controller::context::Context;
use crate::crd::quota::quantity_bytes;
use crate::crd::{DeletionPolicy, QuayQuota, QuayQuotaStatus};
use crate::engine::quota::{DesiredQuota, LiveQuota, QuotaNamespace, Threshold};
use crate::engine::{EngineError, Quay, Report};

/// What a successful reconcile learned, for the status.
pub struct QuotaExtra {
    namespace: String,
    live: Option<LiveQuota>,
}

impl QuayQuota {
    /// The Quay namespace, when it is known without resolving a reference.
    fn known_namespace(&self) -> Option<String> {
        self.spec
            .organization
            .clone()
            .or_else(|| self.spec.user.clone())
            .or_else(|| self.status.as_ref().and_then(|s| s.namespace.clone()))
    }
}

impl ManagedResource for QuayQuota {
    type Desired = DesiredQuota;
    type Status = QuayQuotaStatus;
    type Extra = QuotaExtra;

    fn referenced_kinds() -> &'static [super::Referenced] {
        &[super::Referenced::Organization]
    }

    fn resource_refs(&self) -> Vec<ResourceRef> {
        super::organization_refs(self.spec.organization_ref.as_ref())
    }

    fn desired(&self, values: &Inputs) -> Result<DesiredQuota, String> {
        let spec = &self.spec;
        let namespace = match (&spec.organization, &spec.organization_ref, &spec.user) {
            (Some(org), _, _) => QuotaNamespace::Organization(org.clone()),
            (None, _, Some(user)) => QuotaNamespace::User(user.clone()),
            (None, Some(r), None) => QuotaNamespace::Organization(referenced_organization(
                r,
                values,
                self.status.as_ref().and_then(|s| s.namespace.as_deref()),
            )?),
            (None, None, None) => {
                return Err("set spec.organization, spec.organizationRef or spec.user".to_owned());
            }
        };
        Ok(DesiredQuota {
            namespace,
            limit_bytes: quantity_bytes(&spec.limit.0).map_err(|e| format!("limit: {e}"))?,
            limits: spec.limits.as_ref().map(|limits| {
                limits
                    .iter()
                    .map(|t| Threshold {
                        kind: t.kind.as_str().to_owned(),
                        percent: t.percent,
                    })
                    .collect()
            }),
        })
    }

    async fn after_apply(
        &self,
        _: &Context,
        quay: &Quay,
        report: &Report<LiveQuota>,
    ) -> Result<QuotaExtra, StepError> {
        let Some(live) = &report.live else {
            return Err(StepError::Quay(EngineError::Rejected(
                "quota not found after reconcile".into(),
            )));
        };
        let live = match report.applied && report.existed {
            true => live.refresh(quay).await?,
            false => Some(live.clone()),
        };
        Ok(QuotaExtra {
            namespace: report
                .live
                .as_ref()
                .map(|l| l.namespace.name().to_owned())
                .unwrap_or_default(),
            live,
        })
    }

    fn quay_identity(&self) -> String {
        super::organization_label(self.known_namespace(), self.spec.organization_ref.as_ref())
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        self.known_namespace()
            .map(|ns| super::QuayLocation::of_namespace(&ns))
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<QuotaExtra>,
    ) -> QuayQuotaStatus {
        let previous = self.status.clone().unwrap_or_default();
        let base = QuayQuotaStatus { common, ..previous };
        let Some(e) = extra else {
            return base;
        };
        let live = e.live.as_ref();
        QuayQuotaStatus {
            namespace: Some(e.namespace),
            quota_id: live.map(|l| l.quota.id),
            limit_bytes: live.map(|l| l.quota.limit_bytes),
            usage_bytes: live.and_then(|l| l.usage_bytes),
            usage_percent: live.and_then(LiveQuota::usage_percent),
            ..base
        }
    }
}
