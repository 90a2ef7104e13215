//! Replays the exchanges recorded from a real Quay 3.18 (`shared/quay-observed/transcript.json`)
//! against an empty in-process emulator and checks that every answer has the same
//! status code, the same Content-Type, and the same *shape*: JSON keys and value
//! types recursively (array elements are matched against the recorded elements
//! in any order, and arrays must have the same length), or for non-JSON bodies
//! the same kind (HTML, text, empty). Scalar values are compared too, except
//! for generated ones ([`GENERATED_KEYS`]: ids, secrets, timestamps, robot
//! avatars), so roles, states, counts, names and error messages (including the
//! jsonschema dumps) must be equal.
//!
//! Secrets in the recording are placeholders. `<token>` is the token the
//! emulator's `POST /api/v1/user/initialize` returns; the OAuth tokens the
//! recording minted (`<devuser-token>`, `<readonly-token>`, `<expiring-token>`)
//! are minted through `POST /__emulator/tokens` with the user, scopes and
//! lifetime of the recorded mint. Requests made with devuser's browser session
//! are sent with devuser's token instead. Ids and uuids the server generated
//! (prototype ids, notification and policy uuids, quota and limit ids) are
//! mapped from the recorded values to the ones the emulator returned.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

/// Exchanges not replayed, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "get CSRF token (session cookie)",
        "browser session / CSRF cookie flow; the operator only uses bearer tokens",
    ),
    (
        "sign in without CSRF header",
        "browser session sign-in; the operator only uses bearer tokens",
    ),
    (
        "sign in with CSRF header",
        "browser session sign-in; the operator only uses bearer tokens",
    ),
    (
        "devuser creates an OAuth application",
        "OAuth application management; tokens come from POST /__emulator/tokens",
    ),
    (
        "devuser mints an OAuth token for itself",
        "OAuth token minting; replaced by POST /__emulator/tokens",
    ),
    (
        "quayadmin creates an OAuth application in acme",
        "OAuth application management; tokens come from POST /__emulator/tokens",
    ),
    (
        "mint a repo:read-only token",
        "OAuth token minting; replaced by POST /__emulator/tokens",
    ),
    (
        "mint a token with an unknown scope",
        "OAuth token minting (POST /__emulator/tokens rejects unknown scopes with 400 too)",
    ),
    (
        "mint a token that expires after 1 second",
        "OAuth token minting; replaced by POST /__emulator/tokens",
    ),
    (
        "create proxy cache config (anonymous upstream)",
        "proxy cache: Quay failed only because the recording host had no DNS; the emulator stores the config",
    ),
    (
        "create again",
        "proxy cache: Quay failed only because the recording host had no DNS; the emulator stores the config",
    ),
    (
        "get proxy cache config",
        "proxy cache: follows the skipped creation (the emulator has a config here, Quay had none)",
    ),
    (
        "delete proxy cache config",
        "proxy cache: follows the skipped creation (the emulator has a config here, Quay had none)",
    ),
];

/// Exchanges compared on their top-level keys only, with the reason.
const SHALLOW: &[(&str, &str)] = &[(
    "Swagger 2.0 spec of the API (saved separately as discovery.json)",
    "the emulator's discovery document lists only the paths it implements",
)];

fn transcript_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("shared/quay-observed/transcript.json"))
        .unwrap_or_default()
}

/// Kind of body, for non-JSON comparisons.
fn body_kind(text: &str) -> &'static str {
    let t = text.trim_start();
    if t.is_empty() {
        "empty"
    } else if t.starts_with('<') {
        "html"
    } else {
        "text"
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keys whose values are generated (ids, secrets, timestamps, robot avatars), so
/// only their type is compared; every other scalar value must be equal.
const GENERATED_KEYS: &[&str] = &[
    "uuid",
    "id",
    "token",
    "access_token",
    "encrypted_password",
    "password",
    "client_id",
    "client_secret",
    "status_token",
    "created",
    "expires_at",
    "last_accessed",
    "hash",
    "color",
];

fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or_default()
}

fn same_value(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        // Problem `type` URLs name the server's own address.
        (Value::String(e), Value::String(a))
            if e.starts_with("http://") && a.starts_with("http://") =>
        {
            e.splitn(4, '/').nth(3) == a.splitn(4, '/').nth(3)
        }
        _ => expected == actual,
    }
}

/// Shape differences of `actual` against `expected`, as readable strings.
fn shape_diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    let is_scalar = !expected.is_object() && !expected.is_array();
    if is_scalar
        && !GENERATED_KEYS.contains(&last_key(path))
        && type_name(expected) == type_name(actual)
        && !same_value(expected, actual)
    {
        out.push(format!("{path}: value {actual}, expected {expected}"));
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key}: missing"));
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{key}: unexpected"));
            }
            for (key, ev) in e {
                if let Some(av) = a.get(key) {
                    shape_diff(ev, av, &format!("{path}.{key}"), out);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: {} elements, expected {}",
                    a.len(),
                    e.len()
                ));
            }
            if e.is_empty() {
                return;
            }
            for (i, av) in a.iter().enumerate() {
                let fits_some = e.iter().any(|ev| {
                    let mut d = Vec::new();
                    shape_diff(ev, av, "", &mut d);
                    d.is_empty()
                });
                if !fits_some {
                    let reference = e.get(i).unwrap_or(&e[0]);
                    shape_diff(reference, av, &format!("{path}[{i}]"), out);
                }
            }
        }
        (e, a) if type_name(e) != type_name(a) => {
            out.push(format!(
                "{path}: {} instead of {}",
                type_name(a),
                type_name(e)
            ));
        }
        _ => {}
    }
}

/// Recorded -> emulator values of generated ids.
#[derive(Default)]
struct IdMap(HashMap<(String, String), String>);

impl IdMap {
    fn learn(&mut self, expected: &Value, actual: &Value, kind: &str) {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (key, ev) in e {
                    let Some(av) = a.get(key) else { continue };
                    match (key.as_str(), ev, av) {
                        ("id" | "uuid" | "client_id", Value::String(es), Value::String(as_)) => {
                            self.0
                                .entry((String::new(), es.clone()))
                                .or_insert_with(|| as_.clone());
                        }
                        ("id", Value::Number(en), Value::Number(an)) => {
                            self.0
                                .entry((kind.to_string(), en.to_string()))
                                .or_insert_with(|| an.to_string());
                        }
                        ("limits", _, _) => self.learn(ev, av, "limit"),
                        _ => self.learn(ev, av, kind),
                    }
                }
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                for (ev, av) in e.iter().zip(a) {
                    self.learn(ev, av, kind);
                }
            }
            _ => {}
        }
    }

    /// `value` with recorded string ids (inside any string) replaced by the emulator's.
    fn rewrite(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => {
                let mut s = s.clone();
                for ((kind, recorded), actual) in &self.0 {
                    if kind.is_empty() && s.contains(recorded.as_str()) {
                        s = s.replace(recorded.as_str(), actual);
                    }
                }
                Value::String(s)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.rewrite(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.rewrite(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn map_path(&self, path: &str) -> String {
        let (path, query) = path
            .split_once('?')
            .map_or((path, None), |(p, q)| (p, Some(q)));
        let segments: Vec<&str> = path.split('/').collect();
        let mapped: Vec<String> = segments
            .iter()
            .enumerate()
            .map(|(i, seg)| {
                let previous = if i > 0 { segments[i - 1] } else { "" };
                let kind = match previous {
                    "quota" => "quota",
                    "limit" => "limit",
                    _ => "",
                };
                self.0
                    .get(&(kind.to_string(), seg.to_string()))
                    .cloned()
                    .unwrap_or_else(|| seg.to_string())
            })
            .collect();
        let mut out = mapped.join("/");
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        out
    }
}

/// Id kind of integer ids in a response, from the request path.
fn id_kind(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    if path.contains("/limit") {
        "limit"
    } else if path.contains("/quota") {
        "quota"
    } else {
        "id"
    }
}

struct Replayer {
    emulator: Emulator,
    client: reqwest::Client,
    transcript: Vec<Value>,
    tokens: HashMap<String, String>,
    ids: IdMap,
}

impl Replayer {
    /// The emulator token standing for a recorded placeholder, minting it on first use.
    async fn token(&mut self, placeholder: &str) -> String {
        if let Some(t) = self.tokens.get(placeholder) {
            return t.clone();
        }
        let mint = self
            .transcript
            .iter()
            .find(|e| e["response"]["json"]["token"].as_str() == Some(placeholder))
            .cloned();
        let Some(mint) = mint else {
            return placeholder.to_string();
        };
        let user = mint["response"]["json"]["created_by"]
            .as_str()
            .unwrap_or("quayadmin");
        let scopes: Vec<&str> = mint["request"]["body"]["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let expiration = mint["request"]["body"]["expiration"].as_i64();
        let answer: Value = self
            .client
            .post(format!("{}/__emulator/tokens", self.emulator.url()))
            .json(&json!({ "username": user, "scopes": scopes, "expires_in_s": expiration }))
            .send()
            .await
            .expect("mint token")
            .json()
            .await
            .expect("mint token answer");
        let token = answer["token"].as_str().unwrap_or_default().to_string();
        if let Some(seconds) = expiration.filter(|s| *s <= 5) {
            // The recording used this token after it had expired.
            tokio::time::sleep(Duration::from_millis(seconds as u64 * 1000 + 200)).await;
        }
        self.tokens.insert(placeholder.to_string(), token.clone());
        token
    }

    async fn send(&mut self, request: &Value, path: &str) -> reqwest::Response {
        let method =
            reqwest::Method::from_bytes(request["method"].as_str().unwrap_or("GET").as_bytes())
                .expect("recorded method");
        let url = format!("{}{}", self.emulator.url(), path);
        let mut builder = self.client.request(method, url);
        let headers = request["headers"].as_object().cloned().unwrap_or_default();
        let mut authorization = None;
        for (name, value) in &headers {
            let value = value.as_str().unwrap_or_default();
            match name.to_ascii_lowercase().as_str() {
                "authorization" => {
                    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
                    authorization = Some(if credential.starts_with("<base64") {
                        format!("{scheme} cXVheWFkbWluOnBhc3N3b3Jk")
                    } else if credential.starts_with('<') {
                        format!("{scheme} {}", self.token(credential).await)
                    } else {
                        value.to_string()
                    });
                }
                "x-csrf-token" => {}
                _ => builder = builder.header(name.as_str(), value),
            }
        }
        if authorization.is_none()
            && headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("x-csrf-token"))
        {
            // devuser's browser session: use its token instead.
            authorization = Some(format!("Bearer {}", self.token("<devuser-token>").await));
        }
        if let Some(auth) = authorization {
            builder = builder.header("Authorization", auth);
        }
        if let Some(raw) = request["raw_body"].as_str() {
            builder = builder.body(raw.to_string());
        } else if !request["body"].is_null() {
            builder = builder.body(serde_json::to_vec(&request["body"]).expect("body"));
        }
        builder.send().await.expect("request to the emulator")
    }
}

fn mime(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[tokio::test]
async fn replay_recorded_quay_exchanges() {
    let path = transcript_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP replay: {} not found", path.display());
        return;
    };
    let transcript: Vec<Value> =
        serde_json::from_str(&text).expect("transcript.json is a JSON list");
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("start emulator");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut replayer = Replayer {
        emulator,
        client,
        transcript: transcript.clone(),
        tokens: HashMap::new(),
        ids: IdMap::default(),
    };

    let mut compared = 0;
    let mut skipped = Vec::new();
    let mut mismatches = Vec::new();
    let mut section = String::new();
    for (index, exchange) in transcript.iter().enumerate() {
        let title = exchange["title"].as_str().unwrap_or_default();
        let this_section = exchange["section"].as_str().unwrap_or_default();
        if this_section != section {
            section = this_section.to_string();
            if section.starts_with("11b") {
                replayer
                    .client
                    .post(format!("{}/__emulator/config", replayer.emulator.url()))
                    .json(&json!({ "superusers_full_access": true }))
                    .send()
                    .await
                    .expect("switch FEATURE_SUPERUSERS_FULL_ACCESS on");
            }
        }
        if let Some((_, reason)) = SKIPPED.iter().find(|(t, _)| *t == title) {
            skipped.push(format!("#{index} {title}: {reason}"));
            continue;
        }
        compared += 1;
        let request = &exchange["request"];
        let expected = &exchange["response"];
        let recorded_path = request["path"].as_str().unwrap_or_default();
        let path = replayer.ids.map_path(recorded_path);
        let mut response = replayer.send(request, &path).await;
        let expected_status = expected["status"].as_u64().unwrap_or_default();
        if response.status().as_u16() == 308
            && expected_status != 308
            && title.contains("following the")
        {
            // python-requests followed the redirect re-sending method and body.
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let followed = location
                .strip_prefix(&replayer.emulator.url())
                .unwrap_or(&location)
                .to_string();
            response = replayer.send(request, &followed).await;
        }

        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().await.unwrap_or_default();
        let mut problems = Vec::new();
        if u64::from(status) != expected_status {
            problems.push(format!("status {status}, expected {expected_status}"));
        }
        let expected_type = expected["headers"]["Content-Type"]
            .as_str()
            .unwrap_or_default();
        if mime(expected_type) != mime(&content_type) {
            problems.push(format!(
                "Content-Type {content_type:?}, expected {expected_type:?}"
            ));
        }
        if let Some(location) = expected["headers"]["Location"].as_str() {
            let expected_path = location.splitn(4, '/').nth(3).unwrap_or_default();
            let actual = headers
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default();
            let actual_path = actual.splitn(4, '/').nth(3).unwrap_or_default();
            if replayer.ids.map_path(&format!("/{expected_path}")) != format!("/{actual_path}") {
                problems.push(format!("Location {actual:?}, expected {location:?}"));
            }
        }
        let expected_json = &expected["json"];
        if !expected_json.is_null() || expected["text"].is_null() {
            match serde_json::from_str::<Value>(&body) {
                Ok(actual_json) => {
                    if SHALLOW.iter().any(|(t, _)| *t == title) {
                        let keys = |v: &Value| {
                            let mut k: Vec<String> = v
                                .as_object()
                                .map(|m| m.keys().cloned().collect())
                                .unwrap_or_default();
                            k.sort();
                            k
                        };
                        if keys(expected_json) != keys(&actual_json) {
                            problems.push(format!(
                                "top-level keys {:?}, expected {:?}",
                                keys(&actual_json),
                                keys(expected_json)
                            ));
                        }
                    } else {
                        let mut diffs = Vec::new();
                        shape_diff(
                            &replayer.ids.rewrite(expected_json),
                            &actual_json,
                            "$",
                            &mut diffs,
                        );
                        problems.extend(diffs);
                        replayer
                            .ids
                            .learn(expected_json, &actual_json, id_kind(recorded_path));
                    }
                }
                Err(_) => problems.push(format!(
                    "body is {} ({body:.80}), expected JSON",
                    body_kind(&body)
                )),
            }
        } else {
            let expected_kind = body_kind(expected["text"].as_str().unwrap_or_default());
            if body_kind(&body) != expected_kind {
                problems.push(format!(
                    "body is {}, expected {expected_kind}",
                    body_kind(&body)
                ));
            }
        }
        if index == 0
            && let Ok(json) = serde_json::from_str::<Value>(&body)
            && let Some(token) = json["access_token"].as_str()
        {
            replayer
                .tokens
                .insert("<token>".to_string(), token.to_string());
        }
        if !problems.is_empty() {
            let method = request["method"].as_str().unwrap_or_default();
            mismatches.push(format!(
                "#{index} {title} ({method} {path}):\n    {}",
                problems.join("\n    ")
            ));
        }
    }

    println!(
        "replay: compared {compared} exchanges, skipped {}",
        skipped.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} exchanges differ from the recording:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
