use quay_config_operator::engine::mirror::{DesiredMirror, MirrorCredentials};
use quay_config_operator::engine::{ErrorClass, Mode, delete, reconcile};
use quay_config_operator::quay::api::mirror::{MirrorUpdate, RootRule};
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;
use serde_json::json;

use super::Setup;

async fn with_repo(robot: bool) -> Setup {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    s.client()
        .create_repository(&NewRepository {
            namespace: "acme".into(),
            repository: "mirror".into(),
            visibility: "private".into(),
            description: String::new(),
            repo_kind: "image".into(),
        })
        .await
        .unwrap();
    if robot {
        add_robot(&s).await;
    }
    s
}

async fn add_robot(s: &Setup) {
    s.client()
        .create_robot(
            &RobotOwner::Organization("acme".into()),
            "bot",
            "mirror",
            None,
        )
        .await
        .unwrap();
}

fn creds(version: &str) -> MirrorCredentials {
    MirrorCredentials {
        username: "puller".into(),
        password: "pa55word".into(),
        version: version.into(),
    }
}

fn mirror() -> DesiredMirror {
    DesiredMirror {
        namespace: "acme".into(),
        repository: "mirror".into(),
        is_enabled: true,
        external_reference: "quay.io/prometheus/busybox".into(),
        credentials: Some(creds("uid-1/10")),
        credentials_sent: None,
        robot: "acme+bot".into(),
        root_rule: vec!["latest".into(), "1.3*".into()],
        sync_interval: 3600,
        sync_start_date: Some("2026-11-22T00:00:00Z".into()),
        registry_config: None,
    }
}

async fn state(s: &Setup) -> String {
    s.client()
        .get_repository("acme", "mirror")
        .await
        .unwrap()
        .unwrap()
        .state
}

#[tokio::test]
async fn waits_for_the_robot_without_sending_a_create_that_leaves_a_stray_rule() {
    let s = with_repo(false).await;
    s.emulator.reset_stats();
    let err = reconcile(&mirror(), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
    assert!(err.to_string().contains("acme+bot"), "{err}");
    assert_eq!(s.emulator.stats().writes(), 0);

    add_robot(&s).await;
    let report = reconcile(&mirror(), &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.created());
    let live = report.live.unwrap();
    assert_eq!(live.config.root_rule.rule_value, ["latest", "1.3*"]);
    assert_eq!(live.credentials_version.as_deref(), Some("uid-1/10"));
    assert_eq!(state(&s).await, "MIRROR", "creating the config sets MIRROR");

    // A later tag rule change takes (no stray rule from a failed create).
    let changed = DesiredMirror {
        root_rule: vec!["v*".into()],
        credentials_sent: Some("uid-1/10".into()),
        ..mirror()
    };
    reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let config = s
        .client()
        .get_mirror("acme", "mirror")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(config.root_rule.rule_value, ["v*"]);
}

#[tokio::test]
async fn credentials_are_sent_again_exactly_once_per_secret_version() {
    let s = with_repo(true).await;
    reconcile(&mirror(), &s.quay, Mode::Apply).await.unwrap();
    let sent = DesiredMirror {
        credentials_sent: Some("uid-1/10".into()),
        ..mirror()
    };
    s.emulator.reset_stats();
    let report = reconcile(&sent, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert_eq!(
        s.emulator.stats().writes(),
        0,
        "an unchanged mirror writes nothing"
    );

    // The Secret was rotated: one PUT with the credentials, then quiet again.
    let rotated = DesiredMirror {
        credentials: Some(creds("uid-1/11")),
        ..sent
    };
    s.emulator.reset_stats();
    let report = reconcile(&rotated, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["credentials"]);
    assert!(!format!("{:?}", report.changes).contains("pa55word"));
    assert_eq!(s.emulator.stats().writes(), 1);
    let after = DesiredMirror {
        credentials_sent: Some("uid-1/11".into()),
        ..rotated
    };
    s.emulator.reset_stats();
    reconcile(&after, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(s.emulator.stats().writes(), 0);
}

#[tokio::test]
async fn the_mirror_keeps_its_repository_in_state_mirror() {
    let s = with_repo(true).await;
    let sent = DesiredMirror {
        credentials_sent: Some("uid-1/10".into()),
        ..mirror()
    };
    reconcile(&sent, &s.quay, Mode::Apply).await.unwrap();
    s.client()
        .change_repository_state("acme", "mirror", "NORMAL")
        .await
        .unwrap();
    s.emulator.reset_stats();
    let report = reconcile(&sent, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["repositoryState"]);
    assert_eq!(s.emulator.stats().writes(), 1);
    assert_eq!(state(&s).await, "MIRROR");
    // A disabled mirror leaves the state alone.
    let disabled = DesiredMirror {
        is_enabled: false,
        ..sent
    };
    reconcile(&disabled, &s.quay, Mode::Apply).await.unwrap();
    let config = s
        .client()
        .get_mirror("acme", "mirror")
        .await
        .unwrap()
        .unwrap();
    assert!(!config.is_enabled);
}

#[tokio::test]
async fn deleting_disables_the_mirror_and_returns_the_repository_to_normal() {
    let s = with_repo(true).await;
    reconcile(&mirror(), &s.quay, Mode::Apply).await.unwrap();
    assert!(
        delete(&mirror(), &Setup::quay_for(&s.emulator))
            .await
            .unwrap()
    );
    let config = s
        .client()
        .get_mirror("acme", "mirror")
        .await
        .unwrap()
        .unwrap();
    assert!(!config.is_enabled);
    assert_eq!(state(&s).await, "NORMAL");
}

#[tokio::test]
async fn a_failed_update_is_finished_by_the_next_reconcile() {
    let s = with_repo(true).await;
    reconcile(&mirror(), &s.quay, Mode::Apply).await.unwrap();
    let changed = DesiredMirror {
        sync_interval: 60,
        credentials_sent: Some("uid-1/10".into()),
        ..mirror()
    };
    s.fault(json!({"status": 500, "method": "PUT", "path_prefix": "/api/v1/repository/acme/mirror/mirror", "count": 2}))
        .await;
    let err = reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    let report = reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.applied);
    let config = s
        .client()
        .get_mirror("acme", "mirror")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(config.sync_interval, 60);
}

#[tokio::test]
async fn quays_stray_rule_bug_is_reported_not_retried_blindly() {
    let s = with_repo(true).await;
    // Someone's earlier create failed (unknown robot), leaving a stray rule in Quay.
    let failed = MirrorUpdate {
        is_enabled: Some(true),
        external_reference: Some("quay.io/x/y".into()),
        robot_username: Some("acme+nobody".into()),
        root_rule: Some(RootRule {
            rule_kind: "tag_glob_csv".into(),
            rule_value: vec!["old".into()],
        }),
        sync_interval: Some(60),
        sync_start_date: Some("2026-11-22T00:00:00Z".into()),
        skopeo_timeout_interval: Some(300),
        ..MirrorUpdate::default()
    };
    s.client()
        .create_mirror("acme", "mirror", &failed)
        .await
        .unwrap_err();
    reconcile(&mirror(), &s.quay, Mode::Apply).await.unwrap();
    let changed = DesiredMirror {
        root_rule: vec!["v*".into()],
        credentials_sent: Some("uid-1/10".into()),
        ..mirror()
    };
    let err = reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert!(err.to_string().contains("stray rule"), "{err}");
}
