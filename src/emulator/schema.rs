//! A small JSON-schema validator (the subset Quay's request schemas use) that
//! words its errors like Python's `jsonschema`, including the `pprint`-style
//! dump of the failing schema and instance that Quay puts into `detail`.

use serde_json::{Map, Value};

/// Validates `instance` against `schema`; on failure returns the jsonschema-style
/// message that Quay puts into the problem's `detail`.
pub fn validate(instance: &Value, schema: &Value) -> Result<(), String> {
    match check(instance, schema, &mut Vec::new(), &mut Vec::new()) {
        None => Ok(()),
        Some(err) => Err(err.render()),
    }
}

struct Failure {
    message: String,
    keyword: &'static str,
    schema_path: Vec<String>,
    schema: Value,
    instance_path: Vec<String>,
    instance: Value,
}

impl Failure {
    fn render(&self) -> String {
        let schema_path: String = self.schema_path.iter().map(|p| format!("[{p}]")).collect();
        let instance_path: String = self
            .instance_path
            .iter()
            .map(|p| format!("[{p}]"))
            .collect();
        format!(
            "{}\n\nFailed validating '{}' in schema{}:\n    {}\n\nOn instance{}:\n    {}",
            self.message,
            self.keyword,
            schema_path,
            pformat(&self.schema).replace('\n', "\n    "),
            instance_path,
            pformat(&self.instance).replace('\n', "\n    ")
        )
    }
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check(
    instance: &Value,
    schema: &Value,
    spath: &mut Vec<String>,
    ipath: &mut Vec<String>,
) -> Option<Failure> {
    let fail = |message: String,
                keyword: &'static str,
                spath: &Vec<String>,
                ipath: &Vec<String>| Failure {
        message,
        keyword,
        schema_path: spath.clone(),
        schema: schema.clone(),
        instance_path: ipath.clone(),
        instance: instance.clone(),
    };
    let obj = schema.as_object()?;
    if let Some(ty) = obj.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(instance, t)) {
            let list = types
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Some(fail(
                format!("{} is not of type {}", repr(instance), list),
                "type",
                spath,
                ipath,
            ));
        }
    }
    if let Some(Value::Array(options)) = obj.get("enum")
        && !options.contains(instance)
    {
        let message = format!(
            "{} is not one of {}",
            repr(instance),
            repr(&Value::Array(options.clone()))
        );
        return Some(fail(message, "enum", spath, ipath));
    }
    if let (Some(max), Some(s)) = (
        obj.get("maxLength").and_then(Value::as_u64),
        instance.as_str(),
    ) && s.chars().count() as u64 > max
    {
        return Some(fail(
            format!("{} is too long", repr(instance)),
            "maxLength",
            spath,
            ipath,
        ));
    }
    if let (Some(min), Some(n)) = (
        obj.get("minimum").and_then(Value::as_f64),
        instance.as_f64(),
    ) && instance.is_number()
        && n < min
    {
        let min_text = obj.get("minimum").map(repr).unwrap_or_default();
        let message = format!(
            "{} is less than the minimum of {}",
            repr(instance),
            min_text
        );
        return Some(fail(message, "minimum", spath, ipath));
    }
    if let (Some(pattern), Some(s)) = (
        obj.get("pattern").and_then(Value::as_str),
        instance.as_str(),
    ) && !pattern_matches(pattern, s)
    {
        let message = format!(
            "{} does not match {}",
            repr(instance),
            repr(&Value::String(pattern.to_string()))
        );
        return Some(fail(message, "pattern", spath, ipath));
    }
    if let (Some(Value::Array(required)), Some(map)) = (obj.get("required"), instance.as_object()) {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                return Some(fail(
                    format!("'{name}' is a required property"),
                    "required",
                    spath,
                    ipath,
                ));
            }
        }
    }
    if let (Some(Value::Object(props)), Some(map)) = (obj.get("properties"), instance.as_object()) {
        for (name, sub_schema) in props {
            if let Some(value) = map.get(name) {
                spath.push("'properties'".to_string());
                spath.push(format!("'{name}'"));
                ipath.push(format!("'{name}'"));
                let failure = check(value, sub_schema, spath, ipath);
                ipath.pop();
                spath.pop();
                spath.pop();
                if failure.is_some() {
                    return failure;
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (obj.get("items"), instance.as_array()) {
        for (i, value) in array.iter().enumerate() {
            spath.push("'items'".to_string());
            ipath.push(i.to_string());
            let failure = check(value, items, spath, ipath);
            ipath.pop();
            spath.pop();
            if failure.is_some() {
                return failure;
            }
        }
    }
    if let Some(Value::Array(options)) = obj.get("oneOf") {
        // jsonschema's best_match descends into the sub-schema errors; report the
        // error of the branch the instance "meant" (the one whose keys it uses).
        let mut errors = Vec::new();
        for (i, option) in options.iter().enumerate() {
            let mut sub_path = vec![i.to_string()];
            match check(instance, option, &mut sub_path, &mut ipath.clone()) {
                None => return None,
                Some(f) => errors.push(f),
            }
        }
        let keys: Vec<&String> = instance
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let chosen = errors
            .iter()
            .position(|f| {
                f.keyword != "required"
                    && keys
                        .iter()
                        .any(|k| f.instance_path.iter().any(|p| p == &format!("'{k}'")))
            })
            .unwrap_or(0);
        return errors.into_iter().nth(chosen);
    }
    None
}

/// The few regular expressions Quay's schemas use, matched by hand.
fn pattern_matches(pattern: &str, s: &str) -> bool {
    if pattern.starts_with("^(\\d+\\s?(B|KiB") {
        return super::quota_units::parse_human_size(s).is_some();
    }
    true
}

/// Python `repr()` of a JSON value.
pub fn repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => repr_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            sorted(map)
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut items: Vec<(&String, &Value)> = map.iter().collect();
    items.sort_by(|a, b| a.0.cmp(b.0));
    items
}

/// `pprint` width jsonschema uses.
const WIDTH: isize = 72;

fn width(s: &str) -> isize {
    s.chars().count() as isize
}

/// `pprint.pformat(value, width=72)`, following CPython's algorithm.
fn pformat(value: &Value) -> String {
    let mut out = String::new();
    pp(value, &mut out, 0, 0, 0);
    out
}

fn pp(value: &Value, out: &mut String, indent: usize, allowance: usize, level: usize) {
    let rep = repr(value);
    if width(&rep) > WIDTH - indent as isize - allowance as isize {
        match value {
            Value::Object(map) => return pp_dict(map, out, indent, allowance, level + 1),
            Value::Array(items) => return pp_list(items, out, indent, allowance, level + 1),
            Value::String(s) => return pp_str(s, out, indent, allowance, level + 1),
            _ => {}
        }
    }
    out.push_str(&rep);
}

fn pp_dict(
    map: &Map<String, Value>,
    out: &mut String,
    indent: usize,
    allowance: usize,
    level: usize,
) {
    out.push('{');
    let items = sorted(map);
    let indent = indent + 1;
    let allowance = allowance + 1;
    for (i, (key, value)) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let rep = repr_str(key);
        out.push_str(&rep);
        out.push_str(": ");
        pp(
            value,
            out,
            indent + rep.chars().count() + 2,
            if last { allowance } else { 1 },
            level,
        );
        if !last {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
    }
    out.push('}');
}

fn pp_list(items: &[Value], out: &mut String, indent: usize, allowance: usize, level: usize) {
    out.push('[');
    let indent = indent + 1;
    let allowance = allowance + 1;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        if i > 0 {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
        pp(item, out, indent, if last { allowance } else { 1 }, level);
    }
    out.push(']');
}

/// Python's `re.findall(r'\S*\s*', line)` without the final empty match.
fn word_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let space_end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        parts.push(&rest[..space_end]);
        rest = &rest[space_end..];
    }
    parts
}

fn pp_str(s: &str, out: &mut String, indent: usize, allowance: usize, level: usize) {
    if s.is_empty() {
        out.push_str(&repr_str(s));
        return;
    }
    let (mut indent, mut allowance) = (indent, allowance);
    if level == 1 {
        indent += 1;
        allowance += 1;
    }
    let max_width = WIDTH - indent as isize;
    let mut max_width1 = max_width;
    let lines: Vec<&str> = s.split_inclusive('\n').collect();
    let mut chunks: Vec<String> = Vec::new();
    let mut rep = String::new();
    for (i, line) in lines.iter().enumerate() {
        let last_line = i + 1 == lines.len();
        rep = repr_str(line);
        if last_line {
            max_width1 -= allowance as isize;
        }
        if width(&rep) <= max_width1 {
            chunks.push(rep.clone());
            continue;
        }
        let parts = word_parts(line);
        let mut max_width2 = max_width;
        let mut current = String::new();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == parts.len() && last_line {
                max_width2 -= allowance as isize;
            }
            if width(&repr_str(&candidate)) > max_width2 {
                if !current.is_empty() {
                    chunks.push(repr_str(&current));
                }
                current = (*part).to_string();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(repr_str(&current));
        }
    }
    if chunks.len() == 1 {
        out.push_str(&rep);
        return;
    }
    if level == 1 {
        out.push('(');
    }
    out.push_str(&chunks.join(&format!("\n{}", " ".repeat(indent))));
    if level == 1 {
        out.push(')');
    }
}
