//! The proxy-cache configuration of an organization
//! (`/organization/{org}/proxycache`). Quay has no update: a change is a
//! DELETE followed by a POST. `validateproxycache` checks a configuration
//! (upstream reachable, credentials accepted) without storing it.

use serde::{Deserialize, Deserializer, Serialize};

use crate::quay::client::{Call, QuayClient};
use crate::quay::error::QuayError;

/// Quay's default expiration of cached tags, in seconds (one day).
pub const DEFAULT_EXPIRATION_S: i64 = 86400;

/// A proxy-cache configuration as Quay shows it. Quay never returns the
/// upstream credentials (neither user name nor password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyCache {
    /// The upstream registry, e.g. `quay.io` or `docker.io/library`.
    pub upstream_registry: String,
    /// Seconds a cached tag lives before Quay checks the upstream again.
    pub expiration_s: i64,
    /// Whether the upstream is reached over plain HTTP / without TLS checks.
    pub insecure: bool,
}

/// Quay's GET answer: the configuration, or empty strings in every field
/// when there is none (also for an organization that does not exist).
#[derive(Deserialize)]
struct View {
    #[serde(default)]
    upstream_registry: String,
    #[serde(default, deserialize_with = "int_or_empty")]
    expiration_s: Option<i64>,
    #[serde(default, deserialize_with = "bool_or_empty")]
    insecure: Option<bool>,
}

fn int_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid expiration_s {n}"))),
        serde_json::Value::String(s) if s.is_empty() => Ok(None),
        serde_json::Value::Null => Ok(None),
        other => Err(serde::de::Error::custom(format!(
            "invalid expiration_s {other}"
        ))),
    }
}

fn bool_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(Some(b)),
        serde_json::Value::String(s) if s.is_empty() => Ok(None),
        serde_json::Value::Null => Ok(None),
        other => Err(serde::de::Error::custom(format!(
            "invalid insecure {other}"
        ))),
    }
}

/// A configuration to create or validate. `Debug` never shows the password.
#[derive(Clone, Default, Serialize, PartialEq, Eq)]
pub struct NewProxyCache {
    /// The upstream registry, `host[:port][/namespace]`.
    pub upstream_registry: String,
    /// User name at the upstream; anonymous when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_registry_username: Option<String>,
    /// Password at the upstream (never logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_registry_password: Option<String>,
    /// Seconds a cached tag lives.
    pub expiration_s: i64,
    /// Plain HTTP / no TLS verification towards the upstream.
    pub insecure: bool,
}

impl std::fmt::Debug for NewProxyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewProxyCache")
            .field("upstream_registry", &self.upstream_registry)
            .field(
                "upstream_registry_username",
                &self.upstream_registry_username,
            )
            .field("password_sent", &self.upstream_registry_password.is_some())
            .field("expiration_s", &self.expiration_s)
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl QuayClient {
    /// The organization's proxy-cache configuration, `None` when it has none.
    /// Quay answers the same empty configuration for an organization that does
    /// not exist (with a full-access superuser token), so this says nothing
    /// about the organization itself.
    pub async fn get_proxy_cache(&self, org: &str) -> Result<Option<ProxyCache>, QuayError> {
        let view: View = self
            .get_json(Call::get(format!("/organization/{org}/proxycache")))
            .await?;
        if view.upstream_registry.is_empty() {
            return Ok(None);
        }
        Ok(Some(ProxyCache {
            upstream_registry: view.upstream_registry,
            expiration_s: view.expiration_s.unwrap_or(DEFAULT_EXPIRATION_S),
            insecure: view.insecure.unwrap_or(false),
        }))
    }

    /// Creates the configuration (Quay answers 201 `"Created"`; 400 "Proxy Cache
    /// Configuration already exists" when there is one).
    pub async fn create_proxy_cache(
        &self,
        org: &str,
        config: &NewProxyCache,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!("/organization/{org}/proxycache"))
            .json(config)
            .secret(config.upstream_registry_password.as_deref());
        self.execute(call).await
    }

    /// Deletes the configuration (404 when there is none). Cached repositories
    /// and tags stay in the organization.
    pub async fn delete_proxy_cache(&self, org: &str) -> Result<(), QuayError> {
        self.execute(Call::delete(format!("/organization/{org}/proxycache")))
            .await
    }

    /// Asks Quay to check a configuration against the upstream without storing
    /// it: Quay resolves the host, refuses private and loopback addresses, and
    /// logs in with the credentials. Ok when Quay answers 202 (`"Valid"`, or
    /// `"Anonymous"` when the upstream allows anonymous pulls); a 400 carries
    /// Quay's reason.
    pub async fn validate_proxy_cache(
        &self,
        org: &str,
        config: &NewProxyCache,
    ) -> Result<(), QuayError> {
        let call = Call::post(format!("/organization/{org}/validateproxycache"))
            .json(config)
            .secret(config.upstream_registry_password.as_deref());
        self.execute(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_strings_mean_no_configuration() {
        let none: View = serde_json::from_value(
            serde_json::json!({"upstream_registry": "", "expiration_s": "", "insecure": ""}),
        )
        .unwrap();
        assert!(none.upstream_registry.is_empty());
        assert_eq!((none.expiration_s, none.insecure), (None, None));
        let some: View = serde_json::from_value(serde_json::json!(
            {"upstream_registry": "quay.io", "expiration_s": 3600, "insecure": true}
        ))
        .unwrap();
        assert_eq!((some.expiration_s, some.insecure), (Some(3600), Some(true)));
    }

    #[test]
    fn debug_hides_the_password() {
        let config = NewProxyCache {
            upstream_registry: "quay.io".into(),
            upstream_registry_username: Some("puller".into()),
            upstream_registry_password: Some("s3cret-pw".into()),
            expiration_s: DEFAULT_EXPIRATION_S,
            insecure: false,
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-pw") && shown.contains("password_sent: true"));
    }
}
