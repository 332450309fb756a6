//! OpenAPI and Swagger import: a description document → an [`IntegrationDef`].
//!
//! Reads Swagger 2.0, OpenAPI 3.0, 3.1 and 3.2 (as far as it is compatible), in JSON
//! or YAML, as a `serde_json::Value` with its own `$ref` resolver: local refs
//! (`#/…`, with `~0`/`~1` and percent escapes), refs to other files relative to the
//! file they are written in (also whole path items and operations, as DigitalOcean
//! does), and refs inside referenced fragments. A `$ref` stands anywhere, as the
//! JavaScript parsers allow: a whole section (`paths`, `components`, one of its maps,
//! `info`, `servers`, `security`) may be one, and a pointer that passes through one
//! (`#/components/schemas/Pet` with `components: {$ref: components.yml}`) continues
//! where it leads. Only the parts an action needs are followed, so files nothing
//! refers to (code samples, examples) are never read. A document without operations
//! imports with a warning saying so, never silently empty.
//!
//! # What becomes what
//! - Every operation (`paths`, not `webhooks` or callbacks) is one action. Its slug is
//!   the `operationId` limited to `[A-Za-z0-9_.-]`, else method and path
//!   (`get_users_id`), made unique with `_2`, `_3`…
//! - Path, query, header and cookie parameters (path-level ones overridden by
//!   operation-level ones of the same name and location) and the request body form one
//!   input schema: an object body's properties sit next to the parameters; any other
//!   body is the input field `body` ([`BodySpec::field`](crate::model::BodySpec)).
//!   A parameter whose name a body property already has is renamed
//!   `{location}_{name}` (`query_limit`) and keeps its name on the wire (`wireName`);
//!   a renamed path parameter renames its placeholder instead.
//! - The output schema is the first 2xx response's JSON schema (`default` when there
//!   is no 2xx response). Schemas are converted as the `schema` module describes;
//!   shared ones end up in each schema's own `$defs`.
//! - Parameters that carry the credential (an API key's own parameter; `token` or
//!   `access_token` next to OAuth2 or bearer auth) are not inputs. Required ones the
//!   scheme does not place itself are kept as credential parameters
//!   ([`Parameter::credential`](crate::model::Parameter)), filled from the credential.
//! - Auth, pagination hints and wishlist ranking: see the `auth`, `pagination` and
//!   `wishlist` modules. Every usable security scheme is kept: the default as
//!   `auth`, the others in `authSchemes`; an action accepting only some of them
//!   lists them in its `authSchemes`. Actions record `operationId`, `scopes`, and
//!   `security` when no single imported scheme meets it, in `metadata`.
//!
//! # Base URLs
//! The default server is the document's first server (variable defaults
//! substituted) or Swagger's `schemes`/`host`/`basePath`; a document without one
//! takes the server most of its paths or operations name (Twilio names one per
//! path). It becomes the integration's base URL unless [`ImportOptions::base_url`]
//! replaces it. An action whose own server differs from the default gets it as its
//! own `baseUrl` ([`ActionDef::base_url`](crate::model::ActionDef)), and the
//! executor sends it there. A relative server URL resolves against the document's
//! own URL when it was fetched over http(s); otherwise no base URL is set (a
//! definition needs an absolute one) and a warning gives the relative URL.
//!
//! # Loading other documents
//! [`from_file`] reads referenced files from disk ([`FileLoader`]). [`from_str`] and
//! [`from_value`] resolve only refs inside the document ([`NoLoader`]): their text may
//! come from an untrusted caller. [`from_source`] takes any [`Loader`]; [`from_url`]
//! fetches a description and the documents its refs point to over HTTP with an
//! [`HttpLoader`] (outbound URL policy, limits on documents, bytes and time).
//!
//! # Modules
//! `load` (parsing, loaders), `http` (the HTTP loader), `resolve` (refs), `schema` (schema conversion),
//! `operation` (operations → actions), `auth`, `servers`, `pagination`, `wishlist`,
//! `naming` (slugs), `tags` (suggested tags: [`suggest_tags`]), `error`.

mod auth;
mod document;
mod error;
mod http;
mod load;
mod naming;
mod operation;
mod pagination;
mod resolve;
mod schema;
mod servers;
mod tags;
mod wishlist;

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use url::Url;

pub use error::{ImportError, ImportErrorKind};
pub use http::{HttpLimits, HttpLoader, from_url};
pub use load::{FileLoader, LoadError, Loader, NoLoader};
pub use tags::suggest_tags;

use crate::model::IntegrationDef;
use resolve::{At, Docs};
use servers::Server;

/// The URL scheme of documents given as text or value, which have no location.
const MEMORY_SCHEME: &str = "memory";

/// Choices a caller makes about an import; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The integration's slug; from the document's title when unset.
    pub slug: Option<String>,
    /// The integration's name; the document's title when unset.
    pub name: Option<String>,
    /// The base URL, instead of the document's servers.
    pub base_url: Option<String>,
    /// Phrases naming the actions the caller wants most ("send message", "list users");
    /// the best match of each is listed first and flagged `metadata.wished = true`.
    pub wishlist: Vec<String>,
    /// Keep only the actions with these slugs.
    pub select: Option<Vec<String>>,
}

/// An imported integration and what the importer noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportResult {
    /// The integration, one action per operation (or per selected operation).
    pub integration: IntegrationDef,
    /// Things that were approximated, dropped or guessed.
    pub warnings: Vec<ImportWarning>,
    /// The slugs of the actions the wishlist matched, in wishlist order.
    pub wished: Vec<String>,
}

/// Something the importer approximated, dropped or guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportWarning {
    /// The file it concerns; `None` for the root document given as text or value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// JSON pointer of the node inside that file.
    pub pointer: String,
    /// What happened.
    pub message: String,
}

impl ImportWarning {
    fn at(at: &At<'_>, message: impl Into<String>) -> Self {
        Self {
            file: at.file(),
            pointer: at.pointer(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
        }
        write!(f, "#{}: {}", self.pointer, self.message)
    }
}

/// Imports a document given as JSON or YAML text; only refs inside it resolve.
///
/// ```
/// use waygate_core::import::{self, ImportOptions};
///
/// let spec = r#"
/// openapi: 3.0.3
/// info: {title: Pet Store, version: "1.0"}
/// servers: [{url: "https://pets.example.com/v1"}]
/// paths:
///   /pets/{id}:
///     get:
///       operationId: getPet
///       parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
///       responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
/// "#;
/// let result = import::from_str(spec, &ImportOptions::default()).unwrap();
/// assert_eq!(result.integration.slug, "pet-store");
/// assert_eq!(result.integration.actions[0].slug, "getPet");
/// waygate_core::model::check(&result.integration).unwrap();
/// ```
///
/// # Errors
/// Invalid JSON/YAML (with line and column), a document that is not OpenAPI or
/// Swagger, or a `$ref` that does not resolve (with its file and JSON pointer).
pub fn from_str(text: &str, options: &ImportOptions) -> Result<ImportResult, ImportError> {
    let url = memory_url();
    let root = load::parse(text, None)?;
    import(&url, root, &NoLoader, options)
}

/// Imports a document already parsed; only refs inside it resolve.
///
/// # Errors
/// As [`from_str`], without syntax errors.
pub fn from_value(value: Value, options: &ImportOptions) -> Result<ImportResult, ImportError> {
    crate::limits::check_value(&value)
        .map_err(|e| ImportError::new(ImportErrorKind::TooLarge, e.message()))?;
    import(&memory_url(), value.into(), &NoLoader, options)
}

/// Imports a file, reading the files its refs point to relative to each referring file.
///
/// # Errors
/// As [`from_str`], and a file that cannot be read.
pub fn from_file(
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<ImportResult, ImportError> {
    let path = path.as_ref();
    let fail = |message: String| {
        ImportError::new(ImportErrorKind::Load, message).in_file(Some(path.display().to_string()))
    };
    let absolute =
        std::fs::canonicalize(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let url = Url::from_file_path(&absolute).map_err(|()| fail("not a file path".into()))?;
    let text = std::fs::read_to_string(&absolute)
        .map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let root = load::parse(&text, resolve::file_name(&url))?;
    import(&url, root, &FileLoader, options)
}

/// Imports the document `text` found at `url`, fetching the documents its refs point
/// to (resolved against `url`) through `loader`.
///
/// # Errors
/// As [`from_str`], and whatever `loader` refuses or fails to load.
pub fn from_source(
    text: &str,
    url: &Url,
    loader: &dyn Loader,
    options: &ImportOptions,
) -> Result<ImportResult, ImportError> {
    let root = load::parse(text, resolve::file_name(url))?;
    import(url, root, loader, options)
}

fn memory_url() -> Url {
    Url::parse("memory:/document").unwrap_or_else(|_| unreachable!("a valid URL literal"))
}

fn import(
    url: &Url,
    root: document::Document,
    loader: &dyn Loader,
    options: &ImportOptions,
) -> Result<ImportResult, ImportError> {
    let swagger = version(root.root(), url)?;
    let (docs, root) = Docs::new(loader, url, root);
    let root_at = At::root(url);
    let mut warnings = Vec::new();

    let document_server = if swagger {
        servers::swagger(&root, url)
    } else {
        docs.section(&root_at, &root, "servers")?
            .and_then(|s| servers::first(s.value(), url))
    };
    let mut base_url = options.base_url.clone().or_else(|| match &document_server {
        Some(Server::Absolute(u)) => Some(u.clone()),
        _ => None,
    });
    if let (None, Some(Server::Relative(relative))) = (&base_url, &document_server) {
        warnings.push(ImportWarning::at(
            &root_at,
            format!("server URL '{relative}' is relative and the document has no http(s) location; no base URL set"),
        ));
    }

    let auth = auth::import(&docs, &root_at, &root, base_url.as_deref(), &mut warnings)?;
    let mut registry = schema::Registry::default();
    let mut walk = operation::Walk {
        docs: &docs,
        registry: &mut registry,
        warnings: &mut warnings,
        root: &root,
        swagger,
        auth: &auth,
        credential_params: 0,
        other_security: 0,
    };
    let imported = walk.operations(&root_at)?;
    if imported.is_empty() {
        // Never a silent empty import: say so, and why it may be.
        warnings.push(ImportWarning::at(
            &root_at.key("paths"),
            "no operation found under 'paths' (webhooks, callbacks and operations other than the eight classic methods are not imported): the integration has no actions",
        ));
    }

    // The default server is the document's own choice, whatever the caller
    // overrides it with: an action whose server is that default follows the
    // override, one with another server keeps its own (decision 67).
    let default_server = match &document_server {
        Some(Server::Absolute(u)) => Some(u.clone()),
        Some(Server::Relative(_)) => None,
        None => servers::most_common(imported.iter().filter_map(|i| match &i.server {
            Some(Server::Absolute(u)) => Some(u.as_str()),
            _ => None,
        })),
    };
    if base_url.is_none() {
        base_url.clone_from(&default_server);
    }
    let mut actions = Vec::with_capacity(imported.len());
    for mut i in imported {
        match i.server {
            Some(Server::Absolute(u)) if default_server.as_deref() != Some(u.as_str()) => {
                i.action.base_url = Some(u);
            }
            Some(Server::Relative(u)) => warnings.push(ImportWarning {
                file: resolve::file_name(url),
                pointer: String::new(),
                message: format!(
                    "action '{}' names the server '{u}', which is not an absolute URL; ignored",
                    i.action.slug
                ),
            }),
            _ => {}
        }
        actions.push(i.action);
    }

    if let Some(select) = &options.select {
        for missing in select
            .iter()
            .filter(|s| !actions.iter().any(|a| &&a.slug == s))
        {
            warnings.push(ImportWarning {
                file: None,
                pointer: String::new(),
                message: format!("selected action '{missing}' does not exist"),
            });
        }
        actions.retain(|a| select.contains(&a.slug));
    }
    let wished = wish(&options.wishlist, &mut actions);

    let info = docs.section(&root_at, &root, "info")?;
    let text = |key: &str| {
        info.as_ref()
            .and_then(|i| i.value().get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let title = text("title").unwrap_or("API");
    let mut integration = IntegrationDef::new(
        options
            .slug
            .clone()
            .unwrap_or_else(|| naming::integration_slug(title)),
        options.name.clone().unwrap_or_else(|| title.to_owned()),
    );
    integration.description = text("description").map(str::to_owned);
    integration.version = text("version").map(str::to_owned);
    integration.base_url = base_url;
    integration.auth_schemes = auth.schemes();
    integration.auth = auth.spec;
    integration.actions = actions;
    Ok(ImportResult {
        integration,
        warnings,
        wished,
    })
}

/// Whether the document is Swagger 2.0 (else OpenAPI 3).
fn version(root: &Value, url: &Url) -> Result<bool, ImportError> {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(v) = root.get("swagger").and_then(as_text) {
        if v.starts_with('2') {
            return Ok(true);
        }
        return Err(not_openapi(
            url,
            format!("unsupported Swagger version '{v}'"),
        ));
    }
    match root.get("openapi").and_then(as_text) {
        Some(v) if v.starts_with('3') => Ok(false),
        Some(v) => Err(not_openapi(
            url,
            format!("unsupported OpenAPI version '{v}'"),
        )),
        None => Err(not_openapi(
            url,
            "neither an 'openapi' nor a 'swagger' version field".into(),
        )),
    }
}

fn not_openapi(url: &Url, message: String) -> ImportError {
    ImportError::new(ImportErrorKind::NotOpenApi, message)
        .in_file(resolve::file_name(url))
        .at("")
}

/// Ranks wished actions first (in wishlist order), flags them, returns their slugs.
pub fn wish(wishlist: &[String], actions: &mut Vec<crate::model::ActionDef>) -> Vec<String> {
    let picked: Vec<usize> = wish_matches(wishlist, actions)
        .into_iter()
        .flatten()
        .collect();
    put_wished_first(&picked, actions)
}

/// The lexical match for each wishlist phrase: the index of the action that fits
/// it best, if any does.
pub fn wish_matches(
    wishlist: &[String],
    actions: &[crate::model::ActionDef],
) -> Vec<Option<usize>> {
    wishlist::rank(wishlist, actions)
}

/// Moves the actions at `picked` (indexes into `actions`, in the order wanted;
/// repeats and indexes out of range are ignored) first, flags them
/// `metadata.wished`, and returns their slugs.
pub fn put_wished_first(
    picked: &[usize],
    actions: &mut Vec<crate::model::ActionDef>,
) -> Vec<String> {
    let mut unique: Vec<usize> = Vec::with_capacity(picked.len());
    for &index in picked {
        if index < actions.len() && !unique.contains(&index) {
            unique.push(index);
        }
    }
    let picked = unique;
    let mut wished_actions = Vec::with_capacity(picked.len());
    let mut rest = Vec::with_capacity(actions.len());
    let mut slots: Vec<Option<crate::model::ActionDef>> = actions.drain(..).map(Some).collect();
    for &i in &picked {
        if let Some(mut a) = slots[i].take() {
            a.metadata.insert("wished".into(), Value::Bool(true));
            wished_actions.push(a);
        }
    }
    rest.extend(slots.into_iter().flatten());
    let slugs = wished_actions.iter().map(|a| a.slug.clone()).collect();
    actions.extend(wished_actions);
    actions.extend(rest);
    slugs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refuses_what_is_not_openapi() {
        let err = from_value(json!({"info": {}}), &ImportOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ImportErrorKind::NotOpenApi);
        let err = from_str("openapi: 4.0.0\npaths: {}", &ImportOptions::default()).unwrap_err();
        assert!(err.message().contains("'4.0.0'"), "{err}");
        let err = from_str("openapi: 3.0.0\npaths: [\n", &ImportOptions::default()).unwrap_err();
        assert_eq!(
            (err.kind(), err.line().is_some()),
            (ImportErrorKind::Syntax, true)
        );
    }

    #[test]
    fn a_dangling_ref_fails_naming_where_it_is() {
        let doc = json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {"get": {
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Gone"}}}}}}}}});
        let err = from_value(doc, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ImportErrorKind::Reference);
        assert_eq!(err.file(), None);
        assert_eq!(
            err.pointer(),
            Some("/paths/~1a/get/responses/200/content/application~1json/schema")
        );
    }

    /// A document whose every top-level section is a `$ref` to another file, and
    /// sections inside those that are refs again.
    fn sections(url: &Url) -> Result<String, LoadError> {
        Ok(match url.path() {
            "/spec/info.yml" => "title: Split Pets\nversion: '2'\n",
            "/spec/servers.yml" => "- url: https://pets.example.com/v2\n",
            "/spec/tags.yml" => "- name: pets\n",
            "/spec/components.yml" => "schemas: {$ref: 'schemas.yml'}\nsecuritySchemes:\n  token: {type: http, scheme: bearer}\n",
            "/spec/schemas.yml" => "Pet: {type: object, properties: {name: {type: string}}}\nOwner: {type: object, properties: {pets: {type: array, items: {$ref: '#/Pet'}}}}\n",
            "/spec/paths/index.yml" => "/pets: {$ref: 'pets.yml'}\n/owners:\n  get:\n    operationId: listOwners\n    responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '../root.yml#/components/schemas/Owner'}}}}}\n",
            "/spec/paths/pets.yml" => "get:\n  operationId: listPets\n  responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '../root.yml#/components/schemas/Pet'}}}}}}\n",
            other => return Err(format!("no {other}").into()),
        }
        .to_owned())
    }

    const SPLIT_ROOT: &str = "openapi: 3.0.3\ninfo: {$ref: 'info.yml'}\nservers: {$ref: 'servers.yml'}\ntags: {$ref: 'tags.yml'}\npaths: {$ref: 'paths/index.yml'}\ncomponents: {$ref: 'components.yml'}\n";

    #[test]
    fn refs_resolve_wherever_they_stand() {
        let url = Url::parse("https://example.com/spec/root.yml").unwrap();
        let result = from_source(SPLIT_ROOT, &url, &sections, &ImportOptions::default()).unwrap();
        let def = result.integration;
        assert_eq!(
            (def.name.as_str(), def.version.as_deref()),
            ("Split Pets", Some("2"))
        );
        assert_eq!(def.base_url.as_deref(), Some("https://pets.example.com/v2"));
        assert_eq!(def.auth, crate::model::AuthSpec::Bearer);
        let slugs: Vec<&str> = def.actions.iter().map(|a| a.slug.as_str()).collect();
        assert_eq!(slugs, ["listOwners", "listPets"]);
        let owners = def.actions[0].output_schema.as_ref().unwrap();
        assert_eq!(
            owners["$defs"]["Pet"]["properties"]["name"]["type"], "string",
            "{owners}"
        );
        assert!(result.warnings.is_empty(), "{:?}", result.warnings);
        crate::model::check(&def).unwrap();
    }

    #[test]
    fn a_section_ref_that_cannot_load_is_an_error_naming_it() {
        let root =
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {$ref: 'paths/index.yml'}\n";
        let err = from_str(root, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ImportErrorKind::Load);
        assert_eq!(err.pointer(), Some("/paths"));
        assert!(err.message().contains("paths/index.yml"), "{err}");
        let not_a_map = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: [1]\n";
        let err = from_str(not_a_map, &ImportOptions::default()).unwrap_err();
        assert_eq!(err.pointer(), Some("/paths"), "{err}");
    }

    #[test]
    fn an_import_without_operations_says_so() {
        for paths in [json!({}), json!({"/a": {"parameters": []}})] {
            let doc =
                json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": paths});
            let result = from_value(doc, &ImportOptions::default()).unwrap();
            assert!(result.integration.actions.is_empty());
            assert!(
                result
                    .warnings
                    .iter()
                    .any(|w| w.pointer == "/paths" && w.message.contains("no operation")),
                "{:?}",
                result.warnings
            );
        }
    }

    #[test]
    fn cross_file_refs_resolve_through_the_loader() {
        let root = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /pets:\n    get: {$ref: 'ops/list.yml'}\n";
        let files = |url: &Url| -> Result<String, LoadError> {
            match url.path() {
                "/spec/ops/list.yml" => Ok("operationId: listPets\nresponses:\n  '200':\n    description: ok\n    content:\n      application/json:\n        schema: {$ref: '../models.yml#/Pets'}\n".into()),
                "/spec/models.yml" => Ok("Pets: {type: array, items: {$ref: '#/Pet'}}\nPet: {type: object, properties: {kids: {$ref: '#/Pets'}}}\n".into()),
                other => Err(format!("no {other}").into()),
            }
        };
        let url = Url::parse("https://example.com/spec/root.yml").unwrap();
        let def = from_source(root, &url, &files, &ImportOptions::default())
            .unwrap()
            .integration;
        let out = def.actions[0].output_schema.as_ref().unwrap();
        assert_eq!(out["$ref"], "#/$defs/Pets");
        assert_eq!(
            out["$defs"]["Pet"]["properties"]["kids"]["$ref"],
            "#/$defs/Pets"
        );
        crate::model::check(&def).unwrap();
    }
}
