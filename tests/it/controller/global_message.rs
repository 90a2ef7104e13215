//! QuayGlobalMessage: a cluster-scoped kind. It uses a ClusterQuayConnection
//! whatever that connection's tenancy rules say (they govern namespaces), its
//! status is written at the cluster-scoped path, and Quay ends up with the
//! message, created once.

use std::sync::Arc;

use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use quay_config_operator::controller::{Context, FINALIZER, KindContext};
use quay_config_operator::crd::QuayGlobalMessage;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{TOKEN, emulator, finish, mock_client, ready, token_secret};

const OPERATOR_NS: &str = "quay-system";
const CONNECTION_PATH: &str = "/apis/quayconfig.io/v1alpha1/clusterquayconnections/default";
const STATUS_PATH: &str = "/apis/quayconfig.io/v1alpha1/quayglobalmessages/maintenance/status";

fn message(connection_ref: Value) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayGlobalMessage",
        "metadata": {"name": "maintenance", "uid": "m-uid", "generation": 1, "resourceVersion": "4",
                     "creationTimestamp": "2026-12-01T00:00:00Z", "finalizers": [FINALIZER]},
        "spec": {"content": "Quay is read-only on Saturday", "severity": "warning",
                 "connectionRef": connection_ref}
    })
}

fn context(client: kube::Client, obj: &QuayGlobalMessage) -> Arc<KindContext<QuayGlobalMessage>> {
    let (reader, mut writer): (Store<QuayGlobalMessage>, _) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::Apply(obj.clone()));
    let shared = Context::new(
        client,
        std::time::Duration::from_secs(600),
        std::time::Duration::from_secs(20),
        Default::default(),
    )
    .with_operator_namespace(Some(OPERATOR_NS.to_owned()));
    Arc::new(KindContext {
        shared: Arc::new(shared),
        store: reader,
    })
}

fn token_secret_in_operator_namespace() -> Value {
    let mut secret = token_secret(TOKEN, "1");
    secret["metadata"]["namespace"] = json!(OPERATOR_NS);
    secret
}

#[tokio::test]
async fn a_global_message_goes_through_a_cluster_connection_whatever_its_tenancy_rules() {
    let emu = emulator().await;
    let (client, mut api) = mock_client();
    let value = message(json!({"kind": "ClusterQuayConnection", "name": "default"}));
    let obj: QuayGlobalMessage = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, &obj);
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    // Rules that admit no namespace: a cluster-scoped resource is in none.
    let connection = json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "ClusterQuayConnection",
        "metadata": {"name": "default", "uid": "c-uid", "generation": 1, "resourceVersion": "5"},
        "spec": {"url": emu.url(), "tokenSecretRef": {"name": "quay-token"},
                 "tenants": [{"namespaces": ["platform"], "organizations": ["*"]}]}
    });
    api.expect("GET", CONNECTION_PATH, 200, connection).await;
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{OPERATOR_NS}/secrets/quay-token"),
        200,
        token_secret_in_operator_namespace(),
    )
    .await;
    // Events of cluster-scoped objects go to the `default` namespace.
    let event = api
        .expect(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            201,
            json!({}),
        )
        .await;
    assert_eq!(event["type"], "Normal", "{event}");
    let patch = api.expect("PATCH", STATUS_PATH, 200, value).await;
    finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["status"], "True", "{patch}");

    let quay = QuayClient::new(ClientOptions::new(
        emu.url(),
        SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap();
    let messages = quay.global_messages().await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "Quay is read-only on Saturday");
    assert_eq!(messages[0].severity, "warning");
    assert_eq!(patch["status"]["uuid"], messages[0].uuid);
}

#[tokio::test]
async fn a_namespaced_connection_is_refused_before_quay_hears_anything() {
    let emu = emulator().await;
    let (client, mut api) = mock_client();
    // Admission refuses this; an object stored before the rule existed gets a
    // clear condition instead of a request to a namespace-less URL.
    let value = message(json!({"name": "default"}));
    let obj: QuayGlobalMessage = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, &obj);
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect(
        "POST",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        201,
        json!({}),
    )
    .await;
    let patch = api.expect("PATCH", STATUS_PATH, 200, value).await;
    finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "NotPermitted", "{patch}");
    let text = ready(&patch)["message"].as_str().unwrap();
    assert!(text.contains("names a ClusterQuayConnection"), "{text}");
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test]
async fn deleting_the_resource_removes_the_message_it_created_and_no_other() {
    let emu = emulator().await;
    let quay = QuayClient::new(ClientOptions::new(
        emu.url(),
        SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap();
    let ours = quay_config_operator::quay::api::message::NewMessage {
        content: "Quay is read-only on Saturday".into(),
        severity: "warning".into(),
        media_type: "text/plain".into(),
    };
    quay.create_global_message(&ours).await.unwrap();
    let other = quay_config_operator::quay::api::message::NewMessage {
        content: "Welcome".into(),
        ..ours.clone()
    };
    quay.create_global_message(&other).await.unwrap();
    let uuid = quay.global_messages().await.unwrap()[0].uuid.clone();

    let (client, mut api) = mock_client();
    let mut value = message(json!({"kind": "ClusterQuayConnection", "name": "default"}));
    value["metadata"]["deletionTimestamp"] = json!("2026-12-02T00:00:00Z");
    value["status"] = json!({"uuid": uuid, "origin": "Created"});
    let obj: QuayGlobalMessage = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, &obj);
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    let connection = json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "ClusterQuayConnection",
        "metadata": {"name": "default", "uid": "c-uid", "generation": 1, "resourceVersion": "5"},
        "spec": {"url": emu.url(), "tokenSecretRef": {"name": "quay-token"}}
    });
    api.expect("GET", CONNECTION_PATH, 200, connection).await;
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{OPERATOR_NS}/secrets/quay-token"),
        200,
        token_secret_in_operator_namespace(),
    )
    .await;
    let event = api
        .expect(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            201,
            json!({}),
        )
        .await;
    assert_eq!(event["reason"], "Deleted", "{event}");
    api.expect(
        "PATCH",
        "/apis/quayconfig.io/v1alpha1/quayglobalmessages/maintenance",
        200,
        value,
    )
    .await;
    finish(task).await.expect("reconcile");
    let left = quay.global_messages().await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].content, "Welcome");
}
