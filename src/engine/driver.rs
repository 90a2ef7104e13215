//! The generic observe → diff → act loop shared by every kind.

use std::fmt;
use std::future::Future;

use super::error::EngineError;
use super::quay::Quay;

/// Whether the engine may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create and correct.
    Apply,
    /// Only observe and report what differs (observe-only resources, `plan`).
    Observe,
}

/// One field that differs between Quay and the desired state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// Field name as in the spec, e.g. `visibility`.
    pub field: String,
    /// Value in Quay (rendered; secrets masked).
    pub live: String,
    /// Desired value (rendered; secrets masked).
    pub desired: String,
    /// Quay cannot change this field in place.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub immutable: bool,
}

impl FieldChange {
    /// A change Quay can make in place.
    pub fn new(field: &str, live: impl fmt::Display, desired: impl fmt::Display) -> Self {
        FieldChange {
            field: field.to_owned(),
            live: live.to_string(),
            desired: desired.to_string(),
            immutable: false,
        }
    }

    /// A difference Quay cannot change in place.
    pub fn immutable(field: &str, live: impl fmt::Display, desired: impl fmt::Display) -> Self {
        FieldChange {
            immutable: true,
            ..FieldChange::new(field, live, desired)
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?} -> {:?}", self.field, self.live, self.desired)
    }
}

/// What a reconcile found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report<L> {
    /// The object existed in Quay before this reconcile.
    pub existed: bool,
    /// The differences found (all of them applied when `applied`).
    pub changes: Vec<FieldChange>,
    /// Whether anything was written to Quay.
    pub applied: bool,
    /// The live object as last seen (before updates; as created, when the
    /// create call returns it); `None` when absent or not returned.
    pub live: Option<L>,
}

impl<L> Report<L> {
    /// Whether this reconcile created the object.
    pub fn created(&self) -> bool {
        !self.existed && self.applied
    }
}

/// A kind of Quay object the engine can manage: its desired state, and how
/// to observe, compare, create, update and delete it.
pub trait Managed: Send + Sync {
    /// The live object as observed in Quay.
    type Live: Send + Sync;

    /// Human-readable identity, e.g. `repository acme/app`.
    fn describe(&self) -> String;

    /// Reads the live object; `None` when it does not exist.
    fn observe<'a>(
        &'a self,
        quay: &'a Quay,
    ) -> impl Future<Output = Result<Option<Self::Live>, EngineError>> + Send + 'a;

    /// What differs between the live object and the desired state.
    fn diff(&self, live: &Self::Live) -> Vec<FieldChange>;

    /// Creates the object as desired; returns it when Quay's answer shows it.
    fn create<'a>(
        &'a self,
        quay: &'a Quay,
    ) -> impl Future<Output = Result<Option<Self::Live>, EngineError>> + Send + 'a;

    /// Applies the given (mutable) changes to the live object.
    fn update<'a>(
        &'a self,
        quay: &'a Quay,
        live: &'a Self::Live,
        changes: &'a [FieldChange],
    ) -> impl Future<Output = Result<(), EngineError>> + Send + 'a;

    /// Deletes the observed object; succeeds when it is already gone.
    fn delete<'a>(
        &'a self,
        quay: &'a Quay,
        live: &'a Self::Live,
    ) -> impl Future<Output = Result<(), EngineError>> + Send + 'a;
}

/// Brings one object in line: observe, diff, and in [`Mode::Apply`] create
/// what is missing and update only what differs. An object in sync costs
/// read calls only.
pub async fn reconcile<M: Managed>(
    object: &M,
    quay: &Quay,
    mode: Mode,
) -> Result<Report<M::Live>, EngineError> {
    let live = match object.observe(quay).await? {
        Some(live) => live,
        None if mode == Mode::Observe => {
            return Ok(Report {
                existed: false,
                changes: Vec::new(),
                applied: false,
                live: None,
            });
        }
        None => match object.create(quay).await {
            Ok(live) => {
                return Ok(Report {
                    existed: false,
                    changes: Vec::new(),
                    applied: true,
                    live,
                });
            }
            // Someone created it since we looked: take it over like any existing object.
            Err(EngineError::Quay(e)) if e.is_already_exists() => match object.observe(quay).await?
            {
                Some(live) => live,
                None => return Err(e.into()),
            },
            // A create that failed half-way may have left the object behind:
            // say so, so that the caller records it as its own.
            // Waiting before anything was created, or already known to be ours.
            Err(e @ (EngineError::Waiting { .. } | EngineError::CreatedThenFailed(_))) => {
                return Err(e);
            }
            Err(e) => {
                return Err(match object.observe(quay).await {
                    Ok(Some(_)) => EngineError::CreatedThenFailed(Box::new(e)),
                    _ => e,
                });
            }
        },
    };
    let changes = object.diff(&live);
    if changes.is_empty() || mode == Mode::Observe {
        return Ok(Report {
            existed: true,
            changes,
            applied: false,
            live: Some(live),
        });
    }
    if let Some(c) = changes.iter().find(|c| c.immutable) {
        return Err(EngineError::Immutable {
            field: c.field.clone(),
            live: c.live.clone(),
            desired: c.desired.clone(),
        });
    }
    object.update(quay, &live, &changes).await?;
    Ok(Report {
        existed: true,
        changes,
        applied: true,
        live: Some(live),
    })
}

/// Deletes the object from Quay if it exists. Returns whether it existed.
pub async fn delete<M: Managed>(object: &M, quay: &Quay) -> Result<bool, EngineError> {
    let live = match object.observe(quay).await {
        Ok(Some(live)) => live,
        // Absent, or its parent (e.g. the organization) is gone and took it along.
        Ok(None) | Err(EngineError::Waiting { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    match object.delete(quay, &live).await {
        Err(e) if e.is_not_found() => Ok(false),
        other => other.map(|()| true),
    }
}
