//! `QuayRepository`: one repository in a Quay organization or user namespace.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::{AutoPrunePolicySpec, RepositoryPermission};
use super::common::{DeletionPolicy, ManagedStatus, Management};

/// Desired state of a Quay repository.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayRepository",
    namespaced,
    status = "QuayRepositoryStatus",
    shortname = "qrepo",
    category = "quay",
    selectable = ".spec.namespace",
    doc = "QuayRepository declares a repository in Red Hat Quay. The operator creates it, or \
           adopts an existing one with the same namespace and name, and keeps its visibility, \
           description and state in line with the spec.",
    validation = Rule::new(
        "(has(self.spec.name) ? self.spec.name : self.metadata.name) == \
         (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name)"
    )
    .message("the Quay repository name (spec.name, default metadata.name) is immutable")
    .field_path(".spec.name"),
    printcolumn(name = "Quay Namespace", type_ = "string", json_path = ".status.namespace"),
    printcolumn(name = "Quay Name", type_ = "string", json_path = ".status.name"),
    printcolumn(name = "Visibility", type_ = "string", json_path = ".spec.visibility"),
    printcolumn(name = "Pull Spec", type_ = "string", json_path = ".status.pullSpec", priority = 1)
)]
#[serde(rename_all = "camelCase")]
pub struct QuayRepositorySpec {
    /// Quay namespace of the repository: an organization or a user name.
    /// 2-255 characters: lower-case letters and digits, separated by single `.`, `_` or `-`.
    /// Cannot be changed after creation.
    #[x_kube(validation = Rule::new("self == oldSelf").message("namespace is immutable"))]
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub namespace: String,

    /// Name of the repository in Quay. Defaults to `metadata.name`.
    /// Up to 255 characters: lower-case letters, digits, `.`, `_` and `-`, starting with
    /// a letter or digit; `/` separates path components of nested names (`team/app`).
    /// Cannot be changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 255),
        regex(pattern = r"^[a-z0-9][.a-z0-9_-]*(/[a-z0-9][.a-z0-9_-]*)*$")
    )]
    pub name: Option<String>,

    /// Who can pull: `private` (default) or `public` (anyone, without logging in).
    #[serde(default)]
    pub visibility: Visibility,

    /// Markdown description of the repository. When unset, the description in Quay is
    /// left as it is; set it to `""` to clear it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub description: Option<String>,

    /// Kind of repository: `image` (default, container images) or `application`
    /// (the legacy App Registry, which Quay 3.18 no longer accepts). Cannot be changed
    /// after creation.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("repoKind is immutable"))]
    pub repo_kind: RepoKind,

    /// Repository state: `NORMAL` (pushes allowed), `READ_ONLY` (no pushes) or `MIRROR`
    /// (only the mirroring robot pushes). When unset, the state is not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RepositoryState>,

    /// Who may pull, push or administer the repository. When given, the list is the
    /// full set: grants are added, changed and revoked to match it (the connection's own
    /// user keeps the admin permission Quay gave it as creator). When absent, not managed.
    /// A robot is named by its short name in the repository's namespace, or its full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub permissions: Option<Vec<RepositoryPermission>>,

    /// Auto-prune policies of the repository. When given, Quay ends up with exactly
    /// these policies. When absent, not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub auto_prune_policies: Option<Vec<AutoPrunePolicySpec>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

impl QuayRepositorySpec {
    /// A spec for repository `metadata.name` in the Quay namespace `namespace`,
    /// everything else unset or at its default.
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: None,
            visibility: Visibility::default(),
            description: None,
            repo_kind: RepoKind::default(),
            state: None,
            permissions: None,
            auto_prune_policies: None,
            management: Management::default(),
        }
    }

    /// Name of the repository in Quay: `spec.name`, or `metadata_name` when unset.
    pub fn quay_name(&self, metadata_name: &str) -> String {
        self.name.as_deref().unwrap_or(metadata_name).to_owned()
    }

    /// Full Quay path of the repository, `namespace/name`, as used in API URLs.
    pub fn full_name(&self, metadata_name: &str) -> String {
        format!("{}/{}", self.namespace, self.quay_name(metadata_name))
    }

    /// Image pull spec `host/namespace/name` for a registry host (`host[:port]`).
    pub fn pull_spec(&self, registry_host: &str, metadata_name: &str) -> String {
        format!("{registry_host}/{}", self.full_name(metadata_name))
    }

    /// The deletion policy in effect: `spec.deletionPolicy`, or `Retain` when unset.
    pub fn effective_deletion_policy(&self) -> DeletionPolicy {
        self.management
            .deletion_policy
            .unwrap_or(DeletionPolicy::Retain)
    }
}

/// Who can pull from a repository (Quay's `visibility`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only users, robots and teams with a permission.
    #[default]
    Private,
    /// Anyone, including anonymous users.
    Public,
}

/// Kind of a Quay repository (Quay's `repo_kind`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// Container image repository.
    #[default]
    Image,
    /// Legacy App Registry repository (rejected by Quay 3.18, whose API accepts only `image`).
    Application,
}

/// State of a Quay repository (Quay's `state`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
// No schema description: these enums are used as optional fields, where kube's
// `OptionalEnum` transform would let the type's description replace the field's.
#[schemars(description = "")]
pub enum RepositoryState {
    /// Pushes are allowed.
    Normal,
    /// No pushes; pulls only.
    ReadOnly,
    /// The repository is a mirror; only the mirroring robot pushes.
    Mirror,
}

impl RepositoryState {
    /// The value as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RepositoryState::Normal => "NORMAL",
            RepositoryState::ReadOnly => "READ_ONLY",
            RepositoryState::Mirror => "MIRROR",
        }
    }
}

/// Observed state of a QuayRepository.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayRepositoryStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// Image pull spec of the repository, `host/namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub pull_spec: Option<String>,
    /// Quay namespace of the repository this resource manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub namespace: Option<String>,
    /// Name of the Quay repository this resource manages.
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
    fn minimal_spec_serializes_with_defaults_only() {
        let spec: QuayRepositorySpec =
            serde_json::from_value(json!({"namespace": "acme"})).unwrap();
        assert_eq!(spec, QuayRepositorySpec::new("acme"));
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({
                "namespace": "acme",
                "visibility": "private",
                "repoKind": "image",
                "managementPolicy": "Full"
            })
        );
        assert_eq!(spec.quay_name("app"), "app");
        assert_eq!(spec.full_name("app"), "acme/app");
        assert_eq!(
            spec.pull_spec("quay.example.com", "app"),
            "quay.example.com/acme/app"
        );
        assert_eq!(spec.effective_deletion_policy(), DeletionPolicy::Retain);
        assert_eq!(
            serde_json::to_value(RepositoryState::ReadOnly).unwrap(),
            "READ_ONLY"
        );
    }

    #[test]
    fn crd_names_columns_and_rules() {
        let crd = crate::crd::definition::<QuayRepository>();
        assert_eq!(crd.spec.names.short_names, Some(vec!["qrepo".into()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["quay".into()]));
        assert!(
            printer_column_paths(&crd)
                .contains(&r#".status.conditions[?(@.type=="Ready")].status"#.to_owned())
        );

        for field in ["namespace", "repoKind"] {
            let schema = schema_at(&crd, &["spec", field]);
            assert_eq!(
                schema["x-kubernetes-validations"][0]["rule"], "self == oldSelf",
                "{field} must be immutable"
            );
        }
        let rules = root_rules(&crd);
        assert_eq!(rules.len(), 1);
        assert!(
            rules[0]["rule"]
                .as_str()
                .unwrap()
                .contains("oldSelf.spec.name")
        );

        assert_eq!(
            schema_at(&crd, &["spec", "visibility"])["enum"],
            json!(["private", "public"])
        );
        assert_eq!(
            schema_at(&crd, &["spec", "visibility"])["default"],
            "private"
        );
        assert_eq!(schema_at(&crd, &["spec", "repoKind"])["default"], "image");
        assert_eq!(
            schema_at(&crd, &["spec", "state"])["enum"],
            json!(["NORMAL", "READ_ONLY", "MIRROR"])
        );
        assert!(
            schema_at(&crd, &["spec", "deletionPolicy"])
                .get("default")
                .is_none()
        );
        assert!(
            schema_at(&crd, &["spec", "description"])
                .get("default")
                .is_none()
        );
    }

    #[test]
    fn cel_makes_namespace_name_and_kind_immutable() {
        let old = QuayRepository::new("app", QuayRepositorySpec::new("acme"));
        assert_eq!(cel(&old, None), Ok(()));
        let changed = |change: fn(&mut QuayRepositorySpec)| {
            let mut new = old.clone();
            change(&mut new.spec);
            cel(&new, Some(&old))
        };
        assert_eq!(
            changed(|s| {
                s.visibility = Visibility::Public;
                s.description = Some("My *app*".into());
                s.state = Some(RepositoryState::ReadOnly);
                s.name = Some("app".into());
            }),
            Ok(())
        );
        let err = changed(|s| s.namespace = "other".into()).unwrap_err();
        assert!(err.contains("namespace is immutable"), "{err}");
        let err = changed(|s| s.repo_kind = RepoKind::Application).unwrap_err();
        assert!(err.contains("repoKind is immutable"), "{err}");
        let err = changed(|s| s.name = Some("team/app".into())).unwrap_err();
        assert!(err.contains("repository name"), "{err}");
    }
}
