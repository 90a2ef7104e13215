//! `QuayOrganization`: one organization in Quay.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::{AutoPrunePolicySpec, DefaultPermission};
use super::common::{DeletionPolicy, ManagedStatus, Management};

/// Desired state of a Quay organization.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayOrganization",
    namespaced,
    status = "QuayOrganizationStatus",
    shortname = "qorg",
    category = "quay",
    doc = "QuayOrganization declares an organization in Red Hat Quay. The operator creates it, or \
           adopts an existing one with the same name, and keeps its settings in line with the spec.",
    validation = Rule::new(
        "(has(self.spec.name) ? self.spec.name : self.metadata.name) == \
         (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name)"
    )
    .message("the Quay organization name (spec.name, default metadata.name) is immutable")
    .field_path(".spec.name"),
    printcolumn(name = "Organization", type_ = "string", json_path = ".status.name")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayOrganizationSpec {
    /// Name of the organization in Quay. Defaults to `metadata.name`.
    /// 2-255 characters: lower-case letters and digits, separated by single `.`, `_` or `-`.
    /// Cannot be changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub name: Option<String>,

    /// Contact e-mail address of the organization. Not managed when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email, length(min = 3, max = 254))]
    pub email: Option<String>,

    /// Default permissions (Quay's "prototypes"): granted on every repository created
    /// in the organization. When given, the list is authoritative: entries not listed
    /// (and duplicates, which Quay allows) are removed. When absent, not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub default_permissions: Option<Vec<DefaultPermission>>,

    /// Auto-prune policies of the organization. When given, Quay ends up with exactly
    /// these policies. When absent, not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub auto_prune_policies: Option<Vec<AutoPrunePolicySpec>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

impl QuayOrganizationSpec {
    /// Name of the organization in Quay: `spec.name`, or `metadata_name` when unset.
    pub fn quay_name(&self, metadata_name: &str) -> String {
        self.name.as_deref().unwrap_or(metadata_name).to_owned()
    }

    /// The deletion policy in effect: `spec.deletionPolicy`, or `Retain` when unset.
    pub fn effective_deletion_policy(&self) -> DeletionPolicy {
        self.management
            .deletion_policy
            .unwrap_or(DeletionPolicy::Retain)
    }
}

/// Observed state of a QuayOrganization.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayOrganizationStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// Name of the Quay organization this resource manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::{cel, printer_column_paths, root_rules, schema_at};
    use serde_json::json;

    #[test]
    fn minimal_spec_serializes_without_optional_fields() {
        let spec = QuayOrganizationSpec::default();
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({"managementPolicy": "Full"})
        );
        assert_eq!(spec.quay_name("acme"), "acme");
        assert_eq!(spec.effective_deletion_policy(), DeletionPolicy::Retain);
        assert_eq!(spec.management.connection_name(), "default");
        let named = QuayOrganizationSpec {
            name: Some("acme-corp".into()),
            ..Default::default()
        };
        assert_eq!(named.quay_name("acme"), "acme-corp");
    }

    #[test]
    fn crd_names_columns_and_rules() {
        let crd = crate::crd::definition::<QuayOrganization>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["qorg".into()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["quay".into()]));
        let columns = printer_column_paths(&crd);
        assert!(columns.contains(&".status.name".to_owned()));
        assert!(columns.contains(&r#".status.conditions[?(@.type=="Ready")].status"#.to_owned()));

        let rules = root_rules(&crd);
        assert_eq!(rules.len(), 1);
        assert!(
            rules[0]["rule"]
                .as_str()
                .unwrap()
                .contains("oldSelf.spec.name")
        );
        assert_eq!(rules[0]["fieldPath"], ".spec.name");

        let name = schema_at(&crd, &["spec", "name"]);
        assert_eq!(name["pattern"], r"^[a-z0-9]+([._-][a-z0-9]+)*$");
        assert_eq!(
            (name["minLength"].as_u64(), name["maxLength"].as_u64()),
            (Some(2), Some(255))
        );

        let deletion = schema_at(&crd, &["spec", "deletionPolicy"]);
        assert!(
            deletion.get("default").is_none(),
            "deletionPolicy must have no default"
        );
        assert_eq!(deletion["enum"], json!(["Delete", "Retain"]));
        let management = schema_at(&crd, &["spec", "managementPolicy"]);
        assert_eq!(management["default"], "Full");
        assert_eq!(management["enum"], json!(["Full", "ObserveOnly"]));
        let origin = schema_at(&crd, &["status", "origin"]);
        assert_eq!(origin["enum"], json!(["Created", "Adopted"]));
    }

    #[test]
    fn cel_keeps_the_effective_name_but_lets_the_connection_change() {
        let org = |name: Option<&str>, connection: Option<&str>| {
            QuayOrganization::new(
                "acme",
                QuayOrganizationSpec {
                    name: name.map(Into::into),
                    management: crate::crd::Management {
                        connection_ref: connection.map(crate::crd::ConnectionRef::namespaced),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
        };
        let unnamed = org(None, None);
        assert_eq!(cel(&unnamed, None), Ok(()));
        // Spelling out the name it already had, or dropping it again, keeps the Quay name.
        assert_eq!(cel(&org(Some("acme"), None), Some(&unnamed)), Ok(()));
        assert_eq!(cel(&unnamed, Some(&org(Some("acme"), None))), Ok(()));
        assert_eq!(cel(&unnamed, Some(&org(None, Some("prod")))), Ok(()));
        for (new, old) in [
            (org(Some("other"), None), unnamed.clone()),
            (org(Some("other"), None), org(Some("acme-corp"), None)),
            (unnamed.clone(), org(Some("acme-corp"), None)),
        ] {
            let err = cel(&new, Some(&old)).unwrap_err();
            assert!(err.contains("organization name"), "{err}");
        }
    }
}
