//! Proxy-cache configuration. Written to pass against a real Quay 3.18 with or
//! without outside DNS: the upstream checks Quay makes before any connection are
//! asserted everywhere; the create/delete round trip runs where Quay accepts
//! the upstream (it resolves `quay.io`).

use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::proxycache::{DEFAULT_EXPIRATION_S, NewProxyCache};
use serde_json::json;

use super::Target;

fn config(upstream: &str) -> NewProxyCache {
    NewProxyCache {
        upstream_registry: upstream.into(),
        expiration_s: DEFAULT_EXPIRATION_S,
        ..NewProxyCache::default()
    }
}

#[tokio::test]
async fn refused_upstreams_store_nothing() {
    let t = Target::new().await;
    let org = t.org("pxref").await;
    let c = &t.client;
    assert_eq!(c.get_proxy_cache(&org).await.unwrap(), None);

    let err = c.validate_proxy_cache(&org, &config("")).await.unwrap_err();
    assert_eq!(
        (err.kind, err.message.as_str()),
        (ErrorKind::BadRequest, "URL must include a hostname")
    );
    let loopback = NewProxyCache {
        insecure: true,
        ..config("127.0.0.1:8080")
    };
    for err in [
        c.validate_proxy_cache(&org, &loopback).await.unwrap_err(),
        c.create_proxy_cache(&org, &loopback).await.unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(err.message, "The provided registry URL is not allowed");
    }
    assert_eq!(c.get_proxy_cache(&org).await.unwrap(), None);
    let err = c.delete_proxy_cache(&org).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "nothing to delete: {err}");
    t.cleanup(&org).await;
}

#[tokio::test]
async fn create_validate_and_delete_where_the_upstream_resolves() {
    let t = Target::new().await;
    let org = t.org("pxround").await;
    let c = &t.client;
    let wanted = NewProxyCache {
        expiration_s: 3600,
        ..config("quay.io")
    };
    if let Err(err) = c.validate_proxy_cache(&org, &wanted).await {
        // A Quay without outside DNS (like the recording's) refuses before storing.
        assert_eq!(err.message, "Cannot resolve hostname 'quay.io'", "{err}");
        let create = c.create_proxy_cache(&org, &wanted).await.unwrap_err();
        assert_eq!(create.message, err.message);
        assert_eq!(c.get_proxy_cache(&org).await.unwrap(), None);
        t.cleanup(&org).await;
        return;
    }
    c.create_proxy_cache(&org, &wanted).await.unwrap();
    let live = c.get_proxy_cache(&org).await.unwrap().expect("configured");
    assert_eq!(
        (
            live.upstream_registry.as_str(),
            live.expiration_s,
            live.insecure
        ),
        ("quay.io", 3600, false)
    );
    let again = c.create_proxy_cache(&org, &wanted).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists, "{again}");
    // Validation works while a configuration exists (the engine validates
    // before it replaces one).
    c.validate_proxy_cache(&org, &config("quay.io/prometheus"))
        .await
        .unwrap();
    c.delete_proxy_cache(&org).await.unwrap();
    assert_eq!(c.get_proxy_cache(&org).await.unwrap(), None);
    let gone = c.delete_proxy_cache(&org).await.unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn the_emulator_can_answer_like_a_quay_without_outside_dns() {
    let t = Target::new().await;
    if t.is_real() {
        return;
    }
    let org = t.org("pxdns").await;
    let answer = t
        .control("/__emulator/config", json!({"outside_dns": false}))
        .await;
    assert_eq!(answer["outside_dns"], false);
    let err = t
        .client
        .validate_proxy_cache(&org, &config("docker.io/library"))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Cannot resolve hostname 'docker.io'");
    // A reset keeps the setting (as it keeps the cost model).
    t.control("/__emulator/reset", json!({})).await;
    let org = t.org("pxdns").await;
    let err = t
        .client
        .validate_proxy_cache(&org, &config("quay.io"))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Cannot resolve hostname 'quay.io'");
    t.cleanup(&org).await;
}
