//! Repository permissions of users (robots included) and teams.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Who a permission is granted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grantee {
    /// A user or a robot (`namespace+name`).
    User,
    /// A team of the repository's organization.
    Team,
}

impl Grantee {
    fn segment(self) -> &'static str {
        match self {
            Grantee::User => "user",
            Grantee::Team => "team",
        }
    }
}

/// One permission on a repository.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Permission {
    /// User, robot or team name (present in list entries).
    #[serde(default)]
    pub name: String,
    /// `read`, `write` or `admin`.
    pub role: String,
    /// Whether the grantee is a robot (user permissions only).
    #[serde(default)]
    pub is_robot: bool,
}

#[derive(Deserialize)]
struct PermissionMap {
    permissions: BTreeMap<String, Permission>,
}

#[derive(Serialize)]
struct Role<'a> {
    role: &'a str,
}

const PERMISSION_MISSING: &[&str] = &["does not have permission"];

impl QuayClient {
    /// All permissions of one grantee kind on a repository, by grantee name.
    pub async fn list_repository_permissions(
        &self,
        namespace: &str,
        repo: &str,
        grantee: Grantee,
    ) -> Result<BTreeMap<String, Permission>, QuayError> {
        let call = Call::get(format!(
            "/repository/{namespace}/{repo}/permissions/{}/",
            grantee.segment()
        ));
        let mut map = self.get_json::<PermissionMap>(call).await?.permissions;
        for (name, permission) in map.iter_mut() {
            permission.name.clone_from(name);
        }
        Ok(map)
    }

    /// One grantee's permission, or `None` when it has none.
    pub async fn get_repository_permission(
        &self,
        namespace: &str,
        repo: &str,
        grantee: Grantee,
        name: &str,
    ) -> Result<Option<Permission>, QuayError> {
        let call = Call::get(format!(
            "/repository/{namespace}/{repo}/permissions/{}/{name}",
            grantee.segment()
        ));
        self.get_optional(call, PERMISSION_MISSING).await
    }

    /// Grants or changes a permission.
    pub async fn set_repository_permission(
        &self,
        namespace: &str,
        repo: &str,
        grantee: Grantee,
        name: &str,
        role: &str,
    ) -> Result<(), QuayError> {
        let call = Call::put(format!(
            "/repository/{namespace}/{repo}/permissions/{}/{name}",
            grantee.segment()
        ))
        .json(&Role { role });
        self.execute(call).await
    }

    /// Revokes a permission. One that does not exist gives `NotFound`.
    pub async fn delete_repository_permission(
        &self,
        namespace: &str,
        repo: &str,
        grantee: Grantee,
        name: &str,
    ) -> Result<(), QuayError> {
        let call = Call::delete(format!(
            "/repository/{namespace}/{repo}/permissions/{}/{name}",
            grantee.segment()
        ));
        self.send(call)
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(PERMISSION_MISSING))
    }
}
