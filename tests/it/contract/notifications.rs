use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::notification::NewNotification;
use quay_config_operator::quay::api::repository::NewRepository;
use serde_json::json;

use super::Target;

fn webhook(url: &str) -> NewNotification {
    NewNotification {
        event: "repo_push".into(),
        method: "webhook".into(),
        config: json!({ "url": url }),
        event_config: json!({}),
        title: Some("push webhook".into()),
    }
}

async fn repo(t: &Target) -> (String, &'static str) {
    let org = t.org("notif").await;
    let new = NewRepository {
        namespace: org.clone(),
        repository: "notify".into(),
        visibility: "private".into(),
        description: String::new(),
        repo_kind: "image".into(),
    };
    t.client.create_repository(&new).await.unwrap();
    (org, "notify")
}

#[tokio::test]
async fn notification_lifecycle() {
    let t = Target::new().await;
    let (org, repo) = repo(&t).await;
    let c = &t.client;

    let created = c
        .create_notification(&org, repo, &webhook("http://hooks.example.com/quay"))
        .await
        .unwrap();
    assert_eq!(created.event, "repo_push");
    assert_eq!(
        created.config,
        json!({"url": "http://hooks.example.com/quay"})
    );
    assert_eq!(created.number_of_failures, 0);
    assert!(
        !format!("{created:?}").contains("hooks.example.com"),
        "Debug leaves the config out"
    );

    let slack = NewNotification {
        event: "vulnerability_found".into(),
        method: "slack".into(),
        config: json!({"url": "https://hooks.slack.com/services/T000/B000/XXXX"}),
        event_config: json!({"level": "critical"}),
        title: None,
    };
    let slack = c.create_notification(&org, repo, &slack).await.unwrap();
    assert_eq!(slack.title, None);
    assert_eq!(slack.event_config, json!({"level": "critical"}));

    let listed = c.list_notifications(&org, repo).await.unwrap();
    assert_eq!(listed.len(), 2);
    let got = c
        .get_notification(&org, repo, &created.uuid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, created);

    c.test_notification(&org, repo, &created.uuid)
        .await
        .unwrap();
    c.reset_notification_failures(&org, repo, &created.uuid)
        .await
        .unwrap();
    c.delete_notification(&org, repo, &created.uuid)
        .await
        .unwrap();
    assert!(
        c.get_notification(&org, repo, &created.uuid)
            .await
            .unwrap()
            .is_none()
    );
    let err = c
        .delete_notification(&org, repo, &created.uuid)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::NotFound,
        "Quay answers 400 'No repository notification found'"
    );
    let err = c
        .test_notification(&org, repo, &created.uuid)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn notification_validation_errors_name_no_secret() {
    let t = Target::new().await;
    let (org, repo) = repo(&t).await;
    let c = &t.client;

    let err = c
        .create_notification(&org, repo, &webhook("http://localhost:9999/hook"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "Invalid webhook URL");

    let mut no_url = webhook("x");
    no_url.config = json!({});
    let err = c
        .create_notification(&org, repo, &no_url)
        .await
        .unwrap_err();
    assert_eq!(err.message, "Missing webhook URL");

    let target = NewNotification {
        event: "repo_push".into(),
        method: "quay_notification".into(),
        config: json!({"target": {"kind": "user", "name": t.name("nosuchuser")}}),
        event_config: json!({}),
        title: None,
    };
    let err = c
        .create_notification(&org, repo, &target)
        .await
        .unwrap_err();
    assert!(err.message.starts_with("Unknown user"), "{}", err.message);

    let mut unknown_event = webhook("https://hooks.example.com/x");
    unknown_event.event = "no_such_event".into();
    let err = c
        .create_notification(&org, repo, &unknown_event)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Server,
        "Quay fails with a 500 page on an unknown event"
    );
    assert!(!err.to_string().contains("hooks.example.com"));
    t.cleanup(&org).await;
}
