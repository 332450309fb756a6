//! Per-action figures from the request logs: counts, error rates and latency
//! percentiles over a recent window.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::db::{self, get};
use crate::error::Result;
use crate::store::Store;
use crate::time::to_ms;

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
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Duration::from_millis(50));
        assert_eq!(percentile(&v, 95), Duration::from_millis(95));
        assert_eq!(percentile(&v, 99), Duration::from_millis(99));
        assert_eq!(percentile(&[7], 99), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
