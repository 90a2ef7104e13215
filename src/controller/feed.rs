//! Change feeds of the organizations the operator manages
//! ([`crate::engine::feed`]): polled every `--change-feed-interval`, they tell
//! each kind's controller which of its resources someone else's change in Quay
//! concerns, so that only those are observed again. A resource whose
//! organization has a working feed is re-observed in full only at
//! `--full-resync-interval`; the others at `--resync-interval`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::Stream;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::broadcast;

use super::kinds::ManagedResource;
use crate::engine::Quay;
use crate::engine::feed::{Changes, OrganizationFeed, Poll};

/// Who uses a feed: a Kubernetes namespace and the connection its resources
/// name (`QuayConnection default`, `ClusterQuayConnection shared`).
pub type ConnectionUser = (String, String);

/// What someone else changed in one organization of one Quay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChange {
    /// The connections (namespace, connection) through which resources
    /// manage this organization.
    pub users: BTreeSet<ConnectionUser>,
    /// The Quay organization.
    pub organization: String,
    /// What changed; `None`: anything may have (observe the whole organization).
    pub changes: Option<Changes>,
}

impl FeedChange {
    /// Whether the change concerns `object`.
    pub fn concerns<K: ManagedResource>(&self, object: &K) -> bool {
        let user = (
            object.namespace().unwrap_or_default(),
            object.connection().to_string(),
        );
        if !self.users.contains(&user) {
            return false;
        }
        let Some(location) = object.quay_location() else {
            return false;
        };
        location.namespace == self.organization
            && match (&self.changes, &location.repository) {
                (None, _) => true,
                (Some(c), Some(repository)) => c.repositories.contains(repository),
                (Some(c), None) => c.organization,
            }
    }
}

struct Entry {
    feed: OrganizationFeed,
    quay: Quay,
    users: BTreeSet<ConnectionUser>,
    /// The last poll worked: the feed covers the organization.
    healthy: bool,
    /// A feed whose log could not be read is asked again only after this.
    quiet_until: Option<Instant>,
}

/// How long a log that cannot be read (no admin rights, a user namespace) is
/// left alone before it is tried again.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(600);

/// The feeds of every organization managed through any connection.
pub struct ChangeFeeds {
    interval: Option<Duration>,
    feeds: Mutex<BTreeMap<(String, String), Entry>>,
    sender: broadcast::Sender<Arc<FeedChange>>,
}

impl ChangeFeeds {
    /// Feeds polled every `interval`; `None` turns them off.
    pub fn new(interval: Option<Duration>) -> Self {
        ChangeFeeds {
            interval,
            feeds: Mutex::new(BTreeMap::new()),
            sender: broadcast::channel(1024).0,
        }
    }

    /// Notes that a resource of `user` manages objects of `organization`
    /// through `quay`, and says whether a working feed covers that
    /// organization (its last poll succeeded).
    pub fn covers(&self, quay: &Quay, organization: &str, user: ConnectionUser) -> bool {
        if self.interval.is_none() {
            return false;
        }
        let key = (quay.client.base_url().to_owned(), organization.to_owned());
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        let entry = feeds.entry(key).or_insert_with(|| Entry {
            feed: OrganizationFeed::new(organization),
            quay: quay.clone(),
            users: BTreeSet::new(),
            healthy: false,
            quiet_until: None,
        });
        entry.users.insert(user);
        entry.quay = quay.clone();
        entry.healthy
    }

    /// Polls every feed once: forgets what the shared caches hold of what
    /// changed, announces each change to the controllers, and returns them.
    pub async fn poll_once(&self) -> Vec<Arc<FeedChange>> {
        let feeds: Vec<_> = {
            let feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            feeds
                .iter()
                .filter(|(_, e)| e.quiet_until.is_none_or(|t| t <= now))
                .map(|(k, e)| (k.clone(), e.feed.clone(), e.quay.clone(), e.users.clone()))
                .collect()
        };
        let mut announced = Vec::new();
        for (key, mut feed, quay, users) in feeds {
            let poll = feed.poll(&quay).await;
            let healthy = matches!(
                poll,
                Ok(Poll::Unchanged | Poll::Changed(_) | Poll::Everything)
            );
            let unavailable = matches!(poll, Ok(Poll::Unavailable(_)));
            let changes = match poll {
                Ok(Poll::Changed(changes)) => Some(Some(changes)),
                Ok(Poll::Everything) => Some(None),
                Ok(Poll::Unavailable(message)) => {
                    tracing::debug!(organization = %key.1, %message, "change feed unavailable");
                    None
                }
                Err(error) => {
                    tracing::debug!(organization = %key.1, %error, "change feed poll failed");
                    None
                }
                Ok(Poll::Unchanged) => None,
            };
            if let Some(entry) = self
                .feeds
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&key)
            {
                entry.feed = feed;
                entry.healthy = healthy;
                entry.quiet_until = unavailable.then(|| Instant::now() + UNAVAILABLE_RETRY);
            }
            if let Some(changes) = changes {
                quay.forget_changed(&key.1, changes.as_ref());
                let change = Arc::new(FeedChange {
                    users,
                    organization: key.1.clone(),
                    changes,
                });
                // No receiver (no controller running) is fine.
                let _ = self.sender.send(change.clone());
                announced.push(change);
            }
        }
        announced
    }

    /// Polls every feed each interval, forever (nothing when feeds are off).
    pub async fn run(self: Arc<Self>) {
        let Some(interval) = self.interval else {
            return;
        };
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.poll_once().await;
        }
    }

    /// The resources of `store` each announced change concerns, as they are announced.
    pub fn triggers<K: ManagedResource>(
        &self,
        store: Store<K>,
    ) -> impl Stream<Item = ObjectRef<K>> + Send + 'static {
        let receiver = self.sender.subscribe();
        let changes = futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(change) => return Some((change, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        futures::StreamExt::flat_map(changes, move |change| {
            futures::stream::iter(affected(&store, &change))
        })
    }
}

/// The resources of `store` that `change` concerns.
pub fn affected<K: ManagedResource>(store: &Store<K>, change: &FeedChange) -> Vec<ObjectRef<K>> {
    store
        .state()
        .into_iter()
        .filter(|o| change.concerns(&**o))
        .map(|o| ObjectRef::from_obj(&*o))
        .collect()
}
