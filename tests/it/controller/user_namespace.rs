//! QuayUserNamespace: with another user's token the resource is Stalled with a
//! message naming both users, nothing is written to Quay, and it waits for a
//! resync rather than retrying hot.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayUserNamespace;
use serde_json::{Value, json};

use super::{NS, TOKEN, condition, emulator_with, finish, kind_context, mock_client, ready};

const PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayusernamespaces/alice";
/// The resync interval of [`super::kind_context`].
const RESYNC: Duration = Duration::from_secs(600);

fn user_namespace() -> QuayUserNamespace {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayUserNamespace",
        "metadata": {
            "name": "alice", "namespace": NS, "uid": "u-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER]
        },
        "spec": {"user": "alice", "autoPrunePolicies": [{"numberOfTags": 10}]}
    }))
    .expect("user namespace")
}

#[tokio::test]
async fn another_users_token_stalls_with_both_names_and_writes_nothing() {
    let emu = emulator_with(false).await;
    let (client, mut api) = mock_client();
    let obj = user_namespace();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj.clone()),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let event = api.expect_event().await;
    assert_eq!(event["type"], "Warning");
    let answer = serde_json::to_value(&obj).unwrap();
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer)
        .await;
    let action = finish(task).await.expect("reconcile");
    let condition_ready = ready(&patch);
    assert_eq!(condition_ready["status"], "False");
    assert_eq!(condition_ready["reason"], "WrongTokenUser");
    let message = condition_ready["message"].as_str().unwrap();
    assert!(
        message.contains("\"alice\"") && message.contains("\"quayadmin\""),
        "{message}"
    );
    let stalled: &Value = condition(&patch, "Stalled").expect("Stalled condition");
    assert_eq!(stalled["status"], "True");
    assert_eq!(action, Action::requeue(RESYNC), "no hot retry loop");
    assert_eq!(emu.stats().writes(), 0, "nothing is sent to Quay");
}
