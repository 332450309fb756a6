//! Operations → actions: one [`ActionDef`] per operation of `paths`, with its
//! parameters and request body merged into one input schema, and its success
//! response as the output schema.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::ImportWarning;
use super::auth::{self, Auth};
use super::error::ImportError;
use super::naming::{self, Unique};
use super::pagination;
use super::resolve::{At, Docs, Node};
use super::schema::{Converter, Mode, Registry, file_part};
use super::servers::{self, Server};
use crate::model::{
    ActionDef, BodyEncoding, BodySpec, ParamLocation, ParamStyle, Parameter, PathTemplate,
};

/// The HTTP methods of a path item, in the order actions are listed.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What an import knows while it walks the operations.
pub(super) struct Walk<'a, 'l> {
    /// The documents.
    pub(super) docs: &'a Docs<'l>,
    /// The shared schemas.
    pub(super) registry: &'a mut Registry,
    /// Where warnings go.
    pub(super) warnings: &'a mut Vec<ImportWarning>,
    /// The root document.
    pub(super) root: &'a Value,
    /// Whether the root is Swagger 2.0.
    pub(super) swagger: bool,
    /// The integration's security scheme.
    pub(super) auth: &'a Auth,
    /// Parameters left out because the credential supplies them.
    pub(super) credential_params: usize,
    /// Actions whose security does not accept the integration's scheme.
    pub(super) other_security: usize,
}

/// An imported operation and the server its path or operation names.
pub(super) struct Imported {
    /// The action.
    pub(super) action: ActionDef,
    /// A path- or operation-level server, if any.
    pub(super) server: Option<Server>,
}

/// A request body as the input schema gets it.
struct Body {
    encoding: BodyEncoding,
    content_type: Option<String>,
    schema: Value,
    required: bool,
}

impl Walk<'_, '_> {
    /// Every operation under `paths`, in path order then [`METHODS`] order.
    ///
    /// # Errors
    /// A `$ref` that does not resolve.
    pub(super) fn operations(&mut self, root_at: &At<'_>) -> Result<Vec<Imported>, ImportError> {
        let Some(section) = self.docs.section(root_at, self.root, "paths")? else {
            return Ok(Vec::new());
        };
        let section_at = At::root(&section.url);
        let Some(paths) = section.value().as_object() else {
            return Err(section_at.error("'paths' must be an object of path items"));
        };
        let paths_at = section_at;
        let mut slugs = Unique::default();
        let mut out = Vec::new();
        for (path, raw) in paths {
            let item = self.docs.resolve(&paths_at.key(path), raw)?;
            let item_at = At::root(&item.url);
            let item_value = item.value();
            let params_at = item_at.key("parameters");
            let shared = self.parameter_nodes(&params_at, item_value.get("parameters"))?;
            let item_server = item_value
                .get("servers")
                .and_then(|s| servers::first(s, &item.url));
            for key in ["query", "additionalOperations"] {
                if item_value.get(key).is_some() {
                    self.warn(
                        &item_at.key(key),
                        "operations other than the eight classic methods are not imported",
                    );
                }
            }
            for key in METHODS {
                let Some(op) = item_value.get(key) else {
                    continue;
                };
                let op = self.docs.resolve(&item_at.key(key), op)?;
                if let Some(action) = self.action(path, key, &op, &shared, &mut slugs)? {
                    let server = op
                        .value()
                        .get("servers")
                        .and_then(|s| servers::first(s, &op.url));
                    out.push(Imported {
                        action,
                        server: server.or_else(|| item_server.clone()),
                    });
                }
            }
        }
        if self.credential_params > 0 {
            self.warn(
                root_at,
                format!(
                    "{} parameters carry the credential ({}): not inputs; the connection's credential fills the required ones",
                    self.credential_params,
                    self.auth.spec.kind()
                ),
            );
        }
        if self.other_security > 0 {
            self.warn(
                root_at,
                format!(
                    "{} actions accept none of the imported schemes on its own; see their metadata.security",
                    self.other_security
                ),
            );
        }
        Ok(out)
    }

    fn warn(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.warnings.push(ImportWarning::at(at, message));
    }

    fn parameter_nodes(&self, at: &At<'_>, list: Option<&Value>) -> Result<Vec<Node>, ImportError> {
        let mut nodes = Vec::new();
        for (i, p) in list
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            nodes.push(self.docs.resolve(&at.index(i), p)?);
        }
        Ok(nodes)
    }

    fn action(
        &mut self,
        path: &str,
        method: &str,
        op_node: &Node,
        shared: &[Node],
        slugs: &mut Unique,
    ) -> Result<Option<ActionDef>, ImportError> {
        let op = op_node.value();
        let op_at = At::root(&op_node.url);
        if let Err(e) = PathTemplate::parse(path) {
            self.warn(
                &op_at,
                format!("path '{path}' is not a valid template ({e}); operation skipped"),
            );
            return Ok(None);
        }
        let text = |key: &str| {
            op.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let operation_id = text("operationId");
        let slug = slugs.take(&naming::action_slug(operation_id, method, path));
        let mut action = ActionDef::new(
            slug,
            method,
            if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            },
        );
        action.name = text("summary").map(str::to_owned);
        action.description = text("description").map(str::to_owned);
        action.group = op
            .get("tags")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .map(str::to_owned);
        action.deprecated = op.get("deprecated").and_then(Value::as_bool) == Some(true);
        if let Some(id) = operation_id {
            action
                .metadata
                .insert("operationId".into(), Value::String(id.to_owned()));
        }
        self.security(op, &mut action);

        // Operation parameters override path-level ones with the same name and location.
        let own = self.parameter_nodes(&op_at.key("parameters"), op.get("parameters"))?;
        let mut keyed: Vec<((String, String), &Node)> = Vec::new();
        for node in shared.iter().chain(own.iter()) {
            let key = param_key(node.value());
            keyed.retain(|(k, _)| *k != key);
            keyed.push((key, node));
        }
        let params: Vec<&Node> = keyed.into_iter().map(|(_, node)| node).collect();

        let consumes = media_list(self.root, op, "consumes");
        let mut input = Converter::new(self.docs, self.registry, self.warnings, Mode::Input);
        let body = body(&mut input, op, &op_at, &params, &consumes, self.swagger)?;
        let mut properties = Map::new();
        let mut required: Vec<String> = Vec::new();
        let mut encoding = None;
        if let Some(body) = body {
            encoding = Some((body.encoding, body.content_type, body.required));
            match mergeable(&mut input, &body.schema, 0)? {
                Some(object) => {
                    if let Some(Value::Object(props)) = object.get("properties") {
                        properties.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    if body.required {
                        required.extend(names(object.get("required")));
                    }
                    if body.encoding == BodyEncoding::Multipart {
                        files_to_parts(&mut properties);
                    }
                }
                None => {
                    properties.insert("body".into(), body.schema);
                    if body.required {
                        required.push("body".into());
                    }
                    action.body = Some(BodySpec {
                        encoding: body.encoding,
                        field: Some("body".into()),
                        content_type: None,
                        required: body.required,
                    });
                }
            }
        }
        if let Some((encoding, content_type, required)) = encoding {
            let spec = action.body.get_or_insert(BodySpec {
                encoding,
                field: None,
                content_type: None,
                required,
            });
            spec.content_type = content_type;
        }

        let mut fields = Unique::default();
        for name in properties.keys() {
            fields.take(name);
        }
        let mut placeholders_renamed = Vec::new();
        for node in params {
            let p = node.value();
            let at = At::root(&node.url);
            let Some(location) = location(p) else {
                continue;
            };
            let Some(wire) = p
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                input.warn_at(&at, "parameter without a name; skipped");
                continue;
            };
            if location == ParamLocation::Header
                && (["accept", "content-type", "authorization"]
                    .contains(&wire.to_ascii_lowercase().as_str())
                    || reqwest::header::HeaderName::from_bytes(wire.as_bytes()).is_err())
            {
                continue;
            }
            if location == ParamLocation::Header
                && wire.eq_ignore_ascii_case(crate::policy::IDEMPOTENCY_KEY.as_str())
            {
                // The pipeline sends it: the caller's key, or one per request
                // kept across retries, which makes the write retryable.
                action.idempotency_key = true;
                continue;
            }
            if self.auth.supplies(location, wire) {
                self.credential_params += 1;
                // A required one the scheme does not place itself (Slack's `token`
                // next to OAuth2) is still sent: filled from the credential.
                if p.get("required").and_then(Value::as_bool) == Some(true)
                    && !self.auth.places(location, wire)
                {
                    let mut param = Parameter::new(wire, location);
                    param.required = true;
                    param.credential = true;
                    action.parameters.push(param);
                }
                continue;
            }
            let name = if fields.contains(wire) {
                fields.take(&format!("{}_{wire}", location_name(location)))
            } else {
                fields.take(wire)
            };
            let mut schema = param_schema(&mut input, p, &at, self.swagger)?;
            if let (Some(d), Value::Object(map)) =
                (p.get("description").and_then(Value::as_str), &mut schema)
                && !map.contains_key("description")
            {
                map.insert("description".into(), Value::String(d.to_owned()));
            }
            if p.get("deprecated").and_then(Value::as_bool) == Some(true)
                && let Value::Object(map) = &mut schema
            {
                map.insert("deprecated".into(), Value::Bool(true));
            }
            let mut param = Parameter::new(name.clone(), location);
            param.required = location == ParamLocation::Path
                || p.get("required").and_then(Value::as_bool) == Some(true);
            (param.style, param.explode) = style(p, location, self.swagger);
            if name != wire {
                if location == ParamLocation::Path {
                    placeholders_renamed.push((wire.to_owned(), name.clone()));
                } else {
                    param.wire_name = Some(wire.to_owned());
                }
            }
            if param.required {
                required.push(name.clone());
            }
            properties.insert(name, schema);
            action.parameters.push(param);
        }
        for (wire, name) in placeholders_renamed {
            action.path = action
                .path
                .replace(&format!("{{{wire}}}"), &format!("{{{name}}}"));
        }
        bind_placeholders(
            &mut input,
            &mut action,
            &mut properties,
            &mut required,
            &op_at,
        );

        let mut seen = HashSet::new();
        required.retain(|r| properties.contains_key(r) && seen.insert(r.clone()));
        let mut root = Map::new();
        root.insert("type".into(), json!("object"));
        root.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            root.insert("required".into(), json!(required));
        }
        action.input_schema = input.finish(Value::Object(root))?;

        let (output, link) = self.output(op, &op_at)?;
        action.output_schema = output;
        action.pagination = pagination::detect(&action, link);
        Ok(Some(action))
    }

    /// Records scopes, the schemes the operation accepts when not all of the
    /// integration's, and requirements no single imported scheme meets.
    fn security(&mut self, op: &Value, action: &mut ActionDef) {
        let Some(requirements) = op.get("security").or_else(|| self.root.get("security")) else {
            return;
        };
        if self.auth.scheme.is_none() {
            return;
        }
        let auth = self.auth;
        let scopes = auth::scopes(requirements, |s| auth.name_of(s).is_some());
        if !scopes.is_empty() {
            action.metadata.insert(
                "scopes".into(),
                Value::Array(scopes.into_iter().cloned().collect()),
            );
        }
        let mut names: Vec<String> = Vec::new();
        for name in auth::accepted(requirements)
            .into_iter()
            .filter_map(|s| auth.name_of(s))
        {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        if names.is_empty() {
            self.other_security += 1;
            action
                .metadata
                .insert("security".into(), requirements.clone());
        } else if names.len() < auth.count() {
            action.auth_schemes = names;
        }
    }

    /// The success response's JSON schema, and whether it declares a `Link` header.
    fn output(&mut self, op: &Value, op_at: &At<'_>) -> Result<(Option<Value>, bool), ImportError> {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Ok((None, false));
        };
        let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
        codes.sort_by_key(|c| (c.len() != 3 || c.contains(['X', 'x']), c.as_str()));
        if codes.is_empty() && responses.contains_key("default") {
            codes = responses.keys().filter(|c| *c == "default").collect();
        }
        let produces = media_list(self.root, op, "produces");
        let json_out = produces.is_empty() || produces.iter().any(|m| is_json(m));
        let responses_at = op_at.key("responses");
        let mut link = false;
        for code in codes {
            let response = self
                .docs
                .resolve(&responses_at.key(code), &responses[code])?;
            let value = response.value();
            let at = At::root(&response.url);
            link |= value
                .get("headers")
                .and_then(Value::as_object)
                .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("link")));
            let mut out = Converter::new(self.docs, self.registry, self.warnings, Mode::Output);
            let converted = if self.swagger {
                match value.get("schema") {
                    Some(schema) if json_out => Some(out.convert(&at.key("schema"), schema)?),
                    _ => None,
                }
            } else {
                let content_at = at.key("content");
                let media = value
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().find(|(k, _)| is_json(k)));
                match media.and_then(|(name, m)| Some((name, m.get("schema")?))) {
                    Some((name, schema)) => {
                        let media_at = content_at.key(name);
                        Some(out.convert(&media_at.key("schema"), schema)?)
                    }
                    None => None,
                }
            };
            if let Some(converted) = converted {
                return Ok((Some(out.finish(converted)?), link));
            }
        }
        Ok((None, link))
    }
}

/// Path placeholders without a path parameter get one (a string); path
/// parameters missing from the template are dropped.
fn bind_placeholders(
    input: &mut Converter<'_, '_>,
    action: &mut ActionDef,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
    at: &At<'_>,
) {
    let placeholders: Vec<String> = match PathTemplate::parse(&action.path) {
        Ok(t) => t.placeholders().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    };
    let mut dropped = Vec::new();
    action.parameters.retain(|p| {
        let keep = p.location != ParamLocation::Path || placeholders.contains(&p.name);
        if !keep {
            dropped.push(p.name.clone());
        }
        keep
    });
    for name in dropped {
        properties.remove(&name);
        input.warn_at(
            at,
            format!("path parameter '{name}' does not appear in the path; dropped"),
        );
    }
    for name in placeholders {
        let bound = action
            .parameters
            .iter()
            .any(|p| p.location == ParamLocation::Path && p.name == name);
        if bound {
            continue;
        }
        if properties.contains_key(&name) {
            // A body field of the same name cannot also fill the path.
            let renamed = format!("path_{name}");
            action.path = action
                .path
                .replace(&format!("{{{name}}}"), &format!("{{{renamed}}}"));
            add_path_param(input, action, properties, required, renamed, at);
        } else {
            add_path_param(input, action, properties, required, name, at);
        }
    }
}

fn add_path_param(
    input: &mut Converter<'_, '_>,
    action: &mut ActionDef,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
    name: String,
    at: &At<'_>,
) {
    input.warn_at(
        at,
        format!("path placeholder '{name}' has no parameter; added as a string"),
    );
    properties.insert(name.clone(), json!({"type": "string"}));
    required.push(name.clone());
    action
        .parameters
        .push(Parameter::new(name, ParamLocation::Path));
}

/// Swagger 2's `consumes` or `produces` of an operation, else of the document.
fn media_list<'v>(root: &'v Value, op: &'v Value, key: &str) -> Vec<&'v str> {
    op.get(key)
        .or_else(|| root.get(key))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn is_json(media: &str) -> bool {
    let m = media.to_ascii_lowercase();
    m.starts_with("application/json")
        || m.contains("+json")
        || m == "*/*"
        || m.starts_with("text/json")
}

/// What identifies a parameter: its location and name (header names ignore case).
fn param_key(p: &Value) -> (String, String) {
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let (name, location) = (text("name"), text("in"));
    if location == "header" {
        (name.to_ascii_lowercase(), location)
    } else {
        (name, location)
    }
}

fn location(p: &Value) -> Option<ParamLocation> {
    match p.get("in").and_then(Value::as_str)? {
        "path" => Some(ParamLocation::Path),
        "query" => Some(ParamLocation::Query),
        "header" => Some(ParamLocation::Header),
        "cookie" => Some(ParamLocation::Cookie),
        _ => None,
    }
}

fn location_name(l: ParamLocation) -> &'static str {
    match l {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
        ParamLocation::Cookie => "cookie",
    }
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A parameter's schema: OpenAPI 3's `schema` (or `content`), Swagger 2's inline keywords.
fn param_schema(
    input: &mut Converter<'_, '_>,
    p: &Value,
    at: &At<'_>,
    swagger: bool,
) -> Result<Value, ImportError> {
    if swagger && p.get("schema").is_none() {
        return input.convert(at, p);
    }
    if let Some(schema) = p.get("schema") {
        return input.convert(&at.key("schema"), schema);
    }
    let content = p
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().next());
    match content.and_then(|(media, m)| Some((media, m.get("schema")?))) {
        Some((media, schema)) => {
            let content_at = at.key("content");
            let media_at = content_at.key(media);
            input.convert(&media_at.key("schema"), schema)
        }
        None => Ok(json!({})),
    }
}

/// Style and explode: OpenAPI 3's keywords, Swagger 2's `collectionFormat`.
fn style(p: &Value, location: ParamLocation, swagger: bool) -> (Option<ParamStyle>, Option<bool>) {
    if swagger {
        let array = p.get("type").and_then(Value::as_str) == Some("array");
        let form = matches!(location, ParamLocation::Query | ParamLocation::Cookie);
        return match p.get("collectionFormat").and_then(Value::as_str) {
            Some("multi") => (Some(ParamStyle::Form), Some(true)),
            Some("ssv") => (Some(ParamStyle::SpaceDelimited), Some(false)),
            Some("pipes") => (Some(ParamStyle::PipeDelimited), Some(false)),
            // csv is Swagger's default for arrays; OpenAPI 3's form default explodes.
            _ if array && form => (Some(ParamStyle::Form), Some(false)),
            _ => (None, None),
        };
    }
    let style = match p.get("style").and_then(Value::as_str) {
        Some("form") => Some(ParamStyle::Form),
        Some("simple") => Some(ParamStyle::Simple),
        Some("spaceDelimited") => Some(ParamStyle::SpaceDelimited),
        Some("pipeDelimited") => Some(ParamStyle::PipeDelimited),
        Some("deepObject") => Some(ParamStyle::DeepObject),
        _ => None,
    };
    (style, p.get("explode").and_then(Value::as_bool))
}

/// The request body: OpenAPI 3's `requestBody`, Swagger 2's `in: body` or `in: formData`.
fn body(
    input: &mut Converter<'_, '_>,
    op: &Value,
    op_at: &At<'_>,
    params: &[&Node],
    consumes: &[&str],
    swagger: bool,
) -> Result<Option<Body>, ImportError> {
    if swagger {
        return swagger_body(input, params, consumes);
    }
    let Some(raw) = op.get("requestBody") else {
        return Ok(None);
    };
    let node = input.docs().resolve(&op_at.key("requestBody"), raw)?;
    let value = node.value();
    let at = At::root(&node.url);
    let Some(content) = value
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
    else {
        return Ok(None);
    };
    let rank = |media: &str| {
        let m = media.to_ascii_lowercase();
        if m == "application/json" {
            0
        } else if is_json(&m) {
            1
        } else if m == "application/x-www-form-urlencoded" {
            2
        } else if m == "multipart/form-data" {
            3
        } else {
            4
        }
    };
    let Some((media, media_value)) = content.iter().min_by_key(|(k, _)| rank(k)) else {
        return Ok(None);
    };
    let (encoding, content_type) = match rank(media) {
        0 => (BodyEncoding::Json, None),
        1 => (BodyEncoding::Json, Some(media.clone())),
        2 => (BodyEncoding::Form, None),
        3 => (BodyEncoding::Multipart, None),
        _ => {
            input.warn_at(
                &at,
                format!("request body media type '{media}' is sent as JSON"),
            );
            (BodyEncoding::Json, Some(media.clone()))
        }
    };
    let content_at = at.key("content");
    let media_at = content_at.key(media);
    let schema = match media_value.get("schema") {
        Some(s) => input.convert(&media_at.key("schema"), s)?,
        None => json!({}),
    };
    let required = value.get("required").and_then(Value::as_bool) == Some(true);
    Ok(Some(Body {
        encoding,
        content_type,
        schema,
        required,
    }))
}

fn swagger_body(
    input: &mut Converter<'_, '_>,
    params: &[&Node],
    consumes: &[&str],
) -> Result<Option<Body>, ImportError> {
    let mut form = Map::new();
    let mut form_required = Vec::new();
    let mut file = false;
    for node in params {
        let p = node.value();
        let at = At::root(&node.url);
        match p.get("in").and_then(Value::as_str) {
            Some("body") => {
                let schema = match p.get("schema") {
                    Some(s) => input.convert(&at.key("schema"), s)?,
                    None => json!({}),
                };
                let json = consumes.is_empty() || consumes.iter().any(|m| is_json(m));
                if !json {
                    input.warn_at(
                        &at,
                        format!("body consumes {}; sent as JSON", consumes.join(", ")),
                    );
                }
                let required = p.get("required").and_then(Value::as_bool) == Some(true);
                return Ok(Some(Body {
                    encoding: BodyEncoding::Json,
                    content_type: None,
                    schema,
                    required,
                }));
            }
            Some("formData") => {
                let Some(name) = p.get("name").and_then(Value::as_str) else {
                    continue;
                };
                file |= p.get("type").and_then(Value::as_str) == Some("file");
                let mut schema = input.convert(&at, p)?;
                if let (Some(d), Value::Object(map)) =
                    (p.get("description").and_then(Value::as_str), &mut schema)
                    && !map.contains_key("description")
                {
                    map.insert("description".into(), Value::String(d.to_owned()));
                }
                if p.get("required").and_then(Value::as_bool) == Some(true) {
                    form_required.push(Value::String(name.to_owned()));
                }
                form.insert(name.to_owned(), schema);
            }
            _ => {}
        }
    }
    if form.is_empty() {
        return Ok(None);
    }
    let multipart = file
        || (consumes.contains(&"multipart/form-data")
            && !consumes.contains(&"application/x-www-form-urlencoded"));
    let encoding = if multipart {
        BodyEncoding::Multipart
    } else {
        BodyEncoding::Form
    };
    // Swagger 2 has no required form body, only required form fields: with
    // none, an empty form is as valid as no body.
    let required = !form_required.is_empty();
    let schema = json!({"type": "object", "properties": form, "required": form_required});
    Ok(Some(Body {
        encoding,
        content_type: None,
        schema,
        required,
    }))
}

/// The body as a plain object schema whose properties can join the input's, if it is
/// one (following a top-level `$ref`, and merging `allOf` members that all are).
fn mergeable(
    input: &mut Converter<'_, '_>,
    schema: &Value,
    depth: usize,
) -> Result<Option<Map<String, Value>>, ImportError> {
    if depth > 8 {
        return Ok(None);
    }
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r)
            if schema.as_object().is_some_and(|m| {
                m.keys()
                    .all(|k| matches!(k.as_str(), "$ref" | "description" | "title"))
            }) =>
        {
            match input.definition(r)? {
                Some(def) => def,
                None => return Ok(None),
            }
        }
        _ => schema.clone(),
    };
    let Value::Object(map) = resolved else {
        return Ok(None);
    };
    if let Some(Value::Array(members)) = map.get("allOf") {
        let others = map.keys().any(|k| {
            !matches!(
                k.as_str(),
                "allOf" | "type" | "description" | "title" | "properties" | "required"
            )
        });
        if others {
            return Ok(None);
        }
        let mut merged = Map::new();
        let mut props = map
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut required = names(map.get("required"));
        for member in members {
            let Some(m) = mergeable(input, member, depth + 1)? else {
                return Ok(None);
            };
            if let Some(Value::Object(p)) = m.get("properties") {
                props.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            required.extend(names(m.get("required")));
        }
        merged.insert("properties".into(), Value::Object(props));
        merged.insert("required".into(), json!(required));
        return Ok(Some(merged));
    }
    let object_type = match map.get("type") {
        None => map.contains_key("properties"),
        Some(t) => t == "object",
    };
    let composed = ["$ref", "anyOf", "oneOf", "not", "if", "patternProperties"]
        .iter()
        .any(|k| map.contains_key(*k));
    let open_map = map
        .get("additionalProperties")
        .is_some_and(Value::is_object);
    Ok((object_type && !composed && !open_map).then_some(map))
}

/// Multipart strings with `format: binary` (or arrays of them) become file parts.
fn files_to_parts(properties: &mut Map<String, Value>) {
    let binary = |v: &Value| v.get("format").and_then(Value::as_str) == Some("binary");
    for schema in properties.values_mut() {
        if binary(schema) {
            *schema = Value::Object(file_part());
        } else if schema.get("items").is_some_and(binary)
            && let Some(items) = schema.get_mut("items")
        {
            *items = Value::Object(file_part());
        }
    }
}
