use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::quay::{ClientOptions, ErrorKind, QuayClient, RetryPolicy};
use secrecy::SecretString;
use serde_json::json;

use super::Target;

#[tokio::test]
async fn bad_token_is_unauthorized_for_reads_and_writes() {
    let t = Target::new().await;
    let bad = t.client_with_token("notarealtoken000000000000000000000000000");
    let err = bad.current_user().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    let err = bad
        .create_organization(&t.name("x"), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Unauthorized,
        "Quay's 403 CSRF answer means: no valid token"
    );
    assert!(!err.to_string().contains("notarealtoken"));
    assert!(!format!("{bad:?}").contains("notarealtoken"));
}

#[tokio::test]
async fn initialize_creates_the_first_superuser_once() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let anon = QuayClient::new(ClientOptions::new(
        emulator.url(),
        SecretString::from(String::new()),
    ))
    .unwrap();
    let user = anon
        .initialize_user("quayadmin", "password123", "admin@example.com")
        .await
        .unwrap();
    assert_eq!(user.username, "quayadmin");
    let token = secrecy::ExposeSecret::expose_secret(&user.access_token).to_owned();
    assert!(
        !format!("{user:?}").contains(&token),
        "Debug never shows the token"
    );
    let admin = QuayClient::new(ClientOptions::new(emulator.url(), user.access_token)).unwrap();
    let me = admin.current_user().await.unwrap();
    assert!(me.super_user);
    let err = anon
        .initialize_user("other", "password123", "o@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "Cannot initialize user in a non-empty database"
    );
    assert!(admin.discovery().await.unwrap().get("paths").is_some());
}

fn fast_retry(t: &Target, attempts: u32) -> QuayClient {
    let mut options = ClientOptions::new(
        t.client.base_url(),
        SecretString::from(super::EMULATOR_TOKEN.to_owned()),
    );
    options.retry = RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    };
    QuayClient::new(options).unwrap()
}

#[tokio::test]
async fn transient_failures_of_reads_are_retried() {
    let t = Target::new().await;
    if t.is_real() {
        return; // fault injection needs the emulator
    }
    let c = fast_retry(&t, 4);
    t.control(
        "/__emulator/faults",
        json!({"status": 503, "count": 2, "method": "GET"}),
    )
    .await;
    let me = c.current_user().await.expect("third attempt succeeds");
    assert!(!me.username.is_empty());
    assert_eq!(c.request_count(), 3);

    t.control(
        "/__emulator/faults",
        json!({"status": 503, "count": 10, "method": "GET"}),
    )
    .await;
    let err = c.current_user().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert!(err.is_transient());
    assert_eq!(c.request_count(), 3 + 4, "gives up after max_attempts");
}

#[tokio::test]
async fn rate_limits_honour_retry_after_and_posts_are_retried_only_after_a_429() {
    let t = Target::new().await;
    if t.is_real() {
        return;
    }
    let c = fast_retry(&t, 3);
    t.control(
        "/__emulator/faults",
        json!({"status": 429, "retry_after_s": 1, "count": 1}),
    )
    .await;
    let started = std::time::Instant::now();
    c.current_user().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );

    t.control(
        "/__emulator/faults",
        json!({"status": 503, "count": 1, "method": "POST"}),
    )
    .await;
    let err = c
        .create_organization(&t.name("once"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(
        c.request_count(),
        3,
        "a POST that may have landed is not repeated"
    );

    // A 429 comes before Quay does anything: the POST is sent again.
    t.control(
        "/__emulator/faults",
        json!({"status": 429, "retry_after_s": 0, "count": 1, "method": "POST"}),
    )
    .await;
    let org = t.name("again");
    c.create_organization(&org, None)
        .await
        .expect("created on the second attempt");
    assert_eq!(c.request_count(), 5, "one 429, then the POST that worked");
    c.delete_organization(&org).await.unwrap();

    t.control(
        "/__emulator/faults",
        json!({"status": 429, "retry_after_s": 120, "count": 1}),
    )
    .await;
    let err = c.current_user().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(
        err.retry_after,
        Some(Duration::from_secs(120)),
        "a long wait is left to the caller"
    );
}

#[tokio::test]
async fn dropped_connections_are_transport_errors() {
    let t = Target::new().await;
    if t.is_real() {
        return;
    }
    let c = fast_retry(&t, 1);
    t.control(
        "/__emulator/faults",
        json!({"drop_connection": true, "count": 1}),
    )
    .await;
    let err = c.current_user().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.is_transient());
    c.current_user().await.expect("the next call goes through");
}

#[tokio::test]
async fn an_unreachable_quay_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut options = ClientOptions::new(url, SecretString::from("t".to_owned()));
    options.retry = RetryPolicy::none();
    let err = QuayClient::new(options)
        .unwrap()
        .current_user()
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
}

#[test]
fn bad_urls_and_ca_bundles_are_config_errors() {
    let err = QuayClient::new(ClientOptions::new(
        "ftp://x",
        SecretString::from("t".to_owned()),
    ))
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    let mut options = ClientOptions::new(
        "https://quay.example.com",
        SecretString::from("t".to_owned()),
    );
    options.ca_bundle_pem = Some(b"not a certificate".to_vec());
    assert_eq!(
        QuayClient::new(options).unwrap_err().kind,
        ErrorKind::Config
    );
}
