//! OpenAPI schema objects → self-contained JSON Schema (draft 2020-12).
//!
//! Every `$ref` to a schema becomes `#/$defs/Name`; the referenced schema is
//! converted once per import and direction ([`Mode`]) and copied into the `$defs`
//! of each schema that uses it, so a recursive schema stays a reference instead of
//! being expanded forever. Conversion keeps the JSON Schema vocabulary and drops
//! OpenAPI-only keywords (`discriminator`, `xml`, `externalDocs`, `x-…`):
//! `nullable`/`x-nullable` become `"null"` in `type` (or `anyOf` with null),
//! `example` becomes `examples`, boolean `exclusiveMinimum`/`exclusiveMaximum`
//! become numbers, tuple `items` become `prefixItems`, and Swagger's `type: file`
//! becomes a multipart file part.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::{Map, Value, json};
use url::Url;

use super::ImportWarning;
use super::error::ImportError;
use super::resolve::{At, Docs, fragment_pointer};

/// Schemas nested deeper than this are cut off (accepting anything there).
const MAX_DEPTH: usize = 128;

/// The most schema nodes one import may produce. Shared definitions are copied
/// into the `$defs` of every schema that uses them and a `$ref`'d path item is
/// converted for every path that names it, so the output can grow as the
/// product of two parts of the input: 16 MiB of spec could otherwise ask for
/// terabytes. Real specifications stay far below (the largest fixture,
/// DigitalOcean's, produces about 170,000).
pub(super) const MAX_OUTPUT_NODES: usize = 2_000_000;

/// Which side of an action a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Mode {
    /// Input: `readOnly` properties are dropped.
    Input,
    /// Output: `writeOnly` properties are dropped.
    Output,
}

/// A referenced schema, converted once.
struct Def {
    schema: Value,
    /// Names of the definitions it refers to.
    deps: Vec<String>,
    /// Its nodes, charged each time it is copied into a `$defs`.
    nodes: usize,
}

/// The shared schemas of one import: their `$defs` names and converted forms.
#[derive(Default)]
pub(super) struct Registry {
    /// Target URL → name.
    names: HashMap<String, String>,
    /// Name → target URL and its `readOnly`/`writeOnly` flags.
    targets: HashMap<String, (Url, Flags)>,
    converted: HashMap<(String, Mode), Rc<Def>>,
    /// Document URL (no fragment) → `$ref` written in it → the `#/$defs/…`
    /// reference it becomes. GitHub's operations refer to the same shared
    /// schemas thousands of times, and following a ref joins and parses URLs.
    refs: HashMap<String, HashMap<String, String>>,
    /// Whether each `pattern` seen compiles as the validator's regex dialect.
    patterns: HashMap<String, bool>,
    /// Schema nodes produced so far (see [`MAX_OUTPUT_NODES`]).
    produced: usize,
}

impl Registry {
    /// Counts `nodes` more output nodes; an error past [`MAX_OUTPUT_NODES`].
    fn charge(&mut self, nodes: usize) -> Result<(), ImportError> {
        self.produced = self.produced.saturating_add(nodes);
        if self.produced > MAX_OUTPUT_NODES {
            return Err(ImportError::new(
                super::error::ImportErrorKind::TooLarge,
                format!(
                    "the imported schemas would hold more than {MAX_OUTPUT_NODES} nodes once shared \
                     definitions are copied into each action; import fewer actions (select)"
                ),
            ));
        }
        Ok(())
    }

    /// Whether `pattern` compiles: an ECMA-262 regex the validator cannot handle
    /// would make the whole schema fail to compile, so such patterns are dropped.
    fn pattern_compiles(&mut self, pattern: &str) -> bool {
        if let Some(ok) = self.patterns.get(pattern) {
            return *ok;
        }
        let ok = crate::schema::compile(&json!({"pattern": pattern})).is_ok();
        self.patterns.insert(pattern.to_owned(), ok);
        ok
    }

    /// The `$defs` name of the schema `target` at `url`, unique within the import.
    fn register(&mut self, url: &Url, target: &Value) -> String {
        if let Some(name) = self.names.get(url.as_str()) {
            return name.clone();
        }
        let base = def_name(url);
        let mut name = base.clone();
        let mut n = 1;
        while self.targets.contains_key(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.names.insert(url.as_str().to_owned(), name.clone());
        let flag = |key: &str| target.get(key).and_then(Value::as_bool) == Some(true);
        let flags = Flags {
            read_only: flag("readOnly"),
            write_only: flag("writeOnly"),
        };
        self.targets.insert(name.clone(), (url.clone(), flags));
        name
    }
}

/// A shared schema's `readOnly` and `writeOnly` flags.
#[derive(Debug, Clone, Copy)]
struct Flags {
    read_only: bool,
    write_only: bool,
}

/// Converts the schemas of one action side, collecting the definitions they use.
pub(super) struct Converter<'a, 'l> {
    docs: &'a Docs<'l>,
    registry: &'a mut Registry,
    warnings: &'a mut Vec<ImportWarning>,
    mode: Mode,
}

impl<'a, 'l> Converter<'a, 'l> {
    /// A converter for one schema (or one action side) in `mode`.
    pub(super) fn new(
        docs: &'a Docs<'l>,
        registry: &'a mut Registry,
        warnings: &'a mut Vec<ImportWarning>,
        mode: Mode,
    ) -> Self {
        Self {
            docs,
            registry,
            warnings,
            mode,
        }
    }

    /// Converts the schema `value` found at `at`; refs are recorded, not expanded.
    ///
    /// # Errors
    /// A `$ref` that does not resolve.
    pub(super) fn convert(&mut self, at: &At<'_>, value: &Value) -> Result<Value, ImportError> {
        self.schema(at, value, 0)
    }

    /// Whether a converted schema is flagged `readOnly` or `writeOnly` (itself or
    /// the definition it refers to), whichever this converter's mode drops.
    fn is_hidden(&self, converted: &Value) -> bool {
        let flag = match self.mode {
            Mode::Input => "readOnly",
            Mode::Output => "writeOnly",
        };
        if converted.get(flag).and_then(Value::as_bool) == Some(true) {
            return true;
        }
        let target = converted
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.registry.targets.get(name));
        target.is_some_and(|(_, flags)| match self.mode {
            Mode::Input => flags.read_only,
            Mode::Output => flags.write_only,
        })
    }

    /// The converted definition `reference` (a `#/$defs/Name` this converter wrote) stands for.
    pub(super) fn definition(&mut self, reference: &str) -> Result<Option<Value>, ImportError> {
        match reference.strip_prefix("#/$defs/") {
            Some(name) if self.registry.targets.contains_key(name) => {
                Ok(Some(self.def(name)?.schema.clone()))
            }
            _ => Ok(None),
        }
    }

    /// Adds the `$defs` that `schema` needs (transitively) and returns it.
    ///
    /// # Errors
    /// A `$ref` inside a definition that does not resolve.
    pub(super) fn finish(mut self, mut schema: Value) -> Result<Value, ImportError> {
        let mut defs = Map::new();
        let mut seen = HashSet::new();
        let mut queue = Vec::new();
        def_refs(&schema, &mut queue, 0);
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let def = self.def(&name)?;
            self.registry.charge(def.nodes)?;
            queue.extend(def.deps.iter().filter(|d| !seen.contains(*d)).cloned());
            defs.insert(name, def.schema.clone());
        }
        if !defs.is_empty() {
            match &mut schema {
                Value::Object(map) => {
                    map.insert("$defs".into(), Value::Object(defs));
                }
                other => {
                    let inner = std::mem::take(other);
                    *other = json!({"allOf": [inner], "$defs": defs});
                }
            }
        }
        Ok(schema)
    }

    fn def(&mut self, name: &str) -> Result<Rc<Def>, ImportError> {
        let cache_key = (name.to_owned(), self.mode);
        if let Some(def) = self.registry.converted.get(&cache_key) {
            return Ok(Rc::clone(def));
        }
        let Some(url) = self.registry.targets.get(name).map(|(url, _)| url.clone()) else {
            return Err(ImportError::new(
                super::error::ImportErrorKind::Reference,
                format!("unknown schema {name}"),
            ));
        };
        let node = self.docs.node(&url)?;
        let schema = self.convert(&At::root(&node.url), node.value())?;
        let mut deps = Vec::new();
        def_refs(&schema, &mut deps, 0);
        let nodes = node_count(&schema);
        let def = Rc::new(Def {
            schema,
            deps,
            nodes,
        });
        self.registry.converted.insert(cache_key, Rc::clone(&def));
        Ok(def)
    }

    /// Records a warning located at `at`.
    pub(super) fn warn_at(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.warnings.push(ImportWarning::at(at, message));
    }

    /// The documents refs resolve in.
    pub(super) fn docs(&self) -> &'a Docs<'l> {
        self.docs
    }

    fn schema(&mut self, at: &At<'_>, value: &Value, depth: usize) -> Result<Value, ImportError> {
        match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Object(map) if depth < MAX_DEPTH => self.object(at, map, depth),
            Value::Object(_) => {
                self.warn_at(at, "schema nested too deeply; accepting any value here");
                Ok(json!({}))
            }
            _ => {
                self.warn_at(at, "not a schema object; accepting any value here");
                Ok(json!({}))
            }
        }
    }

    /// The `#/$defs/…` reference that `reference`, written at `at`, becomes.
    fn def_ref(&mut self, at: &At<'_>, reference: &str) -> Result<String, ImportError> {
        let document = &at.url[..url::Position::AfterQuery];
        if let Some(known) = self
            .registry
            .refs
            .get(document)
            .and_then(|refs| refs.get(reference))
        {
            return Ok(known.clone());
        }
        let node = self.docs.follow_ref(at, reference)?;
        let name = self.registry.register(&node.url, node.value());
        let target = format!("#/$defs/{name}");
        self.registry
            .refs
            .entry(document.to_owned())
            .or_default()
            .insert(reference.to_owned(), target.clone());
        Ok(target)
    }

    fn object(
        &mut self,
        at: &At<'_>,
        map: &Map<String, Value>,
        depth: usize,
    ) -> Result<Value, ImportError> {
        self.registry.charge(1)?;
        let mut out = Map::new();
        let mut nullable = false;
        let mut file = false;
        let mut hidden: Vec<String> = Vec::new();
        let mut exclusive = [false, false];
        match map.get("$ref") {
            Some(Value::String(reference)) => {
                out.insert("$ref".into(), Value::String(self.def_ref(at, reference)?));
            }
            Some(_) => self.warn_at(at, "$ref is not a string; ignored"),
            None => {}
        }
        for (key, value) in map {
            let here = at.key(key);
            match key.as_str() {
                "type" => match convert_type(value, &mut file) {
                    Some(t) => {
                        out.insert(key.clone(), t);
                    }
                    None if file => {}
                    None => self.warn_at(&here, format!("unknown type {value}; ignored")),
                },
                "properties" | "patternProperties" | "dependentSchemas" => {
                    let converted = match self.docs.follow(&here, value)? {
                        // DigitalOcean refers to whole property maps.
                        Some(node) => self.members(
                            &At::root(&node.url),
                            node.value(),
                            key,
                            depth,
                            &mut hidden,
                        )?,
                        None => self.members(&here, value, key, depth, &mut hidden)?,
                    };
                    out.insert(key.clone(), Value::Object(converted));
                }
                "items" if value.is_array() => {
                    let items = self.list(&here, value, depth)?;
                    if !items.is_empty() {
                        out.insert("prefixItems".into(), Value::Array(items));
                    }
                }
                "items"
                | "additionalProperties"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames"
                | "unevaluatedProperties"
                | "unevaluatedItems" => {
                    out.insert(key.clone(), self.schema(&here, value, depth + 1)?);
                }
                "prefixItems" | "allOf" | "anyOf" | "oneOf" => {
                    let items = self.list(&here, value, depth)?;
                    if !items.is_empty() {
                        out.insert(key.clone(), Value::Array(items));
                    }
                }
                "required" => {
                    if let Some(names) = value.as_array() {
                        let mut seen = HashSet::new();
                        let names: Vec<Value> = names
                            .iter()
                            .filter_map(Value::as_str)
                            .filter(|n| seen.insert(*n))
                            .map(|n| Value::String(n.to_owned()))
                            .collect();
                        out.insert(key.clone(), Value::Array(names));
                    }
                }
                "enum" | "examples" if value.is_array() && !has_ref(value, 0) => {
                    self.registry.charge(node_count(value))?;
                    out.insert(key.clone(), value.clone());
                }
                "const" | "default" if !has_ref(value, 0) => {
                    self.registry.charge(node_count(value))?;
                    out.insert(key.clone(), value.clone());
                }
                "example"
                    if !map.get("examples").is_some_and(Value::is_array) && !has_ref(value, 0) =>
                {
                    self.registry.charge(node_count(value))?;
                    out.insert("examples".into(), Value::Array(vec![value.clone()]));
                }
                "minimum" | "maximum" if value.is_number() => {
                    out.insert(key.clone(), value.clone());
                }
                "multipleOf" if value.as_f64().is_some_and(|n| n > 0.0) => {
                    out.insert(key.clone(), value.clone());
                }
                "exclusiveMinimum" | "exclusiveMaximum" => match value {
                    Value::Number(_) => {
                        out.insert(key.clone(), value.clone());
                    }
                    Value::Bool(true) => exclusive[usize::from(key == "exclusiveMaximum")] = true,
                    _ => {}
                },
                "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
                | "maxProperties" | "minContains" | "maxContains" => {
                    if let Some(n) = non_negative_integer(value) {
                        out.insert(key.clone(), Value::from(n));
                    }
                }
                "uniqueItems" | "deprecated" | "readOnly" | "writeOnly" if value.is_boolean() => {
                    out.insert(key.clone(), value.clone());
                }
                "pattern" => match value.as_str() {
                    Some(p) if self.registry.pattern_compiles(p) => {
                        out.insert(key.clone(), value.clone());
                    }
                    _ => self.warn_at(&here, format!("pattern {value} does not compile; dropped")),
                },
                "title" | "description" | "format" | "contentEncoding" | "contentMediaType"
                    if value.is_string() =>
                {
                    out.insert(key.clone(), value.clone());
                }
                "nullable" | "x-nullable" => nullable |= value.as_bool() == Some(true),
                _ => {}
            }
        }
        for (flag, bound) in [(exclusive[0], "minimum"), (exclusive[1], "maximum")] {
            if flag && let Some(n) = out.remove(bound) {
                let keyword = if bound == "minimum" {
                    "exclusiveMinimum"
                } else {
                    "exclusiveMaximum"
                };
                out.insert(keyword.into(), n);
            }
        }
        if !hidden.is_empty()
            && let Some(Value::Array(required)) = out.get_mut("required")
        {
            required.retain(|n| !n.as_str().is_some_and(|n| hidden.iter().any(|h| h == n)));
        }
        if file {
            let description = out.remove("description");
            out = match self.mode {
                Mode::Input => file_part(),
                Mode::Output => Map::new(),
            };
            if let Some(d) = description {
                out.insert("description".into(), d);
            }
        }
        Ok(if nullable {
            make_nullable(out)
        } else {
            Value::Object(out)
        })
    }

    /// A map of named subschemas; `properties` hidden in this mode are left out and
    /// their names collected.
    fn members(
        &mut self,
        at: &At<'_>,
        value: &Value,
        keyword: &str,
        depth: usize,
        hidden: &mut Vec<String>,
    ) -> Result<Map<String, Value>, ImportError> {
        let mut converted = Map::new();
        for (name, sub) in value.as_object().into_iter().flatten() {
            let sub_at = at.key(name);
            if keyword == "patternProperties" && !self.registry.pattern_compiles(name) {
                self.warn_at(&sub_at, "pattern does not compile; dropped");
                continue;
            }
            let schema = self.schema(&sub_at, sub, depth + 1)?;
            if keyword == "properties" && self.is_hidden(&schema) {
                hidden.push(name.clone());
                continue;
            }
            converted.insert(name.clone(), schema);
        }
        Ok(converted)
    }

    fn list(
        &mut self,
        at: &At<'_>,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<Value>, ImportError> {
        let Some(items) = value.as_array() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.schema(&at.index(i), item, depth + 1)?);
        }
        Ok(out)
    }
}

/// Collects the `$defs` names that `#/$defs/…` refs in `schema` use.
fn def_refs(schema: &Value, out: &mut Vec<String>, depth: usize) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                out.push(name.to_owned());
            }
            for (key, value) in map {
                // Literals hold data, not schemas.
                if depth < 2 * MAX_DEPTH
                    && !matches!(key.as_str(), "enum" | "const" | "default" | "examples")
                {
                    def_refs(value, out, depth + 1);
                }
            }
        }
        Value::Array(items) if depth < 2 * MAX_DEPTH => {
            items.iter().for_each(|v| def_refs(v, out, depth + 1))
        }
        _ => {}
    }
}

/// The nodes in `value` (itself included), counted without recursion.
pub(super) fn node_count(value: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(node) = stack.pop() {
        count += 1;
        match node {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    count
}

/// The schema of a multipart file part, as the executor sends it.
pub(super) fn file_part() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "type": "object",
        "required": ["contentBase64"],
        "properties": {
            "contentBase64": {"type": "string", "contentEncoding": "base64"},
            "filename": {"type": "string"},
            "contentType": {"type": "string"},
        },
    }) else {
        unreachable!("a literal object")
    };
    map
}

/// `type` as JSON Schema: valid names only, no duplicates; `file` sets the flag.
fn convert_type(value: &Value, file: &mut bool) -> Option<Value> {
    const TYPES: [&str; 7] = [
        "null", "boolean", "object", "array", "number", "string", "integer",
    ];
    let mut keep = Vec::new();
    let names: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for name in names.into_iter().filter_map(Value::as_str) {
        if name == "file" {
            *file = true;
        } else if TYPES.contains(&name) && !keep.contains(&name) {
            keep.push(name);
        }
    }
    match keep.as_slice() {
        [] => None,
        [one] if !value.is_array() => Some(Value::String((*one).to_owned())),
        many => Some(Value::Array(
            many.iter()
                .map(|s| Value::String((*s).to_owned()))
                .collect(),
        )),
    }
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema.
fn make_nullable(mut out: Map<String, Value>) -> Value {
    let composed = ["$ref", "allOf", "anyOf", "oneOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    if out.is_empty() {
        return Value::Object(out);
    }
    match out.get_mut("type") {
        Some(Value::String(t)) if !composed => {
            let t = std::mem::take(t);
            if t != "null" {
                out.insert("type".into(), json!([t, "null"]));
            }
        }
        Some(Value::Array(types)) if !composed => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".into()));
            }
        }
        _ => return json!({"anyOf": [out, {"type": "null"}]}),
    }
    if let Some(Value::Array(options)) = out.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
    Value::Object(out)
}

fn non_negative_integer(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9e15)
            .map(|f| f as u64)
    })
}

/// Whether a literal (example, default) holds a `$ref`: such values are unresolved
/// references to example files, not data, and are left out.
fn has_ref(value: &Value, depth: usize) -> bool {
    match value {
        Value::Object(map) => {
            depth > 16 || map.contains_key("$ref") || map.values().any(|v| has_ref(v, depth + 1))
        }
        Value::Array(items) => depth > 16 || items.iter().any(|v| has_ref(v, depth + 1)),
        _ => false,
    }
}

/// A `$defs` name for the schema at `url`: its last meaningful pointer segment, or
/// the file's stem, limited to `[A-Za-z0-9_.-]`.
fn def_name(url: &Url) -> String {
    const GENERIC: [&str; 7] = [
        "schema",
        "items",
        "additionalProperties",
        "properties",
        "content",
        "allOf",
        "oneOf",
    ];
    let pointer = fragment_pointer(url);
    let segment = pointer
        .rsplit('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .find(|s| {
            !s.is_empty()
                && !GENERIC.contains(&s.as_str())
                && !s.contains('/')
                && s.parse::<u64>().is_err()
        });
    let name = segment.unwrap_or_else(|| {
        let file = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("");
        file.split('.').next().unwrap_or("").to_owned()
    });
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if clean.is_empty() {
        "schema".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::load::NoLoader;

    fn convert(doc: Value, pointer: &str, mode: Mode) -> (Value, Vec<ImportWarning>) {
        let url = Url::parse("memory:/root").unwrap();
        let (docs, root) = Docs::new(&NoLoader, &url, doc.into());
        let mut registry = Registry::default();
        let mut warnings = Vec::new();
        let mut c = Converter::new(&docs, &mut registry, &mut warnings, mode);
        let at_url = Url::parse(&format!("memory:/root#{pointer}")).unwrap();
        let schema = c
            .convert(&At::root(&at_url), root.pointer(pointer).unwrap())
            .unwrap();
        let schema = c.finish(schema).unwrap();
        (schema, warnings)
    }

    #[test]
    fn nullable_becomes_null_type_or_any_of() {
        let doc = json!({"s": {"type": "object", "properties": {
            "a": {"type": "string", "nullable": true, "enum": ["x"]},
            "b": {"$ref": "#/defs/B", "nullable": true},
            "c": {"type": ["integer", "null"]},
            "d": {"type": "integer", "x-nullable": true},
        }}, "defs": {"B": {"type": "integer"}}});
        let (s, _) = convert(doc, "/s", Mode::Output);
        assert_eq!(
            s["properties"]["a"],
            json!({"type": ["string", "null"], "enum": ["x", null]})
        );
        assert_eq!(
            s["properties"]["b"],
            json!({"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]})
        );
        assert_eq!(s["properties"]["c"], json!({"type": ["integer", "null"]}));
        assert_eq!(s["properties"]["d"], json!({"type": ["integer", "null"]}));
        assert_eq!(s["$defs"]["B"], json!({"type": "integer"}));
        crate::schema::compile(&s).unwrap();
    }

    #[test]
    fn recursive_schemas_stay_references() {
        let doc = json!({"components": {"schemas": {"Node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            "id": {"type": "string", "readOnly": true},
        }, "required": ["id"]}}}, "s": {"$ref": "#/components/schemas/Node"}});
        let (s, _) = convert(doc.clone(), "/s", Mode::Input);
        assert_eq!(s["$ref"], "#/$defs/Node");
        let node = &s["$defs"]["Node"];
        assert_eq!(
            node["properties"]["children"]["items"]["$ref"],
            "#/$defs/Node"
        );
        assert!(
            node["properties"].get("id").is_none(),
            "readOnly dropped from input"
        );
        assert_eq!(node["required"], json!([]));
        crate::schema::compile(&s).unwrap();
        let (out, _) = convert(doc, "/s", Mode::Output);
        assert_eq!(out["$defs"]["Node"]["properties"]["id"]["readOnly"], true);
    }

    #[test]
    fn strips_openapi_keywords() {
        let doc = json!({"s": {"type": "integer", "minimum": 1, "exclusiveMinimum": true, "example": 3,
            "discriminator": {"propertyName": "x"}, "xml": {"name": "n"}, "x-foo": 1,
            "externalDocs": {"url": "u"}, "items": [{"type": "string"}]}});
        let (s, _) = convert(doc, "/s", Mode::Input);
        assert_eq!(
            s,
            json!({"type": "integer", "exclusiveMinimum": 1, "examples": [3], "prefixItems": [{"type": "string"}]})
        );
    }

    #[test]
    fn patterns_the_validator_cannot_compile_are_dropped() {
        let doc = json!({"s": {"type": "string", "pattern": "([a-z]", "patternProperties": {"(": {}, "^a": {}}}});
        let (s, warnings) = convert(doc, "/s", Mode::Input);
        assert_eq!(
            s,
            json!({"type": "string", "patternProperties": {"^a": {}}})
        );
        assert_eq!(warnings.len(), 2);
        crate::schema::compile(&s).unwrap();
    }

    #[test]
    fn file_type_becomes_a_file_part() {
        let (s, _) = convert(
            json!({"s": {"type": "file", "description": "d"}}),
            "/s",
            Mode::Input,
        );
        assert_eq!(
            s["properties"]["contentBase64"]["contentEncoding"],
            "base64"
        );
        assert_eq!(s["description"], "d");
    }

    #[test]
    fn names_definitions_after_their_pointer_or_file() {
        assert_eq!(
            def_name(&Url::parse("file:///a/models/droplet.yml").unwrap()),
            "droplet"
        );
        assert_eq!(
            def_name(&Url::parse("file:///a/x.yml#/components/schemas/Pet%20Shop").unwrap()),
            "Pet_Shop"
        );
        assert_eq!(
            def_name(&Url::parse("file:///a/x.yml#/Pet/properties/tags/items").unwrap()),
            "tags"
        );
    }
}
