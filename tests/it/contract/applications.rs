//! OAuth applications of an organization: 200 on create with the client
//! secret, names not unique (the client id is the identity), an update that
//! replaces every field, the secret reset, deletion, and the audit entries.

use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::application::ApplicationFields;
use quay_config_operator::quay::api::logs::LogQuery;
use secrecy::ExposeSecret;

use super::Target;

fn full(name: &str) -> ApplicationFields {
    ApplicationFields {
        name: name.into(),
        redirect_uri: "http://localhost/cb".into(),
        application_uri: "http://localhost/".into(),
        description: "CLI app".into(),
        avatar_email: Some("cli@example.com".into()),
    }
}

#[tokio::test]
async fn organization_application_lifecycle() {
    let t = Target::new().await;
    let org = t.org("oauth").await;
    let c = &t.client;
    assert!(c.list_applications(&org).await.unwrap().is_empty());

    let cli = c.create_application(&org, &full("cli")).await.unwrap();
    assert_eq!(cli.name, "cli");
    assert_eq!(cli.description, "CLI app");
    assert_eq!(cli.redirect_uri, "http://localhost/cb");
    assert_eq!(cli.application_uri, "http://localhost/");
    assert_eq!(cli.avatar_email.as_deref(), Some("cli@example.com"));
    assert_eq!(cli.client_id.len(), 20, "{}", cli.client_id);
    assert!(
        cli.client_id
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
    );
    let secret = cli.client_secret.expose_secret().to_owned();
    assert!(!secret.is_empty());
    assert!(
        !format!("{cli:?}").contains(&secret),
        "Debug never shows the client secret"
    );

    // The same name again: another application, not an error.
    let minimal = ApplicationFields {
        name: "cli".into(),
        ..ApplicationFields::default()
    };
    let twin = c.create_application(&org, &minimal).await.unwrap();
    assert_ne!(twin.client_id, cli.client_id);
    assert_eq!(twin.avatar_email, None);
    let listed = c.list_applications(&org).await.unwrap();
    assert_eq!(listed.len(), 2);
    let listed_cli = listed
        .iter()
        .find(|a| a.client_id == cli.client_id)
        .unwrap();
    assert_eq!(
        listed_cli.client_secret.expose_secret(),
        secret,
        "the list carries the client secrets"
    );

    // An update replaces every field: no avatar e-mail sent, none kept.
    let mut renamed = full("cli2");
    renamed.avatar_email = None;
    renamed.description = "CLI app v2".into();
    let updated = c
        .update_application(&org, &cli.client_id, &renamed)
        .await
        .unwrap();
    assert_eq!(updated.name, "cli2");
    assert_eq!(updated.description, "CLI app v2");
    assert_eq!(updated.avatar_email, None);
    assert_eq!(updated.client_secret.expose_secret(), secret);

    let reset = c
        .reset_application_secret(&org, &cli.client_id)
        .await
        .unwrap();
    let new_secret = reset.client_secret.expose_secret().to_owned();
    assert_ne!(new_secret, secret);
    let got = c
        .get_application(&org, &cli.client_id)
        .await
        .unwrap()
        .expect("application");
    assert_eq!(got.client_secret.expose_secret(), new_secret);
    assert_eq!(got.name, "cli2");

    c.delete_application(&org, &cli.client_id).await.unwrap();
    let again = c
        .delete_application(&org, &cli.client_id)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::NotFound);
    assert!(
        c.get_application(&org, &cli.client_id)
            .await
            .unwrap()
            .is_none()
    );
    let left = c.list_applications(&org).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].client_id, twin.client_id);
    let missing = c
        .update_application(&org, &cli.client_id, &renamed)
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);

    // The audit log names each change with the application's name and client id.
    let page = c
        .organization_logs(&org, &LogQuery::default())
        .await
        .unwrap();
    let ours: Vec<(&str, &str)> = page
        .logs
        .iter()
        .filter(|e| e.metadata["client_id"] == cli.client_id.as_str())
        .map(|e| {
            (
                e.kind.as_str(),
                e.metadata["application_name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        [
            ("delete_application", "cli2"),
            ("reset_application_client_secret", "cli2"),
            ("update_application", "cli2"),
            ("create_application", "cli"),
        ]
    );
    assert!(
        !format!("{:?}", page.logs).contains(&new_secret),
        "no secret in the log"
    );
    t.cleanup(&org).await;
}

#[tokio::test]
async fn applications_of_a_missing_organization() {
    let t = Target::new().await;
    let c = &t.client;
    let missing = t.name("nosuchorg");
    // 404 with FEATURE_SUPERUSERS_FULL_ACCESS, 403 without it.
    let listed = c.list_applications(&missing).await.unwrap_err();
    assert!(
        matches!(listed.kind, ErrorKind::NotFound | ErrorKind::Forbidden),
        "{listed}"
    );
    let created = c
        .create_application(&missing, &full("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(created.kind, ErrorKind::NotFound | ErrorKind::Forbidden),
        "{created}"
    );
}
