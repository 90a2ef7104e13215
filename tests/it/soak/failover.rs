//! Leader failover: two replicas of the operator share the leader Lease on
//! the fake API server, as two pods do; the leader is killed mid-reconcile
//! (its task dropped: no release, requests cut off). The standby takes the
//! Lease once it has expired, not before, and finishes the work without
//! doing again what the dead leader had finished.

use std::time::{Duration, Instant};

use quay_config_operator::controller;
use quay_config_operator::leader::{Elector, LEASE_NAME, LeaseTiming};
use quay_config_operator::workload::Workload;
use serde_json::Value;

use super::{Mode, NS, Soak};

/// Renewed every second, valid for four (the operator's: 15 s, renewed every 5 s).
const TIMING: LeaseTiming = LeaseTiming {
    duration: Duration::from_secs(4),
    renew_before_expiry: Duration::from_secs(3),
};

fn lease_path() -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases")
}

/// The Lease's holder and its `spec`.
fn lease(soak: &Soak) -> (Option<String>, Value) {
    let lease = soak.api.get(&lease_path(), LEASE_NAME).unwrap_or_default();
    let holder = lease["spec"]["holderIdentity"].as_str().map(str::to_owned);
    (holder, lease["spec"].clone())
}

fn micro_time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("a MicroTime")
        .into()
}

/// Writes sent to Quay so far.
fn writes(soak: &Soak) -> u64 {
    soak.emulator.stats().writes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_from_a_killed_leader_after_the_lease_expires_without_writing_twice() {
    let mode = Mode {
        workload: Workload {
            organizations: 1,
            repositories: 150,
            robots: 3,
            teams: 2,
        },
        changes: 0,
        outage: Duration::ZERO,
        patience: Duration::from_secs(240),
    };
    let soak = Soak::start(mode).await;
    let total = soak.resources();
    let replica = |identity: &str| {
        let client = soak.api.client(NS);
        let config = soak.run_config();
        let identity = identity.to_owned();
        async move {
            let elector = Elector::new(client.clone(), NS, identity, TIMING)
                .await
                .expect("joins the election");
            elector.acquire().await;
            let _ = elector.lead(controller::run(client, config)).await;
        }
    };
    let leader = tokio::spawn(replica("replica-a"));
    wait_for(&soak, |s| lease(s).0.as_deref() == Some("replica-a")).await;
    let standby = tokio::spawn(replica("replica-b"));

    // Kill the leader once it has done part of the work.
    wait_for(&soak, |s| total - s.not_ready().len() >= total / 4).await;
    leader.abort();
    let finished_by_leader = total - soak.not_ready().len();
    assert!(finished_by_leader < total, "killed mid-work");
    let (_, at_kill) = lease(&soak);
    // In-flight requests of the dead leader settle before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let written_by_leader = writes(&soak);

    let killed = Instant::now();
    wait_for(&soak, |s| lease(s).0.as_deref() == Some("replica-b")).await;
    let takeover = killed.elapsed();
    let (_, taken) = lease(&soak);
    // Never two leaders: the standby took the Lease only once the dead
    // leader's last renewal had expired.
    let expired =
        micro_time(&at_kill["renewTime"]) + chrono::Duration::from_std(TIMING.duration).unwrap();
    assert!(
        micro_time(&taken["acquireTime"]) >= expired,
        "taken at {} before the Lease expired at {expired}",
        taken["acquireTime"]
    );

    soak.converged("after the failover").await;
    soak.check_quay("after the failover").await;
    // What the leader finished (Ready, status written after its writes) is
    // only observed by the new leader; the rest needs one write each, a few
    // more for the kinds that take several (a quota's limits, a mirror's
    // repository state).
    let written_by_standby = writes(&soak) - written_by_leader;
    let unfinished = (total - finished_by_leader) as u64;
    assert!(
        written_by_standby <= unfinished + 10,
        "{written_by_standby} writes for {unfinished} unfinished resources"
    );
    eprintln!(
        "failover: {total} resources, killed after {finished_by_leader} were done; \
         the standby led {:.1} s later (Lease {} s) and wrote {written_by_standby} times",
        takeover.as_secs_f64(),
        TIMING.duration.as_secs()
    );
    standby.abort();
}

/// Polls every 50 ms until `condition` holds (at most the mode's patience).
async fn wait_for(soak: &Soak, condition: impl Fn(&Soak) -> bool) {
    let deadline = Instant::now() + soak.mode.patience;
    while !condition(soak) {
        assert!(Instant::now() < deadline, "gave up waiting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
