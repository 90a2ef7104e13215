//! Access and clean-up settings shared by organizations and repositories:
//! repository permissions, default permissions and auto-prune policies.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who a permission is for.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GranteeKind {
    /// A Quay user.
    User,
    /// A team of the organization.
    Team,
    /// A robot account: `name` is its short name in the repository's (or
    /// organization's) namespace, or its full name `namespace+short`.
    Robot,
}

/// A repository role.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pull.
    Read,
    /// Pull and push.
    Write,
    /// Pull, push and administer.
    Admin,
}

impl Role {
    /// The value as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

/// One permission on a repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPermission {
    /// `user`, `team` or `robot`.
    pub kind: GranteeKind,
    /// User name, team name, or robot (short or full) name.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
    /// `read`, `write` or `admin`.
    pub role: Role,
}

/// Who a default permission is for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    /// `user`, `team` or `robot`.
    pub kind: GranteeKind,
    /// User name, team name, or robot (short or full) name.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
}

/// A default permission: granted on every repository created in the
/// organization (by `activatingUser` only, when set).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultPermission {
    /// Who receives the permission.
    pub delegate: Delegate,
    /// `read`, `write` or `admin`.
    pub role: Role,
    /// Only repositories created by this user get the permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activating_user: Option<String>,
}

/// How an auto-prune policy selects tags to delete.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PruneMethod {
    /// Keep the newest `value` tags (an integer > 0).
    NumberOfTags,
    /// Delete tags older than `value` (e.g. `7d`, `2w`).
    CreationDate,
}

/// An auto-prune policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(
    "self.method == 'number_of_tags' ? (type(self.value) == int && self.value > 0) : \
     (type(self.value) == string && self.value.matches('^[0-9]+[smhdwy]$'))"
).message("number_of_tags needs an integer value > 0; creation_date a duration like 7d or 2w"))]
pub struct AutoPrunePolicySpec {
    /// `number_of_tags` or `creation_date`.
    pub method: PruneMethod,
    /// A tag count (`number_of_tags`) or an age such as `7d`, `2w` (`creation_date`).
    pub value: IntOrString,
    /// Only tags matching this regular expression (or, with `tagPatternMatches: false`,
    /// only tags not matching it) are pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_pattern: Option<String>,
    /// Whether `tagPattern` selects the matching tags (default) or the others.
    #[serde(default = "default_true")]
    pub tag_pattern_matches: bool,
}

fn default_true() -> bool {
    true
}
