use quay_config_operator::engine::notification::DesiredNotification;
use quay_config_operator::engine::{ErrorClass, Mode, delete, reconcile};
use quay_config_operator::quay::api::repository::NewRepository;
use serde_json::json;

use super::Setup;

const HOOK: &str = "https://hooks.example.com/T0KEN-IN-URL";

async fn with_repo() -> Setup {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    s.client()
        .create_repository(&NewRepository {
            namespace: "acme".into(),
            repository: "app".into(),
            visibility: "private".into(),
            description: String::new(),
            repo_kind: "image".into(),
        })
        .await
        .unwrap();
    s
}

fn webhook(title: &str) -> DesiredNotification {
    DesiredNotification {
        namespace: "acme".into(),
        repository: "app".into(),
        event: "repo_push".into(),
        method: "webhook".into(),
        title: Some(title.into()),
        config: json!({"url": HOOK}),
        event_config: json!({}),
        uuid: None,
    }
}

async fn listed(s: &Setup) -> Vec<quay_config_operator::quay::api::notification::Notification> {
    s.client().list_notifications("acme", "app").await.unwrap()
}

#[tokio::test]
async fn creates_then_an_unchanged_notification_costs_its_list_and_the_shared_repository_list() {
    let s = with_repo().await;
    let report = reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(report.created());
    let uuid = report.live.unwrap().notification.uuid;
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let desired = DesiredNotification {
        uuid: Some(uuid),
        ..webhook("push")
    };
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    assert!(report.existed && report.changes.is_empty());
    let stats = s.emulator.stats();
    // The repository list (shared by every object of the namespace) proves the
    // repository exists before its notifications are trusted.
    assert_eq!((stats.writes(), stats.total), (0, 2), "{stats:?}");
    assert_eq!(stats.by_route["GET /api/v1/repository"], 1, "{stats:?}");
}

#[tokio::test]
async fn a_crash_between_create_and_status_write_leaves_no_duplicate() {
    let s = with_repo().await;
    reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    // The status never recorded the uuid: a restarted operator adopts the identical one.
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let report = reconcile(&webhook("push"), &fresh, Mode::Apply)
        .await
        .unwrap();
    assert!(report.existed && !report.applied);
    assert_eq!(s.emulator.stats().writes(), 0);
    assert_eq!(listed(&s).await.len(), 1);
}

#[tokio::test]
async fn a_spec_change_creates_the_new_one_before_deleting_the_old() {
    let s = with_repo().await;
    let old = reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap()
        .notification
        .uuid;
    let changed = DesiredNotification {
        uuid: Some(old.clone()),
        ..webhook("pushes")
    };
    // The delete fails: both exist, so there was no moment without a notification.
    s.fault(json!({"status": 503, "method": "DELETE", "path_prefix": "/api/v1/repository/acme/app/notification/", "count": 2}))
        .await;
    let err = reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    let both = listed(&s).await;
    assert_eq!(both.len(), 2);
    // The retry adopts the new one instead of creating a third, and removes the old one.
    s.emulator.reset_stats();
    let report = reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["title"]);
    let stats = s.emulator.stats();
    assert_eq!(stats.by_method.get("POST"), None, "{stats:?}");
    assert_eq!(stats.by_method.get("DELETE"), Some(&1), "{stats:?}");
    let left = listed(&s).await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].uuid, old);
    assert_eq!(left[0].title.as_deref(), Some("pushes"));
}

#[tokio::test]
async fn a_notification_deleted_by_hand_is_recreated() {
    let s = with_repo().await;
    let uuid = reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap()
        .notification
        .uuid;
    s.client()
        .delete_notification("acme", "app", &uuid)
        .await
        .unwrap();
    let desired = DesiredNotification {
        uuid: Some(uuid),
        ..webhook("push")
    };
    let report = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.created());
    assert_eq!(listed(&s).await.len(), 1);
}

#[tokio::test]
async fn urls_never_appear_in_drift_or_errors() {
    let s = with_repo().await;
    let uuid = reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap()
        .notification
        .uuid;
    let rotated = DesiredNotification {
        uuid: Some(uuid),
        config: json!({"url": "https://hooks.example.com/N3W-T0KEN"}),
        ..webhook("push")
    };
    let report = reconcile(&rotated, &Setup::quay_for(&s.emulator), Mode::Observe)
        .await
        .unwrap();
    let drift = format!("{:?}", report.changes);
    assert_eq!(report.changes.len(), 1);
    assert!(!drift.contains("T0KEN"), "{drift}");
    // Quay refuses this URL; its answer must not echo it back to us.
    let rejected = DesiredNotification {
        config: json!({"url": "http://localhost:9999/S3CRET"}),
        ..webhook("local")
    };
    let err = reconcile(&rejected, &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("S3CRET"), "{err}");
    assert_eq!(err.class(), ErrorClass::Terminal);
}

#[tokio::test]
async fn a_missing_repository_waits_and_delete_is_idempotent() {
    let s = with_repo().await;
    let elsewhere = DesiredNotification {
        repository: "later".into(),
        ..webhook("push")
    };
    let err = reconcile(&elsewhere, &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");

    let report = reconcile(&webhook("push"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    let desired = DesiredNotification {
        uuid: Some(report.live.unwrap().notification.uuid),
        ..webhook("push")
    };
    assert!(delete(&desired, &s.quay).await.unwrap());
    assert!(listed(&s).await.is_empty());
    assert!(
        !delete(&desired, &Setup::quay_for(&s.emulator))
            .await
            .unwrap()
    );
}
