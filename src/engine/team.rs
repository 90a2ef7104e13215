//! Teams: role and description kept in line; members too when listed.

use std::collections::BTreeSet;

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::organization::TeamSummary;

/// The desired state of a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredTeam {
    /// Organization.
    pub org: String,
    /// Team name.
    pub name: String,
    /// `member`, `creator` or `admin`.
    pub role: String,
    /// Description; not managed when `None`.
    pub description: Option<String>,
    /// Members (user names, robot full names); not managed when `None`.
    pub members: Option<BTreeSet<String>>,
}

/// A team as observed.
#[derive(Debug, Clone)]
pub struct LiveTeam {
    /// The team as the organization view lists it.
    pub team: TeamSummary,
    /// Its members, when managed.
    pub members: Option<BTreeSet<String>>,
}

impl DesiredTeam {
    fn member_label(name: &str) -> String {
        format!("members[{name}]")
    }

    async fn sync_members(
        &self,
        quay: &Quay,
        current: &BTreeSet<String>,
    ) -> Result<(), EngineError> {
        let Some(desired) = &self.members else {
            return Ok(());
        };
        for name in desired.difference(current) {
            match quay
                .client
                .add_team_member(&self.org, &self.name, name)
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_already_exists() => {}
                Err(e) if e.kind == ErrorKind::BadRequest && name.contains('+') => {
                    return Err(EngineError::Waiting {
                        what: format!("robot {name} to exist in Quay ({})", e.message),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        for name in current.difference(desired) {
            match quay
                .client
                .remove_team_member(&self.org, &self.name, name)
                .await
            {
                Err(e) if e.is_not_found() => {}
                other => other?,
            }
        }
        Ok(())
    }
}

impl Managed for DesiredTeam {
    type Live = LiveTeam;

    fn describe(&self) -> String {
        format!("team {}/{}", self.org, self.name)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveTeam>, EngineError> {
        let org = quay.organization(&self.org).await?;
        let Some(team) = org
            .as_ref()
            .as_ref()
            .and_then(|o| o.teams.get(&self.name))
            .cloned()
        else {
            return Ok(None);
        };
        let members = match self.members {
            Some(_) => quay
                .client
                .list_team_members(&self.org, &self.name)
                .await?
                .map(|m| m.into_iter().map(|m| m.name).collect()),
            None => None,
        };
        Ok(Some(LiveTeam { team, members }))
    }

    fn diff(&self, live: &LiveTeam) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if live.team.role != self.role {
            changes.push(FieldChange::new("role", &live.team.role, &self.role));
        }
        if let Some(description) = &self.description
            && &live.team.description != description
        {
            changes.push(FieldChange::new(
                "description",
                &live.team.description,
                description,
            ));
        }
        if let (Some(desired), Some(current)) = (&self.members, &live.members) {
            for name in desired.difference(current) {
                changes.push(FieldChange::new(
                    &Self::member_label(name),
                    "absent",
                    "member",
                ));
            }
            for name in current.difference(desired) {
                changes.push(FieldChange::new(
                    &Self::member_label(name),
                    "member",
                    "absent",
                ));
            }
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveTeam>, EngineError> {
        if quay.organization(&self.org).await?.is_none() {
            return Err(EngineError::Waiting {
                what: format!("Quay organization {:?} to exist", self.org),
            });
        }
        quay.client
            .put_team(
                &self.org,
                &self.name,
                &self.role,
                self.description.as_deref(),
            )
            .await?;
        quay.forget_organization(&self.org);
        self.sync_members(quay, &BTreeSet::new()).await?;
        Ok(None)
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveTeam,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        if changes
            .iter()
            .any(|c| c.field == "role" || c.field == "description")
        {
            quay.client
                .put_team(
                    &self.org,
                    &self.name,
                    &self.role,
                    self.description.as_deref(),
                )
                .await?;
            quay.forget_organization(&self.org);
        }
        if let Some(current) = &live.members {
            self.sync_members(quay, current).await?;
        }
        Ok(())
    }

    async fn delete(&self, quay: &Quay, _live: &Self::Live) -> Result<(), EngineError> {
        quay.client.delete_team(&self.org, &self.name).await?;
        quay.forget_organization(&self.org);
        Ok(())
    }
}
