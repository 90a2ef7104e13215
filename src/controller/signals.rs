//! What the connection controllers and the resource controllers tell each
//! other, so that a refused token costs one request per connection instead
//! of one per resource, and its return is noticed at once:
//!
//! - a resource whose request Quay refused (401) asks for its connection to
//!   be checked again now ([`Signals::recheck`]), instead of at the next
//!   resync; while the connection reports the refusal, resources fail without
//!   asking Quay;
//! - a connection that works after not working (token restored or replaced,
//!   first check) wakes the resources using it that are not Ready
//!   ([`Signals::recovered`]), instead of leaving them to their backoff.

use futures::Stream;
use tokio::sync::broadcast;

use crate::crd::ConnectionKind;

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

/// The two broadcast channels; cheap to share.
pub struct Signals {
    recheck: broadcast::Sender<ConnectionId>,
    recovered: broadcast::Sender<ConnectionId>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            recheck: broadcast::channel(1024).0,
            recovered: broadcast::channel(1024).0,
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
fn stream(
    receiver: broadcast::Receiver<ConnectionId>,
) -> impl Stream<Item = ConnectionId> + Send + 'static {
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
