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

/// What the reflector stores of each watched resource: `managedFields` and
/// kubectl's last-applied manifest are dropped (together most of a resource's
/// size), the annotations the operator reads are kept. Guards the memory of
/// 10,000 resources loosely: the stored form of a workload repository stays
/// well under a kibibyte.
#[test]
fn watched_resources_are_stored_without_managed_fields_or_last_applied() {
    use quay_config_operator::controller::slim;
    use quay_config_operator::crd::QuayRepository;
    use quay_config_operator::workload::Workload;

    let resources = Workload::ANSIBLE.resources(0, 0);
    let mut repo: QuayRepository = resources.repositories[0].clone();
    let manifest = serde_json::to_string(&repo).unwrap();
    repo.metadata.annotations = Some(
        [
            (
                "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
                manifest,
            ),
            ("quayconfig.io/note".to_owned(), "kept".to_owned()),
        ]
        .into(),
    );
    repo.metadata.managed_fields = Some(
        serde_json::from_value(json!([
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "quayconfig.io/v1alpha1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {".": {},
             "f:kubectl.kubernetes.io/last-applied-configuration": {}}}, "f:spec": {".": {},
             "f:description": {}, "f:name": {}, "f:namespace": {}, "f:visibility": {}}}},
            {"manager": "quay-config-operator", "operation": "Update", "apiVersion": "quayconfig.io/v1alpha1",
             "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {".": {},
             "f:conditions": {".": {}, "k:{\"type\":\"Ready\"}": {".": {}, "f:lastTransitionTime": {},
             "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {}}},
             "f:name": {}, "f:namespace": {}, "f:observedGeneration": {}, "f:origin": {}, "f:pullSpec": {}}}}
        ]))
        .unwrap(),
    );
    let before = serde_json::to_vec(&repo).unwrap().len();
    slim(&mut repo);
    let after = serde_json::to_vec(&repo).unwrap().len();
    assert!(repo.metadata.managed_fields.is_none());
    let annotations = repo.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations.len(), 1);
    assert_eq!(annotations["quayconfig.io/note"], "kept");
    assert!(after * 3 < before, "{before} -> {after} bytes");
    assert!(after < 1024, "{after} bytes");
}
