//! Storage quotas and their warning/reject limits.

use serde::{Deserialize, Deserializer, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Which quota endpoints to use for a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaScope {
    /// `/organization/{org}/quota`: writes need a superuser token and
    /// `FEATURE_SUPERUSERS_FULL_ACCESS`; has limits.
    Organization(String),
    /// `/superuser/organization/{org}/quota`: any superuser; no limit calls.
    SuperuserOrganization(String),
    /// `/superuser/users/{user}/quota`: a user namespace, superuser only; no limit calls.
    SuperuserUser(String),
}

impl QuotaScope {
    fn base(&self) -> String {
        match self {
            QuotaScope::Organization(org) => format!("/organization/{org}/quota"),
            QuotaScope::SuperuserOrganization(org) => {
                format!("/superuser/organization/{org}/quota")
            }
            QuotaScope::SuperuserUser(user) => format!("/superuser/users/{user}/quota"),
        }
    }
}

/// A namespace quota.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Quota {
    /// Quay's id.
    pub id: i64,
    /// The limit in bytes (Quay sometimes answers a float).
    #[serde(deserialize_with = "bytes_from_number")]
    pub limit_bytes: u64,
    /// The limit as Quay prints it, e.g. `10.0 GiB`.
    #[serde(default)]
    pub limit: Option<String>,
    /// Warning and reject thresholds.
    #[serde(default)]
    pub limits: Vec<QuotaLimit>,
}

/// A warning or reject threshold of a quota.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct QuotaLimit {
    /// Quay's id.
    pub id: i64,
    /// `Warning` or `Reject`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Percent of the quota (1–100).
    pub limit_percent: u32,
}

fn bytes_from_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64))
        .ok_or_else(|| serde::de::Error::custom(format!("invalid byte count {n}")))
}

#[derive(Serialize)]
struct LimitBytes {
    limit_bytes: u64,
}

#[derive(Serialize)]
struct NewLimit<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    threshold_percent: u32,
}

impl QuayClient {
    /// The quotas of a namespace (Quay allows at most one).
    pub async fn list_quotas(&self, scope: &QuotaScope) -> Result<Vec<Quota>, QuayError> {
        self.get_json(Call::get(scope.base())).await
    }

    /// Creates the namespace's quota. Quay returns no id: list to find it.
    pub async fn create_quota(
        &self,
        scope: &QuotaScope,
        limit_bytes: u64,
    ) -> Result<(), QuayError> {
        self.execute(Call::post(scope.base()).json(&LimitBytes { limit_bytes }))
            .await
    }

    /// Changes the quota's limit.
    pub async fn update_quota(
        &self,
        scope: &QuotaScope,
        id: i64,
        limit_bytes: u64,
    ) -> Result<Quota, QuayError> {
        self.send(Call::put(format!("{}/{id}", scope.base())).json(&LimitBytes { limit_bytes }))
            .await?
            .json()
    }

    /// Deletes the quota.
    pub async fn delete_quota(&self, scope: &QuotaScope, id: i64) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("{}/{id}", scope.base())))
            .await
    }

    /// Adds a threshold (`Warning` or `Reject`) to an organization quota.
    pub async fn create_quota_limit(
        &self,
        org: &str,
        quota_id: i64,
        kind: &str,
        percent: u32,
    ) -> Result<(), QuayError> {
        let call =
            Call::post(format!("/organization/{org}/quota/{quota_id}/limit")).json(&NewLimit {
                kind,
                threshold_percent: percent,
            });
        self.execute(call).await
    }

    /// Changes a threshold of an organization quota.
    pub async fn update_quota_limit(
        &self,
        org: &str,
        quota_id: i64,
        limit_id: i64,
        kind: &str,
        percent: u32,
    ) -> Result<(), QuayError> {
        let call = Call::put(format!(
            "/organization/{org}/quota/{quota_id}/limit/{limit_id}"
        ))
        .json(&NewLimit {
            kind,
            threshold_percent: percent,
        });
        self.execute(call).await
    }

    /// Deletes a threshold of an organization quota.
    pub async fn delete_quota_limit(
        &self,
        org: &str,
        quota_id: i64,
        limit_id: i64,
    ) -> Result<(), QuayError> {
        self.execute(Call::delete(format!(
            "/organization/{org}/quota/{quota_id}/limit/{limit_id}"
        )))
        .await
    }
}
