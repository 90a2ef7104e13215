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
