//! CPU-heavy request work off the threads that serve requests.
//!
//! Parsing, importing and checking a definition or an OpenAPI document costs
//! CPU in proportion to its size (up to the body limit), while an invocation
//! or `/healthz` costs microseconds. The serving threads are one per core
//! (decision 35): a few large documents parsed on them would stall every
//! connection those threads hold. [`CpuPool::run`] moves such work to tokio's
//! blocking threads and runs at most `jobs` of them at once across the
//! process, so the serving threads keep a core; a job that cannot start
//! within the queue wait is refused with 503 and `Retry-After` instead of
//! piling up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::api::error::ApiError;

/// Bounded CPU work; cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
    queue_wait: Duration,
}

impl CpuPool {
    /// A pool running at most `jobs` jobs at once (at least one); a job waits
    /// at most `queue_wait` for its turn.
    pub fn new(jobs: usize, queue_wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(jobs.max(1))),
            queue_wait,
        }
    }

    /// The default number of jobs: every core but one for the serving
    /// threads, at least one.
    pub fn default_jobs() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .max(1)
    }

    /// Runs `job` on a blocking thread once a slot is free.
    ///
    /// The slot is held by the job itself, so a caller that goes away (the
    /// client hung up) does not free it before the work ends: the bound holds
    /// for work in flight, not only for work awaited.
    ///
    /// # Errors
    /// 503 `SERVICE_BUSY` when no slot frees within the queue wait; 500 when
    /// the job panicked (logged).
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit =
            match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned()).await
            {
                Ok(Ok(permit)) => permit,
                // The semaphore is never closed; treat it like a full queue.
                Ok(Err(_)) | Err(_) => {
                    return Err(ApiError::busy(
                        "the gateway is busy with other large documents",
                        self.queue_wait,
                    ));
                }
            };
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            job()
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a CPU job failed");
            ApiError::internal()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn at_most_jobs_run_at_once() {
        let pool = CpuPool::new(2, Duration::from_secs(30));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let calls = (0..8).map(|_| {
            let (running, peak) = (running.clone(), peak.clone());
            pool.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for result in futures::future::join_all(calls).await {
            result.expect("every job runs");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_job_that_cannot_start_in_time_is_refused_as_busy() {
        let pool = CpuPool::new(1, Duration::from_millis(20));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = pool.run(move || hold.recv().ok());
        let waiting = pool.run(|| ());
        let (first, second) = tokio::join!(busy, async {
            let answer = waiting.await;
            release.send(()).ok();
            answer
        });
        assert!(first.is_ok());
        let refused = second.expect_err("no slot freed in time");
        assert_eq!(
            refused.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(refused.code(), "SERVICE_BUSY");
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_internal_error_and_frees_its_slot() {
        let pool = CpuPool::new(1, Duration::from_secs(5));
        let failed = pool.run(|| panic!("boom")).await;
        assert_eq!(
            failed.expect_err("the job panicked").status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(pool.run(|| 7).await.expect("the slot is free again"), 7);
    }
}
