//! Repository notifications. Quay has no update call: change = create + delete.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A notification as Quay shows it. Its `config` may hold credentials
/// (webhook and Slack URLs), so `Debug` leaves it out.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
pub struct Notification {
    /// Quay's id.
    pub uuid: String,
    /// Event name, e.g. `repo_push`.
    pub event: String,
    /// Method name, e.g. `webhook`.
    pub method: String,
    /// Title (`None` when created without one).
    #[serde(default)]
    pub title: Option<String>,
    /// Method configuration (URL, target, template…).
    #[serde(default)]
    pub config: Value,
    /// Event configuration (vulnerability level, days…).
    #[serde(default)]
    pub event_config: Value,
    /// Delivery failures since the last reset.
    #[serde(default)]
    pub number_of_failures: u64,
}

impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notification")
            .field("uuid", &self.uuid)
            .field("event", &self.event)
            .field("method", &self.method)
            .field("title", &self.title)
            .field("number_of_failures", &self.number_of_failures)
            .finish_non_exhaustive()
    }
}

/// A new notification.
#[derive(Clone, Serialize, PartialEq)]
pub struct NewNotification {
    /// Event name.
    pub event: String,
    /// Method name.
    pub method: String,
    /// Method configuration.
    pub config: Value,
    /// Event configuration (Quay requires the key; `{}` when none).
    #[serde(rename = "eventConfig")]
    pub event_config: Value,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Deserialize)]
struct NotificationList {
    notifications: Vec<Notification>,
}

const NOTIFICATION_MISSING: &[&str] = &["No repository notification found"];

/// String values of a method config: they may be credentials.
fn config_strings(config: &Value) -> Vec<&str> {
    match config {
        Value::Object(map) => map.values().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl QuayClient {
    /// All notifications of a repository.
    pub async fn list_notifications(
        &self,
        namespace: &str,
        repo: &str,
    ) -> Result<Vec<Notification>, QuayError> {
        let call = Call::get(format!("/repository/{namespace}/{repo}/notification/"));
        Ok(self.get_json::<NotificationList>(call).await?.notifications)
    }

    /// One notification, or `None` if it does not exist.
    pub async fn get_notification(
        &self,
        namespace: &str,
        repo: &str,
        uuid: &str,
    ) -> Result<Option<Notification>, QuayError> {
        let call = Call::get(format!(
            "/repository/{namespace}/{repo}/notification/{uuid}"
        ));
        self.get_optional(call, NOTIFICATION_MISSING).await
    }

    /// Creates a notification. Not retried: a lost answer is settled by
    /// listing and adopting the notification with the same content.
    pub async fn create_notification(
        &self,
        namespace: &str,
        repo: &str,
        notification: &NewNotification,
    ) -> Result<Notification, QuayError> {
        let mut call =
            Call::post(format!("/repository/{namespace}/{repo}/notification/")).json(notification);
        for secret in config_strings(&notification.config) {
            call = call.secret(Some(secret));
        }
        self.send(call).await?.json()
    }

    /// Queues a test delivery.
    pub async fn test_notification(
        &self,
        namespace: &str,
        repo: &str,
        uuid: &str,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!(
            "/repository/{namespace}/{repo}/notification/{uuid}/test"
        ));
        self.send(call)
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(NOTIFICATION_MISSING))
    }

    /// Resets the failure count (and re-enables a notification Quay disabled).
    pub async fn reset_notification_failures(
        &self,
        namespace: &str,
        repo: &str,
        uuid: &str,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!(
            "/repository/{namespace}/{repo}/notification/{uuid}"
        ))
        .idempotent();
        self.send(call)
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(NOTIFICATION_MISSING))
    }

    /// Deletes a notification. A missing one gives `NotFound`.
    pub async fn delete_notification(
        &self,
        namespace: &str,
        repo: &str,
        uuid: &str,
    ) -> Result<(), QuayError> {
        let call = Call::delete(format!(
            "/repository/{namespace}/{repo}/notification/{uuid}"
        ));
        self.send(call)
            .await
            .map(|_| ())
            .map_err(|e| e.not_found_if(NOTIFICATION_MISSING))
    }
}
