//! A user's own namespace: auto-prune policies through `/user/autoprunepolicy/`,
//! only with the user's own token.

use quay_config_operator::engine::user_namespace::DesiredUserNamespace;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, delete, reconcile};
use quay_config_operator::quay::api::autoprune::{PolicyOwner, PruneRule};
use serde_json::json;

use super::Setup;

const ME: &str = quay_config_operator::emulator::PRECREATED_SUPERUSER;

fn rule(method: &str, value: serde_json::Value) -> PruneRule {
    PruneRule {
        method: method.into(),
        value,
        tag_pattern: None,
        tag_pattern_matches: true,
    }
}

fn namespace(user: &str, rules: Option<Vec<PruneRule>>) -> DesiredUserNamespace {
    DesiredUserNamespace {
        user: user.into(),
        auto_prune: rules,
    }
}

async fn policies(s: &Setup) -> Vec<PruneRule> {
    let owner = PolicyOwner::CurrentUser;
    let list = s.client().list_autoprune_policies(&owner).await.unwrap();
    list.into_iter().map(|p| p.rule).collect()
}

#[tokio::test]
async fn policies_are_created_then_cost_one_list_call() {
    let s = Setup::new().await;
    let desired = namespace(
        ME,
        Some(vec![
            rule("creation_date", json!("4w")),
            rule("number_of_tags", json!(20)),
        ]),
    );
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.existed && report.applied, "{report:?}");
    assert_eq!(report.changes.len(), 2);
    assert_eq!(policies(&s).await.len(), 2);
    // Who am I (once per connection), the list, two creates.
    assert_eq!(s.emulator.stats().total, 4 + 1, "plus the check above");

    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty() && !report.applied);
    assert_eq!(s.emulator.stats().total, 1, "in sync: one list call");
}

#[tokio::test]
async fn a_policy_changed_by_hand_is_updated_in_place_and_extras_removed() {
    let s = Setup::new().await;
    let owner = PolicyOwner::CurrentUser;
    for r in [
        rule("number_of_tags", json!(5)),
        rule("creation_date", json!("1d")),
    ] {
        s.client()
            .create_autoprune_policy(&owner, &r)
            .await
            .unwrap();
    }
    let desired = namespace(ME, Some(vec![rule("number_of_tags", json!(25))]));
    s.quay.me().await.unwrap();
    s.emulator.reset_stats();
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(report.changes.len(), 2, "{:?}", report.changes);
    assert_eq!(policies(&s).await, vec![rule("number_of_tags", json!(25))]);
    let stats = s.emulator.stats();
    assert_eq!(stats.writes(), 2, "one update in place, one delete");
    assert_eq!(stats.total, 4, "list, update, delete, and the check above");
}

#[tokio::test]
async fn another_users_namespace_is_a_clear_error_and_nothing_is_sent() {
    let s = Setup::new().await;
    let desired = namespace("alice", Some(vec![rule("number_of_tags", json!(5))]));
    let err = reconcile(&desired, &s.quay, Mode::Apply)
        .await
        .expect_err("the token is quayadmin's");
    assert!(matches!(err, EngineError::TokenUser { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert_eq!(err.reason(), "WrongTokenUser");
    let message = err.to_string();
    assert!(
        message.contains("\"alice\"") && message.contains("\"quayadmin\""),
        "{message}"
    );
    assert!(message.contains("QuayConnection"), "{message}");
    let stats = s.emulator.stats();
    assert_eq!((stats.writes(), stats.total), (0, 1), "only who-am-I");
    assert!(policies(&s).await.is_empty());
}

#[tokio::test]
async fn unmanaged_policies_are_not_read_and_delete_keeps_the_user() {
    let s = Setup::new().await;
    let owner = PolicyOwner::CurrentUser;
    s.client()
        .create_autoprune_policy(&owner, &rule("number_of_tags", json!(5)))
        .await
        .unwrap();
    s.emulator.reset_stats();
    let report = reconcile(&namespace(ME, None), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.emulator.stats().total, 1, "only who-am-I");
    assert!(delete(&namespace(ME, None), &s.quay).await.unwrap());
    assert_eq!(policies(&s).await.len(), 1, "not managed, not deleted");

    let managed = namespace(ME, Some(vec![rule("creation_date", json!("2w"))]));
    assert!(delete(&managed, &s.quay).await.unwrap());
    assert!(policies(&s).await.is_empty(), "the managed list is removed");
    let me = s.client().current_user().await.unwrap();
    assert_eq!(me.username, ME, "the user itself stays");
}
