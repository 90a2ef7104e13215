//! `ClusterQuayConnection`: a cluster-scoped connection to one Quay, shared by
//! the namespaces its tenancy rules admit, each limited to the Quay
//! organizations the rules grant it.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::connection::{QuayConnectionSpec, QuayConnectionStatus};

/// Desired state of a ClusterQuayConnection: the Quay endpoint (its Secrets and
/// ConfigMaps live in the operator's namespace) and who may use it for what.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "ClusterQuayConnection",
    status = "QuayConnectionStatus",
    shortname = "cqconn",
    category = "quay",
    doc = "ClusterQuayConnection tells the operator how to reach a Red Hat Quay registry, with a \
           token Secret in the operator's namespace, and which namespaces may use it for which \
           Quay organizations. A namespaced resource uses it with `spec.connectionRef: {kind: \
           ClusterQuayConnection, name: ...}`; a namespace no rule admits gets Ready=False, \
           reason NotPermitted, and nothing is sent to Quay.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "User", type_ = "string", json_path = ".status.user")
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterQuayConnectionSpec {
    /// The Quay endpoint and credentials (`tokenSecretRef` and `caBundle` name
    /// objects in the operator's namespace).
    #[serde(flatten)]
    pub endpoint: QuayConnectionSpec,

    /// Tenancy rules: a namespace may use this connection when at least one rule
    /// admits it (by name or by labels), for the Quay organizations the rules that
    /// admit it grant. No rule: no namespace may use it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub tenants: Vec<TenantRule>,
}

/// One tenancy rule: which namespaces, which Quay organizations.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.namespaces) || has(self.namespaceSelector)")
    .message("a tenant rule names namespaces, selects them by labels, or both"))]
#[serde(rename_all = "camelCase")]
pub struct TenantRule {
    /// Namespaces admitted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 256),
        inner(
            length(min = 1, max = 63),
            regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        )
    )]
    pub namespaces: Vec<String>,

    /// Namespaces admitted by their labels: all `matchLabels` must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<NamespaceSelector>,

    /// Quay organizations (or user namespaces) the admitted namespaces may manage
    /// objects in: names, or patterns where `*` stands for any characters and
    /// `{namespace}` for the Kubernetes namespace's name (e.g. `{namespace}`,
    /// `team-*`).
    #[schemars(
        length(min = 1, max = 64),
        inner(length(min = 1, max = 255), regex(pattern = r"^[a-z0-9._*{}-]+$"))
    )]
    pub organizations: Vec<String>,

    /// Whether the admitted namespaces may declare QuayOrganization resources for
    /// these organizations: create them when missing, change their settings and,
    /// with `deletionPolicy: Delete`, delete them. Without it they manage only
    /// what is inside organizations that exist.
    #[serde(default)]
    pub create_organizations: bool,
}

/// A label selector over namespaces (equality only).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Labels a namespace must all carry, with these values.
    #[serde(default)]
    #[schemars(schema_with = "match_labels_schema")]
    pub match_labels: BTreeMap<String, String>,
}

/// Schema of `matchLabels`: at most 16 labels, values of at most 63 characters.
fn match_labels_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 16,
        "additionalProperties": {"type": "string", "maxLength": 63}
    })
}

impl NamespaceSelector {
    /// Whether a namespace with `labels` is selected (an empty selector selects none).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.match_labels.is_empty()
            && self
                .match_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::TokenSecretRef;
    use crate::crd::tests::{cel, schema_at};
    use serde_json::json;

    fn connection(tenants: Vec<TenantRule>) -> ClusterQuayConnection {
        ClusterQuayConnection::new(
            "shared",
            ClusterQuayConnectionSpec {
                endpoint: QuayConnectionSpec {
                    url: "https://quay.example.com".into(),
                    token_secret_ref: TokenSecretRef::new("quay-token"),
                    ca_bundle: None,
                    insecure_skip_tls_verify: false,
                    timeout_seconds: 30,
                },
                tenants,
            },
        )
    }

    #[test]
    fn cluster_scoped_with_flattened_endpoint_and_bounded_rules() {
        let crd = crate::crd::definition::<ClusterQuayConnection>();
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(crd.spec.names.short_names, Some(vec!["cqconn".into()]));
        let url = schema_at(&crd, &["spec", "url"]);
        assert!(url["x-kubernetes-validations"][0]["rule"].is_string());
        let tenants = schema_at(&crd, &["spec", "tenants"]);
        assert_eq!(tenants["maxItems"], 64);
        let labels = schema_at(
            &crd,
            &[
                "spec",
                "tenants",
                "items",
                "namespaceSelector",
                "matchLabels",
            ],
        );
        assert_eq!(labels["maxProperties"], 16);
    }

    #[test]
    fn a_rule_must_say_which_namespaces() {
        let rule = |namespaces: Vec<String>, selector: Option<NamespaceSelector>| TenantRule {
            namespaces,
            namespace_selector: selector,
            organizations: vec!["{namespace}".into()],
            create_organizations: false,
        };
        assert_eq!(
            cel(&connection(vec![rule(vec!["team-a".into()], None)]), None),
            Ok(())
        );
        let selector = NamespaceSelector {
            match_labels: [("tenant".to_owned(), "yes".to_owned())].into(),
        };
        assert_eq!(
            cel(&connection(vec![rule(vec![], Some(selector))]), None),
            Ok(())
        );
        let err = cel(&connection(vec![rule(vec![], None)]), None).unwrap_err();
        assert!(
            err.contains("names namespaces, selects them by labels"),
            "{err}"
        );
    }

    #[test]
    fn selector_matches_all_labels_and_empty_selects_nothing() {
        let labels: BTreeMap<String, String> =
            serde_json::from_value(json!({"tenant": "yes", "tier": "gold"})).unwrap();
        let select = |l: serde_json::Value| NamespaceSelector {
            match_labels: serde_json::from_value(l).unwrap(),
        };
        assert!(select(json!({"tenant": "yes"})).matches(&labels));
        assert!(!select(json!({"tenant": "yes", "tier": "silver"})).matches(&labels));
        assert!(!select(json!({})).matches(&labels));
    }
}
