//! One logged call (`GET /api/v1/logs/{requestId}` underneath): its
//! sanitized request and response, attempts and timing, and on failure the
//! error code with its suggested resolution.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use serde_json::Value;

use super::page::{Chrome, PageResult, pretty};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::logs::{self, LogView};
use crate::app::AppState;

/// The detail page.
#[derive(Template, WebTemplate)]
#[template(path = "log_detail.html")]
pub struct LogPage {
    chrome: Chrome,
    entry: LogView,
    /// The request as indented JSON.
    request: Option<String>,
    /// The response: indented when it is JSON, else as stored.
    response: Option<String>,
}

/// `GET /logs/{request_id}`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Path(request_id): Path<String>,
) -> PageResult<LogPage> {
    let entry = logs::get(State(app), Tenant(session.tenant.clone()), Path(request_id))
        .await?
        .0;
    Ok(LogPage {
        chrome: session.chrome("logs"),
        request: entry.request.as_ref().map(pretty),
        response: entry.response.as_deref().map(|r| {
            serde_json::from_str::<Value>(r)
                .map(|v| pretty(&v))
                .unwrap_or_else(|_| r.to_owned())
        }),
        entry,
    })
}
