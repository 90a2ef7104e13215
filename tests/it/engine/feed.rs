//! The change feed from Quay's audit log: a poll with nothing changed costs one
//! request; someone else's change names what to observe again; the operator's
//! own writes are not changes; what the log cannot say means "everything".

use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::engine::feed::{Changes, OrganizationFeed, Poll};
use quay_config_operator::quay::{ClientOptions, QuayClient};
use quay_config_operator::workload::{Drive, Resources, Workload, converge};
use secrecy::SecretString;
use serde_json::json;

use super::{Setup, TOKEN};

const DRIVE: Drive = Drive {
    concurrency: 4,
    retry_after: Duration::from_millis(20),
    attempts: 200,
};

/// A converged Ansible workload (organization `bench000`) under full access.
async fn converged() -> (Emulator, Resources) {
    let emulator = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .unwrap();
    let resources = Workload::ANSIBLE.resources(0, 0);
    let quay = Setup::quay_for(&emulator);
    assert!(converge(&resources, &quay, DRIVE).await.is_empty());
    (emulator, resources)
}

/// A client for another superuser: a person changing Quay by hand.
async fn someone_else(emulator: &Emulator) -> QuayClient {
    user_client(emulator, "alice", true).await
}

/// A client for a new user of the emulator.
pub async fn user_client(emulator: &Emulator, username: &str, superuser: bool) -> QuayClient {
    let token = user_token(emulator, username, superuser).await;
    QuayClient::new(ClientOptions::new(
        emulator.url(),
        SecretString::from(token),
    ))
    .unwrap()
}

/// A new user of the emulator, and an API token of theirs.
pub async fn user_token(emulator: &Emulator, username: &str, superuser: bool) -> String {
    let http = reqwest::Client::new();
    let control = |what: &str| format!("{}/__emulator/{what}", emulator.url());
    let created = http
        .post(control("users"))
        .json(&json!({"username": username, "superuser": superuser}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let token: serde_json::Value = http
        .post(control("tokens"))
        .json(&json!({"username": username}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_hand_edit_is_found_with_one_request_and_reverted_with_two() {
    let (emulator, resources) = converged().await;
    let quay = Setup::quay_for(&emulator);
    let mut feed = OrganizationFeed::new("bench000");
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Unchanged);

    // Nothing changed: one request for the whole organization (the resync
    // without a feed reads 103 times).
    emulator.reset_stats();
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Unchanged);
    assert_eq!(emulator.stats().total, 1, "{:?}", emulator.stats());

    // The operator's own writes are not someone else's changes.
    let changed = Workload::ANSIBLE.resources(1, 7);
    let own = Resources {
        repositories: changed.repositories[..1].to_vec(),
        ..Resources::default()
    };
    assert!(converge(&own, &quay, DRIVE).await.is_empty());
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Unchanged);

    // Someone else edits a description and a team.
    let alice = someone_else(&emulator).await;
    alice
        .update_repository_description("bench000", "app00003", "edited by hand")
        .await
        .unwrap();
    emulator.reset_stats();
    let poll = feed.poll(&quay).await.unwrap();
    assert_eq!(
        poll,
        Poll::Changed(Changes {
            organization: false,
            repositories: ["app00003".to_owned()].into(),
        })
    );
    assert_eq!(emulator.stats().total, 1);

    // The controllers reconcile only what the change concerns: its list is
    // read again, the description written back.
    let Poll::Changed(changes) = poll else {
        unreachable!()
    };
    quay.forget_changed("bench000", Some(&changes));
    let concerned = Resources {
        repositories: resources
            .repositories
            .iter()
            .filter(|r| r.spec.name.as_deref() == Some("app00003"))
            .cloned()
            .collect(),
        ..Resources::default()
    };
    assert_eq!(concerned.repositories.len(), 1);
    assert!(converge(&concerned, &quay, DRIVE).await.is_empty());
    let stats = emulator.stats();
    assert_eq!((stats.total, stats.writes()), (3, 1), "{stats:?}");
    let repos = quay.client.list_repositories("bench000").await.unwrap();
    let repo = repos.iter().find(|r| r.name == "app00003").unwrap();
    assert_eq!(repo.description.as_deref(), Some("application 3"));
    // Reverting is the operator's own write: the next poll is quiet again.
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Unchanged);
}

#[tokio::test]
async fn organization_level_changes_and_floods() {
    let (emulator, _) = converged().await;
    let quay = Setup::quay_for(&emulator);
    let mut feed = OrganizationFeed::new("bench000");
    feed.poll(&quay).await.unwrap();
    let alice = someone_else(&emulator).await;

    alice
        .update_organization(
            "bench000",
            &quay_config_operator::quay::api::organization::OrganizationUpdate {
                email: Some("hand@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        feed.poll(&quay).await.unwrap(),
        Poll::Changed(Changes {
            organization: true,
            repositories: Default::default(),
        })
    );

    // More changes than the feed reads in one poll: observe everything.
    for i in 0..120 {
        alice
            .update_repository_description("bench000", "app00001", &format!("edit {i}"))
            .await
            .unwrap();
    }
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Everything);
    assert_eq!(feed.poll(&quay).await.unwrap(), Poll::Unchanged);
}

#[tokio::test]
async fn a_namespace_without_a_readable_log_has_no_feed() {
    let (emulator, _) = converged().await;
    let quay = Setup::quay_for(&emulator);
    let mut feed = OrganizationFeed::new("nosuchorg");
    assert!(matches!(
        feed.poll(&quay).await.unwrap(),
        Poll::Unavailable(_)
    ));

    // A token that is no admin of the organization may not read its log.
    let bob = user_client(&emulator, "bob", false).await;
    let bob = quay_config_operator::engine::Quay::new(bob, Duration::from_secs(60));
    let mut feed = OrganizationFeed::new("bench000");
    match feed.poll(&bob).await.unwrap() {
        Poll::Unavailable(message) => assert!(!message.is_empty()),
        other => panic!("{other:?}"),
    }
}
