//! Repository mirroring (pull mirrors). Quay has no DELETE for a mirror config.

use serde::{Deserialize, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// A mirror configuration as Quay shows it (the password is never returned).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct MirrorConfig {
    /// Whether syncing is enabled.
    pub is_enabled: bool,
    /// Source, e.g. `quay.io/prometheus/busybox`.
    pub external_reference: String,
    /// User name for the source registry.
    #[serde(default)]
    pub external_registry_username: Option<String>,
    /// TLS, unsigned-image and proxy settings.
    #[serde(default)]
    pub external_registry_config: RegistryConfig,
    /// Robot (full name) that pushes the mirrored images.
    pub robot_username: String,
    /// Which tags to mirror.
    pub root_rule: RootRule,
    /// Seconds between syncs.
    pub sync_interval: i64,
    /// First sync, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default)]
    pub sync_start_date: Option<String>,
    /// Sync deadline of the current run.
    #[serde(default)]
    pub sync_expiration_date: Option<String>,
    /// Retries left in the current run.
    #[serde(default)]
    pub sync_retries_remaining: Option<i64>,
    /// `NEVER_RUN`, `SYNC_NOW`, `SYNCING`, `SUCCESS`, `FAIL`, `CANCEL`…
    #[serde(default)]
    pub sync_status: Option<String>,
    /// Timeout of one skopeo call, in seconds (≥ 300).
    #[serde(default)]
    pub skopeo_timeout_interval: Option<i64>,
    /// Architectures to mirror (all when empty).
    #[serde(default)]
    pub architecture_filter: Vec<String>,
}

/// Tag selection of a mirror.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct RootRule {
    /// Always `tag_glob_csv`.
    pub rule_kind: String,
    /// Tag globs.
    pub rule_value: Vec<String>,
}

/// Connection settings for the source registry.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct RegistryConfig {
    /// Verify the source's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// Accept unsigned images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsigned_images: Option<bool>,
    /// Proxy settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyConfig>,
}

/// Proxies used to reach the source registry.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct ProxyConfig {
    /// HTTP proxy.
    #[serde(default)]
    pub http_proxy: Option<String>,
    /// HTTPS proxy.
    #[serde(default)]
    pub https_proxy: Option<String>,
    /// Hosts reached directly.
    #[serde(default)]
    pub no_proxy: Option<String>,
}

/// A mirror create or (partial) update. Unset fields are not sent.
#[derive(Clone, Default, Serialize, PartialEq)]
pub struct MirrorUpdate {
    /// Whether syncing is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Source reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// Source user name; `Some(None)` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_registry_username: Option<Option<String>>,
    /// Source password; `Some(None)` clears it. Never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_registry_password: Option<Option<String>>,
    /// Source registry settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_registry_config: Option<RegistryConfig>,
    /// Robot full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robot_username: Option<String>,
    /// Tag selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_rule: Option<RootRule>,
    /// Seconds between syncs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_interval: Option<i64>,
    /// First sync, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_start_date: Option<String>,
    /// skopeo timeout in seconds (≥ 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skopeo_timeout_interval: Option<i64>,
}

impl std::fmt::Debug for MirrorUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorUpdate")
            .field("is_enabled", &self.is_enabled)
            .field("external_reference", &self.external_reference)
            .field("robot_username", &self.robot_username)
            .field("root_rule", &self.root_rule)
            .field("sync_interval", &self.sync_interval)
            .field("password_sent", &self.external_registry_password.is_some())
            .finish_non_exhaustive()
    }
}

impl MirrorUpdate {
    fn password(&self) -> Option<&str> {
        self.external_registry_password
            .as_ref()
            .and_then(|p| p.as_deref())
    }
}

impl QuayClient {
    /// The mirror config of a repository, or `None` when it has none.
    pub async fn get_mirror(
        &self,
        namespace: &str,
        repo: &str,
    ) -> Result<Option<MirrorConfig>, QuayError> {
        self.get_optional(
            Call::get(format!("/repository/{namespace}/{repo}/mirror")),
            &[],
        )
        .await
    }

    /// Creates the mirror config. Quay then sets the repository state to
    /// MIRROR and grants the robot write. The robot must exist in the same
    /// namespace (Quay answers 400 "Could not find robot" otherwise).
    pub async fn create_mirror(
        &self,
        namespace: &str,
        repo: &str,
        config: &MirrorUpdate,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!("/repository/{namespace}/{repo}/mirror"))
            .json(config)
            .secret(config.password());
        self.execute(call).await
    }

    /// Changes the fields that are set in `update`.
    pub async fn update_mirror(
        &self,
        namespace: &str,
        repo: &str,
        update: &MirrorUpdate,
    ) -> Result<(), QuayError> {
        let call = Call::put(format!("/repository/{namespace}/{repo}/mirror"))
            .json(update)
            .secret(update.password());
        self.execute(call).await
    }

    /// Starts a sync now.
    pub async fn mirror_sync_now(&self, namespace: &str, repo: &str) -> Result<(), QuayError> {
        self.execute(Call::post(format!(
            "/repository/{namespace}/{repo}/mirror/sync-now"
        )))
        .await
    }

    /// Cancels the running sync.
    pub async fn mirror_sync_cancel(&self, namespace: &str, repo: &str) -> Result<(), QuayError> {
        self.execute(Call::post(format!(
            "/repository/{namespace}/{repo}/mirror/sync-cancel"
        )))
        .await
    }
}
