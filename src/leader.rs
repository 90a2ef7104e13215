//! Leader election, so that two or more replicas can run with one active.
//!
//! The replicas share the Lease [`LEASE_NAME`] (`coordination.k8s.io/v1`) in the
//! operator's own namespace; only its holder runs the controllers. The Lease itself
//! is handled by [`kube_lease_manager`] (server-side apply, conflict detection,
//! clock-skew grace). This module adds what an operator needs around it:
//!
//! - A standby replica waits for the Lease ([`Elector::acquire`]); an API error
//!   there is logged and retried with backoff, never fatal.
//! - The leader renews the Lease [`RENEW_BEFORE_EXPIRY`] before it expires, that
//!   is every few seconds. If one renewal fails, or another replica holds the
//!   Lease, [`Elector::hold`] returns and the process steps down by exiting: it
//!   never acts without the Lease, and the restarted container comes back as a
//!   standby.
//! - Lease requests use their own client ([`lease_client`]) with short timeouts
//!   and no automatic retries, so a renewal that hangs fails before the Lease
//!   can expire instead of outliving it.
//! - On a clean shutdown the Lease is released ([`Elector::release`]).
//!
//! The API calls are `get`, `create` and `patch` on `leases`, which is all the
//! RBAC the chart grants for it.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerError, LeaseParams};

/// Name of the Lease the replicas compete for.
pub const LEASE_NAME: &str = "quay-config-operator";

/// How long a Lease stays valid after its last renewal. A replica that dies
/// holding it is replaced after at most this long.
pub const LEASE_DURATION: Duration = Duration::from_secs(15);

/// How long before expiry the leader renews: with a 15 s Lease, a renewal every
/// 5 s. It is also the clock skew between nodes that the election tolerates.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(10);

/// Bound on each phase (connect, write, read) of one Lease request, so that a
/// failed renewal is noticed well inside [`RENEW_BEFORE_EXPIRY`].
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest wait between two attempts of a standby replica whose Lease requests fail.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Command-line settings of leader election (`quay-config-operator run`).
#[derive(clap::Args, Debug, Clone)]
pub struct LeaderElectionArgs {
    /// Run the controllers only while holding the Lease `quay-config-operator`, so
    /// that several replicas can run with one active (off for local runs).
    #[arg(
        long = "leader-election",
        env = "LEADER_ELECTION",
        default_value_t = false
    )]
    pub enabled: bool,
    /// Namespace of the Lease: the operator's own (default: the in-cluster
    /// namespace, or the kubeconfig context's).
    #[arg(long = "leader-election-namespace", env = "POD_NAMESPACE")]
    pub namespace: Option<String>,
}

/// Why a leader stopped leading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lost {
    /// Renewing the Lease failed; it may expire and be taken by another replica.
    #[error("renewing the Lease failed: {0}")]
    RenewalFailed(String),
    /// Another replica holds the Lease.
    #[error("another replica holds the Lease")]
    TakenOver,
}

/// Errors of setting up leader election.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Lease could not be read or created.
    #[error("cannot get or create the Lease {namespace}/{LEASE_NAME}")]
    Setup {
        /// Namespace of the Lease.
        namespace: String,
        /// What the API answered.
        #[source]
        source: LeaseManagerError,
    },
}

/// Timing of the Lease; [`LeaseTiming::default`] is what the operator uses,
/// tests use shorter ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// Validity of the Lease after a renewal.
    pub duration: Duration,
    /// How long before expiry the holder renews; shorter than `duration`.
    pub renew_before_expiry: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self {
            duration: LEASE_DURATION,
            renew_before_expiry: RENEW_BEFORE_EXPIRY,
        }
    }
}

/// One replica's participation in the election.
pub struct Elector {
    manager: LeaseManager,
    identity: String,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// What a replica does with one answer of the lease manager: whether it now
/// holds the Lease, or the error it met.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// Hold (or keep holding) the Lease: run the controllers.
    Lead,
    /// Keep waiting for the Lease.
    Wait,
    /// A standby's request failed: wait a little, then try again.
    RetryLater,
    /// Stop leading: exit.
    StepDown(Lost),
}

/// The election decision, apart from the API calls.
fn next(leading: bool, answer: Result<bool, String>) -> Next {
    match (leading, answer) {
        (_, Ok(true)) => Next::Lead,
        (false, Ok(false)) => Next::Wait,
        (false, Err(_)) => Next::RetryLater,
        (true, Ok(false)) => Next::StepDown(Lost::TakenOver),
        (true, Err(err)) => Next::StepDown(Lost::RenewalFailed(err)),
    }
}

/// Wait before the `attempt`-th retry (from 1) of a standby: 1 s, doubling, at most 30 s.
fn retry_delay(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(MAX_RETRY_DELAY)
}

/// This replica's identity in the Lease: the pod name (or, outside a pod, the
/// host name) plus a random suffix, so that two processes on one host, or a
/// restarted container, never pass for each other.
pub fn identity(pod_name: Option<&str>, hostname: Option<&str>, suffix: &str) -> String {
    let base = [pod_name, hostname]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("quay-config-operator");
    format!("{base}_{suffix}")
}

/// [`identity`] from `POD_NAME`, else `HOSTNAME` or the kernel's host name, and
/// a random suffix.
pub fn identity_from_env() -> String {
    let pod_name = std::env::var("POD_NAME").ok();
    let hostname = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    identity(pod_name.as_deref(), hostname.as_deref(), &suffix[..8])
}

/// A client for Lease requests only: each request is bounded by short
/// timeouts and is not retried automatically, so that a renewal cannot outlast
/// the Lease (the general client retries throttled requests for minutes).
pub fn lease_client(mut config: kube::Config) -> Result<Client, kube::Error> {
    config.default_retry = false;
    config.connect_timeout = Some(REQUEST_TIMEOUT);
    config.read_timeout = Some(REQUEST_TIMEOUT);
    config.write_timeout = Some(REQUEST_TIMEOUT);
    Client::try_from(config)
}

impl Elector {
    /// Joins the election for the Lease [`LEASE_NAME`] in `namespace`, creating the
    /// Lease if it does not exist. Nothing is held yet: call [`Elector::acquire`].
    pub async fn new(
        client: Client,
        namespace: &str,
        identity: String,
        timing: LeaseTiming,
    ) -> Result<Self, Error> {
        assert!(
            timing.renew_before_expiry < timing.duration && !timing.renew_before_expiry.is_zero(),
            "the Lease is renewed before it expires"
        );
        let params = LeaseParams::new(
            identity.clone(),
            timing.duration.as_secs(),
            timing.renew_before_expiry.as_secs(),
        );
        let manager = LeaseManager::new(
            client,
            LEASE_NAME,
            namespace,
            params,
            LeaseCreateMode::AutoCreate,
        )
        .await
        .map_err(|source| Error::Setup {
            namespace: namespace.to_owned(),
            source,
        })?;
        Ok(Self { manager, identity })
    }

    /// This replica's identity in the Lease.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Waits until this replica holds the Lease: at once when it is free or
    /// expired, otherwise once its holder stops renewing it. API errors are
    /// logged and retried with backoff.
    pub async fn acquire(&self) {
        let mut failures = 0;
        loop {
            let answer = self.manager.changed().await.map_err(|e| e.to_string());
            if let Err(err) = &answer {
                tracing::warn!(error = %err, "cannot read or take the leader Lease; retrying");
            }
            match next(false, answer) {
                Next::Lead => {
                    tracing::info!(identity = %self.identity, "acquired the leader Lease");
                    return;
                }
                Next::Wait => failures = 0,
                Next::RetryLater => {
                    failures += 1;
                    tokio::time::sleep(retry_delay(failures)).await;
                }
                Next::StepDown(_) => unreachable!("a standby has nothing to step down from"),
            }
        }
    }

    /// Keeps renewing the Lease while this replica holds it; returns why it
    /// stopped: a renewal failed or another replica took the Lease. The caller
    /// must then stop acting at once.
    pub async fn hold(&self) -> Lost {
        loop {
            let answer = self.manager.changed().await.map_err(|e| e.to_string());
            if let Next::StepDown(lost) = next(true, answer) {
                tracing::error!(identity = %self.identity, reason = %lost, "lost the leader Lease");
                return lost;
            }
        }
    }

    /// Runs `work` (the controllers) while holding the Lease, once
    /// [`Elector::acquire`] returned: when `work` ends the Lease is released;
    /// when the Lease is lost `work` is dropped at once, mid-reconcile if need
    /// be, and the reason returned: the caller must stop (exit) so that it
    /// never acts as a second leader.
    pub async fn lead(&self, work: impl std::future::Future<Output = ()>) -> Result<(), Lost> {
        tokio::select! {
            () = work => {
                self.release().await;
                Ok(())
            }
            lost = self.hold() => Err(lost),
        }
    }

    /// Gives the Lease up (if held) so that a standby does not wait for it to
    /// expire. Errors are only logged: the Lease then expires on its own.
    pub async fn release(&self) {
        match self.manager.release().await {
            Ok(()) => tracing::info!(identity = %self.identity, "released the leader Lease"),
            Err(err) => tracing::warn!(error = %err, "cannot release the leader Lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standby_leads_once_it_holds_the_lease() {
        assert_eq!(next(false, Ok(true)), Next::Lead);
        assert_eq!(next(false, Ok(false)), Next::Wait);
    }

    #[test]
    fn a_standby_retries_errors() {
        assert_eq!(next(false, Err("503".into())), Next::RetryLater);
    }

    #[test]
    fn a_leader_steps_down_when_renewal_fails_or_the_lease_is_taken() {
        assert_eq!(next(true, Ok(true)), Next::Lead);
        assert_eq!(next(true, Ok(false)), Next::StepDown(Lost::TakenOver));
        assert_eq!(
            next(true, Err("timed out".into())),
            Next::StepDown(Lost::RenewalFailed("timed out".into()))
        );
    }

    #[test]
    fn retry_delay_doubles_up_to_thirty_seconds() {
        let delays: Vec<u64> = (1..=8).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_delay(0), Duration::from_secs(1));
    }

    #[test]
    fn identity_is_pod_name_else_hostname_plus_suffix() {
        assert_eq!(
            identity(Some("op-7d9f-abcde"), Some("node"), "1a2b3c4d"),
            "op-7d9f-abcde_1a2b3c4d"
        );
        assert_eq!(identity(None, Some("laptop\n"), "x"), "laptop_x");
        assert_eq!(identity(Some(""), None, "x"), "quay-config-operator_x");
    }

    #[test]
    fn identities_from_env_differ() {
        assert_ne!(identity_from_env(), identity_from_env());
    }

    #[test]
    fn default_timing_renews_every_few_seconds() {
        let timing = LeaseTiming::default();
        let every = timing.duration - timing.renew_before_expiry;
        assert_eq!(every, Duration::from_secs(5));
        // A renewal is a PATCH then a GET, each bounded by its connect and read
        // timeouts: even a hanging one fails before the Lease expires.
        assert!(2 * (REQUEST_TIMEOUT + REQUEST_TIMEOUT) < timing.renew_before_expiry);
    }

    /// The election against an in-memory Lease API, through the real lease manager.
    mod with_api {
        use super::super::*;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};

        use http::{Method, Request, Response, StatusCode};
        use k8s_openapi::api::coordination::v1::Lease;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
        use k8s_openapi::jiff::Timestamp;
        use kube::client::Body;
        use serde_json::{Value, json};

        const NS: &str = "operators";
        /// Renewed every second, valid for four: slack for a loaded test machine.
        const SHORT: LeaseTiming = LeaseTiming {
            duration: Duration::from_secs(4),
            renew_before_expiry: Duration::from_secs(3),
        };

        /// One Lease object in memory; `failing` makes every request answer 500.
        #[derive(Clone, Default)]
        struct FakeApi {
            lease: Arc<Mutex<Option<Value>>>,
            failing: Arc<AtomicBool>,
        }

        impl FakeApi {
            fn client(&self) -> Client {
                let api = self.clone();
                let service = tower::service_fn(move |request: Request<Body>| {
                    let api = api.clone();
                    async move { Ok::<_, std::convert::Infallible>(api.answer(request).await) }
                });
                Client::new(service, NS)
            }

            fn lease(&self) -> Lease {
                let value = self.lease.lock().unwrap().clone().expect("a Lease");
                serde_json::from_value(value).unwrap()
            }

            fn holder(&self) -> Option<String> {
                self.lease().spec.and_then(|s| s.holder_identity)
            }

            /// Another replica holds the Lease for 3 s, renewed just now.
            fn held_by_other(&self) {
                let now = serde_json::to_value(MicroTime(Timestamp::now())).unwrap();
                *self.lease.lock().unwrap() = Some(json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": LEASE_NAME, "namespace": NS, "resourceVersion": "1"},
                    "spec": {"holderIdentity": "other", "acquireTime": now, "renewTime": now,
                             "leaseDurationSeconds": 3},
                }));
            }

            async fn answer(&self, request: Request<Body>) -> Response<Body> {
                let path = request.uri().path().to_owned();
                let collection = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases");
                let object = format!("{collection}/{LEASE_NAME}");
                let method = request.method().clone();
                let content_type = request
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = request.into_body().collect_bytes().await.unwrap();
                if self.failing.load(Ordering::SeqCst) {
                    return status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
                }
                let mut lease = self.lease.lock().unwrap();
                match (method, path) {
                    (Method::GET, p) if p == object => match &*lease {
                        Some(l) => json_response(StatusCode::OK, l),
                        None => status(StatusCode::NOT_FOUND, "NotFound"),
                    },
                    (Method::POST, p) if p == collection => {
                        let mut created: Value = serde_json::from_slice(&body).unwrap();
                        created["metadata"]["namespace"] = json!(NS);
                        *lease = Some(created.clone());
                        json_response(StatusCode::CREATED, &created)
                    }
                    (Method::PATCH, p) if p == object => {
                        let Some(current) = lease.as_mut() else {
                            return status(StatusCode::NOT_FOUND, "NotFound");
                        };
                        let patch: Value = serde_json::from_slice(&body).unwrap();
                        let spec = current
                            .as_object_mut()
                            .unwrap()
                            .entry("spec")
                            .or_insert_with(|| json!({}));
                        // Server-side apply conflicts on a holder owned by someone else.
                        let held = spec.get("holderIdentity").is_some_and(|h| !h.is_null());
                        if content_type.starts_with("application/apply-patch") && held {
                            return status(StatusCode::CONFLICT, "Conflict");
                        }
                        for (key, value) in patch["spec"].as_object().unwrap() {
                            if value.is_null() {
                                spec.as_object_mut().unwrap().remove(key);
                            } else {
                                spec[key] = value.clone();
                            }
                        }
                        json_response(StatusCode::OK, current)
                    }
                    (method, path) => panic!("unexpected request {method} {path}"),
                }
            }
        }

        fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
            Response::builder()
                .status(code)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(value).unwrap()))
                .unwrap()
        }

        fn status(code: StatusCode, reason: &str) -> Response<Body> {
            json_response(
                code,
                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": reason, "reason": reason, "code": code.as_u16()}),
            )
        }

        async fn elector(api: &FakeApi, name: &str) -> Elector {
            Elector::new(api.client(), NS, name.to_owned(), SHORT)
                .await
                .unwrap()
        }

        async fn within<F: std::future::Future>(secs: u64, f: F) -> Option<F::Output> {
            tokio::time::timeout(Duration::from_secs(secs), f)
                .await
                .ok()
        }

        #[tokio::test]
        async fn a_free_lease_is_created_and_taken() {
            let api = FakeApi::default();
            let me = elector(&api, "me").await;
            within(5, me.acquire()).await.expect("acquired");
            assert_eq!(api.holder().as_deref(), Some("me"));
            assert_eq!(api.lease().spec.unwrap().lease_duration_seconds, Some(4));
        }

        #[tokio::test]
        async fn a_held_lease_is_taken_only_once_it_expires() {
            let api = FakeApi::default();
            api.held_by_other();
            let me = elector(&api, "me").await;
            assert!(within(1, me.acquire()).await.is_none(), "still held");
            assert_eq!(api.holder().as_deref(), Some("other"));
            within(8, me.acquire()).await.expect("taken over");
            assert_eq!(api.holder().as_deref(), Some("me"));
        }

        #[tokio::test]
        async fn the_leader_renews_and_keeps_the_lease() {
            let api = FakeApi::default();
            let me = elector(&api, "me").await;
            within(5, me.acquire()).await.expect("acquired");
            let acquired = api.lease().spec.unwrap().renew_time.unwrap();
            assert!(within(3, me.hold()).await.is_none(), "still leading");
            let renewed = api.lease().spec.unwrap().renew_time.unwrap();
            assert!(renewed.0 > acquired.0, "renewed");
            assert_eq!(api.holder().as_deref(), Some("me"));
        }

        #[tokio::test]
        async fn a_failed_renewal_steps_down_before_the_lease_expires() {
            let api = FakeApi::default();
            let me = elector(&api, "me").await;
            within(5, me.acquire()).await.expect("acquired");
            api.failing.store(true, Ordering::SeqCst);
            // Within the Lease's 4 s: before another replica could take it.
            let lost = within(4, me.hold()).await.expect("stepped down");
            assert!(matches!(lost, Lost::RenewalFailed(_)), "{lost:?}");
        }

        #[tokio::test]
        async fn a_leader_whose_lease_was_taken_steps_down() {
            let api = FakeApi::default();
            let me = elector(&api, "me").await;
            within(5, me.acquire()).await.expect("acquired");
            api.held_by_other();
            let lost = within(3, me.hold()).await.expect("stepped down");
            assert_eq!(lost, Lost::TakenOver);
        }

        #[tokio::test]
        async fn release_frees_the_lease() {
            let api = FakeApi::default();
            let me = elector(&api, "me").await;
            within(5, me.acquire()).await.expect("acquired");
            me.release().await;
            assert_eq!(api.holder(), None);
        }
    }
}
