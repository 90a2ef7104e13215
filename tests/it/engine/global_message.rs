//! Global messages: created once (the uuid Quay does not return is read
//! back with one list), in sync for one shared list, replaced without a gap,
//! and deleted only when they are the one this resource recorded.

use quay_config_operator::engine::global_message::{DesiredMessage, settled};
use quay_config_operator::engine::{Mode, delete, reconcile};
use quay_config_operator::quay::api::message::{GlobalMessage, NewMessage};
use serde_json::json;

use super::Setup;

fn banner(content: &str) -> DesiredMessage {
    DesiredMessage {
        content: content.into(),
        severity: "warning".into(),
        media_type: "text/markdown".into(),
        uuid: None,
    }
}

async fn listed(s: &Setup) -> Vec<GlobalMessage> {
    s.client().global_messages().await.unwrap()
}

#[tokio::test]
async fn a_create_costs_three_calls_and_learns_the_uuid_quay_does_not_return() {
    let s = Setup::new().await;
    // Someone else's message with the same text but another severity.
    s.client()
        .create_global_message(&NewMessage {
            content: "maintenance".into(),
            severity: "info".into(),
            media_type: "text/markdown".into(),
        })
        .await
        .unwrap();
    s.emulator.reset_stats();
    let desired = banner("maintenance");
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let stats = s.emulator.stats();
    // List, create, list again for the uuid.
    assert_eq!((stats.total, stats.writes()), (3, 1), "{stats:?}");
    let uuid = settled(&desired, &report, &s.quay)
        .await
        .unwrap()
        .unwrap()
        .uuid;
    let all = listed(&s).await;
    assert_eq!(all.len(), 2);
    let ours = all.iter().find(|m| m.uuid == uuid).unwrap();
    assert_eq!(ours.severity, "warning");
}

#[tokio::test]
async fn messages_in_sync_share_one_list_and_write_nothing() {
    let s = Setup::new().await;
    for text in ["one", "two", "three"] {
        reconcile(&banner(text), &s.quay, Mode::Apply)
            .await
            .unwrap();
    }
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    for text in ["one", "two", "three"] {
        let report = reconcile(&banner(text), &fresh, Mode::Apply).await.unwrap();
        assert!(report.existed && report.changes.is_empty());
    }
    let stats = s.emulator.stats();
    assert_eq!((stats.total, stats.writes()), (1, 0), "{stats:?}");
}

#[tokio::test]
async fn a_change_posts_the_new_message_before_deleting_the_old_one() {
    let s = Setup::new().await;
    let first = banner("down at 22:00");
    let report = reconcile(&first, &s.quay, Mode::Apply).await.unwrap();
    let old = settled(&first, &report, &s.quay)
        .await
        .unwrap()
        .unwrap()
        .uuid;
    let changed = DesiredMessage {
        uuid: Some(old.clone()),
        ..banner("down at 23:00")
    };
    // The delete fails: both are shown, never neither.
    s.fault(
        json!({"status": 503, "method": "DELETE", "path_prefix": "/api/v1/message/", "count": 2}),
    )
    .await;
    let fresh = Setup::quay_for(&s.emulator);
    assert!(reconcile(&changed, &fresh, Mode::Apply).await.is_err());
    assert_eq!(listed(&s).await.len(), 2);
    // The retry adopts the new one instead of posting a third, then removes the old one.
    s.emulator.reset_stats();
    let fresh = Setup::quay_for(&s.emulator);
    let report = reconcile(&changed, &fresh, Mode::Apply).await.unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["content"]);
    let now = settled(&changed, &report, &fresh).await.unwrap().unwrap();
    let stats = s.emulator.stats();
    assert_eq!(stats.by_method.get("POST"), None, "{stats:?}");
    assert_eq!(stats.by_method.get("DELETE"), Some(&1), "{stats:?}");
    // The list read for the reconcile serves the settled state too.
    assert_eq!(stats.total, 2, "{stats:?}");
    let left = listed(&s).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].content, "down at 23:00");
    assert_eq!(left[0].uuid, now.uuid);
    assert_ne!(now.uuid, old);
}

#[tokio::test]
async fn delete_removes_only_the_recorded_message() {
    let s = Setup::new().await;
    let desired = banner("maintenance");
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let uuid = settled(&desired, &report, &s.quay)
        .await
        .unwrap()
        .unwrap()
        .uuid;
    // Someone replaced it by hand with an identical message: not ours to delete.
    s.client().delete_global_message(&uuid).await.unwrap();
    s.client()
        .create_global_message(&NewMessage {
            content: "maintenance".into(),
            severity: "warning".into(),
            media_type: "text/markdown".into(),
        })
        .await
        .unwrap();
    let recorded = DesiredMessage {
        uuid: Some(uuid),
        ..desired
    };
    delete(&recorded, &Setup::quay_for(&s.emulator))
        .await
        .unwrap();
    assert_eq!(listed(&s).await.len(), 1, "the hand-made message stays");
}
