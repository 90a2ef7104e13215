//! A Quay user's own namespace: its auto-prune policies, kept in line when
//! listed. Quay's `/user/...` endpoints act on the caller, so the connection's
//! token must belong to the user; otherwise nothing is sent and the error
//! says which token is needed. The user itself is never created or deleted.

use super::autoprune;
use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::autoprune::{AutoPrunePolicy, PolicyOwner, PruneRule};

/// The desired state of a user's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredUserNamespace {
    /// The Quay user.
    pub user: String,
    /// Auto-prune policies; not managed when `None`, authoritative otherwise.
    pub auto_prune: Option<Vec<PruneRule>>,
}

/// A user's namespace as observed.
#[derive(Debug, Clone)]
pub struct LiveUserNamespace {
    /// Its auto-prune policies, when managed.
    pub policies: Option<Vec<AutoPrunePolicy>>,
}

/// Fails unless the connection's token belongs to `user` (one cached call per
/// connection): Quay's `/user/...` endpoints change the caller's namespace.
pub async fn require_token_user(quay: &Quay, user: &str, what: &str) -> Result<(), EngineError> {
    let me = &quay.me().await?.username;
    if me == user {
        return Ok(());
    }
    Err(EngineError::TokenUser {
        token_user: me.clone(),
        user: user.to_owned(),
        what: what.to_owned(),
    })
}

impl Managed for DesiredUserNamespace {
    type Live = LiveUserNamespace;

    fn describe(&self) -> String {
        format!("user namespace {}", self.user)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveUserNamespace>, EngineError> {
        require_token_user(quay, &self.user, "auto-prune policies").await?;
        let policies = match self.auto_prune {
            Some(_) => Some(autoprune::observe(quay, &PolicyOwner::CurrentUser).await?),
            None => None,
        };
        Ok(Some(LiveUserNamespace { policies }))
    }

    fn diff(&self, live: &LiveUserNamespace) -> Vec<FieldChange> {
        match (&self.auto_prune, &live.policies) {
            (Some(desired), Some(current)) => autoprune::diff(desired, current),
            _ => Vec::new(),
        }
    }

    /// Never reached: a token's own namespace always exists.
    async fn create(&self, _quay: &Quay) -> Result<Option<LiveUserNamespace>, EngineError> {
        Err(EngineError::Rejected(format!(
            "Quay user {:?} does not exist; the operator does not create users",
            self.user
        )))
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveUserNamespace,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        if let (Some(desired), Some(current)) = (&self.auto_prune, &live.policies) {
            autoprune::apply(quay, &PolicyOwner::CurrentUser, desired, current).await?;
        }
        Ok(())
    }

    /// Removes the policies it manages (all of the user's, as the list is
    /// authoritative), never the user.
    async fn delete(&self, quay: &Quay, live: &LiveUserNamespace) -> Result<(), EngineError> {
        if let Some(current) = &live.policies {
            autoprune::apply(quay, &PolicyOwner::CurrentUser, &[], current).await?;
        }
        Ok(())
    }
}
