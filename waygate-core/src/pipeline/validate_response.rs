//! Step 10, validate response: the response data against the action's output
//! schema, in the action's mode (decision 63).
//!
//! - `warn` (default): the data is returned as it is, the violations listed in
//!   `meta.validation`;
//! - `strict`: a violation fails the call with `RESPONSE_VALIDATION_ERROR`;
//! - `lenient`: scalars are coerced to the schema's type first (`"42"` → 42,
//!   `"true"` → true, 7 → `"7"`), then what still breaks the schema is listed,
//!   then optional properties that are absent are set to `null`; every change is
//!   reported.
//!
//! `stripUnknown` removes fields an object schema's `properties` do not list.
//! The validator is compiled once per schema (the [`SchemaCache`]) and kept on
//! the compiled action; a valid response costs one `is_valid` pass and no
//! allocation.

use serde::Serialize;
use serde_json::Value;

use super::UpstreamResponse;
use super::drift::Change;
use super::mapping::{boolean, number};
use super::resolve::{CompiledAction, Target};
use crate::error::{Error, ErrorKind};
use crate::model::{ValidationMode, ValidationSpec};
use crate::schema::{SchemaCache, Violation, pointer_token, violations};

/// Most changes (coercions, stripped fields) listed per response.
const MAX_CHANGES: usize = 20;

/// How deep the schema walk of `lenient` and `stripUnknown` goes (through
/// nesting and `$ref`s); deeper data is validated, not changed.
const MAX_DEPTH: usize = 64;

/// What response validation found (`meta.validation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// The action's mode.
    pub mode: ValidationMode,
    /// Whether the data returned matches the output schema.
    pub valid: bool,
    /// Why the response was not validated (`bypassed`, `not JSON`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
    /// Where the data breaks the schema (after any coercion), at most 20.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Violation>,
    /// What `lenient` changed, at most 20.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coerced: Vec<Coercion>,
    /// Fields removed by `stripUnknown`, at most 20 listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stripped: Vec<String>,
    /// Changes made beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_changes: usize,
    /// Most recent responses of this action fail on the same path: the
    /// upstream's format has changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub drifting: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl ValidationReport {
    fn new(mode: ValidationMode) -> Self {
        Self {
            mode,
            valid: true,
            skipped: None,
            issues: Vec::new(),
            coerced: Vec::new(),
            stripped: Vec::new(),
            more_changes: 0,
            drifting: false,
        }
    }

    /// A response that was not validated, and why.
    pub(crate) fn skipped(mode: ValidationMode, why: &'static str) -> Self {
        Self {
            skipped: Some(why),
            ..Self::new(mode)
        }
    }

    fn coerce(&mut self, pointer: &str, from: &'static str, to: &'static str) {
        if self.coerced.len() < MAX_CHANGES {
            self.coerced.push(Coercion {
                pointer: pointer.to_owned(),
                from,
                to,
            });
        } else {
            self.more_changes += 1;
        }
    }

    fn strip(&mut self, pointer: String) {
        if self.stripped.len() < MAX_CHANGES {
            self.stripped.push(pointer);
        } else {
            self.more_changes += 1;
        }
    }
}

/// One value `lenient` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coercion {
    /// Where.
    pub pointer: String,
    /// What it was: `string`, `number`, `boolean`, `missing`.
    pub from: &'static str,
    /// What it became: `integer`, `number`, `boolean`, `string`, `null`.
    pub to: &'static str,
}

/// Step 10 for one call: skipped (and said so) when bypassed or when the
/// body is not JSON; else [`response`], its outcome recorded in the action's
/// drift window and a change of drift verdict logged.
///
/// # Errors
/// `CONFIGURATION_ERROR` when the output schema does not compile.
#[tracing::instrument(name = "validate_response", level = "debug", skip_all)]
pub(crate) fn checked(
    schemas: &SchemaCache,
    target: &Target,
    (tenant, integration, action): (&str, &str, &str),
    bypass: bool,
    json: bool,
    data: &mut Value,
) -> Result<Option<ValidationReport>, Error> {
    let compiled = &target.action;
    if compiled.def.output_schema.is_none() {
        return Ok(None);
    }
    let mode = compiled.def.validation.unwrap_or_default().mode;
    if bypass {
        return Ok(Some(ValidationReport::skipped(mode, "bypassed")));
    }
    if !json {
        return Ok(Some(ValidationReport::skipped(mode, "not JSON")));
    }
    let Some(mut report) = response(schemas, compiled, data)? else {
        return Ok(None);
    };
    let failed_at = report.issues.first().map(|v| v.pointer.as_str());
    let (drifting, change) = compiled.drift.record(failed_at);
    report.drifting = drifting;
    match change {
        Some(Change::Started(path)) => tracing::warn!(
            tenant, integration, action, %path,
            "response drift: most recent responses break the output schema at this path"
        ),
        Some(Change::Ended(path)) => tracing::info!(
            tenant, integration, action, %path,
            "response drift ended: most recent responses match the output schema again"
        ),
        None => {}
    }
    Ok(Some(report))
}

/// Whether a response's body is JSON by its `Content-Type`
/// (`application/json`, `*/*+json`); other bodies skip validation.
pub(crate) fn is_json(response: &UpstreamResponse) -> bool {
    response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|t| {
            t.eq_ignore_ascii_case("application/json")
                || t.len()
                    .checked_sub(5)
                    .and_then(|at| t.get(at..))
                    .is_some_and(|end| end.eq_ignore_ascii_case("+json"))
        })
}

/// Validates (and in `lenient` mode coerces) `data` against the action's
/// output schema; `None` when the action has none.
///
/// # Errors
/// `CONFIGURATION_ERROR` when the schema does not compile. A `strict`
/// mismatch is reported here and made an error by [`strict_error`].
pub(crate) fn response(
    schemas: &SchemaCache,
    action: &CompiledAction,
    data: &mut Value,
) -> Result<Option<ValidationReport>, Error> {
    let Some(schema) = &action.def.output_schema else {
        return Ok(None);
    };
    let spec = action.def.validation.unwrap_or_default();
    let validator = super::validate::compiled(
        schemas,
        &action.output_validator,
        schema,
        &action.def.slug,
        "outputSchema",
    )?;
    let mut report = ValidationReport::new(spec.mode);
    if validator.is_valid(data) && !spec.strip_unknown {
        return Ok(Some(report));
    }
    let lenient = spec.mode == ValidationMode::Lenient;
    if spec.strip_unknown || lenient {
        let walk = Walk {
            root: schema,
            spec,
            fill_nulls: false,
        };
        walk.value(schema, data, &mut String::new(), &mut report, 0);
    }
    report.issues = violations(validator, schema, data);
    report.valid = report.issues.is_empty();
    if lenient {
        let walk = Walk {
            root: schema,
            spec: ValidationSpec::mode(ValidationMode::Lenient),
            fill_nulls: true,
        };
        walk.value(schema, data, &mut String::new(), &mut report, 0);
    }
    Ok(Some(report))
}

/// The `strict` mode's error for a response that breaks the schema.
pub(crate) fn strict_error(report: &ValidationReport) -> Option<Error> {
    (report.mode == ValidationMode::Strict && !report.valid).then(|| {
        Error::new(ErrorKind::ResponseValidation {
            violations: report.issues.clone(),
        })
        .sent()
    })
}

/// One pass over the data beside its schema: coercions and stripping, or
/// (`fill_nulls`) absent optional properties set to `null`.
struct Walk<'s> {
    root: &'s Value,
    spec: ValidationSpec,
    fill_nulls: bool,
}

impl<'s> Walk<'s> {
    /// `schema` with its local `$ref`s followed.
    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..MAX_DEPTH {
            match schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| self.root.pointer(p))
            {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn value(
        &self,
        schema: &'s Value,
        data: &mut Value,
        at: &mut String,
        report: &mut ValidationReport,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = self.resolve(schema);
        if self.spec.mode == ValidationMode::Lenient && !self.fill_nulls {
            coerce(schema, data, at, report);
        }
        match data {
            Value::Object(map) => {
                let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                    return;
                };
                if self.fill_nulls {
                    let required = schema.get("required").and_then(Value::as_array);
                    let is_required =
                        |name: &str| required.is_some_and(|r| r.iter().any(|n| n == name));
                    for name in properties.keys() {
                        if !map.contains_key(name) && !is_required(name) {
                            map.insert(name.clone(), Value::Null);
                            let pointer = format!("{at}/{}", pointer_token(name));
                            report.coerce(&pointer, "missing", "null");
                        }
                    }
                } else if self.spec.strip_unknown && strips(schema) {
                    map.retain(|name, _| {
                        let keep = properties.contains_key(name);
                        if !keep {
                            report.strip(format!("{at}/{}", pointer_token(name)));
                        }
                        keep
                    });
                }
                for (name, sub) in properties {
                    if let Some(child) = map.get_mut(name) {
                        let len = at.len();
                        at.push('/');
                        at.push_str(&pointer_token(name));
                        self.value(sub, child, at, report, depth + 1);
                        at.truncate(len);
                    }
                }
            }
            Value::Array(items) => {
                let Some(sub) = schema.get("items") else {
                    return;
                };
                for (i, item) in items.iter_mut().enumerate() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&i.to_string());
                    self.value(sub, item, at, report, depth + 1);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// Whether unknown fields of objects under `schema` may be removed: it lists
/// `properties`, says nothing else about other fields (an
/// `additionalProperties` or `patternProperties` schema would accept them),
/// and is not combined with other schemas that could list them.
fn strips(schema: &Value) -> bool {
    let open = |key| schema.get(key).is_some_and(|v| v != &Value::Bool(false));
    !open("additionalProperties")
        && !open("patternProperties")
        && ["allOf", "anyOf", "oneOf", "unevaluatedProperties"]
            .iter()
            .all(|k| schema.get(k).is_none())
}

/// A scalar of the wrong type converted to the schema's, when it converts.
fn coerce(schema: &Value, data: &mut Value, at: &str, report: &mut ValidationReport) {
    let Some(types) = schema.get("type") else {
        return;
    };
    let allows = |t: &str| match types {
        Value::String(s) => s == t,
        Value::Array(a) => a.iter().any(|v| v == t),
        _ => false,
    };
    let (from, to, value) = match &*data {
        Value::String(_) if allows("string") => return,
        Value::String(s) if allows("integer") || allows("number") => match number(s.trim()) {
            Some(n) if allows("number") || n.is_i64() || n.is_u64() => {
                let to = if n.is_f64() { "number" } else { "integer" };
                ("string", to, n)
            }
            _ => return,
        },
        Value::String(s) if allows("boolean") => match boolean(s.trim()) {
            Some(b) => ("string", "boolean", b),
            None => return,
        },
        Value::Number(n) if allows("string") && !allows("number") && !allows("integer") => {
            ("number", "string", Value::String(n.to_string()))
        }
        Value::Bool(b) if allows("string") && !allows("boolean") => {
            ("boolean", "string", Value::String(b.to_string()))
        }
        _ => return,
    };
    *data = value;
    report.coerce(at, from, to);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ActionDef, Defaults};

    fn action(spec: ValidationSpec, schema: Value) -> CompiledAction {
        let mut def = ActionDef::new("get", "GET", "/x");
        def.output_schema = Some(schema);
        def.validation = Some(spec);
        CompiledAction::compile(&Defaults::default(), def).unwrap()
    }

    fn schema() -> Value {
        json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "integer"},
            "active": {"type": "boolean"},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}
        }, "$defs": {"tag": {"type": "object", "properties": {"n": {"type": "integer"}}}}})
    }

    #[test]
    fn lenient_coerces_reports_and_fills_nulls() {
        let cache = SchemaCache::default();
        let a = action(ValidationSpec::mode(ValidationMode::Lenient), schema());
        let mut data = json!({"id": "42", "active": "true", "tags": [{"n": "7"}]});
        let report = response(&cache, &a, &mut data).unwrap().unwrap();
        assert_eq!(
            data,
            json!({"id": 42, "active": true, "name": null, "tags": [{"n": 7}]})
        );
        assert!(report.valid, "{report:?}");
        let pointers: Vec<_> = report.coerced.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/active", "/id", "/tags/0/n", "/name"]);
    }

    #[test]
    fn strict_fails_and_warn_reports() {
        let cache = SchemaCache::default();
        let strict = action(ValidationSpec::mode(ValidationMode::Strict), schema());
        let report = response(&cache, &strict, &mut json!({"id": "x"}))
            .unwrap()
            .unwrap();
        let e = strict_error(&report).unwrap();
        assert_eq!(e.code(), "RESPONSE_VALIDATION_ERROR");
        let warn = action(ValidationSpec::default(), schema());
        let mut data = json!({"id": "x"});
        let report = response(&cache, &warn, &mut data).unwrap().unwrap();
        assert_eq!(data, json!({"id": "x"}), "warn changes nothing");
        assert!(!report.valid && strict_error(&report).is_none());
        assert_eq!(report.issues[0].pointer, "/id");
    }

    #[test]
    fn strip_unknown_removes_unlisted_fields_only_where_asked() {
        let cache = SchemaCache::default();
        let spec = ValidationSpec {
            mode: ValidationMode::Warn,
            strip_unknown: true,
        };
        let a = action(spec, schema());
        let mut data = json!({"id": 1, "extra": 1, "tags": [{"n": 1, "x": 2}]});
        let report = response(&cache, &a, &mut data).unwrap().unwrap();
        assert_eq!(data, json!({"id": 1, "tags": [{"n": 1}]}));
        assert_eq!(report.stripped, ["/extra", "/tags/0/x"]);
        let keep = action(ValidationSpec::default(), schema());
        let mut data = json!({"id": 1, "extra": 1});
        response(&cache, &keep, &mut data).unwrap();
        assert_eq!(data, json!({"id": 1, "extra": 1}));
    }
}
