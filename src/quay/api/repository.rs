//! Repositories.

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A repository as `GET /api/v1/repository/{namespace}/{name}` shows it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Repository {
    /// Namespace (organization or user).
    pub namespace: String,
    /// Repository name.
    pub name: String,
    /// Markdown description (`None` when Quay has none).
    #[serde(default)]
    pub description: Option<String>,
    /// Whether anyone may pull.
    pub is_public: bool,
    /// `image` or `application`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// `NORMAL`, `READ_ONLY` or `MIRROR`.
    #[serde(default = "default_state")]
    pub state: String,
}

fn default_kind() -> String {
    "image".to_owned()
}

fn default_state() -> String {
    "NORMAL".to_owned()
}

/// Parameters of a new repository.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NewRepository {
    /// Namespace to create it in.
    pub namespace: String,
    /// Repository name.
    pub repository: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Description (Quay requires the key; may be empty).
    pub description: String,
    /// `image` or `application`.
    pub repo_kind: String,
}

#[derive(Deserialize)]
struct RepositoryPage {
    repositories: Vec<Repository>,
    #[serde(default)]
    next_page: Option<String>,
}

#[derive(Serialize)]
struct Description<'a> {
    description: &'a str,
}

#[derive(Serialize)]
struct Visibility<'a> {
    visibility: &'a str,
}

#[derive(Serialize)]
struct State<'a> {
    state: &'a str,
}

impl QuayClient {
    /// The repository, or `None` if it does not exist. An unknown namespace
    /// is answered `Forbidden` by Quay.
    pub async fn get_repository(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Repository>, QuayError> {
        let call = Call::get(format!("/repository/{namespace}/{name}"))
            .query("includeTags", false)
            .query("includeStats", false);
        self.get_optional(call, &[]).await
    }

    /// Every repository of a namespace, following Quay's paging.
    pub async fn list_repositories(&self, namespace: &str) -> Result<Vec<Repository>, QuayError> {
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut call = Call::get("/repository").query("namespace", namespace);
            if let Some(token) = &next {
                call = call.query("next_page", token);
            }
            let page: RepositoryPage = self.get_json(call).await?;
            all.extend(page.repositories);
            match page.next_page {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(all),
            }
        }
    }

    /// Creates a repository. An existing one gives `AlreadyExists`.
    pub async fn create_repository(&self, repo: &NewRepository) -> Result<(), QuayError> {
        self.execute(Call::post("/repository").json(repo)).await
    }

    /// Sets the description.
    pub async fn update_repository_description(
        &self,
        namespace: &str,
        name: &str,
        description: &str,
    ) -> Result<(), QuayError> {
        self.execute(
            Call::put(format!("/repository/{namespace}/{name}")).json(&Description { description }),
        )
        .await
    }

    /// Sets the visibility (`public` or `private`).
    pub async fn change_repository_visibility(
        &self,
        namespace: &str,
        name: &str,
        visibility: &str,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!("/repository/{namespace}/{name}/changevisibility"))
            .json(&Visibility { visibility })
            .idempotent();
        self.execute(call).await
    }

    /// Sets the state (`NORMAL`, `READ_ONLY` or `MIRROR`).
    pub async fn change_repository_state(
        &self,
        namespace: &str,
        name: &str,
        state: &str,
    ) -> Result<(), QuayError> {
        self.execute(
            Call::put(format!("/repository/{namespace}/{name}/changestate")).json(&State { state }),
        )
        .await
    }

    /// Deletes a repository and its images. Quay answers 204 even when it is gone already.
    pub async fn delete_repository(&self, namespace: &str, name: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("/repository/{namespace}/{name}")))
            .await
    }
}
