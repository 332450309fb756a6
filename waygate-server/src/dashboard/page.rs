//! What every page shares: the chrome around its content (navigation, the
//! sign-out form with its CSRF token), error pages, and small view helpers.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::app::AppState;

/// The frame of a page: who is signed in, where they are, the CSRF token the
/// page's forms carry.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Whether a session is open (navigation and sign-out shown).
    pub signed_in: bool,
    /// The tenant's id.
    pub tenant: String,
    /// The CSRF token for this page's forms.
    pub csrf: String,
    /// The navigation entry that is current (`integrations`, `logs`, …).
    pub nav: &'static str,
    /// The crate version: assets are linked with it, so upgrades fetch them anew.
    pub version: &'static str,
}

impl Chrome {
    /// The frame of a signed-in page.
    pub fn signed_in(tenant: &str, csrf: &str, nav: &'static str) -> Self {
        Self {
            signed_in: true,
            tenant: tenant.to_owned(),
            csrf: csrf.to_owned(),
            nav,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The frame of a page without a session (sign-in, errors).
    pub fn anonymous(csrf: &str) -> Self {
        Self {
            signed_in: false,
            tenant: String::new(),
            csrf: csrf.to_owned(),
            nav: "",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// An error shown as a page, with the gateway's status, code and message.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

/// The error page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    code: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            chrome: Chrome::anonymous(""),
            status: status.as_u16(),
            code: self.0.code(),
            message: self.0.message().to_owned(),
        };
        (status, page).into_response()
    }
}

/// Results of page handlers.
pub type PageResult<T> = Result<T, PageError>;

/// `value` as indented JSON for a `<pre>` block.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// One of six chip colours for a tag, the same on every page.
pub fn tag_colour(tag: &str) -> u8 {
    (tag.bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 6) as u8
}

/// A fixed message for a `?done=` notice after a redirect (never the query's text).
pub fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "imported" => "Integration created. Add a connection to start calling it.",
        "connected" => "Connection saved.",
        "disconnected" => "Connection removed.",
        "revoked" => "API key revoked.",
        "saved" => "Settings saved: the next call uses them.",
        "refreshed" => "Token refreshed.",
        "authorized" => "Connection authorized.",
        _ => return None,
    })
}

/// How long ago `then` was, in words: "just now", "5 min ago", "3 h ago",
/// "2 days ago" (a time in the future reads "just now").
pub fn ago(now: std::time::SystemTime, then: std::time::SystemTime) -> String {
    let secs = now.duration_since(then).map(|d| d.as_secs()).unwrap_or(0);
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => match secs / 86_400 {
            1 => "1 day ago".to_owned(),
            days => format!("{days} days ago"),
        },
    }
}

/// The gateway's origin as callers reach it (snippets, the MCP endpoint): the
/// public URL, else this request's host.
pub fn origin(app: &AppState, headers: &HeaderMap) -> String {
    match &app.settings.public_url {
        Some(url) => url.origin().ascii_serialization(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1:8080");
            format!("http://{host}")
        }
    }
}

/// The tenant's integrations as (slug, name), for filters and lists
/// (`GET /api/v1/integrations` underneath, up to 500).
///
/// # Errors
/// What listing answers (503 when the store is unavailable).
pub async fn integration_names(
    app: &AppState,
    tenant: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    use crate::api::integrations::{self, ListIntegrations};
    let listed = integrations::list(
        axum::extract::State(app.clone()),
        crate::api::auth::Tenant(tenant.to_owned()),
        axum::extract::Query(ListIntegrations {
            tag: None,
            q: None,
            limit: Some(500),
            cursor: None,
        }),
    )
    .await?;
    Ok(listed
        .0
        .data
        .into_iter()
        .map(|i| (i.slug, i.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::ago;

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10 * 86_400);
        let before = |s: u64| now - Duration::from_secs(s);
        assert_eq!(ago(now, before(5)), "just now");
        assert_eq!(ago(now, now + Duration::from_secs(5)), "just now");
        assert_eq!(ago(now, before(300)), "5 min ago");
        assert_eq!(ago(now, before(3 * 3600 + 5)), "3 h ago");
        assert_eq!(ago(now, before(86_400)), "1 day ago");
        assert_eq!(ago(now, before(9 * 86_400)), "9 days ago");
    }
}
