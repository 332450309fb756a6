//! Integrations: create from a definition or an OpenAPI document, list, read,
//! update, export as config as code, delete; their actions and health.

use crate::ops::time::rfc3339;
use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use utoipa::{IntoParams, ToSchema};
use waygate_core::IntegrationDef;
use waygate_core::import::{self, HttpLimits, HttpLoader, ImportOptions, LoadError, Loader};
use waygate_core::model::{self, Defaults};
use waygate_core::storage::IntegrationStore as _;
use waygate_store::{IntegrationQuery, IntegrationSummary};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::page::Page;
use crate::app::AppState;

/// An integration as listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationView {
    /// Its id.
    pub id: String,
    /// Its slug, unique per tenant.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `active` or `disabled`.
    pub status: String,
    /// Labels.
    pub tags: Vec<String>,
    /// Upstream API version, when known.
    pub version: Option<String>,
    /// How many actions it has.
    pub action_count: u64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<IntegrationSummary> for IntegrationView {
    fn from(s: IntegrationSummary) -> Self {
        Self {
            id: s.id,
            slug: s.slug,
            name: s.name,
            status: s.status,
            tags: s.tags,
            version: s.version,
            action_count: s.action_count,
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

/// An integration read whole: the listing fields and its settings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationDetail {
    /// The listing fields.
    #[serde(flatten)]
    pub summary: IntegrationView,
    /// What the API is for.
    pub description: Option<String>,
    /// Where requests go unless a connection overrides it.
    pub base_url: Option<String>,
    /// How credentials are applied (no secrets: the credential lives on a connection).
    #[schema(value_type = Object)]
    pub auth: Value,
    /// Further auth schemes a connection may choose by name (`authScheme`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub auth_schemes: Option<Value>,
    /// Timeout, retry, circuit breaker and rate limit defaults.
    #[schema(value_type = Object)]
    pub defaults: Value,
}

/// Query of `GET /integrations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIntegrations {
    /// Only integrations with this tag.
    pub tag: Option<String>,
    /// Only integrations whose slug or name contains this.
    pub q: Option<String>,
    /// Entries per page (1–500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `pagination.cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /integrations/import`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportRequest {
    /// The OpenAPI 3.x or Swagger 2.0 document: an object, or JSON/YAML text
    /// (its `$ref`s to other documents are not followed). Either this or `url`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub openapi: Option<Value>,
    /// An http(s) URL to fetch the document from, with the documents its relative
    /// `$ref`s point to (through the outbound URL policy; at most 3,000 documents,
    /// 64 MiB and 60 s). Either this or `openapi`.
    #[serde(default)]
    pub url: Option<String>,
    /// The integration's slug (from the title by default).
    #[serde(default)]
    pub slug: Option<String>,
    /// Display name (the title by default).
    #[serde(default)]
    pub name: Option<String>,
    /// Base URL (from `servers` by default).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Phrases naming the actions wanted most: listed first.
    #[serde(default)]
    pub wishlist: Vec<String>,
    /// Keep only these action slugs.
    #[serde(default)]
    pub select: Option<Vec<String>>,
}

/// Answer of an import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportResponse {
    /// The stored integration.
    pub integration: IntegrationDetail,
    /// How many actions it has.
    pub action_count: usize,
    /// What the importer skipped or guessed, with where.
    pub warnings: Vec<String>,
    /// Tags that fit what the API does, best first, from its name,
    /// description and actions; offered, not applied (`PATCH` them in).
    pub suggested_tags: Vec<String>,
}

/// Body of `PATCH /integrations/{idOrSlug}`: the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateIntegration {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New base URL.
    #[serde(default)]
    pub base_url: Option<String>,
    /// New tags (replace the old ones).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `active` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// New defaults (replace the old ones): `timeoutMs`, `retry`, `circuitBreaker`, `rateLimit`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub defaults: Option<Defaults>,
}

/// Query of `GET /integrations/{idOrSlug}/actions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListActions {
    /// Only actions whose slug, name or description contains this.
    pub q: Option<String>,
    /// Only actions of this group.
    pub group: Option<String>,
    /// Entries per page (1–1000; default 100), in the definition's order.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `pagination.cursor` of the previous page (opaque).
    pub cursor: Option<String>,
}

/// An action with its schemas.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    /// `integration.action`.
    pub id: String,
    /// The action's slug.
    pub slug: String,
    /// Display name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Group it is listed under.
    pub group: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// JSON Schema of the input.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// JSON Schema of the output, when documented.
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
}

/// Health of an integration: its connections' credential status, breakers
/// and its actions' response drift.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    /// `healthy`, `degraded` (a connection needs attention or a breaker is not
    /// closed) or `unconfigured` (the API needs a credential and no connection has one).
    pub status: String,
    /// The breaker of the `default` connection in this process (used without a
    /// stored connection by APIs without auth).
    pub circuit_breaker: String,
    /// Each connection.
    pub connections: Vec<ConnectionHealth>,
    /// Response drift of each action that validated responses in this
    /// process; a drifting action makes the integration `degraded`.
    pub drift: Vec<DriftView>,
}

/// Response drift of one action (decision 64): most of its last 20
/// validated responses break its output schema at the same path.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftView {
    /// Action slug.
    pub action: String,
    /// Whether the action is drifting.
    pub drifting: bool,
    /// The path responses fail at (array indices as `*`), while drifting.
    pub path: Option<String>,
    /// Responses in the window that broke the schema.
    pub failed: usize,
    /// Responses in the window.
    pub validated: usize,
}

/// Health of one connection.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionHealth {
    /// Connection name.
    pub name: String,
    /// `active`, `expired`, `needs_reauth` or `error`.
    pub status: String,
    /// The last connectivity check's verdict.
    pub health: String,
    /// The circuit breaker in this process: `closed`, `open` or `half_open`.
    pub circuit_breaker: String,
    /// When the credential expires, RFC 3339.
    pub expires_at: Option<String>,
}

/// The tenant's integration with this id or slug, or 404.
pub async fn find(app: &AppState, tenant: &str, id_or_slug: &str) -> ApiResult<IntegrationSummary> {
    app.store
        .integration_summary(tenant, id_or_slug)
        .await
        .map_err(|e| store_error("reading the integration", &e))?
        .ok_or_else(|| ApiError::not_found(format!("integration '{id_or_slug}'")))
}

/// The definition of an integration found by [`find`].
pub async fn definition(
    app: &AppState,
    tenant: &str,
    slug: &str,
) -> ApiResult<std::sync::Arc<IntegrationDef>> {
    app.integrations
        .integration(tenant, slug)
        .await
        .map_err(|e| ApiError::unavailable("reading the definition", &e))?
        .map(|s| s.def)
        .ok_or_else(|| ApiError::not_found(format!("integration '{slug}'")))
}

fn detail(summary: IntegrationSummary, def: &IntegrationDef) -> IntegrationDetail {
    IntegrationDetail {
        description: def.description.clone(),
        base_url: def.base_url.clone(),
        auth: serde_json::to_value(&def.auth).unwrap_or(Value::Null),
        auth_schemes: (!def.auth_schemes.is_empty())
            .then(|| serde_json::to_value(&def.auth_schemes).unwrap_or(Value::Null)),
        defaults: serde_json::to_value(&def.defaults).unwrap_or(Value::Null),
        summary: summary.into(),
    }
}

/// `def`, when it can run: 400 naming every problem otherwise. Checking
/// compiles every schema, so it runs on the CPU pool (`ops::cpu`).
pub(crate) fn checked(def: IntegrationDef) -> ApiResult<IntegrationDef> {
    model::check(&def).map_err(|e| ApiError::from(waygate_core::Error::from(e)))?;
    Ok(def)
}

/// Stores a new definition, [`checked`] already; 409 when the slug is taken.
pub(crate) async fn create(
    app: &AppState,
    tenant: &str,
    def: IntegrationDef,
) -> ApiResult<IntegrationDetail> {
    let slug = def.slug.clone();
    let created = app.writes().create_integration(tenant, &def).await;
    created.map_err(|e| match e.kind() {
        waygate_store::ErrorKind::Conflict => {
            ApiError::conflict(format!("{e}: PATCH it, or DELETE it first"))
        }
        _ => store_error("storing the integration", &e),
    })?;
    let summary = find(app, tenant, &slug).await?;
    let def = definition(app, tenant, &slug).await?;
    Ok(detail(summary, &def))
}

pub(crate) async fn store(app: &AppState, tenant: &str, def: IntegrationDef) -> ApiResult<()> {
    app.writes()
        .put_integration(tenant, def)
        .await
        .map_err(|e| match e.kind() {
            waygate_core::storage::StoreErrorKind::Conflict => ApiError::conflict(e.to_string()),
            waygate_core::storage::StoreErrorKind::NotFound => ApiError::not_found("the tenant"),
            _ => ApiError::unavailable("storing the integration", &e),
        })
}

/// List the tenant's integrations.
#[utoipa::path(
    get,
    operation_id = "listIntegrations", path = "/integrations", tag = "integrations",
    params(ListIntegrations),
    responses((status = 200, body = Page<IntegrationView>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<ListIntegrations>,
) -> ApiResult<Json<Page<IntegrationView>>> {
    let mut query = IntegrationQuery::new();
    query.tag = q.tag;
    query.text = q.q;
    query.limit = q.limit;
    query.after = q.cursor;
    let page = app
        .store
        .list_integration_summaries(&tenant, &query)
        .await
        .map_err(|e| store_error("listing integrations", &e))?;
    let cursor = page
        .has_more
        .then(|| page.entries.last().map(|s| s.slug.clone()))
        .flatten();
    let data = page.entries.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(data, cursor, Some(page.total))))
}

/// Create an integration from a definition (JSON, or YAML with a YAML content type).
#[utoipa::path(
    post,
    operation_id = "createIntegration", path = "/integrations", tag = "integrations",
    request_body(content = Object, description = "An integration definition (config as code)"),
    responses((status = 201, body = IntegrationDetail), (status = 400, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn create_from_definition(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<IntegrationDetail>)> {
    let yaml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"));
    let def = app
        .cpu
        .run(move || {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::bad_request("the definition is not UTF-8 text"))?;
            checked(if yaml {
                IntegrationDef::from_yaml(text)?
            } else {
                IntegrationDef::from_json(text)?
            })
        })
        .await??;
    Ok((StatusCode::CREATED, Json(create(&app, &tenant, def).await?)))
}

/// Import an OpenAPI or Swagger document as an integration.
#[utoipa::path(
    post,
    operation_id = "importOpenApi", path = "/integrations/import", tag = "integrations",
    request_body = ImportRequest,
    responses((status = 201, body = ImportResponse), (status = 400, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn import_openapi(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ImportResponse>)> {
    if !is_json(&headers) {
        return Err(ApiError::bad_request(
            "Expected request with `Content-Type: application/json`",
        ));
    }
    let Imported {
        def,
        warnings,
        suggested_tags,
    } = import_document(&app, body).await?;
    store_imported(&app, &tenant, def, warnings, suggested_tags).await
}

/// Stores an imported or reviewed definition as a new integration: the 201
/// answer of import and of scrape-apply.
pub(crate) async fn store_imported(
    app: &AppState,
    tenant: &str,
    def: IntegrationDef,
    warnings: Vec<String>,
    suggested_tags: Vec<String>,
) -> ApiResult<(StatusCode, Json<ImportResponse>)> {
    let action_count = def.actions.len();
    let integration = create(app, tenant, def).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportResponse {
            integration,
            action_count,
            warnings,
            suggested_tags,
        }),
    ))
}

/// An OpenAPI document imported and checked, not stored yet.
#[derive(Debug)]
pub struct Imported {
    /// The integration it describes.
    pub def: IntegrationDef,
    /// What the importer skipped or guessed, with where.
    pub warnings: Vec<String>,
    /// Tags that fit what the API does, best first.
    pub suggested_tags: Vec<String>,
}

/// Reads an [`ImportRequest`] (JSON) and imports its document: the work of
/// `POST /integrations/import` before storing, shared with the dashboard's
/// wizard, which shows the result for review first.
///
/// # Errors
/// 400 for a request or document that cannot be imported, or a definition
/// that does not pass the check; 503 when the CPU pool is busy.
pub async fn import_document(app: &AppState, body: Bytes) -> ApiResult<Imported> {
    import_document_keeping(app, body, None).await
}

/// Documents an import from a URL fetched (the root and those its `$ref`s
/// point to), by URL: the dashboard's wizard keeps them from its review to
/// its create step, so that a URL is fetched once per flow.
#[derive(Debug, Default)]
pub struct FetchedDocuments(std::sync::Mutex<HashMap<String, String>>);

impl FetchedDocuments {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.0
            .lock()
            .map(|m| m.iter().map(|(k, v)| k.len() + v.len()).sum())
            .unwrap_or(0)
    }
}

/// Serves what `fetched` holds and fetches the rest through `http`, keeping it.
struct KeepingLoader<'a> {
    http: HttpLoader,
    fetched: &'a FetchedDocuments,
}

impl Loader for KeepingLoader<'_> {
    fn load(&self, url: &Url) -> Result<String, LoadError> {
        let held = |m: &HashMap<String, String>| m.get(url.as_str()).cloned();
        if let Some(text) = self.fetched.0.lock().ok().and_then(|m| held(&m)) {
            return Ok(text);
        }
        let text = self.http.load(url)?;
        if let Ok(mut m) = self.fetched.0.lock() {
            m.insert(url.to_string(), text.clone());
        }
        Ok(text)
    }
}

/// [`import_document`], serving a URL's documents from `fetched` where it
/// holds them and adding those it fetches; `None` fetches without keeping
/// (the REST import keeps nothing past its request).
///
/// # Errors
/// As [`import_document`].
pub async fn import_document_keeping(
    app: &AppState,
    body: Bytes,
    fetched: Option<Arc<FetchedDocuments>>,
) -> ApiResult<Imported> {
    // Parsing the document, importing and checking it is CPU work in
    // proportion to its size; a remote document's fetches run on this
    // runtime while the importing thread waits for them.
    let runtime = tokio::runtime::Handle::current();
    let policy = app.settings.url_policy();
    let (warnings, def, suggested_tags) = app
        .cpu
        .run(move || {
            let body: ImportRequest = serde_json::from_slice(&body).map_err(|e| {
                ApiError::bad_request(format!("the import request is not valid: {e}"))
            })?;
            let options = ImportOptions {
                slug: body.slug,
                name: body.name,
                base_url: body.base_url,
                wishlist: body.wishlist,
                select: body.select,
            };
            let import::ImportResult {
                integration,
                warnings,
                ..
            } = match (body.openapi, body.url) {
                (Some(Value::String(text)), None) => import::from_str(&text, &options),
                (Some(value), None) => import::from_value(value, &options),
                (None, Some(url)) => {
                    let url = Url::parse(&url).map_err(|e| {
                        ApiError::bad_request(format!("url: '{url}' is not a URL: {e}"))
                    })?;
                    let http = HttpLoader::new(runtime, policy, HttpLimits::default())
                        .map_err(|e| {
                            tracing::error!(error = %e, "cannot build the HTTP client of an import");
                            ApiError::internal()
                        })?;
                    match &fetched {
                        Some(fetched) => {
                            import::from_url(&url, &KeepingLoader { http, fetched }, &options)
                        }
                        None => import::from_url(&url, &http, &options),
                    }
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "give the document either as 'openapi' or as 'url', not both or neither",
                    ));
                }
            }
            .map_err(|e| ApiError::bad_request(format!("the document cannot be imported: {e}")))?;
            let suggested = import::suggest_tags(&integration);
            Ok::<_, ApiError>((warnings, checked(integration)?, suggested))
        })
        .await??;
    Ok(Imported {
        def,
        warnings: warnings.iter().map(ToString::to_string).collect(),
        suggested_tags,
    })
}

/// Whether the request's body is declared JSON (`application/json` or a
/// `+json` type), as axum's `Json` extractor requires.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || sub.ends_with("+json"))
}

/// Read an integration.
#[utoipa::path(
    get,
    operation_id = "getIntegration", path = "/integrations/{idOrSlug}", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    responses((status = 200, body = IntegrationDetail), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<IntegrationDetail>> {
    let summary = find(&app, &tenant, &id).await?;
    let def = definition(&app, &tenant, &summary.slug).await?;
    Ok(Json(detail(summary, &def)))
}

/// Change an integration's name, description, base URL, tags, status or
/// defaults; the next invocation uses them.
#[utoipa::path(
    patch,
    operation_id = "updateIntegration", path = "/integrations/{idOrSlug}", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    request_body = UpdateIntegration,
    responses((status = 200, body = IntegrationDetail), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn update(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    Json(body): Json<UpdateIntegration>,
) -> ApiResult<Json<IntegrationDetail>> {
    let summary = find(&app, &tenant, &id).await?;
    if let Some(status) = &body.status
        && !waygate_store::INTEGRATION_STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status must be one of {}",
            waygate_store::INTEGRATION_STATUSES.join(", ")
        )));
    }
    let mut def = (*definition(&app, &tenant, &summary.slug).await?).clone();
    let changes_definition = body.name.is_some()
        || body.description.is_some()
        || body.base_url.is_some()
        || body.tags.is_some()
        || body.defaults.is_some();
    if changes_definition {
        if let Some(name) = body.name {
            def.name = name;
        }
        if let Some(description) = body.description {
            def.description = Some(description);
        }
        if let Some(base_url) = body.base_url {
            def.base_url = Some(base_url);
        }
        if let Some(tags) = body.tags {
            def.tags = tags;
        }
        if let Some(defaults) = body.defaults {
            def.defaults = defaults;
        }
        let def = app.cpu.run(move || checked(def)).await??;
        store(&app, &tenant, def).await?;
    }
    if let Some(status) = &body.status {
        app.writes()
            .set_integration_status(&tenant, &summary.slug, status)
            .await
            .map_err(|e| store_error("setting the status", &e))?;
    }
    let summary = find(&app, &tenant, &summary.slug).await?;
    let def = definition(&app, &tenant, &summary.slug).await?;
    Ok(Json(detail(summary, &def)))
}

/// Delete an integration with its actions and connections.
#[utoipa::path(
    delete,
    operation_id = "deleteIntegration", path = "/integrations/{idOrSlug}", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let summary = find(&app, &tenant, &id).await?;
    app.writes()
        .delete_integration(&tenant, &summary.slug)
        .await
        .map_err(|e| ApiError::unavailable("deleting the integration", &e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole definition as config as code: JSON, or YAML with `Accept: application/yaml`.
#[utoipa::path(
    get,
    operation_id = "exportIntegration", path = "/integrations/{idOrSlug}/export", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    responses((status = 200, description = "The definition", content(
        (Object = "application/json"), (String = "application/yaml"))),
        (status = 404, body = super::ErrorBody)))]
pub async fn export(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let summary = find(&app, &tenant, &id).await?;
    let def = definition(&app, &tenant, &summary.slug).await?;
    let yaml = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"));
    if yaml {
        let text = def.to_yaml().map_err(|e| {
            ApiError::bad_request(format!("the definition cannot be written as YAML: {e}"))
        })?;
        Ok(([(header::CONTENT_TYPE, "application/yaml")], text).into_response())
    } else {
        Ok(([(header::CONTENT_TYPE, "application/json")], def.to_json()).into_response())
    }
}

/// The actions of an integration, with their schemas.
#[utoipa::path(
    get,
    operation_id = "listActions", path = "/integrations/{idOrSlug}/actions", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug"), ListActions),
    responses((status = 200, body = Page<ActionView>), (status = 404, body = super::ErrorBody)))]
pub async fn actions(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    Query(q): Query<ListActions>,
) -> ApiResult<Json<Page<ActionView>>> {
    let summary = find(&app, &tenant, &id).await?;
    let def = definition(&app, &tenant, &summary.slug).await?;
    let needle =
        q.q.as_deref()
            .map(str::to_lowercase)
            .filter(|n| !n.is_empty());
    let matching: Vec<&waygate_core::ActionDef> = def
        .actions
        .iter()
        .filter(|a| q.group.is_none() || a.group == q.group)
        .filter(|a| {
            needle.as_deref().is_none_or(|n| {
                [
                    Some(a.slug.as_str()),
                    a.name.as_deref(),
                    a.description.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|t| t.to_lowercase().contains(n))
            })
        })
        .collect();
    // The cursor is the last slug answered: the next page starts after it.
    let start = match q.cursor.as_deref() {
        None => 0,
        Some(cursor) => {
            let slug = URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let at = slug.and_then(|s| matching.iter().position(|a| a.slug == s));
            at.map(|i| i + 1).ok_or_else(|| {
                ApiError::bad_request(
                    "cursor: not a cursor of this list (or its action is gone): start again without it",
                )
            })?
        }
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let page: Vec<&waygate_core::ActionDef> =
        matching.iter().skip(start).take(limit).copied().collect();
    let cursor = (start + page.len() < matching.len())
        .then(|| page.last().map(|a| URL_SAFE_NO_PAD.encode(&a.slug)))
        .flatten();
    let data = page.iter().map(|a| action_view(&def.slug, a)).collect();
    Ok(Json(Page::new(data, cursor, Some(matching.len() as u64))))
}

/// An action as answered.
pub fn action_view(integration: &str, a: &waygate_core::ActionDef) -> ActionView {
    ActionView {
        id: format!("{integration}.{}", a.slug),
        slug: a.slug.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        group: a.group.clone(),
        method: a.method.clone(),
        path: a.path.clone(),
        input_schema: a.input_schema.clone(),
        output_schema: a.output_schema.clone(),
    }
}

/// Health from the connections' credential status and this process's breakers.
#[utoipa::path(
    get,
    operation_id = "getIntegrationHealth", path = "/integrations/{idOrSlug}/health", tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    responses((status = 200, body = HealthView), (status = 404, body = super::ErrorBody)))]
pub async fn health(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<HealthView>> {
    let summary = find(&app, &tenant, &id).await?;
    let connections = app
        .store
        .list_connections(&tenant, &summary.slug)
        .await
        .map_err(|e| store_error("listing connections", &e))?;
    let connections: Vec<ConnectionHealth> = connections
        .into_iter()
        .map(|c| {
            let breaker = app.executor.breaker_state(&tenant, &summary.slug, &c.name);
            ConnectionHealth {
                circuit_breaker: breaker_name(breaker).to_owned(),
                name: c.name,
                status: c.status,
                health: c.health,
                expires_at: c.expires_at.map(rfc3339),
            }
        })
        .collect();
    let default_breaker = breaker_name(app.executor.breaker_state(
        &tenant,
        &summary.slug,
        waygate_core::Connection::DEFAULT,
    ));
    let needs_credential = !matches!(
        definition(&app, &tenant, &summary.slug).await?.auth,
        waygate_core::model::AuthSpec::None
    );
    let drift: Vec<DriftView> = app
        .executor
        .drift(&tenant, &summary.slug)
        .into_iter()
        .map(|d| DriftView {
            action: d.action,
            drifting: d.drifting,
            path: d.path,
            failed: d.failed,
            validated: d.validated,
        })
        .collect();
    let degraded = default_breaker != "closed"
        || drift.iter().any(|d| d.drifting)
        || connections
            .iter()
            .any(|c| c.status != "active" || c.circuit_breaker != "closed");
    let status = if degraded {
        "degraded"
    } else if connections.is_empty() && needs_credential {
        "unconfigured"
    } else {
        "healthy"
    };
    Ok(Json(HealthView {
        status: status.to_owned(),
        circuit_breaker: default_breaker.to_owned(),
        connections,
        drift,
    }))
}

fn breaker_name(state: waygate_core::pipeline::BreakerState) -> &'static str {
    match state {
        waygate_core::pipeline::BreakerState::Closed => "closed",
        waygate_core::pipeline::BreakerState::HalfOpen => "half_open",
        _ => "open",
    }
}
