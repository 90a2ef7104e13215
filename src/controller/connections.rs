//! Resolves a QuayConnection or ClusterQuayConnection (and the Secrets and
//! ConfigMaps it names, and for a cluster connection its tenancy rules) into
//! a ready-to-use [`Quay`]. Clients are cached by what they were built from
//! (connection, URL, TLS settings, token, CA bundle), so an edited token takes effect at
//! the next reconcile without a restart, while an unchanged one (whatever
//! happens to the Secret's metadata) reuses the client, its connection pool
//! and its shared list cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::{Api, Client, ResourceExt};
use secrecy::SecretString;

use super::kinds::{Inputs, SecretKey};
use super::tenancy::{self, Grant};
use crate::crd::{
    ClusterQuayConnection, ConnectionKind, ConnectionRef, QuayConnection, QuayConnectionSpec,
    QuayConnectionStatus,
};
use crate::engine::Quay;
use crate::quay::{CallObserver, ClientOptions, QuayClient, QuayError};

/// Why a connection cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The connection does not exist (`QuayConnection "x" in this namespace`).
    #[error("{0} not found")]
    NotFound(String),
    /// A ClusterQuayConnection's tenancy rules do not allow this use.
    #[error("{0}")]
    NotPermitted(String),
    /// The token belongs to another Quay user than the connection is pinned to.
    #[error("{0}")]
    IdentityChanged(#[from] super::identity::IdentityChanged),
    /// A Secret or ConfigMap it names is missing (it may yet be created, e.g.
    /// by a secrets operator).
    #[error("{0}")]
    SecretNotFound(String),
    /// A Secret or ConfigMap it names exists but lacks the key, or the value
    /// is not text: only a person can fix it.
    #[error("{0}")]
    SecretUnusable(String),
    /// The connection reports that Quay refuses its token: nothing is sent
    /// until it works again (its controller checks, then wakes its users).
    #[error("{0}")]
    TokenRefused(String),
    /// The settings are unusable (bad URL, bad CA bundle).
    #[error("invalid QuayConnection: {0}")]
    Invalid(#[source] QuayError),
    /// Reading from the Kubernetes API failed.
    #[error("cannot read from the Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl ConnectionError {
    /// CamelCase reason for conditions and events.
    pub fn reason(&self) -> &'static str {
        match self {
            ConnectionError::NotFound(_) => "ConnectionNotFound",
            ConnectionError::NotPermitted(_) => "NotPermitted",
            ConnectionError::IdentityChanged(_) => "IdentityChanged",
            ConnectionError::SecretNotFound(_) => "SecretNotFound",
            ConnectionError::SecretUnusable(_) => "InvalidSecret",
            ConnectionError::TokenRefused(_) => "Unauthorized",
            ConnectionError::Invalid(_) => "InvalidConnection",
            ConnectionError::Kube(_) => "KubernetesError",
        }
    }
}

/// A connection resolved for a resource of one namespace.
pub struct Resolved {
    /// The Quay endpoint.
    pub quay: Quay,
    /// For a ClusterQuayConnection: what the namespace may manage through it.
    pub grant: Option<Grant>,
    /// The connection's status (its pinned Quay user).
    pub status: Option<QuayConnectionStatus>,
    /// The connection's annotations.
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// Builds and caches [`Quay`] endpoints from QuayConnections and
/// ClusterQuayConnections.
pub struct Connections {
    client: Client,
    list_ttl: Duration,
    observer: Arc<dyn CallObserver>,
    /// Where ClusterQuayConnections' Secrets and ConfigMaps live.
    operator_namespace: Option<String>,
    /// Clients by (namespace or "" for cluster connections, connection), with
    /// a hash of what they were built from (connection uid, URL, TLS and
    /// timeout settings, token, CA).
    cache: Mutex<HashMap<(String, ConnectionRef), (u64, Quay)>>,
    /// The Quay host of each connection seen, for ownership across the cluster.
    hosts: Mutex<HashMap<(String, ConnectionRef), String>>,
}

impl Connections {
    /// A resolver reading through `client`; list answers are shared for `list_ttl`.
    /// Every client built reports its calls to `observer` (metrics).
    pub fn new(client: Client, list_ttl: Duration, observer: Arc<dyn CallObserver>) -> Self {
        Connections {
            client,
            list_ttl,
            observer,
            operator_namespace: None,
            cache: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the operator's namespace, where ClusterQuayConnections' Secrets live.
    pub fn set_operator_namespace(&mut self, namespace: Option<String>) {
        self.operator_namespace = namespace;
    }

    /// The connection `target` for a resource in `namespace`: its Quay, and for
    /// a ClusterQuayConnection the grant its tenancy rules give the namespace.
    /// A cluster-scoped resource (`namespace` empty) uses a ClusterQuayConnection
    /// without tenancy rules: those govern namespaces, and only whoever may
    /// create cluster-scoped resources can create one.
    pub async fn resolve(
        &self,
        namespace: &str,
        target: &ConnectionRef,
    ) -> Result<Resolved, ConnectionError> {
        match target.kind {
            ConnectionKind::QuayConnection if namespace.is_empty() => {
                Err(ConnectionError::NotPermitted(format!(
                    "{target}: a cluster-scoped resource names a ClusterQuayConnection in spec.connectionRef"
                )))
            }
            _ if target.name.is_empty() => Err(ConnectionError::NotPermitted(
                "spec.connectionRef names no connection".to_owned(),
            )),
            ConnectionKind::QuayConnection => {
                let api: Api<QuayConnection> = Api::namespaced(self.client.clone(), namespace);
                let connection = api.get_opt(&target.name).await?.ok_or_else(|| {
                    ConnectionError::NotFound(format!(
                        "QuayConnection {:?} in this namespace",
                        target.name
                    ))
                })?;
                let quay = self.quay_for(&connection).await?;
                Ok(Resolved {
                    quay,
                    grant: None,
                    annotations: connection.annotations().clone(),
                    status: connection.status,
                })
            }
            ConnectionKind::ClusterQuayConnection => {
                let api: Api<ClusterQuayConnection> = Api::all(self.client.clone());
                let connection = api.get_opt(&target.name).await?.ok_or_else(|| {
                    ConnectionError::NotFound(format!("ClusterQuayConnection {:?}", target.name))
                })?;
                let labels = match tenancy::needs_labels(&connection) && !namespace.is_empty() {
                    true => {
                        let api: Api<Namespace> = Api::all(self.client.clone());
                        api.get_opt(namespace)
                            .await?
                            .map(|n| n.labels().clone())
                            .unwrap_or_default()
                    }
                    false => Default::default(),
                };
                let grant = match namespace.is_empty() {
                    true => None,
                    false => Some(
                        tenancy::grant(&connection, namespace, &labels)
                            .map_err(ConnectionError::NotPermitted)?,
                    ),
                };
                let quay = self.quay_for_cluster(&connection).await?;
                Ok(Resolved {
                    quay,
                    grant,
                    annotations: connection.annotations().clone(),
                    status: connection.status,
                })
            }
        }
    }

    /// Like [`Connections::resolve`], for deleting: when the connection or
    /// its Secret is already gone (as when a whole namespace is deleted), the
    /// last client built from them is used, so deletion does not hang.
    pub async fn resolve_for_cleanup(
        &self,
        namespace: &str,
        target: &ConnectionRef,
    ) -> Result<Resolved, ConnectionError> {
        match self.resolve(namespace, target).await {
            Err(
                e @ (ConnectionError::NotFound(_)
                | ConnectionError::SecretNotFound(_)
                | ConnectionError::SecretUnusable(_)),
            ) => {
                let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                cache
                    .get(&cache_key(namespace, target))
                    .map(|(_, quay)| Resolved {
                        quay: quay.clone(),
                        grant: None,
                        status: None,
                        annotations: Default::default(),
                    })
                    .ok_or(e)
            }
            other => other,
        }
    }

    /// The Quay host (`host[:port]`) of the connection `target` of `namespace`:
    /// what, with the Quay object, identifies what a resource manages across
    /// the cluster. Read once per connection, then kept current by resolves.
    pub async fn host_of(&self, namespace: &str, target: &ConnectionRef) -> Option<String> {
        let key = cache_key(namespace, target);
        if let Some(host) = self
            .hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Some(host.clone());
        }
        let spec = match target.kind {
            ConnectionKind::QuayConnection => {
                let api: Api<QuayConnection> = Api::namespaced(self.client.clone(), namespace);
                api.get_opt(&target.name).await.ok()??.spec
            }
            ConnectionKind::ClusterQuayConnection => {
                let api: Api<ClusterQuayConnection> = Api::all(self.client.clone());
                api.get_opt(&target.name).await.ok()??.spec.endpoint
            }
        };
        let host = spec.registry_host()?;
        self.hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, host.clone());
        Some(host)
    }

    /// The Quay for an already-read QuayConnection.
    pub async fn quay_for(&self, connection: &QuayConnection) -> Result<Quay, ConnectionError> {
        let namespace = connection.namespace().unwrap_or_default();
        let key = cache_key(
            &namespace,
            &ConnectionRef::namespaced(connection.name_any()),
        );
        self.endpoint(
            key,
            &namespace,
            &connection.spec,
            connection.metadata.uid.as_deref(),
        )
        .await
    }

    /// The Quay for an already-read ClusterQuayConnection (its Secrets are in
    /// the operator's namespace).
    pub async fn quay_for_cluster(
        &self,
        connection: &ClusterQuayConnection,
    ) -> Result<Quay, ConnectionError> {
        let namespace = self.operator_namespace.clone().ok_or_else(|| {
            ConnectionError::SecretNotFound(
                "the operator's namespace, where ClusterQuayConnection Secrets live, is unknown (set POD_NAMESPACE)".to_owned(),
            )
        })?;
        let target = ConnectionRef {
            kind: ConnectionKind::ClusterQuayConnection,
            name: connection.name_any(),
        };
        self.endpoint(
            cache_key("", &target),
            &namespace,
            &connection.spec.endpoint,
            connection.metadata.uid.as_deref(),
        )
        .await
    }

    /// Builds (or reuses) the client of one connection whose Secrets and
    /// ConfigMaps are in `namespace`.
    async fn endpoint(
        &self,
        key: (String, ConnectionRef),
        namespace: &str,
        spec: &QuayConnectionSpec,
        uid: Option<&str>,
    ) -> Result<Quay, ConnectionError> {
        let token_secret = self.secret(namespace, &spec.token_secret_ref.name).await?;
        let token = secret_value(&token_secret, &spec.token_secret_ref.key)?;
        let mut ca = None;
        if let Some(bundle) = &spec.ca_bundle {
            if let Some(r) = &bundle.secret_ref {
                let s = self.secret(namespace, &r.name).await?;
                ca = Some(secret_value(&s, &r.key)?.into_bytes());
            } else if let Some(r) = &bundle.config_map_ref {
                let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
                let cm = api.get_opt(&r.name).await?.ok_or_else(|| {
                    ConnectionError::SecretNotFound(format!(
                        "ConfigMap {:?} (CA bundle) not found",
                        r.name
                    ))
                })?;
                let value = cm
                    .data
                    .as_ref()
                    .and_then(|d| d.get(&r.key))
                    .ok_or_else(|| {
                        ConnectionError::SecretUnusable(format!(
                            "ConfigMap {:?} has no key {:?}",
                            r.name, r.key
                        ))
                    })?;
                ca = Some(value.clone().into_bytes());
            }
        }
        // What the client is built from, by content: a write to the token
        // Secret's metadata (the connection's own finalizer, a GitOps label)
        // or an edit of the connection's tenancy rules keeps the client and
        // its list cache; a connection deleted and created again (new uid)
        // gets a new one.
        let built_from = {
            let mut hasher = std::hash::DefaultHasher::new();
            (
                uid,
                &spec.url,
                spec.insecure_skip_tls_verify,
                spec.timeout_seconds,
                &token,
                &ca,
            )
                .hash(&mut hasher);
            hasher.finish()
        };
        if let Some(host) = spec.registry_host() {
            self.hosts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.clone(), host);
        }
        // Looked up and built under one lock: the reconciles that start
        // together share one client and its list cache (separate ones would
        // each list again, and a write through one would leave the others'
        // lists stale).
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, quay)) = cache.get(&key)
            && *v == built_from
        {
            return Ok(quay.clone());
        }
        let mut options = ClientOptions::new(spec.url.clone(), SecretString::from(token));
        options.ca_bundle_pem = ca;
        options.insecure_skip_tls_verify = spec.insecure_skip_tls_verify;
        options.observer = Some(self.observer.clone());
        options.timeout = Duration::from_secs(spec.timeout_seconds.clamp(1, 300) as u64);
        let quay = Quay::new(
            QuayClient::new(options).map_err(ConnectionError::Invalid)?,
            self.list_ttl,
        );
        cache.insert(key, (built_from, quay.clone()));
        Ok(quay)
    }

    /// Reads the given Secret keys of a namespace. With `best_effort`,
    /// missing Secrets and keys are left out instead of failing.
    pub async fn secret_values(
        &self,
        namespace: &str,
        refs: &[SecretKey],
        best_effort: bool,
    ) -> Result<Inputs, ConnectionError> {
        let mut values = Inputs::default();
        // Each Secret is read once, so keys of one Secret (a username and a
        // password) always come from the same version of it.
        let mut read: std::collections::BTreeMap<&str, Result<Secret, String>> = Default::default();
        for r in refs {
            if !read.contains_key(r.name.as_str()) {
                let secret = match self.secret(namespace, &r.name).await {
                    Ok(secret) => Ok(secret),
                    Err(ConnectionError::SecretNotFound(m)) => Err(m),
                    Err(e) => return Err(e),
                };
                read.insert(&r.name, secret);
            }
            let value = match &read[r.name.as_str()] {
                Ok(secret) => secret_value(secret, &r.key).map(|v| {
                    let version = format!(
                        "{}/{}",
                        secret.metadata.uid.clone().unwrap_or_default(),
                        secret.resource_version().unwrap_or_default()
                    );
                    (v, version)
                }),
                Err(m) => Err(ConnectionError::SecretNotFound(m.clone())),
            };
            match value {
                Ok((value, version)) => values.insert(&r.name, &r.key, value, version),
                Err(ConnectionError::SecretNotFound(_) | ConnectionError::SecretUnusable(_))
                    if best_effort => {}
                Err(e) => return Err(e),
            }
        }
        Ok(values)
    }

    async fn secret(&self, namespace: &str, name: &str) -> Result<Secret, ConnectionError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        api.get_opt(name)
            .await?
            .ok_or_else(|| ConnectionError::SecretNotFound(format!("Secret {name:?} not found")))
    }
}

/// The cache key of a connection: cluster connections are one per cluster.
fn cache_key(namespace: &str, target: &ConnectionRef) -> (String, ConnectionRef) {
    let namespace = match target.kind {
        ConnectionKind::QuayConnection => namespace,
        ConnectionKind::ClusterQuayConnection => "",
    };
    (namespace.to_owned(), target.clone())
}

/// A key of a Secret as text (`data`, else `stringData`; trailing newline
/// trimmed, as `kubectl create secret --from-file` leaves one).
pub fn secret_value(secret: &Secret, key: &str) -> Result<String, ConnectionError> {
    let name = secret.name_any();
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.clone().into_bytes())
        })
        .ok_or_else(|| {
            ConnectionError::SecretUnusable(format!("Secret {name:?} has no key {key:?}"))
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ConnectionError::SecretUnusable(format!("key {key:?} of Secret {name:?} is not text"))
    })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
