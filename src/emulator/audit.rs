//! Writing Quay's audit log: what `log_action` and `track_and_log` (Quay's
//! two ways of recording a change) add to an entry besides the handler's own
//! metadata. Every write the emulator supports calls one of them with the
//! kind and metadata Quay 3.18 records for it.

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::request::Ctx;
use super::state::{LogEntry, State};

/// What Quay's IP resolver answers for the addresses the emulator sees
/// (observed for 127.0.0.1: the resolver's bundled AWS ranges carry this
/// sync token).
fn resolved_ip() -> Value {
    json!({
        "provider": "internet",
        "service": null,
        "sync_token": "1645662201",
        "country_iso_code": null,
        "aws_region": null,
        "continent": null,
    })
}

/// Quay's `log_action(kind, namespace, metadata, repo_name=...)`: the
/// handler's metadata plus the token's three `oauth_token_*` keys, the
/// caller as performer, the client's IP, now. `repo` links the entry to a
/// repository of `namespace` (so the repository's log lists it), when that
/// repository exists.
pub fn log_action(
    ctx: &Ctx,
    state: &mut State,
    kind: &'static str,
    namespace: &str,
    repo: Option<&str>,
    metadata: Value,
) {
    let mut metadata = into_map(metadata);
    add_token_keys(ctx, &mut metadata);
    append(ctx, state, kind, namespace, repo, metadata);
}

/// Quay's `track_and_log(kind, repository, **kwargs)` (the mirror
/// endpoints): `repo`, `namespace` and `user-agent`, then the handler's
/// keys, the token's keys with the caller's `username`, and `resolved_ip`.
pub fn track_and_log(
    ctx: &Ctx,
    state: &mut State,
    kind: &'static str,
    namespace: &str,
    repo: &str,
    extra: Value,
) {
    let user_agent = ctx
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut metadata = into_map(json!({
        "repo": repo,
        "namespace": namespace,
        "user-agent": user_agent,
    }));
    metadata.extend(into_map(extra));
    add_token_keys(ctx, &mut metadata);
    if let Some(user) = ctx.caller.username() {
        metadata.insert("username".into(), json!(user));
    }
    metadata.insert("resolved_ip".into(), resolved_ip());
    append(ctx, state, kind, namespace, Some(repo), metadata);
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn add_token_keys(ctx: &Ctx, metadata: &mut Map<String, Value>) {
    if let Some(token) = &ctx.caller.token {
        metadata.insert("oauth_token_id".into(), json!(token.id));
        metadata.insert("oauth_token_application_id".into(), json!(token.client_id));
        metadata.insert("oauth_token_application".into(), json!(token.application));
    }
}

fn append(
    ctx: &Ctx,
    state: &mut State,
    kind: &'static str,
    namespace: &str,
    repo: Option<&str>,
    metadata: Map<String, Value>,
) {
    let repo_id = repo
        .and_then(|name| state.repo(namespace, name))
        .map(|r| r.id);
    state.append_log(LogEntry {
        id: 0,
        kind,
        namespace: namespace.to_string(),
        repo_id,
        performer: ctx.caller.username().map(str::to_string),
        ip: ctx.ip.clone(),
        metadata,
        datetime: Utc::now(),
    });
}
