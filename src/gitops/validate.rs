//! Validation of the loaded manifests, before anything touches Quay, in the
//! apiserver's order: the CRD's OpenAPI schema (strict: unknown fields are
//! errors, as with `kubectl apply --validate=strict`), then its CEL rules,
//! then the typed conversion. References between the manifests (to
//! QuayRepositories, QuayOrganizations and Secrets) are resolved as the
//! controllers resolve them in a cluster, and each resource's desired state
//! is built by the controllers' own conversion. Every error is collected.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use serde_json::{Value, json};

use super::InputError;
use super::manifests::Document;
use super::resources::{Desired, IntoDesired, Kind, Typed, with_managed};
use crate::controller::references::{organization_identity, referenced, repository_identity};
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
        match refs.identities.get(&key) {
            Some(identity) => inputs.insert_resolved(r.clone(), identity.clone()),
            None if refs.invalid.contains(&key) => ok = false,
            None => {
                ok = false;
                let field = match &r {
                    ResourceRef::Repository(_) => "spec.repositoryRef.name",
                    ResourceRef::Organization(_) => "spec.organizationRef.name",
                };
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
        connection: obj.connection_name().to_owned(),
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

/// The strict JSON schema and the CEL rules of each kind, built once.
#[derive(Default)]
struct Schemas {
    compiled: BTreeMap<Kind, (Value, jsonschema::Validator)>,
    cel: Option<kube::core::cel::Validator>,
    /// Fields (`spec.list[]`) whose CEL rule kube-cel cannot evaluate (e.g.
    /// one using `type()`), with the kinds they were seen in.
    unchecked: BTreeMap<String, BTreeSet<Kind>>,
}

/// A problem: the dotted field path (when known) and the message.
type Problem = (Option<String>, String);

impl Schemas {
    /// Schema errors, or else CEL rule violations, of one manifest.
    fn check(&mut self, kind: Kind, value: &Value) -> Vec<Problem> {
        let (schema, strict) = self.compiled.entry(kind).or_insert_with(|| {
            let crd = kind.crd();
            let schema = crd.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(|s| serde_json::to_value(s).expect("a CRD schema serializes"))
                .unwrap_or_default();
            let mut strict_schema = schema.clone();
            strict(&mut strict_schema);
            let root = strict_schema
                .as_object_mut()
                .expect("a CRD schema is an object");
            let properties = root
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("schema properties are an object");
            properties.insert("apiVersion".into(), json!({"type": "string"}));
            properties.insert("kind".into(), json!({"type": "string"}));
            properties.insert("metadata".into(), object_meta_schema());
            root.insert("additionalProperties".into(), Value::Bool(false));
            let validator = jsonschema::draft4::new(&strict_schema)
                .expect("the CRD schema is a valid JSON schema");
            (schema, validator)
        });
        let problems: Vec<Problem> = strict.iter_errors(value).flat_map(schema_problem).collect();
        if !problems.is_empty() {
            return problems;
        }
        let cel = self.cel.get_or_insert_with(kube::core::cel::Validator::new);
        match cel.validate(schema, value, None) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .iter()
                .filter(|e| {
                    let unsupported = e.kind == kube::core::cel::ErrorKind::UnsupportedReference;
                    if unsupported {
                        self.unchecked
                            .entry(without_indices(&e.field_path))
                            .or_default()
                            .insert(kind);
                    }
                    !unsupported
                })
                .map(|e| {
                    let field = e.field_path.trim_start_matches('.');
                    (
                        (!field.is_empty()).then(|| field.to_owned()),
                        e.message.clone(),
                    )
                })
                .collect(),
        }
    }
}

/// One or more problems from a JSON schema error (one per unknown field).
fn schema_problem(error: jsonschema::ValidationError<'_>) -> Vec<Problem> {
    use jsonschema::error::ValidationErrorKind;
    let path = dotted(error.instance_path());
    let join = |name: &str| match path.as_str() {
        "" => name.to_owned(),
        p => format!("{p}.{name}"),
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| (Some(join(name)), "unknown field".to_owned()))
            .collect(),
        ValidationErrorKind::Required {
            property: Value::String(name),
        } => vec![(Some(join(name)), "required field is missing".to_owned())],
        _ => vec![((!path.is_empty()).then_some(path), error.to_string())],
    }
}

/// A JSON pointer as a dotted path: `spec.permissions[0].role`.
fn dotted(location: &jsonschema::paths::Location) -> String {
    use jsonschema::paths::LocationSegment;
    let mut path = String::new();
    for segment in location.segments() {
        match segment {
            LocationSegment::Index(i) => path.push_str(&format!("[{i}]")),
            LocationSegment::Property(p) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&p);
            }
        }
    }
    path
}

/// `spec.list[0].x` as `spec.list[].x`.
fn without_indices(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.trim_start_matches('.').chars() {
        match c {
            '[' => in_index = true,
            ']' => {
                in_index = false;
                out.push_str("[]");
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// The parts of ObjectMeta a manifest may carry; `name` is required.
fn object_meta_schema() -> Value {
    let strings = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "type": "object",
        "required": ["name"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "namespace": {"type": "string", "minLength": 1},
            "labels": strings,
            "annotations": strings,
            "generateName": {}, "uid": {}, "resourceVersion": {}, "generation": {},
            "creationTimestamp": {}, "deletionTimestamp": {},
            "deletionGracePeriodSeconds": {}, "finalizers": {}, "ownerReferences": {},
            "managedFields": {}, "selfLink": {}
        }
    })
}

/// Makes an OpenAPI v3 (structural) schema strict and JSON-schema compatible:
/// `additionalProperties: false` on every object schema with `properties`
/// (unless it preserves unknown fields), `nullable` as a `null` type, and
/// int-or-string as either type. Value validations (`allOf`, `anyOf`,
/// `oneOf`, `not`) are left as they are: they declare no fields.
fn strict(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::String(t)) = map.get("type").cloned() {
            map.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(values)) = map.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        && !map.contains_key("type")
    {
        map.insert("type".into(), json!(["integer", "string"]));
    }
    let preserves = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if map.contains_key("properties") && !preserves && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(strict);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = map.get_mut(key) {
            strict(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_schemas_refuse_unknown_fields_and_accept_null_for_nullable() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": true, "enum": ["x"]},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"k": {"type": "string"}}},
                "list": {"type": "array", "items": {"type": "object",
                         "properties": {"n": {"x-kubernetes-int-or-string": true}}}},
            },
            "anyOf": [{"properties": {"a": {}}}],
        });
        strict(&mut schema);
        let validator = jsonschema::draft4::new(&schema).unwrap();
        assert!(
            validator.is_valid(
                &json!({"a": null, "free": {"other": 1}, "list": [{"n": 1}, {"n": "1"}]})
            )
        );
        assert!(!validator.is_valid(&json!({"b": 1})));
        assert!(!validator.is_valid(&json!({"list": [{"m": 1}]})));
        assert!(!validator.is_valid(&json!({"list": [{"n": true}]})));
        assert!(!validator.is_valid(&json!({"a": "y"})));
        assert_eq!(schema["anyOf"][0].get("additionalProperties"), None);
    }

    #[test]
    fn paths_are_dotted_with_list_indices() {
        let schema = json!({"type": "object", "properties": {"l": {"type": "array",
            "items": {"type": "object", "properties": {"r": {"type": "string"}}}}}});
        let validator = jsonschema::draft4::new(&schema).unwrap();
        let instance = json!({"l": [{"r": "ok"}, {"r": 1}]});
        let error = validator.iter_errors(&instance).next().unwrap();
        assert_eq!(dotted(error.instance_path()), "l[1].r");
        assert_eq!(without_indices(".spec.l[12].r"), "spec.l[].r");
    }
}
