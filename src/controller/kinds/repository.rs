//! QuayRepository → the engine's repository.

use super::access::{permissions, prune_rules, robot_refs};
use super::{Inputs, ManagedResource, ResourceRef, StepError};
use crate::controller::context::Context;
use crate::crd::{
    DeletionPolicy, GranteeKind, QuayRepository, QuayRepositoryStatus, RepoKind, Visibility,
};
use crate::engine::repository::DesiredRepository;
use crate::engine::{Managed, Quay, Report};
use kube::ResourceExt;

impl ManagedResource for QuayRepository {
    type Desired = DesiredRepository;
    type Status = QuayRepositoryStatus;
    type Extra = ();

    fn announces() -> bool {
        true
    }
    fn resource_refs(&self) -> Vec<ResourceRef> {
        let robots = self
            .spec
            .permissions
            .iter()
            .flatten()
            .filter(|p| p.kind == GranteeKind::Robot);
        robot_refs(robots.map(|p| p.name.as_str()))
    }

    fn desired(&self, inputs: &Inputs) -> Result<DesiredRepository, String> {
        let spec = &self.spec;
        Ok(DesiredRepository {
            namespace: spec.namespace.clone(),
            name: spec.quay_name(&self.name_any()),
            public: spec.visibility == Visibility::Public,
            description: spec.description.clone(),
            kind: match spec.repo_kind {
                RepoKind::Image => "image",
                RepoKind::Application => "application",
            }
            .to_owned(),
            state: spec.state.map(|s| s.as_str().to_owned()),
            permissions: spec
                .permissions
                .as_ref()
                .map(|l| permissions(&spec.namespace, l, inputs))
                .transpose()?,
            auto_prune: spec.auto_prune_policies.as_deref().map(prune_rules),
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
        self.spec.full_name(&self.name_any())
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        super::QuayLocation::of_repository(&self.quay_identity())
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Retain
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        registry_host: Option<&str>,
        _extra: Option<()>,
    ) -> QuayRepositoryStatus {
        let name = self.name_any();
        let previous_pull_spec = self.status.as_ref().and_then(|s| s.pull_spec.clone());
        QuayRepositoryStatus {
            common,
            pull_spec: registry_host
                .map(|h| self.spec.pull_spec(h, &name))
                .or(previous_pull_spec),
            namespace: Some(self.spec.namespace.clone()),
            name: Some(self.spec.quay_name(&name)),
        }
    }
}
