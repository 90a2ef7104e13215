//! QuayQuota: a Quay without FEATURE_SUPERUSERS_FULL_ACCESS is named in a
//! condition (no hot retry loop); with it, the quota and its thresholds are
//! created and reported.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayQuota;
use quay_config_operator::emulator::Emulator;
use quay_config_operator::quay::api::quota::QuotaScope;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use serde_json::{Value, json};

use super::{NS, TOKEN, emulator_with, finish, kind_context, mock_client, ready};

const PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayquotas/acme-quota";
/// The resync interval of [`super::kind_context`].
const RESYNC: Duration = Duration::from_secs(600);

fn quota(status: Value) -> QuayQuota {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayQuota",
        "metadata": {
            "name": "acme-quota", "namespace": NS, "uid": "q-uid", "generation": 1, "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T10:00:00Z", "finalizers": [FINALIZER]
        },
        "spec": {
            "organization": "acme", "limit": "10Gi",
            "limits": [{"type": "Warning", "percent": 80}, {"type": "Reject", "percent": 100}]
        },
        "status": status
    }))
    .expect("quota")
}

fn answer() -> Value {
    serde_json::to_value(quota(Value::Null)).unwrap()
}

fn quay(emu: &Emulator) -> QuayClient {
    QuayClient::new(ClientOptions::new(
        emu.url(),
        secrecy::SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap()
}

async fn emulator_with_org(full_access: bool) -> Emulator {
    let emu = emulator_with(full_access).await;
    quay(&emu).create_organization("acme", None).await.unwrap();
    emu
}

#[tokio::test]
async fn without_full_access_the_condition_names_the_quay_setting_and_waits_for_a_resync() {
    let emu = emulator_with_org(false).await;
    let (client, mut api) = mock_client();
    let obj = quota(Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let event = api.expect_event().await;
    assert_eq!(event["type"], "Warning");
    assert!(
        event["note"]
            .as_str()
            .unwrap()
            .contains("FEATURE_SUPERUSERS_FULL_ACCESS"),
        "{event}"
    );
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    let action = finish(task).await.expect("reconcile");
    let condition = ready(&patch);
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "QuayRejected");
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .contains("FEATURE_SUPERUSERS_FULL_ACCESS"),
        "{condition}"
    );
    assert_eq!(action, Action::requeue(RESYNC), "no hot retry loop");
    // The quota itself was created (through the superuser endpoint) before
    // the thresholds were refused: it is the operator's own.
    assert_eq!(patch["status"]["origin"], "Created");

    // The next attempt: the same condition (no status write), no new Event,
    // still no hot loop.
    let refused = patch["status"].clone();
    let again = quota(refused.clone());
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(again),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let action = finish(task).await.expect("reconcile");
    assert_eq!(action, Action::requeue(RESYNC));

    // The administrator turns the setting on: the thresholds are added, and
    // the quota is still the operator's own (deleting the resource deletes it).
    reqwest::Client::new()
        .post(format!("{}/__emulator/config", emu.url()))
        .json(&json!({"superusers_full_access": true}))
        .send()
        .await
        .expect("switch FEATURE_SUPERUSERS_FULL_ACCESS on")
        .error_for_status()
        .expect("config");
    let (client, mut api) = mock_client();
    let fixed = quota(refused);
    let ctx = kind_context(client, std::slice::from_ref(&fixed));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(fixed),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let event = api.expect_event().await;
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["status"], "True", "{patch}");
    assert_eq!(patch["status"]["origin"], "Created", "{event} {patch}");
    let live = quay(&emu)
        .list_quotas(&QuotaScope::Organization("acme".into()))
        .await
        .unwrap();
    assert_eq!(live[0].limits.len(), 2);
}

#[tokio::test]
async fn with_full_access_the_quota_and_its_thresholds_are_created() {
    let emu = emulator_with_org(true).await;
    let (client, mut api) = mock_client();
    let obj = quota(Value::Null);
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    assert_eq!(api.expect_event().await["reason"], "Created");
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    let action = finish(task).await.expect("reconcile");
    assert_eq!(action, Action::requeue(RESYNC));
    assert_eq!(ready(&patch)["status"], "True");
    let status = patch["status"].clone();
    let live = quay(&emu)
        .list_quotas(&QuotaScope::Organization("acme".into()))
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(status["namespace"], "acme");
    assert_eq!(status["quotaId"], live[0].id);
    assert_eq!(status["limitBytes"], 10u64 * 1024 * 1024 * 1024);
    assert_eq!(live[0].limit_bytes, 10u64 * 1024 * 1024 * 1024);
    let mut thresholds: Vec<(String, u32)> = live[0]
        .limits
        .iter()
        .map(|l| (l.kind.clone(), l.limit_percent))
        .collect();
    thresholds.sort();
    assert_eq!(
        thresholds,
        [("Reject".to_owned(), 100), ("Warning".to_owned(), 80)]
    );

    // In sync: nothing is written.
    emu.reset_stats();
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(quota(status.clone())),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let patch = api
        .expect("PATCH", &format!("{PATH}/status"), 200, answer())
        .await;
    finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "InSync");
    assert_eq!(patch["status"]["quotaId"], status["quotaId"]);
    assert_eq!(emu.stats().writes(), 0, "{:?}", emu.stats());
}
