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

/// Quay as recorded (MAILING off): the invite resource does not exist, 405
/// for any team. Where mail is on, the invitation is listed as pending.
#[tokio::test]
async fn an_email_invitation_is_405_without_mailing_or_else_pending() {
    let t = Target::new().await;
    let org = t.org("invite").await;
    let c = &t.client;
    c.put_team(&org, "devs", "member", None).await.unwrap();
    let email = "invitee@example.com";
    match c.invite_team_email(&org, "devs", email).await {
        Err(e) => {
            assert!(e.is_mailing_off(), "{e:?}");
            let missing_team = c.invite_team_email(&org, "nosuchteam", email).await;
            assert!(missing_team.unwrap_err().is_mailing_off(), "any team");
            let withdraw = c.delete_team_email_invite(&org, "devs", email).await;
            assert!(withdraw.unwrap_err().is_mailing_off());
            // An address is not a user name either.
            let as_member = c.add_team_member(&org, "devs", email).await.unwrap_err();
            assert_eq!(as_member.kind, ErrorKind::BadRequest);
            assert!(as_member.message.contains("Unknown user"), "{as_member:?}");
        }
        Ok(()) => assert!(t.is_real(), "the default emulator has MAILING off"),
    }
    t.cleanup(&org).await;
}

/// With FEATURE_MAILING (the emulator's `mailing`, or a real Quay with mail):
/// an invitation is pending in the members list (`includePending`), is
/// withdrawn once, then is gone.
#[tokio::test]
async fn with_mailing_an_invitation_is_listed_pending_and_withdrawn() {
    let t = Target::with_config(quay_config_operator::emulator::EmulatorConfig {
        token: Some(super::EMULATOR_TOKEN.to_owned()),
        superusers_full_access: false,
        mailing: true,
    })
    .await;
    let org = t.org("mailinv").await;
    let c = &t.client;
    c.put_team(&org, "devs", "member", None).await.unwrap();
    let email = "invitee@example.com";
    if let Err(e) = c.invite_team_email(&org, "devs", email).await {
        assert!(t.is_real() && e.is_mailing_off(), "{e:?}");
        t.cleanup(&org).await;
        return;
    }
    let members = c.list_team_members(&org, "devs").await.unwrap().unwrap();
    let pending: Vec<_> = members.iter().filter_map(|m| m.invited_email()).collect();
    assert_eq!(pending, vec![email]);
    assert!(
        members
            .iter()
            .all(|m| m.invited || m.invited_email().is_none())
    );
    let missing_team = c.invite_team_email(&org, "nosuchteam", email).await;
    assert!(missing_team.unwrap_err().is_not_found());
    c.delete_team_email_invite(&org, "devs", email)
        .await
        .unwrap();
    let again = c.delete_team_email_invite(&org, "devs", email).await;
    assert!(again.unwrap_err().is_not_found());
    let members = c.list_team_members(&org, "devs").await.unwrap().unwrap();
    assert!(members.iter().all(|m| m.invited_email().is_none()));
    t.cleanup(&org).await;
}
