//! Global messages: created with the `{"message": ...}` wrapper and found
//! again by listing (Quay's create answers no uuid); no update; a delete
//! answers 204 for any uuid; enums refused with Quay's schema message; a
//! token without superuser rights refused.

use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::message::NewMessage;

use super::Target;

fn message(content: &str, severity: &str) -> NewMessage {
    NewMessage {
        content: content.to_owned(),
        severity: severity.to_owned(),
        media_type: "text/markdown".to_owned(),
    }
}

#[tokio::test]
async fn a_message_is_listed_after_its_create_and_gone_after_its_delete() {
    let t = Target::new().await;
    let c = &t.client;
    let text = format!("**{}** maintenance", t.name("msg"));
    c.create_global_message(&message(&text, "warning"))
        .await
        .unwrap();
    let listed = c.global_messages().await.unwrap();
    let ours: Vec<_> = listed.iter().filter(|m| m.content == text).collect();
    assert_eq!(ours.len(), 1, "{listed:?}");
    assert_eq!(ours[0].severity, "warning");
    assert_eq!(ours[0].media_type, "text/markdown");
    let uuid = ours[0].uuid.clone();
    assert_eq!(uuid.len(), 36, "a uuid: {uuid}");

    c.delete_global_message(&uuid).await.unwrap();
    let after = c.global_messages().await.unwrap();
    assert!(after.iter().all(|m| m.uuid != uuid));
    // Again, and for an id that never existed: still 204.
    c.delete_global_message(&uuid).await.unwrap();
    c.delete_global_message("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_severity_is_refused_with_quays_schema_message() {
    let t = Target::new().await;
    let err = t
        .client
        .create_global_message(&message("x", "critical"))
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(400));
    assert!(
        err.message
            .contains("'critical' is not one of ['info', 'warning', 'error']"),
        "{err}"
    );
}

#[tokio::test]
async fn a_token_without_superuser_rights_cannot_post() {
    let t = Target::new().await;
    if t.is_real() {
        // Needs a second user's token, which a real Quay run does not provide.
        return;
    }
    t.control(
        "/__emulator/users",
        serde_json::json!({"username": t.name("plain")}),
    )
    .await;
    let token = t
        .control(
            "/__emulator/tokens",
            serde_json::json!({"username": t.name("plain"), "scopes": ["super:user", "user:admin"]}),
        )
        .await;
    let plain = t.client_with_token(token["token"].as_str().unwrap());
    let err = plain
        .create_global_message(&message("x", "info"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden, "{err}");
    assert!(t.client.global_messages().await.unwrap().is_empty());
}
