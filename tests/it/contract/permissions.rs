use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::permission::Grantee;
use quay_config_operator::quay::api::prototype::{EntityRef, NewPrototype};
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;

use super::Target;

async fn setup(t: &Target, base: &str) -> (String, String) {
    let org = t.org(base).await;
    t.client
        .create_robot(&RobotOwner::Organization(org.clone()), "bot", "", None)
        .await
        .unwrap();
    t.client
        .put_team(&org, "devs", "member", None)
        .await
        .unwrap();
    (org.clone(), format!("{org}+bot"))
}

fn repo(org: &str, name: &str) -> NewRepository {
    NewRepository {
        namespace: org.into(),
        repository: name.into(),
        visibility: "private".into(),
        description: String::new(),
        repo_kind: "image".into(),
    }
}

#[tokio::test]
async fn repository_permissions() {
    let t = Target::new().await;
    let (org, bot) = setup(&t, "perm").await;
    let c = &t.client;
    c.create_repository(&repo(&org, "app")).await.unwrap();
    let me = c.current_user().await.unwrap().username;

    let users = c
        .list_repository_permissions(&org, "app", Grantee::User)
        .await
        .unwrap();
    assert_eq!(
        users[&me].role, "admin",
        "the creator gets an explicit admin permission"
    );

    c.set_repository_permission(&org, "app", Grantee::User, &bot, "read")
        .await
        .unwrap();
    c.set_repository_permission(&org, "app", Grantee::User, &bot, "write")
        .await
        .unwrap();
    c.set_repository_permission(&org, "app", Grantee::Team, "devs", "admin")
        .await
        .unwrap();
    let got = c
        .get_repository_permission(&org, "app", Grantee::User, &bot)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.role, "write");
    let users = c
        .list_repository_permissions(&org, "app", Grantee::User)
        .await
        .unwrap();
    assert!(users[&bot].is_robot);
    assert_eq!(users[&bot].name, bot);
    let teams = c
        .list_repository_permissions(&org, "app", Grantee::Team)
        .await
        .unwrap();
    assert_eq!(teams["devs"].role, "admin");

    let err = c
        .set_repository_permission(&org, "app", Grantee::User, &t.name("nosuchuser"), "read")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(
        err.message.starts_with("Invalid username"),
        "{}",
        err.message
    );
    let err = c
        .set_repository_permission(&org, "app", Grantee::Team, "nosuchteam", "read")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);

    c.delete_repository_permission(&org, "app", Grantee::User, &bot)
        .await
        .unwrap();
    assert!(
        c.get_repository_permission(&org, "app", Grantee::User, &bot)
            .await
            .unwrap()
            .is_none()
    );
    let err = c
        .delete_repository_permission(&org, "app", Grantee::User, &bot)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    c.delete_repository_permission(&org, "app", Grantee::Team, "devs")
        .await
        .unwrap();
    let err = c
        .delete_repository_permission(&org, "app", Grantee::Team, "devs")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn prototypes_allow_duplicates_and_apply_to_new_repositories() {
    let t = Target::new().await;
    let (org, bot) = setup(&t, "proto").await;
    let c = &t.client;
    let team_write = NewPrototype {
        role: "write".into(),
        delegate: EntityRef {
            kind: "team".into(),
            name: "devs".into(),
        },
        activating_user: None,
    };
    let first = c.create_prototype(&org, &team_write).await.unwrap();
    let second = c.create_prototype(&org, &team_write).await.unwrap();
    assert_ne!(
        first.id, second.id,
        "Quay accepts an identical prototype twice"
    );
    let robot_read = NewPrototype {
        role: "read".into(),
        delegate: EntityRef {
            kind: "user".into(),
            name: bot.clone(),
        },
        activating_user: None,
    };
    let robot_proto = c.create_prototype(&org, &robot_read).await.unwrap();
    assert_eq!(robot_proto.delegate.kind, "user");
    assert!(robot_proto.delegate.is_robot);
    assert_eq!(c.list_prototypes(&org).await.unwrap().len(), 3);

    let updated = c
        .update_prototype_role(&org, &second.id, "admin")
        .await
        .unwrap();
    assert_eq!(updated.role, "admin");
    c.delete_prototype(&org, &second.id).await.unwrap();
    assert_eq!(
        c.delete_prototype(&org, &second.id).await.unwrap_err().kind,
        ErrorKind::NotFound
    );

    c.create_repository(&repo(&org, "applied")).await.unwrap();
    let users = c
        .list_repository_permissions(&org, "applied", Grantee::User)
        .await
        .unwrap();
    assert_eq!(
        users[&bot].role, "read",
        "prototypes apply at repository creation"
    );
    let teams = c
        .list_repository_permissions(&org, "applied", Grantee::Team)
        .await
        .unwrap();
    assert_eq!(teams["devs"].role, "write");
    t.cleanup(&org).await;
}
