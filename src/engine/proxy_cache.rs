//! Proxy-cache configurations of organizations.
//!
//! Quay has no update for a proxy-cache configuration (PUT answers 405), so a
//! change is made as validate → DELETE → POST:
//!
//! - `validateproxycache` first checks the new configuration the way a pull
//!   would use it (the host resolves and is not a private address, the
//!   credentials log in). When Quay refuses it, the working configuration is
//!   left alone and Quay's reason becomes the error. A create is validated too,
//!   so bad credentials show at once rather than as failing pulls.
//! - Deleting the configuration removes only that row in Quay: the
//!   organization keeps its cached repositories and tags. Until the POST lands
//!   (one request later), the organization is an ordinary one: pulls of tags
//!   already cached are served as they are, pulls of anything not cached yet
//!   fail with "not found" instead of being fetched from the upstream.
//! - Tags cached before the change keep the expiration they were cached with;
//!   the new expiration applies to tags Quay caches or refreshes afterwards.
//!   After a change of upstream, Quay checks cached tags against the new
//!   upstream when they expire.
//!
//! Quay never returns the credentials (not even the user name), so they are
//! compared through the version of the Secret they were last written from
//! and a keyed digest of its content (kept in the resource's status, see
//! [`super::credentials::same_source`]): new content is a change, a write to
//! the Secret's metadata alone is not, and no perpetual difference arises.

use super::credentials::{RegistryCredentials, shown};
use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::proxycache::{NewProxyCache, ProxyCache};
use crate::quay::{ErrorKind, QuayError};

/// The desired proxy-cache configuration of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredProxyCache {
    /// The Quay organization.
    pub organization: String,
    /// Upstream registry, `host[:port][/namespace]`.
    pub upstream_registry: String,
    /// Seconds a cached tag lives.
    pub expiration_s: i64,
    /// Plain HTTP / no TLS verification towards the upstream.
    pub insecure: bool,
    /// Credentials; `None` means anonymous pulls.
    pub credentials: Option<RegistryCredentials>,
    /// The Secret version the configuration in Quay was last written from
    /// (from the status); `None` when it was written without credentials or
    /// not by this resource.
    pub credentials_sent: Option<String>,
}

/// A proxy-cache configuration as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveProxyCache {
    /// The Quay organization.
    pub organization: String,
    /// What Quay shows.
    pub config: ProxyCache,
    /// The credentials Secret version Quay holds once a reconcile in apply
    /// mode succeeded (the desired one; `None` for anonymous pulls).
    pub credentials_version: Option<String>,
}

impl DesiredProxyCache {
    fn new_config(&self) -> NewProxyCache {
        NewProxyCache {
            upstream_registry: self.upstream_registry.clone(),
            upstream_registry_username: self.credentials.as_ref().map(|c| c.username.clone()),
            upstream_registry_password: self.credentials.as_ref().map(|c| c.password.clone()),
            expiration_s: self.expiration_s,
            insecure: self.insecure,
        }
    }

    /// The configuration Quay holds after a successful create.
    fn as_live(&self) -> LiveProxyCache {
        LiveProxyCache {
            organization: self.organization.clone(),
            config: ProxyCache {
                upstream_registry: self.upstream_registry.clone(),
                expiration_s: self.expiration_s,
                insecure: self.insecure,
            },
            credentials_version: self.credentials_version(),
        }
    }

    fn credentials_version(&self) -> Option<String> {
        self.credentials.as_ref().map(|c| c.version.clone())
    }

    /// `Waiting` when the organization does not exist (Quay answers 403 for a
    /// missing organization unless the token has full access, and an empty
    /// configuration when it has: neither says the organization is missing).
    async fn require_organization(&self, quay: &Quay) -> Result<(), EngineError> {
        match quay.organization(&self.organization).await?.is_some() {
            true => Ok(()),
            false => Err(EngineError::Waiting {
                what: format!("organization {}", self.organization),
            }),
        }
    }

    /// Asks Quay to check the configuration; a refusal keeps Quay's message.
    async fn validate(&self, quay: &Quay, replacing: bool) -> Result<(), EngineError> {
        match quay
            .client
            .validate_proxy_cache(&self.organization, &self.new_config())
            .await
        {
            Err(e) if e.kind == ErrorKind::BadRequest => {
                let kept = match replacing {
                    true => "; the current configuration was kept",
                    false => "",
                };
                Err(EngineError::Rejected(format!(
                    "Quay refused the proxy cache of organization {} for upstream {:?}: {}{kept}",
                    self.organization, self.upstream_registry, e.message
                )))
            }
            other => Ok(other?),
        }
    }

    async fn create_config(&self, quay: &Quay) -> Result<(), QuayError> {
        quay.client
            .create_proxy_cache(&self.organization, &self.new_config())
            .await
    }
}

impl Managed for DesiredProxyCache {
    type Live = LiveProxyCache;

    fn describe(&self) -> String {
        format!("proxy cache of organization {}", self.organization)
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveProxyCache>, EngineError> {
        match quay.client.get_proxy_cache(&self.organization).await {
            Ok(config) => Ok(config.map(|config| LiveProxyCache {
                organization: self.organization.clone(),
                config,
                credentials_version: self.credentials_version(),
            })),
            Err(e) if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::NotFound) => {
                self.require_organization(quay).await?;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn diff(&self, live: &LiveProxyCache) -> Vec<FieldChange> {
        let c = &live.config;
        let mut changes = Vec::new();
        if c.upstream_registry != self.upstream_registry {
            changes.push(FieldChange::new(
                "upstreamRegistry",
                &c.upstream_registry,
                &self.upstream_registry,
            ));
        }
        if c.expiration_s != self.expiration_s {
            changes.push(FieldChange::new(
                "expirationSeconds",
                c.expiration_s,
                self.expiration_s,
            ));
        }
        if c.insecure != self.insecure {
            changes.push(FieldChange::new("insecure", c.insecure, self.insecure));
        }
        let sent = self.credentials_sent.as_deref();
        match (&self.credentials, sent) {
            (Some(creds), sent) if !creds.already_sent(sent) => {
                changes.push(FieldChange::new(
                    "credentials",
                    match sent {
                        Some(v) => format!("from Secret version {}", shown(v)),
                        None => "unknown (not written from this Secret)".to_owned(),
                    },
                    format!(
                        "user {:?} from Secret version {}",
                        creds.username,
                        shown(&creds.version)
                    ),
                ));
            }
            (None, Some(v)) => {
                changes.push(FieldChange::new(
                    "credentials",
                    format!("from Secret version {}", shown(v)),
                    "none (anonymous)",
                ));
            }
            _ => {}
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveProxyCache>, EngineError> {
        self.require_organization(quay).await?;
        self.validate(quay, false).await?;
        self.create_config(quay).await?;
        Ok(Some(self.as_live()))
    }

    /// Quay cannot change a configuration: validate the new one, then replace.
    async fn update(
        &self,
        quay: &Quay,
        _live: &LiveProxyCache,
        _changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        self.validate(quay, true).await?;
        match quay.client.delete_proxy_cache(&self.organization).await {
            Err(e) if e.is_not_found() => {}
            other => other?,
        }
        self.create_config(quay).await.map_err(|e| match e.is_transient() {
            true => e.into(),
            false => EngineError::Rejected(format!(
                "deleted the old proxy cache of organization {} to replace it, but creating the \
                 new one failed (the next reconcile creates it): {}",
                self.organization, e.message
            )),
        })
    }

    /// Removes only the configuration; the organization and its cached
    /// repositories stay.
    async fn delete(&self, quay: &Quay, _live: &LiveProxyCache) -> Result<(), EngineError> {
        Ok(quay.client.delete_proxy_cache(&self.organization).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(credentials: Option<&str>, sent: Option<&str>) -> DesiredProxyCache {
        DesiredProxyCache {
            organization: "cache".into(),
            upstream_registry: "quay.io".into(),
            expiration_s: 86400,
            insecure: false,
            credentials: credentials.map(|v| RegistryCredentials {
                username: "puller".into(),
                password: "pw-s3cret".into(),
                version: v.into(),
            }),
            credentials_sent: sent.map(str::to_owned),
        }
    }

    #[test]
    fn credentials_differ_only_through_the_secret_version() {
        let live = desired(None, None).as_live();
        assert!(desired(None, None).diff(&live).is_empty());
        assert!(desired(Some("u/1"), Some("u/1")).diff(&live).is_empty());
        let rotated = desired(Some("u/2"), Some("u/1"));
        let changes = rotated.diff(&live);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "credentials");
        assert!(!format!("{changes:?}{rotated:?}").contains("pw-s3cret"));
        let dropped = desired(None, Some("u/1")).diff(&live);
        assert_eq!(dropped[0].desired, "none (anonymous)");
    }

    #[test]
    fn every_field_quay_shows_is_compared() {
        let mut live = desired(None, None).as_live();
        live.config.upstream_registry = "docker.io/library".into();
        live.config.expiration_s = 3600;
        live.config.insecure = true;
        let fields: Vec<_> = desired(None, None)
            .diff(&live)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            ["upstreamRegistry", "expirationSeconds", "insecure"]
        );
    }
}
