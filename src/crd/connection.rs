//! `QuayConnection`: how to reach one Quay registry and which token to use.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{CaKeyRef, TokenSecretRef, conditions_schema};

fn default_timeout_seconds() -> i32 {
    30
}

/// Desired state of a QuayConnection: the Quay API endpoint and the credentials
/// used by every resource that references this connection.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayConnection",
    namespaced,
    status = "QuayConnectionStatus",
    shortname = "qconn",
    category = "quay",
    doc = "QuayConnection tells the operator how to reach a Red Hat Quay registry and which API \
           token to use. Other quayconfig.io resources in the same namespace reference it through \
           `spec.connectionRef`; those without one use the QuayConnection named `default`.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "User", type_ = "string", json_path = ".status.user")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayConnectionSpec {
    /// Base URL of the Quay registry, for example `https://quay.example.com`.
    /// The API is reached under `<url>/api/v1`. Must start with `http://` or `https://`.
    #[x_kube(validation = Rule::new("self.matches('^https?://[^/?#@\\\\s]+(/[^?#\\\\s]*)?$')")
        .message("url must be http:// or https:// followed by a host and an optional path, \
                  without credentials, query or spaces"))]
    #[schemars(length(min = 8, max = 2048))]
    pub url: String,

    /// Secret in the same namespace holding the Quay API token (an OAuth access token
    /// of a Quay application, sent as `Authorization: Bearer <token>`).
    pub token_secret_ref: TokenSecretRef,

    /// CA certificates to trust when connecting to Quay over https, in addition to
    /// the system roots. Set exactly one of `secretRef` or `configMapRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<CaBundle>,

    /// Skip verification of Quay's TLS certificate. Insecure; for testing only.
    #[serde(default, rename = "insecureSkipTLSVerify")]
    pub insecure_skip_tls_verify: bool,

    /// Timeout for each request to the Quay API, in seconds (1-300).
    #[serde(default = "default_timeout_seconds")]
    #[schemars(range(min = 1, max = 300))]
    pub timeout_seconds: i32,
}

impl QuayConnectionSpec {
    /// Registry host (`host[:port]`) taken from `url`: the prefix of image pull specs.
    /// `None` when the url has no http(s) scheme or no host.
    pub fn registry_host(&self) -> Option<String> {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        (!host.is_empty()).then(|| host.to_ascii_lowercase())
    }
}

/// Where to find the CA certificates for Quay's TLS certificate. Exactly one of
/// `secretRef` or `configMapRef` must be set.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.secretRef) != has(self.configMapRef)")
    .message("exactly one of secretRef or configMapRef must be set"))]
#[serde(rename_all = "camelCase")]
pub struct CaBundle {
    /// Secret in the same namespace holding the CA certificates (key defaults to `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<CaKeyRef>,
    /// ConfigMap in the same namespace holding the CA certificates (key defaults to `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<CaKeyRef>,
}

/// Observed state of a QuayConnection.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayConnectionStatus {
    /// Current state of the connection. `Ready` is True when Quay answered and
    /// accepted the token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Quay user the token belongs to, pinned at the first check: a token
    /// of another user is refused (`IdentityChanged`) until the annotation
    /// `quayconfig.io/confirm-user` names the new user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub user: Option<String>,
    /// Whether that user is a Quay superuser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub super_user: Option<bool>,
    /// Registry host (`host[:port]` from `spec.url`) used in image pull specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub registry_host: Option<String>,
    /// The token Secret that carries the finalizer `quayconfig.io/connection-token`,
    /// kept until the connection is deleted so that its resources can still
    /// clean up in Quay while their namespace is being deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub token_secret: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::common::CaKeyRef;
    use crate::crd::tests::{cel, printer_column_paths, schema_at};
    use serde_json::json;

    fn spec(url: &str) -> QuayConnectionSpec {
        QuayConnectionSpec {
            url: url.into(),
            token_secret_ref: TokenSecretRef::new("quay-token"),
            ca_bundle: None,
            insecure_skip_tls_verify: false,
            timeout_seconds: 30,
        }
    }

    #[test]
    fn minimal_spec_gets_defaults() {
        let parsed: QuayConnectionSpec = serde_json::from_value(json!({
            "url": "https://quay.example.com",
            "tokenSecretRef": {"name": "quay-token"}
        }))
        .unwrap();
        assert_eq!(parsed, spec("https://quay.example.com"));
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            json!({
                "url": "https://quay.example.com",
                "tokenSecretRef": {"name": "quay-token", "key": "token"},
                "insecureSkipTLSVerify": false,
                "timeoutSeconds": 30
            })
        );
    }

    #[test]
    fn crd_names_columns_and_rules() {
        let crd = crate::crd::definition::<QuayConnection>();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("quayconnections.quayconfig.io")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["qconn".into()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["quay".into()]));
        assert!(
            printer_column_paths(&crd)
                .contains(&r#".status.conditions[?(@.type=="Ready")].status"#.to_owned())
        );

        let url = schema_at(&crd, &["spec", "url"]);
        assert!(
            url["x-kubernetes-validations"][0]["rule"]
                .as_str()
                .unwrap()
                .contains("self.matches('^https?://")
        );
        let timeout = schema_at(&crd, &["spec", "timeoutSeconds"]);
        assert_eq!(
            (timeout["minimum"].as_f64(), timeout["maximum"].as_f64()),
            (Some(1.0), Some(300.0))
        );
        assert_eq!(timeout["default"], 30);
        let ca = schema_at(&crd, &["spec", "caBundle"]);
        assert_eq!(
            ca["x-kubernetes-validations"][0]["rule"],
            "has(self.secretRef) != has(self.configMapRef)"
        );
        let conditions = schema_at(&crd, &["status", "conditions"]);
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
        assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
    }

    #[test]
    fn cel_rules_check_url_scheme_and_single_ca_source() {
        let conn = |spec| QuayConnection::new("default", spec);
        assert_eq!(cel(&conn(spec("https://quay.example.com")), None), Ok(()));
        assert_eq!(cel(&conn(spec("http://localhost:8080")), None), Ok(()));
        for bad in [
            "quay.example.com",
            "https://user:pass@quay.example.com",
            "https://quay.example.com/?token=x",
            "ftp://quay.example.com",
            "https://quay example.com",
        ] {
            let err = cel(&conn(spec(bad)), None).unwrap_err();
            assert!(
                err.contains("url must be http:// or https://"),
                "{bad}: {err}"
            );
        }

        let with_ca = |secret: bool, config_map: bool| {
            let mut s = spec("https://quay.example.com");
            s.ca_bundle = Some(CaBundle {
                secret_ref: secret.then(|| CaKeyRef::new("ca")),
                config_map_ref: config_map.then(|| CaKeyRef::new("ca")),
            });
            conn(s)
        };
        assert_eq!(cel(&with_ca(true, false), None), Ok(()));
        assert_eq!(cel(&with_ca(false, true), None), Ok(()));
        for both_or_none in [with_ca(true, true), with_ca(false, false)] {
            let err = cel(&both_or_none, None).unwrap_err();
            assert!(
                err.contains("exactly one of secretRef or configMapRef"),
                "{err}"
            );
        }
    }

    #[test]
    fn registry_host_is_host_and_port_of_url() {
        assert_eq!(
            spec("https://Quay.Example.com/").registry_host().as_deref(),
            Some("quay.example.com")
        );
        assert_eq!(
            spec("http://localhost:8080/api").registry_host().as_deref(),
            Some("localhost:8080")
        );
        assert_eq!(spec("ftp://x").registry_host(), None);
        assert_eq!(spec("https://").registry_host(), None);
    }
}
