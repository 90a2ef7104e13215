//! QuayUserNamespace → the engine's user namespace.

use super::access::prune_rules;
use super::{Inputs, ManagedResource, ResourceRef, StepError};
use crate::controller::context::Context;
use crate::crd::{DeletionPolicy, QuayUserNamespace, QuayUserNamespaceStatus};
use crate::engine::user_namespace::{DesiredUserNamespace, LiveUserNamespace};
use crate::engine::{Quay, Report};

impl ManagedResource for QuayUserNamespace {
    type Desired = DesiredUserNamespace;
    type Status = QuayUserNamespaceStatus;
    type Extra = ();

    fn resource_refs(&self) -> Vec<ResourceRef> {
        Vec::new()
    }

    fn desired(&self, _inputs: &Inputs) -> Result<DesiredUserNamespace, String> {
        Ok(DesiredUserNamespace {
            user: self.spec.user.clone(),
            auto_prune: self.spec.auto_prune_policies.as_deref().map(prune_rules),
        })
    }
    async fn after_apply(
        &self,
        _: &Context,
        _: &Quay,
        _: &Report<LiveUserNamespace>,
    ) -> Result<(), StepError> {
        Ok(())
    }
    fn quay_identity(&self) -> String {
        self.spec.user.clone()
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        Some(super::QuayLocation::of_namespace(&self.spec.user))
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
    ) -> QuayUserNamespaceStatus {
        QuayUserNamespaceStatus { common }
    }
}
