//! QuayTeam → the engine's team.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use super::access::{robot_full_name, robot_refs};
use super::{CommonStatus, Inputs, ManagedResource, ResourceRef, StepError};
use crate::controller::context::Context;
use crate::crd::{DeletionPolicy, ManagementPolicy, MemberKind, Origin, QuayTeam, QuayTeamStatus};
use crate::engine::team::{DesiredTeam, LiveTeam};
use crate::engine::{Quay, Report};

impl ManagedResource for QuayTeam {
    type Desired = DesiredTeam;
    type Status = QuayTeamStatus;
    type Extra = ();

    fn resource_refs(&self) -> Vec<ResourceRef> {
        let robots = self
            .spec
            .members
            .iter()
            .flatten()
            .filter(|m| m.kind == MemberKind::Robot);
        robot_refs(robots.map(|m| m.name.as_str()))
    }

    fn desired(&self, inputs: &Inputs) -> Result<DesiredTeam, String> {
        let org = &self.spec.organization;
        Ok(DesiredTeam {
            org: org.clone(),
            name: self.spec.quay_name(&self.name_any()),
            role: self.spec.role.as_str().to_owned(),
            description: self.spec.description.clone(),
            members: self.spec.members.as_ref().map(|members| {
                members
                    .iter()
                    .map(|m| match m.kind {
                        MemberKind::User => m.name.clone(),
                        MemberKind::Robot => robot_full_name(org, &m.name, inputs),
                    })
                    .collect()
            }),
        })
    }
    fn quay_identity(&self) -> String {
        format!(
            "{}/{}",
            self.spec.organization,
            self.spec.quay_name(&self.name_any())
        )
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
        DeletionPolicy::Delete
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
    async fn after_apply(
        &self,
        _: &Context,
        _: &Quay,
        _: &Report<LiveTeam>,
    ) -> Result<(), StepError> {
        Ok(())
    }
    fn status(
        &self,
        common: CommonStatus,
        _registry_host: Option<&str>,
        _extra: Option<()>,
    ) -> QuayTeamStatus {
        QuayTeamStatus {
            conditions: common.conditions,
            observed_generation: common.observed_generation,
            origin: common.origin,
            drift: common.drift,
        }
    }
}
