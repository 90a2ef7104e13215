//! Benchmarks of the reconcile engine against the in-process emulator:
//! Quay API calls per reconcile (the cost that matters on a real Quay),
//! time to converge N repositories, and the process's peak memory.
//! Run with `cargo bench`; prints a table, asserts nothing about time.

use std::time::{Duration, Instant};

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::engine::repository::DesiredRepository;
use quay_config_operator::engine::{Mode, Quay, reconcile};
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::SecretString;

const TOKEN: &str = "bench-token";

fn quay(emulator: &Emulator) -> Quay {
    let client = QuayClient::new(ClientOptions::new(
        emulator.url(),
        SecretString::from(TOKEN.to_owned()),
    ))
    .expect("client");
    Quay::new(client, Duration::from_secs(60))
}

fn repos(n: usize) -> Vec<DesiredRepository> {
    (0..n)
        .map(|i| DesiredRepository {
            namespace: "bench".into(),
            name: format!("repo{i:05}"),
            public: i % 3 == 0,
            description: Some(format!("repository {i}")),
            kind: "image".into(),
            ..DesiredRepository::default()
        })
        .collect()
}

async fn converge(quay: &Quay, desired: &[DesiredRepository], mode: Mode) -> Duration {
    let started = Instant::now();
    let results = futures::future::join_all(desired.iter().map(|d| reconcile(d, quay, mode))).await;
    assert!(results.iter().all(Result::is_ok));
    started.elapsed()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    println!(
        "{:>6} | {:>14} | {:>12} | {:>15} | {:>12}",
        "repos", "create: calls", "create: ms", "confirm: calls", "confirm: ms"
    );
    for n in [10, 100, 1000] {
        let emulator = Emulator::start(EmulatorConfig {
            token: Some(TOKEN.to_owned()),
            superusers_full_access: false,
        })
        .await
        .expect("emulator");
        quay(&emulator)
            .client
            .create_organization("bench", None)
            .await
            .expect("org");
        let desired = repos(n);

        emulator.reset_stats();
        let create = converge(&quay(&emulator), &desired, Mode::Apply).await;
        let create_calls = emulator.stats().total;

        emulator.reset_stats();
        let confirm = converge(&quay(&emulator), &desired, Mode::Apply).await;
        let confirm_calls = emulator.stats().total;
        println!(
            "{n:>6} | {create_calls:>14} | {:>12} | {confirm_calls:>15} | {:>12}",
            create.as_millis(),
            confirm.as_millis()
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak memory: {} MiB", kib / 1024);
    }
}
