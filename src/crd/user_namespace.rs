//! `QuayUserNamespace`: what the operator manages in a Quay user's own namespace.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::AutoPrunePolicySpec;
use super::common::{ManagedStatus, Management};

/// Desired state of a Quay user's namespace.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayUserNamespace",
    namespaced,
    status = "QuayUserNamespaceStatus",
    shortname = "quser",
    category = "quay",
    doc = "QuayUserNamespace declares settings of a Quay user's own namespace (its auto-prune \
           policies). Quay lets only the user itself change them, so the connection's token must \
           belong to that user. The operator never creates or deletes the user.",
    validation = Rule::new("self.spec.user == oldSelf.spec.user")
        .message("user is immutable")
        .field_path(".spec.user"),
    printcolumn(name = "User", type_ = "string", json_path = ".spec.user")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayUserNamespaceSpec {
    /// The Quay user; the connection's token must be this user's. Cannot be changed.
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub user: String,

    /// Auto-prune policies of the user's namespace. When given, Quay ends up with
    /// exactly these policies. When absent, not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub auto_prune_policies: Option<Vec<AutoPrunePolicySpec>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    /// `deletionPolicy: Delete` removes the managed policies, never the user.
    #[serde(flatten)]
    pub management: Management,
}

/// Observed state of a QuayUserNamespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayUserNamespaceStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::{cel, root_rules, schema_at};

    #[test]
    fn crd_names_and_the_immutable_user() {
        let crd = crate::crd::definition::<QuayUserNamespace>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["quser".into()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["quay".into()]));
        assert_eq!(root_rules(&crd).len(), 1);
        let user = schema_at(&crd, &["spec", "user"]);
        assert_eq!(user["maxLength"].as_u64(), Some(255));
        let policies = schema_at(&crd, &["spec", "autoPrunePolicies"]);
        assert_eq!(policies["maxItems"].as_u64(), Some(20));

        let of = |user: &str| {
            QuayUserNamespace::new(
                "me",
                QuayUserNamespaceSpec {
                    user: user.into(),
                    ..Default::default()
                },
            )
        };
        assert_eq!(cel(&of("alice"), Some(&of("alice"))), Ok(()));
        let err = cel(&of("bob"), Some(&of("alice"))).unwrap_err();
        assert!(err.contains("user is immutable"), "{err}");
    }
}
