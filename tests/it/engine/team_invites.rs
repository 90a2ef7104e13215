//! Team members given as e-mail addresses: invitations, read in the members
//! call itself, and reported (not retried hot) where Quay has no mail.

use std::collections::BTreeSet;

use quay_config_operator::engine::team::DesiredTeam;
use quay_config_operator::engine::{EngineError, ErrorClass, Mode, reconcile};
use serde_json::json;

use super::Setup;

const INVITEE: &str = "new.dev@example.com";

fn team(members: &[&str]) -> DesiredTeam {
    DesiredTeam {
        org: "acme".into(),
        name: "devs".into(),
        role: "member".into(),
        description: None,
        members: Some(
            members
                .iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<_>>(),
        ),
    }
}

async fn setup(mailing: bool) -> Setup {
    let s = Setup::new().await;
    s.control("config", json!({ "mailing": mailing })).await;
    s.control("users", json!({"username": "alice"})).await;
    s.client().create_organization("acme", None).await.unwrap();
    s.client()
        .put_team("acme", "devs", "member", None)
        .await
        .unwrap();
    s
}

async fn listed(s: &Setup) -> Vec<(String, bool)> {
    let members = s.client().list_team_members("acme", "devs").await;
    let mut list: Vec<_> = members
        .unwrap()
        .unwrap()
        .iter()
        .map(|m| (m.key().to_owned(), m.invited))
        .collect();
    list.sort();
    list
}

#[tokio::test]
async fn with_mailing_addresses_are_invited_and_withdrawn_at_no_extra_read() {
    let s = setup(true).await;
    let desired = team(&["alice", INVITEE]);
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    let changes: Vec<_> = report
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.desired.as_str()))
        .collect();
    assert!(changes.contains(&("members[new.dev@example.com]", "invited")));
    // alice is in no team of acme: Quay (with mail) invites her too.
    assert_eq!(
        listed(&s).await,
        vec![("alice".into(), true), (INVITEE.into(), true)]
    );

    s.emulator.reset_stats();
    let report = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    let stats = s.emulator.stats();
    assert_eq!(
        (stats.total, stats.writes()),
        (2, 0),
        "the organization view and one members call (with the pending invitations)"
    );

    s.emulator.reset_stats();
    reconcile(&team(&["alice"]), &s.quay, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(listed(&s).await, vec![("alice".into(), true)]);
    assert_eq!(s.emulator.stats().writes(), 1, "one invitation withdrawn");
}

#[tokio::test]
async fn without_mailing_the_others_are_synced_and_the_invitation_reported() {
    let s = setup(false).await;
    let desired = team(&["alice", INVITEE]);
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert!(
        matches!(err, EngineError::FeatureUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(err.reason(), "InvitationsUnavailable");
    assert_eq!(err.class(), ErrorClass::Terminal, "retried at resync only");
    let message = err.to_string();
    assert!(
        message.contains(INVITEE) && message.contains("FEATURE_MAILING"),
        "{message}"
    );
    assert_eq!(listed(&s).await, vec![("alice".into(), false)]);

    // Again: one members read and one refused invitation, nothing else.
    s.emulator.reset_stats();
    let err = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "InvitationsUnavailable");
    let stats = s.emulator.stats();
    assert_eq!((stats.total, stats.writes()), (3, 1), "{stats:?}");
}
