use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::organization::OrganizationUpdate;

use super::Target;

#[tokio::test]
async fn organization_lifecycle() {
    let t = Target::new().await;
    let name = t.org("org").await;

    let org = t
        .client
        .get_organization(&name)
        .await
        .unwrap()
        .expect("created org is readable");
    assert_eq!(org.name, name);
    assert_eq!(org.email.as_deref(), Some("contract@example.com"));
    assert!(org.is_admin);
    assert!(
        org.teams.contains_key("owners"),
        "a new organization has an owners team"
    );

    let again = t.client.create_organization(&name, None).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists, "{again}");

    let update = OrganizationUpdate {
        email: Some("billing@example.com".into()),
        tag_expiration_s: None,
    };
    let updated = t.client.update_organization(&name, &update).await.unwrap();
    assert_eq!(updated.email.as_deref(), Some("billing@example.com"));

    let bad = OrganizationUpdate {
        email: Some("not-an-email".into()),
        tag_expiration_s: None,
    };
    let err = t.client.update_organization(&name, &bad).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "Invalid email address");

    t.cleanup(&name).await;
    assert!(t.client.get_organization(&name).await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_organization_names_are_rejected_with_quays_message() {
    let t = Target::new().await;
    let err = t
        .client
        .create_organization("Bad_Name!", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(
        err.message.contains("Namespace must match expression"),
        "{}",
        err.message
    );
    let err = t.client.create_organization("a", None).await.unwrap_err();
    assert!(err.message.contains("between 2 and 255"), "{}", err.message);
}

#[tokio::test]
async fn current_user_reports_superuser() {
    let t = Target::new().await;
    let me = t.client.current_user().await.unwrap();
    assert!(!me.username.is_empty());
    assert!(me.super_user, "the contract suite needs a superuser token");
}
