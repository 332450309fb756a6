//! Health and metrics: per action over the last 24 hours, calls, error rate
//! and p50/p95 latency (`GET /api/v1/metrics` underneath) with a bar chart
//! drawn as inline SVG by this module; calls and p95 latency per hour over
//! the last [`SERIES_HOURS`] hours (`Store::log_series`), drawn the same way;
//! and each integration's breaker.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};

use super::page::{Chrome, PageResult};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::error::store_error;
use crate::api::integrations;
use crate::api::logs::{self, ActionStatsView, StatsQuery};
use crate::app::AppState;
use crate::ops::time::rfc3339;

/// Width of the chart's drawing area for bars, in SVG units (the view box
/// leaves 20 more for rounding).
const BAR_SPACE: f64 = 460.0;
/// Height of one action's row in the chart.
const ROW: u32 = 36;
/// Where bars start (after the label).
const LABEL_WIDTH: u32 = 240;

/// Hours the calls-over-time chart covers, one bucket each.
pub const SERIES_HOURS: u32 = 12;
/// Width of one hour's column in that chart.
const COLUMN: u32 = 56;
/// Height of its plot (the hour labels go below).
const PLOT: u32 = 120;

/// One hour of the calls-over-time chart.
pub struct Column {
    x: u32,
    /// Top and height of the calls bar (at least 1 with calls).
    bar_y: u32,
    bar_height: u32,
    /// Where the p95 line passes: the hour's middle, at this height (none
    /// without calls: an empty hour has no latency, not a zero one).
    p95: Option<(u32, u32)>,
    /// The hour it starts, `HH:MM` (UTC).
    label: String,
    /// What it shows, in words (the column's tooltip and accessible name).
    text: String,
}

/// The calls-over-time chart: calls as bars, p95 latency as a line, each
/// scaled to its own largest value.
pub struct Series {
    columns: Vec<Column>,
    /// The p95 line's points (`x,y …`), through the hours with calls.
    points: String,
    max_calls: u64,
    max_p95_ms: u64,
    width: u32,
}

fn series(buckets: &[waygate_store::LogBucket]) -> Series {
    let max_calls = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let max_p95_ms = buckets
        .iter()
        .map(|b| b.p95.as_millis() as u64)
        .max()
        .unwrap_or(0);
    let scale =
        |v: u64, max: u64| ((v as f64 / max.max(1) as f64) * f64::from(PLOT - 8)).round() as u32;
    let mut columns = Vec::with_capacity(buckets.len());
    let mut points = Vec::with_capacity(buckets.len());
    for (i, b) in (0u32..).zip(buckets) {
        let x = i * COLUMN;
        let height = if b.count == 0 {
            0
        } else {
            scale(b.count, max_calls).max(1)
        };
        let p95_ms = b.p95.as_millis() as u64;
        let start = rfc3339(b.start);
        let end = rfc3339(b.start + Duration::from_secs(3600));
        let hour = |t: &str| t.get(11..16).unwrap_or_default().to_owned();
        let errors = match b.errors {
            0 => String::new(),
            1 => " (1 error)".to_owned(),
            n => format!(" ({n} errors)"),
        };
        let p95 = (b.count > 0).then(|| (x + COLUMN / 2, PLOT - scale(p95_ms, max_p95_ms)));
        if let Some((px, py)) = p95 {
            points.push(format!("{px},{py}"));
        }
        columns.push(Column {
            x,
            p95,
            bar_y: PLOT - height,
            bar_height: height,
            text: format!(
                "{}–{} UTC: {} call{}{errors}, p95 {p95_ms} ms",
                hour(&start),
                hour(&end),
                b.count,
                if b.count == 1 { "" } else { "s" },
            ),
            label: hour(&start),
        });
    }
    Series {
        width: COLUMN * buckets.len().max(1) as u32,
        columns,
        points: points.join(" "),
        max_calls,
        max_p95_ms,
    }
}

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
    /// Calls and p95 latency per hour.
    series: Series,
    /// Height of the plot of [`Series`] (labels below it).
    plot: u32,
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
    let hour = Duration::from_secs(3600);
    let now = app.clock.now();
    // Whole hours, the current one last.
    let this_hour = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| std::time::UNIX_EPOCH + Duration::from_secs(d.as_secs() / 3600 * 3600))
        .unwrap_or(now);
    let buckets = app
        .store
        .log_series(
            &session.tenant,
            this_hour - hour * (SERIES_HOURS - 1),
            hour,
            SERIES_HOURS as usize,
        )
        .await
        .map_err(|e| store_error("reading log figures", &e))?;
    let bars = bars(&stats.data);
    Ok(HealthPage {
        chrome: session.chrome("health"),
        since: stats.since,
        height: bars.len() as u32 * ROW + 16,
        bar_x: LABEL_WIDTH,
        bars,
        stats: stats.data,
        integrations,
        series: series(&buckets),
        plot: PLOT,
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
    fn the_series_scales_calls_and_p95_each_to_its_largest() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(14 * 3600);
        let bucket = |hours: u64, count: u64, p95: u64| {
            waygate_store::LogBucket::new(
                at + Duration::from_secs(hours * 3600),
                count,
                count / 4,
                Duration::from_millis(p95),
            )
        };
        let s = series(&[bucket(0, 4, 50), bucket(1, 0, 0), bucket(2, 1, 100)]);
        assert_eq!((s.max_calls, s.max_p95_ms, s.width), (4, 100, 3 * COLUMN));
        assert_eq!(s.columns[0].bar_height, PLOT - 8);
        assert_eq!(s.columns[1].bar_height, 0, "no call, no bar");
        assert_eq!(s.columns[1].p95, None, "and no latency");
        assert_eq!(s.columns[2].bar_height, (PLOT - 8) / 4);
        assert_eq!(s.columns[0].label, "14:00");
        assert_eq!(
            s.columns[0].text,
            "14:00–15:00 UTC: 4 calls (1 error), p95 50 ms"
        );
        assert_eq!(s.columns[2].text, "16:00–17:00 UTC: 1 call, p95 100 ms");
        let top = PLOT - (PLOT - 8);
        assert_eq!(
            s.points,
            format!(
                "{},{} {},{top}",
                COLUMN / 2,
                PLOT - (PLOT - 8) / 2,
                COLUMN * 5 / 2
            )
        );
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
