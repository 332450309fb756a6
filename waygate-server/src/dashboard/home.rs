//! Home: the tenant's integrations with status, tags, action counts, calls
//! of the last day and the time since the last call; a guided first step
//! when there are none.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::page::{Chrome, PageResult, ago, notice, tag_colour};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::integrations::{self, ListIntegrations};
use crate::api::logs::{self, ListLogs, StatsQuery};
use crate::api::page::PageParams;
use crate::api::tags;
use crate::app::AppState;
use crate::ops::time::parse_rfc3339;

/// Query of `/`.
#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    /// Only integrations whose slug or name contains this.
    #[serde(default)]
    q: Option<String>,
    /// Only integrations with this tag.
    #[serde(default)]
    tag: Option<String>,
    /// A notice to show after a redirect.
    #[serde(default)]
    done: Option<String>,
}

/// A tag chip: text and colour.
pub struct Chip {
    /// The tag.
    pub tag: String,
    /// Its colour class (0–5).
    pub colour: u8,
    /// Integrations with it (in the filter), or 0 on a card.
    pub count: u64,
}

/// One integration on the home page.
pub struct Row {
    slug: String,
    name: String,
    /// `connected`, `inactive` or `error`.
    status: &'static str,
    /// The same in the fantasy labels.
    fantasy: &'static str,
    tags: Vec<Chip>,
    actions: u64,
    calls: u64,
    /// Time since the latest logged call ("5 min ago"), if any.
    last_call: Option<String>,
    /// That call's start, RFC 3339.
    last_call_at: Option<String>,
}

/// The home page.
#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    chrome: Chrome,
    rows: Vec<Row>,
    tags: Vec<Chip>,
    q: String,
    tag: String,
    total: u64,
    notice: Option<&'static str>,
}

/// The status the home page shows for an integration: `disabled` is
/// inactive, a degraded health is an error, a missing credential is inactive.
fn status(stored: &str, health: &str) -> (&'static str, &'static str) {
    match (stored, health) {
        ("disabled", _) | (_, "unconfigured") => ("inactive", "Dormant"),
        (_, "degraded") => ("error", "Cursed"),
        _ => ("connected", "Enchanted"),
    }
}

/// `GET /`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Query(q): Query<HomeQuery>,
) -> PageResult<HomePage> {
    let tenant = || Tenant(session.tenant.clone());
    let listed = integrations::list(
        State(app.clone()),
        tenant(),
        Query(ListIntegrations {
            tag: q.tag.clone().filter(|t| !t.is_empty()),
            q: q.q.clone().filter(|t| !t.is_empty()),
            limit: Some(500),
            cursor: None,
        }),
    )
    .await?
    .0;
    let stats = logs::stats(
        State(app.clone()),
        tenant(),
        Query(StatsQuery { since: None }),
    )
    .await?
    .0;
    let mut calls: HashMap<String, u64> = HashMap::new();
    for s in stats.data {
        *calls.entry(s.integration).or_default() += s.count;
    }
    let mut rows = Vec::with_capacity(listed.data.len());
    for i in listed.data {
        let health = integrations::health(
            State(app.clone()),
            tenant(),
            axum::extract::Path(i.slug.clone()),
        )
        .await?
        .0;
        let (status, fantasy) = status(&i.status, &health.status);
        let last_call_at = last_call(&app, &session.tenant, &i.slug).await?;
        rows.push(Row {
            last_call: last_call_at
                .as_deref()
                .and_then(|t| parse_rfc3339("startedAt", t).ok())
                .map(|t| ago(app.clock.now(), t)),
            last_call_at,
            calls: calls.get(&i.slug).copied().unwrap_or(0),
            status,
            fantasy,
            tags: i
                .tags
                .iter()
                .map(|t| Chip {
                    colour: tag_colour(t),
                    tag: t.clone(),
                    count: 0,
                })
                .collect(),
            actions: i.action_count,
            slug: i.slug,
            name: i.name,
        });
    }
    let tags = tags::list(
        State(app.clone()),
        tenant(),
        Query(PageParams {
            limit: Some(100),
            cursor: None,
        }),
    )
    .await?
    .0
    .data
    .into_iter()
    .map(|t| Chip {
        colour: tag_colour(&t.tag),
        tag: t.tag,
        count: t.integration_count,
    })
    .collect();
    Ok(HomePage {
        chrome: session.chrome("integrations"),
        total: listed.pagination.total_count.unwrap_or(rows.len() as u64),
        rows,
        tags,
        q: q.q.unwrap_or_default(),
        tag: q.tag.unwrap_or_default(),
        notice: notice(q.done.as_deref()),
    })
}

/// When the integration's latest logged call started (`GET /api/v1/logs`,
/// one entry).
async fn last_call(
    app: &AppState,
    tenant: &str,
    slug: &str,
) -> Result<Option<String>, crate::api::error::ApiError> {
    let latest = logs::list(
        State(app.clone()),
        Tenant(tenant.to_owned()),
        Query(ListLogs {
            integration: Some(slug.to_owned()),
            action: None,
            status: None,
            since: None,
            limit: Some(1),
            cursor: None,
        }),
    )
    .await?
    .0;
    Ok(latest.data.into_iter().next().map(|l| l.started_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_stored_status_and_health() {
        assert_eq!(status("active", "healthy"), ("connected", "Enchanted"));
        assert_eq!(status("disabled", "healthy"), ("inactive", "Dormant"));
        assert_eq!(status("active", "unconfigured"), ("inactive", "Dormant"));
        assert_eq!(status("active", "degraded"), ("error", "Cursed"));
    }
}
