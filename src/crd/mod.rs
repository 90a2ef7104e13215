//! Custom resource definitions (group `quayconfig.io`, version `v1alpha1`).
//!
//! One module per kind; [`common`] holds what they share (connection and secret
//! references, policies, the condition vocabulary). All kinds but the
//! [`ClusterQuayConnection`] and the [`QuayGlobalMessage`] are namespaced; all have a `status` subresource and
//! belong to the `quay` category (`kubectl get quay`). The managed kinds reference a
//! [`QuayConnection`] or a ClusterQuayConnection through `spec.connectionRef`; when
//! that is unset the QuayConnection named `default` in the same namespace is used
//! (a QuayGlobalMessage must name a ClusterQuayConnection).
//!
//! The YAML in `crds/` at the repository root is generated from these types
//! (`quay-config-operator crd`, or `UPDATE_CRDS=1 cargo test crds_in_sync`) and a test
//! keeps it in sync.

pub mod access;
pub mod cluster_connection;
pub mod common;
pub mod connection;
pub mod global_message;
pub mod mirror;
pub mod notification;
pub mod oauth_application;
pub mod organization;
pub mod proxy_cache;
pub mod quota;
pub mod reference;
pub mod repository;
pub mod robot;
pub mod schema;
pub mod team;
pub mod user_namespace;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use access::{
    AutoPrunePolicySpec, DefaultPermission, Delegate, GranteeKind, RepositoryPermission, Role,
};
pub use cluster_connection::{
    ClusterQuayConnection, ClusterQuayConnectionSpec, NamespaceSelector, TenantRule,
};
pub use common::{
    CaKeyRef, ConnectionKind, ConnectionRef, DEFAULT_CONNECTION_NAME, DeletionPolicy,
    ManagedStatus, Management, ManagementPolicy, Origin, TokenSecretRef,
};
pub use connection::{CaBundle, QuayConnection, QuayConnectionSpec, QuayConnectionStatus};
pub use global_message::{QuayGlobalMessage, QuayGlobalMessageSpec, QuayGlobalMessageStatus};
pub use mirror::{QuayMirrorConfig, QuayMirrorConfigSpec, QuayMirrorConfigStatus};
pub use notification::{QuayNotification, QuayNotificationSpec, QuayNotificationStatus};
pub use oauth_application::{
    QuayOAuthApplication, QuayOAuthApplicationSpec, QuayOAuthApplicationStatus,
};
pub use organization::{QuayOrganization, QuayOrganizationSpec, QuayOrganizationStatus};
pub use proxy_cache::{QuayProxyCache, QuayProxyCacheSpec, QuayProxyCacheStatus};
pub use quota::{QuayQuota, QuayQuotaSpec, QuayQuotaStatus};
pub use reference::{LocalRef, SecretKeyRef};
pub use repository::{
    QuayRepository, QuayRepositorySpec, QuayRepositoryStatus, RepoKind, RepositoryState, Visibility,
};
pub use robot::{
    QuayRobotAccount, QuayRobotAccountSpec, QuayRobotAccountStatus, ROTATE_ANNOTATION,
};
pub use team::{MemberKind, QuayTeam, QuayTeamSpec, QuayTeamStatus, TeamMember, TeamRole};
pub use user_namespace::{QuayUserNamespace, QuayUserNamespaceSpec, QuayUserNamespaceStatus};

/// The API group of every kind.
pub const GROUP: &str = "quayconfig.io";

/// The CustomResourceDefinition of kind `K` as it is installed: generated, then
/// finished by [`schema::finish`].
pub fn definition<K: CustomResourceExt>() -> CustomResourceDefinition {
    schema::finish(K::crd())
}

/// Every CustomResourceDefinition of the operator, in a fixed order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        definition::<QuayConnection>(),
        definition::<ClusterQuayConnection>(),
        definition::<QuayOrganization>(),
        definition::<QuayRepository>(),
        definition::<QuayRobotAccount>(),
        definition::<QuayTeam>(),
        definition::<QuayNotification>(),
        definition::<QuayMirrorConfig>(),
        definition::<QuayQuota>(),
        definition::<QuayGlobalMessage>(),
        definition::<QuayOAuthApplication>(),
        definition::<QuayUserNamespace>(),
        definition::<QuayProxyCache>(),
    ]
}

/// Render CRDs as multi-document YAML (documents separated by `---`), in the given order.
pub fn to_yaml(crds: &[CustomResourceDefinition]) -> String {
    crds.iter()
        .map(|crd| {
            serde_norway::to_string(crd).expect("a CustomResourceDefinition serializes to YAML")
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// File name of a CRD in `crds/`: `<group>_<plural>.yaml`, e.g. `quayconfig.io_quayrepositories.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    /// The JSON schema at `path` below the root of the (only) version's schema.
    pub(crate) fn schema_at(crd: &CustomResourceDefinition, path: &[&str]) -> Value {
        let mut schema = root_schema(crd);
        for segment in path {
            schema = match *segment {
                "items" => schema["items"].take(),
                _ => schema["properties"][segment].take(),
            };
            assert!(!schema.is_null(), "no schema at {path:?}");
        }
        schema
    }

    /// The CEL rules on the root of the schema.
    pub(crate) fn root_rules(crd: &CustomResourceDefinition) -> Vec<Value> {
        match root_schema(crd)["x-kubernetes-validations"].take() {
            Value::Array(rules) => rules,
            _ => Vec::new(),
        }
    }

    /// The `jsonPath` of every printer column.
    pub(crate) fn printer_column_paths(crd: &CustomResourceDefinition) -> Vec<String> {
        crd.spec.versions[0]
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.json_path.clone())
            .collect()
    }

    /// Run the CRD's CEL rules (`x-kubernetes-validations`) client-side, as the apiserver
    /// would on an update from `old` to `new` (or on creation when `old` is `None`).
    pub(crate) fn cel<K>(new: &K, old: Option<&K>) -> Result<(), String>
    where
        K: CustomResourceExt + serde::Serialize,
    {
        let schema = root_schema(&definition::<K>());
        let new = serde_json::to_value(new).unwrap();
        let old = old.map(|o| serde_json::to_value(o).unwrap());
        kube::core::cel::Validator::new()
            .validate(&schema, &new, old.as_ref())
            .map_err(|errors| errors.to_string())
    }

    pub(crate) fn root_schema(crd: &CustomResourceDefinition) -> Value {
        let schema = crd.spec.versions[0].schema.as_ref().unwrap();
        serde_json::to_value(schema.open_api_v3_schema.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn every_crd_has_its_scope_a_status_and_the_quay_category() {
        let crds = all_crds();
        let names: Vec<_> = crds.iter().map(file_name).collect();
        assert_eq!(
            names,
            [
                "quayconfig.io_quayconnections.yaml",
                "quayconfig.io_clusterquayconnections.yaml",
                "quayconfig.io_quayorganizations.yaml",
                "quayconfig.io_quayrepositories.yaml",
                "quayconfig.io_quayrobotaccounts.yaml",
                "quayconfig.io_quayteams.yaml",
                "quayconfig.io_quaynotifications.yaml",
                "quayconfig.io_quaymirrorconfigs.yaml",
                "quayconfig.io_quayquotas.yaml",
                "quayconfig.io_quayglobalmessages.yaml",
                "quayconfig.io_quayoauthapplications.yaml",
                "quayconfig.io_quayusernamespaces.yaml",
                "quayconfig.io_quayproxycaches.yaml",
            ]
        );
        for crd in &crds {
            assert_eq!(crd.spec.group, GROUP);
            let cluster = ["ClusterQuayConnection", "QuayGlobalMessage"]
                .contains(&crd.spec.names.kind.as_str());
            let scope = if cluster { "Cluster" } else { "Namespaced" };
            assert_eq!(crd.spec.scope, scope);
            assert_eq!(crd.spec.names.categories, Some(vec!["quay".to_owned()]));
            let version = &crd.spec.versions[0];
            assert_eq!(version.name, "v1alpha1");
            assert!(version.subresources.as_ref().unwrap().status.is_some());
            let columns: Vec<_> = version
                .additional_printer_columns
                .iter()
                .flatten()
                .map(|c| (c.name.as_str(), c.priority.unwrap_or(0)))
                .collect();
            for expected in [("Ready", 0), ("Reason", 1), ("Message", 1), ("Age", 0)] {
                assert!(
                    columns.contains(&expected),
                    "{:?} lacks {expected:?}",
                    crd.metadata.name
                );
            }
            let conditions = schema_at(crd, &["status", "conditions"]);
            assert_eq!(conditions["x-kubernetes-list-type"], "map");
        }
    }

    #[test]
    fn yaml_separates_documents_and_is_parseable() {
        let crds = all_crds();
        let yaml = to_yaml(&crds);
        assert_eq!(yaml.matches("\n---\n").count(), crds.len() - 1);
        for doc in yaml.split("---\n") {
            let back: CustomResourceDefinition = serde_norway::from_str(doc).unwrap();
            assert_eq!(back.spec.group, GROUP);
        }
    }
}

/// Values with a syntax are refused by the CRDs' CEL rules, with a message that
/// names the field and shows a valid value.
#[cfg(test)]
mod syntax_tests {
    use super::tests::cel;
    use super::*;
    use serde_json::{Value, json};

    fn object<K: serde::de::DeserializeOwned>(kind: &str, spec: Value) -> K {
        serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": kind,
            "metadata": {"name": "x"}, "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn quota_limits_are_positive_byte_quantities() {
        let quota = |limit: &str| {
            object::<QuayQuota>("QuayQuota", json!({"organization": "acme", "limit": limit}))
        };
        for good in ["10Gi", "500Mi", "1T", "1.5G", "1e9", "1073741824", ".5Gi"] {
            assert_eq!(cel(&quota(good), None), Ok(()), "{good}");
        }
        for bad in [
            "10Gx", "10 Gi", "-1Gi", "0", "0Gi", "1500m", "Gi", "10gi", "1.2.3",
        ] {
            let err = cel(&quota(bad), None).unwrap_err();
            assert!(
                err.contains("limit must be a positive quantity of bytes"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn auto_prune_policies_take_a_count_or_an_age() {
        let repo = |policy: Value| {
            object::<QuayRepository>(
                "QuayRepository",
                json!({"namespace": "acme", "autoPrunePolicies": [policy]}),
            )
        };
        for good in [
            json!({"numberOfTags": 10}),
            json!({"creationDate": "2w", "tagPattern": "^pr-"}),
        ] {
            assert_eq!(cel(&repo(good.clone()), None), Ok(()), "{good}");
        }
        for bad in [json!({}), json!({"numberOfTags": 10, "creationDate": "7d"})] {
            let err = cel(&repo(bad.clone()), None).unwrap_err();
            assert!(
                err.contains("exactly one of numberOfTags and creationDate"),
                "{bad}: {err}"
            );
        }
        for bad in ["7 days", "7", "7y", "d"] {
            let err = cel(&repo(json!({"creationDate": bad})), None).unwrap_err();
            assert!(
                err.contains("creationDate must be a whole number and one unit"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn mirror_durations_dates_and_sources_are_checked() {
        let mirror = |change: Value| {
            let mut spec = json!({"repository": "acme/app", "externalReference": "quay.io/prometheus/busybox",
                "syncInterval": "6h", "robotUsername": "acme+mirror", "rootRule": ["latest"]});
            spec.as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            object::<QuayMirrorConfig>("QuayMirrorConfig", spec)
        };
        assert_eq!(cel(&mirror(json!({})), None), Ok(()));
        for (change, message) in [
            (json!({"syncInterval": "1h30m"}), None),
            (
                json!({"syncInterval": "6 hours"}),
                Some("syncInterval must be a positive duration"),
            ),
            (
                json!({"syncInterval": "0s"}),
                Some("syncInterval must be a positive duration"),
            ),
            (json!({"syncStartDate": "2026-01-01T00:00:00Z"}), None),
            (json!({"syncStartDate": "2026-01-01T02:00:00+02:00"}), None),
            (
                json!({"syncStartDate": "2026-01-01"}),
                Some("syncStartDate must be an RFC 3339"),
            ),
            (
                json!({"externalReference": "registry.example.com:5000/team/app"}),
                None,
            ),
            (
                json!({"externalReference": "https://quay.io/prometheus/busybox"}),
                Some("externalReference must be host[:port]/path"),
            ),
            (
                json!({"externalReference": "quay.io/prometheus/busybox:latest"}),
                Some("externalReference must be host[:port]/path"),
            ),
            (
                json!({"externalRegistryConfig": {"proxy": {"httpsProxy": "proxy:3128"}}}),
                Some("proxy URLs must start with http://"),
            ),
        ] {
            match (cel(&mirror(change.clone()), None), message) {
                (Ok(()), None) => {}
                (Err(err), Some(message)) => assert!(err.contains(message), "{change}: {err}"),
                (result, _) => panic!("{change}: {result:?}"),
            }
        }
    }

    #[test]
    fn notification_urls_are_declared_and_checked() {
        let notification = |config: Value, secret: bool| {
            let mut spec = json!({"repository": "acme/app", "event": "repo_push", "method": "webhook",
                "config": config});
            if secret {
                spec["urlSecretRef"] = json!({"name": "hook", "key": "url"});
            }
            object::<QuayNotification>("QuayNotification", spec)
        };
        assert_eq!(
            cel(
                &notification(json!({"url": "https://hooks.example.com/x?y=1"}), false),
                None
            ),
            Ok(())
        );
        let err = cel(
            &notification(json!({"url": "hooks.example.com"}), false),
            None,
        )
        .unwrap_err();
        assert!(
            err.contains("config.url must be an http:// or https:// URL"),
            "{err}"
        );
        let err = cel(
            &notification(json!({"url": "https://hooks.example.com"}), true),
            None,
        )
        .unwrap_err();
        assert!(err.contains("not both"), "{err}");
        assert_eq!(
            cel(&notification(json!({"template": "{}"}), true), None),
            Ok(())
        );
    }
}
