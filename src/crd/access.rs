//! Access and clean-up settings shared by organizations and repositories:
//! repository permissions, default permissions and auto-prune policies.

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
    #[schemars(length(min = 1, max = 255))]
    pub activating_user: Option<String>,
}

/// An auto-prune policy: set exactly one of `numberOfTags` and `creationDate`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.numberOfTags) != has(self.creationDate)")
    .message("set exactly one of numberOfTags and creationDate"))]
pub struct AutoPrunePolicySpec {
    /// Keep this many of the newest tags and prune the older ones (Quay's method
    /// `number_of_tags`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub number_of_tags: Option<i32>,
    /// Prune tags older than this age (Quay's method `creation_date`): a whole number and
    /// one unit, `s`, `m`, `h`, `d` or `w`, e.g. `7d` or `2w`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[0-9]+[smhdw]$')")
        .message("creationDate must be a whole number and one unit s, m, h, d or w, e.g. 7d or 2w"))]
    #[schemars(length(min = 2, max = 16))]
    pub creation_date: Option<String>,
    /// Only tags matching this regular expression (or, with `tagPatternMatches: false`,
    /// only tags not matching it) are pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub tag_pattern: Option<String>,
    /// Whether `tagPattern` selects the matching tags (default) or the others.
    #[serde(default = "default_true")]
    pub tag_pattern_matches: bool,
}

impl AutoPrunePolicySpec {
    /// Quay's `method` and `value` for this policy.
    pub fn method_and_value(&self) -> (&'static str, serde_json::Value) {
        match (&self.creation_date, self.number_of_tags) {
            (Some(age), _) => ("creation_date", serde_json::Value::from(age.clone())),
            (None, count) => (
                "number_of_tags",
                serde_json::Value::from(count.unwrap_or(0)),
            ),
        }
    }
}

fn default_true() -> bool {
    true
}
