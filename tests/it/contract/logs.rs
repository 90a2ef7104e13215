//! Audit logs as a change feed: a write is in the log right after it, pages
//! follow `next_page` to an empty last page, aggregates count per kind, and a
//! missing organization is `NotFound`.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use quay_config_operator::emulator::EmulatorConfig;
use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::logs::{LogEntry, LogQuery};
use quay_config_operator::quay::api::repository::NewRepository;
use quay_config_operator::quay::api::robot::RobotOwner;

use super::{EMULATOR_TOKEN, Target};

fn new_repo(namespace: &str, name: &str) -> NewRepository {
    NewRepository {
        namespace: namespace.into(),
        repository: name.into(),
        visibility: "private".into(),
        description: "first".into(),
        repo_kind: "image".into(),
    }
}

/// Yesterday to tomorrow (UTC): today's entries, whatever the clock does.
fn around_today() -> LogQuery {
    let today = Utc::now().date_naive();
    LogQuery {
        start: today.checked_sub_days(Days::new(1)),
        end: today.checked_add_days(Days::new(1)),
        ..LogQuery::default()
    }
}

/// Every entry of an organization's log, newest first, following `next_page`
/// to the first page without entries.
async fn all_entries(t: &Target, org: &str) -> (Vec<LogEntry>, usize) {
    let mut query = LogQuery::default();
    let mut entries = Vec::new();
    let mut pages = 0;
    loop {
        let page = t.client.organization_logs(org, &query).await.unwrap();
        pages += 1;
        if page.logs.is_empty() {
            assert_eq!(page.next_page, None, "the page after the last has no token");
            return (entries, pages);
        }
        assert!(page.logs.len() <= 20);
        entries.extend(page.logs);
        query.next_page = Some(page.next_page.expect("every page with entries has a token"));
        assert!(pages < 10, "paging does not end");
    }
}

fn kinds(entries: &[LogEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.kind.as_str()).collect()
}

#[tokio::test]
async fn a_write_is_in_the_log_right_after_it() {
    let t = Target::new().await;
    let org = t.org("log").await;
    let c = &t.client;
    let me = c.current_user().await.unwrap().username;

    let page = c
        .organization_logs(&org, &LogQuery::default())
        .await
        .unwrap();
    assert_eq!(kinds(&page.logs), ["org_create"]);
    let created = &page.logs[0];
    assert_eq!(created.metadata["namespace"], org.as_str());
    assert_eq!(created.metadata["email"], "contract@example.com");
    assert_eq!(
        created.performer.as_ref().map(|p| p.name.as_str()),
        Some(me.as_str())
    );
    assert!(created.performer.as_ref().is_some_and(|p| !p.is_robot));
    assert!(
        created.metadata.get("oauth_token_id").is_some(),
        "a change made with an OAuth token names it: {}",
        created.metadata
    );
    assert!(page.start_time < created.datetime && created.datetime < page.end_time);
    assert!(page.next_page.is_some());

    c.create_repository(&new_repo(&org, "app")).await.unwrap();
    c.update_repository_description(&org, "app", "second")
        .await
        .unwrap();
    let page = c
        .organization_logs(&org, &LogQuery::default())
        .await
        .unwrap();
    assert_eq!(
        kinds(&page.logs),
        ["set_repo_description", "create_repo", "org_create"]
    );
    let described = &page.logs[0];
    assert_eq!(described.repository(), Some("app"));
    assert_eq!(described.metadata["namespace"], org.as_str());
    assert_eq!(described.metadata["description"], "second");

    c.put_team(&org, "devs", "member", Some("Devs"))
        .await
        .unwrap();
    c.put_team(&org, "devs", "creator", Some("Devs v2"))
        .await
        .unwrap();
    let owner = RobotOwner::Organization(org.clone());
    c.create_robot(&owner, "bot", "robot for logs", None)
        .await
        .unwrap();
    let page = c.organization_logs(&org, &around_today()).await.unwrap();
    assert_eq!(
        kinds(&page.logs)[..4],
        [
            "create_robot",
            "org_set_team_role",
            "org_set_team_description",
            "org_create_team",
        ],
        "one entry for a new team, one per changed field of an existing one"
    );
    assert_eq!(page.logs[0].metadata["robot"], "bot");
    assert_eq!(page.logs[0].metadata["description"], "robot for logs");
    assert_eq!(page.logs[1].metadata["role"], "creator");
    assert_eq!(page.logs[2].metadata["description"], "Devs v2");
    assert_eq!(page.logs[3].metadata["team"], "devs");

    // The repository's own log has only what concerns it.
    let repo_page = c
        .repository_logs(&org, "app", &LogQuery::default())
        .await
        .unwrap();
    assert_eq!(
        kinds(&repo_page.logs),
        ["set_repo_description", "create_repo"]
    );
    let err = c
        .repository_logs(&org, "nosuchrepo", &LogQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");

    // A window in the past has nothing, and no next page.
    let past = LogQuery {
        start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1),
        end: chrono::NaiveDate::from_ymd_opt(2025, 1, 2),
        ..LogQuery::default()
    };
    let page = c.organization_logs(&org, &past).await.unwrap();
    assert!(page.logs.is_empty());
    assert_eq!(page.next_page, None);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn paging_follows_next_page_to_the_end() {
    let t = Target::new().await;
    let org = t.org("logpage").await;
    let c = &t.client;
    c.create_repository(&new_repo(&org, "app")).await.unwrap();
    for n in 1..=25 {
        c.update_repository_description(&org, "app", &format!("filler {n}"))
            .await
            .unwrap();
    }

    let (entries, pages) = all_entries(&t, &org).await;
    assert_eq!(entries.len(), 27, "{:?}", kinds(&entries));
    assert_eq!(pages, 3, "20 + 7 entries, then the empty page");
    let descriptions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.metadata["description"].as_str())
        .collect();
    let expected: Vec<String> = (1..=25).rev().map(|n| format!("filler {n}")).collect();
    assert_eq!(descriptions, expected, "newest first, nothing twice");
    assert_eq!(kinds(&entries)[25..], ["create_repo", "org_create"]);
    assert!(
        entries.windows(2).all(|w| w[0].datetime >= w[1].datetime),
        "newest first"
    );

    // A token Quay cannot read is ignored: the first page again.
    let garbage = LogQuery {
        next_page: Some("garbage".into()),
        ..LogQuery::default()
    };
    let first = c.organization_logs(&org, &garbage).await.unwrap();
    assert_eq!(first.logs, entries[..20]);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn aggregate_logs_count_per_kind() {
    let t = Target::new().await;
    let org = t.org("logcount").await;
    let c = &t.client;
    c.create_repository(&new_repo(&org, "app")).await.unwrap();
    for n in 1..=3 {
        c.update_repository_description(&org, "app", &format!("change {n}"))
            .await
            .unwrap();
    }
    c.create_robot(&RobotOwner::Organization(org.clone()), "bot", "", None)
        .await
        .unwrap();

    let window = around_today();
    for (start, end) in [(None, None), (window.start, window.end)] {
        let rows = c
            .organization_aggregate_logs(&org, start, end)
            .await
            .unwrap();
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for row in &rows {
            *counts.entry(row.kind.as_str()).or_default() += row.count;
            assert_eq!(row.datetime.time(), chrono::NaiveTime::MIN, "a day, 00:00");
        }
        assert_eq!(
            counts,
            BTreeMap::from([
                ("create_repo", 1),
                ("create_robot", 1),
                ("org_create", 1),
                ("set_repo_description", 3),
            ])
        );
    }
    let repo_rows = c
        .repository_aggregate_logs(&org, "app", None, None)
        .await
        .unwrap();
    let total: u64 = repo_rows.iter().map(|r| r.count).sum();
    assert_eq!(
        total, 4,
        "create_repo and three descriptions: {repo_rows:?}"
    );

    let too_long = c
        .organization_aggregate_logs(
            &org,
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        )
        .await
        .unwrap_err();
    assert_eq!(too_long.kind, ErrorKind::BadRequest, "{too_long}");
    assert_eq!(too_long.message, "Invalid date range for logs");
    t.cleanup(&org).await;
}

#[tokio::test]
async fn the_user_log_has_the_users_own_namespace() {
    let t = Target::new().await;
    let c = &t.client;
    let short = t.name("logbot");
    c.create_robot(&RobotOwner::CurrentUser, &short, "mine", None)
        .await
        .unwrap();
    c.delete_robot(&RobotOwner::CurrentUser, &short)
        .await
        .unwrap();
    // Other tests write to the same user namespace at the same time: look
    // for this test's entries, newest first.
    let page = c.user_logs(&around_today()).await.unwrap();
    let ours: Vec<&str> = page
        .logs
        .iter()
        .filter(|e| e.metadata["robot"] == short.as_str())
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(ours, ["delete_robot", "create_robot"]);
    let counts = c.user_aggregate_logs(None, None).await.unwrap();
    assert!(
        counts
            .iter()
            .any(|r| r.kind == "create_robot" && r.count >= 1)
    );
}

#[tokio::test]
async fn unknown_organization_is_not_found() {
    if std::env::var("QUAY_TEST_URL").is_ok()
        && std::env::var("QUAY_TEST_SUPERUSERS_FULL_ACCESS").is_err()
    {
        eprintln!(
            "skipped: set QUAY_TEST_SUPERUSERS_FULL_ACCESS=1 when the real Quay runs with FEATURE_SUPERUSERS_FULL_ACCESS"
        );
        return;
    }
    // Only a superuser with full access may read any organization's log; for
    // one that does not exist Quay then answers 400 "Invalid namespace
    // requested", which the client reads as NotFound.
    let t = Target::with_config(EmulatorConfig {
        token: Some(EMULATOR_TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await;
    let missing = t.name("nosuchorg");
    let c = &t.client;
    let err = c
        .organization_logs(&missing, &LogQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert!(err.message.contains("Invalid namespace requested"), "{err}");
    let err = c
        .organization_aggregate_logs(&missing, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn without_full_access_another_organizations_log_is_forbidden() {
    let t = Target::new().await;
    if t.is_real() {
        return;
    }
    let c = &t.client;
    let err = c
        .organization_logs(&t.name("nosuchorg"), &LogQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden, "{err}");
}
