use std::sync::Arc;

use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayRobotAccount;
use quay_config_operator::quay::api::robot::RobotOwner;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{NS, TOKEN, emulator, finish, kind_context, mock_client};

const ROBOT_PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayrobotaccounts/builder";
const SECRET_PATH: &str = "/api/v1/namespaces/team/secrets/builder-robot";

fn robot_json(annotations: Value, status: Value) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRobotAccount",
        "metadata": {"name": "builder", "namespace": NS, "uid": "robot-uid", "generation": 1,
                     "finalizers": [FINALIZER], "annotations": annotations},
        "spec": {"organization": "acme", "description": "CI"},
        "status": status
    })
}

fn quay(url: &str) -> QuayClient {
    QuayClient::new(ClientOptions::new(
        url,
        SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap()
}

fn decode(secret: &Value, key: &str) -> String {
    use base64::Engine as _;
    let b64 = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {secret}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn creates_the_robot_and_writes_its_pull_secret() {
    let emu = emulator().await;
    let q = quay(&emu.url());
    q.create_organization("acme", None).await.unwrap();
    let (client, mut api) = mock_client();
    let obj: QuayRobotAccount = serde_json::from_value(robot_json(json!({}), Value::Null)).unwrap();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect_not_found(SECRET_PATH).await;
    let secret = api
        .expect(
            "PATCH",
            SECRET_PATH,
            200,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "builder-robot"}}),
        )
        .await;
    assert_eq!(api.expect_event().await["reason"], "Created");
    let status = api
        .expect(
            "PATCH",
            &format!("{ROBOT_PATH}/status"),
            200,
            robot_json(json!({}), Value::Null),
        )
        .await;
    finish(task).await.expect("reconcile");

    let live = q
        .get_robot(&RobotOwner::Organization("acme".into()), "builder")
        .await
        .unwrap()
        .unwrap();
    let token = live.token.unwrap().expose_secret().to_owned();
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(secret["metadata"]["ownerReferences"][0]["uid"], "robot-uid");
    assert_eq!(secret["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(decode(&secret, "username"), "acme+builder");
    assert_eq!(decode(&secret, "password"), token);
    let docker: Value = serde_json::from_str(&decode(&secret, ".dockerconfigjson")).unwrap();
    let host = emu.url().trim_start_matches("http://").to_owned();
    assert_eq!(docker["auths"][&host]["password"], token.as_str());
    assert_eq!(status["status"]["fullName"], "acme+builder");
    assert_eq!(status["status"]["secretName"], "builder-robot");
    assert!(
        !status.to_string().contains(&token),
        "the token never reaches the status"
    );
}

#[tokio::test]
async fn a_new_rotate_value_regenerates_the_token_once() {
    let emu = emulator().await;
    let q = quay(&emu.url());
    q.create_organization("acme", None).await.unwrap();
    let owner = RobotOwner::Organization("acme".into());
    let old = q
        .create_robot(&owner, "builder", "CI", None)
        .await
        .unwrap()
        .token
        .unwrap()
        .expose_secret()
        .to_owned();

    let (client, mut api) = mock_client();
    let status = json!({"origin": "Created", "rotation": "1", "secretName": "builder-robot"});
    let obj: QuayRobotAccount =
        serde_json::from_value(robot_json(json!({"quayconfig.io/rotate": "2"}), status)).unwrap();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let rotated = api.expect_event().await;
    assert_eq!(rotated["reason"], "TokenRotated");
    assert!(!rotated.to_string().contains(&old), "no token in the Event");
    api.expect_not_found(SECRET_PATH).await;
    let secret = api
        .expect(
            "PATCH",
            SECRET_PATH,
            200,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "builder-robot"}}),
        )
        .await;
    let patch = api
        .expect(
            "PATCH",
            &format!("{ROBOT_PATH}/status"),
            200,
            robot_json(json!({}), Value::Null),
        )
        .await;
    finish(task).await.expect("reconcile");
    let new = q
        .get_robot(&owner, "builder")
        .await
        .unwrap()
        .unwrap()
        .token
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(decode(&secret, "password"), new);
    assert_eq!(patch["status"]["rotation"], "2");

    // Handled already: the same value does nothing, and an up-to-date Secret is not rewritten.
    let status = json!({"origin": "Created", "rotation": "2", "secretName": "builder-robot", "fullName": "acme+builder",
                        "conditions": patch["status"]["conditions"], "observedGeneration": 1});
    let obj: QuayRobotAccount =
        serde_json::from_value(robot_json(json!({"quayconfig.io/rotate": "2"}), status)).unwrap();
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let mut current = secret.clone();
    current["metadata"]["ownerReferences"][0]["uid"] = json!("robot-uid");
    api.expect("GET", SECRET_PATH, 200, current).await;
    finish(task).await.expect("reconcile");
    let again = q
        .get_robot(&owner, "builder")
        .await
        .unwrap()
        .unwrap()
        .token
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_eq!(again, new);
}
