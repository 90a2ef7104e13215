//! The API entry point: routing, stats, faults, the cost model, CSRF and scope
//! checks, then the handler under the state lock.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::auth::{Caller, bearer_token};
use super::cost::Gauge;
use super::errors::{ApiError, Html, json_response};
use super::faults::Fault;
use super::federation_token;
use super::request::Ctx;
use super::routing::{self, Resolution};
use super::server::{ConnectionKill, PeerAddr};
use super::{Shared, lock};

/// Largest request body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Handles every request outside `/__emulator/`.
pub async fn api(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let in_flight = Gauge::enter(&shared, &shared.in_flight, |stats| {
        &mut stats.peak_in_flight
    });
    let response = handle(&shared, request).await;
    drop(in_flight);
    lock(&shared.stats).record_status(response.status().as_u16());
    response
}

async fn handle(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = routing::percent_decode(parts.uri.path());
    let base_url = base_url(&parts.headers);
    let resolution = routing::resolve(&shared.routes, &method, &path);
    let key = match &resolution {
        Resolution::Route(route, _) => route.key(),
        _ => format!("{method} (unmatched)"),
    };
    lock(&shared.stats).record(method.as_str(), key);

    // A fault strikes before Quay sees the request, or (`after`) once Quay
    // has done it: the answer is what gets lost.
    let (before, after) = match lock(&shared.faults).take(method.as_str(), &path) {
        Some(fault) if fault.after => (None, Some(fault)),
        fault => (fault, None),
    };
    let kill = parts.extensions.get::<ConnectionKill>().cloned();
    if let Some(fault) = before
        && let Some(response) = apply_fault(fault, kill.as_ref(), &base_url).await
    {
        return response;
    }
    if path == federation_token::PATH {
        let outcome =
            federation_token::exchange(&method, &parts.headers, &lock(&shared.state), &base_url);
        return match outcome {
            federation_token::Outcome::Answer(response) => response,
            federation_token::Outcome::Hang => federation_token::hang(kill.as_ref()).await,
        };
    }
    let response = respond(shared, parts, body, resolution, &base_url).await;
    if let Some(fault) = after
        && let Some(lost) = apply_fault(fault, kill.as_ref(), &base_url).await
    {
        return lost;
    }
    response
}

/// Quay's answer to a request that no fault stopped.
async fn respond(
    shared: &Shared,
    parts: axum::http::request::Parts,
    body: Body,
    resolution: Resolution<'_>,
    base_url: &str,
) -> Response {
    let method = parts.method.clone();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    match resolution {
        Resolution::Redirect(to) => {
            ApiError::Html(Html::Redirect(format!("{base_url}{to}{query}"))).into_response(base_url)
        }
        Resolution::MethodNotAllowed => ApiError::method_not_allowed().into_response(base_url),
        Resolution::MethodNotAllowedPage => {
            ApiError::Html(Html::MethodNotAllowed).into_response(base_url)
        }
        Resolution::NotFoundPage => ApiError::Html(Html::NotFoundPage).into_response(base_url),
        Resolution::Route(route, params) => {
            let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
                Ok(body) => body,
                Err(_) => {
                    return ApiError::message("The browser (or proxy) sent a request that this server could not understand.")
                        .into_response(base_url);
                }
            };
            // Only calls with a token the emulator knows pay (Quay's bcrypt check).
            let gate = lock(&shared.cost).clone();
            let known_token = gate.is_some()
                && bearer_token(&parts.headers)
                    .is_some_and(|token| lock(&shared.state).tokens.contains_key(token));
            let _worker = match gate {
                Some(gate) if known_token => Some(gate.serve(shared).await),
                _ => None,
            };
            let mut state = lock(&shared.state);
            let caller = Caller::resolve(&parts.headers, &state);
            let is_read = method == Method::GET || method == Method::HEAD;
            if !is_read && !caller.is_authenticated() && route.template != "/api/v1/user/initialize"
            {
                return ApiError::Csrf.into_response(base_url);
            }
            if let Some(scope) = route.scope
                && caller.is_authenticated()
                && !caller.scopes.grants(scope)
            {
                let error = if route.template == "/api/v1/user/" {
                    ApiError::login_required()
                } else {
                    ApiError::unauthorized(true)
                };
                return error.into_response(base_url);
            }
            let ip = parts
                .extensions
                .get::<PeerAddr>()
                .map(|peer| peer.0.ip().to_canonical().to_string())
                .unwrap_or_else(|| "127.0.0.1".to_string());
            let ctx = Ctx {
                params,
                query: routing::parse_query(parts.uri.query()),
                headers: parts.headers,
                body,
                caller,
                ip,
            };
            match (route.handler)(&ctx, &mut state) {
                Ok(reply) => reply.into_response(),
                Err(error) => error.into_response(base_url),
            }
        }
    }
}

/// Applies a fault; `None` means "go on and answer normally (after the delay)".
async fn apply_fault(
    fault: Fault,
    kill: Option<&ConnectionKill>,
    base_url: &str,
) -> Option<Response> {
    if let Some(delay) = fault.latency {
        tokio::time::sleep(delay).await;
    }
    if fault.drop_connection {
        if let Some(kill) = kill {
            kill.kill();
            // The connection task drops this future together with the connection.
            std::future::pending::<()>().await;
        }
        return Some(injected(StatusCode::SERVICE_UNAVAILABLE, None, base_url));
    }
    let status = StatusCode::from_u16(fault.status?).ok()?;
    Some(injected(status, fault.retry_after_s, base_url))
}

/// An injected error in Quay's shapes: HTML page for 5xx, problem JSON otherwise.
fn injected(status: StatusCode, retry_after_s: Option<u64>, base_url: &str) -> Response {
    let mut response = if status.is_server_error() {
        ApiError::Html(Html::ServerError(status)).into_response(base_url)
    } else if status.is_client_error() {
        let reason = status.canonical_reason().unwrap_or("Error");
        let error_type = if status == StatusCode::TOO_MANY_REQUESTS {
            "too_many_requests"
        } else {
            "injected_fault"
        };
        json_response(
            status,
            &json!({
                "detail": reason,
                "error_message": reason,
                "error_type": error_type,
                "status": status.as_u16(),
                "title": error_type,
                "type": format!("{base_url}/api/v1/error/{error_type}"),
            }),
        )
    } else {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = status;
        response
    };
    if let Some(seconds) = retry_after_s
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}
