//! Scrape jobs (API.md): start a documentation crawl, follow its progress, read
//! its draft, cancel it, and apply the reviewed draft as an integration.
//! The job itself runs in `crate::jobs::scrape`; the store keeps it (decision 72).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use utoipa::ToSchema;
use waygate_core::IntegrationDef;
use waygate_discover::crawl::{Kind, kind_of};
use waygate_discover::{Mode, Pasted};
use waygate_store::{JobStatus, ScrapeJob};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::integrations::{ImportResponse, Imported, checked, store_imported};
use crate::app::AppState;
use crate::jobs::scrape::{HEARTBEAT, ScrapeSpec, queued_progress};
use crate::ops::time::rfc3339;

/// Start URLs per job at most.
const MAX_URLS: usize = 20;
/// Pages a job may fetch at most.
const MAX_PAGES: u32 = 500;
/// Wishlist phrases at most, and their length.
const MAX_WISHES: usize = 50;
const MAX_WISH_CHARS: usize = 200;
/// Pasted pages at most, and their bytes together.
const MAX_PASTED: usize = 50;
const MAX_PASTED_BYTES: usize = 4 * 1024 * 1024;

/// `auto` follows same-site links from the start URLs; `specific` reads only them.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScrapeMode {
    /// Follow same-site links (depth 3).
    #[default]
    Auto,
    /// Only the given pages.
    Specific,
}

/// A page's content pasted instead of fetched (docs behind a login).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PastedPage {
    /// The URL it was copied from (its links resolve against it).
    pub url: String,
    /// The page's HTML, Markdown, or OpenAPI document (JSON or YAML).
    pub content: String,
    /// `text/html` (default), `text/markdown`, `application/json` or `application/yaml`.
    #[serde(default)]
    pub content_type: Option<String>,
}

/// Body of `POST /scrape`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScrapeRequest {
    /// Documentation URLs to start from (http or https), at most 20.
    #[serde(default)]
    pub urls: Vec<String>,
    /// `auto` (default) or `specific`.
    #[serde(default)]
    pub mode: ScrapeMode,
    /// Phrases naming the actions wanted most: fetched and listed first.
    #[serde(default)]
    pub wishlist: Vec<String>,
    /// Pages fetched at most (1–500; default 20).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 500)]
    pub max_pages: Option<u32>,
    /// The slug of a stored integration to compare the draft with: the result
    /// then has a `diff` (endpoints added, removed, changed).
    #[serde(default)]
    pub integration: Option<String>,
    /// Pages pasted instead of fetched (behind a login), at most 50 and 4 MiB.
    #[serde(default)]
    pub pages: Vec<PastedPage>,
}

/// Answer of `POST /scrape`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeAccepted {
    /// Follow it at `GET /scrape/{jobId}`.
    pub job_id: String,
    /// `queued`.
    pub status: String,
}

/// Where a job is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeProgress {
    /// `queued`, `crawling`, `extracting`, `llm`, `done` or `failed`.
    pub stage: String,
    /// Pages read so far.
    pub pages_fetched: u64,
    /// Pages expected in all (grows as links are found, up to `maxPages`).
    pub pages_total: u64,
}

/// A scrape job.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeJobView {
    /// Its id.
    pub job_id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// Where it is.
    pub progress: ScrapeProgress,
    /// Once succeeded: `integration` (the draft; each action's `metadata` has
    /// `confidence` 0..1 and `sourceUrl`), `pages`, `specs`, `warnings`,
    /// `loginRequired` (pages to paste), `cache` (`new`, `changed`,
    /// `notModified`, `sameHash`), `rateLimits` (`statements`, `headers`) and,
    /// when asked, `diff`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed or that it was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<ScrapeJob> for ScrapeJobView {
    fn from(job: ScrapeJob) -> Self {
        let number = |key: &str| job.progress.get(key).and_then(Value::as_u64).unwrap_or(0);
        let progress = ScrapeProgress {
            stage: job
                .progress
                .get("stage")
                .and_then(Value::as_str)
                .unwrap_or("queued")
                .to_owned(),
            pages_fetched: number("pagesFetched"),
            pages_total: number("pagesTotal"),
        };
        Self {
            job_id: job.id,
            status: job.status.as_str().to_owned(),
            progress,
            result: job.result,
            error: job.error,
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
        }
    }
}

/// Body of `POST /scrape/{jobId}/apply`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyRequest {
    /// The new integration's slug (`[a-z0-9-]+`, unique per tenant).
    pub slug: String,
    /// Keep only these action slugs (all by default).
    #[serde(default)]
    pub select: Option<Vec<String>>,
    /// Top-level fields of the definition to set before storing (`name`,
    /// `description`, `baseUrl`, `auth`, `defaults`, `tags`, …; not `slug` or `actions`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub overrides: Option<serde_json::Map<String, Value>>,
}

/// What a stored job's request runs, checked again as when it was accepted
/// (a job taken over after an interruption runs from its stored request).
///
/// # Errors
/// Why the stored request is no longer acceptable.
pub(crate) fn stored_spec(app: &AppState, request: &Value) -> Result<ScrapeSpec, String> {
    let request: ScrapeRequest = serde_json::from_value(request.clone())
        .map_err(|e| format!("the stored scrape request is not valid: {e}"))?;
    spec(app, request).map_err(|e| e.message().to_owned())
}

/// Checks a request and turns it into what the job runs.
fn spec(app: &AppState, request: ScrapeRequest) -> ApiResult<ScrapeSpec> {
    if request.urls.is_empty() && request.pages.is_empty() {
        return Err(ApiError::bad_request(
            "urls: give at least one URL (or pasted pages)",
        ));
    }
    if request.urls.len() > MAX_URLS {
        return Err(ApiError::bad_request(format!("urls: at most {MAX_URLS}")));
    }
    let url = |field: String, text: &str| -> ApiResult<Url> {
        let url = Url::parse(text)
            .map_err(|e| ApiError::bad_request(format!("{field}: '{text}' is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ApiError::bad_request(format!(
                "{field}: '{text}' is not an http(s) URL"
            )));
        }
        Ok(url)
    };
    let mut urls = Vec::new();
    for (i, text) in request.urls.iter().enumerate() {
        let u = url(format!("urls[{i}]"), text)?;
        app.policy.check_url(&u).map_err(|e| {
            ApiError::bad_request(format!(
                "urls[{i}]: refused by the outbound URL policy: {e}"
            ))
        })?;
        urls.push(u);
    }
    let max_pages = request.max_pages.unwrap_or(20);
    if !(1..=MAX_PAGES).contains(&max_pages) {
        return Err(ApiError::bad_request(format!(
            "maxPages: between 1 and {MAX_PAGES}"
        )));
    }
    if request.wishlist.len() > MAX_WISHES
        || request
            .wishlist
            .iter()
            .any(|w| w.chars().count() > MAX_WISH_CHARS)
    {
        return Err(ApiError::bad_request(format!(
            "wishlist: at most {MAX_WISHES} phrases of {MAX_WISH_CHARS} characters"
        )));
    }
    if request.pages.len() > MAX_PASTED
        || request.pages.iter().map(|p| p.content.len()).sum::<usize>() > MAX_PASTED_BYTES
    {
        return Err(ApiError::bad_request(format!(
            "pages: at most {MAX_PASTED} pages of {} MiB together",
            MAX_PASTED_BYTES / (1024 * 1024)
        )));
    }
    let mut pasted = Vec::new();
    for (i, page) in request.pages.into_iter().enumerate() {
        let at = url(format!("pages[{i}].url"), &page.url)?;
        let content_type = page.content_type.as_deref().unwrap_or("text/html");
        let kind: Kind = kind_of(content_type, &at).ok_or_else(|| {
            ApiError::bad_request(format!(
                "pages[{i}].contentType: '{content_type}' is not HTML, Markdown, JSON or YAML"
            ))
        })?;
        pasted.push(Pasted {
            url: at,
            content: page.content,
            kind,
        });
    }
    Ok(ScrapeSpec {
        urls,
        mode: match request.mode {
            ScrapeMode::Auto => Mode::Auto,
            ScrapeMode::Specific => Mode::Specific,
        },
        wishlist: request.wishlist,
        max_pages: max_pages as usize,
        integration: request.integration,
        pasted,
    })
}

async fn job(app: &AppState, tenant: &str, id: &str) -> ApiResult<ScrapeJob> {
    app.store
        .scrape_job(tenant, id)
        .await
        .map_err(|e| store_error("reading the scrape job", &e))?
        .ok_or_else(|| ApiError::not_found(format!("scrape job '{id}'")))
}

/// Start crawling documentation into a draft integration.
#[utoipa::path(
    post,
    operation_id = "startScrape", path = "/scrape", tag = "scrape",
    request_body = ScrapeRequest,
    responses((status = 202, body = ScrapeAccepted), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody, description = "The integration to compare with does not exist"),
        (status = 429, body = super::ErrorBody, description = "The tenant has as many scrape jobs queued or running as it may")))]
pub async fn start(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<ScrapeAccepted>)> {
    let request: ScrapeRequest = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::bad_request(format!("the scrape request is not valid: {e}")))?;
    let spec = spec(&app, request)?;
    if let Some(slug) = &spec.integration {
        super::integrations::find(&app, &tenant, slug).await?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    let created = app
        .store
        .create_scrape_job(
            &tenant,
            &id,
            &body,
            &queued_progress(spec.max_pages),
            app.scrapes.max_active,
        )
        .await
        .map_err(|e| store_error("storing the scrape job", &e))?;
    if !created {
        return Err(ApiError::too_many_jobs(
            format!(
                "{} scrape jobs are queued or running for this tenant, the most allowed",
                app.scrapes.max_active
            ),
            u64::try_from(HEARTBEAT.as_millis()).unwrap_or(u64::MAX),
        ));
    }
    app.scrapes.start(&app, tenant, id.clone(), spec);
    Ok((
        StatusCode::ACCEPTED,
        Json(ScrapeAccepted {
            job_id: id,
            status: JobStatus::Queued.as_str().to_owned(),
        }),
    ))
}

/// A scrape job: status, progress, and its draft once succeeded.
#[utoipa::path(
    get,
    operation_id = "getScrape", path = "/scrape/{jobId}", tag = "scrape",
    params(("jobId" = String, Path, description = "The job's id")),
    responses((status = 200, body = ScrapeJobView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<ScrapeJobView>> {
    Ok(Json(job(&app, &tenant, &id).await?.into()))
}

/// Cancel a queued or running scrape job (a cancelled job answers as it is).
#[utoipa::path(
    post,
    operation_id = "cancelScrape", path = "/scrape/{jobId}/cancel", tag = "scrape",
    params(("jobId" = String, Path, description = "The job's id")),
    responses((status = 200, body = ScrapeJobView), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody, description = "The job has finished already")))]
pub async fn cancel(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<ScrapeJobView>> {
    let job = app
        .store
        .cancel_scrape_job(&tenant, &id)
        .await
        .map_err(|e| store_error("cancelling the scrape job", &e))?
        .ok_or_else(|| ApiError::not_found(format!("scrape job '{id}'")))?;
    if matches!(job.status, JobStatus::Succeeded | JobStatus::Failed) {
        return Err(ApiError::conflict(format!(
            "the scrape job has {} already",
            job.status.as_str()
        )));
    }
    Ok(Json(job.into()))
}

/// Store a succeeded job's reviewed draft as an integration.
#[utoipa::path(
    post,
    operation_id = "applyScrape", path = "/scrape/{jobId}/apply", tag = "scrape",
    params(("jobId" = String, Path, description = "The job's id")),
    request_body = ApplyRequest,
    responses((status = 201, body = ImportResponse), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody, description = "The job has not succeeded, or the slug is taken")))]
pub async fn apply(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    Json(body): Json<ApplyRequest>,
) -> ApiResult<(StatusCode, Json<ImportResponse>)> {
    let job = job(&app, &tenant, &id).await?;
    let Some(result) = job.result.filter(|_| job.status == JobStatus::Succeeded) else {
        return Err(ApiError::conflict(format!(
            "the scrape job is {}: only a succeeded job has a draft to apply",
            job.status.as_str()
        )));
    };
    let warnings = warnings(&result);
    let draft = result.get("integration").cloned().unwrap_or(Value::Null);
    let (def, suggested_tags) = app
        .cpu
        .run(move || {
            let def = reviewed(draft, body)?;
            let suggested = waygate_core::import::suggest_tags(&def);
            Ok::<_, ApiError>((def, suggested))
        })
        .await??;
    store_imported(&app, &tenant, def, warnings, suggested_tags).await
}

/// The `warnings` of a job's result.
fn warnings(result: &Value) -> Vec<String> {
    result
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A succeeded job's draft to review, as an imported document is reviewed
/// (the dashboard's wizard): the definition, the warnings, suggested tags.
///
/// # Errors
/// 404 for an unknown job, 409 while it has no draft.
pub async fn draft(app: &AppState, tenant: &str, id: &str) -> ApiResult<Imported> {
    let job = job(app, tenant, id).await?;
    let Some(result) = job.result.filter(|_| job.status == JobStatus::Succeeded) else {
        return Err(ApiError::conflict(format!(
            "the scrape job is {}: only a succeeded job has a draft to review",
            job.status.as_str()
        )));
    };
    let warnings = warnings(&result);
    let draft = result.get("integration").cloned().unwrap_or(Value::Null);
    let (def, suggested_tags) = app
        .cpu
        .run(move || {
            let def: IntegrationDef = serde_json::from_value(draft).map_err(|e| {
                ApiError::bad_request(format!("the job's draft is not a definition: {e}"))
            })?;
            let suggested = waygate_core::import::suggest_tags(&def);
            Ok::<_, ApiError>((def, suggested))
        })
        .await??;
    Ok(Imported {
        def,
        warnings,
        suggested_tags,
    })
}

/// The draft with the caller's slug, selection and overrides, checked.
fn reviewed(draft: Value, body: ApplyRequest) -> ApiResult<IntegrationDef> {
    let Value::Object(mut fields) = draft else {
        return Err(ApiError::internal());
    };
    for (key, value) in body.overrides.unwrap_or_default() {
        if matches!(key.as_str(), "slug" | "actions") {
            return Err(ApiError::bad_request(format!(
                "overrides.{key}: set the slug with 'slug' and choose actions with 'select'"
            )));
        }
        fields.insert(key, value);
    }
    fields.insert("slug".into(), Value::String(body.slug));
    let mut def: IntegrationDef = serde_json::from_value(Value::Object(fields))
        .map_err(|e| ApiError::bad_request(format!("overrides: {e}")))?;
    if let Some(select) = body.select {
        if let Some(unknown) = select
            .iter()
            .find(|s| !def.actions.iter().any(|a| &a.slug == *s))
        {
            return Err(ApiError::bad_request(format!(
                "select: the draft has no action '{unknown}'"
            )));
        }
        def.actions.retain(|a| select.contains(&a.slug));
    }
    checked(def)
}
