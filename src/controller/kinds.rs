//! What the generic reconciler needs to know of each managed kind: how its
//! spec becomes the engine's desired state, and how its status is written.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crd::{
    DeletionPolicy, ManagementPolicy, Origin, QuayOrganization, QuayOrganizationStatus,
    QuayRepository, QuayRepositoryStatus, RepoKind, Visibility,
};
use crate::engine::Managed;
use crate::engine::organization::DesiredOrganization;
use crate::engine::repository::DesiredRepository;

/// The status fields every managed kind has.
pub struct CommonStatus {
    /// Conditions, Ready first.
    pub conditions: Vec<Condition>,
    /// The generation this status describes.
    pub observed_generation: Option<i64>,
    /// Whether the operator created or adopted the Quay object.
    pub origin: Option<Origin>,
    /// Differences found in observe-only mode.
    pub drift: Vec<String>,
}

/// A custom resource kind that manages one Quay object through the engine.
pub trait ManagedResource:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The engine's desired state for this kind.
    type Desired: Managed + 'static;
    /// The kind's status type.
    type Status: Serialize + Send + Sync;

    /// The engine's desired state, from the spec.
    fn desired(&self) -> Self::Desired;
    /// The Quay object's identity (two resources with the same one conflict).
    fn quay_identity(&self) -> String;
    /// The QuayConnection to use.
    fn connection_name(&self) -> &str;
    /// `spec.managementPolicy`.
    fn management_policy(&self) -> ManagementPolicy;
    /// `spec.deletionPolicy` as the user wrote it (`None` when unset).
    fn deletion_policy(&self) -> Option<DeletionPolicy>;
    /// The policy in effect when unset, for objects the operator created.
    fn default_deletion_policy() -> DeletionPolicy;
    /// Current conditions.
    fn conditions(&self) -> &[Condition];
    /// Current `status.origin`.
    fn origin(&self) -> Option<Origin>;
    /// The full status to write; `registry_host` is known once connected.
    fn status(&self, common: CommonStatus, registry_host: Option<&str>) -> Self::Status;
}

impl ManagedResource for QuayOrganization {
    type Desired = DesiredOrganization;
    type Status = QuayOrganizationStatus;

    fn desired(&self) -> DesiredOrganization {
        DesiredOrganization {
            name: self.spec.quay_name(&self.name_any()),
            email: self.spec.email.clone(),
            ..DesiredOrganization::default()
        }
    }
    fn quay_identity(&self) -> String {
        self.spec.quay_name(&self.name_any())
    }
    fn connection_name(&self) -> &str {
        self.spec.connection_name()
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
    fn deletion_policy(&self) -> Option<DeletionPolicy> {
        self.spec.deletion_policy
    }
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Retain
    }
    fn conditions(&self) -> &[Condition] {
        self.status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or_default()
    }
    fn origin(&self) -> Option<Origin> {
        self.status.as_ref().and_then(|s| s.origin)
    }
    fn status(&self, common: CommonStatus, _registry_host: Option<&str>) -> QuayOrganizationStatus {
        QuayOrganizationStatus {
            conditions: common.conditions,
            observed_generation: common.observed_generation,
            name: Some(self.quay_identity()),
            origin: common.origin,
            drift: common.drift,
        }
    }
}

impl ManagedResource for QuayRepository {
    type Desired = DesiredRepository;
    type Status = QuayRepositoryStatus;

    fn desired(&self) -> DesiredRepository {
        let spec = &self.spec;
        DesiredRepository {
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
            ..DesiredRepository::default()
        }
    }
    fn quay_identity(&self) -> String {
        self.spec.full_name(&self.name_any())
    }
    fn connection_name(&self) -> &str {
        self.spec.connection_name()
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
    fn deletion_policy(&self) -> Option<DeletionPolicy> {
        self.spec.deletion_policy
    }
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Retain
    }
    fn conditions(&self) -> &[Condition] {
        self.status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or_default()
    }
    fn origin(&self) -> Option<Origin> {
        self.status.as_ref().and_then(|s| s.origin)
    }
    fn status(&self, common: CommonStatus, registry_host: Option<&str>) -> QuayRepositoryStatus {
        let name = self.name_any();
        let previous_pull_spec = self.status.as_ref().and_then(|s| s.pull_spec.clone());
        QuayRepositoryStatus {
            conditions: common.conditions,
            observed_generation: common.observed_generation,
            pull_spec: registry_host
                .map(|h| self.spec.pull_spec(h, &name))
                .or(previous_pull_spec),
            namespace: Some(self.spec.namespace.clone()),
            name: Some(self.spec.quay_name(&name)),
            origin: common.origin,
            drift: common.drift,
        }
    }
}
