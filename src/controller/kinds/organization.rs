//! QuayOrganization → the engine's organization.

use super::access::{default_permissions, prune_rules, robot_refs};
use super::{Inputs, ManagedResource, ResourceRef, StepError};
use crate::controller::context::Context;
use crate::crd::{DeletionPolicy, GranteeKind, QuayOrganization, QuayOrganizationStatus};
use crate::engine::organization::DesiredOrganization;
use crate::engine::{Managed, Quay, Report};
use kube::ResourceExt;

impl ManagedResource for QuayOrganization {
    type Desired = DesiredOrganization;
    type Status = QuayOrganizationStatus;
    type Extra = ();

    fn announces() -> bool {
        true
    }
    fn resource_refs(&self) -> Vec<ResourceRef> {
        let robots = self
            .spec
            .default_permissions
            .iter()
            .flatten()
            .filter(|p| p.delegate.kind == GranteeKind::Robot);
        robot_refs(robots.map(|p| p.delegate.name.as_str()))
    }

    fn desired(&self, inputs: &Inputs) -> Result<DesiredOrganization, String> {
        Ok(DesiredOrganization {
            name: self.spec.quay_name(&self.name_any()),
            email: self.spec.email.clone(),
            default_permissions: self
                .spec
                .default_permissions
                .as_ref()
                .map(|l| default_permissions(&self.quay_identity(), l, inputs)),
            auto_prune: self.spec.auto_prune_policies.as_deref().map(prune_rules),
        })
    }
    async fn after_apply(
        &self,
        _: &Context,
        _: &Quay,
        _: &Report<<Self::Desired as Managed>::Live>,
    ) -> Result<(), StepError> {
        Ok(())
    }
    fn quay_identity(&self) -> String {
        self.spec.quay_name(&self.name_any())
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        Some(super::QuayLocation::of_namespace(&self.quay_identity()))
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Retain
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        _extra: Option<()>,
    ) -> QuayOrganizationStatus {
        QuayOrganizationStatus {
            common,
            name: Some(self.quay_identity()),
        }
    }
}
