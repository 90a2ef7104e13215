//! The kinds the command line knows, and how each is handed to the engine.
//! The conversion to the engine's desired state is the controllers' own
//! ([`ManagedResource::desired`]); this module only dispatches over the kinds.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use crate::controller::ManagedResource;
use crate::crd::{
    QuayConnection, QuayGlobalMessage, QuayMirrorConfig, QuayNotification, QuayOAuthApplication,
    QuayOrganization, QuayProxyCache, QuayQuota, QuayRepository, QuayRobotAccount, QuayTeam,
    QuayUserNamespace,
};
use crate::engine::global_message::DesiredMessage;
use crate::engine::mirror::DesiredMirror;
use crate::engine::notification::DesiredNotification;
use crate::engine::oauth_application::DesiredApplication;
use crate::engine::organization::DesiredOrganization;
use crate::engine::proxy_cache::DesiredProxyCache;
use crate::engine::quota::DesiredQuota;
use crate::engine::repository::DesiredRepository;
use crate::engine::robot::DesiredRobot;
use crate::engine::team::DesiredTeam;
use crate::engine::user_namespace::DesiredUserNamespace;
use crate::engine::{self, EngineError, FieldChange, Managed, Mode, Quay};

/// A custom resource kind of group `quayconfig.io`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `QuayConnection`: where Quay is (not reconciled by `plan`/`apply`).
    Connection,
    /// `QuayOrganization`.
    Organization,
    /// `QuayRobotAccount`.
    RobotAccount,
    /// `QuayTeam`.
    Team,
    /// `QuayRepository`.
    Repository,
    /// `QuayNotification`.
    Notification,
    /// `QuayMirrorConfig`.
    MirrorConfig,
    /// `QuayQuota`.
    Quota,
    /// `QuayGlobalMessage` (cluster-scoped).
    GlobalMessage,
    /// `QuayOAuthApplication`.
    OAuthApplication,
    /// `QuayUserNamespace`.
    UserNamespace,
    /// `QuayProxyCache`.
    ProxyCache,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 12] = [
        Kind::Connection,
        Kind::Organization,
        Kind::RobotAccount,
        Kind::Team,
        Kind::Repository,
        Kind::Notification,
        Kind::MirrorConfig,
        Kind::Quota,
        Kind::GlobalMessage,
        Kind::OAuthApplication,
        Kind::UserNamespace,
        Kind::ProxyCache,
    ];

    /// The kind's name, e.g. `QuayRepository`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Connection => "QuayConnection",
            Kind::Organization => "QuayOrganization",
            Kind::RobotAccount => "QuayRobotAccount",
            Kind::Team => "QuayTeam",
            Kind::Repository => "QuayRepository",
            Kind::Notification => "QuayNotification",
            Kind::MirrorConfig => "QuayMirrorConfig",
            Kind::Quota => "QuayQuota",
            Kind::GlobalMessage => "QuayGlobalMessage",
            Kind::OAuthApplication => "QuayOAuthApplication",
            Kind::UserNamespace => "QuayUserNamespace",
            Kind::ProxyCache => "QuayProxyCache",
        }
    }

    /// The kind named `name`, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Position in the dependency order: organizations and user namespaces
    /// (and global messages, which depend on nothing); robots and teams;
    /// repositories; notifications, mirrors, quotas, OAuth applications and
    /// proxy caches.
    pub fn rank(self) -> u8 {
        match self {
            Kind::Connection => 0,
            Kind::Organization | Kind::UserNamespace | Kind::GlobalMessage => 1,
            Kind::RobotAccount | Kind::Team => 2,
            Kind::Repository => 3,
            Kind::Notification
            | Kind::MirrorConfig
            | Kind::Quota
            | Kind::OAuthApplication
            | Kind::ProxyCache => 4,
        }
    }

    /// The kind's CustomResourceDefinition.
    pub fn crd(self) -> CustomResourceDefinition {
        match self {
            Kind::Connection => crate::crd::definition::<QuayConnection>(),
            Kind::Organization => crate::crd::definition::<QuayOrganization>(),
            Kind::RobotAccount => crate::crd::definition::<QuayRobotAccount>(),
            Kind::Team => crate::crd::definition::<QuayTeam>(),
            Kind::Repository => crate::crd::definition::<QuayRepository>(),
            Kind::Notification => crate::crd::definition::<QuayNotification>(),
            Kind::MirrorConfig => crate::crd::definition::<QuayMirrorConfig>(),
            Kind::Quota => crate::crd::definition::<QuayQuota>(),
            Kind::GlobalMessage => crate::crd::definition::<QuayGlobalMessage>(),
            Kind::OAuthApplication => crate::crd::definition::<QuayOAuthApplication>(),
            Kind::UserNamespace => crate::crd::definition::<QuayUserNamespace>(),
            Kind::ProxyCache => crate::crd::definition::<QuayProxyCache>(),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A manifest of one of our kinds, deserialized.
#[derive(Debug)]
pub enum Typed {
    /// A QuayConnection.
    Connection(Box<QuayConnection>),
    /// A QuayOrganization.
    Organization(Box<QuayOrganization>),
    /// A QuayRobotAccount.
    RobotAccount(Box<QuayRobotAccount>),
    /// A QuayTeam.
    Team(Box<QuayTeam>),
    /// A QuayRepository.
    Repository(Box<QuayRepository>),
    /// A QuayNotification.
    Notification(Box<QuayNotification>),
    /// A QuayMirrorConfig.
    MirrorConfig(Box<QuayMirrorConfig>),
    /// A QuayQuota.
    Quota(Box<QuayQuota>),
    /// A QuayGlobalMessage.
    GlobalMessage(Box<QuayGlobalMessage>),
    /// A QuayOAuthApplication.
    OAuthApplication(Box<QuayOAuthApplication>),
    /// A QuayUserNamespace.
    UserNamespace(Box<QuayUserNamespace>),
    /// A QuayProxyCache.
    ProxyCache(Box<QuayProxyCache>),
}

impl Typed {
    /// Deserializes a (schema-valid) manifest of `kind`.
    pub fn parse(kind: Kind, value: Value) -> Result<Typed, serde_json::Error> {
        Ok(match kind {
            Kind::Connection => Typed::Connection(serde_json::from_value(value)?),
            Kind::Organization => Typed::Organization(serde_json::from_value(value)?),
            Kind::RobotAccount => Typed::RobotAccount(serde_json::from_value(value)?),
            Kind::Team => Typed::Team(serde_json::from_value(value)?),
            Kind::Repository => Typed::Repository(serde_json::from_value(value)?),
            Kind::Notification => Typed::Notification(serde_json::from_value(value)?),
            Kind::MirrorConfig => Typed::MirrorConfig(serde_json::from_value(value)?),
            Kind::Quota => Typed::Quota(serde_json::from_value(value)?),
            Kind::GlobalMessage => Typed::GlobalMessage(serde_json::from_value(value)?),
            Kind::OAuthApplication => Typed::OAuthApplication(serde_json::from_value(value)?),
            Kind::UserNamespace => Typed::UserNamespace(serde_json::from_value(value)?),
            Kind::ProxyCache => Typed::ProxyCache(serde_json::from_value(value)?),
        })
    }
}

/// Calls `$body` with `$r` bound to the managed resource inside a [`Typed`]
/// (every variant but `Connection`, which yields `$connection`).
macro_rules! with_managed {
    ($typed:expr, $r:ident => $body:expr, connection => $connection:expr) => {
        match $typed {
            Typed::Connection(_) => $connection,
            Typed::Organization($r) => $body,
            Typed::RobotAccount($r) => $body,
            Typed::Team($r) => $body,
            Typed::Repository($r) => $body,
            Typed::Notification($r) => $body,
            Typed::MirrorConfig($r) => $body,
            Typed::Quota($r) => $body,
            Typed::GlobalMessage($r) => $body,
            Typed::OAuthApplication($r) => $body,
            Typed::UserNamespace($r) => $body,
            Typed::ProxyCache($r) => $body,
        }
    };
}
pub(crate) use with_managed;

/// The engine's desired state of one resource, whatever its kind.
#[derive(Debug)]
pub enum Desired {
    /// An organization.
    Organization(DesiredOrganization),
    /// A robot account.
    RobotAccount(DesiredRobot),
    /// A team.
    Team(DesiredTeam),
    /// A repository.
    Repository(DesiredRepository),
    /// A repository notification.
    Notification(DesiredNotification),
    /// A repository mirror.
    MirrorConfig(DesiredMirror),
    /// A namespace quota.
    Quota(DesiredQuota),
    /// A global message.
    GlobalMessage(DesiredMessage),
    /// An organization's OAuth application.
    OAuthApplication(DesiredApplication),
    /// A user's own namespace.
    UserNamespace(DesiredUserNamespace),
    /// An organization's proxy cache.
    ProxyCache(DesiredProxyCache),
}

/// Wraps a kind's desired state into [`Desired`].
pub trait IntoDesired: ManagedResource {
    /// The wrapped desired state.
    fn wrap(desired: Self::Desired) -> Desired;
}

impl IntoDesired for QuayOrganization {
    fn wrap(d: DesiredOrganization) -> Desired {
        Desired::Organization(d)
    }
}
impl IntoDesired for QuayRobotAccount {
    fn wrap(d: DesiredRobot) -> Desired {
        Desired::RobotAccount(d)
    }
}
impl IntoDesired for QuayTeam {
    fn wrap(d: DesiredTeam) -> Desired {
        Desired::Team(d)
    }
}
impl IntoDesired for QuayRepository {
    fn wrap(d: DesiredRepository) -> Desired {
        Desired::Repository(d)
    }
}
impl IntoDesired for QuayNotification {
    fn wrap(d: DesiredNotification) -> Desired {
        Desired::Notification(d)
    }
}
impl IntoDesired for QuayMirrorConfig {
    /// Quay never returns a mirror's password, and without a cluster there is
    /// no status recording which Secret version was sent: the credentials
    /// count as sent, so they go to Quay when the mirror is created or its
    /// user name differs, not on every run.
    fn wrap(mut d: DesiredMirror) -> Desired {
        d.credentials_sent = d.credentials.as_ref().map(|c| c.version.clone());
        Desired::MirrorConfig(d)
    }
}
impl IntoDesired for QuayQuota {
    fn wrap(d: DesiredQuota) -> Desired {
        Desired::Quota(d)
    }
}
impl IntoDesired for QuayGlobalMessage {
    fn wrap(d: DesiredMessage) -> Desired {
        Desired::GlobalMessage(d)
    }
}
impl IntoDesired for QuayOAuthApplication {
    fn wrap(d: DesiredApplication) -> Desired {
        Desired::OAuthApplication(d)
    }
}
impl IntoDesired for QuayUserNamespace {
    fn wrap(d: DesiredUserNamespace) -> Desired {
        Desired::UserNamespace(d)
    }
}
impl IntoDesired for QuayProxyCache {
    /// As for mirrors: without a status recording the Secret version last
    /// written, the credentials count as written (they go to Quay with every
    /// create or replacement), so a run is not a change by itself.
    fn wrap(mut d: DesiredProxyCache) -> Desired {
        d.credentials_sent = d.credentials.as_ref().map(|c| c.version.clone());
        Desired::ProxyCache(d)
    }
}

/// What one engine run found (and did), without the kind-specific live object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The object existed in Quay before the run.
    pub existed: bool,
    /// The differences found.
    pub changes: Vec<FieldChange>,
    /// Whether anything was written.
    pub applied: bool,
}

impl Desired {
    /// The engine's description, e.g. `repository acme/app`.
    pub fn describe(&self) -> String {
        match self {
            Desired::Organization(d) => d.describe(),
            Desired::RobotAccount(d) => d.describe(),
            Desired::Team(d) => d.describe(),
            Desired::Repository(d) => d.describe(),
            Desired::Notification(d) => d.describe(),
            Desired::MirrorConfig(d) => d.describe(),
            Desired::Quota(d) => d.describe(),
            Desired::GlobalMessage(d) => d.describe(),
            Desired::OAuthApplication(d) => d.describe(),
            Desired::UserNamespace(d) => d.describe(),
            Desired::ProxyCache(d) => d.describe(),
        }
    }

    /// Runs the engine's reconcile on this desired state.
    pub async fn reconcile(&self, quay: &Quay, mode: Mode) -> Result<Outcome, EngineError> {
        async fn run<M: Managed>(d: &M, quay: &Quay, mode: Mode) -> Result<Outcome, EngineError> {
            let report = engine::reconcile(d, quay, mode).await?;
            Ok(Outcome {
                existed: report.existed,
                changes: report.changes,
                applied: report.applied,
            })
        }
        match self {
            Desired::Organization(d) => run(d, quay, mode).await,
            Desired::RobotAccount(d) => run(d, quay, mode).await,
            Desired::Team(d) => run(d, quay, mode).await,
            Desired::Repository(d) => run(d, quay, mode).await,
            Desired::Notification(d) => run(d, quay, mode).await,
            Desired::MirrorConfig(d) => run(d, quay, mode).await,
            Desired::Quota(d) => run(d, quay, mode).await,
            Desired::GlobalMessage(d) => run(d, quay, mode).await,
            Desired::OAuthApplication(d) => run(d, quay, mode).await,
            Desired::UserNamespace(d) => run(d, quay, mode).await,
            Desired::ProxyCache(d) => run(d, quay, mode).await,
        }
    }
}
