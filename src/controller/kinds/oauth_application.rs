//! QuayOAuthApplication → the engine's application (identified by the client
//! id recorded in status), plus the client Secret the operator owns, and
//! the client secret's reset on request.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::runtime::events::EventType;
use secrecy::ExposeSecret;
use serde_json::json;

use super::owned_secret::{ensure_owned_secret, owned_secret, record_in_status};
use super::{Inputs, ManagedResource, ResourceRef, StepError, pending};
use crate::controller::context::Context;
use crate::crd::{
    DeletionPolicy, QuayOAuthApplication, QuayOAuthApplicationStatus, ROTATE_ANNOTATION,
};
use crate::engine::oauth_application::{DesiredApplication, LiveApplication};
use crate::engine::{EngineError, Quay, Report};
use crate::quay::api::application::{Application, ApplicationFields};

/// Key of the client id in the client Secret.
const CLIENT_ID_KEY: &str = "clientId";
/// Key of the client secret in the client Secret.
const CLIENT_SECRET_KEY: &str = "clientSecret";
/// Key of the Quay URL (the connection's) in the client Secret.
const QUAY_URL_KEY: &str = "quayUrl";

/// What the after-apply step learned, for the status.
pub struct ApplicationExtra {
    organization: String,
    client_id: String,
    secret_name: String,
    rotation: Option<String>,
}

impl QuayOAuthApplication {
    /// The organization, when it is known without resolving a reference.
    fn known_organization(&self) -> Option<String> {
        self.spec
            .target
            .organization
            .clone()
            .or_else(|| self.status.as_ref().and_then(|s| s.organization.clone()))
    }

    /// The organization, or the QuayOrganization naming it, for messages.
    fn organization_label(&self) -> String {
        super::organization_label(
            self.known_organization(),
            self.spec.target.organization_ref.as_ref(),
        )
    }

    fn recorded_client_id(&self) -> Option<String> {
        self.status.as_ref().and_then(|s| s.client_id.clone())
    }

    /// The client Secret for `app` of the Quay at `url`.
    fn client_secret(&self, name: &str, url: &str, app: &Application) -> Secret {
        owned_secret(
            self,
            name,
            "Opaque",
            &[
                (CLIENT_ID_KEY, &app.client_id),
                (CLIENT_SECRET_KEY, app.client_secret.expose_secret()),
                (QUAY_URL_KEY, url),
            ],
        )
    }
}

impl ManagedResource for QuayOAuthApplication {
    type Desired = DesiredApplication;
    type Status = QuayOAuthApplicationStatus;
    type Extra = ApplicationExtra;

    fn referenced_kinds() -> &'static [super::Referenced] {
        &[super::Referenced::Organization]
    }

    fn resource_refs(&self) -> Vec<ResourceRef> {
        super::organization_refs(self.spec.target.organization_ref.as_ref())
    }

    fn desired(&self, values: &Inputs) -> Result<DesiredApplication, String> {
        let spec = &self.spec;
        let recorded = self.status.as_ref().and_then(|s| s.organization.as_deref());
        let organization = super::target_organization(&spec.target, values, recorded)?;
        Ok(DesiredApplication {
            organization,
            client_id: self.recorded_client_id(),
            fields: ApplicationFields {
                name: spec.app_name(&self.name_any()),
                redirect_uri: spec.redirect_uri.clone(),
                application_uri: spec.application_uri.clone(),
                description: spec.description.clone(),
                avatar_email: spec.avatar_email.clone(),
            },
        })
    }

    fn quay_identity(&self) -> String {
        let org = self.organization_label();
        match self.recorded_client_id() {
            Some(id) => format!("{org} OAuth application {id}"),
            None => format!(
                "{org} OAuth application {:?}",
                self.spec.app_name(&self.name_any())
            ),
        }
    }
    fn conflict_key(&self) -> String {
        // Two resources declaring the same name in one organization would
        // adopt the same application: the older one keeps it, whether or
        // not it has recorded the client id yet.
        format!(
            "{} OAuth application {:?}",
            self.organization_label(),
            self.spec.app_name(&self.name_any())
        )
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        self.known_organization()
            .map(|org| super::QuayLocation::of_namespace(&org))
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn owns_secrets() -> bool {
        true
    }

    async fn after_apply(
        &self,
        ctx: &Context,
        quay: &Quay,
        report: &Report<LiveApplication>,
    ) -> Result<ApplicationExtra, StepError> {
        let mut live = report.live.clone().ok_or_else(|| {
            EngineError::Rejected("the OAuth application vanished from Quay".to_owned())
        })?;
        let handled = self.status.as_ref().and_then(|s| s.rotation.clone());
        let mut rotation = handled.clone();
        if let Some(value) = pending(self, ROTATE_ANNOTATION, handled.as_deref()) {
            // A value present when the application is first created is
            // recorded, not acted on: the secret is brand new anyway.
            if !report.created() {
                live = live.reset_secret(quay).await?;
                let note = format!(
                    "reset the client secret of OAuth application {} ({ROTATE_ANNOTATION}={value})",
                    live.app.client_id
                );
                ctx.publish(self, EventType::Normal, "SecretRotated", "Reconcile", note)
                    .await;
            }
            rotation = Some(value.to_owned());
        }
        let LiveApplication { organization, app } = live;
        let secret_name = self.spec.secret_name(&self.name_any());
        let secret = self.client_secret(&secret_name, quay.client.base_url(), &app);
        let previous = self.status.as_ref().and_then(|s| s.secret_name.as_deref());
        if let Err(e) = ensure_owned_secret(ctx, self, secret, previous).await {
            // Record what Quay now holds, or the next attempt would reset the
            // secret again, or look for the application by name (and take
            // the one it just created for an adopted one, kept on deletion).
            if rotation != handled || self.recorded_client_id().as_ref() != Some(&app.client_id) {
                let mut fields = json!({
                    "rotation": rotation,
                    "clientId": app.client_id,
                    "organization": organization,
                });
                if report.created() {
                    fields["origin"] = json!(crate::crd::Origin::Created);
                }
                record_in_status(ctx, self, fields).await?;
            }
            return Err(e);
        }
        Ok(ApplicationExtra {
            organization,
            client_id: app.client_id,
            secret_name,
            rotation,
        })
    }

    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<ApplicationExtra>,
    ) -> QuayOAuthApplicationStatus {
        let previous = self.status.clone().unwrap_or_default();
        match extra {
            Some(extra) => QuayOAuthApplicationStatus {
                common,
                organization: Some(extra.organization),
                client_id: Some(extra.client_id),
                secret_name: Some(extra.secret_name),
                rotation: extra.rotation,
            },
            None => QuayOAuthApplicationStatus { common, ..previous },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, spec: serde_json::Value, status: serde_json::Value) -> QuayOAuthApplication {
        serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayOAuthApplication",
            "metadata": {"name": name, "namespace": "team"}, "spec": spec, "status": status
        }))
        .unwrap()
    }

    #[test]
    fn two_declarations_of_one_name_claim_the_same_application() {
        let first = app(
            "a",
            json!({"organization": "acme", "name": "ci"}),
            json!({"clientId": "ABC", "organization": "acme"}),
        );
        let second = app("ci", json!({"organization": "acme"}), json!({}));
        let other = app(
            "b",
            json!({"organization": "acme", "name": "cd"}),
            json!({}),
        );
        assert_eq!(first.conflict_key(), second.conflict_key());
        assert_ne!(first.conflict_key(), other.conflict_key());
        assert!(
            first.quay_identity().contains("ABC"),
            "the client id names it"
        );
    }

    #[test]
    fn the_desired_state_carries_the_recorded_client_id() {
        let adopted = app(
            "ci",
            json!({"organizationRef": {"name": "platform"}, "description": "CI"}),
            json!({"clientId": "ABC", "organization": "acme"}),
        );
        let desired = adopted.desired(&Inputs::default()).unwrap();
        assert_eq!(desired.organization, "acme", "from status when unresolved");
        assert_eq!(desired.client_id.as_deref(), Some("ABC"));
        assert_eq!(desired.fields.name, "ci");
        assert_eq!(desired.fields.avatar_email, None, "unset: Quay's is kept");
        let fresh = app(
            "ci",
            json!({"organizationRef": {"name": "platform"}}),
            json!({}),
        );
        assert!(fresh.desired(&Inputs::default()).is_err());
    }
}
