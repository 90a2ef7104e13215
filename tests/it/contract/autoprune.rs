use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::autoprune::{PolicyOwner, PruneRule};
use quay_config_operator::quay::api::repository::NewRepository;
use serde_json::json;

use super::Target;

fn rule(method: &str, value: serde_json::Value) -> PruneRule {
    PruneRule {
        method: method.into(),
        value,
        tag_pattern: None,
        tag_pattern_matches: true,
    }
}

#[tokio::test]
async fn organization_and_repository_policies() {
    let t = Target::new().await;
    let org = t.org("prune").await;
    let c = &t.client;
    let owner = PolicyOwner::Organization(org.clone());

    assert!(c.list_autoprune_policies(&owner).await.unwrap().is_empty());
    let first = c
        .create_autoprune_policy(&owner, &rule("number_of_tags", json!(10)))
        .await
        .unwrap();
    let err = c
        .create_autoprune_policy(&owner, &rule("number_of_tags", json!(10)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    let mut patterned = rule("creation_date", json!("7d"));
    patterned.tag_pattern = Some("^v.*".into());
    let second = c.create_autoprune_policy(&owner, &patterned).await.unwrap();

    let err = c
        .create_autoprune_policy(&owner, &rule("number_of_tags", json!(0)))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Invalid value given for method type");
    let err = c
        .create_autoprune_policy(&owner, &rule("creation_date", json!("soon")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);

    let listed = c.list_autoprune_policies(&owner).await.unwrap();
    assert_eq!(listed.len(), 2);
    let p = listed.iter().find(|p| p.uuid == second).unwrap();
    assert_eq!(p.rule, patterned);
    let p = listed.iter().find(|p| p.uuid == first).unwrap();
    assert_eq!(p.rule.tag_pattern, None);
    assert!(
        p.rule.tag_pattern_matches,
        "Quay defaults tagPatternMatches to true"
    );

    c.update_autoprune_policy(&owner, &first, &rule("creation_date", json!("2w")))
        .await
        .unwrap();
    let listed = c.list_autoprune_policies(&owner).await.unwrap();
    assert_eq!(
        listed.iter().find(|p| p.uuid == first).unwrap().rule.value,
        json!("2w")
    );
    c.delete_autoprune_policy(&owner, &first).await.unwrap();
    assert_eq!(
        c.delete_autoprune_policy(&owner, &first)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );

    let new = NewRepository {
        namespace: org.clone(),
        repository: "pruned".into(),
        visibility: "private".into(),
        description: String::new(),
        repo_kind: "image".into(),
    };
    c.create_repository(&new).await.unwrap();
    let repo = PolicyOwner::Repository(org.clone(), "pruned".into());
    let uuid = c
        .create_autoprune_policy(&repo, &rule("number_of_tags", json!(3)))
        .await
        .unwrap();
    assert_eq!(
        c.list_autoprune_policies(&repo).await.unwrap()[0].uuid,
        uuid
    );
    let missing = PolicyOwner::Repository(org.clone(), "nosuchrepo".into());
    let err = c
        .create_autoprune_policy(&missing, &rule("number_of_tags", json!(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    c.delete_autoprune_policy(&repo, &uuid).await.unwrap();
    t.cleanup(&org).await;
}

#[tokio::test]
async fn user_namespace_policies_are_listed() {
    let t = Target::new().await;
    let policies = t
        .client
        .list_autoprune_policies(&PolicyOwner::CurrentUser)
        .await
        .unwrap();
    if !t.is_real() {
        assert!(policies.is_empty());
    }
}
