//! Dependencies: a whole tree applied at once (organizations, their
//! repositories, notifications, mirrors) converges in one pass per level.
//! Each resource that finds its parent missing in Quay waits with a backoff
//! of at least 10 s; the operator's creation of the parent wakes it, so the
//! tree is Ready before any of those backoffs could have fired.

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
