//! Replays exchanges recorded from a real Quay 3.18 against a fresh in-process
//! emulator and checks that every answer has the same status code, the same
//! Content-Type, and the same *shape*: JSON keys and value types recursively
//! (array elements are matched against the recorded elements in any order, and
//! arrays must have the same length), or for non-JSON bodies the same kind
//! (HTML, text, empty). Scalar values are compared too, except for generated
//! ones ([`GENERATED_KEYS`]: ids, secrets, timestamps, robot avatars), so
//! roles, states, counts, names and error messages (including the jsonschema
//! dumps) must be equal.
//!
//! Two recordings are replayed:
//!
//! - `shared/quay-observed/transcript.json`, all of it (from an empty Quay).
//!   Secrets in the recording are placeholders. `<token>` is the token the
//!   emulator's `POST /api/v1/user/initialize` returns; the OAuth tokens the
//!   recording minted (`<devuser-token>`, `<readonly-token>`,
//!   `<expiring-token>`) are minted through `POST /__emulator/tokens` with the
//!   user, scopes and lifetime of the recorded mint. Requests made with
//!   devuser's browser session are sent with devuser's token instead.
//! - `shared/quay-observed/transcript-wave2.json`, all of it (audit logs,
//!   proxy cache, robot federation and its token exchange, OAuth
//!   applications, global messages, user namespace, team invitations, and
//!   the cleanup), against an emulator with FEATURE_SUPERUSERS_FULL_ACCESS,
//!   FEATURE_MAILING off and no outside DNS, as the recording's Quay had, and
//!   the superuser `admin` the recording used. Dates in `starttime`/`endtime`
//!   are moved by as many days as today is after the recording day, and log
//!   timestamps, windows and page tokens are generated values. The user log
//!   exchanges also saw entries of other sections (robot federation) and of
//!   earlier runs: the replay makes one round of the same user-namespace
//!   writes the emulator supports first, and compares those exchanges as a
//!   subset (each entry must match a recorded one) or on their top-level keys.
//!
//! Ids and uuids the server generated (prototype ids, notification and policy
//! uuids, quota and limit ids, page tokens) are mapped from the recorded values
//! to the ones the emulator returned, in paths, queries and expected bodies.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
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

/// The day wave 2 was recorded (dates in its queries are moved from it to today).
const WAVE2_DAY: (i32, u32, u32) = (2026, 11, 30);

/// Wave 2 exchanges compared on their top-level keys only, with the reason.
const WAVE2_SHALLOW: &[(&str, &str)] = &[
    (
        "user aggregatelogs",
        "the recorded counts include robot federation (not emulated) and earlier runs",
    ),
    (
        "user aggregatelogs today",
        "the recorded counts include robot federation (not emulated) and earlier runs",
    ),
    (
        "org logs after team membership changes",
        "the recorded page's older entries are robot federation and OAuth application writes (not emulated)",
    ),
];

/// Wave 2 exchanges whose lists may be shorter than recorded (each element must
/// still match a recorded one), with the reason.
const WAVE2_SUBSET: &[(&str, &str)] = &[
    (
        "user logs",
        "the recorded page also holds robot federation entries and earlier runs",
    ),
    (
        "user logs performer=admin",
        "the recorded page also holds robot federation entries and earlier runs",
    ),
    (
        "user logs (robot entries)",
        "the recorded page also holds robot federation entries and earlier runs",
    ),
];

/// Keys generated in wave 2's log answers, on top of [`GENERATED_KEYS`].
const WAVE2_GENERATED_KEYS: &[&str] = &[
    "datetime",
    "start_time",
    "end_time",
    "next_page",
    "oauth_token_id",
    "policy_uuid",
];

/// `shared/quay-observed/{file}` in the nearest ancestor of the crate that has
/// it (the checkout's parent, or further up for a git worktree).
fn recording_path(file: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.ancestors()
        .skip(1)
        .map(|p| p.join("shared/quay-observed").join(file))
        .find(|p| p.exists())
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

/// How answers are compared.
struct Compare<'a> {
    /// Keys whose values are generated (only their type is compared).
    generated: &'a [&'a str],
    /// Whether arrays may be shorter than recorded.
    subset: bool,
}

impl Compare<'_> {
    fn is_generated(&self, path: &str) -> bool {
        let key = last_key(path);
        GENERATED_KEYS.contains(&key) || self.generated.contains(&key)
    }

    /// Shape differences of `actual` against `expected`, as readable strings.
    fn diff(&self, expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
        let is_scalar = !expected.is_object() && !expected.is_array();
        if is_scalar
            && !self.is_generated(path)
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
                        self.diff(ev, av, &format!("{path}.{key}"), out);
                    }
                }
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() && !(self.subset && a.len() < e.len()) {
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
                        self.diff(ev, av, "", &mut d);
                        d.is_empty()
                    });
                    if !fits_some {
                        let reference = e.get(i).unwrap_or(&e[0]);
                        self.diff(reference, av, &format!("{path}[{i}]"), out);
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
                        (
                            "id" | "uuid" | "client_id" | "next_page",
                            Value::String(es),
                            Value::String(as_),
                        ) => {
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
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, value)) => match self.0.get(&(String::new(), value.to_string())) {
                        Some(actual) => format!("{key}={actual}"),
                        None => pair.to_string(),
                    },
                    None => pair.to_string(),
                })
                .collect();
            out.push('?');
            out.push_str(&pairs.join("&"));
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
    /// Send recorded bodies as JSON even when no Content-Type was recorded
    /// (wave 2 recorded no request headers but the token).
    json_bodies: bool,
    /// Days added to `starttime`/`endtime` dates of recorded queries.
    date_shift_days: i64,
}

/// How one recording's exchanges are compared.
struct Rules<'a> {
    skipped: &'a [(&'a str, &'a str)],
    shallow: &'a [(&'a str, &'a str)],
    subset: &'a [(&'a str, &'a str)],
    generated: &'a [&'a str],
}

/// What a replay found.
#[derive(Default)]
struct Report {
    compared: usize,
    skipped: Vec<String>,
    mismatches: Vec<String>,
}

impl Report {
    fn print_and_check(&self, name: &str) {
        println!(
            "replay {name}: compared {} exchanges, skipped {}",
            self.compared,
            self.skipped.len()
        );
        for s in &self.skipped {
            println!("  skipped {s}");
        }
        assert!(
            self.mismatches.is_empty(),
            "{} of {} exchanges differ from the recording:\n{}",
            self.mismatches.len(),
            self.compared,
            self.mismatches.join("\n")
        );
    }
}

/// `MM/DD/YYYY` moved by `days`, or `None` for anything else.
fn shift_date(value: &str, days: i64) -> Option<String> {
    let date = NaiveDate::parse_from_str(&value.replace("%2F", "/"), "%m/%d/%Y").ok()?;
    Some(
        (date + chrono::Duration::days(days))
            .format("%m/%d/%Y")
            .to_string(),
    )
}

/// `path` with its `starttime`/`endtime` dates moved by `days`.
fn shift_dates(path: &str, days: i64) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key @ ("starttime" | "endtime"), value)) => match shift_date(value, days) {
                Some(moved) => format!("{key}={moved}"),
                None => pair.to_string(),
            },
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

impl Replayer {
    fn new(emulator: Emulator, transcript: Vec<Value>) -> Replayer {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Replayer {
            emulator,
            client,
            transcript,
            tokens: HashMap::new(),
            ids: IdMap::default(),
            json_bodies: false,
            date_shift_days: 0,
        }
    }

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

    /// Sends a recorded request; an error when no answer came (the emulator
    /// closed the connection).
    async fn send(&mut self, request: &Value, path: &str) -> reqwest::Result<reqwest::Response> {
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
                    } else if let Some(inner) = credential
                        .strip_prefix("base64(")
                        .and_then(|c| c.strip_suffix(')'))
                    {
                        format!("{scheme} {}", basic_with_jwt(inner))
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
        let has_content_type = headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"));
        // Wave 2 recorded a body that is not JSON (e.g. `{not json`) as a string.
        let unparsable = request["body"]
            .as_str()
            .filter(|b| self.json_bodies && serde_json::from_str::<Value>(b).is_err());
        if let Some(raw) = request["raw_body"].as_str().or(unparsable) {
            if self.json_bodies && !has_content_type {
                builder = builder.header("Content-Type", "application/json");
            }
            builder = builder.body(raw.to_string());
        } else if !request["body"].is_null() {
            if self.json_bodies && !has_content_type {
                builder = builder.header("Content-Type", "application/json");
            }
            builder = builder.body(serde_json::to_vec(&request["body"]).expect("body"));
        }
        builder.send().await
    }

    /// Replays `exchanges` (in order) and compares the answers by `rules`.
    async fn replay(&mut self, exchanges: &[Value], rules: &Rules<'_>) -> Report {
        let mut report = Report::default();
        let mut section = String::new();
        for (index, exchange) in exchanges.iter().enumerate() {
            let title = exchange["title"].as_str().unwrap_or_default();
            let this_section = exchange["section"].as_str().unwrap_or_default();
            if this_section != section {
                section = this_section.to_string();
                if section.starts_with("11b") {
                    self.client
                        .post(format!("{}/__emulator/config", self.emulator.url()))
                        .json(&json!({ "superusers_full_access": true }))
                        .send()
                        .await
                        .expect("switch FEATURE_SUPERUSERS_FULL_ACCESS on");
                }
            }
            if let Some((_, reason)) = rules.skipped.iter().find(|(t, _)| *t == title) {
                report.skipped.push(format!("#{index} {title}: {reason}"));
                continue;
            }
            report.compared += 1;
            let request = &exchange["request"];
            let expected = &exchange["response"];
            let recorded_path = request["path"].as_str().unwrap_or_default();
            let path = shift_dates(&self.ids.map_path(recorded_path), self.date_shift_days);
            let problems = self.compare(request, expected, &path, title, rules).await;
            if !problems.is_empty() {
                let method = request["method"].as_str().unwrap_or_default();
                report.mismatches.push(format!(
                    "#{index} {title} ({method} {path}):\n    {}",
                    problems.join("\n    ")
                ));
            }
        }
        report
    }

    /// Sends one recorded request and lists how the answer differs.
    async fn compare(
        &mut self,
        request: &Value,
        expected: &Value,
        path: &str,
        title: &str,
        rules: &Rules<'_>,
    ) -> Vec<String> {
        let recorded_path = request["path"].as_str().unwrap_or_default();
        let expected_status = expected["status"].as_u64().unwrap_or_default();
        let mut response = match self.send(request, path).await {
            Ok(response) => response,
            // The recorded Quay closed the connection without answering.
            Err(e) if expected_status == 0 && !e.is_timeout() && !e.is_connect() => {
                return Vec::new();
            }
            Err(e) => return vec![format!("no answer: {e}")],
        };
        if expected_status == 0 {
            return vec![format!(
                "answered {}, expected the connection closed without an answer",
                response.status()
            )];
        }
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
                .strip_prefix(&self.emulator.url())
                .unwrap_or(&location)
                .to_string();
            response = match self.send(request, &followed).await {
                Ok(response) => response,
                Err(e) => return vec![format!("no answer after the redirect: {e}")],
            };
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
            if self.ids.map_path(&format!("/{expected_path}")) != format!("/{actual_path}") {
                problems.push(format!("Location {actual:?}, expected {location:?}"));
            }
        }
        let expected_json = &expected["json"];
        if !expected_json.is_null() || expected["text"].is_null() {
            match serde_json::from_str::<Value>(&body) {
                Ok(actual_json) => {
                    if rules.shallow.iter().any(|(t, _)| *t == title) {
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
                        let compare = Compare {
                            generated: rules.generated,
                            subset: rules.subset.iter().any(|(t, _)| *t == title),
                        };
                        let mut diffs = Vec::new();
                        compare.diff(
                            &self.ids.rewrite(expected_json),
                            &actual_json,
                            "$",
                            &mut diffs,
                        );
                        problems.extend(diffs);
                        self.ids
                            .learn(expected_json, &actual_json, id_kind(recorded_path));
                    }
                    if let Some(token) = actual_json["access_token"].as_str()
                        && !self.tokens.contains_key("<token>")
                    {
                        self.tokens.insert("<token>".to_string(), token.to_string());
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
        problems
    }

    /// Sends an API call with the `<token>` user's token, expecting success.
    async fn call(&mut self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let token = self.token("<token>").await;
        let mut builder = self
            .client
            .request(method.clone(), format!("{}{path}", self.emulator.url()))
            .bearer_auth(token);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await.expect("request to the emulator");
        let status = response.status();
        assert!(status.is_success(), "{method} {path}: {status}");
        response.json().await.unwrap_or(Value::Null)
    }
}

/// Base64 of a recorded `user:<unsigned JWT iss=... sub=...>` credential,
/// with the placeholder replaced by such a JWT (`alg: none`, no signature).
fn basic_with_jwt(recorded: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let (user, secret) = recorded.split_once(':').unwrap_or((recorded, ""));
    let secret = match secret
        .strip_prefix("<unsigned JWT")
        .and_then(|s| s.strip_suffix('>'))
    {
        Some(claims) => {
            let mut payload = serde_json::Map::new();
            for pair in claims.split_whitespace() {
                if let Some((key, value)) = pair.split_once('=') {
                    payload.insert(key.to_string(), Value::String(value.to_string()));
                }
            }
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let body = URL_SAFE_NO_PAD.encode(Value::Object(payload).to_string());
            format!("{header}.{body}.")
        }
        None => secret.to_string(),
    };
    STANDARD.encode(format!("{user}:{secret}"))
}

fn mime(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn load(file: &str) -> Option<Vec<Value>> {
    let path = recording_path(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP replay: {} not found", path.display());
        return None;
    };
    Some(serde_json::from_str(&text).expect("a recording is a JSON list"))
}

#[tokio::test]
async fn replay_recorded_quay_exchanges() {
    let Some(transcript) = load("transcript.json") else {
        return;
    };
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("start emulator");
    let mut replayer = Replayer::new(emulator, transcript.clone());
    let rules = Rules {
        skipped: SKIPPED,
        shallow: SHALLOW,
        subset: &[],
        generated: &[],
    };
    replayer
        .replay(&transcript, &rules)
        .await
        .print_and_check("transcript.json");
}

/// One round of the user-namespace writes whose entries the recorded user
/// logs show (a user robot created, its token regenerated, deleted; two
/// auto-prune policies created, one updated, both deleted), as the recording
/// made them (without the robot federation the emulator does not have).
async fn user_namespace_writes(replayer: &mut Replayer) {
    use reqwest::Method;
    let robot = "/api/v1/user/robots/recycfjbot";
    let robot_body = json!({"description": "user robot", "unstructured_metadata": {"k": "v"}});
    replayer.call(Method::PUT, robot, Some(robot_body)).await;
    let regenerate = format!("{robot}/regenerate");
    replayer.call(Method::POST, &regenerate, None).await;
    replayer.call(Method::DELETE, robot, None).await;
    let policies = "/api/v1/user/autoprunepolicy/";
    let mut uuids = Vec::new();
    for body in [
        json!({"method": "creation_date", "value": "7d"}),
        json!({"method": "number_of_tags", "value": 5}),
    ] {
        let created = replayer.call(Method::POST, policies, Some(body)).await;
        uuids.push(created["uuid"].as_str().unwrap_or_default().to_string());
    }
    let second = format!("{policies}{}", uuids[1]);
    let update = json!({"method": "number_of_tags", "value": 25});
    replayer.call(Method::PUT, &second, Some(update)).await;
    for uuid in &uuids {
        replayer
            .call(Method::DELETE, &format!("{policies}{uuid}"), None)
            .await;
    }
}

/// Replays wave 2 once; `None` when the day changed while it ran (the window
/// of "today" moved under the replay).
async fn replay_wave2_once(transcript: &[Value]) -> Option<Report> {
    let today = Utc::now().date_naive();
    let (y, m, d) = WAVE2_DAY;
    let recorded = NaiveDate::from_ymd_opt(y, m, d).expect("recording day");
    let emulator = Emulator::start(EmulatorConfig {
        token: None,
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .expect("start emulator");
    // The recording's Quay had no outside DNS: upstream registries did not resolve.
    emulator.set_outside_dns(false);
    let mut replayer = Replayer::new(emulator, transcript.to_vec());
    replayer.json_bodies = true;
    replayer.date_shift_days = (today - recorded).num_days();
    // The recording's superuser `admin`, with the token `user/initialize` mints.
    let init = json!({
        "username": "admin",
        "password": "password",
        "email": "admin@example.com",
        "access_token": true,
    });
    let answer: Value = replayer
        .client
        .post(format!(
            "{}/api/v1/user/initialize",
            replayer.emulator.url()
        ))
        .json(&init)
        .send()
        .await
        .expect("initialize")
        .json()
        .await
        .expect("initialize answer");
    let token = answer["access_token"].as_str().expect("token").to_string();
    replayer.tokens.insert("<token>".to_string(), token);
    user_namespace_writes(&mut replayer).await;
    let rules = Rules {
        skipped: &[],
        shallow: WAVE2_SHALLOW,
        subset: WAVE2_SUBSET,
        generated: WAVE2_GENERATED_KEYS,
    };
    let report = replayer.replay(transcript, &rules).await;
    (Utc::now().date_naive() == today).then_some(report)
}

#[tokio::test]
async fn replay_recorded_wave2_exchanges() {
    let Some(transcript) = load("transcript-wave2.json") else {
        return;
    };
    // Run again if midnight (UTC) passed during the replay.
    let report = match replay_wave2_once(&transcript).await {
        Some(report) => report,
        None => replay_wave2_once(&transcript)
            .await
            .expect("the day changed twice during the replay"),
    };
    report.print_and_check("transcript-wave2.json");
}
