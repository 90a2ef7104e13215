//! The token user's own namespace (`/user/...`) and other users' quotas
//! (`/superuser/users/{u}/quota`), as a real Quay 3.18 answers a superuser.

use std::time::Duration;

use quay_config_operator::engine::quota::{DesiredQuota, QuotaNamespace};
use quay_config_operator::engine::user_namespace::DesiredUserNamespace;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, Quay, reconcile};
use quay_config_operator::quay::api::autoprune::{PolicyOwner, PruneRule};
use quay_config_operator::quay::api::quota::QuotaScope;
use serde_json::json;

use super::Target;

fn rule(method: &str, value: serde_json::Value, pattern: &str) -> PruneRule {
    PruneRule {
        method: method.into(),
        value,
        tag_pattern: Some(pattern.into()),
        tag_pattern_matches: true,
    }
}

#[tokio::test]
async fn own_policies_are_created_updated_in_place_and_deleted() {
    let t = Target::new().await;
    let owner = PolicyOwner::CurrentUser;
    // A pattern unique to this run, so that the user's other policies are left alone.
    let pattern = format!("^{}-", t.name("tag"));
    let created = rule("creation_date", json!("7d"), &pattern);
    let uuid = t
        .client
        .create_autoprune_policy(&owner, &created)
        .await
        .unwrap();
    let mine = |list: Vec<quay_config_operator::quay::api::autoprune::AutoPrunePolicy>| {
        list.into_iter()
            .filter(|p| p.uuid == uuid)
            .map(|p| p.rule)
            .collect::<Vec<_>>()
    };
    let listed = t.client.list_autoprune_policies(&owner).await.unwrap();
    assert_eq!(mine(listed), vec![created]);

    let updated = rule("number_of_tags", json!(25), &pattern);
    t.client
        .update_autoprune_policy(&owner, &uuid, &updated)
        .await
        .unwrap();
    let listed = t.client.list_autoprune_policies(&owner).await.unwrap();
    assert_eq!(mine(listed), vec![updated], "same uuid, new rule");

    t.client
        .delete_autoprune_policy(&owner, &uuid)
        .await
        .unwrap();
    let again = t.client.delete_autoprune_policy(&owner, &uuid).await;
    assert!(again.unwrap_err().is_not_found());
    let listed = t.client.list_autoprune_policies(&owner).await.unwrap();
    assert!(mine(listed).is_empty());
}

#[tokio::test]
async fn another_users_namespace_is_refused_before_anything_is_written() {
    let t = Target::new().await;
    let quay = Quay::new(t.client.clone(), Duration::from_secs(60));
    let me = quay.me().await.unwrap().username.clone();
    let other = t.name("other");
    let desired = DesiredUserNamespace {
        user: other.clone(),
        auto_prune: Some(vec![rule("number_of_tags", json!(5), "^x")]),
    };
    let err = reconcile(&desired, &quay, Mode::Apply).await.unwrap_err();
    match &err {
        EngineError::TokenUser {
            user, token_user, ..
        } => assert_eq!((user, token_user), (&other, &me)),
        other => panic!("expected TokenUser, got {other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Terminal);
}

#[tokio::test]
async fn an_unknown_users_quota_is_not_found_and_never_created() {
    let t = Target::new().await;
    let nobody = t.name("nobody");
    let listed = t
        .client
        .list_quotas(&QuotaScope::SuperuserUser(nobody.clone()))
        .await;
    assert!(listed.unwrap_err().is_not_found(), "Quay answers 404");
    let quay = Quay::new(t.client.clone(), Duration::from_secs(60));
    let desired = DesiredQuota {
        namespace: QuotaNamespace::User(nobody.clone()),
        limit_bytes: 1 << 30,
        limits: None,
    };
    let err = reconcile(&desired, &quay, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting);
    assert!(err.to_string().contains("does not exist"), "{err}");
}
