//! `QuayMirrorConfig`: the pull-mirror configuration of a Quay repository.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};
use super::reference::{LocalRef, REPOSITORY_PATTERN, SECRET_KEY_PATTERN};

/// Annotation whose every new value starts one sync.
pub const SYNC_NOW_ANNOTATION: &str = "quayconfig.io/sync-now";
/// Annotation whose every new value cancels the running sync once.
pub const SYNC_CANCEL_ANNOTATION: &str = "quayconfig.io/sync-cancel";

fn default_true() -> bool {
    true
}

fn default_username_key() -> String {
    "username".to_owned()
}

fn default_password_key() -> String {
    "password".to_owned()
}

/// Desired mirror configuration of a repository.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayMirrorConfig",
    namespaced,
    status = "QuayMirrorConfigStatus",
    shortname = "qmirror",
    category = "quay",
    doc = "QuayMirrorConfig makes a Quay repository a pull mirror of an external repository. \
           The operator creates or adopts the mirror configuration, keeps the repository in \
           state MIRROR while mirroring is enabled, and on deletion (policy Delete) disables \
           mirroring and returns the repository to NORMAL.",
    validation = Rule::new("has(self.spec.repositoryRef) != has(self.spec.repository)")
        .message("set exactly one of spec.repositoryRef and spec.repository"),
    validation = Rule::new(
        "(has(self.spec.repository) ? self.spec.repository : '') == \
         (has(oldSelf.spec.repository) ? oldSelf.spec.repository : '') && \
         (has(self.spec.repositoryRef) ? self.spec.repositoryRef.name : '') == \
         (has(oldSelf.spec.repositoryRef) ? oldSelf.spec.repositoryRef.name : '')"
    )
    .message("the repository (spec.repository or spec.repositoryRef) is immutable: create a new resource instead"),
    printcolumn(name = "Repository", type_ = "string", json_path = ".status.repository"),
    printcolumn(name = "Source", type_ = "string", json_path = ".spec.externalReference"),
    printcolumn(name = "Sync", type_ = "string", json_path = ".status.syncStatus")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayMirrorConfigSpec {
    /// A QuayRepository in this namespace to mirror into. Set this or `repository`.
    /// Leave that QuayRepository's `spec.state` unset: the mirror owns the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_ref: Option<LocalRef>,

    /// A repository not managed here, as `namespace/name`. Set this or `repositoryRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 511), regex(pattern = REPOSITORY_PATTERN))]
    pub repository: Option<String>,

    /// Whether syncing is enabled (default true). While enabled, the repository is
    /// kept in state MIRROR.
    #[serde(default = "default_true")]
    pub is_enabled: bool,

    /// The source repository, `host[:port]/path`, e.g. `quay.io/prometheus/busybox`
    /// (no scheme, tag or digest).
    #[x_kube(validation = Rule::new(
        "self.matches('^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+$')"
    )
    .message("externalReference must be host[:port]/path, e.g. quay.io/prometheus/busybox, \
              without scheme, tag or digest"))]
    #[schemars(length(min = 3, max = 2048))]
    pub external_reference: String,

    /// Secret with the source registry's user name and password. Quay never shows the
    /// password, so it is sent again only when this Secret changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,

    /// Time between syncs: whole numbers with units `s`, `m`, `h`, `d` or `w`, e.g.
    /// `1h`, `30m`, `1d` or `1h30m` (sent to Quay in seconds).
    #[x_kube(validation = Rule::new("self.matches('^([0-9]+[smhdw])+$') && !self.matches('^(0+[smhdw])+$')")
        .message("syncInterval must be a positive duration such as 30m, 6h, 1d or 1h30m"))]
    #[schemars(length(min = 2, max = 32))]
    pub sync_interval: String,

    /// First sync (RFC 3339, e.g. `2026-01-01T00:00:00Z`). When unset, the first sync
    /// is scheduled at creation time and not managed afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(
        "self.matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$')"
    )
    .message("syncStartDate must be an RFC 3339 date and time such as 2026-01-01T00:00:00Z"))]
    #[schemars(length(min = 20, max = 40))]
    pub sync_start_date: Option<String>,

    /// The robot that pushes the mirrored images: `namespace+name` or just `name`. It
    /// must be a robot of the repository's own namespace.
    #[schemars(
        length(min = 1, max = 511),
        regex(pattern = r"^([a-z0-9]+([._-][a-z0-9]+)*\+)?[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub robot_username: String,

    /// Tag globs selecting what to mirror, e.g. `latest`, `v1.*`.
    #[schemars(length(min = 1, max = 100), inner(length(min = 1, max = 255)))]
    pub root_rule: Vec<String>,

    /// How to reach the source registry. Not managed when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_registry_config: Option<ExternalRegistryConfig>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// The Secret with the source registry's credentials.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Name of the Secret, in the same namespace as this resource.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the user name. Defaults to `username`.
    #[serde(default = "default_username_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = SECRET_KEY_PATTERN))]
    pub username_key: String,
    /// Key of the password. Defaults to `password`.
    #[serde(default = "default_password_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = SECRET_KEY_PATTERN))]
    pub password_key: String,
}

/// Connection settings for the source registry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRegistryConfig {
    /// Verify the source's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// Accept unsigned images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsigned_images: Option<bool>,
    /// Proxies used to reach the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<MirrorProxy>,
}

/// Proxy settings of a mirror.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct MirrorProxy {
    /// `HTTP_PROXY` during syncs: an `http://` or `https://` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^\\\\s]+$')")
        .message("proxy URLs must start with http:// or https:// and contain no spaces"))]
    #[schemars(length(min = 8, max = 2048))]
    pub http_proxy: Option<String>,
    /// `HTTPS_PROXY` during syncs: an `http://` or `https://` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^\\\\s]+$')")
        .message("proxy URLs must start with http:// or https:// and contain no spaces"))]
    #[schemars(length(min = 8, max = 2048))]
    pub https_proxy: Option<String>,
    /// `NO_PROXY` during syncs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 4096))]
    pub no_proxy: Option<String>,
}

/// Observed state of a QuayMirrorConfig.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayMirrorConfigStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// The Quay repository, `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub repository: Option<String>,
    /// Quay's sync status: `NEVER_RUN`, `SYNC_NOW`, `SYNCING`, `SUCCESS`, `FAIL`, `CANCEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub sync_status: Option<String>,
    /// Start of the next sync, as Quay reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub next_sync_time: Option<String>,
    /// Deadline of the running sync, as Quay reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub sync_expiration_time: Option<String>,
    /// Retries left for the current sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries_remaining: Option<i64>,
    /// Version (`uid/resourceVersion;keys#digest`: the digest of its content is
    /// keyed by the connection's token) of the credentials Secret last sent
    /// to Quay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub credentials_version: Option<String>,
    /// The last `quayconfig.io/sync-now` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub sync_now_handled: Option<String>,
    /// The last `quayconfig.io/sync-cancel` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub sync_cancel_handled: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::{cel, schema_at};
    use serde_json::json;

    #[test]
    fn defaults_and_rules() {
        let spec: QuayMirrorConfigSpec = serde_json::from_value(json!({
            "repository": "acme/mirror", "externalReference": "quay.io/x/y", "syncInterval": "1h",
            "robotUsername": "mirrorbot", "rootRule": ["latest"],
            "credentialsSecretRef": {"name": "creds"}
        }))
        .unwrap();
        assert!(spec.is_enabled);
        let creds = spec.credentials_secret_ref.clone().unwrap();
        assert_eq!(
            (creds.username_key.as_str(), creds.password_key.as_str()),
            ("username", "password")
        );
        let ok = QuayMirrorConfig::new("m", spec.clone());
        assert_eq!(cel(&ok, None), Ok(()));
        let mut both = ok.clone();
        both.spec.repository_ref = Some(LocalRef {
            name: "mirror".into(),
        });
        assert!(cel(&both, None).unwrap_err().contains("exactly one"));
        let crd = crate::crd::definition::<QuayMirrorConfig>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["qmirror".into()]));
        assert_eq!(schema_at(&crd, &["spec", "isEnabled"])["default"], true);
    }
}
