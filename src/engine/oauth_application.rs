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

/// An OAuth application as Quay lists it, with its organization.
#[derive(Debug, Clone)]
pub struct LiveApplication {
    /// The organization that owns it.
    pub organization: String,
    /// The application (client secret included).
    pub app: Application,
}

impl LiveApplication {
    /// Gives the application a new client secret and returns it with that secret.
    pub async fn reset_secret(&self, quay: &Quay) -> Result<LiveApplication, EngineError> {
        let app = quay
            .client
            .reset_application_secret(&self.organization, &self.app.client_id)
            .await?;
        quay.remember_application(&self.organization, &app.client_id, Some(app.clone()));
        Ok(LiveApplication {
            organization: self.organization.clone(),
            app,
        })
    }
}

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
    fn live(&self, app: Application) -> LiveApplication {
        LiveApplication {
            organization: self.organization.clone(),
            app,
        }
    }

    fn waiting_for_org(&self) -> EngineError {
        EngineError::Waiting {
            what: format!("the Quay organization {:?} to exist", self.organization),
        }
    }

    /// What an update sends: every field (Quay replaces them all), Quay's
    /// avatar e-mail when the spec leaves it alone.
    fn update_body(&self, live: &LiveApplication) -> ApplicationFields {
        ApplicationFields {
            avatar_email: self
                .fields
                .avatar_email
                .clone()
                .or_else(|| live.app.avatar_email.clone()),
            ..self.fields.clone()
        }
    }
}

impl Managed for DesiredApplication {
    type Live = LiveApplication;

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

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveApplication>, EngineError> {
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
            let found = apps.iter().find(|a| &a.client_id == id);
            return Ok(found.map(|a| self.live(a.clone())));
        }
        let named: Vec<&Application> = apps.iter().filter(|a| a.name == self.fields.name).collect();
        match named.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(self.live((*one).clone()))),
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

    fn diff(&self, live: &LiveApplication) -> Vec<FieldChange> {
        let want = &self.fields;
        let live = &live.app;
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

    async fn create(&self, quay: &Quay) -> Result<Option<LiveApplication>, EngineError> {
        match quay
            .client
            .create_application(&self.organization, &self.fields)
            .await
        {
            Ok(app) => {
                quay.remember_application(&self.organization, &app.client_id, Some(app.clone()));
                Ok(Some(self.live(app)))
            }
            // Quay answers 404 only for a missing organization here.
            Err(e) if e.kind == ErrorKind::NotFound => Err(self.waiting_for_org()),
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveApplication,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let id = &live.app.client_id;
        let app = quay
            .client
            .update_application(&self.organization, id, &self.update_body(live))
            .await?;
        quay.remember_application(&self.organization, id, Some(app));
        Ok(())
    }

    async fn delete(&self, quay: &Quay, live: &LiveApplication) -> Result<(), EngineError> {
        let id = &live.app.client_id;
        let deleted = quay.client.delete_application(&self.organization, id).await;
        quay.remember_application(&self.organization, id, None);
        Ok(deleted?)
    }
}
