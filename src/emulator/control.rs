//! The control API under `/__emulator/` (not part of Quay, not counted in stats):
//! stats, reset, feature flag and cost model, users and tokens, fault rules.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::Json;
use axum::Router;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Scope, ScopeSet};
use super::cost::CostModel;
use super::faults::FaultRule;
use super::{Shared, lock, routes};

type SharedState = AxumState<Arc<Shared>>;

/// Routes of the control API.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/config", post(config))
        .route("/__emulator/users", post(create_user))
        .route("/__emulator/tokens", post(create_token))
        .route(
            "/__emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "message": message.into() })),
    )
        .into_response()
}

async fn stats(AxumState(shared): SharedState) -> Response {
    Json(lock(&shared.stats).clone()).into_response()
}

async fn reset(AxumState(shared): SharedState) -> Response {
    shared.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    #[serde(default)]
    superusers_full_access: Option<bool>,
    #[serde(default)]
    mailing: Option<bool>,
    #[serde(default)]
    outside_dns: Option<bool>,
    #[serde(default)]
    workers: Option<usize>,
    /// A duration like `"190ms"`.
    #[serde(default)]
    request_cost: Option<String>,
}

/// Sets the fields given; answers with the whole resulting configuration.
async fn config(AxumState(shared): SharedState, Json(body): Json<ConfigBody>) -> Response {
    let request_cost = match body.request_cost.as_deref().map(parse_duration) {
        None => None,
        Some(Ok(cost)) => Some(cost),
        Some(Err(message)) => return bad_request(message),
    };
    if body.workers.is_some() || request_cost.is_some() {
        let current = shared.cost_model();
        let workers = body.workers.or(current.map(|m| m.workers));
        let request_cost = request_cost.or(current.map(|m| m.request_cost));
        let model = match (workers, request_cost) {
            (Some(workers), Some(request_cost)) => CostModel {
                workers,
                request_cost,
            },
            // Turning the cost model off needs only one of the two.
            (Some(0), None) => CostModel {
                workers: 0,
                request_cost: StdDuration::ZERO,
            },
            (None, Some(cost)) if cost.is_zero() => CostModel {
                workers: 0,
                request_cost: StdDuration::ZERO,
            },
            _ => {
                return bad_request(
                    "A cost model needs both workers and request_cost (no cost model is set yet)",
                );
            }
        };
        shared.set_cost_model(Some(model));
    }
    let (full_access, mailing, outside_dns) = {
        let mut state = lock(&shared.state);
        if let Some(flag) = body.superusers_full_access {
            state.superusers_full_access = flag;
        }
        if let Some(flag) = body.mailing {
            state.mailing = flag;
        }
        if let Some(flag) = body.outside_dns {
            state.outside_dns = flag;
        }
        (
            state.superusers_full_access,
            state.mailing,
            state.outside_dns,
        )
    };
    let cost = shared.cost_model();
    Json(json!({
        "superusers_full_access": full_access,
        "mailing": mailing,
        "outside_dns": outside_dns,
        "workers": cost.map(|m| m.workers),
        "request_cost": cost.map(|m| humantime::format_duration(m.request_cost).to_string()),
    }))
    .into_response()
}

/// A duration in humantime's format, like `"190ms"` or `"1s 500ms"`.
fn parse_duration(text: &str) -> Result<StdDuration, String> {
    humantime::parse_duration(text).map_err(|err| format!("Invalid request_cost {text:?}: {err}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    superuser: bool,
}

async fn create_user(AxumState(shared): SharedState, Json(body): Json<UserBody>) -> Response {
    if let Err(message) = routes::validate_namespace_name(&body.username) {
        return bad_request(format!("Invalid username {}: {message}", body.username));
    }
    let mut state = lock(&shared.state);
    if state.namespace(&body.username).is_some() {
        return bad_request("A user or organization with this name already exists");
    }
    state.create_user(&body.username, body.email.clone(), body.superuser);
    (
        StatusCode::CREATED,
        Json(json!({
            "username": body.username,
            "email": body.email,
            "superuser": body.superuser,
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    username: String,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    expires_in_s: Option<i64>,
}

async fn create_token(AxumState(shared): SharedState, Json(body): Json<TokenBody>) -> Response {
    let scopes = match &body.scopes {
        None => ScopeSet::all(),
        Some(names) => {
            let mut parsed = Vec::new();
            for name in names {
                match Scope::parse(name) {
                    Some(scope) => parsed.push(scope),
                    None => return bad_request(format!("Invalid scope: {name}")),
                }
            }
            ScopeSet::from_scopes(&parsed)
        }
    };
    let mut state = lock(&shared.state);
    if state.user(&body.username).is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Unknown user" })),
        )
            .into_response();
    }
    let token = routes::random_token();
    let expires_at = body.expires_in_s.map(|s| Utc::now() + Duration::seconds(s));
    state.add_token(token.clone(), &body.username, scopes, expires_at);
    (
        StatusCode::CREATED,
        Json(json!({ "token": token, "expires_at": expires_at.map(|t| t.to_rfc3339()) })),
    )
        .into_response()
}

async fn list_faults(AxumState(shared): SharedState) -> Response {
    Json(json!({ "faults": lock(&shared.faults).list() })).into_response()
}

async fn add_fault(AxumState(shared): SharedState, Json(rule): Json<FaultRule>) -> Response {
    if let Err(message) = rule.validate() {
        return bad_request(message);
    }
    lock(&shared.faults).add(rule.clone());
    (StatusCode::CREATED, Json(rule)).into_response()
}

async fn clear_faults(AxumState(shared): SharedState) -> Response {
    lock(&shared.faults).clear();
    StatusCode::NO_CONTENT.into_response()
}
