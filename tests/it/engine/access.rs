//! Permissions, default permissions and auto-prune lists.

use quay_config_operator::engine::organization::DesiredOrganization;
use quay_config_operator::engine::permissions::DesiredPermission;
use quay_config_operator::engine::prototypes::DesiredPrototype;
use quay_config_operator::engine::repository::DesiredRepository;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, reconcile};
use quay_config_operator::quay::api::autoprune::{PolicyOwner, PruneRule};
use quay_config_operator::quay::api::permission::Grantee;
use quay_config_operator::quay::api::prototype::{EntityRef, NewPrototype};
use quay_config_operator::quay::api::robot::RobotOwner;
use serde_json::json;

use super::Setup;

fn grant(grantee: Grantee, name: &str, role: &str) -> DesiredPermission {
    DesiredPermission {
        grantee,
        name: name.into(),
        role: role.into(),
    }
}

fn repo(permissions: Vec<DesiredPermission>) -> DesiredRepository {
    DesiredRepository {
        namespace: "acme".into(),
        name: "app".into(),
        kind: "image".into(),
        permissions: Some(permissions),
        ..DesiredRepository::default()
    }
}

async fn org_with_team_and_robot() -> Setup {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    s.client()
        .put_team("acme", "devs", "member", None)
        .await
        .unwrap();
    s.client()
        .create_robot(&RobotOwner::Organization("acme".into()), "bot", "", None)
        .await
        .unwrap();
    s
}

#[tokio::test]
async fn permissions_are_added_changed_and_revoked_to_match() {
    let s = org_with_team_and_robot().await;
    let desired = repo(vec![
        grant(Grantee::Team, "devs", "write"),
        grant(Grantee::User, "acme+bot", "read"),
    ]);
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let users = s
        .client()
        .list_repository_permissions("acme", "app", Grantee::User)
        .await
        .unwrap();
    assert_eq!(users["acme+bot"].role, "read");
    assert_eq!(
        users["quayadmin"].role, "admin",
        "the connection's own admin grant is kept"
    );

    let fresh = Setup::quay_for(&s.emulator);
    s.emulator.reset_stats();
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert_eq!(s.emulator.stats().writes(), 0);

    let desired = repo(vec![grant(Grantee::Team, "devs", "admin")]);
    let report = reconcile(&desired, &fresh, Mode::Apply).await.unwrap();
    let labels: Vec<_> = report
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.desired.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("permissions[team:devs]", "admin"),
            ("permissions[robot:acme+bot]", "none")
        ]
    );
    let users = s
        .client()
        .list_repository_permissions("acme", "app", Grantee::User)
        .await
        .unwrap();
    assert!(!users.contains_key("acme+bot"));
    let teams = s
        .client()
        .list_repository_permissions("acme", "app", Grantee::Team)
        .await
        .unwrap();
    assert_eq!(teams["devs"].role, "admin");
}

#[tokio::test]
async fn a_grant_for_a_team_not_yet_created_waits() {
    let s = org_with_team_and_robot().await;
    let desired = repo(vec![grant(Grantee::Team, "later", "read")]);
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
    s.client()
        .put_team("acme", "later", "member", None)
        .await
        .unwrap();
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let teams = s
        .client()
        .list_repository_permissions("acme", "app", Grantee::Team)
        .await
        .unwrap();
    assert_eq!(teams["later"].role, "read");
}

#[tokio::test]
async fn unmanaged_permissions_are_left_alone() {
    let s = org_with_team_and_robot().await;
    let mut desired = repo(vec![]);
    desired.permissions = None;
    reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    s.client()
        .set_repository_permission("acme", "app", Grantee::Team, "devs", "read")
        .await
        .unwrap();
    s.emulator.reset_stats();
    let report = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.emulator.stats().total, 1, "permissions are not even read");
}

fn proto(kind: &str, name: &str, role: &str) -> DesiredPrototype {
    DesiredPrototype {
        delegate_kind: kind.into(),
        delegate_name: name.into(),
        role: role.into(),
        activating_user: None,
    }
}

fn org(
    defaults: Option<Vec<DesiredPrototype>>,
    prune: Option<Vec<PruneRule>>,
) -> DesiredOrganization {
    DesiredOrganization {
        name: "acme".into(),
        email: None,
        default_permissions: defaults,
        auto_prune: prune,
    }
}

#[tokio::test]
async fn default_permissions_never_duplicate_and_duplicates_are_removed() {
    let s = org_with_team_and_robot().await;
    let team_write = NewPrototype {
        role: "write".into(),
        delegate: EntityRef {
            kind: "team".into(),
            name: "devs".into(),
        },
        activating_user: None,
    };
    // Someone created the same prototype twice by hand (Quay allows it).
    s.client()
        .create_prototype("acme", &team_write)
        .await
        .unwrap();
    s.client()
        .create_prototype("acme", &team_write)
        .await
        .unwrap();

    let desired = org(
        Some(vec![
            proto("team", "devs", "write"),
            proto("user", "acme+bot", "read"),
        ]),
        None,
    );
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(report.changes.len(), 2, "{:?}", report.changes);
    let live = s.client().list_prototypes("acme").await.unwrap();
    assert_eq!(live.len(), 2);
    assert!(
        live.iter()
            .any(|p| p.delegate.name == "acme+bot" && p.role == "read")
    );

    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(
        s.emulator.stats().writes(),
        0,
        "running twice never creates a duplicate"
    );

    reconcile(&org(Some(vec![]), None), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(s.client().list_prototypes("acme").await.unwrap().is_empty());
}

fn rule(method: &str, value: serde_json::Value) -> PruneRule {
    PruneRule {
        method: method.into(),
        value,
        tag_pattern: None,
        tag_pattern_matches: true,
    }
}

#[tokio::test]
async fn auto_prune_policies_end_up_exactly_as_listed() {
    let s = org_with_team_and_robot().await;
    let owner = PolicyOwner::Organization("acme".into());
    s.client()
        .create_autoprune_policy(&owner, &rule("number_of_tags", json!(50)))
        .await
        .unwrap();

    let desired = org(
        None,
        Some(vec![
            rule("number_of_tags", json!(10)),
            rule("creation_date", json!("2w")),
        ]),
    );
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(
        report.changes.len(),
        2,
        "one update in place, one create: {:?}",
        report.changes
    );
    let mut live: Vec<_> = s
        .client()
        .list_autoprune_policies(&owner)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.rule)
        .collect();
    live.sort_by(|a, b| a.method.cmp(&b.method));
    assert_eq!(
        live,
        vec![
            rule("creation_date", json!("2w")),
            rule("number_of_tags", json!(10))
        ]
    );

    s.emulator.reset_stats();
    assert!(
        reconcile(&desired, &s.quay, Mode::Apply)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    assert_eq!(s.emulator.stats().writes(), 0);

    let repo_desired = DesiredRepository {
        namespace: "acme".into(),
        name: "app".into(),
        kind: "image".into(),
        auto_prune: Some(vec![rule("number_of_tags", json!(3))]),
        ..DesiredRepository::default()
    };
    reconcile(&repo_desired, &s.quay, Mode::Apply)
        .await
        .unwrap();
    let repo_policies = s
        .client()
        .list_autoprune_policies(&PolicyOwner::Repository("acme".into(), "app".into()))
        .await
        .unwrap();
    assert_eq!(repo_policies.len(), 1);

    reconcile(&org(None, Some(vec![])), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(
        s.client()
            .list_autoprune_policies(&owner)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn observe_only_reports_list_drift_without_writing() {
    let s = org_with_team_and_robot().await;
    let desired = org(
        Some(vec![proto("team", "devs", "read")]),
        Some(vec![rule("number_of_tags", json!(5))]),
    );
    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Observe).await.unwrap();
    assert_eq!(report.changes.len(), 2);
    assert_eq!(s.emulator.stats().writes(), 0);
    // Created, then waiting for the user its permission names: the
    // repository is reported as made by this reconcile.
    let err = reconcile(
        &repo(vec![grant(Grantee::User, "nosuchuser", "read")]),
        &s.quay,
        Mode::Apply,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EngineError::CreatedThenFailed(_)), "{err}");
    assert!(err.waiting_for().unwrap().contains("nosuchuser"), "{err}");
}
