//! Tenancy rules of a ClusterQuayConnection: which namespaces may use it, and
//! for which Quay organizations. Checked before anything is sent to Quay.

use std::collections::BTreeMap;

use kube::ResourceExt;

use crate::crd::{ClusterQuayConnection, TenantRule};

/// What one namespace may do through a ClusterQuayConnection: the rules that
/// admit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    connection: String,
    namespace: String,
    /// `(index in spec.tenants, rule)` of each admitting rule.
    rules: Vec<(usize, TenantRule)>,
}

/// Whether any rule of `connection` needs the namespace's labels.
pub fn needs_labels(connection: &ClusterQuayConnection) -> bool {
    connection
        .spec
        .tenants
        .iter()
        .any(|r| r.namespace_selector.is_some())
}

/// The grant of `namespace` (with `labels`), or why it may not use the connection.
pub fn grant(
    connection: &ClusterQuayConnection,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Grant, String> {
    let rules: Vec<_> = connection
        .spec
        .tenants
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.namespaces.iter().any(|n| n == namespace)
                || r.namespace_selector
                    .as_ref()
                    .is_some_and(|s| s.matches(labels))
        })
        .map(|(i, r)| (i, r.clone()))
        .collect();
    if rules.is_empty() {
        return Err(format!(
            "namespace {namespace} may not use ClusterQuayConnection {}: no rule of its spec.tenants names it or selects it by labels",
            connection.name_any()
        ));
    }
    Ok(Grant {
        connection: connection.name_any(),
        namespace: namespace.to_owned(),
        rules,
    })
}

impl Grant {
    /// Whether the namespace may manage objects in `organization`, and (for a
    /// QuayOrganization resource, `declares_organization`) the organization itself.
    pub fn permits(&self, organization: &str, declares_organization: bool) -> Result<(), String> {
        let matching: Vec<_> = self
            .rules
            .iter()
            .filter(|(_, r)| {
                r.organizations
                    .iter()
                    .any(|p| matches(&p.replace("{namespace}", &self.namespace), organization))
            })
            .collect();
        if matching.is_empty() {
            let granted: Vec<_> = self
                .rules
                .iter()
                .map(|(i, r)| format!("spec.tenants[{i}] grants {}", r.organizations.join(", ")))
                .collect();
            return Err(format!(
                "organization {organization} is not granted to namespace {} by ClusterQuayConnection {} ({})",
                self.namespace,
                self.connection,
                granted.join("; ")
            ));
        }
        if declares_organization && !matching.iter().any(|(_, r)| r.create_organizations) {
            let indexes: Vec<_> = matching
                .iter()
                .map(|(i, _)| format!("spec.tenants[{i}]"))
                .collect();
            return Err(format!(
                "namespace {} may manage objects in organization {organization} but not the organization itself: {} of ClusterQuayConnection {} has no createOrganizations: true",
                self.namespace,
                indexes.join(", "),
                self.connection
            ));
        }
        Ok(())
    }
}

/// `*` matches any run of characters; everything else itself.
fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<_> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connection(tenants: serde_json::Value) -> ClusterQuayConnection {
        serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "ClusterQuayConnection",
            "metadata": {"name": "shared"},
            "spec": {"url": "https://quay.example.com", "tokenSecretRef": {"name": "t"}, "tenants": tenants}
        }))
        .unwrap()
    }

    #[test]
    fn globs() {
        assert!(matches("team-*", "team-a"));
        assert!(matches("team-*", "team-"));
        assert!(!matches("team-*", "xteam-a"));
        assert!(matches("*-prod", "web-prod"));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(!matches("a*b*c", "aXbY"));
        assert!(matches("acme", "acme"));
        assert!(!matches("acme", "acme2"));
        assert!(matches("*", "anything"));
        assert!(!matches("ab*ba", "aba"));
    }

    #[test]
    fn namespaces_by_name_or_labels_and_organizations_by_pattern() {
        let conn = connection(json!([
            {"namespaces": ["team-a"], "organizations": ["{namespace}", "shared-*"]},
            {"namespaceSelector": {"matchLabels": {"platform": "true"}},
             "organizations": ["*"], "createOrganizations": true}
        ]));
        let none = BTreeMap::new();
        let team_a = grant(&conn, "team-a", &none).unwrap();
        assert_eq!(team_a.permits("team-a", false), Ok(()));
        assert_eq!(team_a.permits("shared-images", false), Ok(()));
        let err = team_a.permits("team-b", false).unwrap_err();
        assert!(
            err.contains("organization team-b is not granted to namespace team-a"),
            "{err}"
        );
        assert!(
            err.contains("spec.tenants[0] grants {namespace}, shared-*"),
            "{err}"
        );
        let err = team_a.permits("team-a", true).unwrap_err();
        assert!(
            err.contains("spec.tenants[0]") && err.contains("createOrganizations"),
            "{err}"
        );

        let err = grant(&conn, "team-b", &none).unwrap_err();
        assert!(
            err.contains("namespace team-b may not use ClusterQuayConnection shared"),
            "{err}"
        );

        let labels = [("platform".to_owned(), "true".to_owned())].into();
        let platform = grant(&conn, "platform", &labels).unwrap();
        assert_eq!(platform.permits("anything", true), Ok(()));
        assert!(needs_labels(&conn));
    }
}
