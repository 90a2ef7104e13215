//! What the watches on referenced objects reconcile when one changes.

use quay_config_operator::controller::{ManagedResource, ResourceRef, dependents};
use quay_config_operator::crd::{QuayMirrorConfig, QuayNotification};
use serde_json::json;

use super::{NS, kind_context, mock_client};

fn notification(name: &str, namespace: &str, repository_ref: &str) -> QuayNotification {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayNotification",
        "metadata": {"name": name, "namespace": namespace, "uid": name},
        "spec": {"repositoryRef": {"name": repository_ref}, "event": "repo_push", "method": "webhook",
                 "urlSecretRef": {"name": "hook", "key": "url"}}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_changed_repository_reconciles_the_notifications_that_reference_it() {
    let (client, _api) = mock_client();
    let objects = [
        notification("a", NS, "app"),
        notification("b", NS, "other"),
        notification("c", "elsewhere", "app"),
    ];
    let ctx = kind_context(client, &objects);
    let wanted = ResourceRef::Repository("app".into());
    let hit = dependents(&ctx.store, Some(NS), |o| {
        o.resource_refs().contains(&wanted)
    });
    let names: Vec<_> = hit.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["a"], "same namespace, same repository only");

    // The webhook URL Secret of the notifications: all of this namespace.
    let by_secret = dependents(&ctx.store, Some(NS), |o| {
        o.secret_refs().iter().any(|r| r.name == "hook")
    });
    assert_eq!(by_secret.len(), 2);
}

#[tokio::test]
async fn a_changed_credentials_secret_reconciles_its_mirror() {
    let (client, _api) = mock_client();
    let mirror: QuayMirrorConfig = serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayMirrorConfig",
        "metadata": {"name": "m", "namespace": NS, "uid": "m"},
        "spec": {"repository": "acme/mirror", "externalReference": "quay.io/x/y", "syncInterval": "1h",
                 "robotUsername": "bot", "rootRule": ["latest"], "credentialsSecretRef": {"name": "creds"}}
    }))
    .unwrap();
    let ctx = kind_context(client, &[mirror]);
    let hit = dependents(&ctx.store, Some(NS), |o| {
        o.secret_refs().iter().any(|r| r.name == "creds")
    });
    assert_eq!(hit.len(), 1);
    assert!(
        dependents(&ctx.store, Some(NS), |o| o
            .secret_refs()
            .iter()
            .any(|r| r.name == "other"))
        .is_empty()
    );
}
