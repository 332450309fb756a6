//! Gemini function declarations: an action's input schema rewritten to the
//! OpenAPI 3.0 subset that Gemini's `FunctionDeclaration.parameters` accepts.
//!
//! Gemini takes `type` (upper case), `format`, `description`, `nullable`,
//! `enum` (strings only), `properties`, `required`, `items`, `anyOf`, bounds and
//! lengths, `pattern`, `default`, `example`, `title`; no `$ref`, no
//! `additionalProperties`, no `oneOf`/`allOf`, no type arrays. So `$ref`s are
//! inlined (a recursive one is cut to a described object), `["string","null"]`
//! becomes `STRING` + `nullable`, `oneOf` becomes `anyOf`, a one-schema `allOf`
//! is merged, and whatever narrows values beyond the subset goes into the
//! description (the gateway still validates against the action's own schema).

use super::nulls::resolve;
use serde_json::{Map, Value, json};

/// Keywords Gemini's schema carries over unchanged.
const KEPT: &[&str] = &[
    "description",
    "title",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "default",
    "example",
];

/// How deep `$ref`s are inlined before a recursive one is cut.
const MAX_INLINE_DEPTH: usize = 8;

/// `schema` in Gemini's OpenAPI subset, or `None` when it takes no parameters.
pub(crate) fn parameters(schema: &Value) -> Option<Value> {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    let converted = convert(schema, defs, 0);
    let empty = converted
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    (!empty).then_some(converted)
}

fn convert(schema: &Value, defs: Option<&Map<String, Value>>, depth: usize) -> Value {
    let Some(map) = schema.as_object() else {
        return json!({});
    };
    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .or_else(|| r.strip_prefix("#/definitions/"));
        let target = name.and_then(|n| defs.and_then(|d| d.get(n)));
        return match target {
            Some(t) if depth < MAX_INLINE_DEPTH => {
                let mut inlined = convert(t, defs, depth + 1);
                if let (Some(d), Some(o)) = (map.get("description"), inlined.as_object_mut()) {
                    o.insert("description".into(), d.clone());
                }
                inlined
            }
            _ => json!({
                "type": "OBJECT",
                "description": format!("{} (nested too deeply to describe here)", name.unwrap_or(r)),
            }),
        };
    }
    if let Some(Value::Array(all)) = map.get("allOf") {
        let mut merged = map.clone();
        merged.remove("allOf");
        let mut properties = Map::new();
        let mut required = Vec::new();
        for part in all {
            let part = resolve(part, defs);
            if let Some(p) = part.get("properties").and_then(Value::as_object) {
                properties.extend(p.clone());
            }
            if let Some(r) = part.get("required").and_then(Value::as_array) {
                required.extend(r.iter().cloned());
            }
            if let Some(o) = part.as_object() {
                for (k, v) in o {
                    if k != "properties" && k != "required" {
                        merged.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        if !properties.is_empty() {
            let own = merged.entry("properties").or_insert_with(|| json!({}));
            if let Some(own) = own.as_object_mut() {
                own.extend(properties);
            }
            merged.entry("type").or_insert_with(|| json!("object"));
        }
        if !required.is_empty() {
            let own = merged.entry("required").or_insert_with(|| json!([]));
            if let Some(own) = own.as_array_mut() {
                own.extend(required);
            }
        }
        return convert(&Value::Object(merged), defs, depth);
    }
    let mut out = Map::new();
    let mut notes = Vec::new();
    for k in KEPT {
        if let Some(v) = map.get(*k) {
            out.insert((*k).into(), v.clone());
        }
    }
    let mut types = super::strict::types_of(map);
    if types.is_empty() {
        if map.contains_key("properties") {
            types.push("object".into());
        } else if map.contains_key("items") {
            types.push("array".into());
        }
    }
    let nullable =
        types.iter().any(|t| t == "null") || map.get("nullable") == Some(&Value::Bool(true));
    types.retain(|t| t != "null");
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    let union = map.get("anyOf").or_else(|| map.get("oneOf"));
    if let Some(Value::Array(items)) = union {
        let mut converted = Vec::new();
        for item in items {
            if item.get("type") == Some(&json!("null")) {
                out.insert("nullable".into(), json!(true));
            } else {
                converted.push(convert(item, defs, depth));
            }
        }
        match converted.len() {
            0 => {}
            1 => {
                let only = converted.remove(0);
                if let Some(o) = only.as_object() {
                    for (k, v) in o {
                        out.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            _ => {
                out.insert("anyOf".into(), Value::Array(converted));
            }
        }
    }
    match types.as_slice() {
        [] => {}
        [t] => {
            out.insert("type".into(), json!(t.to_ascii_uppercase()));
        }
        several => {
            // Several types: one alternative each.
            let alternatives: Vec<Value> = several
                .iter()
                .map(|t| {
                    let mut one = map.clone();
                    one.insert("type".into(), json!(t));
                    one.remove("anyOf");
                    one.remove("oneOf");
                    convert(&Value::Object(one), defs, depth)
                })
                .collect();
            out.insert("anyOf".into(), Value::Array(alternatives));
        }
    }
    let single = (types.len() == 1).then(|| types[0].as_str());
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        let strings: Vec<&Value> = values.iter().filter(|v| v.is_string()).collect();
        if single == Some("string")
            && strings.len() == values.iter().filter(|v| !v.is_null()).count()
        {
            out.insert(
                "enum".into(),
                Value::Array(strings.into_iter().cloned().collect()),
            );
            out.insert("format".into(), json!("enum"));
        } else {
            notes.push(format!("one of {}", Value::Array(values.clone())));
        }
    }
    if let Some(c) = map.get("const") {
        if c.is_string() && single.is_none_or(|t| t == "string") {
            out.insert("type".into(), json!("STRING"));
            out.insert("enum".into(), json!([c]));
            out.insert("format".into(), json!("enum"));
        } else {
            notes.push(format!("always {c}"));
        }
    }
    if let Some(f) = map.get("format").and_then(Value::as_str)
        && !out.contains_key("format")
    {
        let supported = match single {
            Some("string") => f == "date-time",
            Some("number") => matches!(f, "float" | "double"),
            Some("integer") => matches!(f, "int32" | "int64"),
            _ => false,
        };
        if supported {
            out.insert("format".into(), json!(f));
        } else {
            notes.push(format!("format {f}"));
        }
    }
    for k in ["exclusiveMinimum", "exclusiveMaximum", "multipleOf"] {
        if let Some(v) = map.get(k) {
            notes.push(format!("{k} {v}"));
        }
    }
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        let converted: Map<String, Value> = properties
            .iter()
            .map(|(k, v)| (k.clone(), convert(v, defs, depth)))
            .collect();
        let order: Vec<Value> = converted.keys().map(|k| json!(k)).collect();
        out.insert("properties".into(), Value::Object(converted));
        out.insert("propertyOrdering".into(), Value::Array(order));
        if let Some(required) = map.get("required").and_then(Value::as_array) {
            let present: Vec<Value> = required
                .iter()
                .filter(|r| r.as_str().is_some_and(|r| properties.contains_key(r)))
                .cloned()
                .collect();
            out.insert("required".into(), Value::Array(present));
        }
    }
    if let Some(items) = map.get("items") {
        out.insert("items".into(), convert(items, defs, depth));
    }
    if !notes.is_empty() {
        let text = out
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let joined = notes.join("; ");
        let text = if text.is_empty() {
            format!("({joined})")
        } else {
            format!("{text} ({joined})")
        };
        out.insert("description".into(), json!(text));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_refs_and_nullables_become_the_openapi_subset() {
        let s = json!({
            "type": "object",
            "properties": {
                "name": {"type": ["string", "null"], "maxLength": 5},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "n": {"type": "integer", "enum": [1, 2], "exclusiveMinimum": 0},
                "who": {"$ref": "#/$defs/User"},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "free": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "required": ["mode", "gone"],
            "$defs": {"User": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}}
        });
        let p = parameters(&s).unwrap();
        assert_eq!(p["type"], json!("OBJECT"));
        assert_eq!(p["required"], json!(["mode"]));
        assert_eq!(
            p["properties"]["name"],
            json!({"type": "STRING", "nullable": true, "maxLength": 5})
        );
        assert_eq!(p["properties"]["mode"]["enum"], json!(["a", "b"]));
        assert_eq!(p["properties"]["mode"]["format"], json!("enum"));
        assert!(p["properties"]["n"].get("enum").is_none());
        assert!(
            p["properties"]["n"]["description"]
                .as_str()
                .unwrap()
                .contains("one of [1,2]")
        );
        assert_eq!(
            p["properties"]["who"]["properties"]["id"]["type"],
            json!("STRING")
        );
        assert_eq!(
            p["properties"]["either"]["anyOf"][1]["type"],
            json!("INTEGER")
        );
        assert!(
            p["properties"]["free"]
                .get("additionalProperties")
                .is_none()
        );
        assert!(!p.to_string().contains("$ref"));
    }

    #[test]
    fn recursion_is_cut_and_empty_inputs_take_no_parameters() {
        let s = json!({"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}},
            "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}});
        let p = parameters(&s).unwrap();
        assert!(p.to_string().contains("nested too deeply"));
        assert_eq!(
            parameters(&json!({"type": "object", "properties": {}})),
            None
        );
        assert_eq!(parameters(&json!({"type": "object"})), None);
    }
}
