//! The five error body shapes of Quay's API, and HTML pages.
//!
//! 1. problem JSON `{"detail","error_message","error_type","status","title","type"}`
//!    (+ `session_required` on the 401 of login-only endpoints);
//! 2. `{"message": ...}`;
//! 3. `{"detail": ...}` (mirror endpoints);
//! 4. `{"error": "CSRF token was invalid or missing."}` served as text/html;
//! 5. HTML pages (308 redirects, 404 UI page, 405, 500);
//!
//! plus the bare 500 with an empty body that Quay sends when a database
//! constraint fails (e.g. a notification created for a missing repository).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// A successful answer of an API handler.
#[derive(Debug)]
pub enum Reply {
    /// A JSON body with a status code.
    Json(StatusCode, Value),
    /// No body (204); Quay still labels it application/json.
    Empty(StatusCode),
    /// No body, labelled text/html (the answers of a few plain Flask views).
    EmptyHtml(StatusCode),
}

impl Reply {
    pub fn ok(value: Value) -> Reply {
        Reply::Json(StatusCode::OK, value)
    }

    pub fn created(value: Value) -> Reply {
        Reply::Json(StatusCode::CREATED, value)
    }

    pub fn no_content() -> Reply {
        Reply::Empty(StatusCode::NO_CONTENT)
    }

    pub fn into_response(self) -> Response {
        match self {
            Reply::Json(status, value) => json_response(status, &value),
            Reply::Empty(status) => with_type(status, "application/json", Body::empty()),
            Reply::EmptyHtml(status) => {
                with_type(status, "text/html; charset=utf-8", Body::empty())
            }
        }
    }
}

/// Which HTML page to serve.
#[derive(Debug, Clone)]
pub enum Html {
    /// 308 to the given absolute URL.
    Redirect(String),
    /// The UI's 404 page.
    NotFoundPage,
    /// Werkzeug's 405 page.
    MethodNotAllowed,
    /// 500 (or another 5xx) page.
    ServerError(StatusCode),
}

/// An error answer of the API, in one of Quay's shapes.
#[derive(Debug)]
pub enum ApiError {
    /// Shape 1.
    Problem {
        status: StatusCode,
        error_type: &'static str,
        detail: String,
        session_required: bool,
    },
    /// Shape 2.
    Message(StatusCode, String),
    /// Shape 3.
    Detail(StatusCode, String),
    /// Shape 4.
    Csrf,
    /// Shape 5.
    Html(Html),
    /// A status with an empty body (Quay's answer when a database statement fails).
    Empty(StatusCode),
}

/// Result type of API handlers.
pub type ApiResult = Result<Reply, ApiError>;

impl ApiError {
    /// 404 `not_found`.
    pub fn not_found() -> ApiError {
        ApiError::problem(StatusCode::NOT_FOUND, "not_found", "Not Found")
    }

    /// 400 `invalid_request` with a message.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::problem(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }

    /// 400 `{"message"}`.
    pub fn message(message: impl Into<String>) -> ApiError {
        ApiError::Message(StatusCode::BAD_REQUEST, message.into())
    }

    /// 400 `{"detail"}`.
    pub fn detail(detail: impl Into<String>) -> ApiError {
        ApiError::Detail(StatusCode::BAD_REQUEST, detail.into())
    }

    /// Quay's `Unauthorized`: 401 "Requires authentication" for anonymous callers,
    /// 403 `insufficient_scope` "Unauthorized" for authenticated ones.
    pub fn unauthorized(authenticated: bool) -> ApiError {
        if authenticated {
            ApiError::problem(StatusCode::FORBIDDEN, "insufficient_scope", "Unauthorized")
        } else {
            ApiError::problem(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Requires authentication",
            )
        }
    }

    /// 401 of endpoints that need a signed-in user (carries `session_required`).
    pub fn login_required() -> ApiError {
        ApiError::Problem {
            status: StatusCode::UNAUTHORIZED,
            error_type: "invalid_token",
            detail: "Requires authentication".to_string(),
            session_required: true,
        }
    }

    /// 500 HTML page.
    pub fn server_error() -> ApiError {
        ApiError::Html(Html::ServerError(StatusCode::INTERNAL_SERVER_ERROR))
    }

    /// 500 with an empty body.
    pub fn server_error_empty() -> ApiError {
        ApiError::Empty(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 405 `{"message"}`.
    pub fn method_not_allowed() -> ApiError {
        ApiError::Message(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested URL.".to_string(),
        )
    }

    fn problem(
        status: StatusCode,
        error_type: &'static str,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError::Problem {
            status,
            error_type,
            detail: detail.into(),
            session_required: false,
        }
    }

    /// Renders the error; `base_url` (like `http://127.0.0.1:8080`) goes into the
    /// problem `type` URL.
    pub fn into_response(self, base_url: &str) -> Response {
        match self {
            ApiError::Problem {
                status,
                error_type,
                detail,
                session_required,
            } => {
                let mut body = json!({
                    "detail": detail,
                    "error_message": detail,
                    "error_type": error_type,
                    "status": status.as_u16(),
                    "title": error_type,
                    "type": format!("{base_url}/api/v1/error/{error_type}"),
                });
                if session_required && let Some(map) = body.as_object_mut() {
                    map.insert("session_required".to_string(), Value::Bool(false));
                }
                json_response(status, &body)
            }
            ApiError::Message(status, message) => {
                json_response(status, &json!({ "message": message }))
            }
            ApiError::Detail(status, detail) => json_response(status, &json!({ "detail": detail })),
            ApiError::Csrf => with_type(
                StatusCode::FORBIDDEN,
                "text/html; charset=utf-8",
                Body::from(
                    serde_json::to_string_pretty(
                        &json!({"error": "CSRF token was invalid or missing."}),
                    )
                    .unwrap_or_default(),
                ),
            ),
            ApiError::Html(page) => html_response(page),
            ApiError::Empty(status) => with_type(status, "text/html; charset=utf-8", Body::empty()),
        }
    }
}

/// A JSON response (Quay pretty-prints its JSON).
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    with_type(status, "application/json", Body::from(text))
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn html_response(page: Html) -> Response {
    match page {
        Html::Redirect(location) => {
            let body = format!(
                "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{location}\">{location}</a>. If not, click the link.\n"
            );
            let mut response = with_type(
                StatusCode::PERMANENT_REDIRECT,
                "text/html; charset=utf-8",
                Body::from(body),
            );
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Html::NotFoundPage => {
            let mut response = with_type(
                StatusCode::NOT_FOUND,
                "text/html; charset=utf-8",
                Body::from(
                    "<!DOCTYPE html>\n<html ng-app=\"quay\" class=\"onprem\">\n  <head>\n    <title>Quay</title>\n  </head>\n  <body>\n    <p>Quay emulator: this page only exists in Quay's web UI.</p>\n  </body>\n</html>\n",
                ),
            );
            response
                .headers_mut()
                .insert("x-frame-options", HeaderValue::from_static("DENY"));
            response
        }
        Html::MethodNotAllowed => with_type(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/html; charset=utf-8",
            Body::from(
                "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n",
            ),
        ),
        Html::ServerError(status) => {
            let reason = status.canonical_reason().unwrap_or("Error");
            with_type(
                status,
                "text/html",
                Body::from(format!(
                    "<html>\n  <head>\n    <title>{reason}</title>\n  </head>\n  <body>\n    <h1><p>{reason}</p></h1>\n    \n  </body>\n</html>\n"
                )),
            )
        }
    }
}
