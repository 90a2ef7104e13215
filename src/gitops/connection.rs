//! Where Quay is: from flags and environment, or else from the QuayConnection
//! manifests in the inputs (the one each resource names, `default` unless
//! `spec.connectionRef` says otherwise), with the token from the environment
//! or from the Secret manifest the connection names. The token is never printed.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;

use super::InputError;
use super::resources::Kind;
use super::validate::{Key, Validated, label};
use crate::controller::secret_value;
use crate::engine::{DEFAULT_LIST_TTL, Quay};
use crate::quay::{ClientOptions, QuayClient};

/// An API token and where it came from (for messages; never the value).
#[derive(Clone)]
pub struct Token {
    /// The token.
    pub value: SecretString,
    /// Where it came from, e.g. `QUAY_TOKEN`.
    pub source: String,
}

/// Connection settings given on the command line or in the environment.
#[derive(Clone, Default)]
pub struct ConnectionSettings {
    /// Quay's base URL; when set, every resource uses it and the
    /// QuayConnection manifests are ignored.
    pub url: Option<String>,
    /// The API token (overrides the Secret a QuayConnection names).
    pub token: Option<Token>,
    /// Extra CA certificates (PEM).
    pub ca_pem: Option<Vec<u8>>,
    /// Skip TLS verification.
    pub insecure_skip_tls_verify: bool,
}

/// One Quay endpoint the resources are reconciled against.
pub struct Endpoint {
    /// Base URL.
    pub url: String,
    /// Where the token came from.
    pub token_source: String,
    /// The engine's view of it.
    pub quay: Quay,
}

/// The endpoint of every resource.
pub struct Endpoints {
    endpoints: Vec<Endpoint>,
    /// Index into `endpoints` of each resource of the [`Validated`] inputs.
    of_resource: Vec<usize>,
}

impl Endpoints {
    /// The endpoint of the `i`-th resource.
    pub fn of(&self, i: usize) -> &Endpoint {
        &self.endpoints[self.of_resource[i]]
    }

    /// Every endpoint.
    pub fn all(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Asks each endpoint whose token it is (Quay answers an unknown token as
    /// if anonymous). Returns one line per endpoint, `URL as USER (token from
    /// SOURCE)`, or the endpoints whose token does not work.
    pub async fn check(&self) -> Result<Vec<String>, Vec<InputError>> {
        let mut lines = Vec::new();
        let mut errors = Vec::new();
        for e in &self.endpoints {
            match e.quay.me().await {
                Ok(user) => lines.push(format!(
                    "{} as {}{} (token from {})",
                    e.url,
                    user.username,
                    if user.super_user { ", a superuser" } else { "" },
                    e.token_source
                )),
                Err(err) => errors.push(InputError::general(format!(
                    "Quay at {} does not accept the token from {}: {err}",
                    e.url, e.token_source
                ))),
            }
        }
        match errors.is_empty() {
            true => Ok(lines),
            false => Err(errors),
        }
    }

    /// Quay API requests and writes (non-GET) sent so far, over all endpoints.
    pub fn calls(&self) -> (u64, u64) {
        self.endpoints.iter().fold((0, 0), |(r, w), e| {
            (
                r + e.quay.client.request_count(),
                w + e.quay.client.write_count(),
            )
        })
    }
}

/// Builds the endpoints: fails (before any call to Quay) when a resource's
/// connection, token or CA bundle cannot be found.
pub fn connect(
    settings: &ConnectionSettings,
    validated: &Validated,
) -> Result<Endpoints, Vec<InputError>> {
    if let Some(url) = &settings.url {
        let Some(token) = &settings.token else {
            return Err(vec![InputError::general(
                "no Quay token: set QUAY_TOKEN or give --token-file".to_owned(),
            )]);
        };
        let mut options = ClientOptions::new(url.clone(), token.value.clone());
        options.ca_bundle_pem = settings.ca_pem.clone();
        options.insecure_skip_tls_verify = settings.insecure_skip_tls_verify;
        let client = QuayClient::new(options)
            .map_err(|e| vec![InputError::general(format!("--quay-url: {e}"))])?;
        return Ok(Endpoints {
            endpoints: vec![Endpoint {
                url: url.clone(),
                token_source: token.source.clone(),
                quay: Quay::new(client, DEFAULT_LIST_TTL),
            }],
            of_resource: vec![0; validated.resources.len()],
        });
    }
    let mut endpoints = Vec::new();
    let mut index: BTreeMap<Key, Option<usize>> = BTreeMap::new();
    let mut of_resource = Vec::new();
    let mut errors = Vec::new();
    for resource in &validated.resources {
        let key = (resource.namespace.clone(), resource.connection.clone());
        let slot = match index.get(&key) {
            Some(slot) => *slot,
            None => {
                let slot = match validated.connections.get(&key) {
                    _ if resource.cluster_connection => {
                        errors.push(InputError {
                            file: resource.file.clone(),
                            resource: Some(resource.label()),
                            field: Some("spec.connectionRef".to_owned()),
                            message: format!(
                                "ClusterQuayConnection {:?}: cluster connections are read only by the operator; give --quay-url (and QUAY_TOKEN)",
                                resource.connection
                            ),
                        });
                        None
                    }
                    None => {
                        errors.push(InputError {
                            file: resource.file.clone(),
                            resource: Some(resource.label()),
                            field: Some("spec.connectionRef.name".to_owned()),
                            message: format!(
                                "QuayConnection {:?} is not in the inputs; add it, or give --quay-url",
                                resource.connection
                            ),
                        });
                        None
                    }
                    Some(_) => match endpoint(settings, validated, &key) {
                        Ok(endpoint) => {
                            endpoints.push(endpoint);
                            Some(endpoints.len() - 1)
                        }
                        Err(e) => {
                            errors.push(e);
                            None
                        }
                    },
                };
                index.insert(key, slot);
                slot
            }
        };
        of_resource.push(slot.unwrap_or_default());
    }
    match errors.is_empty() {
        true => Ok(Endpoints {
            endpoints,
            of_resource,
        }),
        false => Err(errors),
    }
}

/// The endpoint of the QuayConnection `key` of the inputs.
fn endpoint(
    settings: &ConnectionSettings,
    validated: &Validated,
    key: &Key,
) -> Result<Endpoint, InputError> {
    let connection = &validated.connections[key];
    let spec = &connection.object.spec;
    let error = |field: &str, message: String| InputError {
        file: connection.file.clone(),
        resource: Some(label(Kind::Connection, &key.0, &key.1)),
        field: Some(field.to_owned()),
        message,
    };
    let secret = |name: &str, key_name: &str, field: &str| {
        let secret = validated
            .secrets
            .get(&(key.0.clone(), name.to_owned()))
            .ok_or_else(|| error(field, format!("Secret {name:?} is not in the inputs")))?;
        secret_value(&secret.object, key_name)
            .map(|v| (v, secret.file.clone()))
            .map_err(|e| error(field, e.to_string()))
    };
    let token = match &settings.token {
        Some(token) => token.clone(),
        None => {
            let r = &spec.token_secret_ref;
            let (value, file) =
                secret(&r.name, &r.key, "spec.tokenSecretRef.name").map_err(|mut e| {
                    e.message
                        .push_str("; or set QUAY_TOKEN, or give --token-file");
                    e
                })?;
            Token {
                value: SecretString::from(value),
                source: format!("Secret {} in {file}", r.name),
            }
        }
    };
    let ca_pem = match (&settings.ca_pem, &spec.ca_bundle) {
        (Some(pem), _) => Some(pem.clone()),
        (None, Some(bundle)) => Some(match (&bundle.secret_ref, &bundle.config_map_ref) {
            (Some(r), _) => secret(&r.name, &r.key, "spec.caBundle.secretRef.name")?
                .0
                .into_bytes(),
            (None, Some(r)) => validated
                .config_maps
                .get(&(key.0.clone(), r.name.clone()))
                .and_then(|c| c.object.data.as_ref()?.get(&r.key).cloned())
                .ok_or_else(|| {
                    error(
                        "spec.caBundle.configMapRef.name",
                        format!(
                            "ConfigMap {:?} with key {:?} is not in the inputs; or give --ca-file",
                            r.name, r.key
                        ),
                    )
                })?
                .into_bytes(),
            (None, None) => Vec::new(),
        }),
        (None, None) => None,
    };
    let mut options = ClientOptions::new(spec.url.clone(), token.value);
    options.ca_bundle_pem = ca_pem;
    options.insecure_skip_tls_verify =
        settings.insecure_skip_tls_verify || spec.insecure_skip_tls_verify;
    options.timeout = Duration::from_secs(spec.timeout_seconds.clamp(1, 300) as u64);
    let client = QuayClient::new(options).map_err(|e| error("spec.url", e.to_string()))?;
    Ok(Endpoint {
        url: spec.url.clone(),
        token_source: token.source,
        quay: Quay::new(client, DEFAULT_LIST_TTL),
    })
}
