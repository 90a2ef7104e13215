//! The emulator's audit log: every write it supports leaves the entry Quay
//! records for it (kind and metadata keys), in the organization's, the
//! repository's or the user's log; who may read which log; the query quirks
//! the recording did not cover. (The recorded exchanges themselves are
//! replayed in `replay.rs`.)

use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "logs-test-token";

/// The metadata keys every change made with one of the emulator's (OAuth)
/// tokens carries.
const TOKEN_KEYS: [&str; 3] = [
    "oauth_token_id",
    "oauth_token_application_id",
    "oauth_token_application",
];

struct Api {
    emulator: Emulator,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let emulator = Emulator::start(EmulatorConfig {
            token: Some(TOKEN.to_owned()),
            superusers_full_access: true,
            mailing: false,
        })
        .await
        .expect("start emulator");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Api { emulator, http }
    }

    /// Calls the API with `token`: (status, JSON body or Null).
    async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.emulator.url()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Calls the API as the superuser, expecting success.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call_as(TOKEN, method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call_as(TOKEN, Method::GET, path, None).await
    }

    /// The newest entries of a log (first page), as (kind, metadata); none
    /// for a namespace (400) or repository (404) that does not exist yet.
    async fn newest(&self, log: &str) -> Vec<(String, Value)> {
        let (status, page) = self.get(log).await;
        let missing_namespace = page["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid namespace requested"));
        if (status == 400 && missing_namespace) || status == 404 {
            return Vec::new();
        }
        assert_eq!(status, 200, "{log}: {page}");
        page["logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_owned(),
                    e["metadata"].clone(),
                )
            })
            .collect()
    }

    /// Makes a write and checks the entries it added on top of `log`:
    /// their kinds (newest first) and metadata keys besides the token's.
    async fn expect_logged(
        &self,
        (method, path, body): (Method, &str, Option<Value>),
        log: &str,
        expected: &[(&str, &[&str])],
    ) -> Vec<Value> {
        let before = self.newest(log).await;
        self.ok(method.clone(), path, body).await;
        let after = self.newest(log).await;
        assert_eq!(
            after.len(),
            (before.len() + expected.len()).min(20),
            "{method} {path}: {after:?}"
        );
        let (added, older) = after.split_at(expected.len());
        assert_eq!(older, &before[..older.len()], "{method} {path}");
        let mut metadata = Vec::new();
        for ((kind, meta), (expected_kind, keys)) in added.iter().zip(expected) {
            assert_eq!(kind, expected_kind, "{method} {path}: {added:?}");
            let mut found: Vec<&str> = meta
                .as_object()
                .expect("metadata object")
                .keys()
                .map(String::as_str)
                .filter(|k| !TOKEN_KEYS.contains(k))
                .collect();
            found.sort_unstable();
            let mut wanted = keys.to_vec();
            wanted.sort_unstable();
            assert_eq!(found, wanted, "{method} {path}: {kind} {meta}");
            for key in TOKEN_KEYS {
                assert!(meta.get(key).is_some(), "{kind}: no {key} in {meta}");
            }
            metadata.push(meta.clone());
        }
        metadata
    }
}

#[tokio::test]
async fn every_write_leaves_quays_entry() {
    let api = Api::start().await;
    let org_log = "/organization/acme/logs";
    let repo_log = "/repository/acme/app/logs";
    let org = Some(json!({"name": "acme", "email": "acme@example.com"}));
    api.expect_logged(
        (Method::POST, "/organization/", org),
        org_log,
        &[("org_create", &["email", "namespace"])],
    )
    .await;
    let update =
        json!({"email": "new@example.com", "tag_expiration_s": 3600, "invoice_email": true});
    api.expect_logged(
        (Method::PUT, "/organization/acme", Some(update)),
        org_log,
        &[
            (
                "org_change_tag_expiration",
                &["tag_expiration", "namespace"],
            ),
            ("org_change_email", &["email", "namespace", "old_email"]),
            ("org_change_invoicing", &["invoice_email", "namespace"]),
        ],
    )
    .await;

    // Repositories.
    let repo = json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""});
    api.expect_logged(
        (Method::POST, "/repository", Some(repo)),
        repo_log,
        &[("create_repo", &["repo", "namespace"])],
    )
    .await;
    api.expect_logged(
        (
            Method::PUT,
            "/repository/acme/app",
            Some(json!({"description": "d"})),
        ),
        repo_log,
        &[(
            "set_repo_description",
            &["repo", "namespace", "description"],
        )],
    )
    .await;
    api.expect_logged(
        (
            Method::POST,
            "/repository/acme/app/changevisibility",
            Some(json!({"visibility": "public"})),
        ),
        repo_log,
        &[(
            "change_repo_visibility",
            &["repo", "namespace", "visibility"],
        )],
    )
    .await;
    api.expect_logged(
        (
            Method::PUT,
            "/repository/acme/app/changestate",
            Some(json!({"state": "READ_ONLY"})),
        ),
        repo_log,
        &[("change_repo_state", &["repo", "namespace", "state_changed"])],
    )
    .await;

    // Robots.
    let robot = Some(json!({"description": "bot", "unstructured_metadata": {"k": "v"}}));
    api.expect_logged(
        (Method::PUT, "/organization/acme/robots/bot", robot),
        org_log,
        &[(
            "create_robot",
            &["robot", "description", "unstructured_metadata"],
        )],
    )
    .await;
    api.expect_logged(
        (
            Method::POST,
            "/organization/acme/robots/bot/regenerate",
            None,
        ),
        org_log,
        &[("regenerate_robot_token", &["robot"])],
    )
    .await;

    // Repository permissions, of a robot and of a team.
    let write = Some(json!({"role": "write"}));
    let meta = api
        .expect_logged(
            (
                Method::PUT,
                "/repository/acme/app/permissions/user/acme+bot",
                write.clone(),
            ),
            repo_log,
            &[(
                "change_repo_permission",
                &["username", "repo", "namespace", "role"],
            )],
        )
        .await;
    assert_eq!(meta[0]["username"], "acme+bot");
    api.expect_logged(
        (
            Method::DELETE,
            "/repository/acme/app/permissions/user/acme+bot",
            None,
        ),
        repo_log,
        &[("delete_repo_permission", &["username", "repo", "namespace"])],
    )
    .await;

    // Teams and members.
    let team = Some(json!({"role": "member", "description": "Devs"}));
    api.expect_logged(
        (Method::PUT, "/organization/acme/team/devs", team.clone()),
        org_log,
        &[("org_create_team", &["team"])],
    )
    .await;
    // The same values again change nothing: nothing logged.
    let before = api.newest(org_log).await;
    api.ok(Method::PUT, "/organization/acme/team/devs", team)
        .await;
    assert_eq!(api.newest(org_log).await, before);
    api.expect_logged(
        (
            Method::PUT,
            "/organization/acme/team/devs",
            Some(json!({"role": "admin"})),
        ),
        org_log,
        &[("org_set_team_role", &["team", "role"])],
    )
    .await;
    api.expect_logged(
        (
            Method::PUT,
            "/organization/acme/team/devs/members/acme+bot",
            None,
        ),
        org_log,
        &[("org_add_team_member", &["member", "team"])],
    )
    .await;
    api.expect_logged(
        (
            Method::DELETE,
            "/organization/acme/team/devs/members/acme+bot",
            None,
        ),
        org_log,
        &[("org_remove_team_member", &["member", "team"])],
    )
    .await;
    api.expect_logged(
        (
            Method::PUT,
            "/repository/acme/app/permissions/team/devs",
            write,
        ),
        repo_log,
        &[("change_repo_permission", &["team", "repo", "role"])],
    )
    .await;
    api.expect_logged(
        (
            Method::DELETE,
            "/repository/acme/app/permissions/team/devs",
            None,
        ),
        repo_log,
        &[("delete_repo_permission", &["team", "repo"])],
    )
    .await;

    // Default permissions.
    let proto = json!({"delegate": {"kind": "team", "name": "devs"}, "role": "read"});
    let proto_keys: &[&str] = &[
        "prototypeid",
        "username",
        "activating_username",
        "role",
        "delegate_team",
    ];
    let (_, created) = api
        .call_as(
            TOKEN,
            Method::POST,
            "/organization/acme/prototypes",
            Some(proto),
        )
        .await;
    let id = created["id"].as_str().expect("prototype id").to_owned();
    let newest = api.newest(org_log).await;
    assert_eq!(newest[0].0, "create_prototype_permission");
    assert_eq!(newest[0].1["prototypeid"], id.as_str());
    let path = format!("/organization/acme/prototypes/{id}");
    let meta = api
        .expect_logged(
            (Method::PUT, &path, Some(json!({"role": "admin"}))),
            org_log,
            &[(
                "modify_prototype_permission",
                &[proto_keys, &["original_role"]].concat(),
            )],
        )
        .await;
    assert_eq!(meta[0]["original_role"], "read");
    assert_eq!(meta[0]["role"], "admin");
    api.expect_logged(
        (Method::DELETE, &path, None),
        org_log,
        &[("delete_prototype_permission", proto_keys)],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, "/organization/acme/team/devs", None),
        org_log,
        &[("org_delete_team", &["team"])],
    )
    .await;

    // Notifications.
    let hook = json!({"event": "repo_push", "method": "webhook", "config": {"url": "http://hooks.example.com/q"}, "eventConfig": {}});
    let (_, created) = api
        .call_as(
            TOKEN,
            Method::POST,
            "/repository/acme/app/notification/",
            Some(hook),
        )
        .await;
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    let notification_keys: &[&str] = &["repo", "namespace", "notification_id", "event", "method"];
    let path = format!("/repository/acme/app/notification/{uuid}");
    api.expect_logged(
        (Method::POST, &path, None),
        repo_log,
        &[("reset_repo_notification", notification_keys)],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, &path, None),
        repo_log,
        &[("delete_repo_notification", notification_keys)],
    )
    .await;

    // Quota and its limits.
    let quota_log = org_log;
    api.expect_logged(
        (
            Method::POST,
            "/organization/acme/quota",
            Some(json!({"limit_bytes": 1_u64 << 30})),
        ),
        quota_log,
        &[("org_create_quota", &["namespace", "limit_bytes", "limit"])],
    )
    .await;
    let (_, quotas) = api.get("/organization/acme/quota").await;
    let quota = quotas[0]["id"].as_u64().expect("quota id");
    let quota_path = format!("/organization/acme/quota/{quota}");
    api.expect_logged(
        (
            Method::PUT,
            &quota_path,
            Some(json!({"limit_bytes": 2_u64 << 30})),
        ),
        quota_log,
        &[(
            "org_change_quota",
            &["namespace", "limit_bytes", "previous_limit_bytes"],
        )],
    )
    .await;
    let limits = format!("{quota_path}/limit");
    api.expect_logged(
        (
            Method::POST,
            &limits,
            Some(json!({"type": "Warning", "threshold_percent": 80})),
        ),
        quota_log,
        &[(
            "org_create_quota_limit",
            &["namespace", "type", "threshold_percent"],
        )],
    )
    .await;
    let (_, listed) = api.get(&limits).await;
    let limit = format!("{limits}/{}", listed[0]["id"].as_u64().expect("limit id"));
    api.expect_logged(
        (Method::PUT, &limit, Some(json!({"threshold_percent": 90}))),
        quota_log,
        &[(
            "org_change_quota_limit",
            &[
                "namespace",
                "threshold_percent",
                "previous_threshold_percent",
            ],
        )],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, &limit, None),
        quota_log,
        &[(
            "org_delete_quota_limit",
            &["namespace", "limit_id", "type", "threshold_percent"],
        )],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, &quota_path, None),
        quota_log,
        &[(
            "org_delete_quota",
            &["namespace", "quota_id", "limit_bytes"],
        )],
    )
    .await;

    // Auto-prune policies of the organization and of the repository.
    let policy_keys: &[&str] = &[
        "method",
        "value",
        "tag_pattern",
        "tag_pattern_matches",
        "namespace",
    ];
    let policy = json!({"method": "number_of_tags", "value": 10});
    for (base, log, scope, extra) in [
        (
            "/organization/acme/autoprunepolicy/",
            org_log,
            "namespace",
            &[][..],
        ),
        (
            "/repository/acme/app/autoprunepolicy/",
            repo_log,
            "repository",
            &["repo"][..],
        ),
    ] {
        let (_, created) = api
            .call_as(TOKEN, Method::POST, base, Some(policy.clone()))
            .await;
        let uuid = created["uuid"].as_str().expect("policy uuid").to_owned();
        let newest = api.newest(log).await;
        assert_eq!(newest[0].0, format!("create_{scope}_autoprune_policy"));
        let path = format!("{base}{uuid}");
        let update_kind = format!("update_{scope}_autoprune_policy");
        let delete_kind = format!("delete_{scope}_autoprune_policy");
        api.expect_logged(
            (
                Method::PUT,
                &path,
                Some(json!({"method": "creation_date", "value": "7d"})),
            ),
            log,
            &[(update_kind.as_str(), &[policy_keys, extra].concat())],
        )
        .await;
        api.expect_logged(
            (Method::DELETE, &path, None),
            log,
            &[(
                delete_kind.as_str(),
                &[&["policy_uuid", "namespace"][..], extra].concat(),
            )],
        )
        .await;
    }

    // Mirroring: one entry per field, in Quay's order.
    api.ok(
        Method::PUT,
        "/repository/acme/app/changestate",
        Some(json!({"state": "NORMAL"})),
    )
    .await;
    let mirror = json!({
        "external_reference": "quay.io/prometheus/busybox",
        "sync_interval": 3600,
        "sync_start_date": "2026-12-01T00:00:00Z",
        "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["latest"]},
        "skopeo_timeout_interval": 300,
        "robot_username": "acme+bot",
    });
    let track_keys: &[&str] = &[
        "repo",
        "namespace",
        "user-agent",
        "changed",
        "to",
        "username",
        "resolved_ip",
    ];
    let meta = api
        .expect_logged(
            (Method::POST, "/repository/acme/app/mirror", Some(mirror)),
            repo_log,
            &[("repo_mirror_config_changed", track_keys)],
        )
        .await;
    assert_eq!(meta[0]["changed"], "external_reference");
    let update = json!({
        "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["v*"]},
        "sync_interval": 7200,
        "is_enabled": false,
        "external_registry_config": {"verify_tls": false, "proxy": {"https_proxy": "http://proxy:3128"}},
        "external_registry_username": "user",
        "external_registry_password": "secret",
    });
    let changed = [
        ("mirror_rule", json!(["v*"])),
        ("https_proxy", json!("http://proxy:3128")),
        ("verify_tls", json!(false)),
        ("external_registry_password", json!("********")),
        ("external_registry_username", json!("user")),
        ("sync_interval", json!(7200)),
        ("is_enabled", json!(false)),
    ];
    let kinds = vec![("repo_mirror_config_changed", track_keys); changed.len()];
    let meta = api
        .expect_logged(
            (Method::PUT, "/repository/acme/app/mirror", Some(update)),
            repo_log,
            &kinds,
        )
        .await;
    for (meta, (field, to)) in meta.iter().zip(&changed) {
        assert_eq!(meta["changed"], *field, "{meta}");
        assert_eq!(meta["to"], *to, "{meta}");
    }
    for (path, to) in [("sync-now", "SYNC_NOW"), ("sync-cancel", "SYNC_CANCEL")] {
        let meta = api
            .expect_logged(
                (
                    Method::POST,
                    &format!("/repository/acme/app/mirror/{path}"),
                    None,
                ),
                repo_log,
                &[("repo_mirror_config_changed", track_keys)],
            )
            .await;
        assert_eq!(meta[0]["changed"], "sync_status");
        assert_eq!(meta[0]["to"], to);
    }

    // Proxy cache.
    api.expect_logged(
        (
            Method::POST,
            "/organization/acme/proxycache",
            Some(json!({"upstream_registry": "quay.io"})),
        ),
        org_log,
        &[("create_proxy_cache_config", &["upstream_registry"])],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, "/organization/acme/proxycache", None),
        org_log,
        &[("delete_proxy_cache_config", &[])],
    )
    .await;

    // Deleting the repository (its entries stay in the organization's log,
    // delete_repo without a repository link), then its mirror robot.
    api.expect_logged(
        (Method::DELETE, "/repository/acme/app", None),
        org_log,
        &[("delete_repo", &["repo", "namespace"])],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, "/organization/acme/robots/bot", None),
        org_log,
        &[("delete_robot", &["robot"])],
    )
    .await;
    api.ok(Method::POST, "/repository", Some(json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""})))
        .await;
    assert_eq!(
        api.newest(repo_log).await.len(),
        1,
        "a repository created again has only its own entries"
    );

    // A deleted organization's log goes with it.
    api.ok(Method::DELETE, "/organization/acme", None).await;
    api.ok(
        Method::POST,
        "/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    let again = api.newest(org_log).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1["email"], Value::Null, "no e-mail given");
}

#[tokio::test]
async fn user_namespace_writes_are_in_the_user_log() {
    let api = Api::start().await;
    let user_log = "/user/logs";
    api.expect_logged(
        (
            Method::PUT,
            "/user/robots/mine",
            Some(json!({"description": "mine"})),
        ),
        user_log,
        &[(
            "create_robot",
            &["robot", "description", "unstructured_metadata"],
        )],
    )
    .await;
    api.expect_logged(
        (Method::DELETE, "/user/robots/mine", None),
        user_log,
        &[("delete_robot", &["robot"])],
    )
    .await;
    // A new user's log starts with its creation by the superuser.
    api.ok(
        Method::POST,
        "/superuser/users/",
        Some(json!({"username": "bob", "email": "bob@example.com"})),
    )
    .await;
    api.ok(
        Method::POST,
        "/organization/",
        Some(json!({"name": "bobs"})),
    )
    .await;
    let (status, answer) = api.get("/organization/bob/logs").await;
    assert_eq!(status, 200, "a full-access superuser reads any namespace");
    let entries = answer["logs"].as_array().expect("logs");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "user_create");
    assert_eq!(entries[0]["metadata"]["superuser"], "quayadmin");
    // The caller's own log shows neither bob's nor the organization's entries.
    let mine = api.newest(user_log).await;
    assert!(
        mine.iter()
            .all(|(kind, _)| kind != "user_create" && kind != "org_create")
    );
}

#[tokio::test]
async fn who_may_read_which_log() {
    let api = Api::start().await;
    api.ok(
        Method::POST,
        "/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    let control = |what: &str| format!("{}/__emulator/{what}", api.emulator.url());
    api.http
        .post(control("users"))
        .json(&json!({"username": "dev"}))
        .send()
        .await
        .unwrap();
    let minted: Value = api
        .http
        .post(control("tokens"))
        .json(&json!({"username": "dev"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dev = minted["token"].as_str().unwrap().to_owned();
    let (status, _) = api
        .call_as(&dev, Method::GET, "/organization/acme/logs", None)
        .await;
    assert_eq!(status, 403, "only org admins read an organization's log");
    let (status, page) = api.call_as(&dev, Method::GET, "/user/logs", None).await;
    assert_eq!((status, page["logs"].clone()), (200, json!([])));

    // An org:admin-less token may not read it either, even as the org's admin.
    let minted: Value = api
        .http
        .post(control("tokens"))
        .json(&json!({"username": "quayadmin", "scopes": ["repo:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let read_only = minted["token"].as_str().unwrap().to_owned();
    let (status, _) = api
        .call_as(&read_only, Method::GET, "/organization/acme/logs", None)
        .await;
    assert_eq!(status, 403);

    // Anonymous callers are asked to authenticate.
    let anonymous = api
        .http
        .get(format!(
            "{}/api/v1/organization/acme/logs",
            api.emulator.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

#[tokio::test]
async fn query_quirks() {
    let api = Api::start().await;
    api.ok(
        Method::POST,
        "/organization/",
        Some(json!({"name": "acme"})),
    )
    .await;
    // The performer filter: a known user filters, an unknown one makes Quay's
    // list call fail (its logs model asserts the user exists) while the
    // aggregate ignores it.
    let (status, page) = api.get("/organization/acme/logs?performer=quayadmin").await;
    assert_eq!(status, 200);
    assert_eq!(page["logs"].as_array().map(Vec::len), Some(1));
    let (status, _) = api.get("/organization/acme/logs?performer=nobody").await;
    assert_eq!(status, 500);
    let (status, counts) = api
        .get("/organization/acme/aggregatelogs?performer=nobody")
        .await;
    assert_eq!(status, 200);
    assert_eq!(counts["aggregated"][0]["count"], 1);

    // Only a start: until tomorrow; only an end: from yesterday.
    let (status, page) = api
        .get("/organization/acme/logs?starttime=01/01/2025")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["start_time"], "Wed, 01 Jan 2025 00:00:00 -0000");
    assert_eq!(page["logs"].as_array().map(Vec::len), Some(1));
    // A window of exactly 30 days is fine, 31 is too long.
    let (status, _) = api
        .get("/organization/acme/aggregatelogs?starttime=11/01/2026&endtime=11/30/2026")
        .await;
    assert_eq!(status, 200);
    let (status, answer) = api
        .get("/organization/acme/aggregatelogs?starttime=11/01/2026&endtime=12/01/2026")
        .await;
    assert_eq!(
        (status, answer),
        (400, json!({"message": "Invalid date range for logs"}))
    );
    // The long-range check comes before the namespace check.
    let (status, answer) = api
        .get("/organization/nosuch/aggregatelogs?starttime=01/01/2026&endtime=11/30/2026")
        .await;
    assert_eq!(
        (status, answer),
        (400, json!({"message": "Invalid date range for logs"}))
    );
    // With a trailing slash the paths are unknown: the UI's 404 page.
    api.ok(
        Method::POST,
        "/repository",
        Some(json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""})),
    )
    .await;
    for path in [
        "/organization/acme/logs/",
        "/organization/acme/aggregatelogs/",
        "/repository/acme/app/logs/",
        "/repository/acme/app/aggregatelogs/",
        "/user/logs/",
        "/user/aggregatelogs/",
    ] {
        let response = api
            .http
            .get(format!("{}/api/v1{path}", api.emulator.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            (response.status().as_u16(), content_type.as_str()),
            (404, "text/html; charset=utf-8"),
            "{path}"
        );
    }
    // A start one day after the end is an empty window, not an error.
    let (status, page) = api
        .get("/organization/acme/logs?starttime=12/02/2026&endtime=12/01/2026")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["logs"], json!([]));
}
