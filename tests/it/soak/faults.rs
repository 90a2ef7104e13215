//! Fault soak: the operator's controllers, as `quay-config-operator run`
//! starts them ([`controller::run`]), on a stateful fake API server, keep
//! every kind of resource converged against the emulator while it fails in
//! phases: 5 % 500s, 429 storms with `Retry-After`, dropped connections
//! (before and after Quay did the change), 2 s latency, an outage, a restart
//! that keeps Quay's state, a revoked then restored token. Each phase changes
//! some resources (repository descriptions, team descriptions, notification
//! titles: Quay replaces a notification by delete + create, the write most
//! likely to duplicate under faults) and checks:
//!
//! - every resource is `Ready` for its current generation;
//! - Quay holds exactly what the resources say: one notification per
//!   repository with its current title, every repository, robot and team;
//! - only the changed kinds were written (no write for a resource in sync)
//!   and nothing was deleted but replaced notifications;
//! - the requests per changed resource stay within a bound of the calm
//!   phase's (retries back off, honour `Retry-After`), and the operator never
//!   had more than [`MAX_IN_FLIGHT`] requests in flight.
//!
//! At the end a restarted operator observes everything and writes nothing.
//! The figures are printed (`--nocapture`) for the README.
//!
//! Short mode (default, in CI): ~340 resources, 80 changes a phase, an 8 s
//! outage. Long mode (`SOAK_LONG=1`): ~1,100 resources, 100 changes a phase,
//! the 60 s outage.
//!
//! [`MAX_IN_FLIGHT`]: quay_config_operator::quay::MAX_IN_FLIGHT

use std::time::{Duration, Instant};

use quay_config_operator::emulator::FaultRule;

use super::{Mode, Soak, TOKEN};

fn fraction(fraction: f64, rule: FaultRule) -> FaultRule {
    FaultRule {
        fraction: Some(fraction),
        ..rule
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_converges_through_every_fault_without_duplicates_or_stray_writes() {
    let mode = Mode::from_env();
    let mut soak = Soak::start(mode).await;
    let resources = soak.resources();
    soak.emulator.reset_stats();
    let started = Instant::now();
    soak.start_operator();
    soak.converged("first convergence").await;
    let stats = soak.emulator.stats();
    soak.check_quay("first convergence").await;
    soak.report("first convergence", resources, stats, started.elapsed());

    let changes = mode.changes;
    soak.phase("calm", &[], None, changes).await;
    let server_error = FaultRule {
        status: Some(500),
        ..FaultRule::default()
    };
    soak.phase(
        "5% 500s",
        &[fraction(0.05, server_error.clone())],
        None,
        changes,
    )
    .await;
    let storm = FaultRule {
        status: Some(429),
        retry_after_s: Some(1),
        ..FaultRule::default()
    };
    soak.phase(
        "429 storm, Retry-After 1 s",
        &[fraction(0.5, storm)],
        None,
        changes,
    )
    .await;
    let dropped = FaultRule {
        drop_connection: true,
        ..FaultRule::default()
    };
    let lost = FaultRule {
        drop_connection: true,
        after: true,
        ..FaultRule::default()
    };
    soak.phase(
        "5% dropped connections (half after Quay did it)",
        &[fraction(0.025, dropped), fraction(0.025, lost)],
        None,
        changes,
    )
    .await;
    let slow = FaultRule {
        latency_ms: Some(2000),
        ..FaultRule::default()
    };
    soak.phase("2 s latency on 20%", &[fraction(0.2, slow)], None, changes)
        .await;
    let outage = FaultRule {
        status: Some(503),
        ..FaultRule::default()
    };
    soak.phase("outage", &[outage], Some(mode.outage), changes)
        .await;

    // A restart of Quay: connections close, nothing answers for 3 s, then
    // the same state is served again.
    soak.emulator.reset_stats();
    let started = Instant::now();
    let changed = soak.change(changes);
    soak.emulator
        .restart(Duration::from_secs(3))
        .await
        .expect("restart");
    soak.converged("Quay restart").await;
    let stats = soak.emulator.stats();
    soak.check_quay("Quay restart").await;
    Soak::only_changes_written("Quay restart", &stats);
    soak.report("Quay restart", changed, stats, started.elapsed());

    // The token is revoked in Quay while resources change, then restored.
    // Quay answers reads with a revoked token as for an anonymous user (an
    // organization without its private repositories), so a reconcile may
    // take a repository for missing and try to create it: refused, like
    // every write. The first refusal has the connection checked, and the
    // other resources then wait for it without asking Quay: at most a few
    // requests per changed resource. Once the token works again everything
    // converges without a person touching a resource.
    soak.emulator.reset_stats();
    let started = Instant::now();
    assert!(soak.emulator.set_token_revoked(TOKEN, true));
    let changed = soak.change(changes);
    soak.refused().await;
    let stats = soak.emulator.stats();
    assert!(
        stats.total <= 3 * changed as u64,
        "{} requests with a revoked token for {changed} changed resources",
        stats.total
    );
    soak.report("token revoked", changed, stats, started.elapsed());
    soak.emulator.reset_stats();
    let started = Instant::now();
    assert!(soak.emulator.set_token_revoked(TOKEN, false));
    soak.converged("token restored").await;
    let stats = soak.emulator.stats();
    soak.check_quay("token restored").await;
    Soak::only_changes_written("token restored", &stats);
    soak.report("token restored", changed, stats, started.elapsed());

    // The operator restarts: it observes everything and writes nothing.
    soak.stop_operator();
    soak.emulator.reset_stats();
    let started = Instant::now();
    soak.start_operator();
    soak.quiet().await;
    soak.converged("operator restart").await;
    let stats = soak.emulator.stats();
    assert_eq!(
        stats.writes(),
        0,
        "an operator restart writes nothing: {:?}",
        stats.by_route
    );
    soak.report("operator restart, all in sync", 0, stats, started.elapsed());
    soak.stop_operator();

    eprintln!("soak over {resources} resources:\n{}", soak.table());
    let calm = soak
        .reports
        .iter()
        .find(|r| r.name == "calm")
        .unwrap()
        .per_change();
    // Retries are bounded: under a fault a change costs at most three
    // times a calm one; through an outage of W seconds, each reconcile
    // attempt (backing off from 5 s, doubling) makes at most 4 requests.
    let outage = mode.outage.as_secs_f64();
    for report in &soak.reports {
        if report.changed == 0 || report.name == "first convergence" {
            continue;
        }
        let bound = match report.name {
            "outage" => calm + 4.0 * (2.0 + (1.0 + outage / 5.0).log2()),
            _ => calm * 3.0,
        };
        assert!(
            report.per_change() <= bound,
            "{}: {:.1} requests per change, more than {bound:.1}\n{}",
            report.name,
            report.per_change(),
            soak.table()
        );
    }
}
