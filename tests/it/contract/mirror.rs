use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::mirror::{MirrorUpdate, RegistryConfig, RootRule};
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;

use super::Target;

fn mirror(org: &str) -> MirrorUpdate {
    MirrorUpdate {
        is_enabled: Some(true),
        external_reference: Some("quay.io/prometheus/busybox".into()),
        external_registry_username: Some(Some("puller".into())),
        external_registry_password: Some(Some("s3cret-pass".into())),
        external_registry_config: Some(RegistryConfig {
            verify_tls: Some(true),
            unsigned_images: Some(false),
            proxy: None,
        }),
        robot_username: Some(format!("{org}+mirrorbot")),
        root_rule: Some(RootRule {
            rule_kind: "tag_glob_csv".into(),
            rule_value: vec!["latest".into(), "1.3*".into()],
        }),
        sync_interval: Some(86400),
        sync_start_date: Some("2026-11-22T00:00:00Z".into()),
        skopeo_timeout_interval: Some(300),
    }
}

#[tokio::test]
async fn mirror_lifecycle() {
    let t = Target::new().await;
    let org = t.org("mirror").await;
    let c = &t.client;
    let new = NewRepository {
        namespace: org.clone(),
        repository: "mirrored".into(),
        visibility: "private".into(),
        description: String::new(),
        repo_kind: "image".into(),
    };
    c.create_repository(&new).await.unwrap();
    assert!(c.get_mirror(&org, "mirrored").await.unwrap().is_none());
    assert_eq!(
        c.mirror_sync_now(&org, "mirrored").await.unwrap_err().kind,
        ErrorKind::NotFound
    );

    let err = c
        .create_mirror(&org, "mirrored", &mirror(&org))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "Could not find robot with specified username");
    assert!(!err.to_string().contains("s3cret-pass"));

    c.create_robot(
        &RobotOwner::Organization(org.clone()),
        "mirrorbot",
        "",
        None,
    )
    .await
    .unwrap();
    c.create_mirror(&org, "mirrored", &mirror(&org))
        .await
        .unwrap();
    let repo = c.get_repository(&org, "mirrored").await.unwrap().unwrap();
    assert_eq!(
        repo.state, "MIRROR",
        "creating a mirror config switches the repository to MIRROR"
    );

    let got = c.get_mirror(&org, "mirrored").await.unwrap().unwrap();
    assert!(got.is_enabled);
    assert_eq!(got.robot_username, format!("{org}+mirrorbot"));
    assert_eq!(got.external_registry_username.as_deref(), Some("puller"));
    assert_eq!(got.root_rule.rule_value, vec!["latest", "1.3*"]);
    assert_eq!(got.sync_interval, 86400);
    assert_eq!(got.sync_start_date.as_deref(), Some("2026-11-22T00:00:00Z"));
    assert_eq!(got.sync_status.as_deref(), Some("NEVER_RUN"));

    let again = c
        .create_mirror(&org, "mirrored", &mirror(&org))
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists, "409");

    let partial = MirrorUpdate {
        sync_interval: Some(3600),
        is_enabled: Some(false),
        ..MirrorUpdate::default()
    };
    c.update_mirror(&org, "mirrored", &partial).await.unwrap();
    let got = c.get_mirror(&org, "mirrored").await.unwrap().unwrap();
    assert_eq!(got.sync_interval, 3600);
    assert!(!got.is_enabled);
    assert_eq!(
        got.external_reference, "quay.io/prometheus/busybox",
        "a partial PUT keeps the rest"
    );

    let bad_date = MirrorUpdate {
        sync_start_date: Some("2026-11-22 00:00".into()),
        ..MirrorUpdate::default()
    };
    let err = c
        .update_mirror(&org, "mirrored", &bad_date)
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "Incorrect DateTime format for sync_start_date."
    );
    let short_timeout = MirrorUpdate {
        skopeo_timeout_interval: Some(10),
        ..MirrorUpdate::default()
    };
    assert_eq!(
        c.update_mirror(&org, "mirrored", &short_timeout)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::BadRequest
    );

    c.update_mirror(
        &org,
        "mirrored",
        &MirrorUpdate {
            is_enabled: Some(true),
            ..MirrorUpdate::default()
        },
    )
    .await
    .unwrap();
    c.mirror_sync_now(&org, "mirrored").await.unwrap();
    assert_eq!(
        c.get_mirror(&org, "mirrored")
            .await
            .unwrap()
            .unwrap()
            .sync_status
            .as_deref(),
        Some("SYNC_NOW")
    );
    c.mirror_sync_cancel(&org, "mirrored").await.unwrap();
    let got = c.get_mirror(&org, "mirrored").await.unwrap().unwrap();
    assert_eq!(got.sync_status.as_deref(), Some("CANCEL"));
    assert_eq!(
        c.mirror_sync_cancel(&org, "mirrored")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    t.cleanup(&org).await;
}
