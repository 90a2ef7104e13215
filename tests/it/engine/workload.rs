//! Request budgets for the workload the Ansible collection was measured on
//! (`quay_config_operator::workload`), against a Quay that answers like a real
//! one to a superuser token with `FEATURE_SUPERUSERS_FULL_ACCESS` (the most
//! common way to run a configuration tool, and the one where a write below a
//! missing parent fails with 500). Counts, not times.

use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::engine::feed::{OrganizationFeed, Poll};
use quay_config_operator::workload::{Drive, Workload, converge};

use super::{Setup, TOKEN};

const DRIVE: Drive = Drive {
    concurrency: 4,
    retry_after: Duration::from_millis(20),
    attempts: 200,
};

/// The emulator's answers of the last phase: (reads, writes, answers >= 400).
fn counts(emulator: &Emulator) -> (u64, u64, u64) {
    let stats = emulator.stats();
    let failed = stats.client_errors + stats.server_errors;
    (stats.total - stats.writes(), stats.writes(), failed)
}

#[tokio::test]
async fn the_ansible_workload_converges_near_the_request_floor() {
    let emulator = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .unwrap();
    let workload = Workload::ANSIBLE;
    let resources = workload.resources(0, 0);
    assert_eq!(resources.len(), 1 + 1 + 5 + 2 + 100 + 100);

    // First convergence: everything applied at once. 211 writes are the floor
    // (1 organization, 1 quota + 2 thresholds, 5 robots, 2 teams, 100
    // repositories, 100 notifications); no notification is created before its
    // repository, so no write fails.
    let quay = Setup::quay_for(&emulator);
    let failed = converge(&resources, &quay, DRIVE).await;
    assert!(failed.is_empty(), "{failed:?}");
    let (reads, writes, errors) = counts(&emulator);
    eprintln!("first convergence: {reads} reads, {writes} writes, {errors} failed");
    // Each write made once, none refused (a refused write is retried, and
    // would count twice); the only error answer is the 404 of the
    // organization's own existence check before it is created.
    assert_eq!(writes, 211, "{:?}", emulator.stats());
    assert_eq!(emulator.stats().server_errors, 0, "{:?}", emulator.stats());
    assert!(errors <= 1, "{:?}", emulator.stats());
    assert!(reads + writes <= 230, "{:?}", emulator.stats());

    // A restart with everything in sync: a fresh engine (empty caches).
    emulator.reset_stats();
    let fresh = Setup::quay_for(&emulator);
    assert!(converge(&resources, &fresh, DRIVE).await.is_empty());
    let (reads, writes, errors) = counts(&emulator);
    eprintln!("restart in sync: {reads} reads, {writes} writes");
    assert_eq!((writes, errors), (0, 0), "{:?}", emulator.stats());
    assert!(reads <= 110, "{:?}", emulator.stats());

    // The change feed starts where the log stands.
    let mut feed = OrganizationFeed::new("bench000");
    assert_eq!(feed.poll(&fresh).await.unwrap(), Poll::Unchanged);

    // Ten descriptions changed: the controllers reconcile the ten resources.
    emulator.reset_stats();
    let changed = workload.resources(10, 1);
    let mut ten = changed.clone();
    ten.repositories.truncate(10);
    ten.organizations.clear();
    ten.quotas.clear();
    ten.robots.clear();
    ten.teams.clear();
    ten.notifications.clear();
    assert!(converge(&ten, &fresh, DRIVE).await.is_empty());
    let (reads, writes, _) = counts(&emulator);
    eprintln!("ten descriptions: {reads} reads, {writes} writes");
    assert_eq!(writes, 10, "{:?}", emulator.stats());
    assert!(reads <= 8, "{:?}", emulator.stats());

    // One resync with nothing changed (after the list TTL: a fresh engine).
    emulator.reset_stats();
    let later = Setup::quay_for(&emulator);
    assert!(converge(&changed, &later, DRIVE).await.is_empty());
    let (reads, writes, _) = counts(&emulator);
    eprintln!("resync: {reads} reads, {writes} writes");
    assert_eq!(writes, 0, "{:?}", emulator.stats());
    assert!(reads <= 110, "{:?}", emulator.stats());

    // One resync with the change feed: the log shows only the operator's own
    // ten writes, so nothing is observed again.
    emulator.reset_stats();
    assert_eq!(feed.poll(&later).await.unwrap(), Poll::Unchanged);
    let stats = emulator.stats();
    assert!(stats.total <= 5, "{stats:?}");
}
