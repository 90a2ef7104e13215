//! Auto-prune policies of an organization, a repository or the token's user.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Where auto-prune policies live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOwner {
    /// An organization.
    Organization(String),
    /// A repository (`namespace`, `name`).
    Repository(String, String),
    /// The token's own user namespace.
    CurrentUser,
}

impl PolicyOwner {
    fn base(&self) -> String {
        match self {
            PolicyOwner::Organization(org) => format!("/organization/{org}/autoprunepolicy/"),
            PolicyOwner::Repository(ns, repo) => {
                format!("/repository/{ns}/{repo}/autoprunepolicy/")
            }
            PolicyOwner::CurrentUser => "/user/autoprunepolicy/".to_owned(),
        }
    }
}

/// An auto-prune policy as Quay shows it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct AutoPrunePolicy {
    /// Quay's id.
    pub uuid: String,
    /// The policy body.
    #[serde(flatten)]
    pub rule: PruneRule,
}

/// What a policy prunes.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct PruneRule {
    /// `number_of_tags` or `creation_date`.
    pub method: String,
    /// A tag count (number) or an age like `7d` (string).
    pub value: Value,
    /// Only tags matching (or not matching) this regular expression.
    #[serde(
        rename = "tagPattern",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tag_pattern: Option<String>,
    /// Whether the pattern selects matching tags (default) or the others.
    #[serde(rename = "tagPatternMatches", default = "default_true")]
    pub tag_pattern_matches: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
struct PolicyList {
    policies: Vec<AutoPrunePolicy>,
}

#[derive(Deserialize)]
struct Created {
    uuid: String,
}

impl QuayClient {
    /// All policies of the owner.
    pub async fn list_autoprune_policies(
        &self,
        owner: &PolicyOwner,
    ) -> Result<Vec<AutoPrunePolicy>, QuayError> {
        Ok(self
            .get_json::<PolicyList>(Call::get(owner.base()))
            .await?
            .policies)
    }

    /// Creates a policy and returns its uuid. An identical one gives `AlreadyExists`.
    pub async fn create_autoprune_policy(
        &self,
        owner: &PolicyOwner,
        rule: &PruneRule,
    ) -> Result<String, QuayError> {
        let created: Created = self
            .send(Call::post(owner.base()).json(rule))
            .await?
            .json()?;
        Ok(created.uuid)
    }

    /// Replaces a policy's body.
    pub async fn update_autoprune_policy(
        &self,
        owner: &PolicyOwner,
        uuid: &str,
        rule: &PruneRule,
    ) -> Result<(), QuayError> {
        self.execute(Call::put(format!("{}{uuid}", owner.base())).json(rule))
            .await
    }

    /// Deletes a policy. A missing one gives `NotFound`.
    pub async fn delete_autoprune_policy(
        &self,
        owner: &PolicyOwner,
        uuid: &str,
    ) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("{}{uuid}", owner.base())))
            .await
    }
}
