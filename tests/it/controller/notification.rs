use std::sync::Arc;

use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayNotification;
use quay_config_operator::emulator::Emulator;
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use serde_json::{Value, json};

use super::{NS, TOKEN, emulator, kind_context, mock_client, ready};

const PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quaynotifications/push";
const REPO_REF_PATH: &str =
    "/apis/quayconfig.io/v1alpha1/namespaces/team/quayrepositories/app-repo";

fn notification(annotation: &str, status: Value) -> QuayNotification {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayNotification",
        "metadata": {
            "name": "push", "namespace": NS, "uid": "n-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER],
            "annotations": {"quayconfig.io/test-notification": annotation}
        },
        "spec": {
            "repositoryRef": {"name": "app-repo"}, "event": "repo_push", "method": "quay_notification",
            "config": {"target": {"kind": "org", "name": "acme"}}
        },
        "status": status
    }))
    .expect("notification")
}

/// What the API server answers to a status patch (the object; its content is not read).
fn answer() -> Value {
    serde_json::to_value(notification("1", Value::Null)).unwrap()
}

fn referenced_repository() -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
        "metadata": {"name": "app-repo", "namespace": NS, "uid": "r-uid", "resourceVersion": "3"},
        "spec": {"namespace": "acme", "name": "app"}
    })
}

async fn emulator_with_repo() -> Emulator {
    let emu = emulator().await;
    let client = QuayClient::new(ClientOptions::new(
        emu.url(),
        secrecy::SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap();
    client.create_organization("acme", None).await.unwrap();
    client
        .create_repository(&NewRepository {
            namespace: "acme".into(),
            repository: "app".into(),
            visibility: "private".into(),
            description: String::new(),
            repo_kind: "image".into(),
        })
        .await
        .unwrap();
    emu
}

fn test_calls(emu: &Emulator) -> u64 {
    emu.stats()
        .by_route
        .iter()
        .filter(|(route, _)| route.ends_with("/test"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn the_test_annotation_acts_once_per_value() {
    let emu = emulator_with_repo().await;
    let (client, mut api) = mock_client();
    let obj = notification("1", Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", REPO_REF_PATH, 200, referenced_repository())
        .await;
    assert_eq!(api.expect_event().await["reason"], "TestNotificationSent");
    assert_eq!(api.expect_event().await["reason"], "Created");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["status"], "True");
    let status = &patch["status"];
    assert_eq!(status["repository"], "acme/app");
    assert_eq!(status["testNotificationHandled"], "1");
    assert_eq!(status["numberOfFailures"], 0);
    assert!(status["uuid"].is_string());
    assert_eq!(test_calls(&emu), 1);

    // The same value again: nothing is sent (Ready moves from Created to InSync).
    let handled = notification("1", status.clone());
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(handled),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", REPO_REF_PATH, 200, referenced_repository())
        .await;
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "InSync");
    assert_eq!(patch["status"]["testNotificationHandled"], "1");
    assert_eq!(patch["status"]["uuid"], status["uuid"]);
    assert_eq!(test_calls(&emu), 1);
    let status = patch["status"].clone();

    // A new value: one more test (fresh recorder: it would merge a repeated event).
    let again = notification("2", status.clone());
    let (client, mut api) = mock_client();
    let ctx = kind_context(client, std::slice::from_ref(&again));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(again),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", REPO_REF_PATH, 200, referenced_repository())
        .await;
    assert_eq!(api.expect_event().await["reason"], "TestNotificationSent");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(patch["status"]["testNotificationHandled"], "2");
    assert_eq!(test_calls(&emu), 2);
}

#[tokio::test]
async fn a_missing_repository_reference_waits_without_calling_quay() {
    let emu = emulator_with_repo().await;
    emu.reset_stats();
    let (client, mut api) = mock_client();
    let obj = notification("1", Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect_not_found(REPO_REF_PATH).await;
    assert_eq!(api.expect_event().await["reason"], "WaitingForDependency");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    let action = super::finish(task).await.expect("reconcile");
    let ready = ready(&patch);
    assert_eq!(ready["reason"], "WaitingForDependency");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("QuayRepository \"app-repo\"")
    );
    assert_eq!(emu.stats().total, 0, "Quay is not called");
    assert_ne!(action, kube::runtime::controller::Action::await_change());
}

const HOOK_SECRET_PATH: &str = "/api/v1/namespaces/team/secrets/hooks";
const WEBHOOK_URL: &str = "https://hooks.example.com/services/T0/B1/s3cr3t-hook-token";
const RESET_ROUTE: &str = "POST /api/v1/repository/{repository}/notification/{uuid}";

/// A webhook notification whose URL comes from Secret `hooks`, with a
/// `reset-failures` annotation.
fn webhook(reset: &str, status: Value) -> QuayNotification {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayNotification",
        "metadata": {
            "name": "push", "namespace": NS, "uid": "n-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER],
            "annotations": {"quayconfig.io/reset-failures": reset}
        },
        "spec": {
            "repository": "acme/app", "event": "repo_push", "method": "webhook",
            "urlSecretRef": {"name": "hooks", "key": "url"}
        },
        "status": status
    }))
    .expect("notification")
}

fn hook_secret() -> Value {
    super::secret("hooks", "hooks-uid", "1", &[("url", WEBHOOK_URL)])
}

#[tokio::test]
async fn the_reset_failures_annotation_acts_once_per_value_and_the_url_stays_secret() {
    let emu = emulator_with_repo().await;
    let (client, mut api) = mock_client();
    let obj = webhook("a", Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", HOOK_SECRET_PATH, 200, hook_secret())
        .await;
    let reset = api.expect_event().await;
    assert_eq!(reset["reason"], "FailuresReset");
    let created = api.expect_event().await;
    assert_eq!(created["reason"], "Created");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["status"], "True");
    let status = patch["status"].clone();
    assert_eq!(status["resetFailuresHandled"], "a");
    assert_eq!(status["numberOfFailures"], 0);
    assert!(status["uuid"].is_string());
    assert_eq!(super::calls(&emu, RESET_ROUTE), 1);
    for shown in [&reset, &created, &patch] {
        assert!(
            !shown.to_string().contains("s3cr3t-hook-token"),
            "the webhook URL leaked: {shown}"
        );
    }

    // The same value again: no Quay write at all, no Event.
    emu.reset_stats();
    let handled = webhook("a", status.clone());
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(handled),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", HOOK_SECRET_PATH, 200, hook_secret())
        .await;
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "InSync");
    assert_eq!(patch["status"]["resetFailuresHandled"], "a");
    assert_eq!(patch["status"]["uuid"], status["uuid"]);
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    assert!(!patch.to_string().contains("s3cr3t-hook-token"));
    let status = patch["status"].clone();

    // A new value: one more reset (fresh recorder: it would merge a repeated event).
    let again = webhook("b", status.clone());
    let (client, mut api) = mock_client();
    let ctx = kind_context(client, std::slice::from_ref(&again));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(again),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", HOOK_SECRET_PATH, 200, hook_secret())
        .await;
    let reset = api.expect_event().await;
    assert_eq!(reset["reason"], "FailuresReset");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(patch["status"]["resetFailuresHandled"], "b");
    assert_eq!(patch["status"]["uuid"], status["uuid"]);
    assert_eq!(super::calls(&emu, RESET_ROUTE), 1);
    assert_eq!(emu.stats().writes(), 1, "only the reset: {:?}", emu.stats());
    assert!(!format!("{reset}{patch}").contains("s3cr3t-hook-token"));
}

/// A Secret that exists without the key (an export's Secret not filled in
/// yet) needs a person: `Stalled`. A missing Secret may still come (from a
/// secrets operator): `Reconciling`. Neither reaches Quay.
#[tokio::test]
async fn a_secret_without_its_key_is_stalled_and_a_missing_one_is_awaited() {
    let emu = emulator_with_repo().await;
    for (answer_status, secret, stalled) in [
        (200, super::secret("hooks", "hooks-uid", "1", &[]), true),
        (
            404,
            json!({"kind": "Status", "code": 404, "reason": "NotFound"}),
            false,
        ),
    ] {
        emu.reset_stats();
        let (client, mut api) = mock_client();
        let obj = webhook("a", Value::Null);
        let ctx = kind_context(client, std::slice::from_ref(&obj));
        let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
            Arc::new(obj),
            ctx,
        ));
        api.expect_connection(&emu.url(), TOKEN, "1").await;
        api.expect("GET", HOOK_SECRET_PATH, answer_status, secret)
            .await;
        let event = api.expect_event().await;
        let patch = api
            .expect("PATCH", &format!("{PATH}/status"), 200, answer())
            .await;
        super::finish(task).await.expect("reconcile");
        let (reason, kstatus) = match stalled {
            true => ("InvalidSecret", "Stalled"),
            false => ("SecretNotFound", "Reconciling"),
        };
        assert_eq!(ready(&patch)["reason"], reason);
        assert_eq!(event["reason"], reason);
        let condition = super::condition(&patch, kstatus).expect("kstatus condition");
        assert_eq!(condition["status"], "True");
        assert_eq!(emu.stats().total, 0, "nothing reaches Quay");
    }
}
