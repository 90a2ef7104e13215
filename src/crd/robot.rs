//! `QuayRobotAccount`: a robot account whose credentials the operator keeps in a Secret.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};

/// Annotation whose every new value regenerates the robot's token once.
pub const ROTATE_ANNOTATION: &str = "quayconfig.io/rotate";

/// Desired state of a Quay robot account.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayRobotAccount",
    namespaced,
    status = "QuayRobotAccountStatus",
    shortname = "qrobot",
    category = "quay",
    doc = "QuayRobotAccount declares a robot account in a Quay organization (or in the \
           connection user's namespace). The operator writes its credentials to a Secret of type \
           kubernetes.io/dockerconfigjson, ready for imagePullSecrets and CI pushes. Set the \
           annotation quayconfig.io/rotate to a new value to regenerate the token.",
    validation = Rule::new(
        "(has(self.spec.name) ? self.spec.name : self.metadata.name) == \
         (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name)"
    )
    .message("the robot name (spec.name, default metadata.name) is immutable")
    .field_path(".spec.name"),
    validation = Rule::new(
        "has(self.spec.name) || self.metadata.name.matches('^[a-z0-9]+([._-][a-z0-9]+)*$')"
    )
    .message("metadata.name is not a valid Quay robot name; set spec.name")
    .field_path(".spec.name"),
    validation = Rule::new(
        "has(self.spec.organization) == has(oldSelf.spec.organization) && \
         (!has(self.spec.organization) || self.spec.organization == oldSelf.spec.organization)"
    )
    .message("organization is immutable")
    .field_path(".spec.organization"),
    validation = Rule::new(
        "has(self.spec.user) == has(oldSelf.spec.user) && \
         (!has(self.spec.user) || self.spec.user == oldSelf.spec.user)"
    )
    .message("user is immutable")
    .field_path(".spec.user"),
    validation = Rule::new("!has(self.spec.organization) || !has(self.spec.user)")
        .message("set organization or user, not both")
        .field_path(".spec.user"),
    printcolumn(name = "Robot", type_ = "string", json_path = ".status.fullName"),
    printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayRobotAccountSpec {
    /// Quay organization that owns the robot. When unset, the robot belongs to the
    /// user whose token the connection uses. Cannot be changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub organization: Option<String>,

    /// For a robot of a user namespace (no `organization`): the Quay user. Quay
    /// manages only the caller's own robots, so the connection's token must be
    /// this user's; otherwise the robot is not touched and `Ready` says so
    /// (reason `WrongTokenUser`). When unset, the token's user. Cannot be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub user: Option<String>,

    /// Short name of the robot (Quay's full name is `namespace+name`). Defaults to
    /// `metadata.name`. Cannot be changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 255),
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    )]
    pub name: Option<String>,

    /// Description, set when the robot is created. Quay cannot change it later: a
    /// different value is reported in the `DescriptionInSync` condition, and the robot
    /// is never recreated for it (that would change its token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,

    /// Name of the Secret (same namespace) that receives the credentials:
    /// `.dockerconfigjson` for the connection's registry host, plus `username` and
    /// `password`. Defaults to `<metadata.name>-robot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub secret_name: Option<String>,

    /// Identities trusted to act as this robot (Quay's robot federation): a
    /// workload holding an OIDC token from `issuer` for `subject` exchanges it
    /// at Quay's `/oauth2/federation/robot/token` for the robot's credentials,
    /// so no robot password needs to be stored. The complete list: entries
    /// not listed are removed (`[]` removes all); unset leaves Quay's list
    /// alone. For a ServiceAccount of this cluster the issuer is the
    /// cluster's service-account issuer and the subject
    /// `system:serviceaccount:NAMESPACE:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "federation_schema")]
    pub federation: Option<Vec<FederatedIdentity>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// One identity trusted to act as a robot.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FederatedIdentity {
    /// The OIDC issuer URL of the tokens (`http://` or `https://`), e.g.
    /// `https://kubernetes.default.svc.cluster.local` or
    /// `https://token.actions.githubusercontent.com`.
    #[x_kube(validation = Rule::new("self.startsWith('https://') || self.startsWith('http://')")
        .message("issuer must be a URL starting with https:// or http://"))]
    #[schemars(length(min = 8, max = 2048))]
    pub issuer: String,
    /// The token subject (`sub` claim), e.g. `system:serviceaccount:apps:puller`.
    #[schemars(length(min = 1, max = 1024))]
    pub subject: String,
}

/// Schema of the federation list: at most 50 entries, each pair once
/// (`x-kubernetes-list-type: map` keyed by issuer and subject, so the
/// apiserver refuses a duplicate, which Quay would refuse too).
fn federation_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = <Vec<FederatedIdentity>>::json_schema(generator);
    let object = schema.ensure_object();
    object.insert("maxItems".into(), 50.into());
    object.insert("x-kubernetes-list-type".into(), "map".into());
    object.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["issuer", "subject"]),
    );
    schema
}

impl QuayRobotAccountSpec {
    /// The robot's short name: `spec.name`, or `metadata_name` when unset.
    pub fn short_name(&self, metadata_name: &str) -> String {
        self.name.as_deref().unwrap_or(metadata_name).to_owned()
    }

    /// The credentials Secret's name.
    pub fn secret_name(&self, metadata_name: &str) -> String {
        self.secret_name
            .clone()
            .unwrap_or_else(|| format!("{metadata_name}-robot"))
    }
}

/// Observed state of a QuayRobotAccount.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayRobotAccountStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// Quay's full robot name, `namespace+name` (the registry user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub full_name: Option<String>,
    /// The Secret holding the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub secret_name: Option<String>,
    /// The last value of the `quayconfig.io/rotate` annotation that was acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub rotation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::cel;

    fn robot(organization: Option<&str>, user: Option<&str>) -> QuayRobotAccount {
        QuayRobotAccount::new(
            "bot",
            QuayRobotAccountSpec {
                organization: organization.map(Into::into),
                user: user.map(Into::into),
                ..Default::default()
            },
        )
    }

    #[test]
    fn user_is_exclusive_with_organization_and_immutable() {
        assert_eq!(cel(&robot(None, Some("alice")), None), Ok(()));
        let both = cel(&robot(Some("acme"), Some("alice")), None).unwrap_err();
        assert!(both.contains("not both"), "{both}");
        let old = robot(None, Some("alice"));
        assert_eq!(cel(&robot(None, Some("alice")), Some(&old)), Ok(()));
        for new in [robot(None, Some("bob")), robot(None, None)] {
            let err = cel(&new, Some(&old)).unwrap_err();
            assert!(err.contains("user is immutable"), "{err}");
        }
    }
}
