//! Reading `#[action(...)]` and the `#[serde(...)]` attributes that decide
//! serialised field names.
//!
//! Parsing only records what it finds and reports what it cannot read; the
//! checks that relate several attributes to each other live in `expand`.

use std::fmt;

use proc_macro2::Span;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitBool, LitStr, Path, Token, Type};

use crate::case::RenameRule;

/// Collects every error, so one build reports all problems at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn at(&mut self, span: Span, message: impl fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

const KNOWN: [&str; 7] = [
    "integration",
    "name",
    "method",
    "path",
    "output",
    "body",
    "idempotent",
];
const CONTAINER_KEYS: &str = "integration, name, method, path, output, body, idempotent";

/// The struct's `#[action(...)]` keys; `None` when absent.
#[derive(Default)]
pub(crate) struct Container {
    /// The first `#[action]` attribute, for errors about missing keys.
    pub(crate) attr: Option<Attribute>,
    /// Known keys that were written, even with a value that could not be read,
    /// so that such a key is not also reported as missing.
    pub(crate) written: Vec<&'static str>,
    pub(crate) integration: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) method: Option<LitStr>,
    pub(crate) path: Option<LitStr>,
    pub(crate) output: Option<Type>,
    pub(crate) body: Option<LitStr>,
    pub(crate) idempotent: Option<LitBool>,
}

impl Container {
    /// Reads every `#[action(...)]` of the struct; several are merged.
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut c = Self::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("action")) {
            c.attr.get_or_insert_with(|| attr.clone());
            let parsed = attr.parse_nested_meta(|meta| {
                let key = meta.path.clone();
                let Some(ident) = key.get_ident().map(ToString::to_string) else {
                    errors.spanned(&key, format!("unknown #[action] key; expected one of: {CONTAINER_KEYS}"));
                    return skip_value(meta.input);
                };
                if let Some(known) = KNOWN.iter().find(|k| **k == ident) {
                    c.written.push(known);
                }
                match ident.as_str() {
                    "integration" => {
                        let v = string(&meta, "integration = \"slack\"", errors)?;
                        set(&mut c.integration, &key, v, errors);
                    }
                    "name" => {
                        let v = string(&meta, "name = \"chat_postMessage\"", errors)?;
                        set(&mut c.name, &key, v, errors);
                    }
                    "method" => {
                        let v = string(&meta, "method = \"POST\"", errors)?;
                        set(&mut c.method, &key, v, errors);
                    }
                    "path" => {
                        let v = string(&meta, "path = \"/users/{id}\"", errors)?;
                        set(&mut c.path, &key, v, errors);
                    }
                    "body" => {
                        let v = string(&meta, "body = \"form\"", errors)?;
                        set(&mut c.body, &key, v, errors);
                    }
                    "output" => {
                        let v = if meta.input.peek(Token![=]) {
                            Some(meta.value()?.parse::<Type>()?)
                        } else {
                            errors.spanned(&key, "expected `output = Type`, the type a successful call returns");
                            None
                        };
                        set(&mut c.output, &key, v, errors);
                    }
                    "idempotent" => {
                        let v = boolean(&meta, errors)?;
                        set(&mut c.idempotent, &key, v, errors);
                    }
                    other => {
                        let hint = match other {
                            "query" | "header" | "cookie" => {
                                format!("; `{other}` belongs on a field: #[action({other})]")
                            }
                            _ => String::new(),
                        };
                        errors.spanned(
                            &key,
                            format!("unknown #[action] key `{other}`; expected one of: {CONTAINER_KEYS}{hint}"),
                        );
                        skip_value(meta.input)?;
                    }
                }
                Ok(())
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        c
    }
}

/// Where a field goes instead of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "path" => Self::Path,
            "query" => Self::Query,
            "header" => Self::Header,
            "cookie" => Self::Cookie,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }

    /// The variant of `waygate_core::model::ParamLocation`.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Path => "Path",
            Self::Query => "Query",
            Self::Header => "Header",
            Self::Cookie => "Cookie",
        }
    }
}

/// A field's `#[action(path | query | header | cookie [= "wire-name"])]`.
pub(crate) struct Binding {
    pub(crate) location: Location,
    /// The key as written, for error spans.
    pub(crate) key: Path,
    pub(crate) wire: Option<LitStr>,
}

/// Reads a field's `#[action(...)]`; `None` means the field goes to the body.
pub(crate) fn binding(field: &syn::Field, errors: &mut Errors) -> Option<Binding> {
    let mut found: Option<Binding> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("action")) {
        let parsed = attr.parse_nested_meta(|meta| {
            let key = meta.path.clone();
            let Some(location) = key.get_ident().and_then(|i| Location::parse(&i.to_string())) else {
                let shown = key.to_token_stream().to_string();
                errors.spanned(
                    &key,
                    format!(
                        "unknown #[action] key `{shown}` on a field; expected `path`, `query`, `header` or `cookie`, \
                         optionally with a wire name: header = \"X-Request-Id\""
                    ),
                );
                return skip_value(meta.input);
            };
            let wire = if meta.input.peek(Token![=]) {
                string(&meta, &format!("{} = \"wire-name\"", location.as_str()), errors)?
            } else {
                None
            };
            match &found {
                Some(first) => errors.spanned(
                    &key,
                    format!(
                        "this field is already bound to the {}; a field goes to one place only",
                        first.location.as_str()
                    ),
                ),
                None => found = Some(Binding { location, key, wire }),
            }
            Ok(())
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    found
}

/// What the field's `#[serde(...)]` attributes change about its serialisation.
#[derive(Default)]
pub(crate) struct SerdeField {
    /// `rename = "..."` or `rename(serialize = "...")`.
    pub(crate) rename: Option<String>,
    /// `skip` or `skip_serializing`: the field never reaches the request.
    pub(crate) skip: Option<Path>,
    /// `flatten`: the field's own fields take its place.
    pub(crate) flatten: Option<Path>,
}

/// Reads the field's serde attributes; whatever serde itself would reject is
/// ignored here, since serde reports it better.
pub(crate) fn serde_field(field: &syn::Field) -> SerdeField {
    let mut out = SerdeField::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if let Some(name) = serialize_name(&meta)? {
                    out.rename = Some(name);
                }
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                out.skip = Some(meta.path.clone());
            } else if meta.path.is_ident("flatten") {
                out.flatten = Some(meta.path.clone());
            } else {
                skip_value(meta.input)?;
            }
            Ok(())
        });
    }
    out
}

/// The struct's `#[serde(rename_all = "...")]` rule for serialisation.
pub(crate) fn serde_rename_all(attrs: &[Attribute]) -> Option<RenameRule> {
    let mut rule = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                if let Some(name) = serialize_name(&meta)? {
                    rule = RenameRule::parse(&name);
                }
            } else {
                skip_value(meta.input)?;
            }
            Ok(())
        });
    }
    rule
}

/// The serialisation name of `key = "x"` or `key(serialize = "x", deserialize = "y")`.
fn serialize_name(meta: &ParseNestedMeta) -> syn::Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse::<LitStr>()?.value()));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            name = Some(inner.value()?.parse::<LitStr>()?.value());
        } else {
            skip_value(inner.input)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// Skips `= value` or `(...)` after a key we do not use, up to the next `,`.
fn skip_value(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

/// Reads `= "text"`; a missing or non-string value is reported, not fatal.
fn string(
    meta: &ParseNestedMeta,
    example: &str,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        errors.spanned(&meta.path, format!("expected a value: {example}"));
        return Ok(None);
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(Some(s)),
        other => {
            errors.spanned(&other, format!("expected a string literal: {example}"));
            Ok(None)
        }
    }
}

/// Reads `= true` or `= false`.
fn boolean(meta: &ParseNestedMeta, errors: &mut Errors) -> syn::Result<Option<LitBool>> {
    if !meta.input.peek(Token![=]) {
        errors.spanned(&meta.path, "expected a value: idempotent = true");
        return Ok(None);
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(Some(b)),
        other => {
            errors.spanned(&other, "expected `true` or `false`: idempotent = true");
            Ok(None)
        }
    }
}

/// Stores a key's value, reporting a second occurrence of the key.
fn set<T>(slot: &mut Option<T>, key: &Path, value: Option<T>, errors: &mut Errors) {
    let Some(value) = value else { return };
    if slot.is_some() {
        let name = key.to_token_stream().to_string();
        errors.at(
            key.span(),
            format!("duplicate #[action] key `{name}`; it is already set"),
        );
    } else {
        *slot = Some(value);
    }
}
