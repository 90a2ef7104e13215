//! Who is calling (bearer tokens and their OAuth scopes) and what they may do
//! (Quay's permission rules: team roles, repository roles, superusers).

use axum::http::HeaderMap;
use chrono::Utc;

use super::state::{Namespace, RepoRole, Repository, State, TeamRole};

/// An OAuth scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    RepoRead,
    RepoWrite,
    RepoAdmin,
    RepoCreate,
    UserRead,
    UserAdmin,
    OrgAdmin,
    SuperUser,
}

impl Scope {
    /// Every scope, in Quay's order.
    pub const ALL: [Scope; 8] = [
        Scope::RepoRead,
        Scope::RepoWrite,
        Scope::RepoAdmin,
        Scope::RepoCreate,
        Scope::UserRead,
        Scope::UserAdmin,
        Scope::OrgAdmin,
        Scope::SuperUser,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::RepoRead => "repo:read",
            Scope::RepoWrite => "repo:write",
            Scope::RepoAdmin => "repo:admin",
            Scope::RepoCreate => "repo:create",
            Scope::UserRead => "user:read",
            Scope::UserAdmin => "user:admin",
            Scope::OrgAdmin => "org:admin",
            Scope::SuperUser => "super:user",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|sc| sc.name() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes carried by a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(u16);

impl ScopeSet {
    pub fn all() -> ScopeSet {
        ScopeSet(Scope::ALL.iter().fold(0, |acc, s| acc | s.bit()))
    }

    pub fn from_scopes(scopes: &[Scope]) -> ScopeSet {
        ScopeSet(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set grants `required`, counting Quay's implied scopes
    /// (repo:admin implies repo:write implies repo:read).
    pub fn grants(self, required: Scope) -> bool {
        match required {
            Scope::RepoRead => {
                self.has(Scope::RepoRead)
                    || self.has(Scope::RepoWrite)
                    || self.has(Scope::RepoAdmin)
            }
            Scope::RepoWrite => self.has(Scope::RepoWrite) || self.has(Scope::RepoAdmin),
            other => self.has(other),
        }
    }

    /// The highest repository role these scopes allow.
    fn repo_cap(self) -> Option<RepoRole> {
        if self.has(Scope::RepoAdmin) {
            Some(RepoRole::Admin)
        } else if self.has(Scope::RepoWrite) {
            Some(RepoRole::Write)
        } else if self.has(Scope::RepoRead) {
            Some(RepoRole::Read)
        } else {
            None
        }
    }

    /// The highest team role these scopes allow.
    fn team_cap(self) -> TeamRole {
        if self.has(Scope::OrgAdmin) {
            TeamRole::Admin
        } else if self.has(Scope::RepoCreate) {
            TeamRole::Creator
        } else {
            TeamRole::Member
        }
    }
}

/// The OAuth token a call was made with, as audit log metadata names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthToken {
    /// `oauth_token_id`.
    pub id: u64,
    /// `oauth_token_application_id` (the application's client id).
    pub client_id: String,
    /// `oauth_token_application` (the application's name).
    pub application: String,
}

/// The caller of one request: a user with the scopes of its token, or anonymous.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<String>,
    pub scopes: ScopeSet,
    /// The token the call was made with (every emulator token is an OAuth token).
    pub token: Option<OAuthToken>,
    /// The user is a superuser *and* the token carries super:user.
    pub superuser: bool,
    /// FEATURE_SUPERUSERS_FULL_ACCESS at the time of the request.
    pub full_access_enabled: bool,
}

impl Caller {
    /// Resolves the `Authorization` header. Only `Bearer` (any case) is accepted;
    /// a missing, unknown or expired token makes the caller anonymous.
    pub fn resolve(headers: &HeaderMap, state: &State) -> Caller {
        let anonymous = Caller {
            full_access_enabled: state.superusers_full_access,
            ..Caller::default()
        };
        let Some(token) = bearer_token(headers) else {
            return anonymous;
        };
        let Some(info) = state.tokens.get(token) else {
            return anonymous;
        };
        if info.expires_at.is_some_and(|at| at <= Utc::now()) {
            return anonymous;
        }
        let Some(user) = state.user(&info.username) else {
            return anonymous;
        };
        let is_superuser = user.user().is_some_and(|u| u.superuser);
        Caller {
            user: Some(info.username.clone()),
            scopes: info.scopes,
            token: Some(OAuthToken {
                id: info.id,
                client_id: info.client_id.clone(),
                application: info.application.clone(),
            }),
            superuser: is_superuser && info.scopes.has(Scope::SuperUser),
            full_access_enabled: state.superusers_full_access,
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.user.is_some()
    }

    pub fn username(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Quay's `allow_if_superuser()`: FEATURE_SUPERUSERS_FULL_ACCESS and a superuser token.
    pub fn full_access(&self) -> bool {
        self.full_access_enabled && self.superuser
    }

    /// The caller's own team role in an organization (highest of its teams), not capped.
    pub fn raw_team_role(&self, state: &State, org: &str) -> Option<TeamRole> {
        let user = self.user.as_deref()?;
        team_role_of(state, org, user)
    }

    /// The caller's team role in an organization, capped by the token's scopes.
    pub fn team_role(&self, state: &State, org: &str) -> Option<TeamRole> {
        self.raw_team_role(state, org)
            .map(|r| r.min(self.scopes.team_cap()))
    }

    /// OrganizationMemberPermission (or a full-access superuser).
    pub fn is_org_member(&self, state: &State, org: &str) -> bool {
        self.full_access() || self.raw_team_role(state, org).is_some()
    }

    /// AdministerOrganizationPermission (or a full-access superuser).
    pub fn is_org_admin(&self, state: &State, org: &str) -> bool {
        self.full_access() || self.team_role(state, org) == Some(TeamRole::Admin)
    }

    /// CreateRepositoryPermission.
    pub fn can_create_repo(&self, state: &State, ns: &str) -> bool {
        if !self.scopes.has(Scope::RepoCreate) && !self.full_access() {
            return false;
        }
        if self.full_access() || self.user.as_deref() == Some(ns) {
            return true;
        }
        self.team_role(state, ns)
            .is_some_and(|r| r >= TeamRole::Creator)
    }

    /// The caller's role on `namespace/name` (which need not exist), capped by scopes.
    /// Public repositories give everyone read.
    pub fn repo_role(&self, state: &State, namespace: &str, name: &str) -> Option<RepoRole> {
        let repo = state.repo(namespace, name);
        let public_read = repo.is_some_and(|r| r.public).then_some(RepoRole::Read);
        let Some(user) = self.user.as_deref() else {
            return public_read;
        };
        let mut role: Option<RepoRole> = None;
        if user == namespace || self.raw_team_role(state, namespace) == Some(TeamRole::Admin) {
            role = Some(RepoRole::Admin);
        }
        if let Some(repo) = repo {
            role = role.max(direct_repo_role(state, repo, user));
        }
        let capped = role.and_then(|r| self.scopes.repo_cap().map(|cap| r.min(cap)));
        let capped = if self.full_access() {
            Some(RepoRole::Admin)
        } else {
            capped
        };
        capped.max(public_read)
    }

    /// ReadRepositoryPermission.
    pub fn can_read_repo(&self, state: &State, ns: &str, name: &str) -> bool {
        self.repo_role(state, ns, name).is_some()
    }

    /// ModifyRepositoryPermission.
    pub fn can_write_repo(&self, state: &State, ns: &str, name: &str) -> bool {
        self.repo_role(state, ns, name) >= Some(RepoRole::Write)
    }

    /// AdministerRepositoryPermission.
    pub fn can_admin_repo(&self, state: &State, ns: &str, name: &str) -> bool {
        self.repo_role(state, ns, name) == Some(RepoRole::Admin)
    }
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme in any case).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let token = parts.next().unwrap_or_default().trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The highest role `member` has through the teams of organization `org`.
pub fn team_role_of(state: &State, org: &str, member: &str) -> Option<TeamRole> {
    state
        .org(org)?
        .teams
        .iter()
        .filter(|t| t.members.iter().any(|m| m == member))
        .map(|t| t.role)
        .max()
}

/// Role given to `user` on `repo` directly or through its teams.
pub fn direct_repo_role(state: &State, repo: &Repository, user: &str) -> Option<RepoRole> {
    let mut role = repo.user_perms.get(user).copied();
    if let Some(org) = state.org(&repo.namespace) {
        for team in org
            .teams
            .iter()
            .filter(|t| t.members.iter().any(|m| m == user))
        {
            role = role.max(repo.team_perms.get(&team.name).copied());
        }
    }
    role
}

/// Whether `member` (user or robot) belongs to organization `ns`: is in one of its
/// teams, or is one of its robots.
pub fn is_org_member_name(ns: &Namespace, member: &str) -> bool {
    if let Some((robot_ns, _)) = member.split_once('+') {
        return robot_ns == ns.name;
    }
    ns.org().is_some_and(|o| {
        o.teams
            .iter()
            .any(|t| t.members.iter().any(|m| m == member))
    })
}
