//! State shared by every reconcile: the Kubernetes client, the Quay
//! connections, the event recorder and the per-object retry backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use rand::Rng;

use super::connections::Connections;
use super::feed::ChangeFeeds;
use super::signals::Signals;
use crate::engine::ErrorClass;
use crate::metrics::Metrics;

/// Shared controller state.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// Resolves QuayConnections into Quay clients.
    pub connections: Connections,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// How often an in-sync object is checked again for drift when no change
    /// feed covers its organization.
    pub resync: Duration,
    /// How often an in-sync object is checked again when a change feed covers
    /// its organization (the feed reports what others change in between).
    pub full_resync: Duration,
    /// The change feeds of the managed organizations (off unless configured).
    pub feeds: Arc<ChangeFeeds>,
    /// Reconcile outcomes and Quay calls, for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Between connections and the resources using them: rechecks, recoveries.
    pub signals: Signals,
    failures: Mutex<HashMap<String, u32>>,
}

/// Name of the field manager and event reporter.
pub const MANAGER: &str = "quay-config-operator";

impl Context {
    /// A context; list answers of Quay are shared between objects for `list_ttl`.
    pub fn new(
        client: Client,
        resync: Duration,
        list_ttl: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            connections: Connections::new(client.clone(), list_ttl, metrics.clone()),
            metrics,
            recorder: Recorder::new(client.clone(), reporter),
            client,
            resync,
            full_resync: resync,
            feeds: Arc::new(ChangeFeeds::new(None)),
            signals: Signals::default(),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// With the operator's namespace, where ClusterQuayConnections' Secrets live.
    pub fn with_operator_namespace(mut self, namespace: Option<String>) -> Self {
        self.connections.set_operator_namespace(namespace);
        self
    }

    /// With change feeds polled every `interval`: an object whose organization
    /// a working feed covers is observed in full every `full_resync` only.
    pub fn with_change_feeds(mut self, interval: Duration, full_resync: Duration) -> Self {
        self.feeds = Arc::new(ChangeFeeds::new(Some(interval)));
        self.full_resync = full_resync;
        self
    }

    /// Publishes an Event about `obj`; a failure to publish is only logged.
    pub async fn publish<K: kube::Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &obj.object_ref(&())).await {
            tracing::debug!(error = %e, "cannot publish event");
        }
    }

    /// Forgets the failures of an object after a success.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// The delay before the next attempt after a failure: Quay's Retry-After
    /// when it gave one, else exponential for transient and waiting failures,
    /// with jitter; the resync interval for failures only a person can fix.
    pub fn failed(&self, key: &str, class: ErrorClass, retry_after: Option<Duration>) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let count = failures.entry(key.to_owned()).or_insert(0);
        *count = count.saturating_add(1);
        let (base, cap) = match class {
            ErrorClass::Transient => (Duration::from_secs(5), Duration::from_secs(300)),
            ErrorClass::Waiting => (Duration::from_secs(10), Duration::from_secs(120)),
            ErrorClass::Terminal => return self.resync,
        };
        // Quay's Retry-After is followed as given, at least 1 s (a zero or
        // past one would loop at once), plus jitter so that the objects it
        // stopped do not come back together; else the delay doubles with
        // each failure in a row.
        let wait = match retry_after {
            Some(after) => after.max(Duration::from_secs(1)),
            None => base.saturating_mul(1 << (*count - 1).min(10)).min(cap),
        };
        let jitter = rand::rng().random_range(0..=wait.as_millis() as u64 / 4);
        wait + Duration::from_millis(jitter)
    }
}
