//! Repositories: observed from the namespace's (shared) list, created, and
//! kept in line field by field.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::repository::{NewRepository, Repository};

/// The desired state of a Quay repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRepository {
    /// Organization or user namespace.
    pub namespace: String,
    /// Repository name.
    pub name: String,
    /// Whether anyone may pull.
    pub public: bool,
    /// Description; not managed when `None`.
    pub description: Option<String>,
    /// `image` or `application`.
    pub kind: String,
    /// `NORMAL`, `READ_ONLY` or `MIRROR`; not managed when `None`.
    pub state: Option<String>,
}

fn visibility(public: bool) -> &'static str {
    if public { "public" } else { "private" }
}

impl DesiredRepository {
    fn as_live(&self) -> Repository {
        Repository {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            description: Some(self.description.clone().unwrap_or_default()),
            is_public: self.public,
            kind: self.kind.clone(),
            state: self.state.clone().unwrap_or_else(|| "NORMAL".to_owned()),
        }
    }

    /// A create refused with 403 usually means the namespace does not exist.
    async fn missing_namespace(&self, quay: &Quay) -> Result<bool, EngineError> {
        if quay
            .client
            .get_organization(&self.namespace)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let me = quay.client.current_user().await?;
        Ok(me.username != self.namespace)
    }
}

impl Managed for DesiredRepository {
    type Live = Repository;

    fn describe(&self) -> String {
        format!("repository {}/{}", self.namespace, self.name)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<Repository>, EngineError> {
        let repos = quay.repositories(&self.namespace).await?;
        Ok(repos.iter().find(|r| r.name == self.name).cloned())
    }

    fn diff(&self, live: &Repository) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if live.kind != self.kind {
            changes.push(FieldChange::immutable("repoKind", &live.kind, &self.kind));
        }
        if live.is_public != self.public {
            changes.push(FieldChange::new(
                "visibility",
                visibility(live.is_public),
                visibility(self.public),
            ));
        }
        let live_description = live.description.as_deref().unwrap_or("");
        if let Some(description) = &self.description
            && live_description != description
        {
            changes.push(FieldChange::new(
                "description",
                live_description,
                description,
            ));
        }
        if let Some(state) = &self.state
            && &live.state != state
        {
            changes.push(FieldChange::new("state", &live.state, state));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<(), EngineError> {
        let new = NewRepository {
            namespace: self.namespace.clone(),
            repository: self.name.clone(),
            visibility: visibility(self.public).to_owned(),
            description: self.description.clone().unwrap_or_default(),
            repo_kind: self.kind.clone(),
        };
        match quay.client.create_repository(&new).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Forbidden && self.missing_namespace(quay).await? => {
                return Err(EngineError::Waiting {
                    what: format!("Quay namespace {:?} to exist", self.namespace),
                });
            }
            Err(e) if e.is_already_exists() => {
                // Created by someone else since we listed: the driver reads it back.
                quay.forget_repositories(&self.namespace);
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(state) = self.state.as_deref().filter(|s| *s != "NORMAL") {
            quay.client
                .change_repository_state(&self.namespace, &self.name, state)
                .await?;
        }
        quay.remember_repository(&self.namespace, &self.name, Some(self.as_live()));
        Ok(())
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &Repository,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let (ns, name) = (self.namespace.as_str(), self.name.as_str());
        let mut updated = live.clone();
        for change in changes {
            match change.field.as_str() {
                "visibility" => {
                    quay.client
                        .change_repository_visibility(ns, name, visibility(self.public))
                        .await?;
                    updated.is_public = self.public;
                }
                "description" => {
                    quay.client
                        .update_repository_description(ns, name, &change.desired)
                        .await?;
                    updated.description = Some(change.desired.clone());
                }
                "state" => {
                    quay.client
                        .change_repository_state(ns, name, &change.desired)
                        .await?;
                    updated.state = change.desired.clone();
                }
                _ => {}
            }
        }
        quay.remember_repository(ns, name, Some(updated));
        Ok(())
    }

    async fn delete(&self, quay: &Quay) -> Result<(), EngineError> {
        quay.client
            .delete_repository(&self.namespace, &self.name)
            .await?;
        quay.remember_repository(&self.namespace, &self.name, None);
        Ok(())
    }
}
