//! The emulator's in-memory database: namespaces (users and organizations),
//! robots, teams, repositories and everything hanging off them, tokens, and
//! the audit log.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::auth::ScopeSet;

/// Tag expiration Quay gives every new namespace (two weeks).
pub const DEFAULT_TAG_EXPIRATION_S: i64 = 1_209_600;

/// Lifetime of the token returned by `POST /api/v1/user/initialize`.
pub const INITIALIZE_TOKEN_LIFETIME_S: i64 = 9000;

/// Org-wide role of a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TeamRole {
    Member,
    Creator,
    Admin,
}

impl TeamRole {
    pub fn parse(s: &str) -> Option<TeamRole> {
        match s {
            "member" => Some(TeamRole::Member),
            "creator" => Some(TeamRole::Creator),
            "admin" => Some(TeamRole::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Creator => "creator",
            TeamRole::Admin => "admin",
        }
    }
}

/// Repository role (of a user, robot or team).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RepoRole {
    Read,
    Write,
    Admin,
}

impl RepoRole {
    pub fn parse(s: &str) -> Option<RepoRole> {
        match s {
            "read" => Some(RepoRole::Read),
            "write" => Some(RepoRole::Write),
            "admin" => Some(RepoRole::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepoRole::Read => "read",
            RepoRole::Write => "write",
            RepoRole::Admin => "admin",
        }
    }
}

/// A human user's own data.
#[derive(Clone, Debug)]
pub struct UserData {
    pub superuser: bool,
}

/// An organization's own data.
#[derive(Clone, Debug, Default)]
pub struct OrgData {
    /// Teams in creation order ("owners" first).
    pub teams: Vec<Team>,
    /// Default permissions in creation order.
    pub prototypes: Vec<Prototype>,
    /// Proxy-cache configuration, if one was created.
    pub proxy_cache: Option<Value>,
    /// OAuth applications in creation order.
    pub applications: Vec<Application>,
}

/// An OAuth application of an organization.
#[derive(Clone, Debug)]
pub struct Application {
    /// 20 upper-case letters and digits; the application's identity.
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub description: String,
    pub application_uri: String,
    pub redirect_uri: String,
    pub avatar_email: Option<String>,
}

/// What kind of namespace this is.
#[derive(Clone, Debug)]
pub enum NamespaceKind {
    User(UserData),
    Org(OrgData),
}

/// A user or organization namespace.
#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub email: Option<String>,
    pub kind: NamespaceKind,
    pub tag_expiration_s: i64,
    pub invoice_email: bool,
    pub invoice_email_address: Option<String>,
    /// Robots in creation order.
    pub robots: Vec<Robot>,
    pub quota: Option<Quota>,
    pub policies: Vec<PrunePolicy>,
}

impl Namespace {
    pub fn is_org(&self) -> bool {
        matches!(self.kind, NamespaceKind::Org(_))
    }

    pub fn org(&self) -> Option<&OrgData> {
        match &self.kind {
            NamespaceKind::Org(o) => Some(o),
            NamespaceKind::User(_) => None,
        }
    }

    pub fn org_mut(&mut self) -> Option<&mut OrgData> {
        match &mut self.kind {
            NamespaceKind::Org(o) => Some(o),
            NamespaceKind::User(_) => None,
        }
    }

    pub fn user(&self) -> Option<&UserData> {
        match &self.kind {
            NamespaceKind::User(u) => Some(u),
            NamespaceKind::Org(_) => None,
        }
    }

    pub fn robot(&self, short: &str) -> Option<&Robot> {
        self.robots.iter().find(|r| r.short_name == short)
    }
}

/// A robot account `namespace+short_name`.
#[derive(Clone, Debug)]
pub struct Robot {
    pub short_name: String,
    pub description: String,
    pub metadata: Option<Value>,
    pub token: String,
    pub created: DateTime<Utc>,
    /// Stand-in for the robot's internal e-mail, used for its avatar hash.
    pub avatar_seed: String,
    /// Federated identities, `{issuer, subject}` objects in the order given.
    pub federation: Vec<Value>,
}

/// A global message (a banner for every user).
#[derive(Clone, Debug)]
pub struct GlobalMessage {
    pub uuid: String,
    pub content: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// `text/plain` or `text/markdown`.
    pub media_type: String,
}

/// A team of an organization.
#[derive(Clone, Debug)]
pub struct Team {
    pub name: String,
    pub description: String,
    pub role: TeamRole,
    /// User and robot names, in the order they were added.
    pub members: Vec<String>,
    /// Pending invitations, in the order they were made (only with FEATURE_MAILING).
    pub invites: Vec<Invite>,
}

/// A pending invitation to join a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invite {
    /// An existing user who is not in the organization yet.
    User(String),
    /// An e-mail address.
    Email(String),
}

/// Who a prototype grants to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delegate {
    /// A user or a robot (Quay reports both as kind "user").
    User(String),
    Team(String),
}

/// A default permission of an organization.
#[derive(Clone, Debug)]
pub struct Prototype {
    pub id: String,
    pub role: RepoRole,
    pub delegate: Delegate,
    pub activating_user: Option<String>,
}

/// A repository notification.
#[derive(Clone, Debug)]
pub struct Notification {
    pub uuid: String,
    pub title: Option<String>,
    pub event: String,
    pub method: String,
    pub config: Value,
    pub event_config: Value,
    pub number_of_failures: i64,
}

/// A repository mirror configuration.
#[derive(Clone, Debug)]
pub struct Mirror {
    pub is_enabled: bool,
    pub external_reference: String,
    pub external_registry_username: Option<String>,
    pub external_registry_password: Option<String>,
    pub external_registry_config: Value,
    pub sync_interval: i64,
    pub sync_start_date: String,
    pub skopeo_timeout_interval: i64,
    pub robot_username: String,
    pub sync_status: String,
    pub sync_retries_remaining: i64,
    pub architecture_filter: Vec<Value>,
    /// Index into [`Repository::mirror_rules`] of the rule this mirror uses.
    pub rule_index: usize,
}

/// A repository.
#[derive(Clone, Debug)]
pub struct Repository {
    pub id: u64,
    pub namespace: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub state: String,
    pub kind: String,
    pub status_token: String,
    pub user_perms: BTreeMap<String, RepoRole>,
    pub team_perms: BTreeMap<String, RepoRole>,
    pub notifications: Vec<Notification>,
    pub mirror: Option<Mirror>,
    /// Every mirror root rule ever created for this repository. Quay creates the
    /// rule before it looks up the robot, so a failed `POST .../mirror` leaves an
    /// orphan rule behind, and a later `PUT` of `root_rule` updates the *first*
    /// rule of the repository (the orphan), not the mirror's own one.
    pub mirror_rules: Vec<Vec<Value>>,
    pub policies: Vec<PrunePolicy>,
}

/// A quota limit (warning or reject threshold).
#[derive(Clone, Debug)]
pub struct QuotaLimit {
    pub id: u64,
    pub kind: String,
    pub percent: i64,
}

/// A namespace quota.
#[derive(Clone, Debug)]
pub struct Quota {
    pub id: u64,
    pub limit_bytes: i64,
    pub limits: Vec<QuotaLimit>,
}

/// An auto-prune policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PrunePolicy {
    pub uuid: String,
    pub method: String,
    pub value: Value,
    pub tag_pattern: Option<String>,
    pub tag_pattern_matches: bool,
}

/// The OAuth application every emulator token belongs to: Quay's
/// `user/initialize` names the application it mints its token from
/// "automation", with the user's name as client id.
pub const TOKEN_APPLICATION: &str = "automation";

/// An OAuth access token.
#[derive(Clone, Debug)]
pub struct Token {
    /// Row id (`oauth_token_id` in audit log metadata).
    pub id: u64,
    pub username: String,
    pub scopes: ScopeSet,
    pub expires_at: Option<DateTime<Utc>>,
    /// Name of the OAuth application the token was minted from.
    pub application: String,
    /// Client id of that application.
    pub client_id: String,
}

/// One audit log entry (a row of Quay's `LogEntry3`).
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// Insertion order (newest last).
    pub id: u64,
    /// Kind, like `create_repo`.
    pub kind: &'static str,
    /// The namespace (account) the entry belongs to.
    pub namespace: String,
    /// Id of the repository it concerns ([`Repository::id`]), if any.
    pub repo_id: Option<u64>,
    /// The user (or robot) who made the change.
    pub performer: Option<String>,
    pub ip: String,
    pub metadata: Map<String, Value>,
    pub datetime: DateTime<Utc>,
}

/// The whole emulated database.
#[derive(Debug, Default)]
pub struct State {
    /// FEATURE_SUPERUSERS_FULL_ACCESS.
    pub superusers_full_access: bool,
    /// FEATURE_MAILING.
    pub mailing: bool,
    /// Whether upstream registry names resolve (a Quay with outside DNS); when
    /// false, every name is answered "Cannot resolve hostname", as the recording's
    /// Quay did.
    pub outside_dns: bool,
    pub namespaces: BTreeMap<String, Namespace>,
    pub repos: BTreeMap<(String, String), Repository>,
    pub tokens: HashMap<String, Token>,
    /// The audit log, oldest first.
    pub logs: Vec<LogEntry>,
    /// Global messages, oldest first.
    pub messages: Vec<GlobalMessage>,
    next_id: u64,
    next_quota_id: u64,
    next_limit_id: u64,
    next_token_id: u64,
    next_log_id: u64,
}

impl State {
    /// An empty database with the given feature flag.
    pub fn new(superusers_full_access: bool) -> State {
        State {
            superusers_full_access,
            outside_dns: true,
            ..State::default()
        }
    }

    /// A fresh repository id (creation order).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A fresh quota id (integers shared by all namespaces, like Quay's table ids).
    pub fn next_quota_id(&mut self) -> u64 {
        self.next_quota_id += 1;
        self.next_quota_id
    }

    /// A fresh quota limit id.
    pub fn next_limit_id(&mut self) -> u64 {
        self.next_limit_id += 1;
        self.next_limit_id
    }

    /// Whether any human user exists (initialize only works while none does).
    pub fn has_users(&self) -> bool {
        self.namespaces.values().any(|n| !n.is_org())
    }

    /// Creates a human user namespace.
    pub fn create_user(&mut self, name: &str, email: Option<String>, superuser: bool) {
        self.namespaces.insert(
            name.to_string(),
            Namespace {
                name: name.to_string(),
                email,
                kind: NamespaceKind::User(UserData { superuser }),
                tag_expiration_s: DEFAULT_TAG_EXPIRATION_S,
                invoice_email: false,
                invoice_email_address: None,
                robots: Vec::new(),
                quota: None,
                policies: Vec::new(),
            },
        );
    }

    /// Creates an organization whose "owners" team holds `creator`.
    pub fn create_org(&mut self, name: &str, email: Option<String>, creator: &str) {
        let owners = Team {
            name: "owners".to_string(),
            description: String::new(),
            role: TeamRole::Admin,
            members: vec![creator.to_string()],
            invites: Vec::new(),
        };
        self.namespaces.insert(
            name.to_string(),
            Namespace {
                name: name.to_string(),
                email,
                kind: NamespaceKind::Org(OrgData {
                    teams: vec![owners],
                    ..OrgData::default()
                }),
                tag_expiration_s: DEFAULT_TAG_EXPIRATION_S,
                invoice_email: false,
                invoice_email_address: None,
                robots: Vec::new(),
                quota: None,
                policies: Vec::new(),
            },
        );
    }

    /// Registers an access token (of the user's "automation" application).
    pub fn add_token(
        &mut self,
        token: String,
        username: &str,
        scopes: ScopeSet,
        expires_at: Option<DateTime<Utc>>,
    ) {
        self.next_token_id += 1;
        self.tokens.insert(
            token,
            Token {
                id: self.next_token_id,
                username: username.to_string(),
                scopes,
                expires_at,
                application: TOKEN_APPLICATION.to_string(),
                client_id: username.to_string(),
            },
        );
    }

    /// Appends an audit log entry, giving it the next id.
    pub fn append_log(&mut self, mut entry: LogEntry) {
        self.next_log_id += 1;
        entry.id = self.next_log_id;
        self.logs.push(entry);
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.get(name)
    }

    pub fn namespace_mut(&mut self, name: &str) -> Option<&mut Namespace> {
        self.namespaces.get_mut(name)
    }

    /// The organization `name`, if it is one.
    pub fn org(&self, name: &str) -> Option<&OrgData> {
        self.namespaces.get(name).and_then(Namespace::org)
    }

    /// The human user `name`, if it is one.
    pub fn user(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.get(name).filter(|n| !n.is_org())
    }

    /// Looks up a robot by its full name `namespace+short`.
    pub fn robot(&self, full_name: &str) -> Option<(&Namespace, &Robot)> {
        let (ns, short) = full_name.split_once('+')?;
        let namespace = self.namespaces.get(ns)?;
        namespace.robot(short).map(|r| (namespace, r))
    }

    /// Whether `name` is an existing user or robot.
    pub fn user_or_robot_exists(&self, name: &str) -> bool {
        if name.contains('+') {
            self.robot(name).is_some()
        } else {
            self.user(name).is_some()
        }
    }

    pub fn repo(&self, namespace: &str, name: &str) -> Option<&Repository> {
        self.repos.get(&(namespace.to_string(), name.to_string()))
    }

    pub fn repo_mut(&mut self, namespace: &str, name: &str) -> Option<&mut Repository> {
        self.repos
            .get_mut(&(namespace.to_string(), name.to_string()))
    }

    /// Repositories of a namespace in creation order.
    pub fn repos_in(&self, namespace: &str) -> Vec<&Repository> {
        let mut repos: Vec<&Repository> = self
            .repos
            .values()
            .filter(|r| r.namespace == namespace)
            .collect();
        repos.sort_by_key(|r| r.id);
        repos
    }

    /// Removes a user or robot from everything that refers to it.
    pub fn forget_member(&mut self, name: &str) {
        for ns in self.namespaces.values_mut() {
            if let Some(org) = ns.org_mut() {
                for team in &mut org.teams {
                    team.members.retain(|m| m != name);
                }
                org.prototypes.retain(|p| {
                    p.delegate != Delegate::User(name.to_string())
                        && p.activating_user.as_deref() != Some(name)
                });
            }
        }
        for repo in self.repos.values_mut() {
            repo.user_perms.remove(name);
        }
        self.tokens.retain(|_, t| t.username != name);
    }

    /// Deletes a namespace with its repositories, robots and their permissions.
    pub fn delete_namespace(&mut self, name: &str) {
        let Some(ns) = self.namespaces.remove(name) else {
            return;
        };
        for robot in &ns.robots {
            self.forget_member(&format!("{}+{}", name, robot.short_name));
        }
        if !ns.is_org() {
            self.forget_member(name);
        }
        self.repos.retain(|(n, _), _| n != name);
        // Quay renames a deleted namespace, so its entries (org_delete last)
        // are no longer anyone's: a namespace created again starts empty.
        self.logs.retain(|l| l.namespace != name);
    }
}
