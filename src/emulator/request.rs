//! What an API handler gets: path parameters, query, caller and the body, with
//! Quay's (Flask's) rules for reading JSON bodies.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use super::auth::Caller;
use super::errors::ApiError;
use super::schema;

/// The context of one API request.
#[derive(Debug)]
pub struct Ctx {
    /// Path parameters by their Quay names (`orgname`, `repository`, ...).
    pub params: Vec<(&'static str, String)>,
    /// Query parameters in order (percent-decoded).
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub caller: Caller,
    /// The client's IP address (as audit log entries record it).
    pub ip: String,
}

impl Ctx {
    /// A path parameter (empty if the route has none of that name).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The `{repository}` parameter split into namespace and (possibly nested) name.
    pub fn repo_path(&self) -> (String, String) {
        let full = self.param("repository");
        match full.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => (full.to_string(), String::new()),
        }
    }

    /// A query parameter (last occurrence wins, like Flask's `args.get`).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query parameter as Quay's `truthy_bool` reads it.
    pub fn query_bool(&self, name: &str, default: bool) -> bool {
        match self.query(name) {
            None => default,
            Some(v) => matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
        }
    }

    /// Whether the body is a JSON object with this key (for handlers that
    /// already validated the body).
    pub fn body_has(&self, key: &str) -> bool {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .is_some_and(|body| body.get(key).is_some())
    }

    /// The caller's username, or the "Unauthorized" error for anonymous callers.
    pub fn user(&self) -> Result<&str, ApiError> {
        self.caller.username().ok_or_else(|| self.deny())
    }

    /// Quay's `Unauthorized` for this caller (401 anonymous, 403 otherwise).
    pub fn deny(&self) -> ApiError {
        ApiError::unauthorized(self.caller.is_authenticated())
    }

    fn parse_json(&self) -> Result<Option<Value>, ApiError> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        let is_json = mime == "application/json"
            || (mime.starts_with("application/") && mime.ends_with("+json"));
        if !is_json {
            if self.body.is_empty() {
                return Ok(None);
            }
            return Err(unsupported_media_type());
        }
        serde_json::from_slice(&self.body).map(Some).map_err(|_| {
            ApiError::message(
                "The browser (or proxy) sent a request that this server could not understand.",
            )
        })
    }

    /// The JSON body, which must be present, validated against `schema`.
    pub fn json(&self, schema: &Value) -> Result<Value, ApiError> {
        match self.parse_json()? {
            None => Err(unsupported_media_type()),
            Some(value) => {
                schema::validate(&value, schema).map_err(ApiError::invalid)?;
                Ok(value)
            }
        }
    }

    /// The JSON body if one was sent, validated against `schema`.
    pub fn optional_json(&self, schema: &Value) -> Result<Option<Value>, ApiError> {
        match self.parse_json()? {
            None => Ok(None),
            Some(value) => {
                schema::validate(&value, schema).map_err(ApiError::invalid)?;
                Ok(Some(value))
            }
        }
    }
}

fn unsupported_media_type() -> ApiError {
    ApiError::Message(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.".to_string(),
    )
}

/// Field accessors on a validated JSON object.
pub trait JsonFields {
    /// A string field.
    fn str_field(&self, key: &str) -> Option<&str>;
    /// An integer field.
    fn i64_field(&self, key: &str) -> Option<i64>;
    /// A boolean field.
    fn bool_field(&self, key: &str) -> Option<bool>;
    /// Whether the key is present (even if null).
    fn has(&self, key: &str) -> bool;
}

impl JsonFields for Value {
    fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    fn i64_field(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    fn bool_field(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}
