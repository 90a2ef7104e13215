//! Teams: role and description kept in line; members too when listed.
//!
//! A member list names users and robots, and e-mail addresses to invite
//! (entries with an `@`; Quay user and robot names never have one). Pending
//! invitations come in the same members call (`includePending=true`). A user
//! Quay invited rather than added (Quay with FEATURE_MAILING invites users who
//! are not in the organization yet) counts as listed while the invitation is
//! pending. Without FEATURE_MAILING Quay has no invitations: the other members
//! are still synced and the team reports `InvitationsUnavailable`.

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
    /// Members (user names, robot full names, e-mail addresses to invite);
    /// not managed when `None`.
    pub members: Option<BTreeSet<String>>,
}

/// A team as observed.
#[derive(Debug, Clone)]
pub struct LiveTeam {
    /// The team as the organization view lists it.
    pub team: TeamSummary,
    /// Its members and pending invitations (by address), when managed.
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
        let (emails, names): (Vec<&String>, Vec<&String>) =
            desired.difference(current).partition(|n| is_email(n));
        for name in names {
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
            let removed = match is_email(name) {
                true => {
                    quay.client
                        .delete_team_email_invite(&self.org, &self.name, name)
                        .await
                }
                false => {
                    quay.client
                        .remove_team_member(&self.org, &self.name, name)
                        .await
                }
            };
            match removed {
                Err(e) if e.is_not_found() => {}
                other => other?,
            }
        }
        self.invite(quay, &emails).await
    }

    /// Invites the addresses, last: without FEATURE_MAILING the first refusal
    /// stops the others and is reported once the rest is done.
    async fn invite(&self, quay: &Quay, emails: &[&String]) -> Result<(), EngineError> {
        for email in emails {
            match quay
                .client
                .invite_team_email(&self.org, &self.name, email)
                .await
            {
                Err(e) if e.is_mailing_off() => {
                    return Err(EngineError::FeatureUnavailable {
                        reason: "InvitationsUnavailable",
                        message: format!(
                            "cannot invite {} to team {}/{}: this Quay does not send e-mail \
                             (FEATURE_MAILING is off, so it has no team invitations; it answered \
                             {} to {}); the other members are in place",
                            emails
                                .iter()
                                .map(|e| e.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            self.org,
                            self.name,
                            e.status.unwrap_or_default(),
                            e.endpoint
                        ),
                    });
                }
                other => other?,
            }
        }
        Ok(())
    }
}

/// Whether a member entry is an e-mail address to invite.
fn is_email(name: &str) -> bool {
    name.contains('@')
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
                .map(|m| m.iter().map(|m| m.key().to_owned()).collect()),
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
            let what = |name: &str| match is_email(name) {
                true => "invited",
                false => "member",
            };
            for name in desired.difference(current) {
                changes.push(FieldChange::new(
                    &Self::member_label(name),
                    "absent",
                    what(name),
                ));
            }
            for name in current.difference(desired) {
                changes.push(FieldChange::new(
                    &Self::member_label(name),
                    what(name),
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
        self.sync_members(quay, &BTreeSet::new())
            .await
            .map_err(EngineError::after_create)?;
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
