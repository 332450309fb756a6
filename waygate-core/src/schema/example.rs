//! A small valid instance of a schema: what an agent or a reviewer sees as
//! "an input that works", and what acceptance tests send to mock servers.
//!
//! Documented values win (`const`, `examples`, `example`, `default`, `enum`);
//! otherwise only required properties are filled, with values that satisfy
//! formats, bounds, lengths and simple patterns.

use serde_json::{Map, Value, json};

/// `$ref` chains deeper than this stop (recursive schemas).
const MAX_DEPTH: usize = 24;

/// A small instance of `schema`; local `$ref`s (`#/$defs/…`, `#/definitions/…`)
/// resolve against the schema itself.
pub fn example(schema: &Value) -> Value {
    Generator { root: schema }.value(schema, 0)
}

struct Generator<'a> {
    root: &'a Value,
}

impl<'a> Generator<'a> {
    fn resolve(&self, schema: &'a Value, depth: usize) -> Option<&'a Value> {
        let mut current = schema;
        for _ in depth..MAX_DEPTH {
            match current.get("$ref").and_then(Value::as_str) {
                Some(r) => current = self.root.pointer(r.strip_prefix('#')?)?,
                None => return Some(current),
            }
        }
        None
    }

    fn value(&self, schema: &'a Value, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Some(schema) = self.resolve(schema, depth) else {
            return Value::Null;
        };
        let Some(obj) = schema.as_object() else {
            // `true` or `{}`: anything goes.
            return json!("example");
        };
        if let Some(v) = documented(obj) {
            return v.clone();
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            return self.all_of(obj, all, depth);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = obj.get(key).and_then(Value::as_array).and_then(|alts| {
                alts.iter().find(|a| {
                    self.resolve(a, depth).and_then(|r| r.get("type")) != Some(&json!("null"))
                })
            }) {
                return self.value(first, depth + 1);
            }
        }
        match type_of(obj).as_deref() {
            Some("object") => self.object(obj, depth),
            Some("array") => self.array(obj, depth),
            Some("string") => Value::String(string(obj)),
            Some("integer") => number(obj, true),
            Some("number") => number(obj, false),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ => json!("example"),
        }
    }

    fn all_of(&self, obj: &'a Map<String, Value>, parts: &'a [Value], depth: usize) -> Value {
        let mut merged = Map::new();
        let mut other = None;
        let own = Value::Object(
            obj.iter()
                .filter(|(k, _)| *k != "allOf")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        for part in parts.iter().chain(std::iter::once(&own)) {
            match self.value(part, depth + 1) {
                Value::Object(m) => merged.extend(m),
                Value::String(s)
                    if s == "example" && part.as_object().is_some_and(|o| o.len() <= 1) => {}
                v => other = Some(v),
            }
        }
        if merged.is_empty() {
            other.unwrap_or(Value::Object(merged))
        } else {
            Value::Object(merged)
        }
    }

    fn object(&self, obj: &'a Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let properties = obj.get("properties").and_then(Value::as_object);
        for name in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let value = match properties.and_then(|p| p.get(name)) {
                Some(prop) => self.value(prop, depth + 1),
                None => json!("example"),
            };
            out.insert(name.to_owned(), value);
        }
        let min = obj
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        if let Some(props) = properties {
            for (name, prop) in props {
                if out.len() >= min {
                    break;
                }
                out.entry(name.clone())
                    .or_insert_with(|| self.value(prop, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&self, obj: &'a Map<String, Value>, depth: usize) -> Value {
        let n = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(8) as usize;
        let item = obj
            .get("items")
            .map_or(json!("example"), |items| self.value(items, depth + 1));
        let unique = obj.get("uniqueItems") == Some(&Value::Bool(true));
        let items = (0..n)
            .map(|i| match (&item, unique) {
                (Value::String(s), true) if i > 0 => Value::String(format!("{s}{i}")),
                (Value::Number(x), true) if i > 0 => json!(x.as_f64().unwrap_or(0.0) + i as f64),
                _ => item.clone(),
            })
            .collect();
        Value::Array(items)
    }
}

fn documented(obj: &Map<String, Value>) -> Option<&Value> {
    obj.get("const")
        .or_else(|| {
            obj.get("examples")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
        })
        .or_else(|| obj.get("example"))
        .or_else(|| obj.get("default"))
        .or_else(|| {
            obj.get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.iter().find(|v| !v.is_null()))
        })
}

fn type_of(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_owned),
        _ if obj.contains_key("properties") || obj.contains_key("required") => {
            Some("object".into())
        }
        _ if obj.contains_key("items") => Some("array".into()),
        _ => None,
    }
}

fn string(obj: &Map<String, Value>) -> String {
    let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
    let base = match format {
        "date-time" => "2024-01-02T03:04:05Z",
        "date" => "2024-01-02",
        "time" => "03:04:05Z",
        "email" | "idn-email" => "user@example.com",
        "uri" | "url" | "iri" | "uri-reference" => "https://example.com/",
        "hostname" | "idn-hostname" => "example.com",
        "uuid" => "123e4567-e89b-42d3-a456-426614174000",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "byte" => "ZXhhbXBsZQ==",
        "duration" => "PT1M",
        _ => "",
    };
    let mut text = match (base, obj.get("pattern").and_then(Value::as_str)) {
        ("", Some(pattern)) => pattern::sample(pattern).unwrap_or_else(|| "example".into()),
        ("", None) => "example".into(),
        (b, _) => b.to_owned(),
    };
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = obj
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    while text.chars().count() < min {
        text.push('x');
    }
    if let Some(max) = max {
        text = text.chars().take(max).collect();
    }
    text
}

fn number(obj: &Map<String, Value>, integer: bool) -> Value {
    let get = |k: &str| obj.get(k).and_then(Value::as_f64);
    let step = get("multipleOf").filter(|m| *m > 0.0);
    let mut x = match (get("minimum"), get("exclusiveMinimum")) {
        (Some(min), _) => min,
        (None, Some(ex)) => ex + step.unwrap_or(1.0),
        (None, None) => 1.0_f64.min(get("maximum").unwrap_or(1.0)),
    };
    if let Some(max) =
        get("maximum").or_else(|| get("exclusiveMaximum").map(|e| e - step.unwrap_or(1.0)))
    {
        x = x.min(max);
    }
    if let Some(step) = step {
        x = (x / step).ceil() * step;
    }
    if integer {
        json!(x.ceil() as i64)
    } else {
        json!(x)
    }
}

/// Strings for the regular expressions APIs use to describe ids and codes:
/// literals, classes, escapes, groups with alternation (first branch),
/// quantifiers (their minimum, at least one for `+`), anchors.
mod pattern {
    pub(super) fn sample(pattern: &str) -> Option<String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = String::new();
        let end = sequence(&chars, 0, &mut out)?;
        (end == chars.len()).then_some(out)
    }

    /// Samples until `)` or the end; returns the index after it.
    fn sequence(p: &[char], mut i: usize, out: &mut String) -> Option<usize> {
        while i < p.len() {
            let start = out.len();
            match p[i] {
                '^' | '$' => {
                    i += 1;
                    continue;
                }
                ')' => return Some(i),
                '|' => {
                    // Keep the first branch; skip the others up to this group's end.
                    return Some(skip_alternatives(p, i));
                }
                '(' => {
                    i += 1;
                    if p.get(i) == Some(&'?') {
                        i += 2; // (?: … )
                    }
                    i = sequence(p, i, out)?;
                    if p.get(i) != Some(&')') {
                        return None;
                    }
                    i += 1;
                }
                '[' => {
                    let (c, next) = class(p, i + 1)?;
                    out.push(c);
                    i = next;
                }
                '\\' => {
                    out.push(escape(*p.get(i + 1)?));
                    i += 2;
                }
                '.' => {
                    out.push('a');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
            i = quantify(p, i, out, start)?;
        }
        Some(i)
    }

    fn skip_alternatives(p: &[char], mut i: usize) -> usize {
        let mut depth = 0;
        while i < p.len() {
            match p[i] {
                '\\' => i += 1,
                '(' => depth += 1,
                ')' if depth == 0 => return i,
                ')' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        i
    }

    /// Repeats the piece at `out[start..]` as the quantifier at `i` asks.
    fn quantify(p: &[char], i: usize, out: &mut String, start: usize) -> Option<usize> {
        let piece = out[start..].to_owned();
        let (min, next) = match p.get(i) {
            Some('*') | Some('?') => (0, i + 1),
            Some('+') => (1, i + 1),
            Some('{') => {
                let close = i + p[i..].iter().position(|c| *c == '}')?;
                let body: String = p[i + 1..close].iter().collect();
                let min = body.split(',').next()?.trim().parse::<usize>().ok()?;
                (min, close + 1)
            }
            _ => return Some(i),
        };
        let next = if p.get(next) == Some(&'?') {
            next + 1
        } else {
            next
        };
        out.truncate(start);
        for _ in 0..min.min(64) {
            out.push_str(&piece);
        }
        Some(next)
    }

    /// The first character a `[…]` class allows; returns it and the index after `]`.
    fn class(p: &[char], mut i: usize) -> Option<(char, usize)> {
        let negated = p.get(i) == Some(&'^');
        if negated {
            i += 1;
        }
        let first = match p.get(i)? {
            '\\' => escape(*p.get(i + 1)?),
            c => *c,
        };
        let close = i + 1 + p[i + 1..].iter().position(|c| *c == ']')?;
        Some((if negated { 'x' } else { first }, close + 1))
    }

    fn escape(c: char) -> char {
        match c {
            'd' => '1',
            'w' => 'a',
            's' => ' ',
            'D' | 'W' | 'S' => 'x',
            other => other,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::sample;

        #[test]
        fn samples_match_their_patterns() {
            for (pattern, expected) in [
                ("^[CGD][A-Z0-9]{8,}$", "CAAAAAAAA"),
                ("^\\d{4}-\\d{2}$", "1111-11"),
                (
                    "^(AC|SK)[0-9a-f]{32}$",
                    "AC00000000000000000000000000000000",
                ),
                ("^[a-z]+(?:-[a-z]+)*$", "a"),
                ("^x\\.y?$", "x."),
            ] {
                assert_eq!(sample(pattern).as_deref(), Some(expected), "{pattern}");
                let schema = serde_json::json!({"type": "string", "pattern": pattern});
                let matches = jsonschema::validator_for(&schema)
                    .unwrap()
                    .is_valid(&serde_json::json!(expected));
                assert!(matches, "{expected} does not match {pattern}");
            }
            assert_eq!(sample("(unclosed"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{compile, violations};

    fn valid(schema: &Value) -> Value {
        let v = example(schema);
        let validator = compile(schema).unwrap();
        let found = violations(&validator, schema, &v);
        assert!(found.is_empty(), "{v} breaks {schema}: {found:?}");
        v
    }

    #[test]
    fn fills_required_fields_with_valid_values() {
        let schema = json!({
            "type": "object",
            "required": ["channel", "count", "when", "tags", "mode", "id", "nested"],
            "properties": {
                "channel": {"type": "string", "pattern": "^[CGD][A-Z0-9]{8,}$"},
                "count": {"type": "integer", "minimum": 5, "maximum": 10, "multipleOf": 3},
                "when": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "minItems": 2, "uniqueItems": true, "items": {"type": "string"}},
                "mode": {"enum": [null, "fast", "slow"]},
                "id": {"type": ["null", "string"], "minLength": 12},
                "nested": {"$ref": "#/$defs/Nested"},
                "optional": {"type": "string"}
            },
            "$defs": {"Nested": {"allOf": [
                {"type": "object", "required": ["a"], "properties": {"a": {"const": 1}}},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "boolean"}}}
            ]}}
        });
        let v = valid(&schema);
        assert_eq!(v["count"], 6);
        assert_eq!(v["mode"], "fast");
        assert_eq!(v["nested"], json!({"a": 1, "b": true}));
        assert!(v.get("optional").is_none());
    }

    #[test]
    fn documented_values_win_and_recursion_ends() {
        let schema = json!({"type": "object", "required": ["n", "tree"], "properties": {
            "n": {"type": "integer", "example": 42},
            "tree": {"$ref": "#/$defs/Tree"}
        }, "$defs": {"Tree": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Tree"}}, "required": []}}});
        let v = valid(&schema);
        assert_eq!(v["n"], 42);
        assert_eq!(v["tree"], json!({}));
        let looped = json!({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/A"}}});
        assert_eq!(example(&looped), Value::Null);
    }
}
