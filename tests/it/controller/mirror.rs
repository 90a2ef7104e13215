//! QuayMirrorConfig: credentials from a Secret are sent once per Secret
//! version and never shown; sync-now and sync-cancel act once per value.

use std::sync::Arc;

use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayMirrorConfig;
use quay_config_operator::emulator::Emulator;
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use serde_json::{Value, json};

use super::{NS, TOKEN, calls, emulator, finish, kind_context, mock_client, ready, sent_from};

const PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quaymirrorconfigs/upstream";
const CREDS_PATH: &str = "/api/v1/namespaces/team/secrets/mirror-creds";
const PASSWORD: &str = "pa55-w0rd-upstream";
const MIRROR_POST: &str = "POST /api/v1/repository/{repository}/mirror";
const MIRROR_PUT: &str = "PUT /api/v1/repository/{repository}/mirror";
const SYNC_NOW: &str = "POST /api/v1/repository/{repository}/mirror/sync-now";
const SYNC_CANCEL: &str = "POST /api/v1/repository/{repository}/mirror/sync-cancel";

fn mirror(annotations: Value, status: Value) -> QuayMirrorConfig {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayMirrorConfig",
        "metadata": {
            "name": "upstream", "namespace": NS, "uid": "m-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER],
            "annotations": annotations
        },
        "spec": {
            "repository": "acme/app", "externalReference": "registry.example.com/upstream/app",
            "credentialsSecretRef": {"name": "mirror-creds"}, "syncInterval": "1h",
            "robotUsername": "acme+mirror", "rootRule": ["latest"]
        },
        "status": status
    }))
    .expect("mirror")
}

fn answer() -> Value {
    serde_json::to_value(mirror(json!({}), Value::Null)).unwrap()
}

fn creds(version: &str) -> Value {
    super::credentials_secret("mirror-creds", PASSWORD, version)
}

async fn emulator_with_repo_and_robot() -> Emulator {
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
    client
        .create_robot(
            &RobotOwner::Organization("acme".into()),
            "mirror",
            "mirror",
            None,
        )
        .await
        .unwrap();
    emu
}

/// Runs one reconcile of `obj` whose credentials Secret is at `version`,
/// answering the events with the given reasons; returns the status patch and the events.
async fn reconcile(
    emu: &Emulator,
    obj: QuayMirrorConfig,
    version: &str,
    events: &[&str],
) -> (Value, Vec<Value>) {
    let (patch, events) = run(emu, obj, version, events, true).await;
    (patch.expect("status patch"), events)
}

/// Like [`reconcile`], for a reconcile that leaves the status as it is (no patch).
async fn reconcile_unchanged(emu: &Emulator, obj: QuayMirrorConfig) {
    run(emu, obj, "1", &[], false).await;
}

async fn run(
    emu: &Emulator,
    obj: QuayMirrorConfig,
    version: &str,
    events: &[&str],
    patched: bool,
) -> (Option<Value>, Vec<Value>) {
    let (client, mut api) = mock_client();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    // One read of the Secret for both keys (username, password).
    api.expect("GET", CREDS_PATH, 200, creds(version)).await;
    let mut seen = Vec::new();
    for reason in events {
        let event = api.expect_event().await;
        assert_eq!(event["reason"], *reason, "{event}");
        seen.push(event);
    }
    let patch = match patched {
        true => Some(
            api.expect("PATCH", &format!("{PATH}/status"), 200, answer())
                .await,
        ),
        false => None,
    };
    finish(task).await.expect("reconcile");
    (patch, seen)
}

fn assert_no_password(patch: &Value, events: &[Value]) {
    let shown = format!("{patch}{events:?}");
    assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
}

#[tokio::test]
async fn credentials_are_sent_once_per_secret_version_and_never_shown() {
    let emu = emulator_with_repo_and_robot().await;
    let (patch, events) = reconcile(&emu, mirror(json!({}), Value::Null), "1", &["Created"]).await;
    assert_eq!(ready(&patch)["status"], "True");
    let status = patch["status"].clone();
    assert_eq!(status["repository"], "acme/app");
    assert!(sent_from(&status, "1"), "{status}");
    assert_eq!(status["syncStatus"], "NEVER_RUN");
    assert_eq!(calls(&emu, MIRROR_POST), 1);
    assert_no_password(&patch, &events);

    // Same Secret version: nothing is sent (the password cannot be read back).
    emu.reset_stats();
    let (patch, events) = reconcile(&emu, mirror(json!({}), status.clone()), "1", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync", "{patch}");
    assert!(sent_from(&patch["status"], "1"), "{patch}");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    assert_no_password(&patch, &events);
    let status = patch["status"].clone();

    // A label on the Secret (new version, same content): nothing is sent,
    // the status records the new version.
    emu.reset_stats();
    let (patch, events) = reconcile(&emu, mirror(json!({}), status.clone()), "2", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync", "{patch}");
    assert!(sent_from(&patch["status"], "2"), "{patch}");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    assert_no_password(&patch, &events);
    let status = patch["status"].clone();

    // The password changed: the credentials are sent again, once.
    emu.reset_stats();
    let (patch, events) =
        reconcile(&emu, mirror(json!({}), status.clone()), "3:b", &["Updated"]).await;
    assert_eq!(ready(&patch)["reason"], "Updated");
    assert!(sent_from(&patch["status"], "3"), "{patch}");
    assert_eq!(calls(&emu, MIRROR_PUT), 1);
    assert_eq!(emu.stats().writes(), 1, "{:?}", emu.stats());
    assert_no_password(&patch, &events);
    let status = patch["status"].clone();

    // And not again at the next resync.
    emu.reset_stats();
    let (patch, events) = reconcile(&emu, mirror(json!({}), status), "3:b", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    assert_no_password(&patch, &events);
}

#[tokio::test]
async fn sync_now_and_sync_cancel_act_once_per_value() {
    let emu = emulator_with_repo_and_robot().await;
    let (patch, _) = reconcile(&emu, mirror(json!({}), Value::Null), "1", &["Created"]).await;
    let status = patch["status"].clone();
    assert_eq!(status["syncStatus"], "NEVER_RUN");

    let now = json!({"quayconfig.io/sync-now": "1"});
    let (patch, events) = reconcile(&emu, mirror(now.clone(), status), "1", &["SyncStarted"]).await;
    assert_eq!(patch["status"]["syncStatus"], "SYNC_NOW");
    assert_eq!(patch["status"]["syncNowHandled"], "1");
    assert_eq!(calls(&emu, SYNC_NOW), 1);
    assert_no_password(&patch, &events);
    let status = patch["status"].clone();

    // Handled already: no second sync (and nothing to write to the status).
    reconcile_unchanged(&emu, mirror(now, status.clone())).await;
    assert_eq!(calls(&emu, SYNC_NOW), 1);

    let cancel = json!({"quayconfig.io/sync-now": "1", "quayconfig.io/sync-cancel": "x"});
    let (patch, events) = reconcile(
        &emu,
        mirror(cancel.clone(), status),
        "1",
        &["SyncCancelled"],
    )
    .await;
    assert_eq!(patch["status"]["syncStatus"], "CANCEL");
    assert_eq!(patch["status"]["syncCancelHandled"], "x");
    assert_eq!(patch["status"]["retriesRemaining"], 0);
    assert_eq!(calls(&emu, SYNC_CANCEL), 1);
    assert_no_password(&patch, &events);
    let status = patch["status"].clone();

    reconcile_unchanged(&emu, mirror(cancel, status)).await;
    assert_eq!(calls(&emu, SYNC_CANCEL), 1);
    assert_eq!(calls(&emu, SYNC_NOW), 1);
}
