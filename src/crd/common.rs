//! Types shared by every kind: references, policies, status conditions and the
//! condition vocabulary (types and reasons).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::reference::SECRET_KEY_PATTERN;

/// Name of the QuayConnection used when a resource has no `connectionRef`.
pub const DEFAULT_CONNECTION_NAME: &str = "default";

/// The kinds of connection a `connectionRef` can name.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    JsonSchema,
)]
pub enum ConnectionKind {
    /// A QuayConnection in the resource's own namespace.
    #[default]
    QuayConnection,
    /// A cluster-scoped ClusterQuayConnection, usable from the namespaces its
    /// tenancy rules admit.
    ClusterQuayConnection,
}

/// Reference to the connection a resource uses: a QuayConnection in the same
/// namespace, or a ClusterQuayConnection.
#[derive(
    Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRef {
    /// `QuayConnection` (default, same namespace) or `ClusterQuayConnection`.
    #[serde(default, skip_serializing_if = "is_namespaced")]
    pub kind: ConnectionKind,
    /// Name of the connection.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

fn is_namespaced(kind: &ConnectionKind) -> bool {
    *kind == ConnectionKind::QuayConnection
}

impl ConnectionRef {
    /// A reference to the QuayConnection `name` of the same namespace.
    pub fn namespaced(name: impl Into<String>) -> Self {
        ConnectionRef {
            kind: ConnectionKind::QuayConnection,
            name: name.into(),
        }
    }

    /// Name of the QuayConnection to use: the referenced one, or
    /// [`DEFAULT_CONNECTION_NAME`] (`default`) when no reference is set.
    pub fn name_or_default(connection_ref: Option<&ConnectionRef>) -> &str {
        connection_ref.map_or(DEFAULT_CONNECTION_NAME, |r| r.name.as_str())
    }
}

impl std::fmt::Display for ConnectionRef {
    /// `QuayConnection default`, `ClusterQuayConnection shared`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}", self.kind, self.name)
    }
}

fn default_token_key() -> String {
    "token".to_owned()
}

fn default_ca_key() -> String {
    "ca.crt".to_owned()
}

/// Selects the key of a Secret, in the same namespace, that holds a Quay API token.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenSecretRef {
    /// Name of the Secret, in the same namespace as this resource.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key in the Secret's data whose value is the token. Defaults to `token`.
    #[serde(default = "default_token_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = SECRET_KEY_PATTERN))]
    pub key: String,
}

impl TokenSecretRef {
    /// Reference to `key` `token` of the Secret `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            key: default_token_key(),
        }
    }
}

/// Selects the key of a Secret or ConfigMap, in the same namespace, that holds
/// PEM-encoded CA certificates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaKeyRef {
    /// Name of the Secret or ConfigMap, in the same namespace as this resource.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key whose value is one or more PEM-encoded CA certificates. Defaults to `ca.crt`.
    #[serde(default = "default_ca_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = SECRET_KEY_PATTERN))]
    pub key: String,
}

impl CaKeyRef {
    /// Reference to key `ca.crt` of the object `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            key: default_ca_key(),
        }
    }
}

/// What happens to the Quay object when the Kubernetes resource is deleted.
/// `Delete` removes it from Quay; `Retain` leaves it in Quay untouched.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
// No schema description: these enums are used as optional fields, where kube's
// `OptionalEnum` transform would let the type's description replace the field's.
#[schemars(description = "")]
pub enum DeletionPolicy {
    /// Delete the Quay object together with the resource.
    Delete,
    /// Leave the Quay object in place when the resource is deleted.
    Retain,
}

/// How far the operator manages the Quay object.
/// `Full` creates it and corrects any difference from the spec;
/// `ObserveOnly` never writes to Quay and only reports differences in `status.drift`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update (and, per deletionPolicy, delete) the Quay object.
    #[default]
    Full,
    /// Only read the Quay object and report drift; never change it.
    ObserveOnly,
}

/// Whether the operator created the Quay object or took over one that already existed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
// No schema description: these enums are used as optional fields, where kube's
// `OptionalEnum` transform would let the type's description replace the field's.
#[schemars(description = "")]
pub enum Origin {
    /// The operator created the Quay object.
    Created,
    /// The Quay object already existed and the operator took it over.
    Adopted,
}

/// The part of every managed kind's spec that names the QuayConnection and says how far
/// the Quay object is managed (flattened into the spec: `spec.connectionRef`,
/// `spec.deletionPolicy`, `spec.managementPolicy`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Management {
    /// The connection to use: a QuayConnection of this namespace (`{name}`) or a
    /// ClusterQuayConnection (`{kind: ClusterQuayConnection, name}`). When unset,
    /// the QuayConnection named `default` in this namespace is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_ref: Option<ConnectionRef>,

    /// What happens to the Quay object when this resource is deleted: `Delete`
    /// removes it from Quay, `Retain` leaves it untouched. When unset,
    /// organizations and repositories (which hold images) are retained; for the
    /// other kinds an object the operator created is deleted and an adopted one
    /// is kept. Quay cannot delete a mirror configuration: `Delete` disables
    /// mirroring and sets the repository back to NORMAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,

    /// `Full` (default): create the Quay object and correct any difference.
    /// `ObserveOnly`: never write to Quay (nor a robot's Secret), only report
    /// differences in `status.drift`.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

impl Management {
    /// Name of the connection to use: `connectionRef.name`, or
    /// [`DEFAULT_CONNECTION_NAME`] (`default`) when unset.
    pub fn connection_name(&self) -> &str {
        ConnectionRef::name_or_default(self.connection_ref.as_ref())
    }

    /// The connection to use: `connectionRef`, or the QuayConnection `default`.
    pub fn connection(&self) -> ConnectionRef {
        self.connection_ref
            .clone()
            .unwrap_or_else(|| ConnectionRef::namespaced(DEFAULT_CONNECTION_NAME))
    }
}

/// The status fields every managed kind has (flattened into its status).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedStatus {
    /// Current state of the Quay object. `Ready` summarises the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Created` if the operator created the Quay object, `Adopted` if it already existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Fields whose value in Quay differs from the spec (observe-only mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(max = 256)))]
    pub drift: Vec<String>,
}

/// Schema for a `conditions` list: the standard `metav1.Condition` items,
/// merged by `type` (`x-kubernetes-list-type: map`) so that server-side apply
/// treats each condition type as its own entry.
pub(crate) fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = <Vec<Condition>>::json_schema(generator);
    let object = schema.ensure_object();
    object.insert("x-kubernetes-list-type".into(), "map".into());
    object.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_serialize_as_pascal_case() {
        assert_eq!(
            serde_json::to_value(DeletionPolicy::Retain).unwrap(),
            "Retain"
        );
        assert_eq!(
            serde_json::to_value(ManagementPolicy::ObserveOnly).unwrap(),
            "ObserveOnly"
        );
        assert_eq!(serde_json::to_value(Origin::Adopted).unwrap(), "Adopted");
        assert_eq!(ManagementPolicy::default(), ManagementPolicy::Full);
    }

    #[test]
    fn secret_key_defaults_apply_when_key_is_omitted() {
        let token: TokenSecretRef = serde_json::from_str(r#"{"name":"quay"}"#).unwrap();
        assert_eq!(token, TokenSecretRef::new("quay"));
        assert_eq!(token.key, "token");
        let ca: CaKeyRef = serde_json::from_str(r#"{"name":"ca"}"#).unwrap();
        assert_eq!(ca.key, "ca.crt");
    }

    #[test]
    fn missing_connection_ref_means_default() {
        assert_eq!(ConnectionRef::name_or_default(None), "default");
        let r = ConnectionRef::namespaced("prod");
        assert_eq!(ConnectionRef::name_or_default(Some(&r)), "prod");
        assert_eq!(r.to_string(), "QuayConnection prod");
        let shared: ConnectionRef =
            serde_json::from_str(r#"{"kind":"ClusterQuayConnection","name":"shared"}"#).unwrap();
        assert_eq!(shared.kind, ConnectionKind::ClusterQuayConnection);
        assert_eq!(shared.to_string(), "ClusterQuayConnection shared");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"name": "prod"}),
            "the default kind is not written"
        );
    }
}
