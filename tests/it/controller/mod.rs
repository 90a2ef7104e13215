//! Controller tests without a cluster: the Kubernetes API is a tower-test
//! mock that verifies each expected request in order (as kube-rs's
//! controller-rs does), Quay is the in-process emulator.

mod connection;
mod feed;
mod global_message;
mod health;
mod mirror;
mod notification;
mod oauth_application;
mod proxy_cache;
mod quota;
mod repository;
mod robot;
mod tenancy;
mod user_namespace;
mod watches;

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use quay_config_operator::controller::{Context, KindContext, ManagedResource};
use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

pub const NS: &str = "team";
pub const TOKEN: &str = "controller-test-token";

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

/// Plays the Kubernetes API server: each `expect` waits for the next
/// request, checks method and path, answers, and returns the request body.
pub struct ApiServer(Handle);

impl ApiServer {
    pub async fn expect(&mut self, method: &str, path: &str, status: u16, answer: Value) -> Value {
        let (request, send) = tokio::time::timeout(Duration::from_secs(5), self.0.next_request())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {method} {path}"))
            .unwrap_or_else(|| panic!("the reconcile ended before {method} {path}"));
        assert_eq!(request.method().as_str(), method, "for {}", request.uri());
        assert_eq!(request.uri().path(), path);
        let body = request.into_body().collect_bytes().await.expect("body");
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let response = Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&answer).unwrap()))
            .unwrap();
        send.send_response(response);
        body
    }

    /// Answers a GET of `path` with the API server's 404.
    pub async fn expect_not_found(&mut self, path: &str) {
        let status = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "reason": "NotFound", "code": 404, "message": "not found"});
        self.expect("GET", path, 404, status).await;
    }

    /// Answers an Event creation and returns the event.
    pub async fn expect_event(&mut self) -> Value {
        let path = format!("/apis/events.k8s.io/v1/namespaces/{NS}/events");
        let (request, send) = tokio::time::timeout(Duration::from_secs(5), self.0.next_request())
            .await
            .expect("timed out waiting for an event")
            .expect("the reconcile ended before an expected event");
        assert_eq!(request.uri().path(), path);
        let body = request.into_body().collect_bytes().await.expect("body");
        let response = Response::builder()
            .status(201)
            .body(Body::from(body.to_vec()))
            .unwrap();
        send.send_response(response);
        serde_json::from_slice(&body).expect("event json")
    }

    /// Answers the connection and token Secret lookups.
    pub async fn expect_connection(&mut self, quay_url: &str, token: &str, secret_version: &str) {
        self.expect(
            "GET",
            &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default"),
            200,
            connection(quay_url),
        )
        .await;
        self.expect(
            "GET",
            &format!("/api/v1/namespaces/{NS}/secrets/quay-token"),
            200,
            token_secret(token, secret_version),
        )
        .await;
    }
}

/// A mock Kubernetes client and the server side of it.
pub fn mock_client() -> (Client, ApiServer) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, NS), ApiServer(handle))
}

/// A running emulator with the test token.
pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: false,
        mailing: false,
    })
    .await
    .expect("emulator")
}

/// The reconciler context of kind `K`, with the given objects in its cache.
pub fn kind_context<K: ManagedResource>(client: Client, objects: &[K]) -> Arc<KindContext<K>> {
    let (reader, mut writer): (Store<K>, _) = reflector::store();
    for o in objects {
        writer.apply_watcher_event(&watcher::Event::Apply(o.clone()));
    }
    Arc::new(KindContext {
        shared: Arc::new(Context::new(
            client,
            Duration::from_secs(600),
            Duration::from_secs(20),
            Default::default(),
        )),
        store: reader,
    })
}

pub fn connection(url: &str) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayConnection",
        "metadata": {"name": "default", "namespace": NS, "resourceVersion": "7", "uid": "conn-uid", "generation": 1},
        "spec": {"url": url, "tokenSecretRef": {"name": "quay-token", "key": "token"}}
    })
}

pub fn token_secret(token: &str, version: &str) -> Value {
    let secret = k8s_openapi::api::core::v1::Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("quay-token".into()),
            namespace: Some(NS.into()),
            resource_version: Some(version.into()),
            ..Default::default()
        },
        data: Some(
            [(
                "token".to_owned(),
                k8s_openapi::ByteString(token.as_bytes().to_vec()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    serde_json::to_value(secret).expect("secret json")
}

/// A registry credentials Secret (uid `creds-uid`) at `version`: its
/// resourceVersion, optionally followed by `:` and a name for its content
/// (the same content when unnamed: a new version with the same content is a
/// write to its metadata alone). The password starts with `password`.
pub fn credentials_secret(name: &str, password: &str, version: &str) -> Value {
    let (resource_version, content) = version.split_once(':').unwrap_or((version, "a"));
    secret(
        name,
        "creds-uid",
        resource_version,
        &[
            ("username", "puller"),
            ("password", &format!("{password}-{content}")),
        ],
    )
}

/// Whether `status` records credentials sent from the Secret of
/// [`credentials_secret`] at resourceVersion `rv`.
pub fn sent_from(status: &Value, rv: &str) -> bool {
    status["credentialsVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with(&format!("creds-uid/{rv};password,username#")))
}

/// A Secret of the test namespace with the given uid, resourceVersion and text data.
pub fn secret(name: &str, uid: &str, version: &str, data: &[(&str, &str)]) -> Value {
    let secret = k8s_openapi::api::core::v1::Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            namespace: Some(NS.into()),
            uid: Some(uid.into()),
            resource_version: Some(version.into()),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        k8s_openapi::ByteString(v.as_bytes().to_vec()),
                    )
                })
                .collect(),
        ),
        ..Default::default()
    };
    serde_json::to_value(secret).expect("secret json")
}

/// An emulator with the test token and the given FEATURE_SUPERUSERS_FULL_ACCESS.
pub async fn emulator_with(superusers_full_access: bool) -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access,
        mailing: false,
    })
    .await
    .expect("emulator")
}

/// Calls of one emulator route (`"POST /api/v1/..."`, as in [`Emulator::stats`]).
pub fn calls(emu: &Emulator, route: &str) -> u64 {
    emu.stats().by_route.get(route).copied().unwrap_or(0)
}

/// The Ready condition of a status patch body.
pub fn ready(patch: &Value) -> &Value {
    condition(patch, "Ready").unwrap_or_else(|| panic!("no Ready condition in {patch}"))
}

/// A condition of a status patch (or an object with a status), by type.
pub fn condition<'a>(patch: &'a Value, type_: &str) -> Option<&'a Value> {
    patch["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
}

/// Waits for a reconcile task; a reconcile stuck on an unexpected API call fails the test.
pub async fn finish<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("reconcile made an API call the test did not expect, or hung")
        .expect("reconcile task panicked")
}
