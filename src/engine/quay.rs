//! One Quay endpoint as the engine sees it: the client plus the list cache
//! shared by every object reconciled through it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::cache::ListCache;
use crate::quay::api::application::Application;
use crate::quay::api::message::GlobalMessage;
use crate::quay::api::notification::Notification;
use crate::quay::api::organization::Organization;
use crate::quay::api::repository::Repository;
use crate::quay::api::robot::{Robot, RobotOwner};
use crate::quay::api::user::CurrentUser;
use crate::quay::{QuayClient, QuayError};

/// A Quay endpoint with its shared observation cache. Cheap to clone.
#[derive(Clone)]
pub struct Quay {
    /// The typed API client.
    pub client: QuayClient,
    cache: Arc<ListCache>,
    me: Arc<OnceCell<CurrentUser>>,
}

impl std::fmt::Debug for Quay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quay")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// How long a list answer serves further objects of the same namespace.
pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(20);

/// How long what the operator knows from its own writes (the empty notification
/// list of a repository it has just created) serves without a read. Long enough for
/// the objects applied together with the repository to find it; a later change by
/// someone else is seen at the first read after it.
pub const KNOWN_LIFETIME: Duration = Duration::from_secs(300);

impl Quay {
    /// Wraps a client; list answers are shared for `list_ttl`.
    pub fn new(client: QuayClient, list_ttl: Duration) -> Self {
        Quay {
            client,
            cache: Arc::new(ListCache::new(list_ttl)),
            me: Arc::new(OnceCell::new()),
        }
    }

    /// The token's user, asked once per endpoint (never per object).
    pub async fn me(&self) -> Result<&CurrentUser, QuayError> {
        self.me.get_or_try_init(|| self.client.current_user()).await
    }

    /// An organization (shared between the objects that need it), `None` when absent.
    pub async fn organization(&self, name: &str) -> Result<Arc<Option<Organization>>, QuayError> {
        self.cache
            .get_or_fetch(&format!("organization/{name}"), || {
                self.client.get_organization(name)
            })
            .await
    }

    /// Forgets the shared view of an organization after a write to it or its teams.
    pub(crate) fn forget_organization(&self, name: &str) {
        self.cache.invalidate(&format!("organization/{name}"));
    }

    /// Every robot of the owner with its token, from one (shared) list call.
    pub async fn robots(&self, owner: &RobotOwner) -> Result<Arc<Vec<Robot>>, QuayError> {
        self.cache
            .get_or_fetch(&robots_key(owner), || {
                self.client.list_robots_with_tokens(owner)
            })
            .await
    }

    /// Forgets the shared robot list of an owner after a write.
    pub(crate) fn forget_robots(&self, owner: &RobotOwner) {
        self.cache.invalidate(&robots_key(owner));
    }

    /// Every repository of a namespace, from one (shared) list call.
    pub async fn repositories(
        &self,
        namespace: &str,
    ) -> Result<Arc<Vec<Repository>>, crate::quay::QuayError> {
        self.cache
            .get_or_fetch(&repositories_key(namespace), || {
                self.client.list_repositories(namespace)
            })
            .await
    }

    /// Records our own write of a repository in the shared list (`None` removes it).
    pub(crate) fn remember_repository(
        &self,
        namespace: &str,
        name: &str,
        repo: Option<Repository>,
    ) {
        self.cache
            .modify::<Vec<Repository>>(&repositories_key(namespace), |repos| {
                repos.retain(|r| r.name != name);
                repos.extend(repo);
            });
    }

    /// Whether the repository is in the namespace's shared list (our own creates
    /// included). The only proof of existence the engine writes below: under a
    /// superuser with full access, Quay lists nothing for a missing repository
    /// and answers a write below it with 500.
    pub async fn repository_exists(&self, namespace: &str, name: &str) -> Result<bool, QuayError> {
        Ok(self
            .repositories(namespace)
            .await?
            .iter()
            .any(|r| r.name == name))
    }

    /// Whether `namespace` is an organization (from the shared organization view)
    /// or the token's own user; `false` also for another user's namespace, which
    /// the engine cannot see without a write.
    pub async fn namespace_known(&self, namespace: &str) -> Result<bool, QuayError> {
        if self.me().await?.username == namespace {
            return Ok(true);
        }
        match self.organization(namespace).await {
            Ok(org) => Ok(org.is_some()),
            // An organization the token may not read is one it may not write below.
            Err(e) if e.kind == crate::quay::ErrorKind::Forbidden => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every OAuth application of an organization (with their client
    /// secrets), from one (shared) list call.
    pub async fn applications(&self, org: &str) -> Result<Arc<Vec<Application>>, QuayError> {
        self.cache
            .get_or_fetch(&applications_key(org), || {
                self.client.list_applications(org)
            })
            .await
    }

    /// Records our own write of an application in the shared list: the
    /// application with `client_id` is replaced by `app` (`None` removes it).
    pub(crate) fn remember_application(
        &self,
        org: &str,
        client_id: &str,
        app: Option<Application>,
    ) {
        self.cache
            .modify::<Vec<Application>>(&applications_key(org), |apps| {
                match apps.iter().position(|a| a.client_id == client_id) {
                    Some(at) => match app {
                        Some(app) => apps[at] = app,
                        None => {
                            apps.remove(at);
                        }
                    },
                    None => apps.extend(app),
                }
            });
    }

    /// Forgets the shared list of a namespace (after a write whose result we cannot predict).
    pub(crate) fn forget_repositories(&self, namespace: &str) {
        self.cache.invalidate(&repositories_key(namespace));
    }
}

impl Quay {
    /// Every notification of a repository, from one (shared) list call.
    pub async fn notifications(
        &self,
        namespace: &str,
        repo: &str,
    ) -> Result<Arc<Vec<Notification>>, QuayError> {
        self.cache
            .get_or_fetch(&notifications_key(namespace, repo), || {
                self.client.list_notifications(namespace, repo)
            })
            .await
    }

    /// Records what a repository we have just created holds: no notifications.
    pub(crate) fn remember_new_repository(&self, namespace: &str, repo: &str) {
        self.cache.insert(
            &notifications_key(namespace, repo),
            Vec::<Notification>::new(),
            KNOWN_LIFETIME,
        );
    }

    /// Records our own notification write in the shared list: `added` is appended,
    /// `removed` (a uuid) taken out. Does nothing when the list is not cached.
    pub(crate) fn remember_notification(
        &self,
        namespace: &str,
        repo: &str,
        added: Option<&Notification>,
        removed: Option<&str>,
    ) {
        self.cache
            .modify::<Vec<Notification>>(&notifications_key(namespace, repo), |list| {
                list.retain(|n| Some(n.uuid.as_str()) != removed);
                list.extend(added.cloned());
            });
    }

    /// Forgets what the shared caches hold of an organization that someone else
    /// changed (from its change feed): its view, robots, OAuth applications and
    /// repository list, and the notification lists of the changed repositories
    /// (of all, for `None`).
    pub fn forget_changed(&self, organization: &str, changes: Option<&super::feed::Changes>) {
        self.forget_organization(organization);
        self.forget_robots(&RobotOwner::Organization(organization.to_owned()));
        self.forget_repositories(organization);
        self.cache.invalidate(&applications_key(organization));
        match changes {
            Some(changes) => {
                for repo in &changes.repositories {
                    self.forget_notifications(organization, repo);
                }
            }
            None => self
                .cache
                .invalidate_prefix(&notifications_key(organization, "")),
        }
    }

    /// Forgets the shared notification list of a repository after a write.
    pub(crate) fn forget_notifications(&self, namespace: &str, repo: &str) {
        self.cache.invalidate(&notifications_key(namespace, repo));
    }
}

impl Quay {
    /// Every global message, from one (shared) list call.
    pub async fn global_messages(&self) -> Result<Arc<Vec<GlobalMessage>>, QuayError> {
        self.cache
            .get_or_fetch(GLOBAL_MESSAGES_KEY, || self.client.global_messages())
            .await
    }

    /// Records our own deletion of a global message in the shared list.
    pub(crate) fn remember_deleted_message(&self, uuid: &str) {
        self.cache
            .modify::<Vec<GlobalMessage>>(GLOBAL_MESSAGES_KEY, |list| {
                list.retain(|m| m.uuid != uuid);
            });
    }

    /// Forgets the shared list of global messages after a write.
    pub(crate) fn forget_global_messages(&self) {
        self.cache.invalidate(GLOBAL_MESSAGES_KEY);
    }
}

const GLOBAL_MESSAGES_KEY: &str = "messages";

fn notifications_key(namespace: &str, repo: &str) -> String {
    format!("notifications/{namespace}/{repo}")
}

fn robots_key(owner: &RobotOwner) -> String {
    match owner {
        RobotOwner::Organization(org) => format!("robots/{org}"),
        RobotOwner::CurrentUser => "robots/~".to_owned(),
    }
}

fn applications_key(org: &str) -> String {
    format!("applications/{org}")
}

fn repositories_key(namespace: &str) -> String {
    format!("repositories/{namespace}")
}
