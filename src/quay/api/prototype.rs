//! Default permissions ("prototypes") of an organization, applied to new repositories.

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A default permission.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Prototype {
    /// Quay's id (a uuid).
    pub id: String,
    /// `read`, `write` or `admin`.
    pub role: String,
    /// Who receives the permission.
    pub delegate: PrototypeEntity,
    /// Only repositories created by this user get it (all when `None`).
    #[serde(default)]
    pub activating_user: Option<PrototypeEntity>,
}

/// A user, robot or team named in a prototype.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct PrototypeEntity {
    /// `user` (robots too) or `team`.
    pub kind: String,
    /// Name (robot full name for robots).
    pub name: String,
    /// Whether this user is a robot.
    #[serde(default)]
    pub is_robot: bool,
}

/// A new default permission.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NewPrototype {
    /// `read`, `write` or `admin`.
    pub role: String,
    /// Who receives it: kind `user` (robots too) or `team`.
    pub delegate: EntityRef,
    /// Restricts it to repositories created by this user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activating_user: Option<NameRef>,
}

/// `{kind, name}` as sent to Quay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntityRef {
    /// `user` or `team`.
    pub kind: String,
    /// Name.
    pub name: String,
}

/// `{name}` as sent to Quay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NameRef {
    /// User name.
    pub name: String,
}

#[derive(Deserialize)]
struct PrototypeList {
    prototypes: Vec<Prototype>,
}

#[derive(Serialize)]
struct Role<'a> {
    role: &'a str,
}

impl QuayClient {
    /// All default permissions of an organization.
    pub async fn list_prototypes(&self, org: &str) -> Result<Vec<Prototype>, QuayError> {
        let call = Call::get(format!("/organization/{org}/prototypes"));
        Ok(self.get_json::<PrototypeList>(call).await?.prototypes)
    }

    /// Creates a default permission. Quay accepts identical ones twice, so
    /// callers must check the list first.
    pub async fn create_prototype(
        &self,
        org: &str,
        prototype: &NewPrototype,
    ) -> Result<Prototype, QuayError> {
        self.send(Call::post(format!("/organization/{org}/prototypes")).json(prototype))
            .await?
            .json()
    }

    /// Changes the role of a default permission.
    pub async fn update_prototype_role(
        &self,
        org: &str,
        id: &str,
        role: &str,
    ) -> Result<Prototype, QuayError> {
        self.send(Call::put(format!("/organization/{org}/prototypes/{id}")).json(&Role { role }))
            .await?
            .json()
    }

    /// Deletes a default permission. A missing one gives `NotFound`.
    pub async fn delete_prototype(&self, org: &str, id: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("/organization/{org}/prototypes/{id}")))
            .await
    }
}
