//! Scrape jobs (decision 72): rows of the `jobs` table with `kind = 'scrape'`.
//!
//! A job is created `queued` only while its tenant has fewer than a given number
//! of jobs queued or running (one statement, so the limit also holds across
//! replicas as far as the database serialises them). The process that runs it
//! claims it (`queued` → `running`) with a lease it renews while it works;
//! progress is written with each renewal. Every later write is a compare-and-set
//! on the status and the owner, so a cancelled job stays cancelled and a job
//! whose process died is never resurrected by a late write. Once its lease has
//! run out, another process takes it over once
//! ([`Store::take_over_abandoned_scrape_jobs`], decision 101); a job interrupted
//! again, or queued by a process that died before starting it, is failed by
//! [`Store::fail_abandoned_scrape_jobs`].

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::db::{self, get};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time::{duration_ms, from_ms, now_ms};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobStatus {
    /// Accepted, not started yet.
    Queued,
    /// A process is working on it.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl JobStatus {
    /// The stored and public name: `queued`, `running`, `succeeded`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => {
                return Err(Error::new(
                    crate::ErrorKind::Unavailable,
                    format!("a stored job has the unknown status '{other}'"),
                ));
            }
        })
    }

    /// Whether the job has ended (succeeded, failed or cancelled).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A scrape job as stored.
#[derive(Debug, Clone)]
pub struct ScrapeJob {
    /// Its id.
    pub id: String,
    /// Where it is.
    pub status: JobStatus,
    /// The request it was created with.
    pub request: Value,
    /// The last progress written.
    pub progress: Value,
    /// The result, once succeeded.
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
}

/// How a job ended, for [`Store::finish_scrape_job`].
#[derive(Debug, Clone, Copy)]
pub enum JobOutcome<'a> {
    /// Succeeded with this result.
    Succeeded(&'a Value),
    /// Failed for this reason.
    Failed(&'a str),
}

const ACTIVE: &str = "('queued', 'running')";

/// Runs a job gets at most: the first, and one resumed after an interruption.
const RUNS: i64 = 2;

/// A running job whose process stopped, now taken over by another.
#[derive(Debug, Clone)]
pub struct TakenJob {
    /// Its tenant.
    pub tenant: String,
    /// Its id.
    pub id: String,
    /// The request it was started with.
    pub request: Value,
    /// When it was created: pages cached since then were fetched for it.
    pub created_at: SystemTime,
}

fn parse_json(text: &str, column: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::new(
            crate::ErrorKind::Unavailable,
            format!("a stored job's {column} is not JSON"),
        )
        .with_source(e)
    })
}

impl Store {
    /// Stores a new `queued` job for `tenant`, unless the tenant already has
    /// `max_active` jobs queued or running: then nothing is stored and the
    /// answer is `false`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::NotFound`] for an unknown tenant; `Unavailable` on database failure.
    pub async fn create_scrape_job(
        &self,
        tenant: &str,
        id: &str,
        request: &Value,
        progress: &Value,
        max_active: u64,
    ) -> Result<bool> {
        let now = now_ms();
        let n = db::exec(
            self.db(),
            "storing a scrape job",
            &format!(
                "INSERT INTO jobs (id, tenant_id, kind, status, payload, progress, attempts, max_attempts,
                   run_at, created_at, updated_at)
                 SELECT $1, $2, 'scrape', 'queued', $3, $4, 0, {RUNS}, $5, $5, $5
                 WHERE (SELECT COUNT(*) FROM jobs
                        WHERE tenant_id = $2 AND kind = 'scrape' AND status IN {ACTIVE}) < $6"
            ),
            vec![
                id.into(),
                tenant.into(),
                request.to_string().into(),
                progress.to_string().into(),
                now.into(),
                i64::try_from(max_active).unwrap_or(i64::MAX).into(),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// The tenant's job with this id; another tenant's job is `None`.
    ///
    /// # Errors
    /// `Unavailable` on database failure or an unreadable row.
    pub async fn scrape_job(&self, tenant: &str, id: &str) -> Result<Option<ScrapeJob>> {
        let Some(row) = db::one(
            self.db(),
            "reading a scrape job",
            "SELECT id, status, payload, progress, result, last_error, created_at, updated_at
             FROM jobs WHERE tenant_id = $1 AND id = $2 AND kind = 'scrape'",
            vec![tenant.into(), id.into()],
        )
        .await?
        else {
            return Ok(None);
        };
        let progress: Option<String> = get(&row, "progress")?;
        let result: Option<String> = get(&row, "result")?;
        Ok(Some(ScrapeJob {
            id: get(&row, "id")?,
            status: JobStatus::parse(&get::<String>(&row, "status")?)?,
            request: parse_json(&get::<String>(&row, "payload")?, "request")?,
            progress: match progress {
                Some(p) => parse_json(&p, "progress")?,
                None => Value::Null,
            },
            result: result.map(|r| parse_json(&r, "result")).transpose()?,
            error: get(&row, "last_error")?,
            created_at: from_ms(get(&row, "created_at")?),
            updated_at: from_ms(get(&row, "updated_at")?),
        }))
    }

    /// Takes a `queued` job for `owner` with a lease of `lease`; `false` when it
    /// is no longer queued (cancelled, or taken).
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn claim_scrape_job(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool> {
        let now = now_ms();
        let n = db::exec(
            self.db(),
            "claiming a scrape job",
            "UPDATE jobs SET status = 'running', locked_by = $3, locked_until = $4,
               attempts = attempts + 1, updated_at = $5
             WHERE tenant_id = $1 AND id = $2 AND kind = 'scrape' AND status = 'queued'",
            vec![
                tenant.into(),
                id.into(),
                owner.into(),
                now.saturating_add(duration_ms(lease)).into(),
                now.into(),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// Renews `owner`'s lease on a running job and writes its progress;
    /// `false` when the job is no longer running for `owner` (cancelled, or
    /// failed after the lease ran out): the owner stops then.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn renew_scrape_job(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        lease: Duration,
        progress: &Value,
    ) -> Result<bool> {
        let now = now_ms();
        let n = db::exec(
            self.db(),
            "renewing a scrape job",
            "UPDATE jobs SET locked_until = $4, progress = $5, updated_at = $6
             WHERE tenant_id = $1 AND id = $2 AND kind = 'scrape' AND status = 'running'
               AND locked_by = $3",
            vec![
                tenant.into(),
                id.into(),
                owner.into(),
                now.saturating_add(duration_ms(lease)).into(),
                progress.to_string().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// Ends `owner`'s running job; `false` when it was no longer running for
    /// `owner` (a cancelled job keeps its status).
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn finish_scrape_job(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        outcome: JobOutcome<'_>,
        progress: &Value,
    ) -> Result<bool> {
        let (status, result, error) = match outcome {
            JobOutcome::Succeeded(result) => (JobStatus::Succeeded, Some(result.to_string()), None),
            JobOutcome::Failed(error) => (JobStatus::Failed, None, Some(error.to_owned())),
        };
        let n = db::exec(
            self.db(),
            "finishing a scrape job",
            "UPDATE jobs SET status = $4, result = $5, last_error = $6, progress = $7,
               locked_by = NULL, locked_until = NULL, updated_at = $8
             WHERE tenant_id = $1 AND id = $2 AND kind = 'scrape' AND status = 'running'
               AND locked_by = $3",
            vec![
                tenant.into(),
                id.into(),
                owner.into(),
                status.as_str().into(),
                result.into(),
                error.into(),
                progress.to_string().into(),
                now_ms().into(),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// Cancels the tenant's job if it is queued or running; the job as it is
    /// afterwards (`None` when the tenant has no such job). A job that had
    /// ended already keeps its status: the caller sees it is final.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn cancel_scrape_job(&self, tenant: &str, id: &str) -> Result<Option<ScrapeJob>> {
        db::exec(
            self.db(),
            "cancelling a scrape job",
            &format!(
                "UPDATE jobs SET status = 'cancelled', last_error = 'cancelled',
                   locked_by = NULL, locked_until = NULL, updated_at = $3
                 WHERE tenant_id = $1 AND id = $2 AND kind = 'scrape' AND status IN {ACTIVE}"
            ),
            vec![tenant.into(), id.into(), now_ms().into()],
        )
        .await?;
        self.scrape_job(tenant, id).await
    }

    /// Takes over, for `owner` with a lease of `lease`, running jobs whose lease
    /// ran out and that have a run left (decision 101); each is a compare-and-set,
    /// so of several processes sweeping at once one takes a job. At most `limit`.
    ///
    /// # Errors
    /// `Unavailable` on database failure or an unreadable row.
    pub async fn take_over_abandoned_scrape_jobs(
        &self,
        owner: &str,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<TakenJob>> {
        let now = now_ms();
        let rows = db::all(
            self.db(),
            "finding abandoned scrape jobs",
            "SELECT id, tenant_id, payload, created_at FROM jobs
             WHERE kind = 'scrape' AND status = 'running' AND locked_until < $1
               AND attempts < max_attempts
             ORDER BY created_at LIMIT $2",
            vec![now.into(), i64::try_from(limit).unwrap_or(i64::MAX).into()],
        )
        .await?;
        let mut taken = Vec::new();
        for row in rows {
            let id: String = get(&row, "id")?;
            let n = db::exec(
                self.db(),
                "taking over a scrape job",
                "UPDATE jobs SET locked_by = $2, locked_until = $3, attempts = attempts + 1,
                   updated_at = $4
                 WHERE id = $1 AND kind = 'scrape' AND status = 'running' AND locked_until < $4
                   AND attempts < max_attempts",
                vec![
                    id.as_str().into(),
                    owner.into(),
                    now.saturating_add(duration_ms(lease)).into(),
                    now.into(),
                ],
            )
            .await?;
            if n == 1 {
                taken.push(TakenJob {
                    tenant: get(&row, "tenant_id")?,
                    id,
                    request: parse_json(&get::<String>(&row, "payload")?, "request")?,
                    created_at: from_ms(get(&row, "created_at")?),
                });
            }
        }
        Ok(taken)
    }

    /// Fails every job whose process is gone and that is not taken over
    /// (decision 72): running jobs whose lease ran out after their last run,
    /// and queued jobs nobody claimed within `grace` (the process that accepted
    /// them stopped first). Returns how many.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn fail_abandoned_scrape_jobs(&self, grace: Duration) -> Result<u64> {
        let now = now_ms();
        db::exec(
            self.db(),
            "failing abandoned scrape jobs",
            "UPDATE jobs SET status = 'failed',
               last_error = CASE WHEN status = 'running'
                 THEN 'interrupted: the gateway running it stopped, and again after it was resumed; start it again'
                 ELSE 'interrupted: the gateway that accepted it stopped before starting it; start it again' END,
               locked_by = NULL, locked_until = NULL, updated_at = $1
             WHERE kind = 'scrape' AND (
               (status = 'running' AND locked_until < $1 AND attempts >= max_attempts)
               OR (status = 'queued' AND created_at < $2))",
            vec![now.into(), now.saturating_sub(duration_ms(grace)).into()],
        )
        .await
    }

    /// Deletes scrape jobs that ended before `cutoff`; returns how many.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn purge_scrape_jobs(&self, cutoff: SystemTime) -> Result<u64> {
        db::exec(
            self.db(),
            "purging old scrape jobs",
            "DELETE FROM jobs WHERE kind = 'scrape'
               AND status IN ('succeeded', 'failed', 'cancelled') AND updated_at < $1",
            vec![crate::time::to_ms(cutoff).into()],
        )
        .await
    }
}
