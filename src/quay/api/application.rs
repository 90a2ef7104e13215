//! OAuth applications of an organization (`/organization/{org}/applications`).
//! Quay allows several applications with the same name: the client id is
//! the identity.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// An OAuth application as Quay shows it (list, get, create, update and reset
/// all answer this view, client secret included).
#[derive(Clone, Deserialize)]
pub struct Application {
    /// Display name (not unique).
    pub name: String,
    /// Description (`""` when none).
    #[serde(default)]
    pub description: String,
    /// The application's homepage (`""` when none).
    #[serde(default)]
    pub application_uri: String,
    /// OAuth client id: 20 upper-case letters and digits, Quay's identity of the application.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretString,
    /// OAuth redirect URI (`""` when none).
    #[serde(default)]
    pub redirect_uri: String,
    /// E-mail address whose avatar the application shows.
    #[serde(default)]
    pub avatar_email: Option<String>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("redirect_uri", &self.redirect_uri)
            .field("avatar_email", &self.avatar_email)
            .finish_non_exhaustive()
    }
}

/// The fields of an application a caller sets. An update replaces all of
/// them: Quay empties an omitted description and clears an omitted avatar e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplicationFields {
    /// Display name.
    pub name: String,
    /// OAuth redirect URI.
    pub redirect_uri: String,
    /// The application's homepage.
    pub application_uri: String,
    /// Description.
    pub description: String,
    /// E-mail address whose avatar the application shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_email: Option<String>,
}

#[derive(Deserialize)]
struct ApplicationList {
    applications: Vec<Application>,
}

fn base(org: &str) -> String {
    format!("/organization/{org}/applications")
}

impl QuayClient {
    /// Every application of the organization, with their client secrets. A
    /// missing organization gives `NotFound`.
    pub async fn list_applications(&self, org: &str) -> Result<Vec<Application>, QuayError> {
        Ok(self
            .get_json::<ApplicationList>(Call::get(base(org)))
            .await?
            .applications)
    }

    /// One application, or `None` when there is none with this client id.
    pub async fn get_application(
        &self,
        org: &str,
        client_id: &str,
    ) -> Result<Option<Application>, QuayError> {
        self.get_optional(Call::get(format!("{}/{client_id}", base(org))), &[])
            .await
    }

    /// Creates an application (with a new client id, even when one of the
    /// same name exists). Never retried: a repetition would create another.
    pub async fn create_application(
        &self,
        org: &str,
        fields: &ApplicationFields,
    ) -> Result<Application, QuayError> {
        self.send(Call::post(base(org)).json(fields)).await?.json()
    }

    /// Replaces every field of an application and returns it.
    pub async fn update_application(
        &self,
        org: &str,
        client_id: &str,
        fields: &ApplicationFields,
    ) -> Result<Application, QuayError> {
        self.send(Call::put(format!("{}/{client_id}", base(org))).json(fields))
            .await?
            .json()
    }

    /// Gives the application a new client secret and returns it with that secret.
    pub async fn reset_application_secret(
        &self,
        org: &str,
        client_id: &str,
    ) -> Result<Application, QuayError> {
        let call = Call::post(format!("{}/{client_id}/resetclientsecret", base(org))).idempotent();
        self.send(call).await?.json()
    }

    /// Deletes an application. A missing one gives `NotFound`.
    pub async fn delete_application(&self, org: &str, client_id: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("{}/{client_id}", base(org))))
            .await
    }
}
