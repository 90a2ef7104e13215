//! OAuth applications of an organization. Quay identifies an application by
//! its client id only (several may share a name), so the desired state
//! carries the client id once known; before that, the one application of
//! the desired name is adopted, and several of that name are an error
//! rather than a guess. Everything is read from the organization's list (one
//! shared call, client secrets included); an update replaces every field in
//! one call.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::application::{Application, ApplicationFields};

/// The desired state of an OAuth application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredApplication {
    /// The organization that owns it.
    pub organization: String,
    /// Its client id, once known (recorded by whoever created or adopted
    /// it); `None`: find it by name.
    pub client_id: Option<String>,
    /// Name, URIs and description. `avatar_email: None` leaves Quay's as it is.
    pub fields: ApplicationFields,
}

impl DesiredApplication {
    /// Gives the application a new client secret and returns it with that secret.
    pub async fn reset_secret(
        &self,
        quay: &Quay,
        live: &Application,
    ) -> Result<Application, EngineError> {
        let app = quay
            .client
            .reset_application_secret(&self.organization, &live.client_id)
            .await?;
        quay.remember_application(&self.organization, &app.client_id, Some(app.clone()));
        Ok(app)
    }

    fn waiting_for_org(&self) -> EngineError {
        EngineError::Waiting {
            what: format!("the Quay organization {:?} to exist", self.organization),
        }
    }

    /// What an update sends: every field (Quay replaces them all), Quay's
    /// avatar e-mail when the spec leaves it alone.
    fn update_body(&self, live: &Application) -> ApplicationFields {
        ApplicationFields {
            avatar_email: self
                .fields
                .avatar_email
                .clone()
                .or_else(|| live.avatar_email.clone()),
            ..self.fields.clone()
        }
    }
}

impl Managed for DesiredApplication {
    type Live = Application;

    fn describe(&self) -> String {
        match &self.client_id {
            Some(id) => format!(
                "OAuth application {:?} ({id}) of {}",
                self.fields.name, self.organization
            ),
            None => format!(
                "OAuth application {:?} of {}",
                self.fields.name, self.organization
            ),
        }
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<Application>, EngineError> {
        let apps = match quay.applications(&self.organization).await {
            // Quay answers 404 for a missing organization, or 403 when the
            // token is no superuser.
            Err(e)
                if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Forbidden)
                    && !quay.namespace_known(&self.organization).await? =>
            {
                return Err(self.waiting_for_org());
            }
            other => other?,
        };
        if let Some(id) = &self.client_id {
            return Ok(apps.iter().find(|a| &a.client_id == id).cloned());
        }
        let named: Vec<&Application> = apps.iter().filter(|a| a.name == self.fields.name).collect();
        match named.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            several => Err(EngineError::Rejected(format!(
                "Quay has {} OAuth applications named {:?} in {} (client ids {}); the operator \
                 does not guess which one is meant: delete or rename the others in Quay, or give \
                 this resource another spec.name",
                several.len(),
                self.fields.name,
                self.organization,
                several
                    .iter()
                    .map(|a| a.client_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn diff(&self, live: &Application) -> Vec<FieldChange> {
        let want = &self.fields;
        let mut changes = Vec::new();
        for (field, have, desired) in [
            ("name", &live.name, &want.name),
            ("redirectUri", &live.redirect_uri, &want.redirect_uri),
            (
                "applicationUri",
                &live.application_uri,
                &want.application_uri,
            ),
            ("description", &live.description, &want.description),
        ] {
            if have != desired {
                changes.push(FieldChange::new(field, have, desired));
            }
        }
        if let Some(email) = &want.avatar_email
            && live.avatar_email.as_ref() != Some(email)
        {
            let have = live.avatar_email.as_deref().unwrap_or("none");
            changes.push(FieldChange::new("avatarEmail", have, email));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<Application>, EngineError> {
        match quay
            .client
            .create_application(&self.organization, &self.fields)
            .await
        {
            Ok(app) => {
                quay.remember_application(&self.organization, &app.client_id, Some(app.clone()));
                Ok(Some(app))
            }
            // Quay answers 404 only for a missing organization here.
            Err(e) if e.kind == ErrorKind::NotFound => Err(self.waiting_for_org()),
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &Application,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let app = quay
            .client
            .update_application(&self.organization, &live.client_id, &self.update_body(live))
            .await?;
        quay.remember_application(&self.organization, &live.client_id, Some(app));
        Ok(())
    }

    async fn delete(&self, quay: &Quay, live: &Application) -> Result<(), EngineError> {
        let deleted = quay
            .client
            .delete_application(&self.organization, &live.client_id)
            .await;
        quay.remember_application(&self.organization, &live.client_id, None);
        Ok(deleted?)
    }
}
