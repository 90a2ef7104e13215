//! `export` then `plan` against the same Quay: an organization made by hand
//! (through the client, as a person would in the UI) comes back as manifests
//! that plan in sync. Against a real Quay this checks the list shapes export
//! relies on (team permissions, prototypes, robots, notifications).

use quay_config_operator::gitops::connection::{ConnectionSettings, Token, connect};
use quay_config_operator::gitops::export::convert::Target as Destination;
use quay_config_operator::gitops::export::{Request, Selection, export};
use quay_config_operator::gitops::manifests::parse;
use quay_config_operator::gitops::output::plan_text;
use quay_config_operator::gitops::plan::plan;
use quay_config_operator::gitops::validate::{Validated, validate};
use quay_config_operator::quay::api::autoprune::{PolicyOwner, PruneRule};
use quay_config_operator::quay::api::notification::NewNotification;
use quay_config_operator::quay::api::permission::Grantee;
use quay_config_operator::quay::api::prototype::{EntityRef, NewPrototype};
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;
use secrecy::SecretString;
use serde_json::json;

use super::{EMULATOR_TOKEN, Target};

/// Connection settings for the Quay under test, as `plan` and `export` get them.
fn settings(t: &Target) -> ConnectionSettings {
    let token = std::env::var("QUAY_TEST_TOKEN").unwrap_or_else(|_| EMULATOR_TOKEN.to_owned());
    ConnectionSettings {
        url: Some(t.client.base_url().to_owned()),
        token: Some(Token {
            value: SecretString::from(token),
            source: "the test".to_owned(),
        }),
        ..ConnectionSettings::default()
    }
}

#[tokio::test]
async fn a_hand_made_organization_exports_to_manifests_that_plan_in_sync() {
    let t = Target::new().await;
    let org = t.org("export").await;
    let c = &t.client;
    let robots = RobotOwner::Organization(org.clone());
    c.create_robot(&robots, "builder", "Builds images", None)
        .await
        .unwrap();
    let robot = format!("{org}+builder");
    c.put_team(&org, "developers", "member", Some("Developers"))
        .await
        .unwrap();
    c.add_team_member(&org, "developers", &robot).await.unwrap();
    c.create_prototype(
        &org,
        &NewPrototype {
            role: "read".into(),
            delegate: EntityRef {
                kind: "team".into(),
                name: "developers".into(),
            },
            activating_user: None,
        },
    )
    .await
    .unwrap();
    let new = NewRepository {
        namespace: org.clone(),
        repository: "api_server".into(),
        visibility: "private".into(),
        description: "The API server".into(),
        repo_kind: "image".into(),
    };
    c.create_repository(&new).await.unwrap();
    // A prototype gave the team read on creation; make it write by hand.
    c.set_repository_permission(&org, "api_server", Grantee::Team, "developers", "write")
        .await
        .unwrap();
    c.set_repository_permission(&org, "api_server", Grantee::User, &robot, "read")
        .await
        .unwrap();
    let repo_policies = PolicyOwner::Repository(org.clone(), "api_server".into());
    let rule = PruneRule {
        method: "number_of_tags".into(),
        value: json!(20),
        tag_pattern: None,
        tag_pattern_matches: true,
    };
    c.create_autoprune_policy(&repo_policies, &rule)
        .await
        .unwrap();
    let notification = NewNotification {
        event: "repo_push".into(),
        method: "quay_notification".into(),
        config: json!({"target": {"kind": "team", "name": "developers"}}),
        event_config: json!({}),
        title: Some("Pushes".into()),
    };
    c.create_notification(&org, "api_server", &notification)
        .await
        .unwrap();

    let endpoints = connect(&settings(&t), &Validated::default()).expect("endpoints");
    let request = Request {
        organizations: Selection::Named(vec![org.clone()]),
        skip: Vec::new(),
        target: Destination::default(),
    };
    let exported = export(&endpoints.all()[0].quay, &request)
        .await
        .expect("export");
    assert!(exported.notes.is_empty(), "{:#?}", exported.notes);
    // The organization, its robot, the team made by hand and the owners team
    // Quay made, the repository (permissions, policy) and its notification.
    let stream = exported.stream();
    let mut kinds: Vec<&str> = stream
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "QuayNotification",
            "QuayOrganization",
            "QuayRepository",
            "QuayRobotAccount",
            "QuayTeam",
            "QuayTeam"
        ],
        "{stream}"
    );
    assert_eq!(stream.matches("deletionPolicy: Retain").count(), 6);

    let validated = validate(parse("export.yaml", &stream).expect("YAML")).expect("valid");
    let endpoints = connect(&settings(&t), &validated).expect("endpoints");
    let plan = plan(&validated, &endpoints).await;
    let s = plan.summary;
    assert_eq!(
        (s.create, s.update, s.errors, s.in_sync),
        (0, 0, 0, 6),
        "{}",
        plan_text(&plan)
    );
    t.cleanup(&org).await;
}
