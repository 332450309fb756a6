//! The wizard from a documentation URL (not a spec): a scrape job started
//! through `POST /api/v1/scrape`'s handler, its progress shown live by htmx
//! polling a small partial (stage, pages fetched of pages expected), and,
//! once it succeeded, its draft sent to the wizard's review step
//! (decision 107).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::page::{Chrome, PageResult};
use super::session::Session;
use super::wizard::{SourcePage, WizardForm};
use crate::api::auth::Tenant;
use crate::api::scrape::{self, ScrapeJobView};
use crate::app::AppState;

/// Pages a wizard's crawl fetches at most.
const MAX_PAGES: u32 = 50;

/// A job's state as the progress partial shows it.
pub struct Progress {
    job: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    status: String,
    /// `queued`, `crawling`, `extracting`, `llm`, `done` or `failed`.
    stage: String,
    fetched: u64,
    /// At least `fetched` and at least 1 (a `<progress>` needs a maximum).
    total: u64,
    error: Option<String>,
}

impl Progress {
    fn of(view: ScrapeJobView) -> Self {
        Self {
            total: view
                .progress
                .pages_total
                .max(view.progress.pages_fetched)
                .max(1),
            fetched: view.progress.pages_fetched,
            stage: view.progress.stage,
            status: view.status,
            error: view.error,
            job: view.job_id,
        }
    }

    /// Whether the job may still change (the partial keeps polling).
    fn live(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

/// The job's page.
#[derive(Template, WebTemplate)]
#[template(path = "wizard_scrape.html")]
pub struct ScrapePage {
    chrome: Chrome,
    progress: Progress,
}

/// The partial htmx polls.
#[derive(Template, WebTemplate)]
#[template(path = "scrape_progress.html")]
pub struct ProgressPartial {
    progress: Progress,
}

/// `POST /integrations/new/scrape`: starts the crawl of the form's `docs` URL.
pub async fn start(
    State(app): State<AppState>,
    session: Session,
    body: Bytes,
) -> PageResult<Response> {
    let form = WizardForm::parse(&body);
    let request = json!({
        "urls": [form.docs],
        "wishlist": form.wishes(),
        "maxPages": MAX_PAGES,
    });
    match scrape::start(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Json(request),
    )
    .await
    {
        Ok((_, Json(accepted))) => Ok(Redirect::to(&format!(
            "/integrations/new/scrape/{}",
            accepted.job_id
        ))
        .into_response()),
        Err(e) => {
            let status = e.status();
            let page = SourcePage::new(&session, form, Some(e.message().to_owned()));
            Ok((status, page).into_response())
        }
    }
}

async fn progress(app: &AppState, session: &Session, job: String) -> PageResult<Progress> {
    let view = scrape::get(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(job),
    )
    .await?
    .0;
    Ok(Progress::of(view))
}

/// `GET /integrations/new/scrape/{job}`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Path(job): Path<String>,
) -> PageResult<ScrapePage> {
    Ok(ScrapePage {
        chrome: session.chrome("integrations"),
        progress: progress(&app, &session, job).await?,
    })
}

/// `GET /integrations/new/scrape/{job}/progress`: the partial; once the job
/// succeeded, htmx is told to go on to the review (`HX-Redirect`).
pub async fn partial(
    State(app): State<AppState>,
    session: Session,
    Path(job): Path<String>,
) -> PageResult<Response> {
    let progress = progress(&app, &session, job).await?;
    let review = (progress.status == "succeeded")
        .then(|| format!("/integrations/new/scrape/{}/review", progress.job));
    let mut response = (StatusCode::OK, ProgressPartial { progress }).into_response();
    if let Some(review) = review.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert("hx-redirect", review);
    }
    Ok(response)
}
