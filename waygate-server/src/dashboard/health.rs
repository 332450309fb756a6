//! Health and metrics: per action over the last 24 hours, calls, error rate
//! and p50/p95 latency (`GET /api/v1/metrics` underneath) with a bar chart
//! drawn as inline SVG by this module, and each integration's breaker.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};

use super::page::{Chrome, PageResult};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::integrations;
use crate::api::logs::{self, ActionStatsView, StatsQuery};
use crate::app::AppState;

/// Width of the chart's drawing area for bars, in SVG units (the view box
/// leaves 20 more for rounding).
const BAR_SPACE: f64 = 460.0;
/// Height of one action's row in the chart.
const ROW: u32 = 36;
/// Where bars start (after the label).
const LABEL_WIDTH: u32 = 240;

/// One action's bars.
pub struct Bar {
    label: String,
    y: u32,
    p50_width: u32,
    p95_width: u32,
    text: String,
}

/// An integration's line in the table.
pub struct IntegrationHealth {
    slug: String,
    status: String,
    breaker: String,
}

/// The health page.
#[derive(Template, WebTemplate)]
#[template(path = "health.html")]
pub struct HealthPage {
    chrome: Chrome,
    since: String,
    stats: Vec<ActionStatsView>,
    bars: Vec<Bar>,
    height: u32,
    /// Where bars start, after the labels.
    bar_x: u32,
    integrations: Vec<IntegrationHealth>,
}

/// Bars scaled to the slowest p95 (at least 1 ms, so a chart of zeros draws).
fn bars(stats: &[ActionStatsView]) -> Vec<Bar> {
    let max = stats.iter().map(|s| s.p95_ms).max().unwrap_or(0).max(1) as f64;
    let scale = |ms: u64| ((ms as f64 / max) * BAR_SPACE).round().max(1.0) as u32;
    stats
        .iter()
        .enumerate()
        .map(|(i, s)| Bar {
            label: format!("{}.{}", s.integration, s.action),
            y: i as u32 * ROW + 8,
            p50_width: scale(s.p50_ms),
            p95_width: scale(s.p95_ms),
            text: format!("p50 {} ms · p95 {} ms", s.p50_ms, s.p95_ms),
        })
        .collect()
}

/// `GET /health`.
pub async fn page(State(app): State<AppState>, session: Session) -> PageResult<HealthPage> {
    let tenant = || Tenant(session.tenant.clone());
    let stats = logs::stats(
        State(app.clone()),
        tenant(),
        Query(StatsQuery { since: None }),
    )
    .await?
    .0;
    let mut slugs: Vec<String> = stats.data.iter().map(|s| s.integration.clone()).collect();
    slugs.sort();
    slugs.dedup();
    let mut integrations = Vec::with_capacity(slugs.len());
    for slug in slugs {
        // A deleted integration keeps its logs but has no health.
        if let Ok(h) = integrations::health(State(app.clone()), tenant(), Path(slug.clone())).await
        {
            integrations.push(IntegrationHealth {
                slug,
                status: h.0.status,
                breaker: h.0.circuit_breaker,
            });
        }
    }
    let bars = bars(&stats.data);
    Ok(HealthPage {
        chrome: session.chrome("health"),
        since: stats.since,
        height: bars.len() as u32 * ROW + 16,
        bar_x: LABEL_WIDTH,
        bars,
        stats: stats.data,
        integrations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(p50: u64, p95: u64) -> ActionStatsView {
        ActionStatsView {
            integration: "i".into(),
            action: "a".into(),
            count: 1,
            errors: 0,
            error_rate: 0.0,
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p95,
        }
    }

    #[test]
    fn bars_scale_to_the_slowest_p95() {
        let b = bars(&[stat(10, 100), stat(0, 0)]);
        assert_eq!(b[0].p95_width, BAR_SPACE as u32);
        assert_eq!(b[0].p50_width, (BAR_SPACE / 10.0) as u32);
        assert_eq!(b[1].p95_width, 1, "a zero still draws");
        assert_eq!(b[1].y, ROW + 8);
    }
}
