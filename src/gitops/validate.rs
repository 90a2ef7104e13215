//! Validation of the loaded manifests, before anything touches Quay, in the
//! apiserver's order: the CRD's schema and CEL rules (module `schema`),
//! then the typed conversion. References between the manifests (to
//! QuayRepositories, QuayOrganizations and Secrets) are resolved as the
//! controllers resolve them in a cluster, and each resource's desired state
//! is built by the controllers' own conversion. Every error is collected.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use serde_json::Value;

use super::InputError;
use super::manifests::Document;
use super::resources::{Desired, IntoDesired, Kind, Typed, with_managed};
use super::schema::Schemas;
use crate::controller::references::{
    organization_identity, referenced, repository_identity, robot_full_name,
};
use crate::controller::{Inputs, ResourceRef, secret_value};
use crate::crd::mirror::{SYNC_CANCEL_ANNOTATION, SYNC_NOW_ANNOTATION};
use crate::crd::notification::{RESET_FAILURES_ANNOTATION, TEST_NOTIFICATION_ANNOTATION};
use crate::crd::{GROUP, ManagementPolicy, Origin, QuayConnection, ROTATE_ANNOTATION};

/// The namespace of a manifest without `metadata.namespace`.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The API version of every kind.
const API_VERSION: &str = "quayconfig.io/v1alpha1";

/// Annotations that ask a controller for one-shot work, which needs a cluster.
const ONE_SHOT_ANNOTATIONS: [&str; 5] = [
    ROTATE_ANNOTATION,
    TEST_NOTIFICATION_ANNOTATION,
    RESET_FAILURES_ANNOTATION,
    SYNC_NOW_ANNOTATION,
    SYNC_CANCEL_ANNOTATION,
];

/// `(namespace, name)` of a manifest.
pub type Key = (String, String);

/// A managed resource, validated, with its desired state.
#[derive(Debug)]
pub struct Resource {
    /// Its kind.
    pub kind: Kind,
    /// `metadata.namespace`, or `default`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// The QuayConnection it uses (in its namespace).
    pub connection: String,
    /// It names a ClusterQuayConnection instead (`connection` is its name).
    pub cluster_connection: bool,
    /// `managementPolicy: ObserveOnly`.
    pub observe_only: bool,
    /// `status.origin`, when the manifest carries a status.
    pub origin: Option<Origin>,
    /// The engine's desired state.
    pub desired: Desired,
    /// Controller work that needs a cluster and is not done here
    /// (e.g. `credentials Secret ci-pusher-robot`).
    pub cluster_only: Vec<String>,
}

impl Resource {
    /// `Kind/name`, plus the namespace when it is not `default`.
    pub fn label(&self) -> String {
        label(self.kind, &self.namespace, &self.name)
    }
}

/// `Kind/name`, plus the namespace when it is not `default`.
pub fn label(kind: Kind, namespace: &str, name: &str) -> String {
    match namespace {
        DEFAULT_NAMESPACE => format!("{kind}/{name}"),
        ns => format!("{kind}/{name} (namespace {ns})"),
    }
}

/// A manifest with the file it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The object.
    pub object: T,
    /// Its file.
    pub file: String,
}

/// Everything the inputs hold, valid.
#[derive(Debug, Default)]
pub struct Validated {
    /// Managed resources in dependency order (by kind, then input order).
    pub resources: Vec<Resource>,
    /// QuayConnections by `(namespace, name)`.
    pub connections: BTreeMap<Key, Located<QuayConnection>>,
    /// Secrets by `(namespace, name)` (values never printed).
    pub secrets: BTreeMap<Key, Located<Secret>>,
    /// ConfigMaps by `(namespace, name)` (for a connection's CA bundle).
    pub config_maps: BTreeMap<Key, Located<ConfigMap>>,
    /// Documents that were skipped, and why.
    pub notes: Vec<String>,
}

/// A schema-valid manifest of one of our kinds.
struct Parsed {
    kind: Kind,
    namespace: String,
    name: String,
    file: String,
    value: Value,
    typed: Typed,
}

/// Validates the documents and prepares every managed resource. Returns all
/// errors when any document is invalid.
pub fn validate(documents: Vec<Document>) -> Result<Validated, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut validated = Validated::default();
    let mut parsed = Vec::new();
    let mut schemas = Schemas::default();
    let mut invalid = BTreeSet::new();
    for doc in documents {
        let before = errors.len();
        let identity = classify(doc, &mut schemas, &mut validated, &mut parsed, &mut errors);
        if errors.len() > before {
            invalid.extend(identity);
        }
    }
    for (field, kinds) in &schemas.unchecked {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        validated.notes.push(format!(
            "not checked here: the CEL rule on {field} ({}); kube-cel cannot evaluate it, \
             the apiserver does",
            kinds.join(", ")
        ));
    }
    let refs = References::of(&parsed, &validated.secrets, invalid);
    let mut seen: BTreeMap<(Kind, String, String), String> = BTreeMap::new();
    let mut identities: BTreeMap<(Kind, String, String, String), String> = BTreeMap::new();
    for p in &parsed {
        let key = (p.kind, p.namespace.clone(), p.name.clone());
        if let Some(first) = seen.insert(key, p.file.clone()) {
            errors.push(p.error(None, format!("defined twice (also in {first})")));
            continue;
        }
        let prepared = with_managed!(&p.typed, r => prepare(r.as_ref(), p, &refs, &mut errors), connection => None);
        if let Typed::Connection(c) = &p.typed {
            validated.connections.insert(
                (p.namespace.clone(), p.name.clone()),
                Located {
                    object: c.as_ref().clone(),
                    file: p.file.clone(),
                },
            );
            continue;
        }
        let Some((resource, identity)) = prepared else {
            continue;
        };
        let key = (
            resource.kind,
            resource.namespace.clone(),
            resource.connection.clone(),
            identity.clone(),
        );
        if let Some(first) = identities.insert(key, resource.label()) {
            errors.push(p.error(
                None,
                format!("manages the same Quay object ({identity}) as {first}"),
            ));
            continue;
        }
        validated.resources.push(resource);
    }
    validated.resources.sort_by_key(|r| r.kind.rank());
    match errors.is_empty() {
        true => Ok(validated),
        false => Err(errors),
    }
}

/// Sorts one document: a Secret or ConfigMap input, one of our kinds
/// (validated), or something else (skipped with a note). Returns its
/// `(kind, namespace, name)` when it is one of ours.
fn classify(
    doc: Document,
    schemas: &mut Schemas,
    validated: &mut Validated,
    parsed: &mut Vec<Parsed>,
    errors: &mut Vec<InputError>,
) -> Option<Named> {
    let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
    let kind = doc.value.get("kind").and_then(Value::as_str);
    let name = doc.value.pointer("/metadata/name").and_then(Value::as_str);
    let at = |field: Option<&str>, message: String| InputError {
        file: doc.file.clone(),
        resource: Some(match (kind, name) {
            (Some(k), Some(n)) => format!("{k}/{n}"),
            (Some(k), None) => format!("{k} (document {})", doc.index),
            _ => format!("document {}", doc.index),
        }),
        field: field.map(str::to_owned),
        message,
    };
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        errors.push(at(
            None,
            "not a Kubernetes object: it needs apiVersion and kind".to_owned(),
        ));
        return None;
    };
    let namespace = doc
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE)
        .to_owned();
    match (api_version, kind) {
        ("v1", "Secret") => {
            match input::<Secret>(&doc, &at) {
                Ok(secret) => _ = validated.secrets.insert((namespace, secret.1), secret.0),
                Err(e) => errors.push(e),
            }
            None
        }
        ("v1", "ConfigMap") => {
            match input::<ConfigMap>(&doc, &at) {
                Ok(map) => _ = validated.config_maps.insert((namespace, map.1), map.0),
                Err(e) => errors.push(e),
            }
            None
        }
        (v, k) if v.split('/').next() == Some(GROUP) => {
            let Some(kind) = Kind::from_name(k) else {
                errors.push(at(Some("kind"), format!("unknown kind {k:?} of {GROUP}")));
                return None;
            };
            let named = (
                kind.name(),
                namespace.clone(),
                name.unwrap_or_default().to_owned(),
            );
            if v != API_VERSION {
                errors.push(at(
                    Some("apiVersion"),
                    format!("unknown version {v:?}; expected {API_VERSION}"),
                ));
                return Some(named);
            }
            let problems = schemas.check(kind, &doc.value);
            if !problems.is_empty() {
                errors.extend(problems.into_iter().map(|(f, m)| at(f.as_deref(), m)));
                return Some(named);
            }
            match Typed::parse(kind, doc.value.clone()) {
                Ok(typed) => parsed.push(Parsed {
                    kind,
                    namespace,
                    name: name.unwrap_or_default().to_owned(),
                    file: doc.file.clone(),
                    value: doc.value,
                    typed,
                }),
                Err(e) => errors.push(at(None, e.to_string())),
            }
            Some(named)
        }
        (v, k) => {
            validated.notes.push(format!(
                "{}: skipped {k} {} ({v} is not a {GROUP} kind)",
                doc.file,
                name.unwrap_or("(unnamed)")
            ));
            None
        }
    }
}

/// `(kind, namespace, name)` of a manifest.
type Named = (&'static str, String, String);

/// A Secret or ConfigMap of the inputs, with its name.
fn input<T>(
    doc: &Document,
    at: &dyn Fn(Option<&str>, String) -> InputError,
) -> Result<(Located<T>, String), InputError>
where
    T: serde::de::DeserializeOwned + kube::Resource,
{
    let object: T =
        serde_json::from_value(doc.value.clone()).map_err(|e| at(None, e.to_string()))?;
    let name = object.meta().name.clone().ok_or_else(|| {
        at(
            Some("metadata.name"),
            "required field is missing".to_owned(),
        )
    })?;
    let located = Located {
        object,
        file: doc.file.clone(),
    };
    Ok((located, name))
}

impl Parsed {
    fn label(&self) -> String {
        label(self.kind, &self.namespace, &self.name)
    }

    fn error(&self, field: Option<String>, message: String) -> InputError {
        InputError {
            file: self.file.clone(),
            resource: Some(self.label()),
            field,
            message,
        }
    }
}

/// What references can resolve to: the Quay identities of the QuayRepositories
/// and QuayOrganizations in the inputs, and the Secrets.
struct References<'a> {
    identities: BTreeMap<Named, String>,
    secrets: &'a BTreeMap<Key, Located<Secret>>,
    /// Resources of the inputs that are invalid (a reference to one is not
    /// reported again).
    invalid: BTreeSet<Named>,
}

impl<'a> References<'a> {
    fn of(
        parsed: &[Parsed],
        secrets: &'a BTreeMap<Key, Located<Secret>>,
        invalid: BTreeSet<Named>,
    ) -> Self {
        let mut identities = BTreeMap::new();
        for p in parsed {
            let identity = match &p.typed {
                Typed::Repository(r) => ("QuayRepository", repository_identity(r)),
                Typed::Organization(o) => ("QuayOrganization", organization_identity(o)),
                Typed::RobotAccount(r) => match robot_full_name(r) {
                    Some(full) => ("QuayRobotAccount", full),
                    None => continue,
                },
                _ => continue,
            };
            identities.insert(
                (identity.0, p.namespace.clone(), p.name.clone()),
                identity.1,
            );
        }
        References {
            identities,
            secrets,
            invalid,
        }
    }
}

/// Resolves a managed resource's references and builds its desired state;
/// returns it with its Quay identity, or records why it cannot.
fn prepare<K: IntoDesired>(
    obj: &K,
    p: &Parsed,
    refs: &References<'_>,
    errors: &mut Vec<InputError>,
) -> Option<(Resource, String)> {
    let mut inputs = Inputs::default();
    let mut ok = true;
    for r in obj.secret_refs() {
        let field = ref_field(&p.value, &r.name, "ecretRef");
        match refs.secrets.get(&(p.namespace.clone(), r.name.clone())) {
            None => {
                ok = false;
                errors.push(p.error(
                    field.map(|f| format!("{f}.name")),
                    format!("Secret {:?} is not in the inputs", r.name),
                ));
            }
            Some(secret) => match secret_value(&secret.object, &r.key) {
                Ok(value) => inputs.insert(&r.name, &r.key, value, "manifest".to_owned()),
                Err(e) => {
                    ok = false;
                    errors.push(p.error(field, format!("{e} (in {})", secret.file)));
                }
            },
        }
    }
    for r in obj.resource_refs() {
        let (kind, name) = referenced(&r);
        let key = (kind, p.namespace.clone(), name.to_owned());
        // Robot references are optional: a name that is no QuayRobotAccount
        // is a Quay robot name.
        let field = match &r {
            ResourceRef::Repository(_) => Some("spec.repositoryRef.name"),
            ResourceRef::Organization(_) => Some("spec.organizationRef.name"),
            ResourceRef::Robot(_) => None,
        };
        match (refs.identities.get(&key), field) {
            (Some(identity), _) => inputs.insert_resolved(r.clone(), identity.clone()),
            (None, None) => {}
            (None, Some(_)) if refs.invalid.contains(&key) => ok = false,
            (None, Some(field)) => {
                ok = false;
                errors.push(p.error(
                    Some(field.to_owned()),
                    format!(
                        "{kind} {name:?} is not in the inputs (namespace {})",
                        p.namespace
                    ),
                ));
            }
        }
    }
    if !ok {
        return None;
    }
    let desired = match obj.desired(&inputs) {
        Ok(d) => K::wrap(d),
        Err(message) => {
            errors.push(p.error(Some("spec".to_owned()), message));
            return None;
        }
    };
    let mut cluster_only = Vec::new();
    if let Typed::RobotAccount(robot) = &p.typed {
        cluster_only.push(format!(
            "credentials Secret {}",
            robot.spec.secret_name(&p.name)
        ));
    }
    if let Typed::OAuthApplication(app) = &p.typed {
        cluster_only.push(format!("client Secret {}", app.spec.secret_name(&p.name)));
    }
    cluster_only.extend(
        ONE_SHOT_ANNOTATIONS
            .iter()
            .filter(|a| obj.annotations().contains_key(**a))
            .map(|a| format!("annotation {a}")),
    );
    let resource = Resource {
        kind: p.kind,
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        file: p.file.clone(),
        connection: obj.connection().name,
        cluster_connection: obj.connection().kind
            == crate::crd::ConnectionKind::ClusterQuayConnection,
        observe_only: obj.management_policy() == ManagementPolicy::ObserveOnly,
        origin: obj.origin(),
        desired,
        cluster_only,
    };
    Some((resource, obj.quay_identity()))
}

/// The dotted path of the reference (a key ending in `suffix`) whose `name`
/// is `name`, searched in `spec`.
fn ref_field(value: &Value, name: &str, suffix: &str) -> Option<String> {
    fn walk(value: &Value, path: &str, name: &str, suffix: &str) -> Option<String> {
        let Value::Object(map) = value else {
            return None;
        };
        for (key, child) in map {
            let here = format!("{path}.{key}");
            if key.ends_with(suffix) && child.get("name").and_then(Value::as_str) == Some(name) {
                return Some(here);
            }
            if let Some(found) = walk(child, &here, name, suffix) {
                return Some(found);
            }
        }
        None
    }
    walk(value.get("spec")?, "spec", name, suffix)
}
