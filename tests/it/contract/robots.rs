use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::robot::{FederationEntry, RobotOwner};
use secrecy::ExposeSecret;

use super::Target;

#[tokio::test]
async fn organization_robot_lifecycle() {
    let t = Target::new().await;
    let org = t.org("robot").await;
    let owner = RobotOwner::Organization(org.clone());
    let c = &t.client;

    let robot = c
        .create_robot(&owner, "builder", "CI builder", None)
        .await
        .unwrap();
    assert_eq!(robot.name, format!("{org}+builder"));
    assert_eq!(robot.description, "CI builder");
    let token = robot
        .token
        .as_ref()
        .expect("create returns the token")
        .expose_secret()
        .to_owned();
    assert!(!token.is_empty());
    assert!(
        !format!("{robot:?}").contains(&token),
        "Debug never shows the token"
    );

    let again = c
        .create_robot(&owner, "builder", "other", None)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists);

    let got = c
        .get_robot(&owner, "builder")
        .await
        .unwrap()
        .expect("robot");
    assert_eq!(
        got.token.as_ref().map(|s| s.expose_secret().to_owned()),
        Some(token.clone())
    );

    let listed = c.list_robots(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].token.is_none(), "listing asks for no tokens");

    let regenerated = c.regenerate_robot_token(&owner, "builder").await.unwrap();
    assert_ne!(regenerated.token.unwrap().expose_secret(), token);
    assert!(
        c.robot_permissions(&owner, "builder")
            .await
            .unwrap()
            .is_empty()
    );

    let err = c
        .create_robot(&owner, "Bad-Name", "", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);

    c.delete_robot(&owner, "builder").await.unwrap();
    assert!(
        c.get_robot(&owner, "builder").await.unwrap().is_none(),
        "Quay answers 400, read as absent"
    );
    let err = c.delete_robot(&owner, "builder").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn user_robot_lifecycle() {
    let t = Target::new().await;
    let short = t.name("mine");
    let c = &t.client;
    let robot = c
        .create_robot(&RobotOwner::CurrentUser, &short, "mine", None)
        .await
        .unwrap();
    let me = c.current_user().await.unwrap();
    assert_eq!(robot.name, format!("{}+{short}", me.username));
    assert!(
        c.get_robot(&RobotOwner::CurrentUser, &short)
            .await
            .unwrap()
            .is_some()
    );
    c.delete_robot(&RobotOwner::CurrentUser, &short)
        .await
        .unwrap();
    assert!(
        c.get_robot(&RobotOwner::CurrentUser, &short)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn robot_federation_is_a_list_replaced_as_a_whole() {
    let t = Target::new().await;
    let org = t.org("federation").await;
    let owner = RobotOwner::Organization(org.clone());
    let c = &t.client;
    c.create_robot(&owner, "puller", "", None).await.unwrap();
    assert_eq!(c.robot_federation(&owner, "puller").await.unwrap(), []);

    let entry = |issuer: &str, subject: &str| FederationEntry {
        issuer: issuer.into(),
        subject: subject.into(),
    };
    let both = [
        entry(
            "https://kubernetes.default.svc",
            "system:serviceaccount:apps:puller",
        ),
        entry(
            "https://token.actions.githubusercontent.com",
            "repo:acme/app:ref:refs/heads/main",
        ),
    ];
    let stored = c
        .set_robot_federation(&owner, "puller", &both)
        .await
        .unwrap();
    assert_eq!(stored, both);
    assert_eq!(c.robot_federation(&owner, "puller").await.unwrap(), both);
    // The robot's own view does not show it.
    let robot = c.get_robot(&owner, "puller").await.unwrap().unwrap();
    assert_eq!(robot.name, format!("{org}+puller"));

    let one = &both[..1];
    c.set_robot_federation(&owner, "puller", one).await.unwrap();
    assert_eq!(c.robot_federation(&owner, "puller").await.unwrap(), one);

    let err = c
        .set_robot_federation(&owner, "puller", &[entry("issuer.example.com", "x")])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "Issuer must be a URL (http:// or https://)");
    let twice = [both[0].clone(), both[0].clone()];
    let err = c
        .set_robot_federation(&owner, "puller", &twice)
        .await
        .unwrap_err();
    assert_eq!(err.message, "Duplicate federation config entry");
    assert_eq!(
        c.robot_federation(&owner, "puller").await.unwrap(),
        one,
        "a refused list changes nothing"
    );

    c.set_robot_federation(&owner, "puller", &[]).await.unwrap();
    assert_eq!(c.robot_federation(&owner, "puller").await.unwrap(), []);

    let err = c.robot_federation(&owner, "nosuchbot").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = c
        .set_robot_federation(&owner, "nosuchbot", one)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    t.cleanup(&org).await;
}
