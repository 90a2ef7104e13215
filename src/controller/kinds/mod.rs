//! What the generic reconciler needs to know of each managed kind: how its
//! spec becomes the engine's desired state, and how its status is written.
//! One module per kind.

/// The accessors every kind implements alike, from its spec's
/// `connectionRef`, `managementPolicy` and `deletionPolicy` and its status's
/// `conditions` and `origin`.
macro_rules! common_accessors {
    () => {
        fn management(&self) -> &crate::crd::Management {
            &self.spec.management
        }
        fn common_status(&self) -> Option<&crate::crd::ManagedStatus> {
            self.status.as_ref().map(|s| &s.common)
        }
    };
}

mod access;
mod credentials;
mod global_message;
mod oauth_application;
mod organization;
mod owned_secret;
mod repository;
mod robot;
mod team;
mod user_namespace;

pub use owned_secret::MANAGED_BY;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::Context;
use crate::crd::reference::{OrganizationTarget, split_repository};
use crate::crd::{DeletionPolicy, LocalRef, ManagedStatus, Management, ManagementPolicy, Origin};
use crate::engine::{EngineError, Managed, Quay, Report};

mod mirror;
mod notification;
mod proxy_cache;
mod quota;

/// Where a Quay object lives: see [`ManagedResource::quay_location`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuayLocation {
    /// Organization or user namespace.
    pub namespace: String,
    /// The repository, for repositories and what belongs to one.
    pub repository: Option<String>,
}

impl QuayLocation {
    /// Whether an object created here may be what a resource at `at` waits
    /// for: the same Quay namespace, and the same repository unless this is
    /// a namespace-level object (organization, robot, team).
    pub fn covers(&self, at: &QuayLocation) -> bool {
        at.namespace == self.namespace
            && (self.repository.is_none() || at.repository == self.repository)
    }

    /// The location of `namespace/name` (a repository path), if it is one.
    pub fn of_repository(path: &str) -> Option<QuayLocation> {
        split_repository(path).map(|(namespace, name)| QuayLocation {
            namespace: namespace.to_owned(),
            repository: Some(name.to_owned()),
        })
    }

    /// The location of something of the namespace itself.
    pub fn of_namespace(namespace: &str) -> QuayLocation {
        QuayLocation {
            namespace: namespace.to_owned(),
            repository: None,
        }
    }
}

/// Why a kind's after-apply step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A Quay call failed.
    #[error(transparent)]
    Quay(#[from] EngineError),
    /// A Kubernetes call failed (e.g. writing a child Secret).
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl From<crate::quay::QuayError> for StepError {
    fn from(e: crate::quay::QuayError) -> Self {
        StepError::Quay(e.into())
    }
}

/// A key of a Secret in the resource's own namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretKey {
    /// Secret name.
    pub name: String,
    /// Key in its data.
    pub key: String,
}

/// A kind of resource that specs reference by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Referenced {
    /// QuayRepository.
    Repository,
    /// QuayOrganization.
    Organization,
}

/// Another custom resource of the same namespace that a spec refers to by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceRef {
    /// A QuayRepository; resolves to its Quay `namespace/name`.
    Repository(String),
    /// A QuayOrganization; resolves to its Quay name.
    Organization(String),
    /// A robot named by a QuayRobotAccount's name; resolves to the robot's
    /// Quay full name when such a resource exists. Optional: when there is
    /// none, the name is taken as a Quay robot name.
    Robot(String),
}

/// What a resource's spec references, read for one reconcile: Secret values
/// with the version (`uid/resourceVersion`) of each Secret, and the Quay
/// identity of each resource it references ([`ResourceRef`]). `Debug` shows
/// no Secret value.
#[derive(Default)]
pub struct Inputs {
    values: BTreeMap<SecretKey, String>,
    versions: BTreeMap<String, String>,
    resolved: BTreeMap<ResourceRef, String>,
}

impl Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Inputs {
    /// Records a value read from Secret `name` at `version`.
    pub fn insert(&mut self, name: &str, key: &str, value: String, version: String) {
        self.values.insert(
            SecretKey {
                name: name.to_owned(),
                key: key.to_owned(),
            },
            value,
        );
        self.versions.insert(name.to_owned(), version);
    }

    /// The value of `key` in Secret `name`.
    pub fn get(&self, name: &str, key: &str) -> Option<&str> {
        self.values
            .get(&SecretKey {
                name: name.to_owned(),
                key: key.to_owned(),
            })
            .map(String::as_str)
    }

    /// The version of Secret `name` as read: `uid/resourceVersion`, then `;`
    /// with the keys read, `#` and the digest of those keys and values once
    /// [`Inputs::add_digests`] ran.
    pub fn version(&self, name: &str) -> Option<&str> {
        self.versions.get(name).map(String::as_str)
    }

    /// Appends to each Secret's version `;` with the keys read from it, then
    /// `#` and `digest` of those keys and values (see
    /// [`crate::engine::credentials::same_source`]): a write to the Secret's
    /// metadata alone then reads as the same credentials.
    pub fn add_digests(&mut self, digest: impl Fn(&[u8]) -> String) {
        for (name, version) in &mut self.versions {
            let mut keys = Vec::new();
            let mut data = Vec::new();
            for (key, value) in self.values.iter().filter(|(k, _)| &k.name == name) {
                keys.push(key.key.as_str());
                for part in [key.key.as_bytes(), value.as_bytes()] {
                    data.extend_from_slice(&(part.len() as u64).to_be_bytes());
                    data.extend_from_slice(part);
                }
            }
            version.push(';');
            version.push_str(&keys.join(","));
            version.push('#');
            version.push_str(&digest(&data));
        }
    }

    /// Records the Quay identity a referenced resource resolved to.
    pub fn insert_resolved(&mut self, reference: ResourceRef, identity: String) {
        self.resolved.insert(reference, identity);
    }

    /// The Quay identity of a referenced resource (`None` when it does not exist).
    pub fn resolved(&self, reference: &ResourceRef) -> Option<&str> {
        self.resolved.get(reference).map(String::as_str)
    }

    /// Where the referenced repository (else organization) lives: the place
    /// of a resource that names it only by reference.
    pub fn referenced_location(&self) -> Option<QuayLocation> {
        self.resolved
            .iter()
            .find_map(|(reference, identity)| match reference {
                ResourceRef::Repository(_) => QuayLocation::of_repository(identity),
                ResourceRef::Organization(_) => Some(QuayLocation::of_namespace(identity)),
                ResourceRef::Robot(_) => None,
            })
    }
}

/// A custom resource kind that manages one Quay object through the engine.
pub trait ManagedResource:
    Resource<DynamicType = (), Scope: super::scope::KindScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The engine's desired state for this kind.
    type Desired: Managed + 'static;
    /// The kind's status type.
    type Status: Serialize + Send + Sync;
    /// Kind-specific results of [`ManagedResource::after_apply`] for the status.
    type Extra: Send + Sync;

    /// Secret keys the spec references (read by the controller before [`ManagedResource::desired`]).
    fn secret_refs(&self) -> Vec<SecretKey> {
        Vec::new()
    }
    /// Resources of the same namespace the spec references (resolved by the
    /// controller before [`ManagedResource::desired`]; a missing one makes the
    /// resource wait).
    fn resource_refs(&self) -> Vec<ResourceRef> {
        Vec::new()
    }
    /// The engine's desired state, from the spec and the referenced Secret values.
    /// An error is a message saying which reference is unusable.
    fn desired(&self, secrets: &Inputs) -> Result<Self::Desired, String>;
    /// Kind-specific work after a successful reconcile in Full mode (child
    /// Secrets, one-shot actions requested by annotations).
    fn after_apply<'a>(
        &'a self,
        ctx: &'a Context,
        quay: &'a Quay,
        report: &'a Report<<Self::Desired as Managed>::Live>,
    ) -> impl Future<Output = Result<Self::Extra, StepError>> + Send + 'a;
    /// Whether specs of this kind can reference Secrets (their changes are
    /// then watched; other kinds need no Secret watch).
    fn references_secrets() -> bool {
        false
    }
    /// Which kinds of resource specs of this kind reference by name and must
    /// wait for (their appearance is then watched, so a waiting resource
    /// proceeds at once).
    fn referenced_kinds() -> &'static [Referenced] {
        &[]
    }
    /// Whether the kind writes Secrets it owns (they are then watched, and
    /// an edited or deleted one is rewritten).
    fn owns_secrets() -> bool {
        false
    }
    /// Whether other resources may wait for the kind's Quay objects
    /// (organizations, repositories, robots, teams): their creation is then
    /// announced, waking those resources (see [`crate::controller::signals`]).
    fn announces() -> bool {
        false
    }
    /// The Quay object's identity, as shown in messages.
    fn quay_identity(&self) -> String;
    /// Where the Quay object lives, once known: its organization (or user
    /// namespace) and, for what belongs to a repository, the repository. The
    /// change feed uses it to find the resources someone else's change concerns.
    fn quay_location(&self) -> Option<QuayLocation>;
    /// What two resources must share to claim the same Quay object; never
    /// shown (it may hold secret values). Defaults to the identity.
    fn conflict_key(&self) -> String {
        self.quay_identity()
    }
    /// The spec's connection and policies.
    fn management(&self) -> &Management;
    /// The status fields every kind has, when there is a status.
    fn common_status(&self) -> Option<&ManagedStatus>;
    /// The connection to use (`connectionRef`, or the QuayConnection `default`).
    fn connection(&self) -> crate::crd::ConnectionRef {
        self.management().connection()
    }
    /// `spec.managementPolicy`.
    fn management_policy(&self) -> ManagementPolicy {
        self.management().management_policy
    }
    /// `spec.deletionPolicy` as the user wrote it (`None` when unset).
    fn deletion_policy(&self) -> Option<DeletionPolicy> {
        self.management().deletion_policy
    }
    /// The policy in effect when unset, for objects the operator created.
    fn default_deletion_policy() -> DeletionPolicy;
    /// Current conditions.
    fn conditions(&self) -> &[Condition] {
        self.common_status()
            .map(|s| s.conditions.as_slice())
            .unwrap_or_default()
    }
    /// Current `status.origin`.
    fn origin(&self) -> Option<Origin> {
        self.common_status().and_then(|s| s.origin)
    }
    /// The full status to write; `registry_host` is known once connected,
    /// `extra` when [`ManagedResource::after_apply`] ran (keep the previous values otherwise).
    fn status(
        &self,
        common: ManagedStatus,
        registry_host: Option<&str>,
        extra: Option<Self::Extra>,
    ) -> Self::Status;
}

/// The Quay repository a spec targets, as `(namespace, name)`: the literal
/// `repository`, or the resolved `repositoryRef` (falling back to the one
/// recorded in the status, e.g. when the QuayRepository went first on deletion).
pub(super) fn target_repository(
    literal: Option<&str>,
    reference: Option<&LocalRef>,
    values: &Inputs,
    recorded: Option<&str>,
) -> Result<(String, String), String> {
    let full = match (literal, reference) {
        (Some(l), _) => l.to_owned(),
        (None, Some(r)) => values
            .resolved(&ResourceRef::Repository(r.name.clone()))
            .or(recorded)
            .ok_or_else(|| format!("QuayRepository {:?} not found", r.name))?
            .to_owned(),
        (None, None) => return Err("set spec.repositoryRef or spec.repository".to_owned()),
    };
    split_repository(&full)
        .map(|(ns, name)| (ns.to_owned(), name.to_owned()))
        .ok_or_else(|| format!("repository {full:?} is not namespace/name"))
}

/// The Quay organization a `organizationRef` resolves to (falling back to the
/// one recorded in the status, e.g. when the QuayOrganization went first on
/// deletion).
pub(super) fn referenced_organization(
    reference: &LocalRef,
    values: &Inputs,
    recorded: Option<&str>,
) -> Result<String, String> {
    values
        .resolved(&ResourceRef::Organization(reference.name.clone()))
        .or(recorded)
        .map(str::to_owned)
        .ok_or_else(|| format!("QuayOrganization {:?} not found", reference.name))
}

/// The Quay organization of a spec's [`OrganizationTarget`]: its
/// `organization`, or what its `organizationRef` resolves to (see
/// [`referenced_organization`]).
pub(super) fn target_organization(
    target: &OrganizationTarget,
    values: &Inputs,
    recorded: Option<&str>,
) -> Result<String, String> {
    match (&target.organization, &target.organization_ref) {
        (Some(org), _) => Ok(org.clone()),
        (None, Some(r)) => referenced_organization(r, values, recorded),
        (None, None) => Err("set spec.organization or spec.organizationRef".to_owned()),
    }
}

/// The QuayOrganization an `organizationRef` names, as what a spec references.
pub(super) fn organization_refs(reference: Option<&LocalRef>) -> Vec<ResourceRef> {
    reference
        .map(|r| ResourceRef::Organization(r.name.clone()))
        .into_iter()
        .collect()
}

/// The organization for messages: its name when known, else the
/// QuayOrganization that names it.
pub(super) fn organization_label(known: Option<String>, reference: Option<&LocalRef>) -> String {
    known
        .or_else(|| reference.map(|r| format!("(QuayOrganization {})", r.name)))
        .unwrap_or_default()
}

/// The annotation's value when it is new (not yet handled).
pub(super) fn pending<'a>(
    obj: &'a impl ResourceExt,
    key: &str,
    handled: Option<&str>,
) -> Option<&'a str> {
    obj.annotations()
        .get(key)
        .map(String::as_str)
        .filter(|v| Some(*v) != handled)
}

/// The repository a notification or mirror is about, for messages: the
/// literal `namespace/name`, else the one recorded in status, else the
/// QuayRepository it references.
pub(super) fn repository_label(
    literal: Option<&str>,
    reference: Option<&LocalRef>,
    recorded: Option<&str>,
) -> String {
    literal
        .or(recorded)
        .map(str::to_owned)
        .or_else(|| reference.map(|r| format!("(QuayRepository {})", r.name)))
        .unwrap_or_default()
}

#[cfg(test)]
mod inputs_tests {
    use super::Inputs;

    fn read(version: &str, password: &str) -> Inputs {
        let mut inputs = Inputs::default();
        inputs.insert("creds", "username", "puller".into(), version.into());
        inputs.insert("creds", "password", password.into(), version.into());
        inputs.insert("other", "token", "t".into(), "o/1".into());
        inputs.add_digests(|data| {
            format!(
                "{:x}",
                data.iter().map(|b| *b as u64).sum::<u64>() + data.len() as u64
            )
        });
        inputs
    }

    #[test]
    fn each_secret_version_carries_a_digest_of_its_own_values() {
        let one = read("u/1", "pw");
        let labelled = read("u/2", "pw");
        let changed = read("u/3", "pw2");
        let digest = |i: &Inputs| {
            i.version("creds")
                .unwrap()
                .split_once('#')
                .unwrap()
                .1
                .to_owned()
        };
        assert!(
            one.version("creds")
                .unwrap()
                .starts_with("u/1;password,username#")
        );
        assert_eq!(digest(&one), digest(&labelled));
        assert_ne!(digest(&one), digest(&changed));
        // Another Secret's values do not count.
        assert_eq!(one.version("other"), changed.version("other"));
    }
}
