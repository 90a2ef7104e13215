//! References shared by the configuration kinds: the repository or
//! organization they configure, and Secret keys that carry credentials.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Reference to another custom resource in the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    /// Name of the resource, in the same namespace as this one.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// One key of a Secret in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret, in the same namespace as this resource.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key in the Secret's data.
    #[schemars(length(min = 1, max = 253), regex(pattern = SECRET_KEY_PATTERN))]
    pub key: String,
}

/// Pattern of a key of a Secret's or ConfigMap's data.
pub(crate) const SECRET_KEY_PATTERN: &str = r"^[-._a-zA-Z0-9]+$";

/// Pattern of a Quay organization or user name.
pub(crate) const NAMESPACE_PATTERN: &str = r"^[a-z0-9]+([._-][a-z0-9]+)*$";

/// Pattern of a literal `namespace/name` repository reference.
pub(crate) const REPOSITORY_PATTERN: &str =
    r"^[a-z0-9]+([._-][a-z0-9]+)*/[a-z0-9][.a-z0-9_-]*(/[a-z0-9][.a-z0-9_-]*)*$";

/// Splits `namespace/name` (the name may contain further `/`).
pub fn split_repository(full: &str) -> Option<(&str, &str)> {
    full.split_once('/')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_split_at_the_first_slash() {
        assert_eq!(split_repository("acme/app"), Some(("acme", "app")));
        assert_eq!(
            split_repository("acme/team/app"),
            Some(("acme", "team/app"))
        );
        assert_eq!(split_repository("acme"), None);
        assert_eq!(split_repository("/app"), None);
    }
}

/// The Quay organization a resource belongs to: by name, or through a
/// QuayOrganization of the same namespace. Flattened into a spec, whose kind
/// carries the rules [`OrganizationTarget::one_of`] and
/// [`OrganizationTarget::immutable`] (they compare the two fields, so they sit
/// on the whole object).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationTarget {
    /// Quay organization name. Set exactly one of `organization` and
    /// `organizationRef`. Cannot be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 255), regex(pattern = NAMESPACE_PATTERN))]
    pub organization: Option<String>,

    /// A QuayOrganization in this namespace. Cannot be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_ref: Option<LocalRef>,
}

impl OrganizationTarget {
    /// The rule that exactly one of the two fields is set.
    pub fn one_of() -> kube::core::Rule {
        kube::core::Rule::new(
            "[has(self.spec.organization), has(self.spec.organizationRef)].filter(x, x).size() == 1",
        )
        .message("set exactly one of spec.organization and spec.organizationRef")
    }

    /// The rule that neither field changes once set.
    pub fn immutable() -> kube::core::Rule {
        kube::core::Rule::new(
            "(has(self.spec.organization) ? self.spec.organization : '') == \
             (has(oldSelf.spec.organization) ? oldSelf.spec.organization : '') && \
             (has(self.spec.organizationRef) ? self.spec.organizationRef.name : '') == \
             (has(oldSelf.spec.organizationRef) ? oldSelf.spec.organizationRef.name : '')",
        )
        .message(
            "the organization (spec.organization or spec.organizationRef) is immutable: create a new resource instead",
        )
    }
}
