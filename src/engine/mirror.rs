//! Repository mirror configurations. Quay enforces preconditions the engine
//! checks first (the robot must be a robot of the repository's namespace, the
//! start date has one format); creating the configuration puts the repository
//! in state MIRROR, and the engine keeps it there while mirroring is enabled.
//! Quay never returns the source password, so the engine resends the
//! credentials only when their Secret's content changed (compared through its
//! version and a keyed digest: [`super::credentials::same_source`]). There is
//! no DELETE: deleting disables mirroring and returns
//! the repository to NORMAL.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::mirror::{MirrorConfig, MirrorUpdate, RegistryConfig, RootRule};
use crate::quay::api::robot::RobotOwner;

/// The only date format Quay accepts for `sync_start_date`.
pub const QUAY_DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Source registry credentials read from a Secret. `Debug` shows no value.
pub use super::credentials::RegistryCredentials as MirrorCredentials;
use super::credentials::shown;

/// The desired mirror configuration of a repository.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DesiredMirror {
    /// Quay namespace of the repository.
    pub namespace: String,
    /// Repository name.
    pub repository: String,
    /// Whether syncing is enabled.
    pub is_enabled: bool,
    /// Source reference.
    pub external_reference: String,
    /// Credentials; `None` means none (any in Quay are cleared).
    pub credentials: Option<MirrorCredentials>,
    /// The Secret version last sent to Quay (from the status), if any.
    pub credentials_sent: Option<String>,
    /// Full robot name, `namespace+robot`.
    pub robot: String,
    /// Tag globs.
    pub root_rule: Vec<String>,
    /// Seconds between syncs.
    pub sync_interval: i64,
    /// First sync in Quay's format; sent at creation only (Quay moves it
    /// forward after every sync, so it is not compared afterwards).
    pub sync_start_date: Option<String>,
    /// Source registry settings; not managed when `None`.
    pub registry_config: Option<RegistryConfig>,
}

/// A mirror configuration as observed.
#[derive(Debug, Clone)]
pub struct LiveMirror {
    /// Quay namespace of the repository.
    pub namespace: String,
    /// Repository name.
    pub repository: String,
    /// The configuration as Quay shows it.
    pub config: MirrorConfig,
    /// The repository's state, when the engine needs it (mirroring enabled).
    pub repository_state: Option<String>,
    /// The credentials Secret version Quay holds once a reconcile in apply
    /// mode succeeded (the desired one).
    pub credentials_version: Option<String>,
}

impl LiveMirror {
    /// The configuration as Quay shows it now (after a change).
    pub async fn refresh(&self, quay: &Quay) -> Result<Option<MirrorConfig>, EngineError> {
        Ok(quay
            .client
            .get_mirror(&self.namespace, &self.repository)
            .await?)
    }
}

/// Skopeo timeout Quay requires at creation (its minimum).
const SKOPEO_TIMEOUT: i64 = 300;

fn show<T: std::fmt::Debug>(v: &Option<T>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "unset".to_owned(),
    }
}

impl DesiredMirror {
    fn what(&self) -> String {
        format!("{}/{}", self.namespace, self.repository)
    }

    fn waiting_for_repository(&self, e: crate::quay::QuayError) -> EngineError {
        match e.is_not_found() {
            true => EngineError::Waiting {
                what: format!("repository {}", self.what()),
            },
            false => e.into(),
        }
    }

    fn root_rule(&self) -> RootRule {
        RootRule {
            rule_kind: "tag_glob_csv".to_owned(),
            rule_value: self.root_rule.clone(),
        }
    }

    /// The registry config differs in a field the spec sets.
    fn registry_config_differs(&self, live: &RegistryConfig) -> bool {
        let Some(desired) = &self.registry_config else {
            return false;
        };
        let differs = |d: Option<bool>, l: Option<bool>| d.is_some() && d != l;
        let proxy_differs = desired.proxy.as_ref().is_some_and(|d| {
            let l = live.proxy.clone().unwrap_or_default();
            d.http_proxy != l.http_proxy
                || d.https_proxy != l.https_proxy
                || d.no_proxy != l.no_proxy
        });
        differs(desired.verify_tls, live.verify_tls)
            || differs(desired.unsigned_images, live.unsigned_images)
            || proxy_differs
    }

    fn credentials_update(&self, update: &mut MirrorUpdate) {
        match &self.credentials {
            Some(c) => {
                update.external_registry_username = Some(Some(c.username.clone()));
                update.external_registry_password = Some(Some(c.password.clone()));
            }
            None => {
                update.external_registry_username = Some(None);
                update.external_registry_password = Some(None);
            }
        }
    }

    /// Checks what Quay would refuse (leaving a stray tag rule behind on a
    /// failed create): the robot must be an existing robot of the namespace.
    async fn check_robot(&self, quay: &Quay) -> Result<(), EngineError> {
        let Some((robot_ns, _)) = self.robot.split_once('+') else {
            return Err(EngineError::Rejected(format!(
                "robot {:?} is not a robot account name (namespace+name)",
                self.robot
            )));
        };
        if robot_ns != self.namespace {
            return Err(EngineError::Rejected(format!(
                "robot {} belongs to namespace {robot_ns}; Quay only lets a robot of {} push mirrored images",
                self.robot, self.namespace
            )));
        }
        let owner = if quay.organization(&self.namespace).await?.is_some() {
            RobotOwner::Organization(self.namespace.clone())
        } else if quay.me().await?.username == self.namespace {
            RobotOwner::CurrentUser
        } else {
            return Err(EngineError::Waiting {
                what: format!("namespace {}", self.namespace),
            });
        };
        if !quay
            .robots(&owner)
            .await?
            .iter()
            .any(|r| r.name == self.robot)
        {
            return Err(EngineError::Waiting {
                what: format!("robot {} in Quay", self.robot),
            });
        }
        Ok(())
    }
}

impl Managed for DesiredMirror {
    type Live = LiveMirror;

    fn describe(&self) -> String {
        format!("mirror configuration of repository {}", self.what())
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveMirror>, EngineError> {
        let Some(config) = quay
            .client
            .get_mirror(&self.namespace, &self.repository)
            .await?
        else {
            return Ok(None);
        };
        let repository_state = match self.is_enabled {
            true => quay
                .repositories(&self.namespace)
                .await?
                .iter()
                .find(|r| r.name == self.repository)
                .map(|r| r.state.clone()),
            false => None,
        };
        Ok(Some(LiveMirror {
            namespace: self.namespace.clone(),
            repository: self.repository.clone(),
            config,
            repository_state,
            credentials_version: self.credentials.as_ref().map(|c| c.version.clone()),
        }))
    }

    fn diff(&self, live: &LiveMirror) -> Vec<FieldChange> {
        let c = &live.config;
        let mut changes = Vec::new();
        if c.is_enabled != self.is_enabled {
            changes.push(FieldChange::new("isEnabled", c.is_enabled, self.is_enabled));
        }
        if c.external_reference != self.external_reference {
            changes.push(FieldChange::new(
                "externalReference",
                &c.external_reference,
                &self.external_reference,
            ));
        }
        match &self.credentials {
            Some(creds) => {
                if c.external_registry_username.as_deref() != Some(creds.username.as_str()) {
                    changes.push(FieldChange::new(
                        "credentials",
                        format!("user {}", show(&c.external_registry_username)),
                        format!(
                            "user {:?} from Secret version {}",
                            creds.username,
                            shown(&creds.version)
                        ),
                    ));
                } else if !creds.already_sent(self.credentials_sent.as_deref()) {
                    changes.push(FieldChange::new(
                        "credentials",
                        format!(
                            "password from Secret version {}",
                            self.credentials_sent.as_deref().map_or("unknown", shown)
                        ),
                        format!("password from Secret version {}", shown(&creds.version)),
                    ));
                }
            }
            None if c.external_registry_username.is_some() => {
                changes.push(FieldChange::new(
                    "credentials",
                    format!("user {}", show(&c.external_registry_username)),
                    "none",
                ));
            }
            None => {}
        }
        if c.robot_username != self.robot {
            changes.push(FieldChange::new(
                "robotUsername",
                &c.robot_username,
                &self.robot,
            ));
        }
        if c.root_rule.rule_value != self.root_rule {
            changes.push(FieldChange::new(
                "rootRule",
                format!("{:?}", c.root_rule.rule_value),
                format!("{:?}", self.root_rule),
            ));
        }
        if c.sync_interval != self.sync_interval {
            changes.push(FieldChange::new(
                "syncInterval",
                format!("{}s", c.sync_interval),
                format!("{}s", self.sync_interval),
            ));
        }
        if self.registry_config_differs(&c.external_registry_config) {
            changes.push(FieldChange::new(
                "externalRegistryConfig",
                render_registry_config(&c.external_registry_config),
                render_registry_config(&self.registry_config.clone().unwrap_or_default()),
            ));
        }
        if let Some(state) = &live.repository_state
            && self.is_enabled
            && state != "MIRROR"
        {
            changes.push(FieldChange::new("repositoryState", state, "MIRROR"));
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveMirror>, EngineError> {
        self.check_robot(quay).await?;
        let start = self
            .sync_start_date
            .clone()
            .unwrap_or_else(|| chrono::Utc::now().format(QUAY_DATE_FORMAT).to_string());
        let mut config = MirrorUpdate {
            is_enabled: Some(self.is_enabled),
            external_reference: Some(self.external_reference.clone()),
            external_registry_config: Some(self.registry_config.clone().unwrap_or_default()),
            robot_username: Some(self.robot.clone()),
            root_rule: Some(self.root_rule()),
            sync_interval: Some(self.sync_interval),
            sync_start_date: Some(start),
            skopeo_timeout_interval: Some(SKOPEO_TIMEOUT),
            ..MirrorUpdate::default()
        };
        if self.credentials.is_some() {
            self.credentials_update(&mut config);
        }
        let result = quay
            .client
            .create_mirror(&self.namespace, &self.repository, &config)
            .await;
        // Quay put the repository in state MIRROR.
        quay.forget_repositories(&self.namespace);
        result.map_err(|e| self.waiting_for_repository(e))?;
        self.observe(quay).await
    }

    async fn update(
        &self,
        quay: &Quay,
        _live: &LiveMirror,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let mut update = MirrorUpdate::default();
        let mut state = false;
        for change in changes {
            match change.field.as_str() {
                "isEnabled" => update.is_enabled = Some(self.is_enabled),
                "externalReference" => {
                    update.external_reference = Some(self.external_reference.clone())
                }
                "credentials" => self.credentials_update(&mut update),
                "robotUsername" => {
                    self.check_robot(quay).await?;
                    update.robot_username = Some(self.robot.clone());
                }
                "rootRule" => update.root_rule = Some(self.root_rule()),
                "syncInterval" => update.sync_interval = Some(self.sync_interval),
                "externalRegistryConfig" => {
                    update.external_registry_config = self.registry_config.clone()
                }
                "repositoryState" => state = true,
                _ => {}
            }
        }
        if update != MirrorUpdate::default() {
            quay.client
                .update_mirror(&self.namespace, &self.repository, &update)
                .await?;
        }
        if update.root_rule.is_some() {
            // Quay's bug: after a failed create, a later PUT changes a stray rule
            // and the mirror keeps its old one. Check that the change took.
            let after = quay
                .client
                .get_mirror(&self.namespace, &self.repository)
                .await?;
            if after.is_some_and(|m| m.root_rule.rule_value != self.root_rule) {
                return Err(EngineError::Rejected(format!(
                    "Quay accepted the new tag rule for {} but kept the old one: the repository has a \
                     stray rule left by an earlier failed mirror creation (a Quay bug). Recreate the \
                     repository, or change rootRule back",
                    self.what()
                )));
            }
        }
        if state {
            quay.client
                .change_repository_state(&self.namespace, &self.repository, "MIRROR")
                .await?;
            quay.forget_repositories(&self.namespace);
        }
        Ok(())
    }

    /// Quay has no DELETE for a mirror: disable it and return the repository to NORMAL.
    async fn delete(&self, quay: &Quay, live: &LiveMirror) -> Result<(), EngineError> {
        if live.config.is_enabled {
            let disable = MirrorUpdate {
                is_enabled: Some(false),
                ..MirrorUpdate::default()
            };
            quay.client
                .update_mirror(&self.namespace, &self.repository, &disable)
                .await?;
        }
        let state = quay
            .repositories(&self.namespace)
            .await?
            .iter()
            .find(|r| r.name == self.repository)
            .map(|r| r.state.clone());
        if state.as_deref() == Some("MIRROR") {
            quay.client
                .change_repository_state(&self.namespace, &self.repository, "NORMAL")
                .await
                .map_err(|e| self.waiting_for_repository(e))?;
            quay.forget_repositories(&self.namespace);
        }
        Ok(())
    }
}

/// Converts an RFC 3339 time to the one format Quay accepts.
pub fn quay_date(rfc3339: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format(QUAY_DATE_FORMAT)
                .to_string()
        })
        .map_err(|e| format!("syncStartDate {rfc3339:?} is not an RFC 3339 time: {e}"))
}

/// The registry settings for messages: proxy URLs may carry credentials,
/// so only whether each proxy is set is shown.
fn render_registry_config(c: &crate::quay::api::mirror::RegistryConfig) -> String {
    let set = |v: &Option<String>| {
        if v.as_deref().is_some_and(|s| !s.is_empty()) {
            "set"
        } else {
            "unset"
        }
    };
    let proxy = c.proxy.clone().unwrap_or_default();
    format!(
        "verifyTls={:?} unsignedImages={:?} httpProxy={} httpsProxy={} noProxy={}",
        c.verify_tls,
        c.unsigned_images,
        set(&proxy.http_proxy),
        set(&proxy.https_proxy),
        set(&proxy.no_proxy)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_converted_to_utc_without_fractions() {
        assert_eq!(
            quay_date("2026-11-22T01:30:00.123+01:00").unwrap(),
            "2026-11-22T00:30:00Z"
        );
        assert!(quay_date("2026-11-22 00:00").is_err());
    }

    #[test]
    fn credentials_are_resent_only_when_the_secret_version_changes() {
        let creds = |v: &str| MirrorCredentials {
            username: "puller".into(),
            password: "s3cret".into(),
            version: v.into(),
        };
        let live = LiveMirror {
            config: serde_json::from_value(serde_json::json!({
                "is_enabled": true, "external_reference": "quay.io/a/b",
                "external_registry_username": "puller", "robot_username": "acme+bot",
                "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["latest"]},
                "sync_interval": 3600
            }))
            .unwrap(),
            repository_state: Some("MIRROR".into()),
            namespace: "acme".into(),
            repository: "m".into(),
            credentials_version: None,
        };
        let mut desired = DesiredMirror {
            namespace: "acme".into(),
            repository: "m".into(),
            is_enabled: true,
            external_reference: "quay.io/a/b".into(),
            credentials: Some(creds("uid/2")),
            credentials_sent: Some("uid/2".into()),
            robot: "acme+bot".into(),
            root_rule: vec!["latest".into()],
            sync_interval: 3600,
            ..DesiredMirror::default()
        };
        assert!(desired.diff(&live).is_empty());
        desired.credentials = Some(creds("uid/3"));
        let changes = desired.diff(&live);
        assert_eq!(changes.len(), 1);
        assert!(!format!("{changes:?}{desired:?}").contains("s3cret"));
    }
}
