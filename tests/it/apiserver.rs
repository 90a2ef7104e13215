//! A stateful, in-memory Kubernetes API server for tests that run the real
//! controllers for a long time (the soak, leader failover): what tower-test's
//! scripted exchanges cannot do at a thousand resources. No crate offers one
//! for kube 5 (kube-fake-client targets kube 4), so this serves the subset the
//! operator uses, with the apiserver's semantics where they matter:
//!
//! - get, list (with `labelSelector` equality terms), watch (from a list's
//!   `resourceVersion`, replaying what happened since, then live), create,
//!   replace, delete, and patches: merge, strategic (as merge), JSON patch
//!   (kube's finalizer helper) and server-side apply (as merge, creating);
//! - one `resourceVersion` counter for everything, `metadata.resourceVersion`
//!   preconditions (409 on a stale one), `generation` bumped by spec changes
//!   of custom resources, the `status` subresource (a main-resource write
//!   keeps the status, a status write changes only the status);
//! - deletion with finalizers (`deletionTimestamp`, then gone once the last
//!   finalizer is removed);
//! - Leases: an apply that would take `holderIdentity` from another holder
//!   conflicts, as server-side apply does between field managers.
//!
//! Paths are parsed generically, so any kind works, namespaced or not.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// Where an object lives: its collection's path and its name.
type Key = (String, String);

/// A change, as a watch reports it.
#[derive(Clone, Debug)]
struct Change {
    resource_version: u64,
    collection: String,
    type_: &'static str,
    object: Value,
}

#[derive(Default)]
struct State {
    resource_version: u64,
    objects: BTreeMap<Key, Value>,
    history: Vec<Change>,
}

/// The fake API server; clones share it.
#[derive(Clone)]
pub struct ApiServer {
    state: Arc<Mutex<State>>,
    changes: broadcast::Sender<Change>,
}

impl Default for ApiServer {
    fn default() -> Self {
        ApiServer {
            state: Arc::default(),
            changes: broadcast::channel(1 << 16).0,
        }
    }
}

/// A request's target, parsed from its path.
struct Target {
    collection: String,
    resource: String,
    name: Option<String>,
    subresource: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let prefix = match *segments.first()? {
        "api" => 2,
        "apis" => 3,
        _ => return None,
    };
    let rest = segments.get(prefix..)?;
    let (collection_len, rest_start) = match rest {
        ["namespaces", _, _, ..] => (prefix + 3, 3),
        [_, ..] => (prefix + 1, 1),
        [] => return None,
    };
    Some(Target {
        collection: format!("/{}", segments[..collection_len].join("/")),
        resource: segments[collection_len - 1].to_owned(),
        name: rest.get(rest_start).map(|s| (*s).to_owned()),
        subresource: rest.get(rest_start + 1).map(|s| (*s).to_owned()),
    })
}

fn query(request: &Request<Body>) -> BTreeMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `object`'s labels satisfy `key=value[,key=value]`.
fn matches_labels(object: &Value, selector: Option<&String>) -> bool {
    selector.is_none_or(|selector| {
        selector.split(',').filter(|t| !t.is_empty()).all(|term| {
            let (key, value) = term.split_once('=').unwrap_or((term, ""));
            let value = value.trim_start_matches('=');
            object["metadata"]["labels"][key].as_str() == Some(value)
        })
    })
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response<ResponseBody> {
    json_response(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn json_response(code: StatusCode, value: &Value) -> Response<ResponseBody> {
    Response::builder()
        .status(code)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(value).unwrap())).boxed_unsync())
        .unwrap()
}

/// `generation` counts spec changes of custom resources only, as the
/// apiserver does for CRDs with a status subresource.
fn counts_generations(collection: &str) -> bool {
    collection.starts_with("/apis/quayconfig.io/")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn without(value: &Value, fields: &[&str]) -> Value {
    let mut value = value.clone();
    if let Some(map) = value.as_object_mut() {
        for field in fields {
            map.remove(*field);
        }
    }
    value
}

impl ApiServer {
    /// A kube client talking to this server; `namespace` is its default.
    pub fn client(&self, namespace: &str) -> Client {
        let server = self.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let server = server.clone();
            async move { Ok::<_, Infallible>(server.answer(request).await) }
        });
        Client::new(service, namespace)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates or replaces an object as a person would (`kubectl apply`),
    /// by its `apiVersion`, `kind` plural and namespace.
    pub fn apply(&self, collection: &str, object: Value) {
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let mut state = self.lock();
        let key = (collection.to_owned(), name);
        let next = match state.objects.get(&key) {
            None => Self::fresh(collection, object),
            Some(current) => {
                let mut next = current.clone();
                json_patch::merge(&mut next, &without(&object, &["status"]));
                Self::bump_generation(collection, current, &mut next);
                next
            }
        };
        self.store(&mut state, key, next);
    }

    /// An object, if it exists.
    pub fn get(&self, collection: &str, name: &str) -> Option<Value> {
        let state = self.lock();
        state
            .objects
            .get(&(collection.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every object of a collection.
    pub fn list(&self, collection: &str) -> Vec<Value> {
        let state = self.lock();
        state
            .objects
            .iter()
            .filter(|((c, _), _)| c == collection)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn fresh(collection: &str, mut object: Value) -> Value {
        let meta = &mut object["metadata"];
        meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
        meta["creationTimestamp"] = json!(now());
        if let Some(ns) = collection.split("/namespaces/").nth(1) {
            meta["namespace"] = json!(ns.split('/').next().unwrap());
        }
        if counts_generations(collection) {
            meta["generation"] = json!(1);
        }
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        object
    }

    fn bump_generation(collection: &str, current: &Value, next: &mut Value) {
        let changed =
            without(current, &["metadata", "status"]) != without(next, &["metadata", "status"]);
        if counts_generations(collection) && changed {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(0);
            next["metadata"]["generation"] = json!(generation + 1);
        }
    }

    /// Stores `object` under a new resourceVersion and tells the watches;
    /// an object being deleted whose last finalizer went is removed instead.
    fn store(&self, state: &mut State, key: Key, mut object: Value) {
        state.resource_version += 1;
        let rv = state.resource_version;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let finalizers_gone = object["metadata"]["finalizers"]
            .as_array()
            .is_none_or(|f| f.is_empty());
        let deleting = !object["metadata"]["deletionTimestamp"].is_null();
        let existed = state.objects.contains_key(&key);
        let type_ = match (deleting && finalizers_gone, existed) {
            (true, _) => {
                state.objects.remove(&key);
                "DELETED"
            }
            (false, true) => "MODIFIED",
            (false, false) => "ADDED",
        };
        if type_ != "DELETED" {
            state.objects.insert(key.clone(), object.clone());
        }
        let change = Change {
            resource_version: rv,
            collection: key.0,
            type_,
            object,
        };
        state.history.push(change.clone());
        let _ = self.changes.send(change);
    }

    fn delete_locked(&self, state: &mut State, key: Key) -> Option<Value> {
        let mut object = state.objects.get(&key)?.clone();
        if object["metadata"]["deletionTimestamp"].is_null() {
            object["metadata"]["deletionTimestamp"] = json!(now());
        }
        let has_finalizers = object["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if !has_finalizers {
            object["metadata"]["finalizers"] = json!([]);
        }
        self.store(state, key, object.clone());
        Some(object)
    }

    async fn answer(&self, request: Request<Body>) -> Response<ResponseBody> {
        let Some(target) = parse_path(request.uri().path()) else {
            return status(StatusCode::NOT_FOUND, "NotFound", "no such path");
        };
        let query = query(&request);
        let method = request.method().clone();
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = request
            .into_body()
            .collect_bytes()
            .await
            .unwrap_or_default();
        let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
        let selector = query.get("labelSelector");
        match (method, target.name.clone()) {
            (Method::GET, None) if watch => self.watch(&target, &query),
            (Method::GET, None) => {
                let state = self.lock();
                let items: Vec<Value> = state
                    .objects
                    .iter()
                    .filter(|((c, _), o)| *c == target.collection && matches_labels(o, selector))
                    .map(|(_, o)| o.clone())
                    .collect();
                json_response(
                    StatusCode::OK,
                    &json!({"apiVersion": "v1", "kind": "List", "items": items,
                            "metadata": {"resourceVersion": state.resource_version.to_string()}}),
                )
            }
            (Method::GET, Some(name)) => match self.get(&target.collection, &name) {
                Some(object) => json_response(StatusCode::OK, &object),
                None => not_found(&target, &name),
            },
            (Method::POST, _) => {
                let Ok(object) = serde_json::from_slice::<Value>(&body) else {
                    return status(StatusCode::BAD_REQUEST, "BadRequest", "not JSON");
                };
                let mut state = self.lock();
                let mut object = object;
                let name = match object["metadata"]["name"].as_str() {
                    Some(name) => name.to_owned(),
                    None => {
                        let prefix = object["metadata"]["generateName"].as_str().unwrap_or("x-");
                        let name = format!("{prefix}{}", state.resource_version + 1);
                        object["metadata"]["name"] = json!(name);
                        name
                    }
                };
                let key = (target.collection.clone(), name.clone());
                if state.objects.contains_key(&key) {
                    return status(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        &format!("{} {name:?} already exists", target.resource),
                    );
                }
                let object = Self::fresh(&target.collection, object);
                self.store(&mut state, key.clone(), object);
                json_response(StatusCode::CREATED, &state.objects[&key])
            }
            (Method::DELETE, Some(name)) => {
                let mut state = self.lock();
                match self.delete_locked(&mut state, (target.collection.clone(), name.clone())) {
                    Some(object) => json_response(StatusCode::OK, &object),
                    None => not_found(&target, &name),
                }
            }
            (Method::PUT | Method::PATCH, Some(name)) => {
                let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
                    return status(StatusCode::BAD_REQUEST, "BadRequest", "not JSON");
                };
                let replace = content_type.is_empty() || content_type == "application/json";
                self.write(&target, &name, &content_type, replace, patch)
            }
            (method, _) => status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                &format!("{method} is not served here"),
            ),
        }
    }

    /// A replace (PUT) or a patch of one object (or of its status).
    fn write(
        &self,
        target: &Target,
        name: &str,
        content_type: &str,
        replace: bool,
        patch: Value,
    ) -> Response<ResponseBody> {
        let mut state = self.lock();
        let key = (target.collection.clone(), name.to_owned());
        let apply = content_type.starts_with("application/apply-patch");
        let current = match state.objects.get(&key) {
            Some(current) => current.clone(),
            None if apply && target.subresource.is_none() => {
                let object = Self::fresh(&target.collection, patch);
                self.store(&mut state, key.clone(), object);
                return json_response(StatusCode::CREATED, &state.objects[&key]);
            }
            None => return not_found(target, name),
        };
        if let Some(expected) = patch["metadata"]["resourceVersion"].as_str()
            && Some(expected) != current["metadata"]["resourceVersion"].as_str()
        {
            return status(
                StatusCode::CONFLICT,
                "Conflict",
                "the object has been modified; please apply your changes to the latest version and try again",
            );
        }
        if apply && target.resource == "leases" {
            let held = current["spec"]["holderIdentity"].as_str();
            let wanted = patch["spec"]["holderIdentity"].as_str();
            if held.is_some() && wanted.is_some() && held != wanted {
                return status(
                    StatusCode::CONFLICT,
                    "Conflict",
                    "Apply failed with 1 conflict: conflict with another field manager: .spec.holderIdentity",
                );
            }
        }
        let mut next = current.clone();
        if replace {
            next = patch;
            next["metadata"]["uid"] = current["metadata"]["uid"].clone();
            next["metadata"]["creationTimestamp"] =
                current["metadata"]["creationTimestamp"].clone();
            next["metadata"]["generation"] = current["metadata"]["generation"].clone();
        } else if content_type.starts_with("application/json-patch") {
            let Ok(mut ops) = serde_json::from_value::<json_patch::Patch>(patch) else {
                return status(StatusCode::BAD_REQUEST, "BadRequest", "not a JSON patch");
            };
            // The apiserver's JSON patch (evanphx/json-patch) finds `null`
            // at a missing path: kube's finalizer helper tests for it.
            ops.0.retain(|op| match op {
                json_patch::PatchOperation::Test(t) => {
                    !(t.value.is_null() && next.pointer(t.path.as_str()).is_none())
                }
                _ => true,
            });
            if let Err(e) = json_patch::patch(&mut next, &ops) {
                return status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    &format!("the JSON patch failed: {e}"),
                );
            }
        } else {
            json_patch::merge(&mut next, &patch);
        }
        // The status subresource and the main resource each keep to their part.
        match target.subresource.as_deref() {
            Some("status") => {
                let status = next.get("status").cloned();
                next = current.clone();
                match status {
                    Some(s) => next["status"] = s,
                    None => {
                        next.as_object_mut().unwrap().remove("status");
                    }
                }
            }
            _ => {
                match current.get("status") {
                    Some(s) => next["status"] = s.clone(),
                    None => {
                        if let Some(map) = next.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
                Self::bump_generation(&target.collection, &current, &mut next);
            }
        }
        self.store(&mut state, key.clone(), next.clone());
        let answer = state.objects.get(&key).cloned().unwrap_or(next);
        json_response(StatusCode::OK, &answer)
    }

    /// A watch from `resourceVersion`: what changed since, then live changes,
    /// until the client goes away.
    fn watch(&self, target: &Target, query: &BTreeMap<String, String>) -> Response<ResponseBody> {
        let since: u64 = query
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let selector = query.get("labelSelector").cloned();
        let collection = target.collection.clone();
        let (sender, receiver) = mpsc::unbounded_channel::<Bytes>();
        let (replay, mut live) = {
            let state = self.lock();
            let replay: Vec<Change> = state
                .history
                .iter()
                .filter(|c| c.resource_version > since)
                .cloned()
                .collect();
            (replay, self.changes.subscribe())
        };
        let line = |change: &Change| {
            let mut text =
                serde_json::to_vec(&json!({"type": change.type_, "object": change.object}))
                    .unwrap();
            text.push(b'\n');
            Bytes::from(text)
        };
        let relevant = move |change: &Change| {
            change.collection == collection && matches_labels(&change.object, selector.as_ref())
        };
        tokio::spawn(async move {
            for change in replay.iter().filter(|c| relevant(c)) {
                if sender.send(line(change)).is_err() {
                    return;
                }
            }
            let last = replay.last().map_or(since, |c| c.resource_version);
            loop {
                let change = match live.recv().await {
                    Ok(change) => change,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let gone = json!({"type": "ERROR", "object": {"kind": "Status",
                            "apiVersion": "v1", "status": "Failure", "reason": "Expired",
                            "message": "too old resource version", "code": 410}});
                        let _ = sender.send(Bytes::from(format!("{gone}\n")));
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if change.resource_version > last
                    && relevant(&change)
                    && sender.send(line(&change)).is_err()
                {
                    return;
                }
            }
        });
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver
                .recv()
                .await
                .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), receiver))
        });
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(StreamBody::new(stream).boxed_unsync())
            .unwrap()
    }
}

fn not_found(target: &Target, name: &str) -> Response<ResponseBody> {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{} {name:?} not found", target.resource),
    )
}
