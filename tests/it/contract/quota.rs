use quay_config_operator::emulator::EmulatorConfig;
use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::quota::QuotaScope;

use super::{EMULATOR_TOKEN, Target};

const GIB: u64 = 1 << 30;

#[tokio::test]
async fn superuser_quota_endpoint_works_without_full_access() {
    let t = Target::new().await;
    let org = t.org("quota").await;
    let c = &t.client;
    let su = QuotaScope::SuperuserOrganization(org.clone());
    let plain = QuotaScope::Organization(org.clone());

    if !t.is_real() {
        // Quay's default (FEATURE_SUPERUSERS_FULL_ACCESS off) refuses even a superuser here.
        let err = c.create_quota(&plain, 10 * GIB).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden);
    }
    assert!(c.list_quotas(&plain).await.unwrap().is_empty());
    c.create_quota(&su, 10 * GIB).await.unwrap();
    let quotas = c.list_quotas(&plain).await.unwrap();
    assert_eq!(quotas.len(), 1);
    assert_eq!(quotas[0].limit_bytes, 10 * GIB);
    assert_eq!(quotas[0].limit.as_deref(), Some("10.0 GiB"));
    let id = quotas[0].id;
    assert_eq!(c.list_quotas(&su).await.unwrap()[0].id, id);

    let updated = c.update_quota(&su, id, 5 * GIB).await.unwrap();
    assert_eq!(updated.limit_bytes, 5 * GIB);
    c.delete_quota(&su, id).await.unwrap();
    assert!(c.list_quotas(&plain).await.unwrap().is_empty());
    t.cleanup(&org).await;
}

#[tokio::test]
async fn quota_and_limits_with_full_access() {
    if std::env::var("QUAY_TEST_URL").is_ok()
        && std::env::var("QUAY_TEST_SUPERUSERS_FULL_ACCESS").is_err()
    {
        eprintln!(
            "skipped: set QUAY_TEST_SUPERUSERS_FULL_ACCESS=1 when the real Quay runs with FEATURE_SUPERUSERS_FULL_ACCESS"
        );
        return;
    }
    let t = Target::with_config(EmulatorConfig {
        token: Some(EMULATOR_TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await;
    let org = t.org("limits").await;
    let c = &t.client;
    let scope = QuotaScope::Organization(org.clone());

    c.create_quota(&scope, 10 * GIB).await.unwrap();
    let err = c.create_quota(&scope, 10 * GIB).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists, "{err}");
    let id = c.list_quotas(&scope).await.unwrap()[0].id;

    c.create_quota_limit(&org, id, "Warning", 80).await.unwrap();
    c.create_quota_limit(&org, id, "Reject", 95).await.unwrap();
    let err = c
        .create_quota_limit(&org, id, "Warning", 80)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists);
    let err = c
        .create_quota_limit(&org, id, "Info", 50)
        .await
        .unwrap_err();
    assert_eq!(err.message, "Quota type must be one of [Warning, Reject]");
    let err = c
        .create_quota_limit(&org, id, "Warning", 150)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);

    let quota = &c.list_quotas(&scope).await.unwrap()[0];
    let mut limits: Vec<_> = quota
        .limits
        .iter()
        .map(|l| (l.kind.as_str(), l.limit_percent))
        .collect();
    limits.sort();
    assert_eq!(limits, vec![("Reject", 95), ("Warning", 80)]);
    let warning = quota
        .limits
        .iter()
        .find(|l| l.kind == "Warning")
        .unwrap()
        .id;

    c.update_quota_limit(&org, id, warning, "Warning", 85)
        .await
        .unwrap();
    let quota = &c.list_quotas(&scope).await.unwrap()[0];
    assert!(
        quota
            .limits
            .iter()
            .any(|l| l.id == warning && l.limit_percent == 85)
    );

    // The organization view embeds the quota with its thresholds, and the usage.
    let view = c.get_organization(&org).await.unwrap().unwrap();
    assert_eq!(view.quotas.len(), 1);
    assert_eq!(view.quotas[0].id, id);
    assert_eq!(view.quotas[0].limit_bytes, 10 * GIB);
    assert_eq!(view.quotas[0].limits.len(), 2);
    let report = view.quota_report.expect("quota_report");
    assert_eq!(report.configured_quota, Some(10 * GIB));
    assert!(report.quota_bytes.is_some());

    c.delete_quota_limit(&org, id, warning).await.unwrap();
    assert_eq!(
        c.delete_quota_limit(&org, id, warning)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    c.delete_quota(&scope, id).await.unwrap();
    assert_eq!(
        c.delete_quota(&scope, id).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    t.cleanup(&org).await;
}
