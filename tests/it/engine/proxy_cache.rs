//! Proxy caches: one GET to observe, validate → DELETE → POST for a change,
//! credentials compared by Secret version only, a refused upstream never
//! removes a working configuration.

use quay_config_operator::engine::credentials::RegistryCredentials;
use quay_config_operator::engine::proxy_cache::DesiredProxyCache;
use quay_config_operator::engine::{ErrorClass, Mode, delete, reconcile};

use super::Setup;

async fn with_org() -> Setup {
    let s = Setup::new().await;
    s.client().create_organization("cache", None).await.unwrap();
    s
}

fn creds(version: &str) -> RegistryCredentials {
    RegistryCredentials {
        username: "puller".into(),
        password: "pr0xy-pass".into(),
        version: version.into(),
    }
}

fn cache() -> DesiredProxyCache {
    DesiredProxyCache {
        organization: "cache".into(),
        upstream_registry: "docker.io/library".into(),
        expiration_s: 86400,
        insecure: false,
        credentials: Some(creds("uid-1/10")),
        credentials_sent: None,
    }
}

fn sent(version: &str) -> DesiredProxyCache {
    DesiredProxyCache {
        credentials_sent: Some(version.into()),
        ..cache()
    }
}

fn calls(s: &Setup, route: &str) -> u64 {
    s.emulator
        .stats()
        .by_route
        .get(route)
        .copied()
        .unwrap_or_default()
}

const VALIDATE: &str = "POST /api/v1/organization/{orgname}/validateproxycache";
const CREATE: &str = "POST /api/v1/organization/{orgname}/proxycache";
const DELETE: &str = "DELETE /api/v1/organization/{orgname}/proxycache";

#[tokio::test]
async fn created_validated_then_in_sync_for_one_get() {
    let s = with_org().await;
    s.emulator.reset_stats();
    let report = reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap();
    assert!(report.created());
    let stats = s.emulator.stats();
    // GET config, GET organization, validate, create: the answer is not read back.
    assert_eq!(stats.total, 4, "{:?}", stats.by_route);
    assert_eq!((calls(&s, VALIDATE), calls(&s, CREATE)), (1, 1));
    let live = s.client().get_proxy_cache("cache").await.unwrap().unwrap();
    assert_eq!(live.upstream_registry, "docker.io/library");
    assert_eq!(report.live.unwrap().config, live);

    s.emulator.reset_stats();
    let again = reconcile(
        &sent("uid-1/10"),
        &Setup::quay_for(&s.emulator),
        Mode::Apply,
    )
    .await
    .unwrap();
    assert!(again.changes.is_empty() && !again.applied);
    assert_eq!(s.emulator.stats().total, 1, "in sync costs one GET");
}

#[tokio::test]
async fn a_change_is_validate_delete_create_and_only_when_something_differs() {
    let s = with_org().await;
    reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap();

    let changed = DesiredProxyCache {
        expiration_s: 3600,
        insecure: true,
        ..sent("uid-1/10")
    };
    s.emulator.reset_stats();
    let report = reconcile(&changed, &s.quay, Mode::Apply).await.unwrap();
    let fields: Vec<_> = report.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["expirationSeconds", "insecure"]);
    assert_eq!(s.emulator.stats().total, 4, "GET, validate, DELETE, POST");
    assert_eq!(
        (calls(&s, VALIDATE), calls(&s, DELETE), calls(&s, CREATE)),
        (1, 1, 1)
    );
    let live = s.client().get_proxy_cache("cache").await.unwrap().unwrap();
    assert_eq!((live.expiration_s, live.insecure), (3600, true));

    // A new Secret version is a change; the password itself is never compared.
    let rotated = DesiredProxyCache {
        credentials: Some(creds("uid-1/11")),
        ..changed.clone()
    };
    let report = reconcile(&rotated, &s.quay, Mode::Apply).await.unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].field, "credentials");
    assert!(!format!("{report:?}").contains("pr0xy-pass"));
    let settled = DesiredProxyCache {
        credentials_sent: Some("uid-1/11".into()),
        ..rotated
    };
    s.emulator.reset_stats();
    let report = reconcile(&settled, &s.quay, Mode::Apply).await.unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(s.emulator.stats().writes(), 0);
}

#[tokio::test]
async fn a_refused_upstream_keeps_the_working_configuration() {
    let s = with_org().await;
    reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap();
    for (upstream, reason) in [
        (
            "registry.invalid/team",
            "Cannot resolve hostname 'registry.invalid'",
        ),
        ("127.0.0.1:5000", "The provided registry URL is not allowed"),
    ] {
        let bad = DesiredProxyCache {
            upstream_registry: upstream.into(),
            ..sent("uid-1/10")
        };
        s.emulator.reset_stats();
        let err = reconcile(&bad, &s.quay, Mode::Apply).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Terminal, "{err}");
        let message = err.to_string();
        assert!(message.contains(reason), "{message}");
        assert!(
            message.contains("current configuration was kept"),
            "{message}"
        );
        assert_eq!(s.emulator.stats().writes(), 1, "only the validation");
        assert_eq!(calls(&s, DELETE), 0);
        let live = s.client().get_proxy_cache("cache").await.unwrap().unwrap();
        assert_eq!(live.upstream_registry, "docker.io/library");
    }
}

#[tokio::test]
async fn a_quay_without_outside_dns_refuses_before_storing_anything() {
    let s = with_org().await;
    s.emulator.set_outside_dns(false);
    let err = reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("Cannot resolve hostname 'docker.io'"),
        "{err}"
    );
    assert_eq!(calls(&s, CREATE), 0, "a refused validation sends no create");
    assert!(s.client().get_proxy_cache("cache").await.unwrap().is_none());
}

#[tokio::test]
async fn waits_for_the_organization_and_plans_without_writing() {
    let s = Setup::new().await;
    let err = reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Waiting, "{err}");
    assert_eq!(s.emulator.stats().writes(), 0);

    s.client().create_organization("cache", None).await.unwrap();
    reconcile(&cache(), &Setup::quay_for(&s.emulator), Mode::Apply)
        .await
        .unwrap();
    let other = DesiredProxyCache {
        upstream_registry: "quay.io".into(),
        ..sent("uid-1/10")
    };
    s.emulator.reset_stats();
    let plan = reconcile(&other, &s.quay, Mode::Observe).await.unwrap();
    assert_eq!(plan.changes[0].field, "upstreamRegistry");
    assert_eq!(
        (s.emulator.stats().total, s.emulator.stats().writes()),
        (1, 0)
    );
}

#[tokio::test]
async fn deleting_removes_only_the_configuration() {
    let s = with_org().await;
    reconcile(&cache(), &s.quay, Mode::Apply).await.unwrap();
    assert!(delete(&cache(), &s.quay).await.unwrap());
    assert!(s.client().get_proxy_cache("cache").await.unwrap().is_none());
    assert!(
        s.client()
            .get_organization("cache")
            .await
            .unwrap()
            .is_some()
    );
    assert!(!delete(&cache(), &s.quay).await.unwrap(), "already gone");
}
