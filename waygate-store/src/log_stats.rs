//! Figures from the request logs over a recent window: per action, counts,
//! error rates and latency percentiles; over time, calls and p95 latency per
//! time bucket.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::db::{self, get};
use crate::error::Result;
use crate::store::Store;
use crate::time::{from_ms, to_ms};

/// Entries read at most for one report: the newest ones in the window.
const MAX_ROWS: i64 = 100_000;

/// Figures of one action.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ActionStats {
    /// Integration slug.
    pub integration: String,
    /// Action slug.
    pub action: String,
    /// Invocations.
    pub count: u64,
    /// Invocations that ended in an error.
    pub errors: u64,
    /// Median duration.
    pub p50: Duration,
    /// 95th percentile duration.
    pub p95: Duration,
    /// 99th percentile duration.
    pub p99: Duration,
}

impl Store {
    /// Figures per action of `tenant` for invocations started at or after
    /// `since` (at most the newest 100 000), by integration and action.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn log_stats(&self, tenant: &str, since: SystemTime) -> Result<Vec<ActionStats>> {
        let rows = db::all(
            self.db(),
            "reading log figures",
            "SELECT integration, action, duration_ms, error_code FROM request_logs
             WHERE tenant_id = $1 AND started_at >= $2 ORDER BY started_at DESC LIMIT $3",
            vec![tenant.into(), to_ms(since).into(), MAX_ROWS.into()],
        )
        .await?;
        let mut groups: BTreeMap<(String, String), (Vec<u64>, u64)> = BTreeMap::new();
        for row in &rows {
            let key = (get(row, "integration")?, get(row, "action")?);
            let ms = u64::try_from(get::<i64>(row, "duration_ms")?).unwrap_or(0);
            let failed = get::<Option<String>>(row, "error_code")?.is_some();
            let entry = groups.entry(key).or_default();
            entry.0.push(ms);
            entry.1 += u64::from(failed);
        }
        Ok(groups
            .into_iter()
            .map(|((integration, action), (mut durations, errors))| {
                durations.sort_unstable();
                ActionStats {
                    integration,
                    action,
                    count: durations.len() as u64,
                    errors,
                    p50: percentile(&durations, 50),
                    p95: percentile(&durations, 95),
                    p99: percentile(&durations, 99),
                }
            })
            .collect())
    }
}

/// Calls of one time bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogBucket {
    /// When the bucket starts (it lasts the series' width).
    pub start: SystemTime,
    /// Invocations started in it.
    pub count: u64,
    /// Invocations that ended in an error.
    pub errors: u64,
    /// Their 95th percentile duration (zero without invocations).
    pub p95: Duration,
}

impl LogBucket {
    /// A bucket with these figures (for callers that draw series).
    pub fn new(start: SystemTime, count: u64, errors: u64, p95: Duration) -> Self {
        Self {
            start,
            count,
            errors,
            p95,
        }
    }
}

impl Store {
    /// `tenant`'s invocations (all integrations) in `buckets` consecutive
    /// buckets of `width` from `since`, oldest first, empty ones included;
    /// the newest 100 000 in the window are read at most.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn log_series(
        &self,
        tenant: &str,
        since: SystemTime,
        width: Duration,
        buckets: usize,
    ) -> Result<Vec<LogBucket>> {
        let rows = db::all(
            self.db(),
            "reading log figures",
            "SELECT started_at, duration_ms, error_code FROM request_logs
             WHERE tenant_id = $1 AND started_at >= $2 ORDER BY started_at DESC LIMIT $3",
            vec![tenant.into(), to_ms(since).into(), MAX_ROWS.into()],
        )
        .await?;
        let mut calls = Vec::with_capacity(rows.len());
        for row in &rows {
            calls.push(Call {
                at_ms: get(row, "started_at")?,
                ms: u64::try_from(get::<i64>(row, "duration_ms")?).unwrap_or(0),
                failed: get::<Option<String>>(row, "error_code")?.is_some(),
            });
        }
        let width_ms = i64::try_from(width.as_millis()).unwrap_or(i64::MAX).max(1);
        Ok(bucketed(&calls, to_ms(since), width_ms, buckets))
    }
}

/// One logged invocation, as a series reads it.
struct Call {
    at_ms: i64,
    ms: u64,
    failed: bool,
}

/// `calls` into `n` buckets of `width_ms` from `since_ms` (those outside left out).
fn bucketed(calls: &[Call], since_ms: i64, width_ms: i64, n: usize) -> Vec<LogBucket> {
    let mut groups: Vec<(Vec<u64>, u64)> = vec![(Vec::new(), 0); n];
    for call in calls {
        let slot = usize::try_from((call.at_ms - since_ms).div_euclid(width_ms)).ok();
        if let Some(group) = slot.and_then(|i| groups.get_mut(i)) {
            group.0.push(call.ms);
            group.1 += u64::from(call.failed);
        }
    }
    (0_i64..)
        .zip(groups)
        .map(|(i, (mut durations, errors))| {
            durations.sort_unstable();
            LogBucket::new(
                from_ms(since_ms + i * width_ms),
                durations.len() as u64,
                errors,
                percentile(&durations, 95),
            )
        })
        .collect()
}

/// The nearest-rank percentile of sorted milliseconds.
fn percentile(sorted: &[u64], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Duration::from_millis(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_fall_into_their_buckets_and_empty_buckets_stay() {
        let call = |at_ms, ms, failed| Call { at_ms, ms, failed };
        let calls = [
            call(1_000, 5, false),
            call(1_999, 7, true),
            call(3_500, 100, false),
            call(999, 1, false),
            call(5_000, 1, false),
        ];
        let series = bucketed(&calls, 1_000, 1_000, 4);
        let figures: Vec<_> = series.iter().map(|b| (b.count, b.errors, b.p95)).collect();
        let ms = Duration::from_millis;
        assert_eq!(
            figures,
            [(2, 1, ms(7)), (0, 0, ms(0)), (1, 0, ms(100)), (0, 0, ms(0))]
        );
        assert_eq!(series[2].start, from_ms(3_000));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Duration::from_millis(50));
        assert_eq!(percentile(&v, 95), Duration::from_millis(95));
        assert_eq!(percentile(&v, 99), Duration::from_millis(99));
        assert_eq!(percentile(&[7], 99), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
