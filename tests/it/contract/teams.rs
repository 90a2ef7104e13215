use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::robot::RobotOwner;

use super::Target;

#[tokio::test]
async fn team_lifecycle_and_members() {
    let t = Target::new().await;
    let org = t.org("team").await;
    let c = &t.client;
    let me = c.current_user().await.unwrap().username;
    c.create_robot(&RobotOwner::Organization(org.clone()), "bot", "", None)
        .await
        .unwrap();
    let bot = format!("{org}+bot");

    let team = c
        .put_team(&org, "developers", "member", Some("Devs"))
        .await
        .unwrap();
    assert!(team.new_team);
    assert_eq!(team.role, "member");
    let team = c
        .put_team(&org, "developers", "creator", None)
        .await
        .unwrap();
    assert!(!team.new_team);
    assert_eq!(team.description, "Devs", "an omitted description is kept");

    let err = c
        .put_team(&org, "developers", "owner", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);

    let view = c.get_organization(&org).await.unwrap().unwrap();
    assert_eq!(view.teams["developers"].role, "creator");

    assert_eq!(
        c.list_team_members(&org, "developers").await.unwrap(),
        Some(vec![])
    );
    c.add_team_member(&org, "developers", &me).await.unwrap();
    c.add_team_member(&org, "developers", &bot).await.unwrap();
    let err = c
        .add_team_member(&org, "developers", &me)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists);
    let members = c
        .list_team_members(&org, "developers")
        .await
        .unwrap()
        .unwrap();
    let names: Vec<_> = members
        .iter()
        .map(|m| (m.name.as_str(), m.is_robot))
        .collect();
    assert!(
        names.contains(&(me.as_str(), false)) && names.contains(&(bot.as_str(), true)),
        "{names:?}"
    );

    c.remove_team_member(&org, "developers", &bot)
        .await
        .unwrap();
    let err = c
        .remove_team_member(&org, "developers", &bot)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    c.delete_team(&org, "developers").await.unwrap();
    assert_eq!(
        c.delete_team(&org, "developers").await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(c.list_team_members(&org, "developers").await.unwrap(), None);
    t.cleanup(&org).await;
}
