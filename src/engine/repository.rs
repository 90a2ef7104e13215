//! Repositories: observed from the namespace's (shared) list, created, and
//! kept in line field by field; permissions and auto-prune policies too,
//! when the spec lists them.

use super::autoprune;
use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::permissions::{self, DesiredPermission, LivePermissions};
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::autoprune::{AutoPrunePolicy, PolicyOwner, PruneRule};
use crate::quay::api::repository::{NewRepository, Repository};

/// The desired state of a Quay repository.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// Permissions; not managed when `None`, authoritative otherwise.
    pub permissions: Option<Vec<DesiredPermission>>,
    /// Auto-prune policies; not managed when `None`, authoritative otherwise.
    pub auto_prune: Option<Vec<PruneRule>>,
}

/// A repository as observed, with the lists the spec manages.
#[derive(Debug, Clone)]
pub struct LiveRepository {
    /// The repository as listed.
    pub repo: Repository,
    /// Its permissions, when managed.
    pub permissions: Option<LivePermissions>,
    /// Its auto-prune policies, when managed.
    pub policies: Option<Vec<AutoPrunePolicy>>,
    /// The token's user (never revoked).
    me: String,
    /// An enabled mirror configuration owns the state (MIRROR): the
    /// repository's own `state` is then not enforced, so the two never flap.
    mirror_owns_state: bool,
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

    fn owner(&self) -> PolicyOwner {
        PolicyOwner::Repository(self.namespace.clone(), self.name.clone())
    }

    fn waiting_for_namespace(&self) -> EngineError {
        EngineError::Waiting {
            what: format!("Quay namespace {:?} to exist", self.namespace),
        }
    }

    async fn apply_lists(
        &self,
        quay: &Quay,
        live: Option<&LiveRepository>,
    ) -> Result<(), EngineError> {
        if let Some(desired) = &self.permissions {
            let me = quay.me().await?.username.clone();
            let current = match live.and_then(|l| l.permissions.as_ref()) {
                Some(p) => p.clone(),
                None => permissions::observe(quay, &self.namespace, &self.name).await?,
            };
            permissions::apply(quay, &self.namespace, &self.name, desired, &current, &me).await?;
        }
        if let Some(desired) = &self.auto_prune {
            // A repository we have just created has no policies.
            let current = live
                .map(|l| l.policies.clone().unwrap_or_default())
                .unwrap_or_default();
            autoprune::apply(quay, &self.owner(), desired, &current).await?;
        }
        Ok(())
    }
}

impl Managed for DesiredRepository {
    type Live = LiveRepository;

    fn describe(&self) -> String {
        format!("repository {}/{}", self.namespace, self.name)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveRepository>, EngineError> {
        let repos = quay.repositories(&self.namespace).await?;
        let Some(repo) = repos.iter().find(|r| r.name == self.name).cloned() else {
            return Ok(None);
        };
        let (permissions, me) = match self.permissions {
            Some(_) => (
                Some(permissions::observe(quay, &self.namespace, &self.name).await?),
                quay.me().await?.username.clone(),
            ),
            None => (None, String::new()),
        };
        let policies = match self.auto_prune {
            Some(_) => Some(autoprune::observe(quay, &self.owner()).await?),
            None => None,
        };
        // Only when the spec would move a mirrored repository out of MIRROR.
        let mirror_owns_state = match self.state.as_deref() {
            Some(state) if state != "MIRROR" && repo.state == "MIRROR" => quay
                .client
                .get_mirror(&self.namespace, &self.name)
                .await?
                .is_some_and(|m| m.is_enabled),
            _ => false,
        };
        Ok(Some(LiveRepository {
            repo,
            permissions,
            policies,
            me,
            mirror_owns_state,
        }))
    }

    fn diff(&self, live: &LiveRepository) -> Vec<FieldChange> {
        let repo = &live.repo;
        let mut changes = Vec::new();
        if repo.kind != self.kind {
            changes.push(FieldChange::immutable("repoKind", &repo.kind, &self.kind));
        }
        if repo.is_public != self.public {
            changes.push(FieldChange::new(
                "visibility",
                visibility(repo.is_public),
                visibility(self.public),
            ));
        }
        let live_description = repo.description.as_deref().unwrap_or("");
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
            && &repo.state != state
            && !live.mirror_owns_state
        {
            changes.push(FieldChange::new("state", &repo.state, state));
        }
        if let (Some(desired), Some(current)) = (&self.permissions, &live.permissions) {
            changes.extend(permissions::diff(desired, current, &live.me));
        }
        if let (Some(desired), Some(current)) = (&self.auto_prune, &live.policies) {
            changes.extend(autoprune::diff(desired, current));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveRepository>, EngineError> {
        let new = NewRepository {
            namespace: self.namespace.clone(),
            repository: self.name.clone(),
            visibility: visibility(self.public).to_owned(),
            description: self.description.clone().unwrap_or_default(),
            repo_kind: self.kind.clone(),
        };
        // Never a create into a namespace not seen to exist: Quay answers it with
        // 403, or with 500 to a superuser with full access. Another user's
        // namespace cannot be seen; there a refused create means it is missing.
        let known = quay.namespace_known(&self.namespace).await?;
        if !known && !quay.me().await?.super_user {
            return Err(self.waiting_for_namespace());
        }
        match quay.client.create_repository(&new).await {
            Ok(()) => {}
            Err(e) if !known && matches!(e.kind, ErrorKind::Forbidden | ErrorKind::Server) => {
                return Err(self.waiting_for_namespace());
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
                .await
                .map_err(|e| EngineError::from(e).after_create())?;
        }
        quay.remember_repository(&self.namespace, &self.name, Some(self.as_live()));
        quay.remember_new_repository(&self.namespace, &self.name);
        self.apply_lists(quay, None)
            .await
            .map_err(EngineError::after_create)?;
        Ok(None)
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveRepository,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let (ns, name) = (self.namespace.as_str(), self.name.as_str());
        let mut updated = live.repo.clone();
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
        self.apply_lists(quay, Some(live)).await
    }

    async fn delete(&self, quay: &Quay, _live: &Self::Live) -> Result<(), EngineError> {
        quay.client
            .delete_repository(&self.namespace, &self.name)
            .await?;
        quay.remember_repository(&self.namespace, &self.name, None);
        Ok(())
    }
}
