//! OAuth applications: identity by client id, adoption by name, one shared
//! list per organization, one PUT for any number of differing fields.

use quay_config_operator::engine::oauth_application::DesiredApplication;
use quay_config_operator::engine::{ErrorClass, Managed, Mode, delete, reconcile};
use quay_config_operator::quay::api::application::ApplicationFields;
use secrecy::ExposeSecret;

use super::Setup;

fn fields(name: &str, description: &str) -> ApplicationFields {
    ApplicationFields {
        name: name.into(),
        redirect_uri: "https://ci.example.com/cb".into(),
        application_uri: "https://ci.example.com/".into(),
        description: description.into(),
        avatar_email: None,
    }
}

fn app(client_id: Option<&str>, fields: ApplicationFields) -> DesiredApplication {
    DesiredApplication {
        organization: "acme".into(),
        client_id: client_id.map(str::to_owned),
        fields,
    }
}

#[tokio::test]
async fn created_once_then_observed_from_one_list_with_its_secret() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let desired = app(None, fields("ci", "CI"));
    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let created = report.live.expect("create returns the application");
    assert_eq!(s.emulator.stats().total, 2, "one list, one create");
    assert_eq!(created.app.client_id.len(), 20);

    // Ten applications of one organization, after a restart: one list call.
    let fresh = Setup::quay_for(&s.emulator);
    for i in 0..9 {
        let other = app(None, fields(&format!("app{i}"), ""));
        reconcile(&other, &fresh, Mode::Apply).await.unwrap();
    }
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let known = app(Some(&created.app.client_id), fields("ci", "CI"));
    let report = reconcile(&known, &fresh, Mode::Apply).await.unwrap();
    for i in 0..9 {
        let other = app(None, fields(&format!("app{i}"), ""));
        assert!(
            reconcile(&other, &fresh, Mode::Apply)
                .await
                .unwrap()
                .existed
        );
    }
    assert_eq!(s.emulator.stats().total, 1, "ten in sync cost one list");
    let live = report.live.unwrap();
    assert_eq!(
        live.app.client_secret.expose_secret(),
        created.app.client_secret.expose_secret(),
        "the list carries the secret"
    );
}

#[tokio::test]
async fn the_client_id_is_the_identity_and_a_rename_is_one_put() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let mine = s
        .client()
        .create_application("acme", &fields("ci", "mine"))
        .await
        .unwrap();
    // Someone creates another application of the same name.
    s.client()
        .create_application("acme", &fields("ci", "theirs"))
        .await
        .unwrap();
    s.emulator.reset_stats();
    let mut want = fields("ci-renamed", "mine, renamed");
    want.redirect_uri = "https://ci.example.com/callback".into();
    let desired = app(Some(&mine.client_id), want);
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let changed: Vec<&str> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(changed, ["name", "redirectUri", "description"]);
    assert_eq!(s.emulator.stats().total, 2, "one list, one PUT");
    assert_eq!(s.emulator.stats().writes(), 1);

    let fresh = Setup::quay_for(&s.emulator);
    let live = desired.observe(&fresh).await.unwrap().unwrap().app;
    assert_eq!(live.client_id, mine.client_id);
    assert_eq!(live.name, "ci-renamed");
    let apps = s.client().list_applications("acme").await.unwrap();
    let theirs = apps.iter().find(|a| a.client_id != mine.client_id).unwrap();
    assert_eq!(
        (theirs.name.as_str(), theirs.description.as_str()),
        ("ci", "theirs"),
        "the other one is untouched"
    );

    // In sync from our own write: no further call.
    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(
        s.emulator.stats().total,
        0,
        "the list was updated by our PUT"
    );
}

#[tokio::test]
async fn the_one_application_of_the_name_is_adopted_and_several_are_an_error() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let mut existing = fields("ci", "CI");
    existing.avatar_email = Some("ci@example.com".into());
    let before = s
        .client()
        .create_application("acme", &existing)
        .await
        .unwrap();

    // Adopted; the avatar e-mail the spec leaves alone is kept by the PUT.
    s.emulator.reset_stats();
    let desired = app(None, fields("ci", "adopted"));
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.existed);
    assert_eq!(report.live.unwrap().app.client_id, before.client_id);
    assert_eq!(s.emulator.stats().writes(), 1);
    let after = s
        .client()
        .get_application("acme", &before.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.description, "adopted");
    assert_eq!(after.avatar_email.as_deref(), Some("ci@example.com"));

    // A second one of that name: no guess, no write, no retry storm.
    s.client()
        .create_application("acme", &fields("ci", "another"))
        .await
        .unwrap();
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let err = reconcile(&desired, &fresh, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Terminal);
    let message = err.to_string();
    assert!(
        message.contains("2 OAuth applications named \"ci\""),
        "{message}"
    );
    assert!(message.contains(&before.client_id), "{message}");
    assert_eq!(s.emulator.stats().writes(), 0);
    // With its client id known, the same desired state is unambiguous.
    let known = app(Some(&before.client_id), fields("ci", "adopted"));
    let report = reconcile(&known, &fresh, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty());
}

#[tokio::test]
async fn a_managed_avatar_email_is_set_and_kept() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let mut want = fields("ci", "");
    want.avatar_email = Some("ci@example.com".into());
    let desired = app(None, want);
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let fresh = Setup::quay_for(&s.emulator);
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert_eq!(
        report.live.unwrap().app.avatar_email.as_deref(),
        Some("ci@example.com")
    );
}

#[tokio::test]
async fn a_secret_reset_is_one_call_and_known_without_a_read() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let desired = app(None, fields("ci", ""));
    let created = reconcile(&desired, &s.quay, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap();
    s.emulator.reset_stats();
    let reset = created.reset_secret(&s.quay).await.unwrap();
    let (reset, created) = (reset.app, created.app);
    assert_ne!(
        reset.client_secret.expose_secret(),
        created.client_secret.expose_secret()
    );
    let observed = desired.observe(&s.quay).await.unwrap().unwrap().app;
    assert_eq!(
        observed.client_secret.expose_secret(),
        reset.client_secret.expose_secret()
    );
    assert_eq!(s.emulator.stats().total, 1, "the reset only");
    let in_quay = s.client().list_applications("acme").await.unwrap();
    assert_eq!(
        in_quay[0].client_secret.expose_secret(),
        reset.client_secret.expose_secret()
    );
    assert!(
        !format!("{reset:?}").contains(reset.client_secret.expose_secret()),
        "Debug shows no secret"
    );
}

#[tokio::test]
async fn a_missing_organization_waits_and_deletion_is_by_client_id() {
    let s = Setup::new().await;
    let desired = app(None, fields("ci", ""));
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting);
    assert_eq!(s.emulator.stats().writes(), 0);

    s.client().create_organization("acme", None).await.unwrap();
    let fresh = Setup::quay_for(&s.emulator);
    let created = reconcile(&desired, &fresh, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap()
        .app;
    let other = s
        .client()
        .create_application("acme", &fields("ci", "someone else's"))
        .await
        .unwrap();
    let known = app(Some(&created.client_id), fields("ci", ""));
    let fresh = Setup::quay_for(&s.emulator);
    assert!(delete(&known, &fresh).await.unwrap());
    assert!(!delete(&known, &fresh).await.unwrap(), "already gone");
    let left = s.client().list_applications("acme").await.unwrap();
    let ids: Vec<&str> = left.iter().map(|a| a.client_id.as_str()).collect();
    assert_eq!(ids, [other.client_id.as_str()], "only ours is deleted");
}
