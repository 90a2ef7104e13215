//! Repository notifications. Quay cannot change a notification, so a
//! difference is fixed by creating the desired notification first (or
//! adopting an identical one) and then deleting the old one: the repository
//! is never without it. Creation is idempotent: an identical notification
//! already in Quay (e.g. created just before a crash) is adopted, not duplicated.

use serde_json::Value;

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use super::replace::{ByUuid, delete_recorded, replace};
use crate::quay::api::notification::{NewNotification, Notification};

/// The desired state of one notification.
#[derive(Clone, PartialEq, Default)]
pub struct DesiredNotification {
    /// Quay namespace of the repository.
    pub namespace: String,
    /// Repository name.
    pub repository: String,
    /// Event, e.g. `repo_push`.
    pub event: String,
    /// Method, e.g. `webhook`.
    pub method: String,
    /// Title (`None`: none).
    pub title: Option<String>,
    /// Method configuration (an object; may hold credentials).
    pub config: Value,
    /// Event configuration (an object).
    pub event_config: Value,
    /// The uuid of the notification this object manages, when known.
    pub uuid: Option<String>,
}

impl std::fmt::Debug for DesiredNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredNotification")
            .field(
                "repository",
                &format!("{}/{}", self.namespace, self.repository),
            )
            .field("event", &self.event)
            .field("method", &self.method)
            .field("title", &self.title)
            .field("config", &masked(&self.config))
            .field("uuid", &self.uuid)
            .finish()
    }
}

/// A notification as observed.
#[derive(Debug, Clone)]
pub struct LiveNotification {
    /// The notification this object manages: the one with the known uuid, or
    /// else one identical to the spec.
    pub notification: Notification,
    /// A notification identical to the spec, if there is one (the same as
    /// `notification` when that one is in sync).
    pub identical: Option<Notification>,
    desired: DesiredNotification,
}

impl LiveNotification {
    /// The repository, as `(namespace, name)`.
    pub fn repository(&self) -> (&str, &str) {
        (&self.desired.namespace, &self.desired.repository)
    }
}

/// Renders a method configuration with every string masked, except the
/// values that name a Quay target or an e-mail address (never credentials).
pub fn masked(config: &Value) -> String {
    fn mask(key: &str, value: &Value) -> Value {
        match value {
            Value::String(_) if key != "email" => Value::String("***".to_owned()),
            Value::Object(map) if key != "target" => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), mask(k, v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| mask(key, v)).collect()),
            other => other.clone(),
        }
    }
    mask("", config).to_string()
}

fn object_or_empty(v: &Value) -> Value {
    if v.is_null() {
        Value::Object(Default::default())
    } else {
        v.clone()
    }
}

impl DesiredNotification {
    fn matches(&self, n: &Notification) -> bool {
        n.event == self.event
            && n.method == self.method
            && n.title == self.title
            && object_or_empty(&n.config) == object_or_empty(&self.config)
            && object_or_empty(&n.event_config) == object_or_empty(&self.event_config)
    }

    fn new_notification(&self) -> NewNotification {
        NewNotification {
            event: self.event.clone(),
            method: self.method.clone(),
            config: object_or_empty(&self.config),
            event_config: object_or_empty(&self.event_config),
            title: self.title.clone(),
        }
    }

    fn waiting(&self) -> EngineError {
        EngineError::Waiting {
            what: format!("repository {}/{}", self.namespace, self.repository),
        }
    }

    /// The repository's notifications, once the repository is known to exist (a
    /// superuser's token lists none for a missing repository, and its create fails
    /// with 500).
    async fn list(&self, quay: &Quay) -> Result<std::sync::Arc<Vec<Notification>>, EngineError> {
        if !quay
            .repository_exists(&self.namespace, &self.repository)
            .await?
        {
            return Err(self.waiting());
        }
        quay.notifications(&self.namespace, &self.repository)
            .await
            .map_err(|e| match e.is_not_found() {
                true => self.waiting(),
                false => e.into(),
            })
    }

    async fn create_notification(&self, quay: &Quay) -> Result<Notification, EngineError> {
        let result = quay
            .client
            .create_notification(&self.namespace, &self.repository, &self.new_notification())
            .await;
        match result {
            Ok(n) => {
                quay.remember_notification(&self.namespace, &self.repository, Some(&n), None);
                Ok(n)
            }
            Err(e) => {
                quay.forget_notifications(&self.namespace, &self.repository);
                Err(match e.is_not_found() {
                    true => self.waiting(),
                    false => e.into(),
                })
            }
        }
    }
}

impl ByUuid for DesiredNotification {
    fn recorded(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    async fn create_one(&self, quay: &Quay) -> Result<String, EngineError> {
        Ok(self.create_notification(quay).await?.uuid)
    }

    async fn delete_uuid(&self, quay: &Quay, uuid: &str) -> Result<(), EngineError> {
        let result = quay
            .client
            .delete_notification(&self.namespace, &self.repository, uuid)
            .await;
        match result {
            Ok(()) => {
                let (ns, repo) = (&self.namespace, &self.repository);
                quay.remember_notification(ns, repo, None, Some(uuid));
                Ok(())
            }
            Err(e) => {
                quay.forget_notifications(&self.namespace, &self.repository);
                match e.is_not_found() {
                    true => Ok(()),
                    false => Err(e.into()),
                }
            }
        }
    }
}

impl Managed for DesiredNotification {
    type Live = LiveNotification;

    fn describe(&self) -> String {
        format!(
            "{} notification on {} of repository {}/{}",
            self.method, self.event, self.namespace, self.repository
        )
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveNotification>, EngineError> {
        let all = self.list(quay).await?;
        let owned = self
            .uuid
            .as_deref()
            .and_then(|uuid| all.iter().find(|n| n.uuid == uuid));
        let identical = match owned {
            Some(n) if self.matches(n) => Some(n),
            _ => all.iter().find(|n| self.matches(n)),
        };
        Ok(owned.or(identical).map(|n| LiveNotification {
            notification: n.clone(),
            identical: identical.cloned(),
            desired: self.clone(),
        }))
    }

    fn diff(&self, live: &LiveNotification) -> Vec<FieldChange> {
        let n = &live.notification;
        let mut changes = Vec::new();
        if n.event != self.event {
            changes.push(FieldChange::new("event", &n.event, &self.event));
        }
        if n.method != self.method {
            changes.push(FieldChange::new("method", &n.method, &self.method));
        }
        if n.title != self.title {
            let show = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".to_owned());
            changes.push(FieldChange::new("title", show(&n.title), show(&self.title)));
        }
        if object_or_empty(&n.config) != object_or_empty(&self.config) {
            // Both sides masked: a URL may carry a token.
            let (live, desired) = (masked(&n.config), masked(&self.config));
            let (live, desired) = if live == desired {
                (format!("{live} (a value differs)"), desired)
            } else {
                (live, desired)
            };
            changes.push(FieldChange::new("config", live, desired));
        }
        if object_or_empty(&n.event_config) != object_or_empty(&self.event_config) {
            changes.push(FieldChange::new(
                "eventConfig",
                object_or_empty(&n.event_config),
                object_or_empty(&self.event_config),
            ));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveNotification>, EngineError> {
        let n = self.create_notification(quay).await?;
        Ok(Some(LiveNotification {
            identical: Some(n.clone()),
            notification: n,
            desired: self.clone(),
        }))
    }

    /// Replaces the notification: the desired one first (adopting an identical one
    /// if it exists), then the old one goes.
    async fn update(
        &self,
        quay: &Quay,
        live: &LiveNotification,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let identical = live.identical.as_ref().map(|n| n.uuid.as_str());
        replace(self, quay, &live.notification.uuid, identical).await
    }

    async fn delete(&self, quay: &Quay, live: &LiveNotification) -> Result<(), EngineError> {
        delete_recorded(self, quay, &live.notification.uuid).await
    }
}

/// The notification that matches the spec after a successful reconcile in
/// apply mode: as observed, or (after a replacement) as listed again.
pub async fn settled(
    report: &super::Report<LiveNotification>,
    quay: &Quay,
) -> Result<Option<Notification>, EngineError> {
    let Some(live) = &report.live else {
        return Ok(None);
    };
    if report.applied && report.existed {
        let fresh = DesiredNotification {
            uuid: None,
            ..live.desired.clone()
        };
        return Ok(fresh.observe(quay).await?.and_then(|l| l.identical));
    }
    Ok(Some(
        live.identical
            .clone()
            .unwrap_or_else(|| live.notification.clone()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masking_hides_urls_but_not_targets_or_addresses() {
        let config = json!({"url": "https://hooks.slack.com/services/T/B/SECRET", "template": "x"});
        let shown = masked(&config);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("url"));
        let target = json!({"target": {"kind": "team", "name": "devs"}});
        assert_eq!(masked(&target), target.to_string());
        assert!(masked(&json!({"email": "ops@example.com"})).contains("ops@example.com"));
    }

    #[test]
    fn a_changed_url_is_reported_without_its_value() {
        let desired = DesiredNotification {
            namespace: "acme".into(),
            repository: "app".into(),
            event: "repo_push".into(),
            method: "webhook".into(),
            config: json!({"url": "https://h.example.com/new-token"}),
            ..DesiredNotification::default()
        };
        let live = LiveNotification {
            notification: Notification {
                uuid: "u".into(),
                event: "repo_push".into(),
                method: "webhook".into(),
                title: None,
                config: json!({"url": "https://h.example.com/old-token"}),
                event_config: json!({}),
                number_of_failures: 0,
            },
            identical: None,
            desired: desired.clone(),
        };
        let changes = desired.diff(&live);
        assert_eq!(changes.len(), 1);
        let rendered = format!("{changes:?} {}", changes[0]);
        assert!(!rendered.contains("token"), "{rendered}");
        assert!(!format!("{desired:?}").contains("token"));
    }
}
