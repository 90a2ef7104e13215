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
//!   a robot, a team) wakes the resources waiting for something at that place
//!   ([`Signals::appeared`]): a whole tree applied at once converges in one
//!   pass per level instead of one backoff per level. A reconcile that ends
//!   waiting registers itself ([`Signals::wait`]) under the same lock the
//!   appearances are logged under, so a creation is not missed in between:
//!   one that came while the reconcile ran makes it retry at once, one that
//!   comes later wakes it. (A wake lost to a full channel leaves the resource
//!   to its backoff, at most two minutes.)

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// How long an appearance stays in the log: far longer than a reconcile.
const APPEARANCE_MEMORY: Duration = Duration::from_secs(300);

/// The broadcast channels, and the recent appearances.
pub struct Signals {
    recheck: broadcast::Sender<ConnectionId>,
    recovered: broadcast::Sender<ConnectionId>,
    woken: broadcast::Sender<Waiter>,
    log: Mutex<AppearanceLog>,
}

/// Recent appearances, numbered in the order they were announced, and the
/// resources waiting for one.
#[derive(Default)]
struct AppearanceLog {
    /// The number of appearances announced so far.
    count: u64,
    /// `(number, when, where)`, oldest first, at most [`APPEARANCE_MEMORY`] old.
    recent: VecDeque<(u64, Instant, QuayLocation)>,
    /// The number of the last appearance dropped from `recent`.
    forgotten: u64,
    /// Resources whose last reconcile ended waiting, with their place.
    waiting: HashMap<Waiter, QuayLocation>,
}

/// A resource, as the wake-up of one kind's controller names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Waiter {
    /// Its kind (`QuayTeam`).
    pub kind: String,
    /// Its namespace (`None` when cluster-scoped).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

/// A point in the sequence of appearances: see [`Signals::start`].
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

impl Default for Signals {
    fn default() -> Self {
        Signals {
            recheck: broadcast::channel(1024).0,
            recovered: broadcast::channel(1024).0,
            woken: broadcast::channel(4096).0,
            log: Mutex::default(),
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

    /// Says that the operator created an object at `location` in Quay for
    /// resource `by`: wakes the (other) resources waiting there.
    pub fn appeared(&self, location: QuayLocation, by: &Waiter) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.count += 1;
        let now = Instant::now();
        while log
            .recent
            .front()
            .is_some_and(|(_, at, _)| now.duration_since(*at) > APPEARANCE_MEMORY)
        {
            if let Some((number, _, _)) = log.recent.pop_front() {
                log.forgotten = number;
            }
        }
        let count = log.count;
        let mut woken = Vec::new();
        log.waiting
            .retain(|waiter, at| match location.covers(at) && waiter != by {
                true => {
                    woken.push(waiter.clone());
                    false
                }
                false => true,
            });
        log.recent.push_back((count, now, location));
        for waiter in woken {
            let _ = self.woken.send(waiter);
        }
    }

    /// Called when a reconcile of `waiter` starts: it no longer waits, and
    /// the returned mark says which appearances its reads may have missed.
    pub fn start(&self, waiter: &Waiter) -> Mark {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.waiting.remove(waiter);
        Mark(log.count)
    }

    /// Called when the reconcile of `waiter` that started at `mark` ends
    /// waiting for something at `at`. Returns `true` when something appeared
    /// there since `mark` (the reconcile may have missed it: retry now);
    /// otherwise `waiter` is woken by the next appearance there.
    pub fn wait(&self, mark: Mark, waiter: Waiter, at: QuayLocation) -> bool {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        // A reconcile older than the log's memory may have missed anything.
        let missed = log.forgotten > mark.0
            || log
                .recent
                .iter()
                .rev()
                .take_while(|(number, _, _)| *number > mark.0)
                .any(|(_, _, created)| created.covers(&at));
        if !missed {
            log.waiting.insert(waiter, at);
        }
        missed
    }

    /// Resources to reconcile because what they waited for appeared.
    pub fn woken(&self) -> impl Stream<Item = Waiter> + Send + 'static {
        stream(self.woken.subscribe())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(namespace: &str, repository: Option<&str>) -> QuayLocation {
        QuayLocation {
            namespace: namespace.to_owned(),
            repository: repository.map(str::to_owned),
        }
    }

    fn team(name: &str) -> Waiter {
        Waiter {
            kind: "QuayTeam".to_owned(),
            namespace: Some("ns".to_owned()),
            name: name.to_owned(),
        }
    }

    #[test]
    fn a_reconcile_that_missed_an_appearance_retries_and_a_later_one_wakes_it() {
        let signals = Signals::default();
        let mut woken = signals.woken.subscribe();
        signals.appeared(at("acme", None), &team("creator"));
        let mark = signals.start(&team("a"));
        // Appeared before the reconcile started: its reads saw it.
        signals.appeared(at("other", Some("web")), &team("creator"));
        assert!(!signals.wait(mark, team("a"), at("acme", Some("app"))));
        let mark = signals.start(&team("b"));
        signals.appeared(at("acme", None), &team("creator"));
        // Appeared while the reconcile of b ran: retry now, not registered.
        assert!(signals.wait(mark, team("b"), at("acme", None)));
        // a was registered and is woken by that appearance, once.
        assert_eq!(woken.try_recv().unwrap(), team("a"));
        assert!(woken.try_recv().is_err());
        // A repository's creation wakes only what waits at that repository.
        let mark = signals.start(&team("c"));
        assert!(!signals.wait(mark, team("c"), at("acme", Some("app"))));
        signals.appeared(at("acme", Some("web")), &team("creator"));
        assert!(woken.try_recv().is_err());
        signals.appeared(at("acme", Some("app")), &team("creator"));
        assert_eq!(woken.try_recv().unwrap(), team("c"));
        // A new reconcile withdraws the registration.
        let mark = signals.start(&team("d"));
        assert!(!signals.wait(mark, team("d"), at("x", None)));
        signals.start(&team("d"));
        signals.appeared(at("x", None), &team("creator"));
        assert!(woken.try_recv().is_err());
        // What a resource created is not a reason to wake that resource.
        let mark = signals.start(&team("e"));
        assert!(!signals.wait(mark, team("e"), at("y", None)));
        signals.appeared(at("y", None), &team("e"));
        assert!(woken.try_recv().is_err());
    }
}
