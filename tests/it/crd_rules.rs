//! What a real kube-apiserver checks when a CRD is created, and client-side CEL
//! evaluation does not: a lint over the generated CRDs (`crd::all_crds()`).
//!
//! - **Field paths.** Every field a CEL rule selects is declared in the schema: no
//!   selection inside a free-form object (`x-kubernetes-preserve-unknown-fields`
//!   without `properties`) or an int-or-string value. The apiserver refuses such a
//!   rule: `compilation failed: undefined field 'url'`.
//! - **Bounds.** Every string, list and map a rule reads has a `maxLength`,
//!   `maxItems` or `maxProperties`, and so has every list or map enclosing the rule;
//!   in fact every string, list and map of the spec is bounded.
//! - **Cost.** A conservative estimate of each rule's worst-case cost, after
//!   cel-go's checker (`checker/cost.go`) and the apiextensions-apiserver
//!   (`schema/cel`): string functions cost a tenth of the string's length (`matches`
//!   the product of string and regex), macros the list's size times their body, and
//!   the rule is multiplied by the largest number of times it can run (the product
//!   of the enclosing lists' `maxItems`). Unbounded strings count as 3 MiB, unbounded
//!   lists as a million items, as the apiserver assumes. A rule may cost at most
//!   10,000,000 (`StaticEstimatedCostLimit`) and a CRD 100,000,000
//!   (`StaticEstimatedCRDCostLimit`).
//! - **Formats.** Only formats the apiserver knows (schemars' `uint32`/`uint64` are
//!   warned about on every apply and not enforced).
//!
//! The tests at the end show that the lint refuses the three rules a v1.36
//! apiserver refused on 2026-11-30. It is a lint, not a proof: the apiserver remains
//! the judge (`E2E_KUBECONFIG` installs the CRDs on a real one).

use std::collections::BTreeMap;

use cel::common::ast::{Expr, LiteralValue};
use quay_config_operator::crd;
use serde_json::{Value, json};

/// Per-rule limit of the apiserver's static cost estimate.
const RULE_LIMIT: f64 = 10_000_000.0;
/// Limit of the sum of all rules of one CRD.
const CRD_LIMIT: f64 = 100_000_000.0;
/// Characters of a string without `maxLength` (the largest request, 3 MiB).
const UNBOUNDED_STRING: f64 = 3_145_728.0;
/// Items of a list or entries of a map without a bound.
const UNBOUNDED_ITEMS: f64 = 1_048_576.0;
/// cel-go's `StringTraversalCostFactor` and `RegexStringLengthCostFactor`.
const STRING_FACTOR: f64 = 0.1;
const REGEX_FACTOR: f64 = 0.25;

/// Formats the apiserver validates (k8s.io/kube-openapi `strfmt` and apiextensions).
const KNOWN_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
    "date-time",
    "int32",
    "int64",
    "float",
    "double",
];

/// Every problem the apiserver would have with one CRD's schema.
fn lint(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut total = 0.0;
    walk(schema, "", 1.0, &mut |node, path, cardinality| {
        if let Some(format) = node.get("format").and_then(Value::as_str)
            && !KNOWN_FORMATS.contains(&format)
        {
            problems.push(format!("{path}: unknown format {format:?}"));
        }
        if !path.starts_with(".metadata")
            && let Some(kind) = unbounded(node)
        {
            problems.push(format!("{path}: {kind} without a bound"));
        }
        if path.starts_with(".spec")
            && let Some(problem) = integer_out_of_type(node)
        {
            problems.push(format!("{path}: {problem}"));
        }
        for rule in node
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = rule["rule"].as_str().unwrap_or_default();
            match rule_cost(text, node) {
                Ok(cost) => {
                    let cost = cost * cardinality;
                    total += cost;
                    if cost > RULE_LIMIT {
                        problems.push(format!(
                            "{path}: rule {text:?}: estimated cost {cost:.0} exceeds {RULE_LIMIT:.0} \
                             (factor {:.0})",
                            cost / RULE_LIMIT
                        ));
                    }
                }
                Err(e) => problems.push(format!("{path}: rule {text:?}: {e}")),
            }
        }
    });
    if total > CRD_LIMIT {
        problems.push(format!(
            "all rules together cost {total:.0}, more than {CRD_LIMIT:.0}"
        ));
    }
    problems
}

/// Visits every schema node with its path and the number of times a rule on it can
/// run (the product of the enclosing lists' and maps' bounds).
fn walk(node: &Value, path: &str, cardinality: f64, visit: &mut dyn FnMut(&Value, &str, f64)) {
    visit(node, path, cardinality);
    if let Some(Value::Object(properties)) = node.get("properties") {
        for (name, child) in properties {
            walk(child, &format!("{path}.{name}"), cardinality, visit);
        }
    }
    if let Some(items) = node.get("items") {
        let n = bound(node, "maxItems");
        walk(items, &format!("{path}[]"), cardinality * n, visit);
    }
    if let Some(values @ Value::Object(_)) = node.get("additionalProperties") {
        let n = bound(node, "maxProperties");
        walk(values, &format!("{path}{{}}"), cardinality * n, visit);
    }
}

fn bound(node: &Value, key: &str) -> f64 {
    node.get(key)
        .and_then(Value::as_u64)
        .map_or(UNBOUNDED_ITEMS, |n| n as f64)
}

/// What kind of unbounded value a schema node is, if it is one.
fn unbounded(node: &Value) -> Option<&'static str> {
    let map_like = node.get("additionalProperties").is_some()
        || node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    match node.get("type").and_then(Value::as_str) {
        Some("string") if node.get("maxLength").is_none() && node.get("enum").is_none() => {
            Some("string")
        }
        Some("array") if node.get("maxItems").is_none() => Some("list"),
        Some("object") if map_like && node.get("maxProperties").is_none() => Some("map"),
        None if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
            && node.get("maxLength").is_none() =>
        {
            Some("int-or-string")
        }
        _ => None,
    }
}

/// An integer of the spec the apiserver could accept outside the range of
/// its Rust type: the controller could not read the resource back (a watch
/// that cannot decode one object stalls its whole kind).
fn integer_out_of_type(node: &Value) -> Option<String> {
    if node.get("type").and_then(Value::as_str) != Some("integer") {
        return None;
    }
    let (lo, hi) = match node.get("format").and_then(Value::as_str) {
        Some("int32") => (f64::from(i32::MIN), f64::from(i32::MAX)),
        _ => (i64::MIN as f64, i64::MAX as f64),
    };
    let min = node.get("minimum").and_then(Value::as_f64);
    let max = node.get("maximum").and_then(Value::as_f64);
    match (min, max) {
        (Some(min), Some(max)) if min >= lo && max <= hi => None,
        _ => Some(format!(
            "integer without minimum and maximum within [{lo}, {hi}] (minimum {min:?}, maximum {max:?})"
        )),
    }
}

/// The static type of a sub-expression, as far as cost estimation needs it.
#[derive(Clone, Debug)]
enum Ty<'a> {
    /// A value described by a schema node.
    Schema(&'a Value),
    /// A string of at most this many characters.
    Str(f64),
    /// A list of at most `.0` items of type `.1`.
    List(f64, Box<Ty<'a>>),
    /// A scalar (bool, number, null) or a type the estimate does not need.
    Scalar,
}

impl Ty<'_> {
    /// Largest `size()`: characters of a string, items of a list, entries of a map.
    fn size(&self) -> f64 {
        match self {
            Ty::Schema(node) => match node.get("type").and_then(Value::as_str) {
                Some("string") => node
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map_or(UNBOUNDED_STRING, |n| n as f64),
                Some("array") => bound(node, "maxItems"),
                Some("object") => bound(node, "maxProperties"),
                None if node.get("x-kubernetes-int-or-string").is_some() => UNBOUNDED_STRING,
                _ => 1.0,
            },
            Ty::Str(n) | Ty::List(n, _) => *n,
            Ty::Scalar => 1.0,
        }
    }
}

/// The largest cost of one evaluation of `rule` on `node` (`self`).
fn rule_cost(rule: &str, node: &Value) -> Result<f64, String> {
    let expr = cel::parser::Parser::new()
        .parse(rule)
        .map_err(|e| format!("does not parse: {e:?}"))?;
    let mut scope = BTreeMap::new();
    scope.insert("self".to_owned(), Ty::Schema(node));
    scope.insert("oldSelf".to_owned(), Ty::Schema(node));
    Ok(cost(&expr.expr, &mut scope)?.0)
}

/// Cost and type of an expression.
fn cost<'a>(expr: &Expr, scope: &mut BTreeMap<String, Ty<'a>>) -> Result<(f64, Ty<'a>), String> {
    Ok(match expr {
        Expr::Literal(LiteralValue::String(s)) => (0.0, Ty::Str(s.inner().chars().count() as f64)),
        Expr::Literal(_) | Expr::Unspecified => (0.0, Ty::Scalar),
        Expr::Ident(name) => (
            1.0,
            scope
                .get(name)
                .cloned()
                .ok_or_else(|| format!("undeclared reference to '{name}'"))?,
        ),
        Expr::Select(select) => {
            let (c, operand) = cost(&select.operand.expr, scope)?;
            let field = select_field(&operand, &select.field)?;
            (c + 1.0, if select.test { Ty::Scalar } else { field })
        }
        Expr::List(list) => {
            let mut total = 10.0;
            let mut item = Ty::Scalar;
            for element in &list.elements {
                let (c, t) = cost(&element.expr, scope)?;
                total += c;
                item = t;
            }
            (total, Ty::List(list.elements.len() as f64, Box::new(item)))
        }
        Expr::Map(_) | Expr::Struct(_) => (40.0, Ty::Scalar),
        Expr::Comprehension(comp) => {
            let (range_cost, range) = cost(&comp.iter_range.expr, scope)?;
            let item = match &range {
                Ty::List(_, item) => (**item).clone(),
                Ty::Schema(node) => node.get("items").map_or(Ty::Scalar, Ty::Schema),
                _ => Ty::Scalar,
            };
            let (init_cost, _) = cost(&comp.accu_init.expr, scope)?;
            let saved_iter = scope.insert(comp.iter_var.clone(), item);
            let saved_accu = scope.insert(comp.accu_var.clone(), Ty::Scalar);
            let (cond_cost, _) = cost(&comp.loop_cond.expr, scope)?;
            let (step_cost, _) = cost(&comp.loop_step.expr, scope)?;
            let (result_cost, _) = cost(&comp.result.expr, scope)?;
            restore(scope, &comp.iter_var, saved_iter);
            restore(scope, &comp.accu_var, saved_accu);
            let total =
                range_cost + init_cost + result_cost + range.size() * (cond_cost + step_cost);
            (total, Ty::List(range.size(), Box::new(Ty::Scalar)))
        }
        Expr::Call(call) => {
            let mut args = Vec::new();
            let mut total = 0.0;
            if let Some(target) = &call.target {
                let (c, t) = cost(&target.expr, scope)?;
                total += c;
                args.push(t);
            }
            for arg in &call.args {
                let (c, t) = cost(&arg.expr, scope)?;
                total += c;
                args.push(t);
            }
            let size = |i: usize| args.get(i).map_or(1.0, Ty::size);
            let call_cost = match call.func_name.as_str() {
                "matches" => {
                    ((size(0) + 1.0) * STRING_FACTOR).ceil() * (size(1) * REGEX_FACTOR).ceil()
                }
                "contains" => (size(0) * STRING_FACTOR).ceil() * (size(1) * STRING_FACTOR).ceil(),
                "startsWith" | "endsWith" => (size(1) * STRING_FACTOR).ceil(),
                "_==_" | "_!=_" | "_<_" | "_>_" | "_<=_" | "_>=_" => {
                    (size(0).min(size(1)) * STRING_FACTOR).ceil().max(1.0)
                }
                "@in" => size(1),
                "_+_" => ((size(0) + size(1)) * STRING_FACTOR).ceil(),
                _ => 1.0,
            };
            let result = match (call.func_name.as_str(), args.get(1), args.get(2)) {
                // The larger of the two branches, as cel-go's union of sizes.
                ("_?_:_", Some(a), Some(b)) if a.size() >= b.size() => a.clone(),
                ("_?_:_", _, Some(b)) => b.clone(),
                _ => Ty::Scalar,
            };
            (total + call_cost, result)
        }
    })
}

fn restore<'a>(scope: &mut BTreeMap<String, Ty<'a>>, name: &str, saved: Option<Ty<'a>>) {
    match saved {
        Some(t) => scope.insert(name.to_owned(), t),
        None => scope.remove(name),
    };
}

/// The type of `operand.field`, or the apiserver's compile error.
fn select_field<'a>(operand: &Ty<'a>, field: &str) -> Result<Ty<'a>, String> {
    let Ty::Schema(node) = operand else {
        return Err(format!("undefined field '{field}' (not an object)"));
    };
    if let Some(child) = node.get("properties").and_then(|p| p.get(field)) {
        return Ok(Ty::Schema(child));
    }
    if let Some(values @ Value::Object(_)) = node.get("additionalProperties") {
        return Ok(Ty::Schema(values));
    }
    Err(format!("compilation failed: undefined field '{field}'"))
}

/// The root schema of a CRD, with the `metadata` the apiserver declares for rules.
fn root(
    definition: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> Value {
    let mut schema = serde_json::to_value(
        definition.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .unwrap(),
    )
    .unwrap();
    schema["properties"]["metadata"] = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}}
    });
    schema
}

#[test]
fn every_crd_passes_what_the_apiserver_checks() {
    let mut problems = Vec::new();
    for definition in crd::all_crds() {
        for problem in lint(&root(&definition)) {
            problems.push(format!(
                "{}: {problem}",
                definition.metadata.name.as_deref().unwrap()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The lint refuses what the apiserver refused: the three rules of 2026-11-30.
#[test]
fn the_lint_refuses_the_rules_the_apiserver_refused() {
    // A rule selecting a field of a free-form object (quaynotifications).
    let free_form = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "maxProperties": 8}}}},
        "x-kubernetes-validations": [{"rule":
            "!has(self.spec.config) || !has(self.spec.config.url)"}]});
    let problems = lint(&free_form);
    assert!(
        problems.iter().any(|p| p.contains("undefined field 'url'")),
        "{problems:?}"
    );

    // A regex over an unbounded string on every item of an unbounded list
    // (quayorganizations, quayrepositories); with int-or-string values.
    let costly = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"autoPrunePolicies": {"type": "array", "items": {"type": "object",
            "properties": {"method": {"type": "string", "enum": ["number_of_tags", "creation_date"]},
                "value": {"x-kubernetes-int-or-string": true,
                    "anyOf": [{"type": "integer"}, {"type": "string"}]}},
            "x-kubernetes-validations": [{"rule":
                "self.method == 'number_of_tags' ? self.value > 0 : self.value.matches('^[0-9]+[smhdwy]$')"}]}}}}}});
    let problems = lint(&costly);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("estimated cost") && p.contains("autoPrunePolicies[]")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("autoPrunePolicies: list without a bound")),
        "{problems:?}"
    );

    // Formats the apiserver does not know.
    let unsigned = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"n": {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 10}}}}});
    assert_eq!(lint(&unsigned), [r#".spec.n: unknown format "uint32""#]);

    // An int32 the apiserver would accept beyond 2^31 (numberOfTags had only a
    // minimum): the controller could not decode it.
    let wide = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"n": {"type": "integer", "format": "int32", "minimum": 1}}}}});
    let problems = lint(&wide);
    assert!(
        problems.len() == 1 && problems[0].contains(".spec.n: integer without minimum and maximum"),
        "{problems:?}"
    );

    // The same shapes bounded pass.
    let bounded = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"policies": {"type": "array", "maxItems": 20, "items": {"type": "object",
            "properties": {"age": {"type": "string", "maxLength": 16}},
            "x-kubernetes-validations": [{"rule": "self.age.matches('^[0-9]+[smhdw]$')"}]}}}}}});
    assert_eq!(lint(&bounded), Vec::<String>::new());
}

#[test]
fn cost_follows_cel_go_for_regexes_and_macros() {
    let node = json!({"type": "object", "properties": {
        "s": {"type": "string", "maxLength": 100},
        "l": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 10}}}});
    // (100 + 1) * 0.1 -> 11, times the regex length 8 * 0.25 -> 2, plus 2 selections.
    assert_eq!(rule_cost("self.s.matches('^[a-z]+$')", &node), Ok(24.0));
    // Ten items, each a selection and an identifier plus a comparison.
    let all = rule_cost("self.l.all(x, x == 'a')", &node).unwrap();
    assert!((20.0..=100.0).contains(&all), "{all}");
    assert!(
        rule_cost("self.nope == 1", &node)
            .unwrap_err()
            .contains("undefined field 'nope'")
    );
}
