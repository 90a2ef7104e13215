//! `QuayTeam`: a team of a Quay organization, optionally with its members.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};

/// Desired state of a Quay team.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayTeam",
    namespaced,
    status = "QuayTeamStatus",
    shortname = "qteam",
    category = "quay",
    doc = "QuayTeam declares a team of a Quay organization: its role and description, and, \
           when `members` is given, exactly its members.",
    validation = Rule::new(
        "(has(self.spec.name) ? self.spec.name : self.metadata.name) == \
         (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name)"
    )
    .message("the team name (spec.name, default metadata.name) is immutable")
    .field_path(".spec.name"),
    validation = Rule::new("self.spec.organization == oldSelf.spec.organization")
        .message("organization is immutable")
        .field_path(".spec.organization"),
    printcolumn(name = "Organization", type_ = "string", json_path = ".spec.organization"),
    printcolumn(name = "Role", type_ = "string", json_path = ".spec.role")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayTeamSpec {
    /// Quay organization of the team. Cannot be changed after creation.
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub organization: String,

    /// Team name in Quay. Defaults to `metadata.name`. Cannot be changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub name: Option<String>,

    /// Organization-wide role: `member` (default; access per repository permissions),
    /// `creator` (may also create repositories) or `admin` (administers the organization).
    #[serde(default)]
    pub role: TeamRole,

    /// Team description. Not managed when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub description: Option<String>,

    /// Members of the team. When given, the list is authoritative: members not listed
    /// are removed and invitations not listed are withdrawn. When absent, membership
    /// is not managed. An `email` entry is invited by e-mail (Quay needs
    /// FEATURE_MAILING); once the invitee accepts, Quay lists them as a user and
    /// forgets the address: replace the entry by `{kind: user, name: <their user>}`,
    /// or the user is removed and the address invited again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub members: Option<Vec<TeamMember>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

impl QuayTeamSpec {
    /// The team's name in Quay: `spec.name`, or `metadata_name` when unset.
    pub fn quay_name(&self, metadata_name: &str) -> String {
        self.name.as_deref().unwrap_or(metadata_name).to_owned()
    }
}

/// Organization-wide role of a team.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TeamRole {
    /// Access per repository permissions.
    #[default]
    Member,
    /// May also create repositories.
    Creator,
    /// Administers the organization.
    Admin,
}

impl TeamRole {
    /// The value as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Creator => "creator",
            TeamRole::Admin => "admin",
        }
    }
}

/// A team member: a Quay user, a robot of the team's organization, or an
/// e-mail address to invite.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(
    "self.kind == 'email' ? self.name.matches('^[^@ ]+@[^@ ]+[.][^@ ]+$') : !self.name.contains('@')"
).message("name must be an e-mail address for kind email, and a user or robot name (no @) otherwise"))]
pub struct TeamMember {
    /// `user`, `robot` or `email`.
    pub kind: MemberKind,
    /// User name, robot short name (or full name `org+short`), or e-mail address.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
}

/// Kind of team member.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    /// A Quay user.
    User,
    /// A robot account.
    Robot,
    /// An e-mail address, invited to join (needs FEATURE_MAILING in Quay).
    Email,
}

/// Observed state of a QuayTeam.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayTeamStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::cel;

    fn team(members: &[(MemberKind, &str)]) -> QuayTeam {
        let members = members
            .iter()
            .map(|(kind, name)| TeamMember {
                kind: *kind,
                name: (*name).into(),
            })
            .collect();
        QuayTeam::new(
            "devs",
            QuayTeamSpec {
                organization: "acme".into(),
                members: Some(members),
                ..Default::default()
            },
        )
    }

    #[test]
    fn email_members_must_be_addresses_and_only_they() {
        let ok = team(&[
            (MemberKind::User, "alice"),
            (MemberKind::Robot, "bot"),
            (MemberKind::Email, "new.dev@example.com"),
        ]);
        assert_eq!(cel(&ok, None), Ok(()));
        for bad in [
            (MemberKind::Email, "alice"),
            (MemberKind::Email, "a@b"),
            (MemberKind::User, "alice@example.com"),
            (MemberKind::Robot, "bot@example.com"),
        ] {
            let err = cel(&team(&[bad]), None).unwrap_err();
            assert!(
                err.contains("e-mail address for kind email"),
                "{bad:?}: {err}"
            );
        }
    }
}
