//! The one error type of the Quay client, and how Quay's answers map onto it.

use std::time::Duration;

/// What kind of failure a Quay call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object (or its parent) does not exist.
    NotFound,
    /// The object exists already (Quay answers 400 or 409).
    AlreadyExists,
    /// Quay rejected the request as invalid; its message says why.
    BadRequest,
    /// The token is missing, invalid or expired.
    Unauthorized,
    /// The token is valid but not allowed to do this.
    Forbidden,
    /// Quay asked us to slow down (429).
    RateLimited,
    /// Quay failed (5xx).
    Server,
    /// Quay could not be reached, or the connection broke.
    Transport,
    /// Quay answered something the client cannot read.
    Decode,
    /// The client itself is misconfigured (URL, CA bundle).
    Config,
}

impl ErrorKind {
    /// Short CamelCase name, used as a condition reason and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::BadRequest => "QuayRejected",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Server => "QuayServerError",
            ErrorKind::Transport => "QuayUnreachable",
            ErrorKind::Decode => "UnexpectedAnswer",
            ErrorKind::Config => "InvalidConnection",
        }
    }
}

/// An error from a Quay API call. Never carries the token or any secret
/// value that was sent in the request.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {message}")]
pub struct QuayError {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// HTTP status, when Quay answered.
    pub status: Option<u16>,
    /// `METHOD /api/v1/...` of the failed call.
    pub endpoint: String,
    /// Quay's own message, or a description of the failure.
    pub message: String,
    /// How long Quay asked us to wait (Retry-After), if it did.
    pub retry_after: Option<Duration>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl QuayError {
    /// Whether this is Quay without FEATURE_MAILING answering an invitation
    /// call (405: the invite resource does not exist).
    pub fn is_mailing_off(&self) -> bool {
        self.status == Some(405)
    }

    pub(crate) fn new(
        kind: ErrorKind,
        endpoint: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        QuayError {
            kind,
            status: None,
            endpoint: endpoint.into(),
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether retrying the same call later may succeed without anyone
    /// changing anything (network trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Transport
        )
    }

    /// Whether Quay certainly did not act on the call: it asked us to slow
    /// down (429, answered before any work) or no connection was made. Such
    /// a call may be sent again even when it is not idempotent.
    pub fn never_reached_quay(&self) -> bool {
        self.kind == ErrorKind::RateLimited
            || (self.kind == ErrorKind::Transport
                && self
                    .source
                    .as_ref()
                    .and_then(|s| s.downcast_ref::<reqwest::Error>())
                    .is_some_and(reqwest::Error::is_connect))
    }

    /// Whether Quay said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether Quay said the object exists already.
    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// Builds the error for a non-success HTTP answer.
    pub(crate) fn from_response(
        endpoint: String,
        status: u16,
        content_type: &str,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let message = error_message(status, content_type, body);
        let kind = classify(status, &message);
        QuayError {
            kind,
            status: Some(status),
            endpoint,
            message,
            retry_after,
            source: None,
        }
    }

    /// Turns this error into NotFound when Quay's message says the object is
    /// missing (Quay answers 400 instead of 404 on several routes).
    pub(crate) fn not_found_if(mut self, needles: &[&str]) -> Self {
        if self.kind == ErrorKind::BadRequest && needles.iter().any(|n| self.message.contains(n)) {
            self.kind = ErrorKind::NotFound;
        }
        self
    }

    /// Replaces every occurrence of the given secret values in the message.
    pub(crate) fn redact(mut self, secrets: &[String]) -> Self {
        for secret in secrets.iter().filter(|s| s.len() >= 3) {
            self.message = self.message.replace(secret.as_str(), "***");
        }
        self
    }
}

fn classify(status: u16, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    match status {
        404 => ErrorKind::NotFound,
        409 => ErrorKind::AlreadyExists,
        400 if lower.contains("already exist") || lower.starts_with("existing ") => {
            ErrorKind::AlreadyExists
        }
        400 | 405 | 413 | 415 | 422 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        // Quay answers any write without a valid token with 403 "CSRF token
        // was invalid or missing": that is an authentication failure.
        403 if lower.contains("csrf") => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    }
}

/// Extracts a readable message from one of Quay's five error body shapes:
/// problem JSON, `{"message"}`, `{"detail"}`, `{"error"}` and HTML pages.
fn error_message(status: u16, content_type: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let found = field("detail")
            .or_else(|| field("error_message"))
            .or_else(|| field("message"))
            .or_else(|| field("error"))
            .or_else(|| value.as_str().map(str::to_owned));
        if let Some(message) = found {
            let message = if status == 403 && message.to_ascii_lowercase().contains("csrf") {
                format!(
                    "{message} (Quay answers this to a write whose token is missing, invalid or expired)"
                )
            } else {
                message
            };
            return first_paragraph(&message);
        }
    }
    if content_type.contains("html") || text.trim_start().starts_with('<') {
        let title = text
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(title, _)| title.trim().to_owned())
            .filter(|t| !t.is_empty());
        return match title {
            Some(title) => format!("HTTP {status}: {title}"),
            None => format!("HTTP {status} (HTML page)"),
        };
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        first_paragraph(trimmed)
    }
}

/// Quay's schema errors append a multi-line jsonschema dump after a blank
/// line; the first paragraph is the part a person needs.
fn first_paragraph(message: &str) -> String {
    let head = message.split("\n\n").next().unwrap_or(message).trim();
    head.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, ct: &str, body: &str) -> QuayError {
        QuayError::from_response("POST /api/v1/x".into(), status, ct, body.as_bytes(), None)
    }

    #[test]
    fn problem_json_uses_detail_first_paragraph() {
        let e = err(
            400,
            "application/json",
            r#"{"detail":"'description' is a required property\n\nFailed validating 'required'","error_message":"x","error_type":"invalid_request","status":400,"title":"invalid_request","type":"t"}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.message, "'description' is a required property");
        assert_eq!(
            e.to_string(),
            "POST /api/v1/x: 'description' is a required property"
        );
    }

    #[test]
    fn each_body_shape_is_read() {
        assert_eq!(
            err(
                400,
                "application/json",
                r#"{"message":"Could not find robot"}"#
            )
            .message,
            "Could not find robot"
        );
        assert_eq!(
            err(
                409,
                "application/json",
                r#"{"detail":"Mirror configuration already exits"}"#
            )
            .kind,
            ErrorKind::AlreadyExists
        );
        let csrf = err(
            403,
            "text/html; charset=utf-8",
            r#"{"error": "CSRF token was invalid or missing."}"#,
        );
        assert_eq!(csrf.kind, ErrorKind::Unauthorized);
        assert!(
            csrf.message
                .contains("token is missing, invalid or expired")
        );
        let html = err(
            500,
            "text/html",
            "<html><head><title>500 Internal Server Error</title></head></html>",
        );
        assert_eq!(html.kind, ErrorKind::Server);
        assert_eq!(html.message, "HTTP 500: 500 Internal Server Error");
        assert!(html.is_transient());
    }

    #[test]
    fn already_exists_is_recognised_on_400() {
        let e = err(
            400,
            "application/json",
            r#"{"detail":"Repository already exists","status":400}"#,
        );
        assert!(e.is_already_exists());
        let e = err(
            400,
            "application/json",
            r#"{"detail":"Existing robot with name: acme+builder"}"#,
        );
        assert!(e.is_already_exists());
    }

    #[test]
    fn not_found_on_400_is_opt_in() {
        let e = err(
            400,
            "application/json",
            r#"{"message":"Could not find robot with specified username"}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.not_found_if(&["Could not find robot"]).is_not_found());
    }

    #[test]
    fn secrets_are_redacted() {
        let e = err(
            400,
            "application/json",
            r#"{"detail":"'hunter22' is not a valid URL"}"#,
        )
        .redact(&["hunter22".into()]);
        assert_eq!(e.message, "'***' is not a valid URL");
    }
}
