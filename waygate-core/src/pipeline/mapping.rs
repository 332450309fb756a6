//! Steps 3 and 11, map input and map output: the action's [`FieldMapping`]s
//! applied to a JSON value in place. A mapping whose source is absent (and
//! has no default), or whose transform does not fit the value, is skipped and
//! reported; mapping never fails a call.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::resolve::Target;
use crate::model::{FieldMapping, Mappings, Transform};

/// Most skipped mappings reported for one value (a wildcard over a long array
/// could otherwise report one per element).
const MAX_REPORTED: usize = 20;

/// Which way a mapping runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The caller's input, before input validation.
    Input,
    /// The response data, after response validation.
    Output,
}

/// What the mappings of one invocation could not do (`meta.mappings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingReport {
    /// Mappings skipped, at most 20, in order.
    pub skipped: Vec<SkippedMapping>,
    /// Skipped mappings beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_skipped: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl MappingReport {
    /// Nothing skipped.
    pub fn is_empty(&self) -> bool {
        self.skipped.is_empty()
    }

    fn skip(&mut self, direction: Direction, index: usize, pointer: String, reason: String) {
        if self.skipped.len() < MAX_REPORTED {
            self.skipped.push(SkippedMapping {
                direction,
                index,
                pointer,
                reason,
            });
        } else {
            self.more_skipped += 1;
        }
    }
}

/// One mapping (or one array element of a wildcard mapping) not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedMapping {
    /// `input` or `output`.
    pub direction: Direction,
    /// Position of the mapping in its list.
    pub index: usize,
    /// The concrete pointer concerned (wildcards filled in).
    pub pointer: String,
    /// Why: the source is absent, the transform does not fit…
    pub reason: String,
}

/// The mappings of the call's action: the connection's own for it when it
/// has them, else the definition's (decision 65).
fn of(target: &Target) -> &Mappings {
    target
        .connection
        .mappings
        .get(&target.action.def.slug)
        .unwrap_or(&target.action.def.mappings)
}

/// Step 3: the input reshaped by the input mappings (borrowed when there are none).
pub(crate) fn map_input<'a>(
    target: &Target,
    input: &'a Value,
    report: &mut MappingReport,
) -> Cow<'a, Value> {
    let mappings = &of(target).input;
    if mappings.is_empty() {
        return Cow::Borrowed(input);
    }
    let mut mapped = input.clone();
    apply(mappings, Direction::Input, &mut mapped, report);
    Cow::Owned(mapped)
}

/// Step 11: the response data reshaped by the output mappings.
#[tracing::instrument(name = "map_output", level = "debug", skip_all)]
pub(crate) fn map_output(target: &Target, data: &mut Value, report: &mut MappingReport) {
    apply(&of(target).output, Direction::Output, data, report);
}

/// Applies `mappings` to `value` in order, recording what was skipped.
pub(crate) fn apply(
    mappings: &[FieldMapping],
    direction: Direction,
    value: &mut Value,
    report: &mut MappingReport,
) {
    for (index, mapping) in mappings.iter().enumerate() {
        apply_one(mapping, value, &mut |pointer, reason| {
            report.skip(direction, index, pointer, reason);
        });
    }
}

/// One place a `from` pointer reaches: the indices its `*` segments took, and
/// whether the value is there.
struct Instance {
    indices: Vec<usize>,
    present: bool,
}

fn apply_one(mapping: &FieldMapping, root: &mut Value, skip: &mut dyn FnMut(String, String)) {
    let from = tokens(&mapping.from);
    let to = mapping.to.as_deref().map(tokens);
    let wildcards = from.iter().filter(|t| *t == "*").count();
    let mut found = Vec::new();
    expand(root, &from, &mut Vec::new(), &mut found);
    // Last first: removing an array element must not move the ones still to do.
    for Instance { indices, present } in found.into_iter().rev() {
        let source = fill(&from, &indices);
        let target = match &to {
            Some(t) => fill(t, &indices),
            None => source.clone(),
        };
        if !present {
            match &mapping.default {
                Some(default) if indices.len() == wildcards => {
                    if let Err((_, reason)) = set(root, &target, default.clone()) {
                        skip(pointer(&target), reason);
                    }
                }
                // Omitting what is not there has done its job.
                _ if mapping.transform == Some(Transform::Omit) => {}
                _ => skip(pointer(&source), "the source is absent".to_owned()),
            }
            continue;
        }
        let moving = mapping.transform == Some(Transform::Omit) || target != source;
        let value = if moving {
            take(root, &source)
        } else {
            get(root, &source).cloned()
        };
        let Some(value) = value else { continue };
        let value = match &mapping.transform {
            Some(Transform::Omit) => continue,
            Some(transform) => match convert(transform, value) {
                Ok(v) => v,
                Err((unchanged, reason)) => {
                    skip(pointer(&source), reason);
                    unchanged
                }
            },
            None => value,
        };
        if let Err((value, reason)) = set(root, &target, value) {
            skip(pointer(&target), reason);
            if moving {
                // Put back where it was: a mapping that cannot land loses nothing.
                let _ = set(root, &source, value);
            }
        }
    }
}

/// A JSON pointer's reference tokens, unescaped (`~1` → `/`, `~0` → `~`).
pub(crate) fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", crate::schema::pointer_token(t)))
        .collect()
}

/// `tokens` with each `*` replaced by the next of `indices` (those left
/// without one, when an array was absent, stay `*`).
fn fill(tokens: &[String], indices: &[usize]) -> Vec<String> {
    let mut next = indices.iter();
    tokens
        .iter()
        .map(|t| match (t.as_str(), t == "*") {
            (_, true) => next.next().map_or_else(|| t.clone(), usize::to_string),
            (name, false) => name.to_owned(),
        })
        .collect()
}

fn expand(value: &Value, rest: &[String], indices: &mut Vec<usize>, out: &mut Vec<Instance>) {
    let Some((first, rest)) = rest.split_first() else {
        out.push(Instance {
            indices: indices.clone(),
            present: true,
        });
        return;
    };
    let absent = |out: &mut Vec<Instance>, indices: &[usize]| {
        out.push(Instance {
            indices: indices.to_vec(),
            present: false,
        });
    };
    match (value, first.as_str()) {
        (Value::Array(items), "*") => {
            for (i, item) in items.iter().enumerate() {
                indices.push(i);
                expand(item, rest, indices, out);
                indices.pop();
            }
        }
        (_, "*") => absent(out, indices),
        (v, name) => match child(v, name) {
            Some(next) => expand(next, rest, indices, out),
            None => absent(out, indices),
        },
    }
}

fn child<'v>(value: &'v Value, token: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

fn get<'v>(root: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(root, |v, t| child(v, t))
}

fn take(root: &mut Value, tokens: &[String]) -> Option<Value> {
    let Some((last, parents)) = tokens.split_last() else {
        return Some(root.take());
    };
    let mut parent = root;
    for t in parents {
        parent = match parent {
            Value::Object(map) => map.get_mut(t.as_str())?,
            Value::Array(items) => items.get_mut(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match parent {
        Value::Object(map) => map.remove(last.as_str()),
        Value::Array(items) => {
            let i = last.parse::<usize>().ok().filter(|i| *i < items.len())?;
            Some(items.remove(i))
        }
        _ => None,
    }
}

/// Writes `value` at `tokens`, creating the objects on the way; gives the
/// value back with the reason when it cannot.
fn set(root: &mut Value, tokens: &[String], value: Value) -> Result<(), (Value, String)> {
    let Some((last, parents)) = tokens.split_last() else {
        *root = value;
        return Ok(());
    };
    let mut parent = root;
    for t in parents {
        if parent.is_null() {
            *parent = Value::Object(Map::new());
        }
        parent = match parent {
            Value::Object(map) => map.entry(t.as_str()).or_insert(Value::Null),
            Value::Array(items) => match t.parse::<usize>().ok() {
                Some(i) if i < items.len() => &mut items[i],
                _ => return Err((value, format!("the target has no array element '{t}'"))),
            },
            _ => {
                return Err((
                    value,
                    format!("the target's parent at '{t}' is not an object"),
                ));
            }
        };
    }
    if parent.is_null() {
        *parent = Value::Object(Map::new());
    }
    match parent {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => match last.parse::<usize>().ok() {
            Some(i) if i < items.len() => {
                items[i] = value;
                Ok(())
            }
            Some(i) if i == items.len() => {
                items.push(value);
                Ok(())
            }
            _ => Err((value, format!("the target has no array element '{last}'"))),
        },
        _ => Err((value, "the target's parent is not an object".to_owned())),
    }
}

/// The transformed value, or the value unchanged and why not.
fn convert(transform: &Transform, value: Value) -> Result<Value, (Value, String)> {
    let converted = match (transform, &value) {
        (Transform::Wrap, _) => return Ok(Value::Array(vec![value])),
        (Transform::String, Value::String(_)) => return Ok(value),
        (Transform::String, Value::Number(n)) => Some(Value::String(n.to_string())),
        (Transform::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
        (Transform::Number, Value::Number(_)) => return Ok(value),
        (Transform::Number, Value::String(s)) => number(s.trim()),
        (Transform::Boolean, Value::Bool(_)) => return Ok(value),
        (Transform::Boolean, Value::String(s)) => boolean(s.trim()),
        (Transform::Boolean, Value::Number(n)) => match n.as_f64() {
            Some(0.0) => Some(Value::Bool(false)),
            Some(1.0) => Some(Value::Bool(true)),
            _ => None,
        },
        (Transform::Date(format), _) => match date(format, &value) {
            Ok(v) => Some(v),
            Err(reason) => return Err((value, reason)),
        },
        _ => None,
    };
    converted.ok_or_else(|| {
        let reason = format!("{} cannot be made {}", kind(&value), target(transform));
        (value, reason)
    })
}

/// A number from its text: an integer when it is one, else a finite float.
pub(crate) fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// `true` / `false` in any case.
pub(crate) fn boolean(text: &str) -> Option<Value> {
    if text.eq_ignore_ascii_case("true") {
        Some(Value::Bool(true))
    } else if text.eq_ignore_ascii_case("false") {
        Some(Value::Bool(false))
    } else {
        None
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "this string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn target(transform: &Transform) -> &'static str {
    match transform {
        Transform::String => "a string",
        Transform::Number => "a number",
        Transform::Boolean => "a boolean",
        _ => "the target",
    }
}

/// A date or time in `format` (`rfc3339`, `unix`, or a strftime pattern).
fn date(format: &str, value: &Value) -> Result<Value, String> {
    let at = match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .ok_or_else(|| format!("{n} is not a Unix time in seconds"))?,
        Value::String(s) => parse_date(s)
            .ok_or_else(|| format!("'{s}' is not an RFC 3339 date-time or a YYYY-MM-DD date"))?,
        other => return Err(format!("{} is not a date", kind(other))),
    };
    match format {
        "rfc3339" => Ok(Value::String(at.to_string())),
        "unix" => Ok(Value::from(at.as_second())),
        pattern => jiff::fmt::strtime::format(pattern, at)
            .map(Value::String)
            .map_err(|e| format!("the date format '{pattern}' failed: {e}")),
    }
}

fn parse_date(text: &str) -> Option<jiff::Timestamp> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Some(at);
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .ok()?;
    jiff::tz::Offset::UTC.to_timestamp(civil).ok()
}

/// Whether a date format can be used (checked when a definition is saved).
pub(crate) fn check_date_format(format: &str) -> Result<(), String> {
    date(format, &Value::from(0)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(from: &str, to: Option<&str>, transform: Option<Transform>) -> FieldMapping {
        FieldMapping {
            from: from.into(),
            to: to.map(Into::into),
            transform,
            default: None,
        }
    }

    fn run(mappings: &[FieldMapping], mut value: Value) -> (Value, MappingReport) {
        let mut report = MappingReport::default();
        apply(mappings, Direction::Output, &mut value, &mut report);
        (value, report)
    }

    #[test]
    fn moves_through_arrays_and_reports_absent_sources() {
        let (v, report) = run(
            &[map(
                "/members/*/profile/email",
                Some("/members/*/email"),
                None,
            )],
            json!({"members": [
                {"profile": {"email": "a@x"}},
                {"profile": {}},
                {"profile": {"email": "c@x"}}
            ]}),
        );
        assert_eq!(
            v,
            json!({"members": [
                {"profile": {}, "email": "a@x"},
                {"profile": {}},
                {"profile": {}, "email": "c@x"}
            ]})
        );
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].pointer, "/members/1/profile/email");
    }

    #[test]
    fn transforms_each_kind() {
        let mappings = [
            map("/n", None, Some(Transform::Number)),
            map("/s", None, Some(Transform::String)),
            map("/b", None, Some(Transform::Boolean)),
            map("/row", Some("/values"), Some(Transform::Wrap)),
            map("/secret", None, Some(Transform::Omit)),
            map("/d", None, Some(Transform::Date("%Y-%m-%d".into()))),
            map("/u", None, Some(Transform::Date("unix".into()))),
            map("/bad", None, Some(Transform::Number)),
        ];
        let (v, report) = run(
            &mappings,
            json!({"n": "42", "s": 7, "b": "TRUE", "row": [1, 2, 3], "secret": "x",
                   "d": "2026-12-03T07:00:00Z", "u": "1970-01-02", "bad": "forty"}),
        );
        assert_eq!(
            v,
            json!({"n": 42, "s": "7", "b": true, "values": [[1, 2, 3]],
                   "d": "2026-12-03", "u": 86400, "bad": "forty"})
        );
        assert_eq!(report.skipped.len(), 1, "{report:?}");
        assert_eq!(report.skipped[0].pointer, "/bad");
    }

    #[test]
    fn a_default_fills_an_absent_source() {
        let mut m = map("/nick", Some("/nickname"), None);
        m.default = Some(json!("anon"));
        let (v, report) = run(&[m], json!({}));
        assert_eq!(v, json!({"nickname": "anon"}));
        assert!(report.is_empty());
    }

    #[test]
    fn a_target_under_a_scalar_is_reported_not_a_panic() {
        let (v, report) = run(&[map("/a", Some("/b/c"), None)], json!({"a": 1, "b": 2}));
        assert_eq!(v, json!({"a": 1, "b": 2}));
        assert_eq!(report.skipped[0].pointer, "/b/c");
    }
}
