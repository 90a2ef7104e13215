//! Teams of an organization and their members.

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A team as the create/update call returns it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Team {
    /// Team name.
    pub name: String,
    /// `member`, `creator` or `admin`.
    pub role: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Whether this call created the team.
    #[serde(default)]
    pub new_team: bool,
}

/// A team member: a user or a robot, or (with `includePending`) a pending
/// invitation of a user or of an e-mail address.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct TeamMember {
    /// User name, or robot full name (empty for an e-mail invitation).
    #[serde(default)]
    pub name: String,
    /// `user`, or `invite` for an e-mail invitation.
    #[serde(default)]
    pub kind: String,
    /// The invited address, for an e-mail invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the member is a robot.
    #[serde(default)]
    pub is_robot: bool,
    /// Whether the member is only invited.
    #[serde(default)]
    pub invited: bool,
}

impl TeamMember {
    /// The invited address, if this is an e-mail invitation.
    pub fn invited_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.kind == "invite")
    }

    /// How the member is named in a member list: the user or robot name, or
    /// the address of an e-mail invitation.
    pub fn key(&self) -> &str {
        self.invited_email().unwrap_or(&self.name)
    }
}

/// A repository permission of a team (`GET .../team/{team}/permissions`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TeamPermission {
    /// The repository, of the team's organization.
    pub repository: TeamRepository,
    /// `read`, `write` or `admin`.
    pub role: String,
}

/// The repository of a [`TeamPermission`].
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TeamRepository {
    /// Repository name (without the namespace).
    pub name: String,
}

#[derive(Deserialize)]
struct TeamPermissionList {
    permissions: Vec<TeamPermission>,
}

#[derive(Serialize)]
struct TeamBody<'a> {
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Deserialize)]
struct MemberList {
    members: Vec<TeamMember>,
}

const TEAM_MISSING: &[&str] = &["is not a team", "does not belong to team"];

impl QuayClient {
    /// Creates or updates a team. Without a description, the current one is kept.
    pub async fn put_team(
        &self,
        org: &str,
        team: &str,
        role: &str,
        description: Option<&str>,
    ) -> Result<Team, QuayError> {
        let call = Call::put(format!("/organization/{org}/team/{team}"))
            .json(&TeamBody { role, description });
        self.send(call).await?.json()
    }

    /// Deletes a team. A missing one gives `NotFound`.
    pub async fn delete_team(&self, org: &str, team: &str) -> Result<(), QuayError> {
        self.send(Call::delete(format!("/organization/{org}/team/{team}")))
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(TEAM_MISSING))
    }

    /// The team's members with the pending invitations (one call), or `None` if
    /// the team does not exist.
    pub async fn list_team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, QuayError> {
        let call = Call::get(format!("/organization/{org}/team/{team}/members"))
            .query("includePending", true);
        Ok(self
            .get_optional::<MemberList>(call, &[])
            .await?
            .map(|l| l.members))
    }

    /// The repository permissions the team holds, across its organization (one
    /// call for every repository).
    pub async fn list_team_permissions(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Vec<TeamPermission>, QuayError> {
        let call = Call::get(format!("/organization/{org}/team/{team}/permissions"));
        Ok(self.get_json::<TeamPermissionList>(call).await?.permissions)
    }

    /// Adds a user or robot (full name) to the team. An existing member gives `AlreadyExists`.
    pub async fn add_team_member(
        &self,
        org: &str,
        team: &str,
        member: &str,
    ) -> Result<(), QuayError> {
        self.send(Call::put(format!(
            "/organization/{org}/team/{team}/members/{member}"
        )))
        .await
        .map(|_| ())
        .map_err(|mut e| {
            if e.message.contains("already a member") {
                e.kind = crate::quay::ErrorKind::AlreadyExists;
            }
            e
        })
    }

    /// Invites an e-mail address to the team (Quay sends the mail). Without
    /// FEATURE_MAILING Quay answers 405: see [`QuayError::is_mailing_off`].
    pub async fn invite_team_email(
        &self,
        org: &str,
        team: &str,
        email: &str,
    ) -> Result<(), QuayError> {
        let call = Call::put(format!("/organization/{org}/team/{team}/invite/{email}"));
        self.send(call).await.map(|_| ())
    }

    /// Withdraws the e-mail invitation of `email`. None pending gives `NotFound`.
    pub async fn delete_team_email_invite(
        &self,
        org: &str,
        team: &str,
        email: &str,
    ) -> Result<(), QuayError> {
        let call = Call::delete(format!("/organization/{org}/team/{team}/invite/{email}"));
        self.send(call).await.map(|_| ())
    }

    /// Removes a member from the team (or withdraws a user's pending
    /// invitation). A non-member gives `NotFound`.
    pub async fn remove_team_member(
        &self,
        org: &str,
        team: &str,
        member: &str,
    ) -> Result<(), QuayError> {
        self.send(Call::delete(format!(
            "/organization/{org}/team/{team}/members/{member}"
        )))
        .await
        .map(|_| ())
        .map_err(|e| e.not_found_if(TEAM_MISSING))
    }
}
