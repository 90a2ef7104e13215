//! How Quay answers a superuser with FEATURE_SUPERUSERS_FULL_ACCESS for
//! organizations and repositories that do not exist: every row of
//! `shared/quay-observed/superuser-full-access.md` against the emulator with
//! full access on, and some of them with it off. The rows are also used by
//! the contract test `contract::full_access`, against a real Quay when one is
//! configured.

use std::path::PathBuf;
use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use reqwest::Method;
use serde_json::{Value, json};

/// What a row's answer must look like.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Exactly this JSON body.
    Json(Value),
    /// Quay's `not_found` problem JSON.
    NotFound,
    /// Quay's HTML "Internal Server Error" page.
    HtmlServerError,
    /// No body at all.
    Empty,
    /// A body whose text contains this.
    Contains(String),
}

/// One request of the table with its expected answer.
#[derive(Clone, Debug)]
pub struct Row {
    pub method: Method,
    /// Path and query.
    pub path: String,
    pub body: Option<Value>,
    pub status: u16,
    pub expect: Expect,
}

impl Row {
    /// `"METHOD path"`, how the markdown table starts each request.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The names the rows use.
pub struct Names {
    /// An existing organization the caller may administer.
    pub org: String,
    /// An organization that does not exist.
    pub missing_org: String,
    /// A repository that does not exist in `org`.
    pub missing_repo: String,
    /// An existing user (not a robot), e.g. the caller.
    pub user: String,
    /// Another organization that does not exist (notification target).
    pub unknown_org: String,
}

impl Names {
    /// The names of the markdown table.
    pub fn markdown() -> Names {
        Names {
            org: "org".to_owned(),
            missing_org: "nosuchorg".to_owned(),
            missing_repo: "nosuch".to_owned(),
            user: "admin".to_owned(),
            unknown_org: "x".to_owned(),
        }
    }
}

fn row(method: Method, path: String, body: Option<Value>, status: u16, expect: Expect) -> Row {
    Row {
        method,
        path,
        body,
        status,
        expect,
    }
}

/// Every row of the table, with full access on.
pub fn full_access_rows(n: &Names) -> Vec<Row> {
    use Expect::*;
    use Method as M;
    let (org, mo, mr) = (&n.org, &n.missing_org, &n.missing_repo);
    let repo = format!("/api/v1/repository/{mo}/r");
    let missing = format!("/api/v1/repository/{org}/{mr}");
    let orgpath = format!("/api/v1/organization/{mo}");
    let notification = |target: Value| {
        json!({
            "event": "repo_push",
            "method": "quay_notification",
            "config": {"target": target},
            "eventConfig": {},
            "title": "full access",
        })
    };
    let policy = json!({"method": "number_of_tags", "value": 10});
    vec![
        row(
            M::POST,
            "/api/v1/repository".to_owned(),
            Some(
                json!({"namespace": mo, "repository": "r", "visibility": "private", "description": ""}),
            ),
            500,
            HtmlServerError,
        ),
        row(
            M::GET,
            format!("{repo}/notification/"),
            None,
            200,
            Json(json!({"notifications": []})),
        ),
        row(
            M::GET,
            format!("{missing}/notification/"),
            None,
            200,
            Json(json!({"notifications": []})),
        ),
        row(
            M::POST,
            format!("{missing}/notification/"),
            Some(notification(json!({"kind": "user", "name": n.user}))),
            500,
            Empty,
        ),
        row(
            M::POST,
            format!("{repo}/notification/"),
            Some(notification(json!({"kind": "org", "name": n.unknown_org}))),
            400,
            Contains(format!("Unknown organization {}", n.unknown_org)),
        ),
        row(
            M::GET,
            format!("{missing}/permissions/user/"),
            None,
            200,
            Json(json!({"permissions": {}})),
        ),
        row(
            M::GET,
            format!("{repo}/permissions/team/"),
            None,
            200,
            Json(json!({"permissions": {}})),
        ),
        row(
            M::PUT,
            format!("{repo}/permissions/user/{}", n.user),
            Some(json!({"role": "read"})),
            500,
            HtmlServerError,
        ),
        row(
            M::POST,
            format!("{repo}/changevisibility"),
            Some(json!({"visibility": "public"})),
            200,
            Json(Value::Null),
        ),
        row(
            M::PUT,
            repo.clone(),
            Some(json!({"description": "changed"})),
            404,
            NotFound,
        ),
        row(
            M::PUT,
            format!("{repo}/changestate"),
            Some(json!({"state": "READ_ONLY"})),
            404,
            NotFound,
        ),
        row(M::DELETE, repo.clone(), None, 500, HtmlServerError),
        row(M::GET, missing.clone(), None, 404, NotFound),
        row(M::GET, format!("{missing}/mirror"), None, 404, NotFound),
        row(
            M::POST,
            format!("{repo}/mirror"),
            Some(json!({
                "is_enabled": true,
                "external_reference": "quay.io/example/app",
                "sync_interval": 3600,
                "sync_start_date": "2026-01-01T00:00:00Z",
                "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["latest"]},
                "skopeo_timeout_interval": 300,
                "robot_username": format!("{mo}+bot"),
            })),
            404,
            NotFound,
        ),
        row(
            M::GET,
            format!("{repo}/autoprunepolicy/"),
            None,
            404,
            NotFound,
        ),
        row(
            M::POST,
            format!("{repo}/autoprunepolicy/"),
            Some(policy.clone()),
            404,
            NotFound,
        ),
        row(
            M::GET,
            format!("/api/v1/repository?namespace={mo}"),
            None,
            200,
            Json(json!({"repositories": []})),
        ),
        row(M::GET, orgpath.clone(), None, 404, NotFound),
        row(
            M::GET,
            format!("{orgpath}/robots"),
            None,
            200,
            Json(json!({"robots": []})),
        ),
        row(
            M::PUT,
            format!("{orgpath}/robots/bot"),
            Some(json!({"description": "full access"})),
            400,
            Json(json!({"message": format!("Organization does not exist: {mo}")})),
        ),
        row(
            M::PUT,
            format!("{orgpath}/team/t"),
            Some(json!({"role": "member"})),
            400,
            Json(json!({"message": format!("Organization does not exist: {mo}")})),
        ),
        row(
            M::GET,
            format!("{orgpath}/team/t/members"),
            None,
            404,
            NotFound,
        ),
        row(M::GET, format!("{orgpath}/quota"), None, 404, NotFound),
        row(
            M::POST,
            format!("{orgpath}/quota"),
            Some(json!({"limit_bytes": 1_000_000})),
            404,
            NotFound,
        ),
        row(M::GET, format!("{orgpath}/prototypes"), None, 404, NotFound),
        row(
            M::POST,
            format!("{orgpath}/prototypes"),
            Some(json!({"role": "read", "delegate": {"kind": "user", "name": n.user}})),
            404,
            NotFound,
        ),
        row(
            M::GET,
            format!("{orgpath}/autoprunepolicy/"),
            None,
            200,
            Json(json!({"policies": []})),
        ),
        row(
            M::POST,
            format!("{orgpath}/autoprunepolicy/"),
            Some(policy),
            404,
            NotFound,
        ),
    ]
}

/// Sends every row with `token`; returns one line per mismatch.
pub async fn check_rows(base_url: &str, token: &str, rows: &[Row]) -> Vec<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut mismatches = Vec::new();
    for row in rows {
        let mut request = client
            .request(row.method.clone(), format!("{base_url}{}", row.path))
            .bearer_auth(token);
        if let Some(body) = &row.body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                mismatches.push(format!("{}: no answer: {err}", row.key()));
                continue;
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        let problem = match &row.expect {
            _ if status != row.status => Some(format!("status {status}, expected {}", row.status)),
            Expect::Json(expected) => match serde_json::from_str::<Value>(&text) {
                Ok(actual) if &actual == expected => None,
                _ => Some(format!("body {text:?}, expected {expected}")),
            },
            Expect::NotFound => match serde_json::from_str::<Value>(&text) {
                Ok(actual) if actual["error_type"] == "not_found" => None,
                _ => Some(format!(
                    "body {text:?}, expected the not_found problem JSON"
                )),
            },
            Expect::HtmlServerError => {
                if content_type.starts_with("text/html") && text.contains("Internal Server Error") {
                    None
                } else {
                    Some(format!(
                        "{content_type:?} body {text:?}, expected the HTML error page"
                    ))
                }
            }
            Expect::Empty => {
                (!text.trim().is_empty()).then(|| format!("body {text:?}, expected an empty body"))
            }
            Expect::Contains(part) => {
                (!text.contains(part.as_str())).then(|| format!("body {text:?}, expected {part:?}"))
            }
        };
        if let Some(problem) = problem {
            mismatches.push(format!("{}: {problem}", row.key()));
        }
    }
    mismatches
}

fn markdown_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("shared/quay-observed/superuser-full-access.md"))
        .unwrap_or_default()
}

/// The table rows of the markdown: (request column, status, body column).
fn markdown_rows(text: &str) -> Vec<(String, u16, String)> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            let [request, status, body] = cells.as_slice() else {
                return None;
            };
            let status = status.trim().trim_matches('*').parse().ok()?;
            Some((request.trim().to_owned(), status, body.trim().to_owned()))
        })
        .collect()
}

const TOKEN: &str = "full-access-test-token";

async fn start(full_access: bool) -> Emulator {
    let emulator = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: full_access,
        mailing: false,
    })
    .await
    .expect("start emulator");
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/organization/", emulator.url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "org"}))
        .send()
        .await
        .expect("create org");
    assert_eq!(created.status(), 201);
    let user = client
        .post(format!("{}/__emulator/users", emulator.url()))
        .json(&json!({"username": "admin", "email": "admin@example.com"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(user.status(), 201);
    emulator
}

#[test]
fn rows_cover_the_observed_table() {
    let path = markdown_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: {} not found", path.display());
        return;
    };
    let observed = markdown_rows(&text);
    let rows = full_access_rows(&Names::markdown());
    assert_eq!(observed.len(), rows.len(), "one test row per table row");
    for (request, status, body) in &observed {
        let row = rows
            .iter()
            .find(|r| request.starts_with(&format!("{} ", r.key())) || *request == r.key())
            .unwrap_or_else(|| panic!("no test row for {request:?}"));
        assert_eq!(row.status, *status, "{request}");
        // The first `...` of the body column, when it is JSON, is the exact body.
        let quoted = body.split('`').nth(1).unwrap_or_default();
        match serde_json::from_str::<Value>(quoted) {
            Ok(json) => assert_eq!(row.expect, Expect::Json(json), "{request}"),
            Err(_) if body.contains("HTML") => {
                assert_eq!(row.expect, Expect::HtmlServerError, "{request}")
            }
            Err(_) if body.contains("empty body") => assert_eq!(row.expect, Expect::Empty),
            Err(_) if body.contains("not_found") => {
                assert_eq!(row.expect, Expect::NotFound, "{request}")
            }
            Err(_) => match &row.expect {
                Expect::Contains(part) => assert!(body.contains(part.as_str()), "{request}"),
                other => panic!("{request}: body {body:?} vs {other:?}"),
            },
        }
    }
}

#[tokio::test]
async fn every_row_with_full_access() {
    let emulator = start(true).await;
    let mismatches = check_rows(
        &emulator.url(),
        TOKEN,
        &full_access_rows(&Names::markdown()),
    )
    .await;
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Nothing was created along the way.
    let after = [
        row(
            Method::GET,
            "/api/v1/organization/nosuchorg".to_owned(),
            None,
            404,
            Expect::NotFound,
        ),
        row(
            Method::GET,
            "/api/v1/repository?namespace=org".to_owned(),
            None,
            200,
            Expect::Json(json!({"repositories": []})),
        ),
        row(
            Method::GET,
            "/api/v1/repository?namespace=nosuchorg".to_owned(),
            None,
            200,
            Expect::Json(json!({"repositories": []})),
        ),
    ];
    let mismatches = check_rows(&emulator.url(), TOKEN, &after).await;
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(emulator.stats().server_errors, 4, "the table's four 500s");
}

#[tokio::test]
async fn without_full_access_missing_objects_stay_404_or_403() {
    let emulator = start(false).await;
    use Expect::*;
    use Method as M;
    let missing = "/api/v1/repository/org/nosuch";
    let rows = vec![
        row(
            M::GET,
            format!("{missing}/notification/"),
            None,
            404,
            NotFound,
        ),
        row(
            M::POST,
            format!("{missing}/notification/"),
            Some(json!({
                "event": "repo_push",
                "method": "quay_notification",
                "config": {"target": {"kind": "user", "name": "admin"}},
                "eventConfig": {},
            })),
            404,
            NotFound,
        ),
        row(
            M::GET,
            format!("{missing}/permissions/user/"),
            None,
            404,
            NotFound,
        ),
        row(
            M::PUT,
            format!("{missing}/permissions/user/admin"),
            Some(json!({"role": "read"})),
            404,
            NotFound,
        ),
        row(
            M::POST,
            format!("{missing}/changevisibility"),
            Some(json!({"visibility": "public"})),
            404,
            NotFound,
        ),
        // A missing repository in an existing namespace: 204, as recorded.
        row(M::DELETE, missing.to_owned(), None, 204, Empty),
        // A namespace the superuser has no role in is refused before it is looked up.
        row(
            M::GET,
            "/api/v1/organization/nosuchorg/robots".to_owned(),
            None,
            403,
            Contains("insufficient_scope".to_owned()),
        ),
        row(
            M::PUT,
            "/api/v1/organization/nosuchorg/team/t".to_owned(),
            Some(json!({"role": "member"})),
            403,
            Contains("insufficient_scope".to_owned()),
        ),
        row(
            M::POST,
            "/api/v1/repository".to_owned(),
            Some(
                json!({"namespace": "nosuchorg", "repository": "r", "visibility": "private", "description": ""}),
            ),
            403,
            Contains("insufficient_scope".to_owned()),
        ),
    ];
    let mismatches = check_rows(&emulator.url(), TOKEN, &rows).await;
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn full_access_needs_the_super_user_scope_and_follows_the_flag() {
    let emulator = start(false).await;
    let client = reqwest::Client::new();
    let list = Row {
        method: Method::GET,
        path: "/api/v1/repository/org/nosuch/notification/".to_owned(),
        body: None,
        status: 404,
        expect: Expect::NotFound,
    };
    let empty = Row {
        status: 200,
        expect: Expect::Json(json!({"notifications": []})),
        ..list.clone()
    };
    assert_eq!(
        check_rows(&emulator.url(), TOKEN, std::slice::from_ref(&list)).await,
        Vec::<String>::new()
    );
    let switched = client
        .post(format!("{}/__emulator/config", emulator.url()))
        .json(&json!({"superusers_full_access": true}))
        .send()
        .await
        .expect("config");
    assert_eq!(switched.status(), 200);
    assert_eq!(
        check_rows(&emulator.url(), TOKEN, std::slice::from_ref(&empty)).await,
        Vec::<String>::new()
    );
    // The same superuser with a token lacking super:user has no full access.
    let minted: Value = client
        .post(format!("{}/__emulator/tokens", emulator.url()))
        .json(&json!({"username": "quayadmin", "scopes": ["repo:admin", "org:admin"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let limited = minted["token"].as_str().expect("token string");
    assert_eq!(
        check_rows(&emulator.url(), limited, std::slice::from_ref(&list)).await,
        Vec::<String>::new()
    );
}
