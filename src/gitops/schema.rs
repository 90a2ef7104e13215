//! The checks a CRD's schema makes, client-side: its OpenAPI schema made
//! strict (an unknown field is an error, as with `kubectl apply
//! --validate=strict`) and checked with `jsonschema`, then its CEL rules with
//! kube-cel, as the apiserver does (CEL only once the schema is satisfied).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::resources::Kind;

/// The strict JSON schema and the CEL rules of each kind, built once.
#[derive(Default)]
pub struct Schemas {
    compiled: BTreeMap<Kind, (Value, jsonschema::Validator)>,
    cel: Option<kube::core::cel::Validator>,
    /// Fields (`spec.list[]`) whose CEL rule kube-cel cannot evaluate (e.g.
    /// one using `type()`), with the kinds they were seen in.
    pub unchecked: BTreeMap<String, BTreeSet<Kind>>,
}

/// A problem: the dotted field path (when known) and the message.
pub type Problem = (Option<String>, String);

impl Schemas {
    /// Schema errors, or else CEL rule violations, of one manifest.
    pub fn check(&mut self, kind: Kind, value: &Value) -> Vec<Problem> {
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
        kind => {
            let message = apiserver_message(kind, error.instance(), &path)
                .unwrap_or_else(|| error.to_string());
            vec![((!path.is_empty()).then_some(path), message)]
        }
    }
}

/// The apiserver's wording of a schema error (its `field.Error` detail), for the
/// keywords CRDs use, so that `plan` says what `kubectl apply` would.
fn apiserver_message(
    kind: &jsonschema::error::ValidationErrorKind,
    value: &Value,
    path: &str,
) -> Option<String> {
    use jsonschema::error::ValidationErrorKind as K;
    let shown = || match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    Some(match kind {
        K::Enum { options } => {
            let supported: Vec<String> =
                options.as_array()?.iter().map(|o| o.to_string()).collect();
            format!(
                "Unsupported value: {}: supported values: {}",
                shown(),
                supported.join(", ")
            )
        }
        K::Pattern { pattern } => {
            format!(
                "Invalid value: {}: {path} in body should match '{pattern}'",
                shown()
            )
        }
        K::MaxLength { limit } => format!("Too long: may not be more than {limit} bytes"),
        K::MinLength { limit } => format!(
            "Invalid value: {}: {path} in body should be at least {limit} chars long",
            shown()
        ),
        K::MaxItems { limit } => format!(
            "Too many: {}: must have at most {limit} items",
            value.as_array()?.len()
        ),
        K::MinItems { limit } => format!(
            "Invalid value: {}: {path} in body should have at least {limit} items",
            value.as_array()?.len()
        ),
        K::MaxProperties { limit } => format!(
            "Too many: {}: must have at most {limit} items",
            value.as_object()?.len()
        ),
        K::Minimum { limit } => format!(
            "Invalid value: {}: {path} in body should be greater than or equal to {limit}",
            shown()
        ),
        K::Maximum { limit } => format!(
            "Invalid value: {}: {path} in body should be less than or equal to {limit}",
            shown()
        ),
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => format!("{ts:?}"),
            };
            let actual = match value {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            format!(
                "Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
            )
        }
        _ => return None,
    })
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
