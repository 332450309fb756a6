//! Strict schemas: an action's input schema rewritten to the rules of OpenAI's
//! strict function calling or Anthropic's strict tool use, or the reason it
//! cannot be.
//!
//! Both vendors accept only a subset of JSON Schema in strict mode and require
//! `additionalProperties: false` on every object. OpenAI also requires every
//! property to be listed in `required`: an optional property becomes nullable,
//! and [`super::drop_optional_nulls`] removes the model's nulls again at call time.
//! Keywords a vendor does not accept but that only narrow values (lengths,
//! bounds, formats…) are moved into the description, since the gateway still
//! validates the call against the action's own schema. Whatever would change
//! the meaning (a free-form object, an untyped value, `allOf`, `not`…) makes
//! the schema non-strict, with the reason.

use serde_json::{Map, Value, json};

/// Which vendor's strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vendor {
    /// OpenAI structured outputs / strict function calling.
    OpenAi,
    /// Anthropic strict tool use.
    Anthropic,
}

/// OpenAI: at most this many object properties in one schema…
const OPENAI_MAX_PROPERTIES: usize = 5000;
/// …this many levels of nesting…
const OPENAI_MAX_DEPTH: usize = 10;
/// …this many enum values in all…
const OPENAI_MAX_ENUM_VALUES: usize = 1000;
/// …and this many characters of property names, enum values and consts.
const OPENAI_MAX_STRING_CHARS: usize = 120_000;
/// Anthropic: optional parameters across a strict tool.
const ANTHROPIC_MAX_OPTIONAL: usize = 24;
/// Anthropic: parameters with union types across a strict tool.
const ANTHROPIC_MAX_UNIONS: usize = 16;

const OPENAI_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];
const ANTHROPIC_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords that only annotate: dropped without a trace.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "examples",
    "example",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentMediaType",
    "contentEncoding",
    "discriminator",
    "xml",
    "externalDocs",
    "nullable",
];

/// Keywords that change which values are valid in ways strict mode cannot express.
const MEANING_CHANGING: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "dependencies",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
    "prefixItems",
    "contains",
    "$dynamicRef",
    "$anchor",
];

/// Rewrites `schema` (an action's input schema) to `vendor`'s strict rules.
///
/// # Errors
/// Why the schema cannot be made strict, naming the JSON pointer.
pub(crate) fn make_strict(schema: &Value, vendor: Vendor) -> Result<Value, String> {
    let mut pass = Pass {
        vendor,
        properties: 0,
        enum_values: 0,
        string_chars: 0,
        optional: 0,
        unions: 0,
    };
    let root = schema
        .as_object()
        .ok_or_else(|| "the input schema is not an object schema".to_owned())?;
    if root.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the input schema's root is not `type: object`".into());
    }
    let defs = root
        .get("$defs")
        .or_else(|| root.get("definitions"))
        .and_then(Value::as_object);
    if vendor == Vendor::Anthropic
        && let Some(defs) = defs
        && let Some(name) = recursive_def(defs)
    {
        return Err(format!(
            "`$defs/{name}` is recursive, which Anthropic's strict mode does not support"
        ));
    }
    let mut out = pass.node(schema, "", 0)?;
    if let Some(defs) = defs {
        let mut converted = Map::new();
        for (name, def) in defs {
            converted.insert(
                name.clone(),
                pass.node(def, &format!("/$defs/{}", escape(name)), 1)?,
            );
        }
        if let Some(o) = out.as_object_mut() {
            o.insert("$defs".into(), Value::Object(converted));
        }
    }
    pass.limits()?;
    Ok(out)
}

struct Pass {
    vendor: Vendor,
    properties: usize,
    enum_values: usize,
    string_chars: usize,
    optional: usize,
    unions: usize,
}

impl Pass {
    fn limits(&self) -> Result<(), String> {
        match self.vendor {
            Vendor::OpenAi => {
                if self.properties > OPENAI_MAX_PROPERTIES {
                    return Err(format!(
                        "{} object properties, over OpenAI's strict limit of {OPENAI_MAX_PROPERTIES}",
                        self.properties
                    ));
                }
                if self.enum_values > OPENAI_MAX_ENUM_VALUES {
                    return Err(format!(
                        "{} enum values, over OpenAI's strict limit of {OPENAI_MAX_ENUM_VALUES}",
                        self.enum_values
                    ));
                }
                if self.string_chars > OPENAI_MAX_STRING_CHARS {
                    return Err(format!(
                        "{} characters of names and enum values, over OpenAI's strict limit of {OPENAI_MAX_STRING_CHARS}",
                        self.string_chars
                    ));
                }
            }
            Vendor::Anthropic => {
                if self.optional > ANTHROPIC_MAX_OPTIONAL {
                    return Err(format!(
                        "{} optional parameters, over Anthropic's strict limit of {ANTHROPIC_MAX_OPTIONAL}",
                        self.optional
                    ));
                }
                if self.unions > ANTHROPIC_MAX_UNIONS {
                    return Err(format!(
                        "{} parameters with union types, over Anthropic's strict limit of {ANTHROPIC_MAX_UNIONS}",
                        self.unions
                    ));
                }
            }
        }
        Ok(())
    }

    fn node(&mut self, schema: &Value, at: &str, depth: usize) -> Result<Value, String> {
        let here = if at.is_empty() { "/" } else { at };
        if self.vendor == Vendor::OpenAi && depth > OPENAI_MAX_DEPTH {
            return Err(format!(
                "{here}: nested deeper than OpenAI's strict limit of {OPENAI_MAX_DEPTH} levels"
            ));
        }
        let Some(map) = schema.as_object() else {
            return Err(format!("{here}: a value of any type (boolean schema)"));
        };
        // `allOf` of one schema is that schema.
        if let Some(all) = map.get("allOf") {
            match all.as_array().map(Vec::as_slice) {
                Some([only]) => {
                    let mut merged = map.clone();
                    merged.remove("allOf");
                    if let Some(inner) = only.as_object() {
                        for (k, v) in inner {
                            merged.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    return self.node(&Value::Object(merged), at, depth);
                }
                _ => return Err(format!("{here}: `allOf` is not supported in strict mode")),
            }
        }
        for keyword in MEANING_CHANGING {
            if map.contains_key(*keyword) {
                return Err(format!(
                    "{here}: `{keyword}` is not supported in strict mode"
                ));
            }
        }
        let mut out = Map::new();
        let mut notes: Vec<String> = Vec::new();
        if let Some(r) = map.get("$ref") {
            let r = r
                .as_str()
                .ok_or_else(|| format!("{here}: `$ref` is not a string"))?;
            let local = r
                .strip_prefix("#/$defs/")
                .or_else(|| r.strip_prefix("#/definitions/"))
                .ok_or_else(|| format!("{here}: `$ref` {r} is not under #/$defs"))?;
            // A `$ref` stands alone: OpenAI's SDK inlines a `$ref` with siblings.
            out.insert("$ref".into(), json!(format!("#/$defs/{local}")));
            return Ok(Value::Object(out));
        }
        let union = map.get("anyOf").or_else(|| map.get("oneOf"));
        if let Some(union) = union {
            let items = union
                .as_array()
                .ok_or_else(|| format!("{here}: `anyOf` is not an array"))?;
            let mut converted = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                converted.push(self.node(item, &format!("{at}/anyOf/{i}"), depth + 1)?);
            }
            self.unions += 1;
            out.insert("anyOf".into(), Value::Array(converted));
        }
        let types = types_of(map);
        if types.is_empty()
            && union.is_none()
            && !map.contains_key("enum")
            && !map.contains_key("const")
        {
            return Err(format!("{here}: a value of any type (no `type`)"));
        }
        if types.iter().filter(|t| *t != "null").count() > 1 {
            self.unions += 1;
        }
        if let Some(t) = map.get("type") {
            out.insert("type".into(), t.clone());
        }
        for keyword in ["enum", "const"] {
            if let Some(v) = map.get(keyword) {
                let values: Vec<&Value> = match v {
                    Value::Array(a) if keyword == "enum" => a.iter().collect(),
                    other => vec![other],
                };
                self.enum_values += values.len();
                self.string_chars += values
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::len)
                    .sum::<usize>();
                out.insert(keyword.into(), v.clone());
            }
        }
        if types.iter().any(|t| t == "object") {
            self.object(map, &mut out, at, depth)?;
        }
        if types.iter().any(|t| t == "array") {
            let items = map
                .get("items")
                .ok_or_else(|| format!("{here}: an array of values of any type (no `items`)"))?;
            out.insert(
                "items".into(),
                self.node(items, &format!("{at}/items"), depth + 1)?,
            );
            self.array_bounds(map, &mut out, &mut notes);
        }
        self.scalar_keywords(map, &mut out, &mut notes);
        for (k, v) in map {
            let known = out.contains_key(k)
                || ANNOTATIONS.contains(&k.as_str())
                || k.starts_with("x-")
                || matches!(
                    k.as_str(),
                    "description"
                        | "anyOf"
                        | "oneOf"
                        | "properties"
                        | "required"
                        | "additionalProperties"
                        | "items"
                        | "$defs"
                        | "definitions"
                        | "default"
                        | "minItems"
                        | "maxItems"
                        | "uniqueItems"
                        | "minLength"
                        | "maxLength"
                        | "pattern"
                        | "format"
                        | "minimum"
                        | "maximum"
                        | "exclusiveMinimum"
                        | "exclusiveMaximum"
                        | "multipleOf"
                        | "minProperties"
                        | "maxProperties"
                );
            if !known {
                return Err(format!("{here}: `{k}` is not supported in strict mode"));
            }
            let _ = v;
        }
        if let Some(d) = map.get("default") {
            notes.push(format!("default {d}"));
        }
        let description = map.get("description").and_then(Value::as_str);
        if description.is_some() || !notes.is_empty() {
            let mut text = description.unwrap_or("").trim().to_owned();
            if !notes.is_empty() {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&format!("({})", notes.join("; ")));
            }
            out.insert("description".into(), Value::String(text));
        }
        // Anthropic's SDK takes an `enum` or `const` of primitives as the whole
        // type (its `transform_schema` drops `type` next to them).
        if self.vendor == Vendor::Anthropic
            && ["enum", "const"].iter().any(|k| {
                out.get(*k).is_some_and(|v| match v {
                    Value::Array(values) => values.iter().all(is_primitive),
                    other => is_primitive(other),
                })
            })
        {
            out.remove("type");
        }
        if self.vendor == Vendor::Anthropic
            && let Some(Value::Array(types)) = out.get("type").cloned()
        {
            return Ok(split_types(out, &types));
        }
        Ok(Value::Object(out))
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        out: &mut Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        let here = if at.is_empty() { "/" } else { at };
        match map.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::Object(o)) if o.is_empty() => {
                return Err(format!(
                    "{here}: a free-form object (additionalProperties: {{}})"
                ));
            }
            Some(_) => {
                return Err(format!(
                    "{here}: a map with free keys (additionalProperties), which strict mode cannot express"
                ));
            }
        }
        let Some(properties) = map.get("properties").and_then(Value::as_object) else {
            if map.get("additionalProperties") == Some(&Value::Bool(false))
                || at.is_empty() && map.contains_key("properties")
            {
                out.insert("properties".into(), json!({}));
                out.insert("required".into(), json!([]));
                out.insert("additionalProperties".into(), json!(false));
                return Ok(());
            }
            return Err(format!("{here}: a free-form object (no `properties`)"));
        };
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut converted = Map::new();
        for (name, prop) in properties {
            self.properties += 1;
            self.string_chars += name.len();
            let mut p = self.node(
                prop,
                &format!("{at}/properties/{}", escape(name)),
                depth + 1,
            )?;
            if !required.contains(&name.as_str()) {
                self.optional += 1;
                if self.vendor == Vendor::OpenAi {
                    p = nullable(p);
                }
            }
            converted.insert(name.clone(), p);
        }
        let required_out: Vec<Value> = match self.vendor {
            Vendor::OpenAi => converted.keys().map(|k| json!(k)).collect(),
            Vendor::Anthropic => required
                .iter()
                .filter(|r| converted.contains_key(**r))
                .map(|r| json!(r))
                .collect(),
        };
        out.insert("properties".into(), Value::Object(converted));
        out.insert("required".into(), Value::Array(required_out));
        out.insert("additionalProperties".into(), json!(false));
        Ok(())
    }

    fn array_bounds(
        &self,
        map: &Map<String, Value>,
        out: &mut Map<String, Value>,
        notes: &mut Vec<String>,
    ) {
        for keyword in ["minItems", "maxItems"] {
            let Some(v) = map.get(keyword) else { continue };
            let keep = match self.vendor {
                Vendor::OpenAi => true,
                // Anthropic accepts minItems 0 or 1 only.
                Vendor::Anthropic => keyword == "minItems" && v.as_u64().is_some_and(|n| n <= 1),
            };
            if keep {
                out.insert(keyword.into(), v.clone());
            } else {
                notes.push(format!("{keyword} {v}"));
            }
        }
        if map.get("uniqueItems") == Some(&Value::Bool(true)) {
            notes.push("unique items".into());
        }
    }

    fn scalar_keywords(
        &self,
        map: &Map<String, Value>,
        out: &mut Map<String, Value>,
        notes: &mut Vec<String>,
    ) {
        // Anthropic's SDK (`transform_schema`) keeps neither numeric bounds nor `pattern`.
        let (formats, numeric_ok, pattern_ok) = match self.vendor {
            Vendor::OpenAi => (OPENAI_FORMATS, true, true),
            Vendor::Anthropic => (ANTHROPIC_FORMATS, false, false),
        };
        if let Some(f) = map.get("format").and_then(Value::as_str) {
            if formats.contains(&f) {
                out.insert("format".into(), json!(f));
            } else {
                notes.push(format!("format {f}"));
            }
        }
        if let Some(p) = map.get("pattern") {
            if pattern_ok {
                out.insert("pattern".into(), p.clone());
            } else {
                notes.push(format!("pattern {p}"));
            }
        }
        for keyword in [
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ] {
            if let Some(v) = map.get(keyword) {
                if numeric_ok {
                    out.insert(keyword.into(), v.clone());
                } else {
                    notes.push(format!("{keyword} {v}"));
                }
            }
        }
        for keyword in ["minLength", "maxLength", "minProperties", "maxProperties"] {
            if let Some(v) = map.get(keyword) {
                notes.push(format!("{keyword} {v}"));
            }
        }
    }
}

/// The JSON Schema types `map` names (`type` as a string or an array).
pub(super) fn types_of(map: &Map<String, Value>) -> Vec<String> {
    match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// `{"type": [a, b], …}` as `{"anyOf": [{"type": a, …}, {"type": b, …}]}`:
/// Anthropic takes one type per schema. The description stays outside.
fn split_types(mut out: Map<String, Value>, types: &[Value]) -> Value {
    let description = out.remove("description");
    out.remove("type");
    let branches: Vec<Value> = types
        .iter()
        .map(|t| {
            if t == "null" {
                return json!({"type": "null"});
            }
            let mut branch = Map::new();
            branch.insert("type".into(), t.clone());
            let keep: &[&str] = match t.as_str() {
                Some("object") => &["properties", "required", "additionalProperties"],
                Some("array") => &["items", "minItems"],
                Some("string") => &["format", "enum", "const"],
                _ => &["enum", "const"],
            };
            for k in keep {
                if let Some(v) = out.get(*k) {
                    let v = match (k, v) {
                        // `null` belongs to the null branch only.
                        (&"enum", Value::Array(values)) => {
                            Value::Array(values.iter().filter(|v| !v.is_null()).cloned().collect())
                        }
                        _ => v.clone(),
                    };
                    branch.insert((*k).into(), v);
                }
            }
            Value::Object(branch)
        })
        .collect();
    let mut split = Map::new();
    split.insert("anyOf".into(), Value::Array(branches));
    if let Some(d) = description {
        split.insert("description".into(), d);
    }
    Value::Object(split)
}

fn is_primitive(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// `schema` that also accepts `null`.
pub(crate) fn nullable(mut schema: Value) -> Value {
    let Some(map) = schema.as_object_mut() else {
        return schema;
    };
    if map.contains_key("$ref") || map.contains_key("const") {
        return json!({"anyOf": [schema, {"type": "null"}]});
    }
    if let Some(Value::Array(items)) = map.get_mut("anyOf") {
        if !items.iter().any(|i| i.get("type") == Some(&json!("null"))) {
            items.push(json!({"type": "null"}));
        }
        return schema;
    }
    match map.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            map.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(a)) if !a.contains(&json!("null")) => a.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    schema
}

/// A `$defs` entry that reaches itself through `$ref`s, if any.
fn recursive_def(defs: &Map<String, Value>) -> Option<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str)
                    && let Some(name) = r
                        .strip_prefix("#/$defs/")
                        .or_else(|| r.strip_prefix("#/definitions/"))
                {
                    out.push(name.to_owned());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for start in defs.keys() {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![start.clone()];
        while let Some(name) = stack.pop() {
            let mut next = Vec::new();
            if let Some(def) = defs.get(&name) {
                refs(def, &mut next);
            }
            for n in next {
                if &n == start {
                    return Some(start.clone());
                }
                if seen.insert(n.clone()) {
                    stack.push(n);
                }
            }
        }
    }
    None
}

/// A JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slackish() -> Value {
        json!({
            "type": "object",
            "properties": {
                "channel": {"type": "string", "description": "Channel id", "minLength": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "opts": {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]},
                "ids": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 5}
            },
            "required": ["channel"]
        })
    }

    #[test]
    fn openai_requires_every_property_and_makes_optional_ones_nullable() {
        let s = make_strict(&slackish(), Vendor::OpenAi).unwrap();
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(
            s["required"],
            json!(["channel", "ids", "kind", "limit", "opts"])
        );
        assert_eq!(s["properties"]["channel"]["type"], json!("string"));
        assert_eq!(s["properties"]["limit"]["type"], json!(["integer", "null"]));
        assert_eq!(s["properties"]["kind"]["enum"], json!(["a", "b", null]));
        assert_eq!(
            s["properties"]["opts"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(s["properties"]["opts"]["required"], json!(["x"]));
        assert_eq!(s["properties"]["limit"]["maximum"], json!(1000));
        // Unsupported but narrowing keywords move to the description.
        assert_eq!(
            s["properties"]["channel"]["description"],
            json!("Channel id (minLength 1)")
        );
        assert!(
            s["properties"]["limit"]["description"]
                .as_str()
                .unwrap()
                .contains("default 100")
        );
        assert!(s["properties"]["channel"].get("minLength").is_none());
    }

    #[test]
    fn anthropic_keeps_optional_properties_and_drops_numeric_bounds() {
        let s = make_strict(&slackish(), Vendor::Anthropic).unwrap();
        assert_eq!(s["required"], json!(["channel"]));
        assert_eq!(s["properties"]["limit"]["type"], json!("integer"));
        assert!(s["properties"]["limit"].get("maximum").is_none());
        assert!(s["properties"]["ids"].get("maxItems").is_none());
        assert_eq!(s["additionalProperties"], json!(false));
    }

    #[test]
    fn anthropic_gets_one_type_per_schema() {
        let s = json!({"type": "object", "properties": {
            "note": {"type": ["string", "null"], "description": "A note", "pattern": "^a"}
        }});
        let out = make_strict(&s, Vendor::Anthropic).unwrap();
        assert_eq!(
            out["properties"]["note"],
            json!({"anyOf": [{"type": "string"}, {"type": "null"}], "description": "A note (pattern \"^a\")"})
        );
    }

    #[test]
    fn free_form_objects_and_untyped_values_cannot_be_strict() {
        let free = json!({"type": "object", "properties": {"m": {"type": "object"}}});
        let e = make_strict(&free, Vendor::OpenAi).unwrap_err();
        assert!(e.contains("/properties/m: a free-form object"), "{e}");
        let map = json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "string"}}}});
        assert!(
            make_strict(&map, Vendor::OpenAi)
                .unwrap_err()
                .contains("free keys")
        );
        let any = json!({"type": "object", "properties": {"v": {}}});
        assert!(
            make_strict(&any, Vendor::OpenAi)
                .unwrap_err()
                .contains("any type")
        );
        let not = json!({"type": "object", "properties": {"v": {"type": "string", "not": {"const": "x"}}}});
        assert!(
            make_strict(&not, Vendor::OpenAi)
                .unwrap_err()
                .contains("`not`")
        );
    }

    #[test]
    fn refs_point_into_defs_and_recursion_is_refused_by_anthropic_only() {
        let tree = json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "required": ["root"],
            "$defs": {"Node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}}
        });
        let s = make_strict(&tree, Vendor::OpenAi).unwrap();
        assert_eq!(s["$defs"]["Node"]["required"], json!(["children"]));
        assert_eq!(
            s["$defs"]["Node"]["properties"]["children"]["type"],
            json!(["array", "null"])
        );
        let e = make_strict(&tree, Vendor::Anthropic).unwrap_err();
        assert!(e.contains("recursive"), "{e}");
    }

    #[test]
    fn limits_are_enforced() {
        let many: Map<String, Value> = (0..1001)
            .map(|i| {
                (
                    format!("p{i}"),
                    json!({"type": "string", "enum": [format!("v{i}")]}),
                )
            })
            .collect();
        let s = json!({"type": "object", "properties": many});
        assert!(
            make_strict(&s, Vendor::OpenAi)
                .unwrap_err()
                .contains("enum values")
        );
        assert!(
            make_strict(&s, Vendor::Anthropic)
                .unwrap_err()
                .contains("optional parameters")
        );
        let mut deep = json!({"type": "string"});
        for _ in 0..12 {
            deep = json!({"type": "object", "properties": {"n": deep}, "required": ["n"]});
        }
        assert!(
            make_strict(&deep, Vendor::OpenAi)
                .unwrap_err()
                .contains("deeper")
        );
    }

    #[test]
    fn nullable_forms() {
        assert_eq!(
            nullable(json!({"$ref": "#/$defs/A"})),
            json!({"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]})
        );
        assert_eq!(
            nullable(json!({"anyOf": [{"type": "string"}]})),
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            nullable(json!({"type": ["string", "null"]})),
            json!({"type": ["string", "null"]})
        );
    }
}
