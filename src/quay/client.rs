//! The HTTP core of the Quay client: connection settings, authentication,
//! retries, error mapping and request accounting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ErrorKind, QuayError};
use super::retry::{RetryPolicy, parse_retry_after};

/// Counts of requests sent; clients given the same counters add up together.
#[derive(Debug, Default)]
pub struct CallCounters {
    /// All requests sent (retries included).
    pub requests: AtomicU64,
    /// Requests other than GET.
    pub writes: AtomicU64,
}

/// How to reach one Quay instance.
#[derive(Clone)]
pub struct ClientOptions {
    /// Base URL, e.g. `https://quay.example.com` (no `/api/v1`).
    pub url: String,
    /// OAuth access token sent as `Authorization: Bearer`.
    pub token: SecretString,
    /// Extra CA certificates (PEM bundle) to trust.
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// Skip TLS certificate verification (test setups only).
    pub insecure_skip_tls_verify: bool,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Retry policy for idempotent calls.
    pub retry: RetryPolicy,
    /// Told of every request this client sends (metrics).
    pub observer: Option<Arc<dyn CallObserver>>,
    /// Requests in flight at once, at most (the others wait their turn):
    /// Quay pays a bcrypt check for each, so a burst of reconciles queues
    /// here instead of on Quay's workers.
    pub max_in_flight: usize,
}

/// Default of [`ClientOptions::max_in_flight`].
pub const MAX_IN_FLIGHT: usize = 8;

/// Told of each request a client sent: method, route template (names
/// replaced by `{}`), status (`None` when no answer came) and duration.
pub trait CallObserver: Send + Sync {
    /// One finished request.
    fn observe(&self, method: &str, route: &str, status: Option<u16>, elapsed: Duration);
}

impl ClientOptions {
    /// Options with defaults: 30 s timeout, default retry policy.
    pub fn new(url: impl Into<String>, token: SecretString) -> Self {
        ClientOptions {
            url: url.into(),
            token,
            ca_bundle_pem: None,
            insecure_skip_tls_verify: false,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            observer: None,
            max_in_flight: MAX_IN_FLIGHT,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.url)
            .field("ca_bundle", &self.ca_bundle_pem.as_ref().map(|b| b.len()))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A typed client for one Quay endpoint. Cheap to clone; clones share the
/// connection pool and the request counter.
#[derive(Clone)]
pub struct QuayClient {
    http: reqwest::Client,
    base: Arc<str>,
    token: SecretString,
    retry: RetryPolicy,
    counters: Arc<CallCounters>,
    observer: Option<Arc<dyn CallObserver>>,
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for QuayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuayClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// One API call: what to send and how to treat the answer.
pub(crate) struct Call<'a> {
    method: Method,
    path: String,
    query: Vec<(&'a str, String)>,
    body: Option<serde_json::Value>,
    idempotent: bool,
    authenticated: bool,
    secrets: Vec<String>,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: String) -> Self {
        let idempotent = method != Method::POST;
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            idempotent,
            authenticated: true,
            secrets: Vec::new(),
        }
    }
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Call::new(Method::GET, path.into())
    }
    pub(crate) fn post(path: impl Into<String>) -> Self {
        Call::new(Method::POST, path.into())
    }
    pub(crate) fn put(path: impl Into<String>) -> Self {
        Call::new(Method::PUT, path.into())
    }
    pub(crate) fn delete(path: impl Into<String>) -> Self {
        Call::new(Method::DELETE, path.into())
    }
    pub(crate) fn query(mut self, key: &'a str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }
    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).unwrap_or(serde_json::Value::Null));
        self
    }
    /// Marks a POST whose repetition is harmless, so it may be retried.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    /// Sends no token (for `user/initialize`).
    pub(crate) fn anonymous(mut self) -> Self {
        self.authenticated = false;
        self
    }
    /// Values sent in the body that must never appear in an error message.
    pub(crate) fn secret(mut self, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.secrets.push(v.to_owned());
        }
        self
    }
    fn endpoint(&self) -> String {
        format!("{} /api/v1{}", self.method, self.path)
    }
}

/// A successful answer.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: bytes::Bytes,
    endpoint: String,
}

impl Reply {
    /// Decodes the JSON body.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, QuayError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            QuayError::new(
                ErrorKind::Decode,
                self.endpoint.clone(),
                format!(
                    "cannot read Quay's answer (HTTP {}): {e}",
                    self.status.as_u16()
                ),
            )
        })
    }
}

impl QuayClient {
    /// Builds a client. Fails on a malformed URL or CA bundle.
    pub fn new(options: ClientOptions) -> Result<Self, QuayError> {
        let base = options.url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            QuayError::new(
                ErrorKind::Config,
                "client",
                format!("invalid Quay URL {base:?}: {e}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(QuayError::new(
                ErrorKind::Config,
                "client",
                format!("Quay URL must be http or https, got {base:?}"),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("quay-config-operator/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(options.insecure_skip_tls_verify);
        if let Some(pem) = &options.ca_bundle_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                QuayError::new(
                    ErrorKind::Config,
                    "client",
                    "invalid CA bundle (expected PEM certificates)",
                )
                .with_source(e)
            })?;
            if certs.is_empty() {
                return Err(QuayError::new(
                    ErrorKind::Config,
                    "client",
                    "the CA bundle holds no PEM certificate",
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| {
            QuayError::new(ErrorKind::Config, "client", "cannot build the HTTP client")
                .with_source(e)
        })?;
        Ok(QuayClient {
            http,
            base: base.into(),
            token: options.token,
            retry: options.retry,
            counters: Arc::new(CallCounters::default()),
            observer: options.observer,
            in_flight: Arc::new(tokio::sync::Semaphore::new(options.max_in_flight.max(1))),
        })
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A digest of `data` keyed by this client's token (HMAC-SHA256, 128 bits
    /// in hex): equal data give equal digests through the same token, and
    /// without the token nobody can test a guess of `data` against it, so it
    /// may be shown where `data` (a password) may not.
    pub fn keyed_digest(&self, data: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.token.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(data);
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The registry host (`host[:port]`) that image pull specs use.
    pub fn registry_host(&self) -> String {
        reqwest::Url::parse(&self.base)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| {
                    u.port()
                        .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
                })
            })
            .unwrap_or_default()
    }

    /// HTTP requests sent so far by this client and its clones (retries included).
    pub fn request_count(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Requests other than GET sent so far by this client and its clones
    /// (retries included).
    pub fn write_count(&self) -> u64 {
        self.counters.writes.load(Ordering::Relaxed)
    }

    /// Sends a call, retrying idempotent ones on transient failures.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, QuayError> {
        let mut retry = 0;
        loop {
            match self.send_once(&call).await {
                Ok(reply) => return Ok(reply),
                Err(err) => {
                    let err = err.redact(&call.secrets);
                    let repeatable = call.idempotent || err.never_reached_quay();
                    let delay = if repeatable && err.is_transient() {
                        self.retry.delay(retry, err.retry_after)
                    } else {
                        None
                    };
                    match delay {
                        Some(delay) => {
                            tracing::debug!(endpoint = %err.endpoint, error = %err.message, ?delay, "retrying Quay call");
                            tokio::time::sleep(delay).await;
                            retry += 1;
                        }
                        None => return Err(err),
                    }
                }
            }
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Reply, QuayError> {
        // Held until the answer is read; the semaphore is never closed.
        let _turn = self.in_flight.acquire().await.ok();
        let endpoint = call.endpoint();
        let url = format!("{}/api/v1{}", self.base, call.path);
        let mut request = self.http.request(call.method.clone(), &url);
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if call.authenticated {
            request = request.bearer_auth(self.token.expose_secret());
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let write = call.method != Method::GET;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if write {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        let started = Instant::now();
        let sent = request.send().await;
        if let Some(observer) = &self.observer {
            let status = sent.as_ref().ok().map(|r| r.status().as_u16());
            observer.observe(
                call.method.as_str(),
                &route_template(&call.path),
                status,
                started.elapsed(),
            );
        }
        let response = sent.map_err(|e| transport(&endpoint, e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport(&endpoint, e))?;
        tracing::debug!(%endpoint, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "quay call");
        if status.is_success() {
            return Ok(Reply {
                status,
                body,
                endpoint,
            });
        }
        Err(QuayError::from_response(
            endpoint,
            status.as_u16(),
            &content_type,
            &body,
            retry_after,
        ))
    }

    /// GET returning JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, QuayError> {
        self.send(call).await?.json()
    }

    /// GET returning JSON, with "not found" as `None`.
    pub(crate) async fn get_optional<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        not_found: &[&str],
    ) -> Result<Option<T>, QuayError> {
        match self.send(call).await {
            Ok(reply) => reply.json().map(Some),
            Err(e) => match e.not_found_if(not_found) {
                e if e.is_not_found() => Ok(None),
                e => Err(e),
            },
        }
    }

    /// A call whose answer body carries nothing the caller needs.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<(), QuayError> {
        self.send(call).await.map(|_| ())
    }
}

/// Path segments that are part of Quay's routes; any other segment is a name
/// (organization, repository, robot, id) and becomes `{}` in a route template.
const ROUTE_WORDS: &[&str] = &[
    "aggregatelogs",
    "applications",
    "autoprunepolicy",
    "changestate",
    "changevisibility",
    "clearfailures",
    "discovery",
    "federation",
    "initialize",
    "invite",
    "limit",
    "logs",
    "members",
    "message",
    "messages",
    "mirror",
    "notification",
    "organization",
    "organizations",
    "permissions",
    "prototypes",
    "proxycache",
    "quota",
    "regenerate",
    "repository",
    "resetclientsecret",
    "robots",
    "superuser",
    "sync-cancel",
    "sync-now",
    "team",
    "test",
    "user",
    "users",
    "validateproxycache",
];

/// `/repository/acme/app/notification/` → `/repository/{}/{}/notification/`:
/// a bounded label for metrics.
pub fn route_template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|segment| match segment {
            "" => "",
            s if ROUTE_WORDS.contains(&s) => s,
            _ => "{}",
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn transport(endpoint: &str, err: reqwest::Error) -> QuayError {
    let what = if err.is_timeout() {
        "request timed out"
    } else if err.is_connect() {
        "cannot connect to Quay"
    } else {
        "connection to Quay failed"
    };
    QuayError::new(ErrorKind::Transport, endpoint, what).with_source(err.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(token: &str) -> QuayClient {
        QuayClient::new(ClientOptions::new(
            "https://quay.example.com",
            SecretString::from(token.to_owned()),
        ))
        .unwrap()
    }

    #[test]
    fn digests_depend_on_the_data_and_the_token_and_show_neither() {
        let (a, b) = (client("token-a"), client("token-b"));
        let digest = a.keyed_digest(b"password");
        assert_eq!(digest, a.keyed_digest(b"password"));
        assert_eq!(digest.len(), 32);
        assert_ne!(digest, a.keyed_digest(b"passwore"));
        assert_ne!(digest, b.keyed_digest(b"password"));
        assert!(!digest.contains("password") && !digest.contains("token"));
    }
}
