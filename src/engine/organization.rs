//! Organizations: created by name, e-mail kept in line.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::organization::{Organization, OrganizationUpdate};

/// The desired state of a Quay organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredOrganization {
    /// Organization name.
    pub name: String,
    /// Contact e-mail; not managed when `None`.
    pub email: Option<String>,
}

impl Managed for DesiredOrganization {
    type Live = Organization;

    fn describe(&self) -> String {
        format!("organization {}", self.name)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<Organization>, EngineError> {
        Ok(quay.client.get_organization(&self.name).await?)
    }

    fn diff(&self, live: &Organization) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if let Some(email) = &self.email
            && live.email.as_deref() != Some(email.as_str())
        {
            changes.push(FieldChange::new(
                "email",
                live.email.as_deref().unwrap_or(""),
                email,
            ));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<(), EngineError> {
        match quay
            .client
            .create_organization(&self.name, self.email.as_deref())
            .await
        {
            Ok(()) => Ok(()),
            // We observed no organization of that name, so the name is a user's.
            Err(e) if e.is_already_exists() => Err(EngineError::Rejected(format!(
                "the name {:?} is taken by a Quay user or organization this token cannot see: {}",
                self.name, e.message
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        quay: &Quay,
        _live: &Organization,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        if changes.iter().any(|c| c.field == "email") {
            let update = OrganizationUpdate {
                email: self.email.clone(),
                tag_expiration_s: None,
            };
            quay.client.update_organization(&self.name, &update).await?;
        }
        Ok(())
    }

    async fn delete(&self, quay: &Quay) -> Result<(), EngineError> {
        Ok(quay.client.delete_organization(&self.name).await?)
    }
}
