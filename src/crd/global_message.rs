//! `QuayGlobalMessage`: a banner Quay shows every user (cluster-scoped).

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ConnectionKind, ConnectionRef, ManagedStatus, Management};

/// Desired state of a Quay global message.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayGlobalMessage",
    status = "QuayGlobalMessageStatus",
    shortname = "qmsg",
    category = "quay",
    doc = "QuayGlobalMessage declares a message Quay shows every user at the top of its pages \
           (maintenance windows, policy notices). Cluster-scoped, through the ClusterQuayConnection \
           spec.connectionRef names, whose token must be a superuser's. Quay cannot change a message in place: a spec change \
           creates the new message first and then deletes the old one.",
    validation = Rule::new(
        "has(self.spec.connectionRef) && has(self.spec.connectionRef.kind) && \
         self.spec.connectionRef.kind == 'ClusterQuayConnection'"
    )
    .message("a QuayGlobalMessage uses a ClusterQuayConnection: set spec.connectionRef to {kind: ClusterQuayConnection, name: ...}")
    .field_path(".spec.connectionRef"),
    printcolumn(name = "Severity", type_ = "string", json_path = ".spec.severity"),
    printcolumn(name = "Content", type_ = "string", json_path = ".spec.content", priority = 1)
)]
#[serde(rename_all = "camelCase")]
pub struct QuayGlobalMessageSpec {
    /// The message text.
    #[schemars(length(min = 1, max = 4096))]
    pub content: String,

    /// How the message is shown: `info` (default), `warning` or `error`.
    #[serde(default)]
    pub severity: MessageSeverity,

    /// How `content` is rendered: `text/plain` (default) or `text/markdown`.
    #[serde(default)]
    pub media_type: MediaType,

    /// The ClusterQuayConnection to use (`{kind: ClusterQuayConnection, name}`,
    /// required) and how far the message is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// Severity of a global message.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageSeverity {
    /// Informational (blue).
    #[default]
    Info,
    /// A warning (yellow).
    Warning,
    /// An error (red).
    Error,
}

impl MessageSeverity {
    /// The name as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageSeverity::Info => "info",
            MessageSeverity::Warning => "warning",
            MessageSeverity::Error => "error",
        }
    }
}

/// How a global message's content is rendered.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum MediaType {
    /// Plain text.
    #[default]
    #[serde(rename = "text/plain")]
    Plain,
    /// Markdown.
    #[serde(rename = "text/markdown")]
    Markdown,
}

impl MediaType {
    /// The media type as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Plain => "text/plain",
            MediaType::Markdown => "text/markdown",
        }
    }
}

impl QuayGlobalMessageSpec {
    /// The connection to use: `connectionRef` (admission requires one naming a
    /// ClusterQuayConnection; an object stored without one gets a clear
    /// condition, not a guess).
    pub fn connection(&self) -> ConnectionRef {
        self.management
            .connection_ref
            .clone()
            .unwrap_or_else(|| ConnectionRef {
                kind: ConnectionKind::ClusterQuayConnection,
                name: String::new(),
            })
    }
}

/// Observed state of a QuayGlobalMessage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuayGlobalMessageStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// Quay's id of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub uuid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::cel;
    use serde_json::json;

    fn message(spec: serde_json::Value) -> QuayGlobalMessage {
        serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayGlobalMessage",
            "metadata": {"name": "maintenance"}, "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn a_cluster_connection_must_be_named() {
        let cluster = message(json!({"content": "x",
            "connectionRef": {"kind": "ClusterQuayConnection", "name": "prod"}}));
        assert_eq!(cel(&cluster, None), Ok(()));
        assert_eq!(cluster.spec.connection().name, "prod");
        for bad in [
            json!({"content": "x", "connectionRef": {"name": "prod"}}),
            json!({"content": "x"}),
        ] {
            let err = cel(&message(bad.clone()), None).unwrap_err();
            assert!(err.contains("uses a ClusterQuayConnection"), "{bad}: {err}");
        }
    }

    #[test]
    fn severity_and_media_type_are_spelled_as_quay_does() {
        let m =
            message(json!({"content": "x", "severity": "warning", "mediaType": "text/markdown"}));
        assert_eq!(m.spec.severity.as_str(), "warning");
        assert_eq!(m.spec.media_type.as_str(), "text/markdown");
        let defaults = message(json!({"content": "x",
            "connectionRef": {"kind": "ClusterQuayConnection", "name": "prod"}}));
        assert_eq!(defaults.spec.severity, MessageSeverity::Info);
        assert_eq!(defaults.spec.media_type, MediaType::Plain);
    }
}
