//! `QuayNotification`: one notification of a Quay repository.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{ManagedStatus, Management};
use super::reference::{LocalRef, REPOSITORY_PATTERN, SecretKeyRef};

/// Annotation whose every new value sends one test notification.
pub const TEST_NOTIFICATION_ANNOTATION: &str = "quayconfig.io/test-notification";
/// Annotation whose every new value resets the failure count once.
pub const RESET_FAILURES_ANNOTATION: &str = "quayconfig.io/reset-failures";

/// Desired state of a repository notification.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayNotification",
    namespaced,
    status = "QuayNotificationStatus",
    shortname = "qnotif",
    category = "quay",
    doc = "QuayNotification declares a notification of a Quay repository: which event is \
           delivered how. Quay cannot change a notification in place, so a spec change \
           creates the new notification first and then deletes the old one.",
    validation = Rule::new("has(self.spec.repositoryRef) != has(self.spec.repository)")
        .message("set exactly one of spec.repositoryRef and spec.repository"),
    validation = Rule::new(
        "(has(self.spec.repository) ? self.spec.repository : '') == \
         (has(oldSelf.spec.repository) ? oldSelf.spec.repository : '') && \
         (has(self.spec.repositoryRef) ? self.spec.repositoryRef.name : '') == \
         (has(oldSelf.spec.repositoryRef) ? oldSelf.spec.repositoryRef.name : '')"
    )
    .message("the repository (spec.repository or spec.repositoryRef) is immutable: create a new resource instead"),
    validation = Rule::new("!has(self.spec.urlSecretRef) || self.spec.method in ['webhook', 'slack']")
        .message("spec.urlSecretRef is only for the webhook and slack methods"),
    validation = Rule::new("!has(self.spec.urlSecretRef) || !has(self.spec.config) || !has(self.spec.config.url)")
        .message("set the URL either in spec.config.url or through spec.urlSecretRef, not both"),
    printcolumn(name = "Repository", type_ = "string", json_path = ".status.repository"),
    printcolumn(name = "Event", type_ = "string", json_path = ".spec.event"),
    printcolumn(name = "Method", type_ = "string", json_path = ".spec.method"),
    printcolumn(name = "Failures", type_ = "integer", json_path = ".status.numberOfFailures", priority = 1)
)]
#[serde(rename_all = "camelCase")]
pub struct QuayNotificationSpec {
    /// A QuayRepository in this namespace whose repository gets the notification.
    /// Set this or `repository`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_ref: Option<LocalRef>,

    /// A repository not managed here, as `namespace/name`. Set this or `repositoryRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 511), regex(pattern = REPOSITORY_PATTERN))]
    pub repository: Option<String>,

    /// The event that triggers the notification.
    pub event: NotificationEvent,

    /// How the notification is delivered.
    pub method: NotificationMethod,

    /// Title shown in Quay. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub title: Option<String>,

    /// Method configuration as Quay expects it: `url` (webhook, slack), `email`
    /// (email), `target: {kind: user|team|org, name}` (quay_notification),
    /// `template` (webhook body). A URL with credentials belongs in `urlSecretRef`.
    /// Other keys are passed to Quay as they are.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(schema_with = "method_config_schema")]
    pub config: Map<String, Value>,

    /// Event configuration, e.g. `level: critical` (vulnerability_found) or
    /// `days: 5` (repo_image_expiry).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(schema_with = "event_config_schema")]
    pub event_config: Map<String, Value>,

    /// Secret key holding the webhook or Slack URL (it often carries a token). It is
    /// sent as `config.url` and never shown in status, events or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret_ref: Option<SecretKeyRef>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// Schema of `config`: the keys the operator knows are declared (and checked), other
/// keys are kept as they are.
fn method_config_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 16,
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "url": {
                "type": "string",
                "maxLength": 2048,
                "description": "Webhook or Slack URL (http:// or https://). One with a token belongs in urlSecretRef.",
                "x-kubernetes-validations": [{
                    "rule": "self.matches('^https?://[^/?#@\\\\s]+([/?#][^\\\\s]*)?$')",
                    "message": "config.url must be an http:// or https:// URL with a host and without credentials or spaces"
                }]
            },
            "email": {
                "type": "string",
                "minLength": 3,
                "maxLength": 254,
                "description": "E-mail address (method email); Quay must have authorized it."
            },
            "target": {
                "type": "object",
                "description": "Who receives a quay_notification.",
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"type": "string", "enum": ["user", "team", "org"]},
                    "name": {"type": "string", "minLength": 1, "maxLength": 255}
                }
            },
            "template": {
                "type": "string",
                "maxLength": 16384,
                "description": "JSON body template of a webhook."
            }
        }
    })
}

/// Schema of `eventConfig`: a small free-form object.
fn event_config_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 8,
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Events Quay can notify about.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// An image was pushed.
    RepoPush,
    /// A build was queued.
    BuildQueued,
    /// A build started.
    BuildStart,
    /// A build succeeded.
    BuildSuccess,
    /// A build failed.
    BuildFailure,
    /// A build was cancelled.
    BuildCancelled,
    /// A vulnerability was found (eventConfig `level`).
    VulnerabilityFound,
    /// A mirror sync started.
    RepoMirrorSyncStarted,
    /// A mirror sync succeeded.
    RepoMirrorSyncSuccess,
    /// A mirror sync failed.
    RepoMirrorSyncFailed,
    /// An image is about to expire (eventConfig `days`).
    RepoImageExpiry,
}

/// Delivery methods Quay knows.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationMethod {
    /// A notification inside Quay to a user, team or organization.
    QuayNotification,
    /// An e-mail (the address must be authorized in Quay first).
    Email,
    /// An HTTP POST to a URL.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// Flowdock (still accepted by Quay).
    Flowdock,
    /// HipChat (still accepted by Quay).
    Hipchat,
}

impl NotificationEvent {
    /// The name as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::RepoPush => "repo_push",
            NotificationEvent::BuildQueued => "build_queued",
            NotificationEvent::BuildStart => "build_start",
            NotificationEvent::BuildSuccess => "build_success",
            NotificationEvent::BuildFailure => "build_failure",
            NotificationEvent::BuildCancelled => "build_cancelled",
            NotificationEvent::VulnerabilityFound => "vulnerability_found",
            NotificationEvent::RepoMirrorSyncStarted => "repo_mirror_sync_started",
            NotificationEvent::RepoMirrorSyncSuccess => "repo_mirror_sync_success",
            NotificationEvent::RepoMirrorSyncFailed => "repo_mirror_sync_failed",
            NotificationEvent::RepoImageExpiry => "repo_image_expiry",
        }
    }
}

impl NotificationMethod {
    /// The name as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationMethod::QuayNotification => "quay_notification",
            NotificationMethod::Email => "email",
            NotificationMethod::Webhook => "webhook",
            NotificationMethod::Slack => "slack",
            NotificationMethod::Flowdock => "flowdock",
            NotificationMethod::Hipchat => "hipchat",
        }
    }
}

/// Observed state of a QuayNotification.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayNotificationStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// The Quay repository, `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub repository: Option<String>,
    /// Quay's id of the notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub uuid: Option<String>,
    /// Delivery failures since the last reset, as Quay counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_failures: Option<u64>,
    /// The last `quayconfig.io/test-notification` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub test_notification_handled: Option<String>,
    /// The last `quayconfig.io/reset-failures` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub reset_failures_handled: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::{cel, root_rules, schema_at};
    use serde_json::json;

    fn notification(spec: Value) -> QuayNotification {
        QuayNotification::new("n", serde_json::from_value(spec).unwrap())
    }

    #[test]
    fn crd_names_enums_and_rules() {
        let crd = crate::crd::definition::<QuayNotification>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["qnotif".into()]));
        assert_eq!(root_rules(&crd).len(), 4);
        let events = schema_at(&crd, &["spec", "event"])["enum"].clone();
        assert_eq!(events.as_array().unwrap().len(), 11);
        assert!(
            events
                .as_array()
                .unwrap()
                .contains(&json!("repo_image_expiry"))
        );
        assert_eq!(
            schema_at(&crd, &["spec", "config"])["x-kubernetes-preserve-unknown-fields"],
            true
        );
    }

    #[test]
    fn cel_wants_exactly_one_repository_and_secret_urls_only_for_webhooks() {
        let ok = notification(
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook",
            "urlSecretRef": {"name": "hook", "key": "url"}}),
        );
        assert_eq!(cel(&ok, None), Ok(()));
        let both = notification(
            json!({"repository": "acme/app", "repositoryRef": {"name": "app"},
            "event": "repo_push", "method": "webhook"}),
        );
        assert!(cel(&both, None).unwrap_err().contains("exactly one"));
        let none = notification(json!({"event": "repo_push", "method": "webhook"}));
        assert!(cel(&none, None).unwrap_err().contains("exactly one"));
        let email = notification(
            json!({"repository": "acme/app", "event": "repo_push", "method": "email",
            "urlSecretRef": {"name": "hook", "key": "url"}}),
        );
        assert!(cel(&email, None).unwrap_err().contains("webhook and slack"));
        let twice = notification(
            json!({"repository": "acme/app", "event": "repo_push", "method": "slack",
            "config": {"url": "https://hooks.slack.com/x"}, "urlSecretRef": {"name": "hook", "key": "url"}}),
        );
        assert!(cel(&twice, None).unwrap_err().contains("not both"));
    }

    #[test]
    fn the_repository_cannot_be_changed() {
        let old = notification(
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook"}),
        );
        let moved = notification(
            json!({"repository": "acme/other", "event": "repo_push", "method": "webhook"}),
        );
        assert!(cel(&moved, Some(&old)).unwrap_err().contains("immutable"));
        let retitled = notification(
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook", "title": "t"}),
        );
        assert_eq!(cel(&retitled, Some(&old)), Ok(()));
    }
}
