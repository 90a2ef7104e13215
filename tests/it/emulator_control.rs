//! The emulator's control API: stats, reset, users and tokens, fault injection,
//! and the cost model.

use std::time::{Duration, Instant};

use quay_config_operator::emulator::{CostModel, Emulator, EmulatorConfig, Stats};
use serde_json::{Value, json};

const TOKEN: &str = "control-test-token";

async fn start() -> (Emulator, reqwest::Client) {
    let emulator = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_string()),
        superusers_full_access: false,
        mailing: false,
    })
    .await
    .expect("start emulator");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    (emulator, client)
}

async fn control(
    client: &reqwest::Client,
    emulator: &Emulator,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    client
        .request(method, format!("{}/__emulator/{path}", emulator.url()))
        .json(&body)
        .send()
        .await
        .expect("control call")
}

async fn api(
    client: &reqwest::Client,
    emulator: &Emulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = client
        .request(method, format!("{}{path}", emulator.url()))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("api call")
}

#[tokio::test]
async fn stats_count_calls_by_route_template() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    let created = api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let repo = json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""});
    assert_eq!(
        api(
            &client,
            &emulator,
            M::POST,
            "/api/v1/repository",
            Some(repo)
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/repository/acme/app",
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/repository/acme/nested/name",
            None
        )
        .await
        .status(),
        404
    );
    let robot = api(
        &client,
        &emulator,
        M::PUT,
        "/api/v1/organization/acme/robots/bot",
        Some(json!({})),
    )
    .await;
    assert_eq!(robot.status(), 201);
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/doesnotexist", None)
            .await
            .status(),
        308
    );
    // Control calls are not counted.
    let from_endpoint: Stats = control(&client, &emulator, M::GET, "stats", json!(null))
        .await
        .json()
        .await
        .expect("stats json");

    let stats = emulator.stats();
    assert_eq!(stats, from_endpoint);
    assert_eq!(stats.total, 6);
    assert_eq!(stats.writes(), 3);
    assert_eq!(stats.by_method.get("GET"), Some(&3));
    assert_eq!(
        stats.by_route.get("GET /api/v1/repository/{repository}"),
        Some(&2)
    );
    assert_eq!(stats.by_route.get("POST /api/v1/repository"), Some(&1));
    assert_eq!(stats.by_route.get("POST /api/v1/organization/"), Some(&1));
    assert_eq!(
        stats
            .by_route
            .get("PUT /api/v1/organization/{orgname}/robots/{robot_shortname}"),
        Some(&1)
    );
    assert_eq!(stats.by_route.get("GET (unmatched)"), Some(&1));

    emulator.reset_stats();
    assert_eq!(emulator.stats(), Stats::default());
}

#[tokio::test]
async fn reset_empties_state_but_keeps_the_configured_superuser() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 503}),
    )
    .await;
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/organization/acme",
            None
        )
        .await
        .status(),
        503
    );

    let reset = control(&client, &emulator, M::POST, "reset", json!({})).await;
    assert_eq!(reset.status(), 204);
    assert_eq!(emulator.stats(), Stats::default());
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/organization/acme",
            None
        )
        .await
        .status(),
        404
    );
    let me: Value = api(&client, &emulator, M::GET, "/api/v1/user/", None)
        .await
        .json()
        .await
        .expect("user");
    assert_eq!(me["username"], "quayadmin");
    assert_eq!(me["super_user"], true);
}

#[tokio::test]
async fn users_tokens_and_scopes() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    let user = control(
        &client,
        &emulator,
        M::POST,
        "users",
        json!({"username": "dev", "email": "dev@example.com"}),
    )
    .await;
    assert_eq!(user.status(), 201);
    let minted: Value = control(
        &client,
        &emulator,
        M::POST,
        "tokens",
        json!({"username": "dev", "scopes": ["repo:read"]}),
    )
    .await
    .json()
    .await
    .expect("token");
    let token = minted["token"].as_str().expect("token string");
    let me = client
        .get(format!("{}/api/v1/user/", emulator.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("call");
    // user:read is missing: Quay answers 401 here.
    assert_eq!(me.status(), 401);
    let create = client
        .post(format!("{}/api/v1/organization/", emulator.url()))
        .bearer_auth(token)
        .json(&json!({"name": "devorg"}))
        .send()
        .await
        .expect("call");
    assert_eq!(create.status(), 403);

    let expired: Value = control(
        &client,
        &emulator,
        M::POST,
        "tokens",
        json!({"username": "dev", "expires_in_s": -1}),
    )
    .await
    .json()
    .await
    .expect("token");
    let put = client
        .put(format!("{}/api/v1/user/robots/bot", emulator.url()))
        .bearer_auth(expired["token"].as_str().expect("token string"))
        .json(&json!({}))
        .send()
        .await
        .expect("call");
    assert_eq!(put.status(), 403);
    assert!(
        put.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let body: Value = put.json().await.expect("csrf body");
    assert_eq!(body["error"], "CSRF token was invalid or missing.");

    let bad = control(
        &client,
        &emulator,
        M::POST,
        "tokens",
        json!({"username": "dev", "scopes": ["repo:fly"]}),
    )
    .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn fault_for_the_next_n_requests_with_retry_after() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    let added = control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 503, "retry_after_s": 7, "count": 2, "method": "GET", "path_prefix": "/api/v1/user/"}),
    )
    .await;
    assert_eq!(added.status(), 201);
    let listed: Value = control(&client, &emulator, M::GET, "faults", json!(null))
        .await
        .json()
        .await
        .expect("faults");
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(1));

    // Other paths are not affected.
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/discovery", None)
            .await
            .status(),
        200
    );
    for _ in 0..2 {
        let failed = api(&client, &emulator, M::GET, "/api/v1/user/", None).await;
        assert_eq!(failed.status(), 503);
        assert_eq!(failed.headers()["retry-after"], "7");
        assert!(failed.text().await.unwrap_or_default().contains("<html>"));
    }
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/user/", None)
            .await
            .status(),
        200
    );
    // Faulted requests are counted.
    assert_eq!(emulator.stats().by_route.get("GET /api/v1/user/"), Some(&3));
    let listed: Value = control(&client, &emulator, M::GET, "faults", json!(null))
        .await
        .json()
        .await
        .expect("faults");
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(0));

    let too_many = control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 429, "retry_after_s": 1, "count": 1}),
    )
    .await;
    assert_eq!(too_many.status(), 201);
    let limited = api(&client, &emulator, M::GET, "/api/v1/user/", None).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");
    let body: Value = limited.json().await.expect("429 json");
    assert_eq!(body["status"], 429);
}

#[tokio::test]
async fn fraction_faults() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    // Every request, then none.
    for (fraction, expected) in [(1.0, 500), (0.0, 200)] {
        control(
            &client,
            &emulator,
            M::POST,
            "faults",
            json!({"status": 500, "fraction": fraction}),
        )
        .await;
        for _ in 0..5 {
            let status = api(&client, &emulator, M::GET, "/api/v1/user/", None)
                .await
                .status();
            assert_eq!(status, expected, "fraction {fraction}");
        }
        let cleared = control(&client, &emulator, M::DELETE, "faults", json!(null)).await;
        assert_eq!(cleared.status(), 204);
    }

    control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 502, "fraction": 0.5}),
    )
    .await;
    let mut failed = 0;
    for _ in 0..200 {
        if api(&client, &emulator, M::GET, "/api/v1/user/", None)
            .await
            .status()
            == 502
        {
            failed += 1;
        }
    }
    assert!(
        (40..=160).contains(&failed),
        "{failed} of 200 failed with fraction 0.5"
    );

    let invalid = control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 500, "fraction": 1.5}),
    )
    .await;
    assert_eq!(invalid.status(), 400);
}

#[tokio::test]
async fn drop_connection_closes_without_response() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"drop_connection": true, "count": 1}),
    )
    .await;
    let dropped = client
        .get(format!("{}/api/v1/user/", emulator.url()))
        .bearer_auth(TOKEN)
        .send()
        .await;
    let error = dropped.expect_err("the connection should be closed without a response");
    assert!(!error.is_timeout(), "closed, not timed out: {error}");
    // The server keeps serving new connections.
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/user/", None)
            .await
            .status(),
        200
    );
    assert_eq!(emulator.stats().total, 2);
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"latency_ms": 300, "count": 1}),
    )
    .await;
    let started = Instant::now();
    let slow = api(&client, &emulator, M::GET, "/api/v1/user/", None).await;
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/user/", None)
            .await
            .status(),
        200
    );
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn repository_list_pages_by_100() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/",
        Some(json!({"name": "big"})),
    )
    .await;
    for i in 0..150 {
        let repo = json!({"namespace": "big", "repository": format!("r{i:03}"), "visibility": "private", "description": ""});
        assert_eq!(
            api(
                &client,
                &emulator,
                M::POST,
                "/api/v1/repository",
                Some(repo)
            )
            .await
            .status(),
            201
        );
    }
    let first: Value = api(
        &client,
        &emulator,
        M::GET,
        "/api/v1/repository?namespace=big",
        None,
    )
    .await
    .json()
    .await
    .expect("page 1");
    assert_eq!(first["repositories"].as_array().map(Vec::len), Some(100));
    let next = first["next_page"].as_str().expect("next_page token");
    let second: Value = api(
        &client,
        &emulator,
        M::GET,
        &format!("/api/v1/repository?namespace=big&next_page={next}"),
        None,
    )
    .await
    .json()
    .await
    .expect("page 2");
    assert_eq!(second["repositories"].as_array().map(Vec::len), Some(50));
    assert!(second.get("next_page").is_none());
    assert_eq!(second["repositories"][0]["name"], "r100");
}

#[tokio::test]
async fn superuser_quota_endpoints_for_users_and_organizations() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    control(
        &client,
        &emulator,
        M::POST,
        "users",
        json!({"username": "dev", "email": "dev@example.com"}),
    )
    .await;
    let created = api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/superuser/users/dev/quota",
        Some(json!({"limit": "2 GiB"})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let again = api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/superuser/users/dev/quota",
        Some(json!({"limit_bytes": 5})),
    )
    .await;
    assert_eq!(again.status(), 400);
    let list: Value = api(
        &client,
        &emulator,
        M::GET,
        "/api/v1/superuser/users/dev/quota",
        None,
    )
    .await
    .json()
    .await
    .expect("quota list");
    assert_eq!(list[0]["limit_bytes"], 2_147_483_648_i64);
    assert_eq!(list[0]["limit"], "2.0 GiB");
    let id = list[0]["id"].as_u64().expect("integer id");
    let changed: Value = api(
        &client,
        &emulator,
        M::PUT,
        &format!("/api/v1/superuser/users/dev/quota/{id}"),
        Some(json!({"limit_bytes": 1024})),
    )
    .await
    .json()
    .await
    .expect("quota view");
    assert_eq!(changed["limit"], "1.0 KiB");
    // An organization's endpoint does not serve users.
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/superuser/organization/dev/quota",
            None
        )
        .await
        .status(),
        404
    );
    let deleted = api(
        &client,
        &emulator,
        M::DELETE,
        &format!("/api/v1/superuser/users/dev/quota/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);

    // Organization quota writes need FEATURE_SUPERUSERS_FULL_ACCESS, switchable at run time.
    api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    let denied = api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/acme/quota",
        Some(json!({"limit_bytes": 1000})),
    )
    .await;
    assert_eq!(denied.status(), 403);
    control(
        &client,
        &emulator,
        M::POST,
        "config",
        json!({"superusers_full_access": true}),
    )
    .await;
    let allowed = api(
        &client,
        &emulator,
        M::POST,
        "/api/v1/organization/acme/quota",
        Some(json!({"limit_bytes": 1000})),
    )
    .await;
    assert_eq!(allowed.status(), 201);
}

#[tokio::test]
async fn stats_count_client_and_server_errors() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    assert_eq!(
        api(
            &client,
            &emulator,
            M::GET,
            "/api/v1/organization/nosuch",
            None
        )
        .await
        .status(),
        404
    );
    control(
        &client,
        &emulator,
        M::POST,
        "faults",
        json!({"status": 503, "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let failed = api(&client, &emulator, M::GET, "/api/v1/user/", None).await;
        assert_eq!(failed.status(), 503);
    }
    assert_eq!(
        api(&client, &emulator, M::GET, "/api/v1/user/", None)
            .await
            .status(),
        200
    );
    let stats = emulator.stats();
    assert_eq!(stats.total, 4);
    assert_eq!(stats.client_errors, 1);
    assert_eq!(stats.server_errors, 2);
    assert_eq!(stats.errors(), 3);
    // Calls one after the other: never more than one in flight.
    assert_eq!(stats.peak_in_flight, 1);
    // No cost model: no call holds a worker.
    assert_eq!(stats.peak_served, 0);
}

/// Polls the emulator's stats until `done` holds (fails after a generous deadline).
async fn wait_for_stats(emulator: &Emulator, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
    for _ in 0..1000 {
        let stats = emulator.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("stats never showed {what}: {:?}", emulator.stats());
}

#[tokio::test]
async fn cost_model_serves_calls_with_a_token_on_at_most_n_workers() {
    let (emulator, client) = start().await;
    assert_eq!(emulator.cost_model(), None);
    emulator.set_cost_model(Some(CostModel {
        workers: 1,
        request_cost: Duration::from_millis(20),
    }));
    let calls = (0..4).map(|_| {
        let client = client.clone();
        let url = format!("{}/api/v1/user/", emulator.url());
        tokio::spawn(async move { client.get(url).bearer_auth(TOKEN).send().await })
    });
    for call in futures::future::join_all(calls).await {
        let response = call.expect("task").expect("answer");
        assert_eq!(response.status(), 200);
    }
    let stats = emulator.stats();
    assert_eq!(stats.total, 4);
    assert_eq!(stats.peak_served, 1, "one worker serves one call at a time");
    assert!((1..=4).contains(&stats.peak_in_flight), "{stats:?}");
    assert_eq!(stats.errors(), 0);
}

#[tokio::test]
async fn cost_model_queues_calls_and_lets_free_calls_pass() {
    let (emulator, client) = start().await;
    // A cost no call finishes paying within the test: the first call holds the
    // only worker, the next ones wait for it.
    emulator.set_cost_model(Some(CostModel {
        workers: 1,
        request_cost: Duration::from_secs(3600),
    }));
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/api/v1/user/", emulator.url());
            tokio::spawn(async move { client.get(url).bearer_auth(TOKEN).send().await })
        })
        .collect();
    let stats = wait_for_stats(&emulator, "3 calls in flight", |s| s.peak_in_flight == 3).await;
    assert_eq!(stats.peak_served, 1, "{stats:?}");

    // Calls without a token the emulator knows, and the control API, are free.
    let anonymous = client
        .get(format!("{}/api/v1/discovery", emulator.url()))
        .send()
        .await
        .expect("discovery");
    assert_eq!(anonymous.status(), 200);
    let unknown = client
        .get(format!("{}/api/v1/user/", emulator.url()))
        .bearer_auth("not-a-known-token")
        .send()
        .await
        .expect("unknown token");
    assert_eq!(unknown.status(), 401);
    let from_endpoint: Stats = control(
        &client,
        &emulator,
        reqwest::Method::GET,
        "stats",
        json!(null),
    )
    .await
    .json()
    .await
    .expect("stats json");
    assert_eq!(from_endpoint.peak_served, 1);

    // Without a cost model new calls are answered at once; the waiting ones keep waiting.
    emulator.set_cost_model(None);
    assert_eq!(emulator.cost_model(), None);
    assert_eq!(
        api(
            &client,
            &emulator,
            reqwest::Method::GET,
            "/api/v1/user/",
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(emulator.stats().peak_served, 1);
    assert!(waiting.iter().all(|call| !call.is_finished()));
    for call in waiting {
        call.abort();
    }
}

#[tokio::test]
async fn cost_model_through_the_control_api() {
    let (emulator, client) = start().await;
    use reqwest::Method as M;
    let set = control(
        &client,
        &emulator,
        M::POST,
        "config",
        json!({"workers": 2, "request_cost": "190ms"}),
    )
    .await;
    assert_eq!(set.status(), 200);
    let body: Value = set.json().await.expect("config json");
    assert_eq!(
        body,
        json!({"superusers_full_access": false, "mailing": false, "outside_dns": true,
            "workers": 2, "request_cost": "190ms"})
    );
    assert_eq!(
        emulator.cost_model(),
        Some(CostModel {
            workers: 2,
            request_cost: Duration::from_millis(190),
        })
    );
    // Fields left out keep their value.
    let body: Value = control(
        &client,
        &emulator,
        M::POST,
        "config",
        json!({"superusers_full_access": true, "request_cost": "1s 500ms"}),
    )
    .await
    .json()
    .await
    .expect("config json");
    assert_eq!(
        body,
        json!({"superusers_full_access": true, "mailing": false, "outside_dns": true,
            "workers": 2, "request_cost": "1s 500ms"})
    );
    let body: Value = control(&client, &emulator, M::POST, "config", json!({}))
        .await
        .json()
        .await
        .expect("config json");
    assert_eq!(body["superusers_full_access"], true);
    assert_eq!(body["workers"], 2);
    // Reset keeps the cost model.
    control(&client, &emulator, M::POST, "reset", json!({})).await;
    assert_eq!(emulator.cost_model().map(|m| m.workers), Some(2));

    let off: Value = control(&client, &emulator, M::POST, "config", json!({"workers": 0}))
        .await
        .json()
        .await
        .expect("config json");
    assert_eq!(off["workers"], Value::Null);
    assert_eq!(off["request_cost"], Value::Null);
    assert_eq!(emulator.cost_model(), None);

    let half = control(&client, &emulator, M::POST, "config", json!({"workers": 3})).await;
    assert_eq!(half.status(), 400, "a cost model needs a request cost too");
    let bad = control(
        &client,
        &emulator,
        M::POST,
        "config",
        json!({"workers": 1, "request_cost": "soon"}),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let unknown = control(&client, &emulator, M::POST, "config", json!({"cost": 1})).await;
    assert!(unknown.status().is_client_error());
    assert_eq!(emulator.cost_model(), None);
}
