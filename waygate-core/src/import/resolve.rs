//! `$ref` resolution: documents loaded once and cached, JSON pointers with `~0`/`~1`
//! and percent escapes, refs relative to the file they are written in.
//!
//! Nothing here expands a schema: [`Docs::follow`] only walks a chain of refs to the
//! node it ends at. Recursive schemas stay references (see `schema`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;
use url::Url;

use super::document::Document;
use super::error::{ImportError, ImportErrorKind};
use super::load::{self, Loader};

/// A chain of refs longer than this is treated as a loop.
const MAX_HOPS: usize = 64;

/// The documents of one import, each parsed once.
pub(super) struct Docs<'l> {
    loader: &'l dyn Loader,
    cache: RefCell<HashMap<Url, Rc<Document>>>,
}

/// A node some ref chain ends at: the tree holding it (a document, or a part
/// of one read later: see `document`), and where in it.
pub(super) struct Node {
    doc: Rc<Value>,
    /// The node's URL, fragment included: the base for refs inside it.
    pub(super) url: Url,
    /// Its pointer within `doc`.
    pointer: String,
}

impl Node {
    /// The node itself.
    pub(super) fn value(&self) -> &Value {
        // `follow` checked that the pointer resolves.
        pointer(&self.doc, &self.pointer).unwrap_or(&Value::Null)
    }
}

impl<'l> Docs<'l> {
    /// An import rooted at `root` (already parsed), fetching other documents through `loader`.
    pub(super) fn new(loader: &'l dyn Loader, root_url: &Url, root: Document) -> (Self, Rc<Value>) {
        let tree = Rc::clone(root.root());
        let mut cache = HashMap::new();
        cache.insert(without_fragment(root_url), Rc::new(root));
        (
            Self {
                loader,
                cache: RefCell::new(cache),
            },
            tree,
        )
    }

    /// The parsed document at `url` (fragment ignored), loading it on first use;
    /// `at` is the ref that asks for it.
    fn document(&self, url: &Url, at: &At<'_>) -> Result<Rc<Document>, ImportError> {
        let key = without_fragment(url);
        if let Some(doc) = self.cache.borrow().get(&key) {
            return Ok(Rc::clone(doc));
        }
        let text = self.loader.load(&key).map_err(|e| {
            ImportError::new(
                ImportErrorKind::Load,
                format!("cannot load {}: {e}", display(&key)),
            )
            .in_file(at.file())
            .at(at.pointer())
            .caused_by(e)
        })?;
        let doc = Rc::new(load::parse(&text, file_name(&key))?);
        self.cache.borrow_mut().insert(key, Rc::clone(&doc));
        Ok(doc)
    }

    /// The node `reference` (a `$ref` value written at `at`) points to.
    ///
    /// A `$ref` met on the way is followed and the rest of the pointer walked from
    /// where it leads, as the JavaScript parsers do: with `paths: {$ref: paths.yml}`,
    /// `#/paths/~1pets` is `/~1pets` in `paths.yml`.
    pub(super) fn lookup(&self, at: &At<'_>, reference: &str) -> Result<Node, ImportError> {
        let mut url = at
            .url
            .join(reference)
            .map_err(|e| at.error(format!("bad $ref '{reference}': {e}")))?;
        for _ in 0..MAX_HOPS {
            let doc = self.document(&url, at)?;
            let pointer = fragment_pointer(&url);
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(at.error(format!(
                    "$ref '{reference}' uses an anchor; only JSON pointers are supported"
                )));
            }
            let located = doc
                .locate(&pointer, true)
                .map_err(|e| e.in_file(file_name(&url)))?;
            match walk(&located.tree, &located.pointer) {
                Walked::Found => {
                    return Ok(Node {
                        doc: located.tree,
                        url,
                        pointer: located.pointer,
                    });
                }
                Walked::Missing => {
                    return Err(at.error(format!(
                        "$ref '{reference}' points to nothing: {} has no node at #{pointer}",
                        display(&url)
                    )));
                }
                Walked::Through {
                    reference: inner,
                    rest,
                } => {
                    let mut next = url.join(&inner).map_err(|e| {
                        at.error(format!(
                            "bad $ref '{inner}' on the way to '{reference}': {e}"
                        ))
                    })?;
                    let joined = format!("{}{rest}", fragment_pointer(&next));
                    next.set_fragment(Some(&joined.replace('%', "%25")));
                    url = next;
                }
            }
        }
        Err(at.error(format!("$ref chain through '{reference}' never ends")))
    }

    /// The member `key` of the document root `root` (at `root_at`), following the
    /// `$ref` it may be (`paths: {$ref: paths.yml}`); `None` when it is absent.
    pub(super) fn section(
        &self,
        root_at: &At<'_>,
        root: &Value,
        key: &str,
    ) -> Result<Option<Node>, ImportError> {
        root.get(key)
            .map(|value| self.resolve(&root_at.key(key), value))
            .transpose()
    }

    /// The node `value` (found at `at`) stands for: the end of its ref chain, or itself.
    pub(super) fn resolve(&self, at: &At<'_>, value: &Value) -> Result<Node, ImportError> {
        if let Some(reference) = ref_of(value) {
            return self.follow_ref(at, reference);
        }
        let doc = self.document(at.url, at)?;
        let pointer = at.pointer();
        // The caller holds this node already: no need to assemble the whole
        // document when it holds deferred parts.
        let located = doc
            .locate(&pointer, false)
            .map_err(|e| e.in_file(at.file()))?;
        let mut url = at.url.clone();
        url.set_fragment(Some(&pointer.replace('%', "%25")));
        Ok(Node {
            doc: located.tree,
            url,
            pointer: located.pointer,
        })
    }

    /// The node at `url` (a URL some earlier lookup produced).
    pub(super) fn node(&self, url: &Url) -> Result<Node, ImportError> {
        self.lookup(&At::root(url), url.as_str())
    }

    /// Follows `value`'s chain of `$ref`s (if any) to the node it ends at.
    ///
    /// `at` is where `value` sits. Returns `None` when `value` is not a ref.
    pub(super) fn follow(&self, at: &At<'_>, value: &Value) -> Result<Option<Node>, ImportError> {
        match ref_of(value) {
            Some(reference) => self.follow_ref(at, reference).map(Some),
            None => Ok(None),
        }
    }

    /// Follows the chain of refs starting with `reference` (written at `at`).
    pub(super) fn follow_ref(&self, at: &At<'_>, reference: &str) -> Result<Node, ImportError> {
        let mut node = self.lookup(at, reference)?;
        for _ in 0..MAX_HOPS {
            let Some(next) = ref_of(node.value()).map(str::to_owned) else {
                return Ok(node);
            };
            node = self.lookup(&At::root(&node.url), &next)?;
        }
        Err(at.error(format!("$ref chain through '{reference}' never ends")))
    }
}

/// The `$ref` string of a reference object.
pub(super) fn ref_of(value: &Value) -> Option<&str> {
    value.as_object()?.get("$ref")?.as_str()
}

fn without_fragment(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}

/// The node at JSON `pointer` in `doc`, like [`Value::pointer`] but without
/// allocating for segments that need no unescaping (most of them).
pub(super) fn pointer<'v>(doc: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(doc);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(doc, child)
}

/// The member or item `segment` (a JSON pointer token, still escaped) of `node`.
fn child<'v>(node: &'v Value, segment: &str) -> Option<&'v Value> {
    let key: std::borrow::Cow<'_, str> = if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    };
    match node {
        Value::Object(map) => map.get(key.as_ref()),
        Value::Array(items) => {
            let valid = !key.is_empty()
                && key.bytes().all(|b| b.is_ascii_digit())
                && (key == "0" || !key.starts_with('0'));
            items.get(key.parse::<usize>().ok().filter(|_| valid)?)
        }
        _ => None,
    }
}

/// What walking a pointer through one document found.
enum Walked {
    /// A node, reached without passing a `$ref`.
    Found,
    /// Nothing.
    Missing,
    /// A `$ref` object on the way: its reference, and the pointer still to walk
    /// from where it leads (escaped, with its leading `/`).
    Through { reference: String, rest: String },
}

fn walk(doc: &Value, pointer: &str) -> Walked {
    if pointer.is_empty() {
        return Walked::Found;
    }
    let Some(tokens) = pointer.strip_prefix('/') else {
        return Walked::Missing;
    };
    let mut node = doc;
    let mut offset = 0;
    for segment in tokens.split('/') {
        match child(node, segment) {
            Some(next) => node = next,
            None => {
                return match ref_of(node) {
                    Some(reference) => Walked::Through {
                        reference: reference.to_owned(),
                        rest: format!("/{}", &tokens[offset..]),
                    },
                    None => Walked::Missing,
                };
            }
        }
        offset += segment.len() + 1;
    }
    Walked::Found
}

/// The JSON pointer in a URL's fragment, percent-decoded (`~0`/`~1` stay escaped,
/// as [`Value::pointer`] expects).
pub(super) fn fragment_pointer(url: &Url) -> String {
    let fragment = url.fragment().unwrap_or("");
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a node sits: a document URL (whose fragment is the pointer of the walk's
/// start) and the keys walked from there. Pointers are only spelled out for messages,
/// so walking a large document builds no strings.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    /// The document URL, the base of refs written at this node.
    pub(super) url: &'a Url,
    parent: Option<&'a At<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    None,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    /// The node at `url`'s fragment.
    pub(super) fn root(url: &'a Url) -> Self {
        Self {
            url,
            parent: None,
            segment: Segment::None,
        }
    }

    /// The member `key` of this node.
    pub(super) fn key(&'a self, key: &'a str) -> Self {
        Self {
            url: self.url,
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    /// The item `index` of this node.
    pub(super) fn index(&'a self, index: usize) -> Self {
        Self {
            url: self.url,
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// The JSON pointer of this node in its document.
    pub(super) fn pointer(&self) -> String {
        let mut segments = Vec::new();
        let mut at = Some(self);
        while let Some(node) = at {
            segments.push(node.segment);
            at = node.parent;
        }
        let mut pointer = fragment_pointer(self.url);
        for segment in segments.into_iter().rev() {
            match segment {
                Segment::None => {}
                Segment::Key(key) => {
                    pointer.push('/');
                    pointer.push_str(&crate::schema::pointer_token(key));
                }
                Segment::Index(i) => {
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                }
            }
        }
        pointer
    }

    /// The file name for messages (`None` for the in-memory root).
    pub(super) fn file(&self) -> Option<String> {
        file_name(self.url)
    }

    /// A reference error located here.
    pub(super) fn error(&self, message: impl Into<String>) -> ImportError {
        ImportError::new(ImportErrorKind::Reference, message)
            .in_file(self.file())
            .at(self.pointer())
    }
}

/// How a document is named in messages: a path for local files, the URL otherwise,
/// `None` for the in-memory root.
pub(super) fn file_name(url: &Url) -> Option<String> {
    match url.scheme() {
        "file" => url.to_file_path().ok().map(|p| p.display().to_string()),
        super::MEMORY_SCHEME => None,
        _ => Some(without_fragment(url).to_string()),
    }
}

fn display(url: &Url) -> String {
    match url.scheme() {
        super::MEMORY_SCHEME => url.path().trim_start_matches('/').to_owned(),
        _ => file_name(url).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn root() -> Url {
        Url::parse("file:///spec/root.yml").unwrap()
    }

    fn files(url: &Url) -> Result<String, load::LoadError> {
        match url.path() {
            "/spec/models/pet.yml" => {
                Ok("Pet: {type: object, properties: {tag: {$ref: '../common.yml#/Tag'}}}".into())
            }
            "/spec/common.yml" => Ok("Tag: {type: string}\nLoop: {$ref: '#/Loop'}".into()),
            _ => Err(format!("no file {url}").into()),
        }
    }

    #[test]
    fn resolves_escaped_pointers() {
        let doc = json!({"paths": {"/a/{b}": {"get": 1}}, "m~n": {"x": 2}, "sp ace": 3});
        let (docs, _) = Docs::new(&files, &root(), doc.into());
        let url = root();
        let at = At::root(&url);
        assert_eq!(
            docs.lookup(&at, "#/paths/~1a~1%7Bb%7D/get")
                .unwrap()
                .value(),
            &json!(1)
        );
        assert_eq!(docs.lookup(&at, "#/m~0n/x").unwrap().value(), &json!(2));
        assert_eq!(docs.lookup(&at, "#/sp%20ace").unwrap().value(), &json!(3));
    }

    #[test]
    fn resolves_across_files_relative_to_the_file_holding_the_ref() {
        let (docs, _) = Docs::new(&files, &root(), json!({}).into());
        let pet = docs
            .lookup(&At::root(&root()), "models/pet.yml#/Pet")
            .unwrap();
        let tag_ref = &pet.value()["properties"]["tag"];
        let start = At::root(&pet.url);
        let props = start.key("properties");
        let tag = docs.follow(&props.key("tag"), tag_ref).unwrap().unwrap();
        assert_eq!(tag.value(), &json!({"type": "string"}));
        assert_eq!(tag.url.as_str(), "file:///spec/common.yml#/Tag");
    }

    #[test]
    fn a_dangling_ref_names_file_and_pointer() {
        let (docs, root_doc) = Docs::new(
            &files,
            &root(),
            json!({"a": {"$ref": "common.yml#/Nope"}}).into(),
        );
        let url = root();
        let start = At::root(&url);
        let err = docs.follow(&start.key("a"), &root_doc["a"]).err().unwrap();
        assert_eq!(err.kind(), ImportErrorKind::Reference);
        assert_eq!(err.file(), Some("/spec/root.yml"));
        assert_eq!(err.pointer(), Some("/a"));
        assert!(
            err.message()
                .contains("/spec/common.yml has no node at #/Nope"),
            "{}",
            err.message()
        );
        let missing = docs.lookup(&start, "other.yml").err().unwrap();
        assert_eq!(missing.kind(), ImportErrorKind::Load);
    }

    #[test]
    fn a_ref_loop_is_an_error_not_a_hang() {
        let (docs, _) = Docs::new(&files, &root(), json!({}).into());
        let err = docs
            .follow(&At::root(&root()), &json!({"$ref": "common.yml#/Loop"}))
            .err()
            .unwrap();
        assert!(err.message().contains("never ends"), "{}", err.message());
    }
}
