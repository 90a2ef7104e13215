//! Dependencies: a whole tree applied at once (organizations, their
//! repositories, notifications, mirrors) converges in one pass per level.
//! Each resource that finds its parent missing in Quay waits with a backoff
//! of at least 10 s; the operator's creation of the parent wakes it, so the
//! tree is Ready before any of those backoffs could have fired. For that the
//! resources of one connection share one client and its lists, whatever
//! happens to the token Secret's metadata.

use std::time::{Duration, Instant};

use quay_config_operator::workload::Workload;

use super::{Mode, Soak};

/// The first retry of a resource waiting for a dependency (10 s, plus jitter).
const FIRST_WAITING_RETRY: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_applied_at_once_is_ready_before_any_waiting_retry() {
    let mode = Mode {
        workload: Workload {
            organizations: 2,
            repositories: 10,
            robots: 2,
            teams: 2,
        },
        changes: 0,
        outage: Duration::ZERO,
        patience: FIRST_WAITING_RETRY,
    };
    let mut soak = Soak::start(mode).await;
    let started = Instant::now();
    soak.start_operator();
    // Panics with the resources still waiting if any waited for its retry.
    soak.converged("a tree applied at once").await;
    assert!(started.elapsed() < FIRST_WAITING_RETRY);
    soak.check_quay("a tree applied at once").await;
    soak.stop_operator();
}

/// One Quay client (with its shared lists) per connection: a write to the
/// token Secret's metadata (a GitOps label; the connection's own finalizer
/// is one) keeps it, so the next changes are served from the lists already
/// read instead of asking Quay who the token is and listing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_on_the_token_secret_keeps_the_shared_lists() {
    let mode = Mode {
        workload: Workload {
            organizations: 1,
            repositories: 4,
            robots: 1,
            teams: 1,
        },
        changes: 0,
        outage: Duration::ZERO,
        patience: Duration::from_secs(30),
    };
    let mut soak = Soak::start(mode).await;
    soak.start_operator();
    soak.converged("a tree applied at once").await;
    soak.emulator.reset_stats();
    soak.api.apply(
        &super::collection("secrets"),
        serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "quay-token", "labels": {"team": "platform"}}}),
    );
    // Repository descriptions: each needs its namespace's repository list.
    soak.change(1);
    soak.change(1);
    soak.converged("after a label on the token Secret").await;
    let stats = soak.emulator.stats();
    assert_eq!(
        stats.by_route.get("GET /api/v1/repository"),
        None,
        "the repository list read again after a label on the token Secret: {:#?}",
        stats.by_route
    );
    // The connection checks its token again when its Secret changes; the
    // resources do not ask who the token is.
    assert!(
        stats.by_route.get("GET /api/v1/user/") <= Some(&1),
        "{:#?}",
        stats.by_route
    );
    assert_eq!(
        stats.by_route.get("PUT /api/v1/repository/{repository}"),
        Some(&2),
        "{:#?}",
        stats.by_route
    );
    soak.stop_operator();
}
