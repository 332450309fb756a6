//! Step 2, validate input: the action's input schema, compiled once and cached
//! by schema hash, applied before anything is sent.

use std::sync::{Arc, OnceLock};

use jsonschema::Validator;

use serde_json::Value;

use super::resolve::CompiledAction;
use crate::error::{Error, ErrorKind};
use crate::schema::{SchemaCache, violations};

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
