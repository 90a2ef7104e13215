//! Global messages. Quay cannot change a message, so a difference is fixed
//! by creating the desired message first (or adopting an identical one) and
//! then deleting the old one: the banner never disappears in between. Quay's
//! create does not answer with the new message's uuid; the list read right
//! after it does (the one identical message that was not there before).

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use super::replace::{ByUuid, delete_recorded, replace};
use crate::quay::api::message::{GlobalMessage, NewMessage};

/// The desired state of one global message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMessage {
    /// The text.
    pub content: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// `text/plain` or `text/markdown`.
    pub media_type: String,
    /// The uuid of the message this object manages, when known.
    pub uuid: Option<String>,
}

/// A global message as observed.
#[derive(Debug, Clone)]
pub struct LiveMessage {
    /// The message this object manages: the one with the known uuid, or else
    /// one identical to the spec.
    pub message: GlobalMessage,
    /// A message identical to the spec, if there is one (the same as
    /// `message` when that one is in sync).
    pub identical: Option<GlobalMessage>,
}

impl DesiredMessage {
    fn matches(&self, m: &GlobalMessage) -> bool {
        m.content == self.content && m.severity == self.severity && m.media_type == self.media_type
    }

    /// Finds the managed message (and an identical one) in `all`.
    fn find(&self, all: &[GlobalMessage]) -> Option<LiveMessage> {
        let owned = self
            .uuid
            .as_deref()
            .and_then(|uuid| all.iter().find(|m| m.uuid == uuid));
        let identical = match owned {
            Some(m) if self.matches(m) => Some(m),
            _ => all.iter().find(|m| self.matches(m)),
        };
        owned.or(identical).map(|m| LiveMessage {
            message: m.clone(),
            identical: identical.cloned(),
        })
    }
}

impl ByUuid for DesiredMessage {
    fn recorded(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    /// Creates the message and reads the list once to learn its uuid: the
    /// newest identical message that `before` did not hold (Quay lists
    /// messages oldest first).
    async fn create_one(&self, quay: &Quay) -> Result<String, EngineError> {
        let before = quay.global_messages().await?;
        let new = NewMessage {
            content: self.content.clone(),
            severity: self.severity.clone(),
            media_type: self.media_type.clone(),
        };
        let created = quay.client.create_global_message(&new).await;
        quay.forget_global_messages();
        created?;
        let after = quay.global_messages().await?;
        after
            .iter()
            .rev()
            .find(|m| self.matches(m) && !before.iter().any(|b| b.uuid == m.uuid))
            .or_else(|| after.iter().rev().find(|m| self.matches(m)))
            .map(|m| m.uuid.clone())
            .ok_or_else(|| {
                EngineError::Rejected(
                    "Quay accepted the global message but does not list it".to_owned(),
                )
            })
    }

    async fn delete_uuid(&self, quay: &Quay, uuid: &str) -> Result<(), EngineError> {
        match quay.client.delete_global_message(uuid).await {
            Ok(()) => {
                quay.remember_deleted_message(uuid);
                Ok(())
            }
            Err(e) => {
                quay.forget_global_messages();
                Err(e.into())
            }
        }
    }
}

impl Managed for DesiredMessage {
    type Live = LiveMessage;

    fn describe(&self) -> String {
        let mut shown: String = self.content.chars().take(40).collect();
        if shown.len() < self.content.len() {
            shown.push('…');
        }
        format!("global message {shown:?}")
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveMessage>, EngineError> {
        Ok(self.find(&quay.global_messages().await?))
    }

    fn diff(&self, live: &LiveMessage) -> Vec<FieldChange> {
        let m = &live.message;
        let mut changes = Vec::new();
        if m.content != self.content {
            changes.push(FieldChange::new("content", &m.content, &self.content));
        }
        if m.severity != self.severity {
            changes.push(FieldChange::new("severity", &m.severity, &self.severity));
        }
        if m.media_type != self.media_type {
            changes.push(FieldChange::new(
                "mediaType",
                &m.media_type,
                &self.media_type,
            ));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveMessage>, EngineError> {
        let uuid = self.create_one(quay).await?;
        let fresh = DesiredMessage {
            uuid: Some(uuid),
            ..self.clone()
        };
        Ok(fresh.find(&quay.global_messages().await?))
    }

    /// Replaces the message: the desired one first (adopting an identical one
    /// if it exists), then the old one goes.
    async fn update(
        &self,
        quay: &Quay,
        live: &LiveMessage,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let identical = live.identical.as_ref().map(|m| m.uuid.as_str());
        replace(self, quay, &live.message.uuid, identical).await
    }

    async fn delete(&self, quay: &Quay, live: &LiveMessage) -> Result<(), EngineError> {
        delete_recorded(self, quay, &live.message.uuid).await
    }
}

/// The message that matches the spec after a successful reconcile in apply
/// mode: as observed or created, or (after a replacement) the newest
/// identical one in the list the replacement left.
pub async fn settled(
    desired: &DesiredMessage,
    report: &super::Report<LiveMessage>,
    quay: &Quay,
) -> Result<Option<GlobalMessage>, EngineError> {
    let Some(live) = &report.live else {
        return Ok(None);
    };
    if report.applied && report.existed {
        let all = quay.global_messages().await?;
        return Ok(all.iter().rev().find(|m| desired.matches(m)).cloned());
    }
    Ok(Some(
        live.identical
            .clone()
            .unwrap_or_else(|| live.message.clone()),
    ))
}
