//! `QuayProxyCache`: the proxy-cache (pull-through cache) configuration of a
//! Quay organization.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};
use super::mirror::CredentialsSecretRef;
use super::reference::OrganizationTarget;

/// Quay's default expiration of cached tags: one day.
fn default_expiration() -> i64 {
    crate::quay::api::proxycache::DEFAULT_EXPIRATION_S
}

/// Desired proxy-cache configuration of an organization.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayProxyCache",
    namespaced,
    status = "QuayProxyCacheStatus",
    shortname = "qproxy",
    category = "quay",
    doc = "QuayProxyCache makes a Quay organization a pull-through cache of an upstream \
           registry. Quay cannot change a proxy-cache configuration: every change is made by \
           validating the new configuration with Quay first, then deleting the old one and \
           creating the new one. Between the two calls (well under a second) pulls of images \
           not cached yet fail; cached repositories and tags stay, and tags cached before the \
           change keep the expiration they were cached with. On deletion (policy Delete) only \
           the configuration is removed, never the organization or its cached repositories.",
    validation = OrganizationTarget::one_of(),
    validation = OrganizationTarget::immutable(),
    printcolumn(name = "Organization", type_ = "string", json_path = ".status.organization"),
    printcolumn(name = "Upstream", type_ = "string", json_path = ".spec.upstreamRegistry"),
    printcolumn(name = "Expiration", type_ = "integer", json_path = ".spec.expirationSeconds", priority = 1)
)]
#[serde(rename_all = "camelCase")]
pub struct QuayProxyCacheSpec {
    /// The organization: `organization` or `organizationRef`.
    #[serde(flatten)]
    pub target: OrganizationTarget,

    /// The registry to cache, `host[:port]` optionally followed by a namespace:
    /// `quay.io`, `docker.io/library`, `registry.example.com:5000/team` (no scheme).
    /// Quay refuses private and loopback addresses and names it cannot resolve.
    #[x_kube(validation = Rule::new(
        "self.matches('^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$')"
    )
    .message("upstreamRegistry must be host[:port] optionally followed by /namespace, e.g. quay.io \
              or docker.io/library, without scheme"))]
    #[schemars(length(min = 1, max = 1024))]
    pub upstream_registry: String,

    /// Secret with the upstream's user name and password (anonymous pulls when
    /// unset). Quay never shows the credentials, so the operator records which
    /// Secret version (and a digest of its content keyed by the connection's
    /// token) it last sent and makes a change only when the content changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,

    /// Seconds a cached tag lives before Quay asks the upstream again (default
    /// 86400, Quay's default). Applies to tags cached after the change.
    #[serde(default = "default_expiration")]
    #[schemars(range(min = 60, max = 2147483647))]
    pub expiration_seconds: i64,

    /// Reach the upstream over plain HTTP or without verifying its TLS certificate.
    #[serde(default)]
    pub insecure: bool,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// Observed state of a QuayProxyCache.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayProxyCacheStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// The Quay organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub organization: Option<String>,
    /// The upstream registry Quay holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub upstream_registry: Option<String>,
    /// The expiration Quay holds, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_seconds: Option<i64>,
    /// The insecure flag Quay holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Version (`uid/resourceVersion;keys#digest`: the digest of its content is
    /// keyed by the connection's token) of the credentials Secret the
    /// configuration was last written from; unset when it was written without
    /// credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub credentials_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::{cel, schema_at};
    use serde_json::json;

    fn cache(spec: serde_json::Value) -> QuayProxyCache {
        QuayProxyCache::new("p", serde_json::from_value(spec).unwrap())
    }

    #[test]
    fn defaults_and_rules() {
        let ok = cache(json!({"organization": "acme", "upstreamRegistry": "docker.io/library"}));
        assert_eq!(
            (ok.spec.expiration_seconds, ok.spec.insecure),
            (86400, false)
        );
        assert_eq!(cel(&ok, None), Ok(()));
        let both = cache(
            json!({"organization": "acme", "organizationRef": {"name": "acme"},
            "upstreamRegistry": "quay.io"}),
        );
        assert!(cel(&both, None).unwrap_err().contains("exactly one"));
        let moved = cache(json!({"organization": "other", "upstreamRegistry": "quay.io"}));
        assert!(cel(&moved, Some(&ok)).unwrap_err().contains("immutable"));
        for good in [
            "quay.io",
            "registry.example.com:5000/team/sub",
            "10.0.0.1:5000",
        ] {
            let c = cache(json!({"organization": "acme", "upstreamRegistry": good}));
            assert_eq!(cel(&c, None), Ok(()), "{good}");
        }
        for bad in [
            "https://quay.io",
            "quay.io/",
            "quay.io/Library",
            "-bad.io",
            "quay.io:port",
        ] {
            let c = cache(json!({"organization": "acme", "upstreamRegistry": bad}));
            assert!(
                cel(&c, None).unwrap_err().contains("upstreamRegistry"),
                "{bad}"
            );
        }
        let crd = crate::crd::definition::<QuayProxyCache>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["qproxy".into()]));
        let expiration = schema_at(&crd, &["spec", "expirationSeconds"]);
        assert_eq!(expiration["minimum"].as_f64(), Some(60.0));
        assert_eq!(expiration["default"], 86400);
    }
}
