//! Organizations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::quay::api::quota::Quota;
use crate::quay::api::user::OrganizationRef;
use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// An organization (`GET /api/v1/organization/{orgname}`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Organization {
    /// Organization name.
    pub name: String,
    /// Contact e-mail (not unique in Quay).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the caller administers it.
    #[serde(default)]
    pub is_admin: bool,
    /// Default tag expiration, in seconds.
    #[serde(default)]
    pub tag_expiration_s: Option<i64>,
    /// Teams by name (shown to members).
    #[serde(default)]
    pub teams: BTreeMap<String, TeamSummary>,
    /// The organization's quota (at most one), with its thresholds.
    #[serde(default)]
    pub quotas: Vec<Quota>,
    /// Storage use as Quay reports it (when quota management is on).
    #[serde(default)]
    pub quota_report: Option<QuotaReport>,
}

/// Storage use of a namespace (`quota_report` of the organization view).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct QuotaReport {
    /// Bytes used.
    #[serde(default)]
    pub quota_bytes: Option<u64>,
    /// The quota in bytes, when one is configured.
    #[serde(default)]
    pub configured_quota: Option<u64>,
}

/// A team as listed in an organization view.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TeamSummary {
    /// Team name.
    pub name: String,
    /// `member`, `creator` or `admin`.
    pub role: String,
    /// Team description.
    #[serde(default)]
    pub description: String,
    /// Number of members.
    #[serde(default)]
    pub member_count: u64,
}

/// Fields of an organization that can be changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OrganizationUpdate {
    /// New contact e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New default tag expiration, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_expiration_s: Option<i64>,
}

/// One page of `GET /api/v1/superuser/organizations/`.
#[derive(Deserialize)]
struct OrganizationPage {
    organizations: Vec<OrganizationRef>,
    #[serde(default)]
    next_page: Option<String>,
}

#[derive(Serialize)]
struct NewOrganization<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

impl QuayClient {
    /// The organization, or `None` if it does not exist.
    pub async fn get_organization(&self, name: &str) -> Result<Option<Organization>, QuayError> {
        self.get_optional(Call::get(format!("/organization/{name}")), &[])
            .await
    }

    /// Every organization of the Quay, following Quay's paging (a superuser
    /// token with the `super:user` scope only).
    pub async fn list_all_organizations(&self) -> Result<Vec<OrganizationRef>, QuayError> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut call = Call::get("/superuser/organizations/");
            if let Some(token) = &next {
                call = call.query("next_page", token);
            }
            let page: OrganizationPage = self.get_json(call).await?;
            all.extend(page.organizations);
            match page.next_page {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(all),
            }
        }
    }

    /// Creates an organization. An existing name gives `AlreadyExists`.
    pub async fn create_organization(
        &self,
        name: &str,
        email: Option<&str>,
    ) -> Result<(), QuayError> {
        self.execute(Call::post("/organization/").json(&NewOrganization { name, email }))
            .await
    }

    /// Changes an organization's details and returns the new view.
    pub async fn update_organization(
        &self,
        name: &str,
        update: &OrganizationUpdate,
    ) -> Result<Organization, QuayError> {
        self.send(Call::put(format!("/organization/{name}")).json(update))
            .await?
            .json()
    }

    /// Deletes an organization with everything in it.
    pub async fn delete_organization(&self, name: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("/organization/{name}")))
            .await
    }
}
