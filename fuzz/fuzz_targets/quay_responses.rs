//! The Quay client against any answer: every read the operator makes gets
//! an arbitrary status, content type and body (non-JSON, wrong types, huge or
//! deeply nested JSON) from a loopback server, and returns a typed value or a
//! typed error, never a panic. The first byte picks the status, the second
//! the content type; the rest is the body.

#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use quay_config_operator::quay::api::autoprune::PolicyOwner;
use quay_config_operator::quay::api::logs::LogQuery;
use quay_config_operator::quay::api::permission::Grantee;
use quay_config_operator::quay::api::quota::QuotaScope;
use quay_config_operator::quay::api::robot::RobotOwner;
use quay_config_operator::quay::{ClientOptions, QuayClient, RetryPolicy};
use secrecy::SecretString;

const STATUSES: [u16; 12] = [200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503];
const CONTENT_TYPES: [&str; 4] = ["application/json", "text/html", "", "application/problem+json"];

/// The answer the loopback server gives next: status, content type, body.
static ANSWER: Mutex<(u16, &str, Vec<u8>)> = Mutex::new((200, "", Vec::new()));

struct Harness {
    runtime: tokio::runtime::Runtime,
    client: QuayClient,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let url = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let app = axum::Router::new().fallback(|| async {
                let (status, content_type, body) = ANSWER.lock().unwrap().clone();
                let status = StatusCode::from_u16(status).unwrap();
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
            });
            tokio::spawn(async move { axum::serve(listener, app).await });
            url
        });
        let mut options = ClientOptions::new(url, SecretString::from("fuzz-token"));
        options.timeout = Duration::from_secs(5);
        options.retry = RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_retry_after: Duration::ZERO,
        };
        let client = QuayClient::new(options).expect("client");
        Harness { runtime, client }
    })
}

fuzz_target!(|data: &[u8]| {
    let [status, content_type, body @ ..] = data else {
        return;
    };
    *ANSWER.lock().unwrap() = (
        STATUSES[usize::from(*status) % STATUSES.len()],
        CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()],
        body.to_vec(),
    );
    let Harness { runtime, client } = harness();
    let org = || "acme".to_owned();
    runtime.block_on(async {
        let _ = client.current_user().await;
        let _ = client.get_organization("acme").await;
        let _ = client.list_repositories("acme").await;
        let _ = client.get_repository("acme", "app").await;
        let _ = client.list_notifications("acme", "app").await;
        let _ = client.get_mirror("acme", "app").await;
        let _ = client.list_repository_permissions("acme", "app", Grantee::User).await;
        let _ = client.list_repository_permissions("acme", "app", Grantee::Team).await;
        let _ = client.list_autoprune_policies(&PolicyOwner::Organization(org())).await;
        let _ = client.list_robots(&RobotOwner::Organization(org())).await;
        let _ = client.list_robots_with_tokens(&RobotOwner::CurrentUser).await;
        let _ = client.get_robot(&RobotOwner::Organization(org()), "bot").await;
        let _ = client.robot_permissions(&RobotOwner::Organization(org()), "bot").await;
        let _ = client.list_team_members("acme", "owners").await;
        let _ = client.list_prototypes("acme").await;
        let _ = client.list_quotas(&QuotaScope::Organization(org())).await;
        let _ = client.organization_logs("acme", &LogQuery::default()).await;
    });
});
