//! JSON Schema validation: validators compiled once, cached by schema hash, and
//! errors worded so that a person or an LLM agent can fix the input; and
//! [`example`]: a small valid instance of a schema.

mod example;

pub use example::example;

use std::sync::Arc;
use std::time::Duration;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clock::{SharedClock, SystemClock};
use crate::ttl::TtlCache;

/// At most this many violations are reported for one value; the rest add nothing
/// an agent needs to fix its first mistakes.
const MAX_VIOLATIONS: usize = 20;

/// Compiles a schema, without fetching remote `$ref`s.
///
/// # Errors
/// What is wrong with the schema, with the location inside it.
pub fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| {
        let at = e.schema_path().as_str();
        if at.is_empty() {
            format!("invalid JSON Schema: {e}")
        } else {
            format!("invalid JSON Schema at {at}: {e}")
        }
    })
}

/// A key as one JSON pointer token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// JSON pointer to the offending value (`""` is the whole input).
    pub pointer: String,
    /// The JSON Schema keyword that failed: `type`, `required`, `enum`…
    pub rule: String,
    /// The keyword's value in the schema: the expected type, the allowed values, the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// A sentence saying what is wrong and how to fix it.
    pub message: String,
}

/// Validators keyed by the SHA-256 of their schema's canonical JSON text.
///
/// Two actions with the same schema share one validator; a schema edited in place
/// gets a new entry instead of a stale hit. Tenants choose the schemas, and every
/// edit makes a new one, so the cache is bounded by the size of the schema texts
/// it holds ([`SCHEMA_CACHE_BYTES`] by default). It is a [`TtlCache`]: a
/// validator is kept [`SCHEMA_CACHE_TTL`] by the clock the cache was given,
/// so schemas nobody uses any more are let go; one pushed out or expired is
/// compiled again on its next use (compiled actions keep theirs, so that is
/// rare). Concurrent first uses of one schema compile it once.
pub struct SchemaCache {
    validators: TtlCache<[u8; 32], Compiled>,
    clock: SharedClock,
}

/// A validator and the length of the schema text it was compiled from (its
/// weight in the cache).
#[derive(Clone)]
struct Compiled {
    validator: Arc<Validator>,
    text_len: u32,
}

/// The schema text the validator cache holds at most by default, summed over
/// its entries (a compiled validator takes a few times its text).
pub const SCHEMA_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// How long the validator cache keeps a validator.
pub const SCHEMA_CACHE_TTL: Duration = Duration::from_secs(60 * 60);

impl Default for SchemaCache {
    fn default() -> Self {
        Self::new(SCHEMA_CACHE_BYTES, Arc::new(SystemClock))
    }
}

impl std::fmt::Debug for SchemaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaCache")
            .field("validators", &self.validators.entry_count())
            .finish()
    }
}

impl SchemaCache {
    /// A cache holding the validators of schemas whose texts add up to at most
    /// `bytes`, each for [`SCHEMA_CACHE_TTL`] by `clock`.
    pub fn new(bytes: u64, clock: SharedClock) -> Self {
        Self {
            validators: TtlCache::weighed(SCHEMA_CACHE_TTL, bytes, |_, compiled: &Compiled| {
                compiled.text_len.max(1)
            }),
            clock,
        }
    }

    /// The validator for `schema`, compiled on first use.
    ///
    /// # Errors
    /// The schema does not compile (see [`compile`]).
    pub fn get(&self, schema: &Value) -> Result<Arc<Validator>, String> {
        // serde_json's default map is ordered by key, so equal schemas print equally.
        let text = schema.to_string();
        let key: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let now = self.clock.instant();
        let compiled = self.validators.get_or_try_insert_with(key, now, || {
            Ok::<_, String>(Compiled {
                validator: Arc::new(compile(schema)?),
                text_len: u32::try_from(text.len()).unwrap_or(u32::MAX),
            })
        })?;
        Ok(compiled.validator)
    }
}

/// Checks `value` against a compiled schema.
///
/// `schema` is the schema the validator was compiled from; it supplies the
/// `expected` value of each violation.
pub fn violations(validator: &Validator, schema: &Value, value: &Value) -> Vec<Violation> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .iter_errors(value)
        .take(MAX_VIOLATIONS)
        .map(|e| {
            let mut pointer = e.instance_path().as_str().to_owned();
            let kind = e.kind();
            if let ValidationErrorKind::Required {
                property: Value::String(name),
            } = kind
            {
                pointer.push('/');
                pointer.push_str(&pointer_token(name));
            }
            let expected = schema.pointer(e.schema_path().as_str()).cloned();
            let place = if pointer.is_empty() {
                "the input".to_owned()
            } else {
                format!("'{pointer}'")
            };
            let message = format!("{place}: {e}{}", advice(kind, expected.as_ref()));
            Violation {
                pointer,
                rule: kind.keyword().to_owned(),
                expected,
                message,
            }
        })
        .collect()
}

fn advice(kind: &ValidationErrorKind, expected: Option<&Value>) -> String {
    match (kind, expected) {
        (ValidationErrorKind::Required { .. }, _) => "; add this field".to_owned(),
        (ValidationErrorKind::Type { .. }, Some(t)) => format!("; send a value of type {t}"),
        (ValidationErrorKind::Enum { .. }, Some(options)) => format!("; use one of {options}"),
        (ValidationErrorKind::AdditionalProperties { .. }, _) => {
            "; remove the fields the schema does not list".to_owned()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn violations_carry_pointer_rule_and_expected_type() {
        let schema = json!({
            "type": "object",
            "required": ["channel"],
            "properties": {"channel": {"type": "string"}, "count": {"type": "integer"}},
        });
        let cache = SchemaCache::default();
        let v = cache.get(&schema).unwrap();
        let found = violations(&v, &schema, &json!({"count": "three"}));
        assert_eq!(found.len(), 2);
        let count = found.iter().find(|v| v.pointer == "/count").unwrap();
        assert_eq!(count.rule, "type");
        assert_eq!(count.expected, Some(json!("integer")));
        assert!(
            count
                .message
                .starts_with("'/count': \"three\" is not of type \"integer\""),
            "{}",
            count.message
        );
        let channel = found.iter().find(|v| v.pointer == "/channel").unwrap();
        assert_eq!(channel.rule, "required");
        assert!(
            channel.message.ends_with("add this field"),
            "{}",
            channel.message
        );
    }

    #[test]
    fn the_cache_compiles_a_schema_once() {
        let cache = SchemaCache::default();
        let a = cache.get(&json!({"type": "string"})).unwrap();
        let b = cache.get(&json!({"type": "string"})).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = cache.get(&json!({"type": "integer"})).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn the_cache_holds_schema_texts_up_to_its_capacity() {
        // Room for about ten of these schemas: a tenant editing its schemas
        // over and over does not grow it past that.
        let cache = SchemaCache::new(10 * 40, Arc::new(SystemClock));
        for i in 0..1_000 {
            let schema = json!({"type": "string", "maxLength": i});
            cache.get(&schema).unwrap();
        }
        assert!(cache.validators.weighted_size() <= 10 * 40);
        assert!(cache.validators.entry_count() <= 15, "{cache:?}");
        // What was pushed out compiles again.
        let again = cache
            .get(&json!({"type": "string", "maxLength": 0}))
            .unwrap();
        assert!(again.is_valid(&json!("")));
    }

    #[test]
    fn a_validator_is_compiled_again_after_its_lifetime_on_the_given_clock() {
        let clock = crate::clock::ManualClock::new(std::time::UNIX_EPOCH);
        let cache = SchemaCache::new(SCHEMA_CACHE_BYTES, clock.clone());
        let schema = json!({"type": "string"});
        let a = cache.get(&schema).unwrap();
        clock.advance(SCHEMA_CACHE_TTL - Duration::from_secs(1));
        assert!(Arc::ptr_eq(&a, &cache.get(&schema).unwrap()));
        clock.advance(Duration::from_secs(1));
        assert!(!Arc::ptr_eq(&a, &cache.get(&schema).unwrap()), "expired");
    }

    #[test]
    fn a_broken_schema_is_reported_with_its_location() {
        let err = compile(&json!({"properties": {"a": {"type": 5}}})).unwrap_err();
        assert!(err.starts_with("invalid JSON Schema"), "{err}");
    }
}
