//! Robot accounts and teams.

use std::collections::BTreeSet;

use quay_config_operator::engine::robot::DesiredRobot;
use quay_config_operator::engine::team::DesiredTeam;
use quay_config_operator::engine::{ErrorClass, Managed, Mode, delete, reconcile};
use quay_config_operator::quay::api::robot::RobotOwner;
use secrecy::ExposeSecret;

use super::Setup;

fn robot(description: &str) -> DesiredRobot {
    DesiredRobot {
        owner: RobotOwner::Organization("acme".into()),
        user: None,
        short_name: "builder".into(),
        description: description.into(),
        federation: None,
    }
}

#[tokio::test]
async fn robot_is_created_with_its_token_and_observed_by_one_list() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let report = reconcile(&robot("CI"), &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let created = report.live.expect("create returns the robot");
    assert_eq!(created.robot.name, "acme+builder");
    let token = created.robot.token.unwrap().expose_secret().to_owned();

    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let report = reconcile(&robot("CI"), &fresh, Mode::Apply).await.unwrap();
    let live = report.live.unwrap();
    assert_eq!(
        live.robot.token.unwrap().expose_secret(),
        token,
        "the list carries the tokens"
    );
    assert_eq!(s.emulator.stats().total, 1);
}

#[tokio::test]
async fn a_different_description_is_reported_and_never_recreates_the_robot() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    reconcile(&robot("old"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    s.emulator.reset_stats();
    let desired = robot("new");
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(s.emulator.stats().writes(), 0, "no delete + create");
    assert!(desired.description_differs(&report.live.unwrap().robot));
}

#[tokio::test]
async fn rotation_changes_the_token() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let desired = robot("");
    let before = reconcile(&desired, &s.quay, Mode::Apply)
        .await
        .unwrap()
        .live
        .unwrap()
        .robot;
    let after = desired.rotate(&s.quay).await.unwrap();
    assert_ne!(
        before.token.unwrap().expose_secret(),
        after.token.as_ref().unwrap().expose_secret()
    );
    let observed = desired.observe(&s.quay).await.unwrap().unwrap();
    assert_eq!(
        observed.robot.token.unwrap().expose_secret(),
        after.token.unwrap().expose_secret()
    );
}

#[tokio::test]
async fn robot_waits_for_its_organization_and_deletes() {
    let s = Setup::new().await;
    let err = reconcile(&robot(""), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
    // Created elsewhere: seen once the shared organization view is read again
    // (after its TTL, or, as here, by a fresh view).
    s.client().create_organization("acme", None).await.unwrap();
    let quay = Setup::quay_for(&s.emulator);
    reconcile(&robot(""), &quay, Mode::Apply).await.unwrap();
    assert!(delete(&robot(""), &quay).await.unwrap());
    assert!(!delete(&robot(""), &quay).await.unwrap());
}

#[tokio::test]
async fn a_named_user_robot_needs_that_users_token() {
    let s = Setup::new().await;
    let named = |user: &str| DesiredRobot {
        owner: RobotOwner::CurrentUser,
        user: Some(user.into()),
        short_name: "mine".into(),
        description: String::new(),
        federation: None,
    };
    let err = reconcile(&named("alice"), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "WrongTokenUser");
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert!(err.to_string().contains("robot accounts"), "{err}");
    let stats = s.emulator.stats();
    assert_eq!((stats.writes(), stats.total), (0, 1), "only who-am-I");

    let report = reconcile(&named("quayadmin"), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(report.live.unwrap().robot.name, "quayadmin+mine");
}

#[tokio::test]
async fn user_robots_live_in_the_token_users_namespace() {
    let s = Setup::new().await;
    let desired = DesiredRobot {
        owner: RobotOwner::CurrentUser,
        user: None,
        short_name: "mine".into(),
        description: String::new(),
        federation: None,
    };
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(report.live.unwrap().robot.name, "quayadmin+mine");
    assert!(
        reconcile(&desired, &s.quay, Mode::Apply)
            .await
            .unwrap()
            .existed
    );
}

fn team(role: &str, members: Option<&[&str]>) -> DesiredTeam {
    DesiredTeam {
        org: "acme".into(),
        name: "devs".into(),
        role: role.into(),
        description: Some("Developers".into()),
        members: members.map(|m| m.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()),
    }
}

#[tokio::test]
async fn team_role_description_and_members() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    s.client()
        .create_robot(&RobotOwner::Organization("acme".into()), "bot", "", None)
        .await
        .unwrap();
    assert!(
        reconcile(
            &team("member", Some(&["quayadmin", "acme+bot"])),
            &s.quay,
            Mode::Apply
        )
        .await
        .unwrap()
        .created()
    );
    let members = s
        .client()
        .list_team_members("acme", "devs")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(members.len(), 2);

    let report = reconcile(&team("creator", Some(&["acme+bot"])), &s.quay, Mode::Apply)
        .await
        .unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["role", "members[quayadmin]"]);
    let view = s.client().get_organization("acme").await.unwrap().unwrap();
    assert_eq!(view.teams["devs"].role, "creator");
    let members = s
        .client()
        .list_team_members("acme", "devs")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        vec!["acme+bot"]
    );

    // Without a member list, membership is not managed (and not read).
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    assert!(
        reconcile(&team("creator", None), &fresh, Mode::Apply)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    assert_eq!(s.emulator.stats().total, 1);

    assert!(delete(&team("creator", None), &s.quay).await.unwrap());
    assert!(
        s.client()
            .list_team_members("acme", "devs")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_member_robot_not_yet_created_waits() {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let err = reconcile(&team("member", Some(&["acme+later"])), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
    let err = reconcile(
        &team("member", None),
        &Setup::quay_for(&s.emulator),
        Mode::Apply,
    )
    .await;
    assert!(err.is_ok(), "the team itself was created");
}

#[tokio::test]
async fn a_team_waits_for_its_organization() {
    let s = Setup::new().await;
    let err = reconcile(&team("member", None), &s.quay, Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
}

#[tokio::test]
async fn robot_federation_is_kept_to_the_complete_list_and_read_only_when_managed() {
    use quay_config_operator::quay::api::robot::FederationEntry;
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    let entry = |subject: &str| FederationEntry {
        issuer: "https://kubernetes.default.svc".into(),
        subject: subject.into(),
    };
    let owner = RobotOwner::Organization("acme".into());
    let with = |entries: Vec<FederationEntry>| DesiredRobot {
        federation: Some(entries),
        ..robot("")
    };

    // Created with its identities.
    let desired = with(vec![entry("system:serviceaccount:apps:puller")]);
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    assert_eq!(
        stored(&s).await,
        [entry("system:serviceaccount:apps:puller")]
    );

    // In sync: the robot list and the federation read, no write.
    let report = afresh(&s, &desired).await;
    assert!(!report.applied);
    assert_eq!(
        (s.emulator.stats().total, s.emulator.stats().writes()),
        (2, 0)
    );

    // Someone adds an identity by hand: the list is put back in one write.
    let hand = [
        entry("system:serviceaccount:apps:puller"),
        entry("intruder"),
    ];
    s.client()
        .set_robot_federation(&owner, "builder", &hand)
        .await
        .unwrap();
    let report = afresh(&s, &desired).await;
    assert_eq!(report.changes[0].field, "federation");
    assert!(report.changes[0].live.contains("intruder"));
    assert_eq!(s.emulator.stats().writes(), 1);
    assert_eq!(
        stored(&s).await,
        [entry("system:serviceaccount:apps:puller")]
    );

    // Unmanaged (unset): never read, never written.
    let report = afresh(&s, &robot("")).await;
    assert!(!report.applied);
    assert_eq!(s.emulator.stats().total, 1, "only the robot list");

    // An empty list removes every identity.
    afresh(&s, &with(Vec::new())).await;
    assert_eq!(stored(&s).await, []);
}

/// The federation Quay holds for acme+builder.
async fn stored(s: &Setup) -> Vec<quay_config_operator::quay::api::robot::FederationEntry> {
    let owner = RobotOwner::Organization("acme".into());
    s.client()
        .robot_federation(&owner, "builder")
        .await
        .unwrap()
}

/// Reconciles `desired` through a fresh view (no cached list), counting from zero.
async fn afresh(
    s: &Setup,
    desired: &DesiredRobot,
) -> quay_config_operator::engine::Report<quay_config_operator::engine::robot::LiveRobot> {
    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    reconcile(desired, &fresh, Mode::Apply).await.unwrap()
}
