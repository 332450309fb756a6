//! Try it's form, generated from an action's input JSON Schema (decision
//! 104), the input object assembled from what the form posts, and the
//! fields that show an input object (switching from the raw JSON back to
//! the form, decision 128).
//!
//! One walk of the schema decides how each property is shown and how its
//! posted text is read back, so the two cannot disagree: strings, numbers,
//! integers, booleans and enums (as selects) become inputs, nested objects
//! become fieldsets, and anything else (arrays, `oneOf`, open maps, objects
//! nested too deep) becomes a small JSON field of its own. Field names are
//! `in` followed by the property's JSON Pointer (`in/owner/name`).

use serde_json::{Map, Number, Value};

use crate::api::error::ApiError;

/// Prefix of every generated field's name.
const PREFIX: &str = "in";

/// Objects nested deeper than this are edited as JSON.
const MAX_DEPTH: usize = 4;

/// Properties shown at most; a larger schema is edited as JSON.
const MAX_FIELDS: usize = 200;

/// How one property is edited.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A text input (`string`).
    Text,
    /// A number input; `integer` when whole numbers only.
    Number {
        /// Whether only whole numbers are accepted.
        integer: bool,
        /// `minimum`, as written in the schema.
        min: Option<String>,
        /// `maximum`, as written in the schema.
        max: Option<String>,
    },
    /// A select among these values (an `enum`, or a boolean's true/false).
    Select(Vec<String>),
    /// A JSON text area for what the generator does not render.
    Json,
}

/// One input of the form.
#[derive(Debug, Clone)]
pub struct Field {
    /// The form field's name (`in/owner/name`).
    pub name: String,
    /// A unique element id.
    pub id: String,
    /// The property's name.
    pub label: String,
    /// The property's description, if any.
    pub hint: String,
    /// Whether the schema requires it.
    pub required: bool,
    /// The JSON type or `enum`, shown beside the label.
    pub type_label: String,
    /// How it is edited.
    pub kind: Kind,
    /// The value to show (the posted one, else the schema's `default`).
    pub value: String,
    /// An example of the schema's to show when empty.
    pub placeholder: String,
}

/// What the form shows, in order: fieldsets open and close around the
/// fields of nested objects (a flat list, so the template needs no recursion).
#[derive(Debug, Clone)]
pub enum Item {
    /// A nested object's fieldset begins.
    Open {
        /// The property's name.
        legend: String,
        /// Whether the schema requires it.
        required: bool,
        /// Its description.
        hint: String,
    },
    /// The last opened fieldset ends.
    Close,
    /// An input.
    Input(Field),
}

/// What the schema of a property is, for the form.
enum Shape<'s> {
    Scalar(Kind, &'static str),
    Enum(Vec<(String, &'s Value)>),
    Boolean,
    Object(&'s Map<String, Value>, Vec<&'s str>),
    Json,
}

/// The schema's single type, reading `["T", "null"]` as `T`.
fn single_type(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => {
            let mut named = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null");
            let first = named.next()?;
            named.next().is_none().then_some(first)
        }
        _ => None,
    }
}

/// The text an enum value is shown and posted as.
fn enum_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn bound(schema: &Value, key: &str) -> Option<String> {
    schema
        .get(key)
        .filter(|v| v.is_number())
        .map(Value::to_string)
}

fn shape(schema: &Value, depth: usize) -> Shape<'_> {
    let composed = ["oneOf", "anyOf", "allOf", "not", "$ref", "if"]
        .iter()
        .any(|k| schema.get(k).is_some());
    if composed {
        return Shape::Json;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if values.is_empty() || values.iter().any(|v| v.is_array() || v.is_object()) {
            return Shape::Json;
        }
        return Shape::Enum(values.iter().map(|v| (enum_text(v), v)).collect());
    }
    match single_type(schema) {
        Some("string") => Shape::Scalar(Kind::Text, "string"),
        Some(t @ ("number" | "integer")) => Shape::Scalar(
            Kind::Number {
                integer: t == "integer",
                min: bound(schema, "minimum"),
                max: bound(schema, "maximum"),
            },
            if t == "integer" { "integer" } else { "number" },
        ),
        Some("boolean") => Shape::Boolean,
        Some("object") if depth < MAX_DEPTH => match schema.get("properties") {
            Some(Value::Object(properties)) if !properties.is_empty() => {
                Shape::Object(properties, required(schema))
            }
            _ => Shape::Json,
        },
        _ => Shape::Json,
    }
}

fn required(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `/`-joined JSON Pointer escaping of a property name.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The form for an input schema: `None` when the schema is not an object
/// with properties the form can list (the JSON text area is then the only way),
/// `Some(empty)` when the action takes no input.
///
/// `posted` holds the values a previous submission sent, by field name.
pub fn items(schema: &Value, posted: &[(String, String)]) -> Option<Vec<Item>> {
    if schema.as_object().is_some_and(Map::is_empty) {
        return Some(Vec::new());
    }
    let Shape::Object(properties, required) = shape(schema, 0) else {
        let no_properties = single_type(schema) == Some("object")
            && schema
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
            && schema
                .get("additionalProperties")
                .is_none_or(|a| a == &Value::Bool(false));
        return no_properties.then(Vec::new);
    };
    let mut out = Vec::new();
    walk_items(properties, &required, PREFIX, 1, posted, &mut out);
    let fields = out.iter().filter(|i| matches!(i, Item::Input(_))).count();
    (fields <= MAX_FIELDS).then_some(out)
}

fn walk_items(
    properties: &Map<String, Value>,
    required: &[&str],
    path: &str,
    depth: usize,
    posted: &[(String, String)],
    out: &mut Vec<Item>,
) {
    for (name, schema) in properties {
        let key = format!("{path}/{}", escape(name));
        let is_required = required.contains(&name.as_str());
        let hint = schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (kind, type_label) = match shape(schema, depth) {
            Shape::Object(inner, inner_required) => {
                out.push(Item::Open {
                    legend: name.clone(),
                    required: is_required,
                    hint,
                });
                walk_items(inner, &inner_required, &key, depth + 1, posted, out);
                out.push(Item::Close);
                continue;
            }
            Shape::Scalar(kind, label) => (kind, label.to_owned()),
            Shape::Enum(values) => (
                Kind::Select(values.into_iter().map(|(text, _)| text).collect()),
                "enum".to_owned(),
            ),
            Shape::Boolean => (
                Kind::Select(vec!["true".into(), "false".into()]),
                "boolean".to_owned(),
            ),
            Shape::Json => (
                Kind::Json,
                format!("{}, as JSON", single_type(schema).unwrap_or("any value")),
            ),
        };
        let sent = posted
            .iter()
            .find(|(n, _)| *n == key)
            .map(|(_, v)| v.clone());
        let default = schema.get("default").map(|d| match (&kind, d) {
            (Kind::Json, d) => d.to_string(),
            (_, d) => enum_text(d),
        });
        let example = schema
            .get("example")
            .or_else(|| schema.get("examples").and_then(|e| e.get(0)))
            .map(|e| match (&kind, e) {
                (Kind::Json, e) => e.to_string(),
                (_, e) => enum_text(e),
            });
        let n = out.len();
        out.push(Item::Input(Field {
            id: format!("in-{n}"),
            name: key,
            label: name.clone(),
            hint,
            required: is_required,
            type_label,
            value: sent.or(default).unwrap_or_default(),
            placeholder: example.unwrap_or_default(),
            kind,
        }));
    }
}

/// The input object from the posted fields, typed by the schema: empty
/// optional fields are left out, numbers and integers parsed, booleans and
/// enums mapped back to their JSON values, JSON fields parsed. What the
/// schema itself requires is left to the gateway's input validation.
///
/// # Errors
/// 400 naming the field whose text is not of its type.
pub fn assemble(schema: &Value, posted: &[(String, String)]) -> Result<Value, ApiError> {
    match shape(schema, 0) {
        Shape::Object(properties, required) => {
            walk_values(properties, &required, PREFIX, 1, posted).map(Value::Object)
        }
        _ => Ok(Value::Object(Map::new())),
    }
}

fn walk_values(
    properties: &Map<String, Value>,
    required: &[&str],
    path: &str,
    depth: usize,
    posted: &[(String, String)],
) -> Result<Map<String, Value>, ApiError> {
    let mut object = Map::new();
    for (name, schema) in properties {
        let key = format!("{path}/{}", escape(name));
        let is_required = required.contains(&name.as_str());
        let value = if let Shape::Object(inner, inner_required) = shape(schema, depth) {
            let fields = walk_values(inner, &inner_required, &key, depth + 1, posted)?;
            (is_required || !fields.is_empty()).then_some(Value::Object(fields))
        } else {
            let text = posted
                .iter()
                .find(|(n, _)| *n == key)
                .map(|(_, v)| v.trim())
                .unwrap_or_default();
            if text.is_empty() {
                None
            } else {
                Some(typed(schema, depth, text, &key[PREFIX.len()..])?)
            }
        };
        if let Some(value) = value {
            object.insert(name.clone(), value);
        }
    }
    Ok(object)
}

/// One field's text as its schema's JSON value.
fn typed(schema: &Value, depth: usize, text: &str, pointer: &str) -> Result<Value, ApiError> {
    let wrong =
        |what: &str| ApiError::bad_request(format!("input{pointer}: '{text}' is not {what}"));
    match shape(schema, depth) {
        Shape::Scalar(Kind::Number { integer: true, .. }, _) => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| wrong("an integer")),
        Shape::Scalar(Kind::Number { .. }, _) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| wrong("a number")),
        Shape::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(wrong("true or false")),
        },
        Shape::Enum(values) => values
            .into_iter()
            .find(|(shown, _)| shown == text)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| wrong("one of the listed values")),
        Shape::Json => serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("input{pointer}: not JSON: {e}"))),
        Shape::Scalar(_, _) | Shape::Object(..) => Ok(Value::String(text.to_owned())),
    }
}

/// The form's field values that show `input`: the inverse of [`assemble`],
/// so switching Try it from the raw JSON back to the form keeps the input.
///
/// # Errors
/// Why the form cannot show `input` exactly: it is not an object, has a
/// property the schema does not list, a value of another type than its field,
/// or something the form would not send back as it is (an empty text, spaces
/// around one, `null`, an empty optional object).
pub fn fill(schema: &Value, input: &Value) -> Result<Vec<(String, String)>, String> {
    let Shape::Object(properties, _) = shape(schema, 0) else {
        return Err("this action's input has no form".to_owned());
    };
    let Value::Object(object) = input else {
        return Err("the input is not a JSON object".to_owned());
    };
    let mut fields = Vec::new();
    fill_object(properties, object, PREFIX, 1, &mut fields)?;
    let back = assemble(schema, &fields).map_err(|e| e.message().to_owned())?;
    if !same(&back, input) {
        return Err(
            "the form would not send this input as it is (an empty text, spaces around a \
             text, null, or an empty object): keep editing it as JSON"
                .to_owned(),
        );
    }
    Ok(fields)
}

fn fill_object(
    properties: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &str,
    depth: usize,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if let Some(extra) = object.keys().find(|k| !properties.contains_key(*k)) {
        return Err(format!(
            "input{}/{}: the form has no such field",
            &path[PREFIX.len()..],
            escape(extra)
        ));
    }
    for (name, schema) in properties {
        let Some(value) = object.get(name) else {
            continue;
        };
        let key = format!("{path}/{}", escape(name));
        let text = match shape(schema, depth) {
            Shape::Object(inner, _) => {
                let Value::Object(nested) = value else {
                    return Err(format!(
                        "input{}: {value} is not an object",
                        &key[PREFIX.len()..]
                    ));
                };
                fill_object(inner, nested, &key, depth + 1, out)?;
                continue;
            }
            Shape::Scalar(Kind::Number { integer: true, .. }, _) => {
                value.as_i64().map(|n| n.to_string()).ok_or("an integer")
            }
            Shape::Scalar(Kind::Number { .. }, _) => value
                .is_number()
                .then(|| value.to_string())
                .ok_or("a number"),
            Shape::Scalar(..) => value.as_str().map(str::to_owned).ok_or("a string"),
            Shape::Boolean => value
                .as_bool()
                .map(|b| b.to_string())
                .ok_or("true or false"),
            Shape::Enum(values) => values
                .into_iter()
                .find(|(_, v)| *v == value)
                .map(|(text, _)| text)
                .ok_or("one of the listed values"),
            Shape::Json => Ok(value.to_string()),
        }
        .map_err(|what| format!("input{}: {value} is not {what}", &key[PREFIX.len()..]))?;
        out.push((key, text));
    }
    Ok(())
}

/// JSON equality that reads numbers by value (`4` is `4.0`): a number
/// field's text comes back as a float.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["name", "owner"],
            "properties": {
                "name": {"type": "string", "description": "The pet's name"},
                "age": {"type": "integer", "minimum": 0},
                "weight": {"type": ["number", "null"]},
                "vaccinated": {"type": "boolean"},
                "kind": {"enum": ["dog", "cat", 3]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "owner": {"type": "object", "required": ["email"], "properties": {
                    "email": {"type": "string"},
                    "a/b": {"type": "string"}
                }}
            }
        })
    }

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_kind_of_property_gets_its_input_and_nested_objects_a_fieldset() {
        let items = items(&schema(), &[]).expect("a form");
        let fields: Vec<&Field> = items
            .iter()
            .filter_map(|i| match i {
                Item::Input(f) => Some(f),
                _ => None,
            })
            .collect();
        let by = |n: &str| {
            *fields
                .iter()
                .find(|f| f.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        assert_eq!(by("in/name").kind, Kind::Text);
        assert!(by("in/name").required);
        assert_eq!(by("in/name").hint, "The pet's name");
        assert!(
            matches!(by("in/age").kind, Kind::Number { integer: true, min: Some(ref m), .. } if m == "0")
        );
        assert!(matches!(
            by("in/weight").kind,
            Kind::Number { integer: false, .. }
        ));
        assert_eq!(
            by("in/vaccinated").kind,
            Kind::Select(vec!["true".into(), "false".into()])
        );
        assert_eq!(
            by("in/kind").kind,
            Kind::Select(vec!["dog".into(), "cat".into(), "3".into()])
        );
        assert_eq!(by("in/tags").kind, Kind::Json);
        assert!(by("in/owner/email").required);
        assert_eq!(by("in/owner/a~1b").label, "a/b");
        let opens = items
            .iter()
            .filter(|i| matches!(i, Item::Open { .. }))
            .count();
        let closes = items.iter().filter(|i| matches!(i, Item::Close)).count();
        assert_eq!((opens, closes), (1, 1));
    }

    #[test]
    fn posted_fields_become_the_typed_input_and_empty_optional_ones_are_left_out() {
        let input = assemble(
            &schema(),
            &posted(&[
                ("in/name", "Rex"),
                ("in/age", "3"),
                ("in/weight", "4.5"),
                ("in/vaccinated", "false"),
                ("in/kind", "3"),
                ("in/tags", r#"["a", "b"]"#),
                ("in/owner/email", "o@x"),
                ("in/owner/a~1b", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            input,
            json!({"name": "Rex", "age": 3, "weight": 4.5, "vaccinated": false, "kind": 3,
                   "tags": ["a", "b"], "owner": {"email": "o@x"}})
        );
        // A required nested object stays (empty) so validation can name what it lacks.
        assert_eq!(assemble(&schema(), &[]).unwrap(), json!({"owner": {}}));
    }

    #[test]
    fn text_of_the_wrong_type_is_refused_with_the_fields_pointer() {
        for (field, text, said) in [
            ("in/age", "3.5", "input/age: '3.5' is not an integer"),
            (
                "in/weight",
                "heavy",
                "input/weight: 'heavy' is not a number",
            ),
            (
                "in/kind",
                "cow",
                "input/kind: 'cow' is not one of the listed values",
            ),
            (
                "in/vaccinated",
                "yes",
                "input/vaccinated: 'yes' is not true or false",
            ),
            ("in/tags", "[", "input/tags: not JSON"),
        ] {
            let e = assemble(&schema(), &posted(&[(field, text)])).unwrap_err();
            assert!(e.message().starts_with(said), "{}", e.message());
        }
    }

    #[test]
    fn schemas_the_form_cannot_list_fall_back_to_json() {
        assert!(items(&json!({"type": "array"}), &[]).is_none());
        assert!(items(&json!({"oneOf": [{"type": "object"}]}), &[]).is_none());
        assert!(
            items(
                &json!({"type": "object", "additionalProperties": {"type": "string"}}),
                &[]
            )
            .is_none()
        );
        assert_eq!(items(&json!({}), &[]).map(|i| i.len()), Some(0));
        assert_eq!(
            items(&json!({"type": "object"}), &[]).map(|i| i.len()),
            Some(0)
        );
    }

    #[test]
    fn an_input_fills_the_fields_that_send_it_back() {
        let input = json!({"name": "Rex", "age": 3, "weight": 4, "vaccinated": false, "kind": 3,
                           "tags": ["a", "b"], "owner": {"email": "o@x", "a/b": "c"}});
        let fields = fill(&schema(), &input).unwrap();
        let text = |n: &str| {
            fields
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, t)| t.as_str())
        };
        assert_eq!(text("in/name"), Some("Rex"));
        assert_eq!(text("in/age"), Some("3"));
        assert_eq!(text("in/vaccinated"), Some("false"));
        assert_eq!(text("in/kind"), Some("3"));
        assert_eq!(text("in/tags"), Some(r#"["a","b"]"#));
        assert_eq!(text("in/owner/a~1b"), Some("c"));
        let back = assemble(&schema(), &fields).unwrap();
        assert!(same(&back, &input), "{back}");
        // Nothing given, nothing filled (the required nested object aside).
        assert!(fill(&schema(), &json!({"owner": {}})).unwrap().is_empty());
    }

    #[test]
    fn an_input_the_form_cannot_show_exactly_is_refused_with_the_reason() {
        for (input, said) in [
            (json!([1]), "the input is not a JSON object"),
            (
                json!({"colour": "red"}),
                "input/colour: the form has no such field",
            ),
            (
                json!({"owner": {"x": 1}}),
                "input/owner/x: the form has no such field",
            ),
            (json!({"age": "3"}), r#"input/age: "3" is not an integer"#),
            (json!({"age": 3.5}), "input/age: 3.5 is not an integer"),
            (
                json!({"weight": null}),
                "input/weight: null is not a number",
            ),
            (json!({"kind": "cow"}), r#"input/kind: "cow" is not one of"#),
            (
                json!({"vaccinated": 1}),
                "input/vaccinated: 1 is not true or false",
            ),
            (json!({"owner": 1}), "input/owner: 1 is not an object"),
            (
                json!({"name": " Rex"}),
                "the form would not send this input as it is",
            ),
            (
                json!({"name": ""}),
                "the form would not send this input as it is",
            ),
        ] {
            let e = fill(&schema(), &input).unwrap_err();
            assert!(e.starts_with(said), "{input}: {e}");
        }
        assert!(fill(&json!({"type": "array"}), &json!({})).is_err());
    }

    #[test]
    fn a_posted_value_wins_over_the_default() {
        let schema =
            json!({"type": "object", "properties": {"n": {"type": "integer", "default": 5}}});
        let shown = |posted: &[(String, String)]| match &items(&schema, posted).unwrap()[0] {
            Item::Input(f) => f.value.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(shown(&[]), "5");
        assert_eq!(shown(&posted(&[("in/n", "7")])), "7");
    }
}
