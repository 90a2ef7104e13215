//! What the connection controllers and the resource controllers tell each
//! other, so that a refused token costs one request per connection instead
//! of one per resource, and its return is noticed at once:
//!
//! - a resource whose request Quay refused (401) asks for its connection to
//!   be checked again now ([`Signals::recheck`]), instead of at the next
//!   resync; while the connection reports the refusal, resources fail without
//!   asking Quay;
//! - a connection that works after not working (token restored or replaced,
//!   first check) wakes the resources using it that failed because of it
//!   ([`Signals::recovered`], [`CONNECTION_REASONS`]), instead of leaving
//!   them to their backoff;
//! - an object the operator created in Quay (an organization, a repository,
//!   a robot) wakes the resources waiting for something at that place
//!   ([`Signals::appeared`]): a whole tree applied at once converges in one
//!   pass per level instead of one backoff per level.

use futures::Stream;
use tokio::sync::broadcast;

use super::kinds::QuayLocation;
use crate::crd::ConnectionKind;

/// The `Ready` reasons of resources that failed because of their connection
/// (not of Quay's load): the ones a recovered connection wakes. Resources
/// parked on a Retry-After or a server error keep their own backoff.
pub const CONNECTION_REASONS: &[&str] = &[
    "Unauthorized",
    "ConnectionNotFound",
    "SecretNotFound",
    "InvalidSecret",
    "InvalidConnection",
    "IdentityChanged",
];

/// A connection, as resources name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    /// QuayConnection or ClusterQuayConnection.
    pub kind: ConnectionKind,
    /// The namespace of a QuayConnection (`None` for a ClusterQuayConnection).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl ConnectionId {
    /// The connection a resource of `namespace` refers to with `reference`.
    pub fn of(namespace: &str, reference: &crate::crd::ConnectionRef) -> Self {
        ConnectionId {
            kind: reference.kind,
            namespace: match reference.kind {
                ConnectionKind::QuayConnection => Some(namespace.to_owned()),
                ConnectionKind::ClusterQuayConnection => None,
            },
            name: reference.name.clone(),
        }
    }
}

/// The broadcast channels.
pub struct Signals {
    recheck: broadcast::Sender<ConnectionId>,
    recovered: broadcast::Sender<ConnectionId>,
    appeared: broadcast::Sender<QuayLocation>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            recheck: broadcast::channel(1024).0,
            recovered: broadcast::channel(1024).0,
            appeared: broadcast::channel(4096).0,
        }
    }
}

impl Signals {
    /// Asks for `connection` to be checked again now.
    pub fn recheck(&self, connection: ConnectionId) {
        let _ = self.recheck.send(connection);
    }

    /// Says that `connection` works again.
    pub fn recovered(&self, connection: ConnectionId) {
        let _ = self.recovered.send(connection);
    }

    /// Says that the operator created an object at `location` in Quay.
    pub fn appeared(&self, location: QuayLocation) {
        let _ = self.appeared.send(location);
    }

    /// Places where objects were created, from now on.
    pub fn appearances(&self) -> impl Stream<Item = QuayLocation> + Send + 'static {
        stream(self.appeared.subscribe())
    }

    /// Connections to check again, from now on.
    pub fn rechecks(&self) -> impl Stream<Item = ConnectionId> + Send + 'static {
        stream(self.recheck.subscribe())
    }

    /// Connections that work again, from now on.
    pub fn recoveries(&self) -> impl Stream<Item = ConnectionId> + Send + 'static {
        stream(self.recovered.subscribe())
    }
}

/// A receiver as a stream; a lagging receiver skips what it missed (a
/// missed signal only delays a retry until the backoff or resync).
fn stream<T: Clone + Send + 'static>(
    receiver: broadcast::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(id) => return Some((id, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
