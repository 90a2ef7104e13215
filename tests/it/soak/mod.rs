//! A fake cluster for long runs of the real controllers: the operator's
//! controllers, as `quay-config-operator run` starts them
//! ([`controller::run`]), on a stateful fake API server
//! ([`crate::apiserver`]), with the benchmark workload (every kind) declared
//! against the emulator. [`faults`] is the fault soak, [`failover`] the
//! leader failover, [`wake`] the convergence of a tree applied at once.

mod failover;
mod faults;
mod wake;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quay_config_operator::controller::{self, RunConfig};
use quay_config_operator::emulator::{Emulator, EmulatorConfig, FaultRule, Stats};
use quay_config_operator::quay::MAX_IN_FLIGHT;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use quay_config_operator::workload::Workload;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::apiserver::ApiServer;

const NS: &str = "soak";
const TOKEN: &str = "soak-token";

/// Every kind's plural, connection first.
const KINDS: [&str; 9] = [
    "quayconnections",
    "quayorganizations",
    "quayquotas",
    "quayrobotaccounts",
    "quayteams",
    "quayrepositories",
    "quaynotifications",
    "quaymirrorconfigs",
    "quayproxycaches",
];

fn collection(plural: &str) -> String {
    match plural {
        "secrets" => format!("/api/v1/namespaces/{NS}/secrets"),
        _ => format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/{plural}"),
    }
}

/// Sizes and times of a run.
#[derive(Clone, Copy)]
struct Mode {
    workload: Workload,
    /// Resources changed by each phase.
    changes: usize,
    outage: Duration,
    /// Longest wait for convergence after a phase.
    patience: Duration,
}

impl Mode {
    fn from_env() -> Mode {
        match std::env::var("SOAK_LONG").is_ok_and(|v| v == "1") {
            true => Mode {
                workload: Workload {
                    organizations: 5,
                    repositories: 100,
                    robots: 5,
                    teams: 4,
                },
                changes: 100,
                outage: Duration::from_secs(60),
                patience: Duration::from_secs(600),
            },
            false => Mode {
                workload: Workload {
                    organizations: 2,
                    repositories: 80,
                    robots: 3,
                    teams: 4,
                },
                changes: 80,
                outage: Duration::from_secs(8),
                patience: Duration::from_secs(240),
            },
        }
    }
}

/// What one phase cost.
struct PhaseReport {
    name: &'static str,
    changed: usize,
    stats: Stats,
    took: Duration,
}

impl PhaseReport {
    fn per_change(&self) -> f64 {
        self.stats.total as f64 / self.changed.max(1) as f64
    }
}

struct Soak {
    api: ApiServer,
    emulator: Emulator,
    operator: Option<tokio::task::JoinHandle<()>>,
    mode: Mode,
    /// Bumped by each phase's changes.
    revision: u32,
    /// Rotates through the resources each phase changes.
    cursor: usize,
    reports: Vec<PhaseReport>,
    quay: QuayClient,
}

impl Soak {
    /// The emulator and fake API server with the mode's workload; the
    /// operator's traces are logged when `SOAK_LOG` is set (a tracing filter).
    async fn start(mode: Mode) -> Soak {
        if std::env::var_os("SOAK_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_env("SOAK_LOG"))
                .with_test_writer()
                .try_init();
        }
        let emulator = Emulator::start(EmulatorConfig {
            token: Some(TOKEN.to_owned()),
            superusers_full_access: true,
            mailing: false,
        })
        .await
        .expect("emulator");
        let quay = QuayClient::new(ClientOptions::new(
            emulator.url(),
            SecretString::from(TOKEN),
        ))
        .expect("client");
        let api = ApiServer::default();
        api.apply(
            &collection("secrets"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "quay-token"},
                   "data": {"token": base64(TOKEN)}}),
        );
        api.apply(
            &collection("quayconnections"),
            json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayConnection",
                   "metadata": {"name": "default"},
                   "spec": {"url": emulator.url(), "tokenSecretRef": {"name": "quay-token"}}}),
        );
        let soak = Soak {
            api,
            emulator,
            operator: None,
            mode,
            revision: 0,
            cursor: 0,
            reports: Vec::new(),
            quay,
        };
        soak.declare();
        soak
    }

    /// Declares the workload (plus one mirrored repository per organization),
    /// as `kubectl apply` would.
    fn declare(&self) {
        let resources = self.mode.workload.resources(0, 0);
        let apply = |plural: &str, objects: Vec<Value>| {
            for mut object in objects {
                let meta = object["metadata"].as_object_mut().unwrap();
                meta.remove("namespace");
                meta.remove("generation");
                self.api.apply(&collection(plural), object);
            }
        };
        let values = |v: &dyn erased::ToValues| v.values();
        apply("quayorganizations", values(&resources.organizations));
        apply("quayquotas", values(&resources.quotas));
        apply("quayrobotaccounts", values(&resources.robots));
        apply("quayteams", values(&resources.teams));
        apply("quayrepositories", values(&resources.repositories));
        apply("quaynotifications", values(&resources.notifications));
        for o in 0..self.mode.workload.organizations {
            let org = format!("bench{o:03}");
            apply(
                "quayrepositories",
                vec![
                    json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
                    "metadata": {"name": format!("{org}-mirrored")},
                    "spec": {"namespace": org, "name": "mirrored"}}),
                ],
            );
            apply(
                "quaymirrorconfigs",
                vec![
                    json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayMirrorConfig",
                    "metadata": {"name": format!("{org}-mirrored")},
                    "spec": {"repositoryRef": {"name": format!("{org}-mirrored")},
                             "externalReference": "quay.io/prometheus/busybox",
                             "robotUsername": "bot0", "syncInterval": "6h",
                             "syncStartDate": "2026-01-01T00:00:00Z", "rootRule": ["latest"]}}),
                ],
            );
        }
    }

    fn resources(&self) -> usize {
        KINDS
            .iter()
            .map(|k| self.api.list(&collection(k)).len())
            .sum()
    }

    /// The settings of `run` the tests use: this namespace, resync at 10 min.
    fn run_config(&self) -> RunConfig {
        RunConfig {
            namespace: Some(NS.to_owned()),
            resync: Duration::from_secs(600),
            list_ttl: Duration::from_secs(20),
            concurrency: 4,
            operator_namespace: None,
            change_feed: None,
            full_resync: Duration::from_secs(6 * 3600),
            metrics: Arc::default(),
        }
    }

    /// Starts the controllers, as `run` does, on the fake API server.
    fn start_operator(&mut self) {
        let run = controller::run(self.api.client(NS), self.run_config());
        self.operator = Some(tokio::spawn(run));
    }

    fn stop_operator(&mut self) {
        if let Some(task) = self.operator.take() {
            task.abort();
        }
    }

    /// Waits until every resource is Ready for its generation; panics with
    /// the ones that are not after the mode's patience.
    async fn converged(&self, phase: &str) {
        let deadline = Instant::now() + self.mode.patience;
        loop {
            let waiting = self.not_ready();
            if waiting.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{phase}: {} resources not Ready after {:?}, e.g. {:#?}",
                    waiting.len(),
                    self.mode.patience,
                    &waiting[..waiting.len().min(5)]
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the connection reports the refused token and every
    /// change has been seen (each resource's status is for its generation).
    async fn refused(&self) {
        let deadline = Instant::now() + self.mode.patience;
        while Instant::now() < deadline {
            let connection = self
                .not_ready()
                .iter()
                .any(|w| w.starts_with("quayconnections/") && w.contains("Unauthorized"));
            let seen = KINDS.iter().all(|kind| {
                self.api
                    .list(&collection(kind))
                    .iter()
                    .all(|o| o["status"]["observedGeneration"] == o["metadata"]["generation"])
            });
            if connection && seen {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "the refused token was not reported: {:#?}",
            self.not_ready()
        );
    }

    /// Waits until Quay has had no request for 2 s after some: the
    /// restarted operator has observed everything.
    async fn quiet(&self) {
        let deadline = Instant::now() + self.mode.patience;
        let mut last = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let total = self.emulator.stats().total;
            if (total > 0 && total == last) || Instant::now() > deadline {
                return;
            }
            last = total;
        }
    }

    /// `kind/name: reason: message` of each resource not Ready for its generation.
    fn not_ready(&self) -> Vec<String> {
        let mut waiting = Vec::new();
        for kind in KINDS {
            for object in self.api.list(&collection(kind)) {
                let generation = &object["metadata"]["generation"];
                let ready = object["status"]["conditions"]
                    .as_array()
                    .and_then(|c| c.iter().find(|c| c["type"] == "Ready"));
                let current = ready.is_some_and(|r| {
                    r["status"] == "True" && object["status"]["observedGeneration"] == *generation
                });
                if !current {
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    let what = ready.map_or("no status yet".to_owned(), |r| {
                        format!("{}: {}", r["reason"], r["message"])
                    });
                    waiting.push(format!("{kind}/{name}: {what}"));
                }
            }
        }
        waiting
    }

    /// Changes `count` resources: repository descriptions, team descriptions
    /// and notification titles, in turn. Returns how many were changed.
    fn change(&mut self, count: usize) -> usize {
        self.revision += 1;
        let r = self.revision;
        let repositories: Vec<Value> = self
            .api
            .list(&collection("quayrepositories"))
            .into_iter()
            .filter(|o| {
                !o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .ends_with("-mirrored")
            })
            .collect();
        let notifications = self.api.list(&collection("quaynotifications"));
        let teams = self.api.list(&collection("quayteams"));
        let mut changed = 0;
        for i in 0..count {
            let n = self.cursor + i;
            let (plural, object, patch) = match i % 4 {
                0 | 1 => {
                    let o = &repositories[n % repositories.len()];
                    let d = format!("application, revision {r}");
                    ("quayrepositories", o, json!({"spec": {"description": d}}))
                }
                2 => {
                    let o = &notifications[n % notifications.len()];
                    (
                        "quaynotifications",
                        o,
                        json!({"spec": {"title": format!("push {r}")}}),
                    )
                }
                _ => {
                    let o = &teams[n % teams.len()];
                    (
                        "quayteams",
                        o,
                        json!({"spec": {"description": format!("team, revision {r}")}}),
                    )
                }
            };
            let mut patch = patch;
            patch["metadata"] = json!({"name": object["metadata"]["name"]});
            patch["apiVersion"] = object["apiVersion"].clone();
            patch["kind"] = object["kind"].clone();
            self.api.apply(&collection(plural), patch);
            changed += 1;
        }
        self.cursor += count;
        changed
    }

    /// Runs one phase: `faults` on, `count` changes, convergence (with the
    /// faults still on unless `lift_after` says when they end), checks.
    async fn phase(
        &mut self,
        name: &'static str,
        faults: &[FaultRule],
        lift_after: Option<Duration>,
        count: usize,
    ) {
        self.emulator.reset_stats();
        let started = Instant::now();
        for rule in faults {
            self.emulator.add_fault(rule.clone()).expect("fault rule");
        }
        let changed = self.change(count);
        if let Some(window) = lift_after {
            tokio::time::sleep(window).await;
            self.emulator.clear_faults();
        }
        self.converged(name).await;
        self.emulator.clear_faults();
        let took = started.elapsed();
        let stats = self.emulator.stats();
        self.check_quay(name).await;
        Self::only_changes_written(name, &stats);
        self.report(name, changed, stats, took);
    }

    /// Only what the phase changed was written: descriptions of
    /// repositories and teams, notifications replaced.
    fn only_changes_written(name: &str, stats: &Stats) {
        let allowed = [
            "PUT /api/v1/repository/{repository}",
            "PUT /api/v1/organization/{orgname}/team/{teamname}",
            "POST /api/v1/repository/{repository}/notification/",
            "DELETE /api/v1/repository/{repository}/notification/{uuid}",
        ];
        for (route, _) in stats
            .by_route
            .iter()
            .filter(|(route, n)| !route.starts_with("GET") && **n > 0)
        {
            assert!(
                allowed.contains(&route.as_str()),
                "{name}: a write nothing asked for: {route} ({:?})",
                stats.by_route
            );
        }
    }

    fn report(&mut self, name: &'static str, changed: usize, stats: Stats, took: Duration) {
        assert!(
            stats.peak_in_flight <= MAX_IN_FLIGHT as u64,
            "{name}: {} requests in flight at once",
            stats.peak_in_flight
        );
        self.reports.push(PhaseReport {
            name,
            changed,
            stats,
            took,
        });
    }

    /// Quay holds what the resources declare: every repository (each with
    /// exactly one notification, titled as its resource says), robot and team.
    async fn check_quay(&self, phase: &str) {
        let mut titles: BTreeMap<String, String> = BTreeMap::new();
        for n in self.api.list(&collection("quaynotifications")) {
            let repo = n["spec"]["repository"].as_str().unwrap().to_owned();
            titles.insert(repo, n["spec"]["title"].as_str().unwrap().to_owned());
        }
        let mut repositories = 0;
        for o in 0..self.mode.workload.organizations {
            let org = format!("bench{o:03}");
            let listed = self
                .quay
                .list_repositories(&org)
                .await
                .expect("repositories");
            repositories += listed.len();
            for repo in listed.iter().filter(|r| r.name != "mirrored") {
                let path = format!("{org}/{}", repo.name);
                let notifications = self
                    .quay
                    .list_notifications(&org, &repo.name)
                    .await
                    .expect("notifications");
                let found: Vec<Option<&String>> =
                    notifications.iter().map(|n| n.title.as_ref()).collect();
                assert_eq!(
                    found,
                    [titles.get(&path)],
                    "{phase}: {path} must have exactly its one notification"
                );
            }
            let robots = self
                .quay
                .list_robots(
                    &quay_config_operator::quay::api::robot::RobotOwner::Organization(org.clone()),
                )
                .await
                .expect("robots");
            assert_eq!(
                robots.len(),
                self.mode.workload.robots,
                "{phase}: robots of {org}"
            );
            let view = self
                .quay
                .get_organization(&org)
                .await
                .expect("organization")
                .expect("the organization exists");
            // The teams declared, plus Quay's own `owners`.
            assert_eq!(
                view.teams.len(),
                self.mode.workload.teams + 1,
                "{phase}: teams of {org}"
            );
        }
        let declared = self.api.list(&collection("quayrepositories")).len();
        assert_eq!(repositories, declared, "{phase}: repositories in Quay");
    }

    fn table(&self) -> String {
        let calm = self.reports.iter().find(|r| r.name == "calm");
        let mut text = String::from(
            "| phase | changed | requests | per change | vs calm | 5xx/429/4xx answers | peak in flight | time |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.reports {
            let (per_change, ratio) = match (r.changed, calm) {
                (0, _) => ("-".to_owned(), String::new()),
                (_, Some(c)) => (
                    format!("{:.1}", r.per_change()),
                    format!("{:.1}x", r.per_change() / c.per_change()),
                ),
                (_, None) => (format!("{:.1}", r.per_change()), String::new()),
            };
            let _ = writeln!(
                text,
                "| {} | {} | {} | {per_change} | {ratio} | {}/{} | {} | {:.1} s |",
                r.name,
                r.changed,
                r.stats.total,
                r.stats.server_errors,
                r.stats.client_errors,
                r.stats.peak_in_flight,
                r.took.as_secs_f64()
            );
        }
        text
    }
}

/// Typed workload resources as JSON, whatever their kind.
mod erased {
    use serde_json::Value;

    pub trait ToValues {
        fn values(&self) -> Vec<Value>;
    }

    impl<K: serde::Serialize> ToValues for Vec<K> {
        fn values(&self) -> Vec<Value> {
            self.iter()
                .map(|o| serde_json::to_value(o).expect("serializes"))
                .collect()
        }
    }
}

fn base64(text: &str) -> String {
    serde_json::to_value(k8s_openapi::ByteString(text.as_bytes().to_vec()))
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}
