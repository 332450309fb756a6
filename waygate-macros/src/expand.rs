//! The checks that relate attributes to each other and to the fields, and the
//! generated `impl Action`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::attr::{self, Binding, Container, Errors, Location};

/// The methods an action may use, as `waygate_core::model::check` accepts them.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A field that is sent outside the body.
struct Param {
    /// The field as written in Rust.
    ident: String,
    /// The serialised field name.
    field: String,
    location: Location,
    wire: String,
    /// Where errors about this binding point.
    span: Span,
}

/// A field as the serialised input sees it.
struct FieldName<'a> {
    ident: &'a syn::Ident,
    serialized: String,
    location: Option<Location>,
}

/// Expands `#[derive(Action)]`, or reports every problem found.
pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let c = Container::parse(&input.attrs, &mut errors);
    let fields = named_fields(input, &mut errors);
    if !input.generics.params.is_empty() {
        errors.spanned(&input.generics, GENERICS);
    } else if let Some(clause) = &input.generics.where_clause {
        errors.spanned(clause, GENERICS);
    }
    required(input, &c, &mut errors);

    if let Some(lit) = &c.integration {
        let v = lit.value();
        if v.is_empty()
            || v.len() > 64
            || !v
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            errors.spanned(
                lit,
                format!("integration slug {v:?} must be 1 to 64 characters of a-z, 0-9 and '-'"),
            );
        }
    }
    if let Some(lit) = &c.name {
        let v = lit.value();
        if v.is_empty()
            || v.len() > 128
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            errors.spanned(
                lit,
                format!("action name {v:?} must be 1 to 128 characters of letters, digits, '_', '-' and '.'"),
            );
        }
    }
    let method = c.method.as_ref().and_then(|lit| {
        let upper = lit.value().to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) {
            Some(LitStr::new(&upper, lit.span()))
        } else {
            errors.spanned(
                lit,
                format!(
                    "unknown HTTP method {:?}; expected one of {}",
                    lit.value(),
                    METHODS.join(", ")
                ),
            );
            None
        }
    });
    let placeholders = c.path.as_ref().and_then(|lit| {
        let v = lit.value();
        if !v.starts_with('/') {
            errors.spanned(
                lit,
                format!("path {v:?} must start with '/', like \"/users/{{id}}\""),
            );
        }
        match placeholders(&v) {
            Ok(names) => Some(names),
            Err(e) => {
                errors.spanned(lit, format!("path {v:?} has {e}"));
                None
            }
        }
    });
    let body = c.body.as_ref().and_then(|lit| match lit.value().as_str() {
        "json" => Some(format_ident!("Json")),
        "form" => Some(format_ident!("Form")),
        "multipart" => Some(format_ident!("Multipart")),
        other => {
            errors.spanned(
                lit,
                format!(
                    "unknown body encoding {other:?}; expected \"json\", \"form\" or \"multipart\""
                ),
            );
            None
        }
    });

    let (names, params) = bindings(input, &fields, &mut errors);
    if let (Some(path), Some(placeholders)) = (&c.path, &placeholders) {
        check_path(path, placeholders, &names, &params, &mut errors);
    }
    errors.finish()?;

    // Every required key is present: `required` reported otherwise.
    let (Some(integration), Some(name), Some(method), Some(path)) =
        (&c.integration, &c.name, method, &c.path)
    else {
        unreachable!("missing #[action] keys are reported above");
    };
    let output = match &c.output {
        Some(ty) => ty.to_token_stream(),
        None => quote!(::waygate_core::typed::AnyOutput),
    };
    let params = params.iter().map(|p| {
        let (field, wire) = (&p.field, &p.wire);
        let location = format_ident!("{}", p.location.variant());
        quote!((#field, ::waygate_core::model::ParamLocation::#location, #wire))
    });
    let body = match body {
        Some(encoding) => {
            quote!(::core::option::Option::Some(::waygate_core::model::BodyEncoding::#encoding))
        }
        None => quote!(::core::option::Option::None),
    };
    let idempotent = match &c.idempotent {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let ident = &input.ident;
    Ok(quote! {
        #[automatically_derived]
        impl ::waygate_core::Action for #ident {
            type Output = #output;
            const INTEGRATION: &'static str = #integration;
            const NAME: &'static str = #name;
            fn definition() -> ::waygate_core::ActionDef {
                ::waygate_core::typed::definition::<Self, #output>(::waygate_core::typed::TypedSpec {
                    name: #name,
                    method: #method,
                    path: #path,
                    params: &[#(#params),*],
                    body: #body,
                    idempotent: #idempotent,
                })
            }
        }
    })
}

const GENERICS: &str =
    "#[derive(Action)] does not support generic parameters: an action's input is one concrete type";

const NAMED_FIELDS: &str =
    "#[derive(Action)] needs a struct with named fields: they are the action's input";

fn named_fields<'a>(input: &'a DeriveInput, errors: &mut Errors) -> Vec<&'a syn::Field> {
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => return f.named.iter().collect(),
            Fields::Unnamed(f) => errors.spanned(
                f,
                format!("{NAMED_FIELDS}; a tuple struct's fields have no names"),
            ),
            Fields::Unit => errors.spanned(
                &input.ident,
                format!(
                    "{NAMED_FIELDS}; for an action without input write `struct {} {{}}`",
                    input.ident
                ),
            ),
        },
        Data::Enum(e) => errors.spanned(e.enum_token, format!("{NAMED_FIELDS}, not an enum")),
        Data::Union(u) => errors.spanned(u.union_token, format!("{NAMED_FIELDS}, not a union")),
    }
    Vec::new()
}

/// Reports the required container keys that are missing.
fn required(input: &DeriveInput, c: &Container, errors: &mut Errors) {
    let Some(attr) = &c.attr else {
        errors.spanned(
            &input.ident,
            "#[derive(Action)] needs #[action(integration = \"...\", name = \"...\", method = \"...\", \
             path = \"/...\")] on the struct",
        );
        return;
    };
    let missing: Vec<String> = ["integration", "name", "method", "path"]
        .into_iter()
        .filter(|key| !c.written.contains(key))
        .map(|key| format!("`{key}`"))
        .collect();
    if !missing.is_empty() {
        errors.spanned(
            attr,
            format!(
                "#[action] is missing {}; it needs integration = \"...\", name = \"...\", method = \"...\" \
                 and path = \"/...\"",
                and_list(&missing)
            ),
        );
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Reads every field's serialised name and binding.
fn bindings<'a>(
    input: &DeriveInput,
    fields: &[&'a syn::Field],
    errors: &mut Errors,
) -> (Vec<FieldName<'a>>, Vec<Param>) {
    let rename_all = attr::serde_rename_all(&input.attrs);
    let mut names = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    for field in fields {
        let Some(ident) = &field.ident else { continue };
        let serde = attr::serde_field(field);
        let binding = attr::binding(field, errors);
        let serialized = serde.rename.clone().unwrap_or_else(|| {
            let raw = ident.unraw().to_string();
            rename_all.map_or_else(|| raw.clone(), |rule| rule.apply(&raw))
        });
        names.push(FieldName {
            ident,
            serialized: serialized.clone(),
            location: binding.as_ref().map(|b| b.location),
        });
        let Some(Binding {
            location,
            key,
            wire,
        }) = binding
        else {
            continue;
        };
        let loc = location.as_str();
        if let Some(skip) = &serde.skip {
            let skip = skip.to_token_stream();
            errors.spanned(
                &key,
                format!("field `{ident}` has #[serde({skip})], so it never reaches the request and cannot be a {loc} parameter"),
            );
        }
        if serde.flatten.is_some() {
            errors.spanned(
                &key,
                format!(
                    "a #[serde(flatten)] field cannot be a {loc} parameter: it is not one value"
                ),
            );
        }
        let (wire, span) = match wire {
            Some(lit) if location == Location::Path => {
                errors.spanned(
                    &lit,
                    format!(
                        "a path parameter is named by its `{{placeholder}}`, not by a wire name; remove `= {:?}` \
                         and use #[serde(rename = {:?})] if the field's name differs",
                        lit.value(),
                        lit.value()
                    ),
                );
                (serialized.clone(), key.span())
            }
            Some(lit) => (lit.value(), lit.span()),
            None => (serialized.clone(), key.span()),
        };
        if wire.is_empty() {
            errors.at(span, format!("the {loc} name must not be empty"));
        } else if matches!(location, Location::Header | Location::Cookie) && !is_token(&wire) {
            errors.at(
                span,
                format!(
                    "{wire:?} is not a valid {loc} name: use letters, digits and !#$%&'*+-.^_`|~"
                ),
            );
        }
        let same = |p: &Param| {
            p.location == location
                && if location == Location::Header {
                    p.wire.eq_ignore_ascii_case(&wire)
                } else {
                    p.wire == wire
                }
        };
        if let Some(first) = params.iter().find(|p| same(p)) {
            errors.at(
                span,
                format!(
                    "fields `{}` and `{ident}` both send the {loc} parameter `{wire}`",
                    first.ident
                ),
            );
        }
        // Recorded even when wrong, so that the path check does not repeat the error.
        params.push(Param {
            ident: ident.to_string(),
            field: serialized,
            location,
            wire,
            span,
        });
    }
    (names, params)
}

/// Relates the path's placeholders to the fields marked `#[action(path)]`.
fn check_path(
    path: &LitStr,
    placeholders: &[String],
    names: &[FieldName],
    params: &[Param],
    errors: &mut Errors,
) {
    for (i, placeholder) in placeholders.iter().enumerate() {
        if placeholders[..i].contains(placeholder) {
            continue;
        }
        let bound = params
            .iter()
            .any(|p| p.location == Location::Path && p.field == *placeholder);
        if bound {
            continue;
        }
        let hint = match names.iter().find(|n| n.serialized == *placeholder) {
            Some(FieldName {
                ident,
                location: None,
                ..
            }) => format!("; mark field `{ident}` with #[action(path)]"),
            Some(FieldName {
                ident,
                location: Some(l),
                ..
            }) => {
                format!("; field `{ident}` is bound to the {} instead", l.as_str())
            }
            None => match names
                .iter()
                .find(|n| n.ident.unraw() == placeholder.as_str())
            {
                Some(n) => format!("; field `{}` is serialized as `{}`", n.ident, n.serialized),
                None => String::new(),
            },
        };
        errors.spanned(
            path,
            format!("placeholder `{{{placeholder}}}` has no #[action(path)] field serialized as `{placeholder}`{hint}"),
        );
    }
    for p in params.iter().filter(|p| p.location == Location::Path) {
        if !placeholders.contains(&p.field) {
            let serialized = if p.ident == p.field {
                String::new()
            } else {
                format!(" (serialized as `{}`)", p.field)
            };
            errors.at(
                p.span,
                format!(
                    "field `{}`{serialized} is marked #[action(path)], but path {:?} has no `{{{}}}` placeholder",
                    p.ident,
                    path.value(),
                    p.field
                ),
            );
        }
    }
}

/// The `{placeholder}` names of a path template, or what is wrong with its braces.
/// Follows `waygate_core::model::PathTemplate::parse`.
fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut open: Option<usize> = None;
    for (i, ch) in template.char_indices() {
        match (ch, open) {
            ('{', None) => open = Some(i),
            ('{', Some(at)) => {
                return Err(format!(
                    "unbalanced braces: '{{' at byte {at} is not closed before the next '{{'"
                ));
            }
            ('}', None) => {
                return Err(format!(
                    "unbalanced braces: '}}' at byte {i} closes nothing"
                ));
            }
            ('}', Some(at)) => {
                let name = &template[at + 1..i];
                if name.is_empty() {
                    return Err(format!("an empty placeholder '{{}}' at byte {at}"));
                }
                names.push(name.to_owned());
                open = None;
            }
            _ => {}
        }
    }
    match open {
        Some(at) => Err(format!(
            "unbalanced braces: '{{' at byte {at} is not closed"
        )),
        None => Ok(names),
    }
}

/// Whether `s` is an HTTP token (RFC 9110 §5.6.2), as header and cookie names are.
fn is_token(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::{is_token, placeholders};

    #[test]
    fn finds_placeholders_and_broken_braces() {
        assert_eq!(
            placeholders("/v1/{owner}/repos/{repo}.json").unwrap(),
            ["owner", "repo"]
        );
        assert_eq!(placeholders("/plain").unwrap(), Vec::<String>::new());
        assert_eq!(
            placeholders("/a/{id").unwrap_err(),
            "unbalanced braces: '{' at byte 3 is not closed"
        );
        assert_eq!(
            placeholders("/a/id}").unwrap_err(),
            "unbalanced braces: '}' at byte 5 closes nothing"
        );
        assert_eq!(
            placeholders("/a/{}").unwrap_err(),
            "an empty placeholder '{}' at byte 3"
        );
        assert_eq!(
            placeholders("/a/{b{c}}").unwrap_err(),
            "unbalanced braces: '{' at byte 3 is not closed before the next '{'"
        );
    }

    #[test]
    fn checks_header_names() {
        assert!(is_token("X-Slack-User"));
        assert!(!is_token("X Slack"));
        assert!(!is_token("Ünicode"));
    }
}
