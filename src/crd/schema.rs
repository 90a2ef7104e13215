//! The last touches every generated CRD gets before it is installed or used by
//! `plan`: what kube-derive and schemars cannot express per field.
//!
//! - Descriptions read as prose in `kubectl explain`: the line breaks of wrapped doc
//!   comments are joined, blank lines stay paragraph breaks, and each bound of a field
//!   (`maxLength`, `maxItems`, `maxProperties`) is stated in its description.
//! - Unsigned integers carry `minimum: 0` instead of schemars' `uint32`/`uint64`
//!   formats, which the apiserver does not know (a warning on every apply).
//! - The printer columns every kind shares (Ready, Reason, Message, Age) come from
//!   [`COMMON_COLUMNS`], after the kind's own columns.
//! - Status conditions get the bounds of Kubernetes' own `metav1.Condition`.
//! - A cluster-scoped kind's `spec.connectionRef` is described as naming a
//!   ClusterQuayConnection.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, JSONSchemaProps,
};
use serde_json::{Map, Value, json};

/// `(name, type, JSONPath, priority)` of the printer columns every kind ends with.
pub const COMMON_COLUMNS: [(&str, &str, &str, i32); 4] = [
    (
        "Ready",
        "string",
        r#".status.conditions[?(@.type=="Ready")].status"#,
        0,
    ),
    (
        "Reason",
        "string",
        r#".status.conditions[?(@.type=="Ready")].reason"#,
        1,
    ),
    (
        "Message",
        "string",
        r#".status.conditions[?(@.type=="Ready")].message"#,
        1,
    ),
    ("Age", "date", ".metadata.creationTimestamp", 0),
];

/// Most conditions a status holds (one per condition type the operator sets).
pub const MAX_CONDITIONS: u64 = 16;

/// A generated CRD made ready to install (see the module documentation).
pub fn finish(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        let columns = version
            .additional_printer_columns
            .get_or_insert_with(Vec::new);
        columns.extend(COMMON_COLUMNS.iter().map(|(name, type_, path, priority)| {
            CustomResourceColumnDefinition {
                name: (*name).to_owned(),
                type_: (*type_).to_owned(),
                json_path: (*path).to_owned(),
                priority: (*priority > 0).then_some(*priority),
                ..Default::default()
            }
        }));
        if let Some(validation) = &mut version.schema
            && let Some(schema) = validation.open_api_v3_schema.take()
        {
            let mut value = serde_json::to_value(schema).expect("a CRD schema serializes");
            if crd.spec.scope == "Cluster" {
                describe_cluster_connection_ref(&mut value);
            }
            polish(&mut value);
            validation.open_api_v3_schema = Some(
                serde_json::from_value::<JSONSchemaProps>(value)
                    .expect("a polished CRD schema deserializes"),
            );
        }
    }
    crd
}

/// The shared `connectionRef` of a cluster-scoped managed kind names a
/// ClusterQuayConnection: its description says so (the shared one speaks of
/// the resource's namespace).
fn describe_cluster_connection_ref(root: &mut Value) {
    if let Some(Value::Object(field)) =
        root.pointer_mut("/properties/spec/properties/connectionRef")
    {
        field.insert(
            "description".into(),
            json!("The ClusterQuayConnection to use: `{kind: ClusterQuayConnection, name}`."),
        );
        if let Some(Value::Object(kind)) =
            field.get_mut("properties").and_then(|p| p.get_mut("kind"))
        {
            kind.insert("description".into(), json!("`ClusterQuayConnection`."));
        }
    }
}

/// Applies the schema changes of [`finish`] to one schema and everything below it.
fn polish(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    unsigned_as_minimum(map);
    if let Some(Value::String(description)) = map.get("description") {
        let mut prose = join_lines(description);
        for (key, unit) in [
            ("maxLength", "characters"),
            ("maxItems", "items"),
            ("maxProperties", "entries"),
        ] {
            if let Some(max) = map.get(key).and_then(Value::as_u64)
                && !prose.contains(&max.to_string())
            {
                prose.push_str(&format!(" At most {max} {unit}."));
            }
        }
        map.insert("description".into(), Value::String(prose));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        if let Some(conditions) = properties.get_mut("conditions") {
            bound_conditions(conditions);
        }
        properties.values_mut().for_each(polish);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = map.get_mut(key) {
            polish(child);
        }
    }
}

/// `format: uint32` and the like (unknown to the apiserver) as `minimum: 0` and the
/// type's maximum; `uint64` as `int64` with `minimum: 0`.
fn unsigned_as_minimum(map: &mut Map<String, Value>) {
    let maximum = match map.get("format").and_then(Value::as_str) {
        Some("uint8") => json!(u8::MAX),
        Some("uint16") => json!(u16::MAX),
        Some("uint32" | "uint") => json!(u32::MAX),
        Some("uint64") => {
            map.insert("format".into(), json!("int64"));
            map.entry("minimum").or_insert(json!(0));
            return;
        }
        _ => return,
    };
    map.remove("format");
    map.entry("minimum").or_insert(json!(0));
    map.entry("maximum").or_insert(maximum);
}

/// Joins the wrapped lines of a doc comment: single line breaks become spaces,
/// blank lines remain paragraph breaks.
pub fn join_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The bounds Kubernetes gives `metav1.Condition`, on a `conditions` list schema.
fn bound_conditions(conditions: &mut Value) {
    if conditions.get("items").is_none() {
        return;
    }
    conditions["maxItems"] = json!(MAX_CONDITIONS);
    let properties = &mut conditions["items"]["properties"];
    for (field, bounds) in [
        ("type", json!({"maxLength": 316, "minLength": 1})),
        ("status", json!({"enum": ["True", "False", "Unknown"]})),
        ("reason", json!({"maxLength": 1024, "minLength": 1})),
        ("message", json!({"maxLength": 32768})),
        ("lastTransitionTime", json!({"maxLength": 64})),
    ] {
        if let (Some(Value::Object(schema)), Value::Object(bounds)) =
            (properties.get_mut(field), bounds)
        {
            schema.extend(bounds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_join_and_paragraphs_stay() {
        assert_eq!(
            join_lines("When unset, the description in Quay is\nleft as it is.\n\nSecond  one."),
            "When unset, the description in Quay is left as it is.\n\nSecond  one."
        );
    }

    #[test]
    fn unsigned_formats_become_minimums_and_bounds_are_stated() {
        let mut schema = json!({"type": "object", "properties": {
            "n": {"type": "integer", "format": "uint32"},
            "b": {"type": "integer", "format": "uint64"},
            "s": {"type": "string", "maxLength": 12, "description": "A name."},
            "t": {"type": "string", "maxLength": 255, "description": "2-255 characters."},
        }});
        polish(&mut schema);
        let p = &schema["properties"];
        assert_eq!(
            p["n"],
            json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64})
        );
        assert_eq!(
            p["b"],
            json!({"type": "integer", "minimum": 0, "format": "int64"})
        );
        assert_eq!(p["s"]["description"], "A name. At most 12 characters.");
        assert_eq!(p["t"]["description"], "2-255 characters.");
    }
}
