//! QuayTeam → the engine's team.

use kube::ResourceExt;

use super::access::{robot_full_name, robot_refs};
use super::{Inputs, ManagedResource, ResourceRef, StepError};
use crate::controller::context::Context;
use crate::crd::{DeletionPolicy, MemberKind, QuayTeam, QuayTeamStatus};
use crate::engine::team::{DesiredTeam, LiveTeam};
use crate::engine::{Quay, Report};

impl ManagedResource for QuayTeam {
    type Desired = DesiredTeam;
    type Status = QuayTeamStatus;
    type Extra = ();

    fn announces() -> bool {
        true
    }
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
                        MemberKind::User | MemberKind::Email => m.name.clone(),
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
    fn quay_location(&self) -> Option<super::QuayLocation> {
        Some(super::QuayLocation::of_namespace(&self.spec.organization))
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
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
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        _extra: Option<()>,
    ) -> QuayTeamStatus {
        QuayTeamStatus { common }
    }
}
