//! Robot accounts of an organization or of the token's own user.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Whose robots: an organization's, or the token user's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotOwner {
    /// Robots of this organization (`org+name`).
    Organization(String),
    /// Robots of the user the token belongs to (`user+name`).
    CurrentUser,
}

impl RobotOwner {
    fn base(&self) -> String {
        match self {
            RobotOwner::Organization(org) => format!("/organization/{org}/robots"),
            RobotOwner::CurrentUser => "/user/robots".to_owned(),
        }
    }
}

/// A robot account. Quay has no update call: the description is fixed at creation.
#[derive(Clone, Deserialize, Serialize)]
pub struct Robot {
    /// Full name, `namespace+shortname`.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Creation date, as Quay formats it (RFC 2822).
    #[serde(default)]
    pub created: Option<String>,
    /// The robot's token (password), when Quay returned it.
    #[serde(default, skip_serializing)]
    pub token: Option<SecretString>,
    /// Free-form metadata given at creation.
    #[serde(default)]
    pub unstructured_metadata: Option<BTreeMap<String, serde_json::Value>>,
}

impl std::fmt::Debug for Robot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Robot")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// An identity trusted to act as a robot (robot federation): a workload
/// holding an OIDC token from `issuer` for `subject` exchanges it for the
/// robot's credentials, so no robot password is stored anywhere.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FederationEntry {
    /// The token issuer's URL, e.g. the cluster's ServiceAccount issuer.
    pub issuer: String,
    /// The token subject, e.g. `system:serviceaccount:NS:SA`.
    pub subject: String,
}

/// A repository permission held by a robot.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RobotPermission {
    /// The repository (`{"name": ...}` as Quay reports it).
    pub repository: serde_json::Value,
    /// `read`, `write` or `admin`.
    pub role: String,
}

#[derive(Serialize)]
struct NewRobot<'a> {
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unstructured_metadata: Option<&'a BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RobotList {
    robots: Vec<Robot>,
}

#[derive(Deserialize)]
struct RobotPermissions {
    permissions: Vec<RobotPermission>,
}

const ROBOT_MISSING: &[&str] = &["Could not find robot"];

impl QuayClient {
    /// All robots of the owner, without their tokens.
    pub async fn list_robots(&self, owner: &RobotOwner) -> Result<Vec<Robot>, QuayError> {
        let call = Call::get(owner.base())
            .query("token", false)
            .query("permissions", false);
        Ok(self.get_json::<RobotList>(call).await?.robots)
    }

    /// All robots of the owner with their tokens (one call for all of them).
    pub async fn list_robots_with_tokens(
        &self,
        owner: &RobotOwner,
    ) -> Result<Vec<Robot>, QuayError> {
        let call = Call::get(owner.base())
            .query("token", true)
            .query("permissions", false);
        Ok(self.get_json::<RobotList>(call).await?.robots)
    }

    /// One robot with its token, or `None` if it does not exist.
    pub async fn get_robot(
        &self,
        owner: &RobotOwner,
        short_name: &str,
    ) -> Result<Option<Robot>, QuayError> {
        self.get_optional(
            Call::get(format!("{}/{short_name}", owner.base())),
            ROBOT_MISSING,
        )
        .await
    }

    /// Creates a robot and returns it with its token. An existing one gives `AlreadyExists`.
    pub async fn create_robot(
        &self,
        owner: &RobotOwner,
        short_name: &str,
        description: &str,
        metadata: Option<&BTreeMap<String, serde_json::Value>>,
    ) -> Result<Robot, QuayError> {
        let body = NewRobot {
            description,
            unstructured_metadata: metadata,
        };
        // PUT creates; a retry after a lost answer gives AlreadyExists, which
        // callers settle by reading the robot back.
        self.send(Call::put(format!("{}/{short_name}", owner.base())).json(&body))
            .await?
            .json()
    }

    /// Replaces the robot's token and returns the robot with the new one.
    pub async fn regenerate_robot_token(
        &self,
        owner: &RobotOwner,
        short_name: &str,
    ) -> Result<Robot, QuayError> {
        self.send(Call::post(format!(
            "{}/{short_name}/regenerate",
            owner.base()
        )))
        .await?
        .json()
    }

    /// The repository permissions the robot holds.
    pub async fn robot_permissions(
        &self,
        owner: &RobotOwner,
        short_name: &str,
    ) -> Result<Vec<RobotPermission>, QuayError> {
        let call = Call::get(format!("{}/{short_name}/permissions", owner.base()));
        Ok(self.get_json::<RobotPermissions>(call).await?.permissions)
    }

    /// The identities federated with the robot (Quay lists them only here,
    /// not in the robot's view). A missing robot gives `NotFound`.
    pub async fn robot_federation(
        &self,
        owner: &RobotOwner,
        short_name: &str,
    ) -> Result<Vec<FederationEntry>, QuayError> {
        let call = Call::get(format!("{}/{short_name}/federation", owner.base()));
        self.get_json(call)
            .await
            .map_err(|e| e.not_found_if(ROBOT_MISSING))
    }

    /// Replaces the robot's federated identities with `entries` (`[]`
    /// clears them) and returns what Quay stored. Repeating it is harmless.
    pub async fn set_robot_federation(
        &self,
        owner: &RobotOwner,
        short_name: &str,
        entries: &[FederationEntry],
    ) -> Result<Vec<FederationEntry>, QuayError> {
        let call = Call::post(format!("{}/{short_name}/federation", owner.base()))
            .json(&entries)
            .idempotent();
        self.send(call)
            .await
            .map_err(|e| e.not_found_if(ROBOT_MISSING))?
            .json()
    }

    /// Deletes a robot. A missing one gives `NotFound`.
    pub async fn delete_robot(
        &self,
        owner: &RobotOwner,
        short_name: &str,
    ) -> Result<(), QuayError> {
        self.send(Call::delete(format!("{}/{short_name}", owner.base())))
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(ROBOT_MISSING))
    }
}
