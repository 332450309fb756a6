//! Step 2, validate input: the action's input schema, compiled once and cached
//! by schema hash, applied before anything is sent.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use jsonschema::Validator;

use serde_json::Value;

use super::resolve::CompiledAction;
use crate::error::{Error, ErrorKind};
use crate::schema::{SchemaCache, violations};

/// The input as this step judges it: the nulls a caller sent for optional
/// fields whose own schema takes no null are dropped
/// ([`drop_optional_nulls`](crate::tools::drop_optional_nulls)). That is how
/// an LLM's strict tool call says "no value" (every property required, the
/// optional ones nullable; decision 52), through MCP, the embedded
/// `call_tool` and the REST invoke alike. Any other null stays to be judged.
pub(crate) fn without_optional_nulls<'a>(schema: &Value, input: Cow<'a, Value>) -> Cow<'a, Value> {
    if !has_null(&input) {
        return input;
    }
    Cow::Owned(crate::tools::drop_optional_nulls(
        schema,
        input.into_owned(),
    ))
}

/// Whether a null stands anywhere in `value` (its depth is bounded by the
/// JSON parser that made it).
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}

/// Checks `input` against the action's input schema.
///
/// # Errors
/// `VALIDATION_ERROR` listing each violation with its JSON pointer, rule and
/// expected value; `INVALID_DEFINITION`-like configuration error when the
/// schema itself does not compile.
pub(crate) fn input(
    schemas: &SchemaCache,
    action: &CompiledAction,
    input: &Value,
) -> Result<(), Error> {
    let schema = &action.def.input_schema;
    let validator = compiled(
        schemas,
        &action.input_validator,
        schema,
        &action.def.slug,
        "inputSchema",
    )?;
    let found = violations(validator, schema, input);
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidInput { violations: found }))
    }
}

/// The validator kept in `cell`, taken from the cache (compiled there once per
/// schema) on first use.
///
/// # Errors
/// `CONFIGURATION_ERROR` naming the action and `field` when the schema does
/// not compile.
pub(crate) fn compiled<'a>(
    schemas: &SchemaCache,
    cell: &'a OnceLock<Arc<Validator>>,
    schema: &Value,
    action: &str,
    field: &str,
) -> Result<&'a Validator, Error> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let compiled = schemas
        .get(schema)
        .map_err(|e| Error::config(format!("action '{action}' {field}: {e}")))?;
    Ok(cell.get_or_init(|| compiled))
}

#[cfg(test)]
mod null_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_nulls_go_required_ones_stay() {
        let schema = json!({"type": "object", "required": ["id"],
            "properties": {"id": {"type": "string"}, "fields": {"type": "array"}}});
        let input = json!({"id": null, "fields": null});
        let out = without_optional_nulls(&schema, Cow::Borrowed(&input));
        assert_eq!(*out, json!({"id": null}));
    }
}
