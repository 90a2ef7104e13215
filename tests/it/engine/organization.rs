use quay_config_operator::engine::organization::DesiredOrganization;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, delete, reconcile};

use super::Setup;

fn org(name: &str, email: Option<&str>) -> DesiredOrganization {
    DesiredOrganization {
        name: name.into(),
        email: email.map(Into::into),
        ..DesiredOrganization::default()
    }
}

#[tokio::test]
async fn creates_then_keeps_in_sync_with_reads_only() {
    let s = Setup::new().await;
    let desired = org("acme", Some("ops@acme.example"));
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let live = s.client().get_organization("acme").await.unwrap().unwrap();
    assert_eq!(live.email.as_deref(), Some("ops@acme.example"));

    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.existed && !report.applied && report.changes.is_empty());
    assert_eq!(
        s.emulator.stats().writes(),
        0,
        "an in-sync organization costs reads only"
    );
    assert_eq!(s.emulator.stats().total, 1);
}

#[tokio::test]
async fn email_drift_is_repaired_and_unmanaged_email_is_left_alone() {
    let s = Setup::new().await;
    s.client()
        .create_organization("acme", Some("old@acme.example"))
        .await
        .unwrap();
    let report = reconcile(&org("acme", Some("new@acme.example")), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(report.existed && report.applied, "adopted and updated");
    assert_eq!(report.changes[0].field, "email");
    assert_eq!(report.changes[0].live, "old@acme.example");
    let live = s.client().get_organization("acme").await.unwrap().unwrap();
    assert_eq!(live.email.as_deref(), Some("new@acme.example"));

    s.emulator.reset_stats();
    let report = reconcile(&org("acme", None), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.emulator.stats().writes(), 0);
}

#[tokio::test]
async fn observe_only_reports_and_never_writes() {
    let s = Setup::new().await;
    let report = reconcile(&org("acme", None), &s.quay, Mode::Observe)
        .await
        .unwrap();
    assert!(!report.existed && !report.applied);
    s.client()
        .create_organization("acme", Some("a@x.example"))
        .await
        .unwrap();
    s.emulator.reset_stats();
    let report = reconcile(&org("acme", Some("b@x.example")), &s.quay, Mode::Observe)
        .await
        .unwrap();
    assert_eq!(report.changes.len(), 1);
    assert!(!report.applied);
    assert_eq!(s.emulator.stats().writes(), 0);
}

#[tokio::test]
async fn delete_removes_and_tolerates_absence() {
    let s = Setup::new().await;
    let desired = org("gone", None);
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(delete(&desired, &s.quay).await.unwrap());
    assert!(s.client().get_organization("gone").await.unwrap().is_none());
    assert!(!delete(&desired, &s.quay).await.unwrap());
}

#[tokio::test]
async fn a_name_taken_by_a_user_is_a_clear_terminal_error() {
    let s = Setup::new().await;
    let me = s.client().current_user().await.unwrap().username;
    let err = reconcile(&org(&me, None), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Rejected(_)), "{err}");
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert!(err.to_string().contains("taken by a Quay user"), "{err}");
}

#[tokio::test]
async fn quay_validation_errors_carry_quays_message() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let err = reconcile(&org("acme", Some("not-an-email")), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert_eq!(err.reason(), "QuayRejected");
    assert!(err.to_string().ends_with("Invalid email address"), "{err}");
}

#[tokio::test]
async fn server_errors_are_transient() {
    let s = Setup::new().await;
    s.fault(serde_json::json!({"status": 503, "count": 5}))
        .await;
    let err = reconcile(&org("acme", None), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
}
