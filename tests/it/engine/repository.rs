use quay_config_operator::engine::repository::DesiredRepository;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, delete, reconcile};

use super::Setup;

fn repo(namespace: &str, name: &str) -> DesiredRepository {
    DesiredRepository {
        namespace: namespace.into(),
        name: name.into(),
        public: false,
        description: Some("the app".into()),
        kind: "image".into(),
        state: None,
        ..DesiredRepository::default()
    }
}

async fn with_org(name: &str) -> Setup {
    let s = Setup::new().await;
    s.client().create_organization(name, None).await.unwrap();
    s
}

#[tokio::test]
async fn creates_then_an_unchanged_repository_costs_no_write() {
    let s = with_org("acme").await;
    let mut desired = repo("acme", "app");
    desired.public = true;
    desired.state = Some("READ_ONLY".into());
    assert!(
        reconcile(&desired, &s.quay, Mode::Apply)
            .await
            .unwrap()
            .created()
    );
    let live = s
        .client()
        .get_repository("acme", "app")
        .await
        .unwrap()
        .unwrap();
    assert!(live.is_public);
    assert_eq!(live.description.as_deref(), Some("the app"));
    assert_eq!(live.state, "READ_ONLY");

    // A restarted operator (fresh cache) confirms it with one list call.
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    assert!(report.existed && report.changes.is_empty());
    let stats = s.emulator.stats();
    assert_eq!(stats.writes(), 0);
    assert_eq!(stats.total, 1);
}

#[tokio::test]
async fn many_repositories_of_one_namespace_share_one_list_call() {
    let s = with_org("acme").await;
    for i in 0..30 {
        reconcile(&repo("acme", &format!("r{i}")), &s.quay, Mode::Apply)
            .await
            .unwrap();
    }
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let all: Vec<_> = (0..30).map(|i| repo("acme", &format!("r{i}"))).collect();
    let results =
        futures::future::join_all(all.iter().map(|d| reconcile(d, &fresh, Mode::Apply))).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.changes.is_empty()))
    );
    assert_eq!(
        s.emulator.stats().total,
        1,
        "30 concurrent reconciles, one list call"
    );
}

#[tokio::test]
async fn drift_is_repaired_field_by_field() {
    let s = with_org("acme").await;
    let desired = repo("acme", "app");
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    s.client()
        .change_repository_visibility("acme", "app", "public")
        .await
        .unwrap();
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["visibility"]);
    let stats = s.emulator.stats();
    assert_eq!(
        stats.writes(),
        1,
        "only the field that differs is written: {stats:?}"
    );
    assert!(
        !s.client()
            .get_repository("acme", "app")
            .await
            .unwrap()
            .unwrap()
            .is_public
    );
}

#[tokio::test]
async fn an_existing_repository_is_adopted() {
    let s = with_org("acme").await;
    let new = quay_config_operator::quay::api::repository::NewRepository {
        namespace: "acme".into(),
        repository: "app".into(),
        visibility: "private".into(),
        description: "hand made".into(),
        repo_kind: "image".into(),
    };
    s.client().create_repository(&new).await.unwrap();
    let mut desired = repo("acme", "app");
    desired.description = None;
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(
        report.existed && !report.applied,
        "unmanaged description is left alone"
    );
    assert_eq!(
        s.client()
            .get_repository("acme", "app")
            .await
            .unwrap()
            .unwrap()
            .description
            .as_deref(),
        Some("hand made")
    );
}

#[tokio::test]
async fn observe_only_reports_drift_without_writing() {
    let s = with_org("acme").await;
    reconcile(&repo("acme", "app"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    let mut desired = repo("acme", "app");
    desired.description = Some("wanted".into());
    desired.public = true;
    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Observe).await.unwrap();
    assert_eq!(report.changes.len(), 2);
    assert!(!report.applied);
    assert_eq!(s.emulator.stats().writes(), 0);
}

#[tokio::test]
async fn a_missing_organization_is_waited_for() {
    let s = Setup::new().await;
    let desired = repo("later", "app");
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert!(matches!(err, EngineError::Waiting { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Waiting);
    assert!(err.to_string().contains("\"later\""));
    s.client().create_organization("later", None).await.unwrap();
    assert!(
        reconcile(&desired, &s.quay, Mode::Apply)
            .await
            .unwrap()
            .created()
    );
}

#[tokio::test]
async fn repo_kind_cannot_change_in_place() {
    let s = with_org("acme").await;
    reconcile(&repo("acme", "app"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    let mut desired = repo("acme", "app");
    desired.kind = "application".into();
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert!(matches!(err, EngineError::Immutable { .. }));
    assert_eq!(err.class(), ErrorClass::Terminal);
}

#[tokio::test]
async fn created_concurrently_elsewhere_is_adopted_not_failed() {
    let s = with_org("acme").await;
    let desired = repo("acme", "app");
    // Our cache says the namespace is empty...
    assert!(s.quay.repositories("acme").await.unwrap().is_empty());
    // ...then someone creates the repository by hand.
    let mut new = quay_config_operator::quay::api::repository::NewRepository {
        namespace: "acme".into(),
        repository: "app".into(),
        visibility: "public".into(),
        description: String::new(),
        repo_kind: "image".into(),
    };
    new.description = "theirs".into();
    s.client().create_repository(&new).await.unwrap();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.existed && report.applied);
    let live = s
        .client()
        .get_repository("acme", "app")
        .await
        .unwrap()
        .unwrap();
    assert!(!live.is_public);
    assert_eq!(live.description.as_deref(), Some("the app"));
}

#[tokio::test]
async fn delete_per_request_and_repeated_delete_is_fine() {
    let s = with_org("acme").await;
    let desired = repo("acme", "app");
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(delete(&desired, &s.quay).await.unwrap());
    assert!(
        s.client()
            .get_repository("acme", "app")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!delete(&desired, &s.quay).await.unwrap());
}

#[tokio::test]
async fn quay_rejections_are_terminal_with_quays_message() {
    let s = with_org("acme").await;
    let err = reconcile(&repo("acme", "Bad Name"), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert!(
        err.to_string().ends_with("Invalid repository name"),
        "{err}"
    );
}
