//! QuayProxyCache: credentials from a Secret are written once per Secret
//! content (validate, delete, create; a write to the Secret's metadata alone
//! replaces nothing) and never shown; an upstream Quay
//! refuses becomes a condition with Quay's message while the working
//! configuration stays, without a hot retry loop.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayProxyCache;
use quay_config_operator::emulator::Emulator;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use serde_json::{Value, json};

use super::{NS, TOKEN, calls, emulator, finish, kind_context, mock_client, ready, sent_from};

const PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayproxycaches/hub";
const CREDS_PATH: &str = "/api/v1/namespaces/team/secrets/hub-creds";
const PASSWORD: &str = "hub-pa55-w0rd";
const VALIDATE: &str = "POST /api/v1/organization/{orgname}/validateproxycache";
const CREATE: &str = "POST /api/v1/organization/{orgname}/proxycache";
const DELETE: &str = "DELETE /api/v1/organization/{orgname}/proxycache";
/// The resync interval of [`super::kind_context`].
const RESYNC: Duration = Duration::from_secs(600);

fn cache(upstream: &str, status: Value) -> QuayProxyCache {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayProxyCache",
        "metadata": {
            "name": "hub", "namespace": NS, "uid": "p-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER]
        },
        "spec": {
            "organization": "hub", "upstreamRegistry": upstream, "expirationSeconds": 7200,
            "credentialsSecretRef": {"name": "hub-creds"}
        },
        "status": status
    }))
    .expect("proxy cache")
}

fn answer() -> Value {
    serde_json::to_value(cache("docker.io/library", Value::Null)).unwrap()
}

fn creds(version: &str) -> Value {
    super::credentials_secret("hub-creds", PASSWORD, version)
}

fn quay(emu: &Emulator) -> QuayClient {
    QuayClient::new(ClientOptions::new(
        emu.url(),
        secrecy::SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap()
}

/// One reconcile of `obj` with its Secret at `version`; returns the status
/// patch, the events (with the given reasons; `""`: any) and the requeue action.
async fn reconcile(
    emu: &Emulator,
    obj: QuayProxyCache,
    version: &str,
    events: &[&str],
) -> (Value, Vec<Value>, Action) {
    let (client, mut api) = mock_client();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect("GET", CREDS_PATH, 200, creds(version)).await;
    let mut seen = Vec::new();
    for reason in events {
        let event = api.expect_event().await;
        if !reason.is_empty() {
            assert_eq!(event["reason"], *reason, "{event}");
        }
        seen.push(event);
    }
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    let action = finish(task).await.expect("reconcile");
    let shown = format!("{patch}{seen:?}");
    assert!(!shown.contains(PASSWORD), "the password leaked: {shown}");
    (patch, seen, action)
}

#[tokio::test]
async fn credentials_are_written_once_per_secret_content() {
    let emu = emulator().await;
    quay(&emu).create_organization("hub", None).await.unwrap();
    let (patch, _, _) = reconcile(
        &emu,
        cache("docker.io/library", Value::Null),
        "1",
        &["Created"],
    )
    .await;
    assert_eq!(ready(&patch)["status"], "True");
    let status = patch["status"].clone();
    assert_eq!(status["organization"], "hub");
    assert_eq!(status["upstreamRegistry"], "docker.io/library");
    assert_eq!(status["expirationSeconds"], 7200);
    assert!(sent_from(&status, "1"), "{status}");
    assert_eq!((calls(&emu, VALIDATE), calls(&emu, CREATE)), (1, 1));

    // Same Secret version: one GET, nothing written.
    emu.reset_stats();
    let (patch, _, _) = reconcile(&emu, cache("docker.io/library", status.clone()), "1", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync", "{patch}");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    let status = patch["status"].clone();

    // A label on the Secret (new version, same content): the cache in use is
    // not replaced; the status records the new version.
    emu.reset_stats();
    let (patch, _, _) = reconcile(&emu, cache("docker.io/library", status), "2", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync", "{patch}");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
    assert!(sent_from(&patch["status"], "2"), "{patch}");
    let status = patch["status"].clone();

    // Recorded by an earlier release (no digest), same version: no change.
    let mut earlier = status.clone();
    earlier["credentialsVersion"] = json!("creds-uid/2");
    let (patch, _, _) = reconcile(&emu, cache("docker.io/library", earlier), "2", &[]).await;
    assert_eq!(ready(&patch)["reason"], "InSync", "{patch}");
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());

    // The password changed: validated, then replaced once.
    emu.reset_stats();
    let (patch, _, _) = reconcile(
        &emu,
        cache("docker.io/library", status),
        "3:b",
        &["Updated"],
    )
    .await;
    assert!(sent_from(&patch["status"], "3"), "{patch}");
    assert_eq!(
        (
            calls(&emu, VALIDATE),
            calls(&emu, DELETE),
            calls(&emu, CREATE)
        ),
        (1, 1, 1)
    );
    assert_eq!(emu.stats().writes(), 3, "{:?}", emu.stats());
}

#[tokio::test]
async fn a_refused_upstream_is_a_condition_and_the_cache_stays() {
    let emu = emulator().await;
    quay(&emu).create_organization("hub", None).await.unwrap();
    let (patch, _, _) = reconcile(
        &emu,
        cache("docker.io/library", Value::Null),
        "1",
        &["Created"],
    )
    .await;
    let status = patch["status"].clone();

    emu.reset_stats();
    let (patch, events, action) =
        reconcile(&emu, cache("localhost:5000", status), "1", &[""]).await;
    let condition = ready(&patch);
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "QuayRejected");
    let message = condition["message"].as_str().unwrap();
    assert!(
        message.contains("The provided registry URL is not allowed"),
        "{message}"
    );
    assert!(
        message.contains("current configuration was kept"),
        "{message}"
    );
    assert_eq!(events[0]["type"], "Warning");
    assert_eq!(action, Action::requeue(RESYNC), "no hot retry loop");
    assert_eq!(calls(&emu, DELETE), 0);
    assert_eq!(patch["status"]["upstreamRegistry"], "docker.io/library");
    let live = quay(&emu).get_proxy_cache("hub").await.unwrap().unwrap();
    assert_eq!(live.upstream_registry, "docker.io/library");
}
