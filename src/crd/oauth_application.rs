//! `QuayOAuthApplication`: an OAuth application of a Quay organization, whose
//! client id and secret the operator keeps in a Secret.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};
use super::reference::OrganizationTarget;

/// Desired state of a Quay OAuth application.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayOAuthApplication",
    namespaced,
    status = "QuayOAuthApplicationStatus",
    shortname = "qoauth",
    category = "quay",
    doc = "QuayOAuthApplication declares an OAuth application of a Quay organization. The \
           operator writes its client id and secret to a Secret (keys clientId, clientSecret, \
           quayUrl). Set the annotation quayconfig.io/rotate to a new value to reset the client \
           secret. Quay identifies the application by its client id (names need not be unique): \
           the first reconcile adopts the one application of that name, if there is one.",
    validation = OrganizationTarget::one_of(),
    validation = OrganizationTarget::immutable(),
    printcolumn(name = "Organization", type_ = "string", json_path = ".status.organization"),
    printcolumn(name = "Client ID", type_ = "string", json_path = ".status.clientId"),
    printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayOAuthApplicationSpec {
    /// The organization: `organization` or `organizationRef`.
    #[serde(flatten)]
    pub target: OrganizationTarget,

    /// The application's name in Quay. Defaults to `metadata.name`. Changing
    /// it renames the application (its client id stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,

    /// The OAuth redirect URI (callback) of the application.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub redirect_uri: String,

    /// The application's homepage.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub application_uri: String,

    /// Human-readable description.
    #[serde(default)]
    #[schemars(length(max = 2048))]
    pub description: String,

    /// E-mail address whose avatar (Gravatar) the application shows. Unset:
    /// the organization's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 255))]
    pub avatar_email: Option<String>,

    /// Name of the Secret (same namespace) that receives `clientId`,
    /// `clientSecret` and `quayUrl`. Defaults to `<metadata.name>-oauth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub secret_name: Option<String>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

impl QuayOAuthApplicationSpec {
    /// The application's name in Quay: `spec.name`, or `metadata_name`.
    pub fn app_name(&self, metadata_name: &str) -> String {
        self.name.as_deref().unwrap_or(metadata_name).to_owned()
    }

    /// The client Secret's name.
    pub fn secret_name(&self, metadata_name: &str) -> String {
        self.secret_name
            .clone()
            .unwrap_or_else(|| format!("{metadata_name}-oauth"))
    }
}

/// Observed state of a QuayOAuthApplication.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayOAuthApplicationStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// The Quay organization of the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub organization: Option<String>,
    /// The application's OAuth client id: its identity in Quay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub client_id: Option<String>,
    /// The Secret holding the client id and secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub secret_name: Option<String>,
    /// The last value of the `quayconfig.io/rotate` annotation that was acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub rotation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::cel;
    use serde_json::json;

    fn app(spec: serde_json::Value) -> QuayOAuthApplication {
        QuayOAuthApplication::new("cli", serde_json::from_value(spec).unwrap())
    }

    #[test]
    fn cel_wants_one_organization_that_never_changes() {
        assert_eq!(cel(&app(json!({"organization": "acme"})), None), Ok(()));
        assert_eq!(
            cel(&app(json!({"organizationRef": {"name": "acme"}})), None),
            Ok(())
        );
        for bad in [
            json!({}),
            json!({"organization": "acme", "organizationRef": {"name": "acme"}}),
        ] {
            let err = cel(&app(bad.clone()), None).unwrap_err();
            assert!(
                err.contains("exactly one of spec.organization"),
                "{bad}: {err}"
            );
        }
        let old = app(json!({"organization": "acme"}));
        for new in [
            json!({"organization": "other"}),
            json!({"organizationRef": {"name": "acme"}}),
        ] {
            let err = cel(&app(new.clone()), Some(&old)).unwrap_err();
            assert!(err.contains("is immutable"), "{new}: {err}");
        }
        let renamed = app(json!({"organization": "acme", "name": "cli2", "description": "v2"}));
        assert_eq!(cel(&renamed, Some(&old)), Ok(()), "a rename is allowed");
        let old_ref = app(json!({"organizationRef": {"name": "a"}}));
        let err = cel(
            &app(json!({"organizationRef": {"name": "b"}})),
            Some(&old_ref),
        )
        .unwrap_err();
        assert!(err.contains("is immutable"), "{err}");
    }

    #[test]
    fn names_default_to_the_resource_name() {
        let spec = app(json!({"organization": "acme"})).spec;
        assert_eq!(spec.app_name("cli"), "cli");
        assert_eq!(spec.secret_name("cli"), "cli-oauth");
        let spec = app(json!({"organization": "acme", "name": "CLI", "secretName": "s"})).spec;
        assert_eq!(spec.app_name("cli"), "CLI");
        assert_eq!(spec.secret_name("cli"), "s");
    }
}
