//! Nulls a model sent for optional fields, removed before validation.
//!
//! OpenAI's strict mode lists every property as required and makes the
//! optional ones nullable, so a model fills "no value" in as `null`. The
//! action's own schema usually does not accept `null` there; an absent field
//! is what was meant. So a `null` is dropped where the field is optional and its
//! own schema does not accept `null`; every other `null` stays for validation
//! to judge.

use serde_json::{Map, Value};

/// `input` without the `null`s sent for optional fields of `schema` that do not
/// accept `null` themselves, in nested objects and array items too.
pub fn drop_optional_nulls(schema: &Value, mut input: Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    walk(schema, defs, &mut input, 0);
    input
}

/// Deeper than this, inputs are left as they are (recursive schemas).
const MAX_DEPTH: usize = 32;

fn walk(schema: &Value, defs: Option<&Map<String, Value>>, value: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let schema = resolve(schema, defs);
    match value {
        Value::Object(fields) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            fields.retain(|name, v| {
                !(v.is_null()
                    && !required.contains(&name.as_str())
                    && properties
                        .get(name)
                        .is_some_and(|p| !accepts_null(resolve(p, defs))))
            });
            for (name, v) in fields.iter_mut() {
                if let Some(p) = properties.get(name) {
                    walk(p, defs, v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    walk(item_schema, defs, item, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The schema a `$ref` names, or the schema itself (the exports resolve
/// local `$defs`/`definitions` references with it too).
pub(super) fn resolve<'a>(schema: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| {
            r.strip_prefix("#/$defs/")
                .or_else(|| r.strip_prefix("#/definitions/"))
        })
        .and_then(|n| defs.and_then(|d| d.get(n)))
        .unwrap_or(schema)
}

fn accepts_null(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        // `true` accepts anything.
        return schema.as_bool().unwrap_or(false);
    };
    match map.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(a)) => a.iter().any(|t| t == "null"),
        None => {
            map.get("nullable") == Some(&Value::Bool(true))
                || ["anyOf", "oneOf"].iter().any(|k| {
                    map.get(*k)
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(accepts_null))
                })
                || map
                    .get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.contains(&Value::Null))
                || map.get("const") == Some(&Value::Null)
                || (!map.contains_key("enum")
                    && !map.contains_key("const")
                    && !map.contains_key("$ref")
                    && !map.contains_key("anyOf")
                    && !map.contains_key("oneOf")
                    && !map.contains_key("properties")
                    && !map.contains_key("items"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_only_nulls_of_optional_fields_that_reject_null() {
        let schema = json!({
            "type": "object",
            "properties": {
                "channel": {"type": "string"},
                "thread": {"type": "string"},
                "note": {"type": ["string", "null"]},
                "any": {},
                "opts": {"$ref": "#/$defs/Opts"},
                "list": {"type": "array", "items": {"$ref": "#/$defs/Opts"}}
            },
            "required": ["channel"],
            "$defs": {"Opts": {"type": "object", "properties": {"x": {"type": "integer"}}}}
        });
        let input = json!({
            "channel": null, "thread": null, "note": null, "any": null,
            "opts": {"x": null}, "list": [{"x": null}, {"x": 1}]
        });
        let out = drop_optional_nulls(&schema, input);
        assert_eq!(
            out,
            json!({"channel": null, "note": null, "any": null, "opts": {}, "list": [{}, {"x": 1}]})
        );
    }
}
