use quay_config_operator::engine::quota::{DesiredQuota, QuotaNamespace, Threshold};
use quay_config_operator::engine::{ErrorClass, Mode, delete, reconcile};
use serde_json::json;

use super::Setup;

const GIB: u64 = 1 << 30;

async fn with_org(full_access: bool) -> Setup {
    let s = Setup::new().await;
    s.client().create_organization("acme", None).await.unwrap();
    if full_access {
        s.control("config", json!({"superusers_full_access": true}))
            .await;
    }
    s
}

fn t(kind: &str, percent: u32) -> Threshold {
    Threshold {
        kind: kind.into(),
        percent,
    }
}

fn quota(limits: Option<Vec<Threshold>>) -> DesiredQuota {
    DesiredQuota {
        namespace: QuotaNamespace::Organization("acme".into()),
        limit_bytes: 10 * GIB,
        limits,
    }
}

#[tokio::test]
async fn thresholds_become_exactly_the_listed_set_touching_only_what_differs() {
    let s = with_org(true).await;
    let desired = quota(Some(vec![t("Warning", 80), t("Reject", 100)]));
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let live = report.live.unwrap();
    assert_eq!(live.quota.limit_bytes, 10 * GIB);
    assert_eq!(live.quota.limits.len(), 2);

    s.emulator.reset_stats();
    let report = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.emulator.stats().writes(), 0);

    // One threshold changes: one write.
    let changed = quota(Some(vec![t("Warning", 80), t("Reject", 95)]));
    s.emulator.reset_stats();
    reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let stats = s.emulator.stats();
    assert_eq!(stats.writes(), 1, "{stats:?}");
    assert_eq!(stats.by_method.get("PUT"), Some(&1));

    // One more, and the limit: two writes; then one removed: one delete.
    let grown = DesiredQuota {
        limit_bytes: 20 * GIB,
        ..quota(Some(vec![
            t("Warning", 70),
            t("Warning", 80),
            t("Reject", 95),
        ]))
    };
    s.emulator.reset_stats();
    reconcile(&grown, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(s.emulator.stats().writes(), 2);
    let shrunk = DesiredQuota {
        limit_bytes: 20 * GIB,
        ..quota(Some(vec![t("Warning", 80), t("Reject", 95)]))
    };
    s.emulator.reset_stats();
    reconcile(&shrunk, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let stats = s.emulator.stats();
    assert_eq!(
        (stats.writes(), stats.by_method.get("DELETE")),
        (1, Some(&1))
    );
    let org = s.client().get_organization("acme").await.unwrap().unwrap();
    let mut limits: Vec<_> = org.quotas[0]
        .limits
        .iter()
        .map(|l| (l.kind.clone(), l.limit_percent))
        .collect();
    limits.sort();
    assert_eq!(limits, [("Reject".into(), 95), ("Warning".into(), 80)]);
    assert_eq!(org.quotas[0].limit_bytes, 20 * GIB);

    // Unset limits are not managed; delete removes the quota.
    s.emulator.reset_stats();
    let report = reconcile(
        &DesiredQuota {
            limit_bytes: 20 * GIB,
            ..quota(None)
        },
        &Setup::quay_for(&s.emulator),
        Mode::Apply,
    )
    .await
    .unwrap();
    assert!(report.changes.is_empty());
    assert!(
        delete(&quota(None), &Setup::quay_for(&s.emulator))
            .await
            .unwrap()
    );
    let org = s.client().get_organization("acme").await.unwrap().unwrap();
    assert!(org.quotas.is_empty());
}

#[tokio::test]
async fn without_full_access_the_superuser_endpoint_is_used_and_thresholds_name_the_setting() {
    let s = with_org(false).await;
    let report = reconcile(&quota(None), &s.quay, Mode::Apply).await.unwrap();
    assert!(
        report.created(),
        "created through /superuser/organization/acme/quota"
    );
    let changed = DesiredQuota {
        limit_bytes: 5 * GIB,
        ..quota(None)
    };
    reconcile(&changed, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let err = reconcile(
        &quota(Some(vec![t("Warning", 80)])),
        &Setup::quay_for(&s.emulator),
        Mode::Apply,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Terminal, "no hot retry");
    assert!(
        err.to_string().contains("FEATURE_SUPERUSERS_FULL_ACCESS"),
        "{err}"
    );
    assert!(
        delete(&quota(None), &Setup::quay_for(&s.emulator))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_user_namespace_quota_goes_through_the_superuser_endpoints() {
    let s = Setup::new().await;
    s.control("users", json!({"username": "alice"})).await;
    let desired = DesiredQuota {
        namespace: QuotaNamespace::User("alice".into()),
        limit_bytes: GIB,
        limits: None,
    };
    let report = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    assert_eq!(report.live.unwrap().quota.limit_bytes, GIB);
    s.emulator.reset_stats();
    reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(s.emulator.stats().writes(), 0);
    assert!(delete(&desired, &s.quay).await.unwrap());
}

#[tokio::test]
async fn an_unknown_user_is_waited_for_without_a_write() {
    let s = Setup::new().await;
    let desired = DesiredQuota {
        namespace: QuotaNamespace::User("nobody".into()),
        limit_bytes: GIB,
        limits: None,
    };
    let err = reconcile(&desired, &s.quay, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "not a hot retry");
    let message = err.to_string();
    assert!(
        message.contains("\"nobody\", which does not exist"),
        "{message}"
    );
    let stats = s.emulator.stats();
    assert_eq!(stats.writes(), 0, "Quay's create would only answer a 500");
    assert_eq!(stats.server_errors, 0);
}

#[tokio::test]
async fn a_write_failing_mid_way_is_completed_without_repeating_what_took() {
    let s = with_org(true).await;
    reconcile(&quota(Some(vec![])), &s.quay, Mode::Apply)
        .await
        .unwrap();
    // The limit change lands, then the threshold create fails (POSTs are not retried).
    s.fault(json!({"status": 500, "method": "POST", "path_prefix": "/api/v1/organization/acme/quota/", "count": 1}))
        .await;
    let desired = DesiredQuota {
        limit_bytes: 20 * GIB,
        ..quota(Some(vec![t("Warning", 80), t("Reject", 100)]))
    };
    let err = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
    s.emulator.reset_stats();
    let report = reconcile(&desired, &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    assert!(
        report.changes.iter().all(|c| c.field == "limits"),
        "{:?}",
        report.changes
    );
    let stats = s.emulator.stats();
    assert_eq!((stats.writes(), stats.by_method.get("POST")), (2, Some(&2)));
    let org = s.client().get_organization("acme").await.unwrap().unwrap();
    assert_eq!(org.quotas[0].limit_bytes, 20 * GIB);
    assert_eq!(org.quotas[0].limits.len(), 2);
}
