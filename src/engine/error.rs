//! Errors of the engine and how a controller should treat them.

use crate::quay::{ErrorKind, QuayError};

/// How a failed reconcile should be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// May pass on its own soon (network, 5xx, 429): back off and retry.
    Transient,
    /// Waits for something else to appear (a parent organization, a robot):
    /// retry at a moderate pace.
    Waiting,
    /// Only a person can fix it (invalid input, permissions): report it and
    /// retry only at the resync interval or on a spec change.
    Terminal,
}

/// Why the engine could not bring Quay in line.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A Quay call failed.
    #[error(transparent)]
    Quay(#[from] QuayError),
    /// Something this object needs does not exist yet.
    #[error("waiting for {what}")]
    Waiting {
        /// What is missing, e.g. `organization "acme"`.
        what: String,
    },
    /// A field differs that Quay cannot change in place.
    #[error(
        "{field} is {live:?} in Quay and cannot be changed to {desired:?}; recreate the object in Quay or change the spec back"
    )]
    Immutable {
        /// The field, as named in the spec.
        field: String,
        /// Value in Quay.
        live: String,
        /// Value in the spec.
        desired: String,
    },
    /// The desired state cannot be reached for a reason Quay would not say clearly.
    #[error("{0}")]
    Rejected(String),
    /// Quay changes this only for the caller, and the connection's token is another user's.
    #[error(
        "Quay lets only user {user:?} change its own {what}, but this connection's token belongs to {token_user:?}; use a QuayConnection with a token of {user:?}"
    )]
    TokenUser {
        /// The user whose namespace the object belongs to.
        user: String,
        /// The user the connection's token belongs to.
        token_user: String,
        /// What would be changed, e.g. `auto-prune policies`.
        what: String,
    },
    /// Quay runs without a feature the spec needs (e.g. FEATURE_MAILING for
    /// e-mail invitations); everything else was done.
    #[error("{message}")]
    FeatureUnavailable {
        /// CamelCase reason, e.g. `InvitationsUnavailable`.
        reason: &'static str,
        /// What could not be done and why, in plain words.
        message: String,
    },
    /// A create failed half-way and left the object in Quay (e.g. a quota
    /// whose thresholds Quay refused): the caller created it.
    #[error(transparent)]
    CreatedThenFailed(Box<EngineError>),
}

impl EngineError {
    /// This error, met after the object was created (e.g. a list of the new
    /// object waits for something): the object is ours all the same.
    pub fn after_create(self) -> EngineError {
        match self {
            e @ EngineError::CreatedThenFailed(_) => e,
            e => EngineError::CreatedThenFailed(Box::new(e)),
        }
    }

    /// What it waits for, when it waits (also after a create).
    pub fn waiting_for(&self) -> Option<&str> {
        match self {
            EngineError::Waiting { what } => Some(what),
            EngineError::CreatedThenFailed(e) => e.waiting_for(),
            _ => None,
        }
    }

    /// How to retry.
    pub fn class(&self) -> ErrorClass {
        match self {
            EngineError::CreatedThenFailed(e) => e.class(),
            EngineError::Quay(e) if e.is_transient() => ErrorClass::Transient,
            EngineError::Waiting { .. } => ErrorClass::Waiting,
            _ => ErrorClass::Terminal,
        }
    }

    /// CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            EngineError::Quay(e) => e.kind.as_str(),
            EngineError::Waiting { .. } => "WaitingForDependency",
            EngineError::Immutable { .. } => "ImmutableField",
            EngineError::Rejected(_) => "QuayRejected",
            EngineError::TokenUser { .. } => "WrongTokenUser",
            EngineError::FeatureUnavailable { reason, .. } => reason,
            EngineError::CreatedThenFailed(e) => e.reason(),
        }
    }

    /// Quay's requested wait, if it asked for one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            EngineError::Quay(e) => e.retry_after,
            EngineError::CreatedThenFailed(e) => e.retry_after(),
            _ => None,
        }
    }

    /// Whether this is Quay answering "not found".
    pub fn is_not_found(&self) -> bool {
        match self {
            EngineError::CreatedThenFailed(e) => e.is_not_found(),
            e => matches!(e, EngineError::Quay(e) if e.kind == ErrorKind::NotFound),
        }
    }
}
