use std::sync::Arc;
use std::time::Duration;

use quay_config_operator::controller::Context;
use quay_config_operator::crd::QuayConnection;
use serde_json::Value;

use super::{NS, TOKEN, connection, emulator, mock_client, ready, token_secret};

async fn check(url: &str, token: &str) -> Value {
    let (client, mut api) = mock_client();
    let ctx = Arc::new(Context::new(
        client,
        Duration::from_secs(600),
        Duration::from_secs(20),
        Default::default(),
    ));
    let conn: QuayConnection = serde_json::from_value(connection(url)).unwrap();
    let task = tokio::spawn(quay_config_operator::controller::reconcile_connection(
        Arc::new(conn),
        ctx,
    ));
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{NS}/secrets/quay-token"),
        200,
        token_secret(token, "1"),
    )
    .await;
    let patch = api
        .expect(
            "PATCH",
            &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default/status"),
            200,
            connection(url),
        )
        .await;
    super::finish(task).await.expect("reconcile");
    patch
}

#[tokio::test]
async fn a_working_token_reports_its_user() {
    let emu = emulator().await;
    let patch = check(&emu.url(), TOKEN).await;
    assert_eq!(ready(&patch)["status"], "True");
    assert_eq!(patch["status"]["user"], "quayadmin");
    assert_eq!(patch["status"]["superUser"], true);
    assert_eq!(
        emu.stats().total,
        1,
        "one who-am-I call per connection check"
    );
}

#[tokio::test]
async fn a_rejected_token_says_what_to_do_without_showing_it() {
    let emu = emulator().await;
    let patch = check(&emu.url(), "expired-token-value").await;
    assert_eq!(ready(&patch)["status"], "False");
    assert_eq!(ready(&patch)["reason"], "Unauthorized");
    assert!(
        ready(&patch)["message"]
            .as_str()
            .unwrap()
            .contains("update the token Secret")
    );
    assert!(!patch.to_string().contains("expired-token-value"));
}
