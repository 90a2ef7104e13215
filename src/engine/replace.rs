//! What the kinds Quay cannot change in place share (notifications, global
//! messages): each object has a uuid; a change creates the desired object
//! first (or adopts an identical one) and deletes the old one afterwards, so
//! there is never a moment without it; a deletion removes only the object
//! this resource recorded.

use std::future::Future;

use super::error::EngineError;
use super::quay::Quay;

/// A desired object Quay can only create and delete, by uuid.
pub(crate) trait ByUuid: Sync {
    /// The uuid this resource recorded, if any.
    fn recorded(&self) -> Option<&str>;
    /// Creates the desired object; answers its uuid.
    fn create_one<'a>(
        &'a self,
        quay: &'a Quay,
    ) -> impl Future<Output = Result<String, EngineError>> + Send + 'a;
    /// Deletes the object `uuid`; succeeds when it is already gone.
    fn delete_uuid<'a>(
        &'a self,
        quay: &'a Quay,
        uuid: &'a str,
    ) -> impl Future<Output = Result<(), EngineError>> + Send + 'a;
}

/// Replaces `current` by the desired object: `identical` when Quay already
/// has one, else a new one; then `current` goes.
pub(crate) async fn replace<T: ByUuid>(
    desired: &T,
    quay: &Quay,
    current: &str,
    identical: Option<&str>,
) -> Result<(), EngineError> {
    let replacement = match identical {
        Some(uuid) => uuid.to_owned(),
        None => desired.create_one(quay).await?,
    };
    if replacement != current {
        desired.delete_uuid(quay, current).await?;
    }
    Ok(())
}

/// Deletes `observed` if it is the object this resource recorded, or when
/// none was ever recorded (a crash right after the create).
pub(crate) async fn delete_recorded<T: ByUuid>(
    desired: &T,
    quay: &Quay,
    observed: &str,
) -> Result<(), EngineError> {
    if desired.recorded().is_none_or(|uuid| uuid == observed) {
        desired.delete_uuid(quay, observed).await?;
    }
    Ok(())
}
