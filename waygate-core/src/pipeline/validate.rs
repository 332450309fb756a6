//! Step 2, validate input: the action's input schema, compiled once and cached
//! by schema hash, applied before anything is sent.

use std::sync::Arc;

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
    let validator = match action.input_validator.get() {
        Some(v) => v,
        None => {
            let compiled = schemas.get(schema).map_err(|e| {
                Error::config(format!("action '{}' inputSchema: {e}", action.def.slug))
            })?;
            action.input_validator.get_or_init(|| Arc::clone(&compiled))
        }
    };
    let found = violations(validator, schema, input);
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidInput { violations: found }))
    }
}
