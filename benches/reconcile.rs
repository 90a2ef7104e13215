//! What the operator costs a Quay, on the workload the Ansible collection was
//! measured on (`quay_config_operator::workload`): requests by kind (reads,
//! writes, failed), convergence time and peak memory, for the first
//! convergence, a restart with everything in sync, ten changed descriptions
//! and one resync (in full, and with the change feeds); then the same at about
//! 1,000 and 10,000 resources.
//!
//! Quay is the emulator, run as its own process (so the peak memory printed is
//! the operator side's alone), with a cost model: each authenticated request
//! holds one of `BENCH_WORKERS` (default 2) workers for `BENCH_REQUEST_COST`
//! (default 190ms), as Quay's bcrypt token check does. The scale variants run
//! without the cost model unless `BENCH_SCALE_COST=1` (at 190 ms a request,
//! 10,000 resources take about half an hour); their modelled Quay time is
//! printed instead. Run with `cargo bench`; nothing here asserts a time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quay_config_operator::controller::ManagedResource;
use quay_config_operator::emulator::Stats;
use quay_config_operator::engine::Quay;
use quay_config_operator::engine::feed::{OrganizationFeed, Poll};
use quay_config_operator::quay::{ClientOptions, QuayClient};
use quay_config_operator::workload::{Drive, Resources, Workload, converge};
use secrecy::SecretString;

const TOKEN: &str = "bench-token";

/// The emulator binary, listening on a free loopback port.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(cost: Option<(usize, &str)>) -> Emulator {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quay-config-operator"));
        command.args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--token",
            TOKEN,
            "--superusers-full-access",
        ]);
        if let Some((workers, request_cost)) = cost {
            command.args([
                "--workers",
                &workers.to_string(),
                "--request-cost",
                request_cost,
            ]);
        }
        let mut child = command
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the emulator says where it listens");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("a listening address")
            .to_owned();
        Emulator { child, url }
    }

    async fn stats(&self) -> Stats {
        reqwest::get(format!("{}/__emulator/stats", self.url))
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json")
    }

    /// A fresh operator's view of this Quay (empty caches), as after a restart.
    fn quay(&self) -> Quay {
        let client = QuayClient::new(ClientOptions::new(
            self.url.clone(),
            SecretString::from(TOKEN.to_owned()),
        ))
        .expect("client");
        Quay::new(client, Duration::from_secs(20))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// One phase: requests by kind and time.
struct Row {
    phase: &'static str,
    reads: u64,
    writes: u64,
    failed: u64,
    elapsed: Duration,
}

async fn phase(
    phase: &'static str,
    emulator: &Emulator,
    resources: &Resources,
    quay: &Quay,
    drive: Drive,
) -> Row {
    let before = emulator.stats().await;
    let started = Instant::now();
    let unconverged = converge(resources, quay, drive).await;
    let elapsed = started.elapsed();
    assert!(unconverged.is_empty(), "{phase}: {unconverged:?}");
    let after = emulator.stats().await;
    let writes = after.writes() - before.writes();
    Row {
        phase,
        reads: (after.total - before.total) - writes,
        writes,
        failed: (after.client_errors + after.server_errors)
            - (before.client_errors + before.server_errors),
        elapsed,
    }
}

/// The four phases of a workload against one emulator.
async fn phases(emulator: &Emulator, workload: Workload, drive: Drive) -> Vec<Row> {
    // One copy of the resources at a time, and one operator view (with its
    // caches) at a time, as in the operator.
    let resources = workload.resources(0, 0);
    let mut rows = vec![
        phase(
            "first convergence",
            emulator,
            &resources,
            &emulator.quay(),
            drive,
        )
        .await,
    ];
    let restarted = emulator.quay();
    // The change feeds start where the logs stand after the first convergence.
    let organizations: Vec<String> = resources
        .organizations
        .iter()
        .filter_map(|o| Some(o.quay_location()?.namespace))
        .collect();
    let mut feeds: Vec<_> = organizations.iter().map(OrganizationFeed::new).collect();
    for feed in &mut feeds {
        feed.poll(&restarted).await.expect("first feed poll");
    }
    rows.push(
        phase(
            "restart, all in sync",
            emulator,
            &resources,
            &restarted,
            drive,
        )
        .await,
    );
    drop(resources);
    let changed = workload.resources(10, 1);
    let ten = Resources {
        repositories: changed.repositories[..10].to_vec(),
        ..Resources::default()
    };
    rows.push(phase("10 descriptions changed", emulator, &ten, &restarted, drive).await);
    drop(restarted);
    rows.push(
        phase(
            "one resync, nothing changed",
            emulator,
            &changed,
            &emulator.quay(),
            drive,
        )
        .await,
    );
    rows.push(feed_phase(emulator, &mut feeds, &emulator.quay()).await);
    rows
}

/// One resync with the change feeds: each organization's log read once (the
/// ten descriptions were the operator's own writes, so nothing is to observe).
async fn feed_phase(emulator: &Emulator, feeds: &mut [OrganizationFeed], quay: &Quay) -> Row {
    let before = emulator.stats().await;
    let started = Instant::now();
    for feed in feeds {
        let poll = feed.poll(quay).await.expect("feed poll");
        assert_eq!(poll, Poll::Unchanged, "{}", feed.organization());
    }
    let elapsed = started.elapsed();
    let after = emulator.stats().await;
    Row {
        phase: "one resync, change feed",
        reads: after.total - before.total,
        writes: 0,
        failed: (after.client_errors + after.server_errors)
            - (before.client_errors + before.server_errors),
        elapsed,
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn print(rows: &[Row], cost: Option<Duration>, workers: usize) {
    println!(
        "  {:<28} {:>8} {:>7} {:>7} {:>7} {:>11} {:>14}",
        "phase", "requests", "reads", "writes", "failed", "time", "modelled Quay"
    );
    for r in rows {
        let requests = r.reads + r.writes;
        let modelled = cost.map_or_else(
            || "-".to_owned(),
            |c| {
                format!(
                    "{:.1} s",
                    (c * requests as u32).as_secs_f64() / workers as f64
                )
            },
        );
        println!(
            "  {:<28} {:>8} {:>7} {:>7} {:>7} {:>9.1} s {:>14}",
            r.phase,
            requests,
            r.reads,
            r.writes,
            r.failed,
            r.elapsed.as_secs_f64(),
            modelled
        );
    }
}

#[tokio::main]
async fn main() {
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let cost_text = std::env::var("BENCH_REQUEST_COST").unwrap_or_else(|_| "190ms".to_owned());
    let cost = humantime::parse_duration(&cost_text).expect("BENCH_REQUEST_COST is a duration");
    let scale_cost = std::env::var("BENCH_SCALE_COST").is_ok_and(|v| v == "1");
    // The controllers' defaults: 4 reconciles per kind; a resource waiting for
    // another is retried promptly (the operator watches what it references).
    let drive = Drive {
        concurrency: 4,
        retry_after: Duration::from_secs(1),
        attempts: 600,
    };

    let ansible = Workload::ANSIBLE;
    println!(
        "Ansible benchmark workload ({} resources), Quay cost model: {workers} workers, {cost_text} per request",
        ansible.resources(0, 0).len()
    );
    let emulator = Emulator::start(Some((workers, &cost_text)));
    print(
        &phases(&emulator, ansible, drive).await,
        Some(cost),
        workers,
    );
    drop(emulator);
    println!("  peak memory so far: {:.1} MiB", peak_rss_mib());

    for (label, workload) in [
        (
            "~1,000",
            Workload {
                organizations: 10,
                repositories: 45,
                ..Workload::ANSIBLE
            },
        ),
        (
            "~10,000",
            Workload {
                organizations: 100,
                repositories: 46,
                ..Workload::ANSIBLE
            },
        ),
    ] {
        let n = workload.resources(0, 0).len();
        let model = scale_cost.then_some((workers, cost_text.as_str()));
        println!(
            "\n{label} resources ({n}: {} organizations x {} repositories with a notification, \
             5 robots, 2 teams, a quota each){}",
            workload.organizations,
            workload.repositories,
            match model {
                Some(_) => format!(", cost model {workers} x {cost_text}"),
                None => ", no cost model (modelled Quay time from the request count)".to_owned(),
            }
        );
        let emulator = Emulator::start(model);
        print(
            &phases(&emulator, workload, drive).await,
            Some(cost),
            workers,
        );
        drop(emulator);
        println!("  peak memory so far: {:.1} MiB", peak_rss_mib());
    }
}
