//! What confirming an unchanged registry costs in Quay API calls — the
//! currency on a real Quay, where every authenticated call costs ~0.2 s of
//! server CPU. The scenario is the one the Ansible collection needs 621
//! calls for: 1 organization, 100 repositories each with a notification,
//! 5 robots and 2 teams. Counts, not times: the numbers are deterministic.

use quay_config_operator::engine::notification::DesiredNotification;
use quay_config_operator::engine::organization::DesiredOrganization;
use quay_config_operator::engine::repository::DesiredRepository;
use quay_config_operator::engine::robot::DesiredRobot;
use quay_config_operator::engine::team::DesiredTeam;
use quay_config_operator::engine::{Managed, Mode, Quay, reconcile};
use quay_config_operator::quay::api::robot::RobotOwner;
use serde_json::json;

use super::Setup;

struct Registry {
    org: DesiredOrganization,
    repos: Vec<DesiredRepository>,
    notifications: Vec<DesiredNotification>,
    robots: Vec<DesiredRobot>,
    teams: Vec<DesiredTeam>,
}

fn registry() -> Registry {
    let org = DesiredOrganization {
        name: "acme".into(),
        email: Some("ops@acme.example".into()),
        ..DesiredOrganization::default()
    };
    let repos = (0..100)
        .map(|i| DesiredRepository {
            namespace: "acme".into(),
            name: format!("app{i:03}"),
            public: i % 2 == 0,
            description: Some(format!("application {i}")),
            kind: "image".into(),
            ..DesiredRepository::default()
        })
        .collect();
    let notifications = (0..100)
        .map(|i| DesiredNotification {
            namespace: "acme".into(),
            repository: format!("app{i:03}"),
            event: "repo_push".into(),
            method: "webhook".into(),
            title: Some("push".into()),
            config: json!({"url": format!("https://hooks.example.com/{i}")}),
            event_config: json!({}),
            uuid: None,
        })
        .collect();
    let robots = (0..5)
        .map(|i| DesiredRobot {
            owner: RobotOwner::Organization("acme".into()),
            user: None,
            short_name: format!("bot{i}"),
            description: "CI".into(),
            federation: None,
        })
        .collect();
    let teams = ["devs", "ops"]
        .iter()
        .map(|t| DesiredTeam {
            org: "acme".into(),
            name: (*t).into(),
            role: "member".into(),
            description: Some(format!("{t} team")),
            members: None,
        })
        .collect();
    Registry {
        org,
        repos,
        notifications,
        robots,
        teams,
    }
}

async fn all<M: Managed>(objects: &[M], quay: &Quay, mode: Mode) {
    let results = futures::future::join_all(objects.iter().map(|o| reconcile(o, quay, mode))).await;
    for r in results {
        let report = r.expect("reconcile");
        assert!(
            mode == Mode::Apply || report.changes.is_empty(),
            "{:?}",
            report.changes
        );
    }
}

async fn run(r: &Registry, quay: &Quay, mode: Mode) {
    reconcile(&r.org, quay, mode).await.expect("organization");
    all(&r.robots, quay, mode).await;
    all(&r.teams, quay, mode).await;
    all(&r.repos, quay, mode).await;
    all(&r.notifications, quay, mode).await;
}

#[tokio::test]
async fn confirming_an_unchanged_registry_costs_a_sixth_of_ansibles_calls() {
    let s = Setup::new().await;
    let r = registry();
    run(&r, &s.quay, Mode::Apply).await;

    // A fresh operator (empty caches) confirms everything is unchanged.
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    run(&r, &fresh, Mode::Apply).await;
    let stats = s.emulator.stats();
    eprintln!(
        "confirming 1 org, 100 repos + notifications, 5 robots, 2 teams: {} Quay calls",
        stats.total
    );
    assert_eq!(stats.writes(), 0, "{stats:?}");
    // 1 organization GET (whose view both teams share), 1 robot list,
    // 1 repository list, and 1 notification list per repository (Quay has no
    // organization-wide notification list). The Ansible collection: 621.
    assert_eq!(stats.total, 103, "{stats:?}");
}
