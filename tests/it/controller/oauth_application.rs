//! QuayOAuthApplication: the client Secret is written and owned, the client
//! id recorded in status, the secret reset once per `quayconfig.io/rotate`
//! value, and the client secret never reaches status or events.

use std::sync::Arc;

use quay_config_operator::controller::FINALIZER;
use quay_config_operator::crd::QuayOAuthApplication;
use quay_config_operator::quay::api::application::ApplicationFields;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{NS, TOKEN, emulator, finish, kind_context, mock_client};

const APP_PATH: &str = "/apis/quayconfig.io/v1alpha1/namespaces/team/quayoauthapplications/ci";
const SECRET_PATH: &str = "/api/v1/namespaces/team/secrets/ci-oauth";

fn app_json(annotations: Value, status: Value) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayOAuthApplication",
        "metadata": {"name": "ci", "namespace": NS, "uid": "app-uid", "generation": 1,
                     "finalizers": [FINALIZER], "annotations": annotations},
        "spec": {"organization": "acme", "redirectUri": "https://ci.example.com/cb",
                 "description": "CI"},
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

fn secret_answer() -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ci-oauth"}})
}

#[tokio::test]
async fn creates_the_application_and_writes_its_client_secret() {
    let emu = emulator().await;
    let q = quay(&emu.url());
    q.create_organization("acme", None).await.unwrap();
    let (client, mut api) = mock_client();
    let obj: QuayOAuthApplication =
        serde_json::from_value(app_json(json!({"quayconfig.io/rotate": "1"}), Value::Null))
            .unwrap();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    api.expect_not_found(SECRET_PATH).await;
    let secret = api.expect("PATCH", SECRET_PATH, 200, secret_answer()).await;
    let event = api.expect_event().await;
    assert_eq!(event["reason"], "Created");
    let status = api
        .expect(
            "PATCH",
            &format!("{APP_PATH}/status"),
            200,
            app_json(json!({}), Value::Null),
        )
        .await;
    finish(task).await.expect("reconcile");

    let apps = q.list_applications("acme").await.unwrap();
    assert_eq!(apps.len(), 1);
    let live = &apps[0];
    assert_eq!(live.name, "ci");
    assert_eq!(live.redirect_uri, "https://ci.example.com/cb");
    let client_secret = live.client_secret.expose_secret();
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["metadata"]["ownerReferences"][0]["uid"], "app-uid");
    assert_eq!(decode(&secret, "clientId"), live.client_id);
    assert_eq!(decode(&secret, "clientSecret"), client_secret);
    assert_eq!(decode(&secret, "quayUrl"), emu.url());
    assert_eq!(status["status"]["clientId"], live.client_id.as_str());
    assert_eq!(status["status"]["organization"], "acme");
    assert_eq!(status["status"]["secretName"], "ci-oauth");
    assert_eq!(
        status["status"]["rotation"], "1",
        "a value present at creation is recorded, not acted on"
    );
    for written in [&status, &event] {
        assert!(
            !written.to_string().contains(client_secret),
            "the client secret never reaches status or events"
        );
    }
}

#[tokio::test]
async fn a_new_rotate_value_resets_the_client_secret_once() {
    let emu = emulator().await;
    let q = quay(&emu.url());
    q.create_organization("acme", None).await.unwrap();
    let fields = ApplicationFields {
        name: "ci".into(),
        redirect_uri: "https://ci.example.com/cb".into(),
        description: "CI".into(),
        ..ApplicationFields::default()
    };
    let created = q.create_application("acme", &fields).await.unwrap();
    // Another application of the same name: the client id in status decides.
    q.create_application("acme", &fields).await.unwrap();
    let old = created.client_secret.expose_secret().to_owned();

    let (client, mut api) = mock_client();
    let status = json!({"origin": "Created", "rotation": "1", "secretName": "ci-oauth",
                        "clientId": created.client_id, "organization": "acme"});
    let obj: QuayOAuthApplication =
        serde_json::from_value(app_json(json!({"quayconfig.io/rotate": "2"}), status)).unwrap();
    let ctx = kind_context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx.clone(),
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let rotated = api.expect_event().await;
    assert_eq!(rotated["reason"], "SecretRotated");
    api.expect_not_found(SECRET_PATH).await;
    let secret = api.expect("PATCH", SECRET_PATH, 200, secret_answer()).await;
    let patch = api
        .expect(
            "PATCH",
            &format!("{APP_PATH}/status"),
            200,
            app_json(json!({}), Value::Null),
        )
        .await;
    finish(task).await.expect("reconcile");
    let new = q
        .get_application("acme", &created.client_id)
        .await
        .unwrap()
        .unwrap()
        .client_secret
        .expose_secret()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(decode(&secret, "clientSecret"), new);
    assert_eq!(patch["status"]["rotation"], "2");
    for written in [&patch, &rotated] {
        let text = written.to_string();
        assert!(
            !text.contains(&new) && !text.contains(&old),
            "no secret in {text}"
        );
    }

    // Handled already: the same value does nothing, and an up-to-date Secret is not rewritten.
    let status = json!({"origin": "Created", "rotation": "2", "secretName": "ci-oauth",
                        "clientId": created.client_id, "organization": "acme",
                        "conditions": patch["status"]["conditions"], "observedGeneration": 1});
    let obj: QuayOAuthApplication =
        serde_json::from_value(app_json(json!({"quayconfig.io/rotate": "2"}), status)).unwrap();
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    api.expect_connection(&emu.url(), TOKEN, "1").await;
    let mut current = secret.clone();
    current["metadata"]["ownerReferences"][0]["uid"] = json!("app-uid");
    api.expect("GET", SECRET_PATH, 200, current).await;
    finish(task).await.expect("reconcile");
    let again = q
        .get_application("acme", &created.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.client_secret.expose_secret(), new);
}
