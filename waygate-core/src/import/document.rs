//! A parsed document whose shared parts are read only when a `$ref` reaches them.
//!
//! An OpenAPI document is mostly parts that only `$ref`s reach: component schemas,
//! examples, Swagger's `definitions`, and extensions (`x-webhooks`) the importer
//! never reads. GitHub's description is 13 MB, of which the operations reach
//! about a third; building a `serde_json::Value` for the rest, and dropping it
//! again, was a third of the import's time (decision 115). So a JSON document is
//! parsed with those parts kept as checked text ([`RawValue`]: the parser still
//! reads every byte and refuses bad syntax), and each part is parsed the first
//! time a `$ref` walks into it. The parts ([`deferred`]):
//! - top-level `x-…` extensions and `webhooks`;
//! - the members of Swagger 2's `definitions`, `parameters` and `responses`;
//! - the members of every `components` map but `securitySchemes` (read by
//!   walking, not by `$ref`).
//!
//! A `$ref` to a node holding deferred parts (`#/components/schemas`, `#`)
//! gets the whole document, assembled once. YAML documents, and documents given
//! as values, have no deferred parts.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::{ImportError, ImportErrorKind};

/// A parsed document: its tree without the deferred parts, and those parts.
pub(super) struct Document {
    /// The tree; a deferred part is absent from its parent map.
    root: Rc<Value>,
    /// Deferred parts by JSON pointer (escaped: `~0`, `~1`).
    deferred: HashMap<String, Part>,
    /// The pointers of the nodes that hold deferred parts, `""` included.
    holders: HashSet<String>,
    /// The whole tree, deferred parts in place, once a `$ref` has needed it.
    whole: OnceCell<Rc<Value>>,
}

/// A part kept as text until first read.
struct Part {
    text: Box<RawValue>,
    /// Its depth in the document, for the nesting limit.
    depth: usize,
    parsed: OnceCell<Rc<Value>>,
}

/// Where a pointer leads: the tree to walk, and the pointer within it.
pub(super) struct Located {
    /// The root document, a deferred part, or the whole document.
    pub(super) tree: Rc<Value>,
    /// The rest of the pointer, from `tree`'s root.
    pub(super) pointer: String,
}

impl From<Value> for Document {
    /// A document with nothing deferred.
    fn from(root: Value) -> Self {
        Self {
            root: Rc::new(root),
            deferred: HashMap::new(),
            holders: HashSet::new(),
            whole: OnceCell::new(),
        }
    }
}

impl Document {
    /// Parses JSON text, deferring the parts the module describes.
    ///
    /// # Errors
    /// serde_json's error (syntax, or its nesting limit).
    pub(super) fn parse_json(text: &str) -> serde_json::Result<Self> {
        let mut deferred = HashMap::new();
        let mut de = serde_json::Deserializer::from_str(text);
        let root = Level {
            at: Position::Root,
            prefix: String::new(),
            deferred: &mut deferred,
        }
        .deserialize(&mut de)?;
        de.end()?;
        let mut holders = HashSet::new();
        for pointer in deferred.keys() {
            let mut end = pointer.len();
            while let Some(slash) = pointer[..end].rfind('/') {
                holders.insert(pointer[..slash].to_owned());
                end = slash;
            }
        }
        Ok(Self {
            root: Rc::new(root),
            deferred,
            holders,
            whole: OnceCell::new(),
        })
    }

    /// The tree without its deferred parts: what the importer walks from the top.
    pub(super) fn root(&self) -> &Rc<Value> {
        &self.root
    }

    /// The tree `pointer` (escaped, percent-decoded) leads into. A pointer into a
    /// deferred part is read in the part (parsed on first use); one to a node that
    /// holds deferred parts is read in the whole document when `whole` is set (a
    /// `$ref` needs the node complete), else in the root tree (the caller walked
    /// there itself and already holds that node).
    ///
    /// # Errors
    /// A part nested deeper than the [`limits`](crate::limits) allow.
    pub(super) fn locate(&self, pointer: &str, whole: bool) -> Result<Located, ImportError> {
        if !self.deferred.is_empty() {
            if let Some((part, rest)) = self.part_of(pointer) {
                return Ok(Located {
                    tree: part.value(&pointer[..pointer.len() - rest.len()])?,
                    pointer: rest.to_owned(),
                });
            }
            if whole && self.holders.contains(pointer) {
                return Ok(Located {
                    tree: self.whole()?,
                    pointer: pointer.to_owned(),
                });
            }
        }
        Ok(Located {
            tree: Rc::clone(&self.root),
            pointer: pointer.to_owned(),
        })
    }

    /// The deferred part `pointer` starts with, and the rest of the pointer.
    fn part_of<'p>(&self, pointer: &'p str) -> Option<(&Part, &'p str)> {
        // Parts sit at most three segments deep (`/components/schemas/Pet`);
        // `end` is the index of the `/` that starts the next segment.
        let mut end = 0;
        for _ in 0..3 {
            if end >= pointer.len() || !pointer[end..].starts_with('/') {
                return None;
            }
            let next = pointer[end + 1..]
                .find('/')
                .map_or(pointer.len(), |i| end + 1 + i);
            if let Some(part) = self.deferred.get(&pointer[..next]) {
                return Some((part, &pointer[next..]));
            }
            end = next;
        }
        None
    }

    /// The whole tree: the root's with every deferred part in its place.
    fn whole(&self) -> Result<Rc<Value>, ImportError> {
        if let Some(whole) = self.whole.get() {
            return Ok(Rc::clone(whole));
        }
        let mut tree = (*self.root).clone();
        // Shallow parts first, so a member's parent map is in place before it.
        let mut parts: Vec<(&String, &Part)> = self.deferred.iter().collect();
        parts.sort_by_key(|(_, part)| part.depth);
        for (pointer, part) in parts {
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            let key = key.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Object(map)) = tree.pointer_mut(parent) {
                map.insert(key, (*part.value(pointer)?).clone());
            }
        }
        let whole = Rc::new(tree);
        Ok(Rc::clone(self.whole.get_or_init(|| whole)))
    }
}

impl Part {
    /// The part's value, parsed on first use; `pointer` is where it sits.
    fn value(&self, pointer: &str) -> Result<Rc<Value>, ImportError> {
        if let Some(value) = self.parsed.get() {
            return Ok(Rc::clone(value));
        }
        let too_deep = |message: &str| {
            ImportError::new(ImportErrorKind::TooLarge, message.to_owned()).at(pointer)
        };
        // The text was checked when the document was read: only serde_json's
        // nesting limit can refuse it here.
        let value: Value =
            serde_json::from_str(self.text.get()).map_err(|e| too_deep(&e.to_string()))?;
        crate::limits::check_value_at(&value, self.depth).map_err(|e| too_deep(e.message()))?;
        Ok(Rc::clone(self.parsed.get_or_init(|| Rc::new(value))))
    }
}

/// Where in the document a map being read sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    /// The document's root.
    Root,
    /// `components`.
    Components,
    /// A map whose members are deferred.
    Shared,
}

/// Reads the value at `at`: a map there defers or descends as [`Position`] says;
/// anything else is read as a plain value.
struct Level<'d> {
    at: Position,
    /// The pointer of the value being read.
    prefix: String,
    deferred: &'d mut HashMap<String, Part>,
}

impl<'de> DeserializeSeed<'de> for Level<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Level<'_> {
    /// What the member `key` of the map at this level is.
    fn member(&self, key: &str) -> Member {
        match self.at {
            Position::Root if key.starts_with("x-") || key == "webhooks" => Member::Deferred,
            Position::Root if key == "components" => Member::Level(Position::Components),
            Position::Root if matches!(key, "definitions" | "parameters" | "responses") => {
                Member::Level(Position::Shared)
            }
            Position::Components if key != "securitySchemes" => Member::Level(Position::Shared),
            // A map that is itself a `$ref` (`schemas: {$ref: schemas.json}`) stays one.
            Position::Shared if key != "$ref" => Member::Deferred,
            _ => Member::Plain,
        }
    }

    /// The depth of this map's members in the document.
    fn depth(&self) -> usize {
        self.prefix.matches('/').count() + 1
    }
}

/// How a map member is read.
enum Member {
    /// Kept as text.
    Deferred,
    /// Read as the given level.
    Level(Position),
    /// Read as a plain value.
    Plain,
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let pointer = format!("{}/{}", self.prefix, crate::schema::pointer_token(&key));
            match self.member(&key) {
                Member::Deferred => {
                    // A key is always read the same way, so a repeated one
                    // replaces the earlier as serde_json would.
                    let text: Box<RawValue> = map.next_value()?;
                    self.deferred.insert(
                        pointer,
                        Part {
                            text,
                            depth: self.depth(),
                            parsed: OnceCell::new(),
                        },
                    );
                }
                Member::Level(at) => {
                    if out.contains_key(&key) {
                        // A repeated key replaces the earlier value, as serde_json does.
                        let inside = format!("{pointer}/");
                        self.deferred.retain(|p, _| !p.starts_with(&inside));
                    }
                    let value = map.next_value_seed(Level {
                        at,
                        prefix: pointer,
                        deferred: self.deferred,
                    })?;
                    out.insert(key, value);
                }
                Member::Plain => {
                    out.insert(key, map.next_value()?);
                }
            }
        }
        Ok(Value::Object(out))
    }

    // Anything but a map is an ordinary value.

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEXT: &str = r#"{
        "openapi": "3.0.3",
        "paths": {"/a": {"get": {"responses": {}}}},
        "x-webhooks": {"push": {"post": {}}},
        "components": {
            "schemas": {"Pet": {"type": "object", "properties": {"a/b": {"type": "string"}}},
                        "a/b~c": {"type": "integer"}},
            "examples": {"one": {"value": [1, 2]}},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
        },
        "definitions": {"Old": {"type": "string"}, "Old": {"type": "boolean"}}
    }"#;

    fn located(doc: &Document, pointer: &str, whole: bool) -> Value {
        let at = doc.locate(pointer, whole).unwrap();
        at.tree.pointer(&at.pointer).cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn deferred_parts_read_as_the_whole_document_does() {
        let full: Value = serde_json::from_str(TEXT).unwrap();
        let doc = Document::parse_json(TEXT).unwrap();
        assert_eq!(
            doc.root().pointer("/components/securitySchemes"),
            full.pointer("/components/securitySchemes"),
            "securitySchemes are walked, never deferred"
        );
        assert_eq!(doc.root()["components"]["schemas"], json!({}));
        assert!(doc.root().get("x-webhooks").is_none());
        for pointer in [
            "/components/schemas/Pet",
            "/components/schemas/Pet/properties/a~1b",
            "/components/schemas/a~1b~0c",
            "/components/examples/one/value/1",
            "/x-webhooks/push",
            "/definitions/Old",
            "/paths/~1a/get",
            "/components/schemas",
            "",
        ] {
            assert_eq!(
                located(&doc, pointer, true),
                full.pointer(pointer).cloned().unwrap(),
                "{pointer}"
            );
        }
        // A node that holds deferred parts, reached by walking: the tree the
        // caller walked, not the whole document.
        assert_eq!(located(&doc, "/components/schemas", false), json!({}));
        assert_eq!(located(&doc, "", true), full);
    }

    #[test]
    fn a_shared_map_that_is_a_ref_stays_one() {
        let text = r#"{"components": {"schemas": {"$ref": "schemas.json"}}}"#;
        let doc = Document::parse_json(text).unwrap();
        assert_eq!(
            doc.root()["components"]["schemas"],
            json!({"$ref": "schemas.json"})
        );
        assert!(doc.deferred.is_empty());
    }

    #[test]
    fn syntax_errors_in_deferred_parts_fail_the_parse() {
        let text = r#"{"components": {"schemas": {"Pet": {"type": }}}}"#;
        let e = Document::parse_json(text).err().unwrap();
        assert!(e.is_syntax(), "{e}");
    }

    #[test]
    fn a_deferred_part_keeps_the_nesting_limit_counted_from_the_top() {
        let nested = format!("{}{}", "[".repeat(126), "]".repeat(126));
        let text = format!(r#"{{"components": {{"schemas": {{"Deep": {nested}}}}}}}"#);
        let doc = Document::parse_json(&text).unwrap();
        let e = doc.locate("/components/schemas/Deep", true).err().unwrap();
        assert_eq!(e.kind(), ImportErrorKind::TooLarge);
        assert_eq!(e.pointer(), Some("/components/schemas/Deep"));
        // The same depth one level up is within the limit.
        let text = format!(r#"{{"definitions": {{"Deep": {nested}}}}}"#);
        let doc = Document::parse_json(&text).unwrap();
        assert!(doc.locate("/definitions/Deep", true).is_ok());
    }
}
