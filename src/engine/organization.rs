//! Organizations: created by name; e-mail, default permissions and
//! auto-prune policies kept in line (the lists only when given).

use std::sync::Arc;

use super::autoprune;
use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::prototypes::{self, DesiredPrototype};
use super::quay::Quay;
use crate::quay::api::autoprune::{AutoPrunePolicy, PolicyOwner, PruneRule};
use crate::quay::api::organization::{Organization, OrganizationUpdate};
use crate::quay::api::prototype::Prototype;

/// The desired state of a Quay organization.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredOrganization {
    /// Organization name.
    pub name: String,
    /// Contact e-mail; not managed when `None`.
    pub email: Option<String>,
    /// Default permissions; not managed when `None`, authoritative otherwise.
    pub default_permissions: Option<Vec<DesiredPrototype>>,
    /// Auto-prune policies; not managed when `None`, authoritative otherwise.
    pub auto_prune: Option<Vec<PruneRule>>,
}

/// An organization as observed, with the lists the spec manages.
#[derive(Debug, Clone)]
pub struct LiveOrganization {
    /// The organization view.
    pub org: Arc<Option<Organization>>,
    /// Its prototypes, when managed.
    pub prototypes: Option<Vec<Prototype>>,
    /// Its auto-prune policies, when managed.
    pub policies: Option<Vec<AutoPrunePolicy>>,
}

impl LiveOrganization {
    fn view(&self) -> Option<&Organization> {
        self.org.as_ref().as_ref()
    }
}

impl DesiredOrganization {
    fn owner(&self) -> PolicyOwner {
        PolicyOwner::Organization(self.name.clone())
    }

    async fn apply_lists(
        &self,
        quay: &Quay,
        live: Option<&LiveOrganization>,
    ) -> Result<(), EngineError> {
        if let Some(desired) = &self.default_permissions {
            let current = match live.and_then(|l| l.prototypes.as_ref()) {
                Some(p) => p.clone(),
                None => prototypes::observe(quay, &self.name).await?,
            };
            prototypes::apply(quay, &self.name, desired, &current).await?;
        }
        if let Some(desired) = &self.auto_prune {
            let current = match live.and_then(|l| l.policies.as_ref()) {
                Some(p) => p.clone(),
                None => autoprune::observe(quay, &self.owner()).await?,
            };
            autoprune::apply(quay, &self.owner(), desired, &current).await?;
        }
        Ok(())
    }
}

impl Managed for DesiredOrganization {
    type Live = LiveOrganization;

    fn describe(&self) -> String {
        format!("organization {}", self.name)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveOrganization>, EngineError> {
        // The organization's own reconcile always reads afresh (and refreshes
        // the view its teams share).
        quay.forget_organization(&self.name);
        let org = quay.organization(&self.name).await?;
        if org.is_none() {
            return Ok(None);
        }
        let prototypes = match self.default_permissions {
            Some(_) => Some(prototypes::observe(quay, &self.name).await?),
            None => None,
        };
        let policies = match self.auto_prune {
            Some(_) => Some(autoprune::observe(quay, &self.owner()).await?),
            None => None,
        };
        Ok(Some(LiveOrganization {
            org,
            prototypes,
            policies,
        }))
    }

    fn diff(&self, live: &LiveOrganization) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let live_email = live.view().and_then(|o| o.email.as_deref());
        if let Some(email) = &self.email
            && live_email != Some(email.as_str())
        {
            changes.push(FieldChange::new("email", live_email.unwrap_or(""), email));
        }
        if let (Some(desired), Some(current)) = (&self.default_permissions, &live.prototypes) {
            changes.extend(prototypes::diff(desired, current));
        }
        if let (Some(desired), Some(current)) = (&self.auto_prune, &live.policies) {
            changes.extend(autoprune::diff(desired, current));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveOrganization>, EngineError> {
        match quay
            .client
            .create_organization(&self.name, self.email.as_deref())
            .await
        {
            Ok(()) => {}
            // We observed no organization of that name, so the name is a user's.
            Err(e) if e.is_already_exists() => {
                return Err(EngineError::Rejected(format!(
                    "the name {:?} is taken by a Quay user or organization this token cannot see: {}",
                    self.name, e.message
                )));
            }
            Err(e) => return Err(e.into()),
        }
        quay.forget_organization(&self.name);
        self.apply_lists(quay, None)
            .await
            .map_err(EngineError::after_create)?;
        Ok(None)
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveOrganization,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        if changes.iter().any(|c| c.field == "email") {
            let update = OrganizationUpdate {
                email: self.email.clone(),
                tag_expiration_s: None,
            };
            quay.client.update_organization(&self.name, &update).await?;
            quay.forget_organization(&self.name);
        }
        self.apply_lists(quay, Some(live)).await
    }

    async fn delete(&self, quay: &Quay, _live: &Self::Live) -> Result<(), EngineError> {
        quay.client.delete_organization(&self.name).await?;
        quay.forget_organization(&self.name);
        Ok(())
    }
}
