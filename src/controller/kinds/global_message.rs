//! QuayGlobalMessage: spec → desired global message, and status.

use super::{Inputs, ManagedResource, StepError};
use crate::controller::context::Context;
use crate::crd::{ConnectionRef, DeletionPolicy, QuayGlobalMessage, QuayGlobalMessageStatus};
use crate::engine::global_message::{DesiredMessage, LiveMessage, settled};
use crate::engine::{Managed, Quay, Report};

/// What a successful reconcile learned, for the status.
pub struct MessageExtra {
    uuid: Option<String>,
}

impl QuayGlobalMessage {
    /// The engine's desired message, with the uuid the status recorded.
    fn message(&self) -> DesiredMessage {
        DesiredMessage {
            content: self.spec.content.clone(),
            severity: self.spec.severity.as_str().to_owned(),
            media_type: self.spec.media_type.as_str().to_owned(),
            uuid: self.status.as_ref().and_then(|s| s.uuid.clone()),
        }
    }
}

impl ManagedResource for QuayGlobalMessage {
    type Desired = DesiredMessage;
    type Status = QuayGlobalMessageStatus;
    type Extra = MessageExtra;

    fn desired(&self, _: &Inputs) -> Result<DesiredMessage, String> {
        Ok(self.message())
    }

    async fn after_apply(
        &self,
        _: &Context,
        quay: &Quay,
        report: &Report<LiveMessage>,
    ) -> Result<MessageExtra, StepError> {
        let current = settled(&self.message(), report, quay).await?;
        Ok(MessageExtra {
            uuid: current.map(|m| m.uuid),
        })
    }

    fn quay_identity(&self) -> String {
        self.message()
            .describe()
            .trim_start_matches("global message ")
            .to_owned()
    }
    /// Global messages belong to no Quay namespace.
    fn quay_location(&self) -> Option<super::QuayLocation> {
        None
    }
    fn conflict_key(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.spec.severity.as_str(),
            self.spec.media_type.as_str(),
            self.spec.content
        )
    }
    fn connection(&self) -> ConnectionRef {
        self.spec.connection()
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<MessageExtra>,
    ) -> QuayGlobalMessageStatus {
        let previous = self.status.clone().unwrap_or_default();
        match extra {
            Some(e) => QuayGlobalMessageStatus {
                common,
                uuid: e.uuid.or(previous.uuid),
            },
            None => QuayGlobalMessageStatus { common, ..previous },
        }
    }
}
