use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayRepository;
use quay_config_operator::quay::api::repository::NewRepository;
use serde_json::{Value, json};
use std::sync::Arc;

use super::{NS, TOKEN, emulator, kind_context, mock_client, ready};

const REPO_PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayrepositories/app";

fn repo_json(extra_spec: Value, finalized: bool, status: Value) -> Value {
    let mut spec = json!({"namespace": "acme", "description": "the app"});
    spec.as_object_mut()
        .unwrap()
        .extend(extra_spec.as_object().unwrap().clone());
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
        "metadata": {
            "name": "app", "namespace": NS, "uid": "repo-uid", "generation": 3, "resourceVersion": "11",
            "creationTimestamp": "2026-11-22T10:00:00Z",
            "finalizers": if finalized { json!([FINALIZER]) } else { json!([]) }
        },
        "spec": spec,
        "status": status
    })
}

fn repo(extra_spec: Value, finalized: bool, status: Value) -> QuayRepository {
    serde_json::from_value(repo_json(extra_spec, finalized, status)).expect("repo")
}

async fn emulator_with_org() -> quay_config_operator::emulator::Emulator {
    let emu = emulator().await;
    let client = quay_config_operator::quay::QuayClient::new(
        quay_config_operator::quay::ClientOptions::new(
            emu.url(),
            secrecy::SecretString::from(TOKEN.to_owned()),
        ),
    )
    .unwrap();
    client.create_organization("acme", None).await.unwrap();
    emu.reset_stats();
    emu
}

fn quay(emu: &quay_config_operator::emulator::Emulator) -> quay_config_operator::quay::QuayClient {
    quay_config_operator::quay::QuayClient::new(quay_config_operator::quay::ClientOptions::new(
        emu.url(),
        secrecy::SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap()
}

/// Starts one reconcile of `obj` with `ctx`.
fn start(
    obj: QuayRepository,
    ctx: Arc<quay_config_operator::controller::KindContext<QuayRepository>>,
) -> tokio::task::JoinHandle<
    Result<kube::runtime::controller::Action, quay_config_operator::controller::Error>,
> {
    tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ))
}

/// Answers the status patch of the repository and returns it.
async fn expect_status(api: &mut super::ApiServer) -> Value {
    api.expect(
        "PATCH",
        &format!("{REPO_PATH}/status"),
        200,
        repo_json(json!({}), true, Value::Null),
    )
    .await
}

/// Creates `acme/app` in Quay by hand, private, with `description`.
async fn existing_repo(emu: &quay_config_operator::emulator::Emulator, description: &str) {
    let new = NewRepository {
        namespace: "acme".into(),
        repository: "app".into(),
        visibility: "private".into(),
        description: description.into(),
        repo_kind: "image".into(),
    };
    quay(emu).create_repository(&new).await.unwrap();
}

#[tokio::test]
async fn a_new_resource_gets_the_finalizer_first() {
    let (client, mut api) = mock_client();
    let obj = repo(json!({}), false, Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    let patch = api
        .expect(
            "PATCH",
            REPO_PATH,
            200,
            repo_json(json!({}), true, Value::Null),
        )
        .await;
    assert!(patch.to_string().contains(FINALIZER), "{patch}");
    super::finish(task).await.expect("reconcile");
}

#[tokio::test]
async fn creates_in_quay_and_reports_ready_with_pull_spec() {
    let emu = emulator_with_org().await;
    let (client, mut api) = mock_client();
    let obj = repo(json!({"visibility": "public"}), true, Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx.clone());
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let event = api.expect_event().await;
    assert_eq!(event["reason"], "Created");
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");

    let ready = ready(&patch);
    assert_eq!(ready["status"], "True");
    assert_eq!(ready["reason"], "Created");
    assert_eq!(ready["observedGeneration"], 3);
    assert_eq!(patch["status"]["observedGeneration"], 3);
    assert_eq!(patch["status"]["origin"], "Created");
    let host = emu.url().trim_start_matches("http://").to_owned();
    assert_eq!(patch["status"]["pullSpec"], format!("{host}/acme/app"));
    let live = quay(&emu)
        .get_repository("acme", "app")
        .await
        .unwrap()
        .unwrap();
    assert!(live.is_public);
    assert!(!patch.to_string().contains(TOKEN), "no secret in status");
    // What /metrics serves after this reconcile: controller-runtime's names,
    // and each Quay call by method, route template and status.
    let metrics = ctx.shared.metrics.render();
    for line in [
        "controller_runtime_reconcile_total{controller=\"QuayRepository\",result=\"success\"} 1\n",
        "controller_runtime_reconcile_time_seconds_count{controller=\"QuayRepository\"} 1\n",
        "quay_api_requests_total{method=\"POST\",route=\"/repository\",status=\"201\"} 1\n",
        "quay_api_request_duration_seconds_count{method=\"POST\",route=\"/repository\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(!metrics.contains("acme"), "no object names in labels");
}

#[tokio::test]
async fn an_unchanged_resource_writes_neither_quay_nor_status() {
    let emu = emulator_with_org().await;
    existing_repo(&emu, "the app").await;
    let (client, mut api) = mock_client();
    // Status as a previous reconcile left it.
    let host = emu.url().trim_start_matches("http://").to_owned();
    let status = json!({
        "conditions": [{"type": "Ready", "status": "True", "reason": "InSync", "message": "repository acme/app matches the spec",
                        "observedGeneration": 3, "lastTransitionTime": "2026-11-22T10:00:00Z"}],
        "observedGeneration": 3, "origin": "Created", "namespace": "acme", "name": "app",
        "pullSpec": format!("{host}/acme/app")
    });
    let obj = repo(json!({}), true, status);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    emu.reset_stats();
    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    super::finish(task).await.expect("reconcile");
    let stats = emu.stats();
    assert_eq!(stats.writes(), 0);
    assert_eq!(stats.total, 1, "one list call: {stats:?}");
}

#[tokio::test]
async fn a_changed_token_secret_is_used_without_restart() {
    let emu = emulator_with_org().await;
    let (client, mut api) = mock_client();
    let obj = repo(json!({}), true, Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));

    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj.clone()),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), "wrong-token", "1").await;
    let event = api.expect_event().await;
    assert_eq!(event["type"], "Warning");
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["status"], "False");
    assert_eq!(ready(&patch)["reason"], "Unauthorized");
    assert!(!patch.to_string().contains("wrong-token"));

    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "2").await;
    assert_eq!(api.expect_event().await["reason"], "Created");
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "Created");
}

#[tokio::test]
async fn a_missing_connection_is_reported_without_calling_quay() {
    let emu = emulator_with_org().await;
    let (client, mut api) = mock_client();
    let obj = repo(json!({}), true, Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    api.expect_not_found(&format!(
        "/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default"
    ))
    .await;
    api.expect_event().await;
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "ConnectionNotFound");
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test]
async fn the_younger_of_two_resources_for_one_repository_is_in_conflict() {
    let emu = emulator_with_org().await;
    let (client, mut api) = mock_client();
    let older: QuayRepository = serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
        "metadata": {"name": "first", "namespace": NS, "uid": "first-uid", "creationTimestamp": "2026-11-01T00:00:00Z"},
        "spec": {"namespace": "acme", "name": "app"}
    }))
    .unwrap();
    let obj = repo(json!({}), true, Value::Null);
    let ctx = kind_context(client, &[older, obj.clone()]);
    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    assert_eq!(api.expect_event().await["reason"], "ConflictingResource");
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "ConflictingResource");
    assert!(ready(&patch)["message"].as_str().unwrap().contains("first"));
    assert_eq!(emu.stats().total, 0, "the loser never talks to Quay");
}

fn deleting(extra_spec: Value, origin: &str) -> QuayRepository {
    let mut v = repo_json(extra_spec, true, json!({"origin": origin}));
    v["metadata"]["deletionTimestamp"] = json!("2026-11-22T11:00:00Z");
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn deletion_policy_delete_removes_the_repository_then_the_finalizer() {
    let emu = emulator_with_org().await;
    existing_repo(&emu, "").await;
    let (client, mut api) = mock_client();
    let obj = deleting(json!({"deletionPolicy": "Delete"}), "Adopted");
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    assert_eq!(api.expect_event().await["reason"], "Deleted");
    let patch = api
        .expect(
            "PATCH",
            REPO_PATH,
            200,
            repo_json(json!({}), false, Value::Null),
        )
        .await;
    assert!(
        patch.to_string().contains("remove"),
        "finalizer removed: {patch}"
    );
    super::finish(task).await.expect("reconcile");
    assert!(
        quay(&emu)
            .get_repository("acme", "app")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_adopted_repository_is_retained_unless_delete_was_asked_explicitly() {
    let emu = emulator_with_org().await;
    let (client, mut api) = mock_client();
    let obj = deleting(json!({}), "Adopted");
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    assert_eq!(api.expect_event().await["reason"], "Retained");
    api.expect(
        "PATCH",
        REPO_PATH,
        200,
        repo_json(json!({}), false, Value::Null),
    )
    .await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(emu.stats().total, 0, "nothing in Quay is touched");
}

#[tokio::test]
async fn a_blocked_deletion_says_how_to_let_go() {
    let (client, mut api) = mock_client();
    let obj = deleting(json!({"deletionPolicy": "Delete"}), "Created");
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    api.expect_not_found(&format!(
        "/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default"
    ))
    .await;
    assert_eq!(api.expect_event().await["reason"], "DeletionBlocked");
    let patch = expect_status(&mut api).await;
    let err = super::finish(task).await.expect_err("deletion waits");
    assert!(
        ready(&patch)["message"]
            .as_str()
            .unwrap()
            .contains("set spec.deletionPolicy to Retain")
    );
    assert!(err.to_string().contains("Retain"));
}

#[tokio::test]
async fn a_robot_is_named_by_its_quay_robot_account_resource() {
    let emu = emulator_with_org().await;
    let owner = quay_config_operator::quay::api::robot::RobotOwner::Organization("acme".into());
    quay(&emu)
        .create_robot(&owner, "ci_pusher", "", None)
        .await
        .unwrap();
    let (client, mut api) = mock_client();
    let obj = repo(
        json!({"permissions": [{"kind": "robot", "name": "ci-pusher", "role": "write"}]}),
        true,
        Value::Null,
    );
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let robot = json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRobotAccount",
        "metadata": {"name": "ci-pusher", "namespace": NS},
        "spec": {"organization": "acme", "name": "ci_pusher"}
    });
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayrobotaccounts/ci-pusher"),
        200,
        robot,
    )
    .await;
    assert_eq!(api.expect_event().await["reason"], "Created");
    expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    let users = quay(&emu)
        .list_repository_permissions(
            "acme",
            "app",
            quay_config_operator::quay::api::permission::Grantee::User,
        )
        .await
        .unwrap();
    assert_eq!(users["acme+ci_pusher"].role, "write");
}

#[tokio::test]
async fn drift_that_is_gone_is_cleared_from_the_status() {
    let emu = emulator_with_org().await;
    existing_repo(&emu, "the app").await;
    let (client, mut api) = mock_client();
    let status = json!({
        "conditions": [{"type": "Ready", "status": "False", "reason": "DriftDetected", "message": "old",
                        "observedGeneration": 3, "lastTransitionTime": "2026-11-22T10:00:00Z"}],
        "observedGeneration": 3, "namespace": "acme", "name": "app",
        "drift": ["visibility: \"public\" -> \"private\""]
    });
    let obj = repo(json!({"managementPolicy": "ObserveOnly"}), true, status);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "ObservedInSync");
    assert_eq!(
        patch["status"]["drift"],
        Value::Null,
        "the stale drift list is removed: {patch}"
    );
    assert!(patch["status"].as_object().unwrap().contains_key("drift"));
}

#[tokio::test]
async fn a_swapped_token_acts_for_nobody_until_the_connection_confirms_it() {
    let emu = emulator_with_org().await;
    let bob = crate::engine::feed::user_token(&emu, "bob", true).await;
    emu.reset_stats();
    let (client, mut api) = mock_client();
    let obj = repo(json!({}), true, Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = start(obj, ctx);
    // Pinned to quayadmin, but the Secret now holds bob's token (a superuser too).
    let mut pinned = super::connection(&emu.url());
    pinned["status"] = json!({"user": "quayadmin", "superUser": true});
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default"),
        200,
        pinned,
    )
    .await;
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{NS}/secrets/quay-token"),
        200,
        super::token_secret(&bob, "9"),
    )
    .await;
    assert_eq!(api.expect_event().await["reason"], "IdentityChanged");
    let patch = expect_status(&mut api).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "IdentityChanged");
    assert!(!patch.to_string().contains(&bob));
    let stats = emu.stats();
    assert_eq!(
        (stats.total, stats.writes()),
        (1, 0),
        "only who-am-I: {stats:?}"
    );
}
