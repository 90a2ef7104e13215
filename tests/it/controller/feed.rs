//! The change feeds as the controllers use them: an organization is covered
//! once its feed has been read; someone else's change in Quay reconciles the
//! resources it concerns, and only those.

use std::time::Duration;

use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use quay_config_operator::controller::feed::{ChangeFeeds, affected};
use quay_config_operator::crd::QuayRepository;
use quay_config_operator::engine::Quay;
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::SecretString;
use serde_json::json;

use super::{NS, TOKEN, emulator_with};
use crate::engine::feed::user_client;

fn repository(
    name: &str,
    namespace: &str,
    connection: &str,
    org: &str,
    repo: &str,
) -> QuayRepository {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
        "metadata": {"name": name, "namespace": namespace, "uid": name},
        "spec": {"namespace": org, "name": repo, "connectionRef": {"name": connection}}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_hand_edit_reconciles_only_the_resources_it_concerns() {
    // Alice, another superuser, edits by hand (full access lets her).
    let emu = emulator_with(true).await;
    let client = QuayClient::new(ClientOptions::new(
        emu.url(),
        SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap();
    client
        .create_organization("acme", Some("acme@example.com"))
        .await
        .unwrap();
    for repo in ["app", "web"] {
        client
            .create_repository(&NewRepository {
                namespace: "acme".into(),
                repository: repo.into(),
                visibility: "private".into(),
                description: String::new(),
                repo_kind: "image".into(),
            })
            .await
            .unwrap();
    }
    let quay = Quay::new(client, Duration::from_secs(60));

    let (store, mut writer): (Store<QuayRepository>, _) = reflector::store();
    for object in [
        repository("app", NS, "default", "acme", "app"),
        repository("web", NS, "default", "acme", "web"),
        // The same Quay repository through another namespace's connection.
        repository("app-elsewhere", "other", "default", "acme", "app"),
    ] {
        writer.apply_watcher_event(&watcher::Event::Apply(object));
    }

    let feeds = ChangeFeeds::new(Some(Duration::from_secs(30)));
    let user = (NS.to_owned(), "QuayConnection default".to_owned());
    assert!(!feeds.covers(&quay, "acme", user.clone()), "not read yet");
    assert!(
        feeds.poll_once().await.is_empty(),
        "the first poll finds where the log stands"
    );
    assert!(feeds.covers(&quay, "acme", user.clone()));
    emu.reset_stats();
    assert!(feeds.poll_once().await.is_empty());
    assert_eq!(emu.stats().total, 1, "one request when nothing changed");

    let alice = user_client(&emu, "alice", true).await;
    alice
        .update_repository_description("acme", "app", "edited by hand")
        .await
        .unwrap();
    let changes = feeds.poll_once().await;
    assert_eq!(changes.len(), 1);
    let hit: Vec<_> = affected(&store, &changes[0])
        .into_iter()
        .map(|r| (r.namespace.unwrap_or_default(), r.name))
        .collect();
    assert_eq!(hit, vec![(NS.to_owned(), "app".to_owned())]);

    // A feed the token cannot read stops covering its organization.
    let mallory = user_client(&emu, "mallory", false).await;
    let feeds = ChangeFeeds::new(Some(Duration::from_secs(30)));
    let mallory = Quay::new(mallory, Duration::from_secs(60));
    feeds.covers(&mallory, "acme", user.clone());
    feeds.poll_once().await;
    assert!(!feeds.covers(&mallory, "acme", user.clone()));
    // ... and is not asked again at every poll.
    emu.reset_stats();
    feeds.poll_once().await;
    assert_eq!(emu.stats().total, 0);

    // Feeds off: nothing is covered and nothing polled.
    let off = ChangeFeeds::new(None);
    assert!(!off.covers(&quay, "acme", user));
}
