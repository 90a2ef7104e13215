//! The token's own user, first-user initialization and the API discovery document.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// The user a token belongs to (`GET /api/v1/user/`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct CurrentUser {
    /// Quay user name.
    pub username: String,
    /// Whether the user is a Quay superuser.
    #[serde(default)]
    pub super_user: bool,
    /// The user's e-mail, if visible.
    #[serde(default)]
    pub email: Option<String>,
    /// Organizations the user belongs to.
    #[serde(default)]
    pub organizations: Vec<OrganizationRef>,
}

/// An organization as listed in the current user's view.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct OrganizationRef {
    /// Organization name.
    pub name: String,
}

/// The first superuser, as created by `POST /api/v1/user/initialize`.
#[derive(Deserialize)]
pub struct InitializedUser {
    /// User name.
    pub username: String,
    /// E-mail address.
    pub email: String,
    /// A token with every scope (it expires after 2.5 hours on a real Quay).
    pub access_token: SecretString,
}

impl std::fmt::Debug for InitializedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitializedUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct InitializeRequest<'a> {
    username: &'a str,
    password: &'a str,
    email: &'a str,
    access_token: bool,
}

impl QuayClient {
    /// Who the token belongs to. One call per connection check, never per object.
    pub async fn current_user(&self) -> Result<CurrentUser, QuayError> {
        self.get_json(Call::get("/user/")).await
    }

    /// Creates the first superuser of an empty Quay and returns its token.
    /// Works only while Quay has no user and `FEATURE_USER_INITIALIZE` is on.
    pub async fn initialize_user(
        &self,
        username: &str,
        password: &str,
        email: &str,
    ) -> Result<InitializedUser, QuayError> {
        let body = InitializeRequest {
            username,
            password,
            email,
            access_token: true,
        };
        self.send(
            Call::post("/user/initialize")
                .anonymous()
                .json(&body)
                .secret(Some(password)),
        )
        .await?
        .json()
    }

    /// The Swagger 2.0 document describing the API.
    pub async fn discovery(&self) -> Result<serde_json::Value, QuayError> {
        self.get_json(Call::get("/discovery")).await
    }
}
