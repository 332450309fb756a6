//! Running scrape jobs (decision 72): `waygate_discover::discover` in a task on
//! the main runtime, its progress and lease written to the store every
//! [`HEARTBEAT`], its result bounded, stored, and compared with the tenant's
//! stored integration when the request names one.
//!
//! Cancelling is a status change in the store: the runner learns of it at its
//! next heartbeat (whatever replica it runs on) and drops the crawl. A runner
//! whose process dies stops renewing its lease; [`sweep_abandoned`] then takes
//! the job over and runs it again from its stored request, reusing the pages
//! the interrupted run cached without asking for them again (decision 101); a
//! job interrupted a second time is failed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use url::Url;
use waygate_core::IntegrationDef;
use waygate_core::storage::IntegrationStore as _;
use waygate_discover::cache::{CachedPage, PageCache};
use waygate_discover::llm::LlmProvider;
use waygate_discover::{DiscoverOptions, Discovery, Mode, Pasted, Progress, diff, discover};
use waygate_store::{JobOutcome, Store, TakenJob};

use crate::app::{AppState, causes};

/// How long a running job's lease lasts without a heartbeat.
pub const LEASE: Duration = Duration::from_secs(15);

/// How often a runner writes its progress and renews its lease (and so how
/// soon it sees a cancel).
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// How often abandoned jobs are looked for.
pub const SWEEP: Duration = Duration::from_secs(5);

/// The longest a job may run.
const JOB_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The largest result stored: actions past it are left out, with a warning.
pub const MAX_RESULT_BYTES: usize = 2 * 1024 * 1024;

/// Pages a tenant's cache keeps.
const CACHED_PAGES_PER_TENANT: u64 = 2_000;

/// Finished jobs are kept this long.
pub const KEEP_FINISHED: Duration = Duration::from_secs(7 * 86_400);

/// A scrape job's request, checked.
#[derive(Debug, Clone)]
pub struct ScrapeSpec {
    /// Start URLs.
    pub urls: Vec<Url>,
    /// Crawl mode.
    pub mode: Mode,
    /// Phrases for the actions wanted most.
    pub wishlist: Vec<String>,
    /// Pages fetched at most.
    pub max_pages: usize,
    /// The stored integration to compare the draft with.
    pub integration: Option<String>,
    /// Pages given as content.
    pub pasted: Vec<Pasted>,
}

/// The scrape jobs of this process: the LLM they use and their limits.
pub struct ScrapeJobs {
    /// This process's name as a lease owner.
    owner: String,
    /// The LLM extraction uses beside the heuristics, when configured.
    llm: Option<Arc<dyn LlmProvider>>,
    /// Jobs a tenant may have queued or running at once.
    pub max_active: u64,
    /// The runtime jobs run on (the main one, not a connection worker's).
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for ScrapeJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeJobs")
            .field("llm", &self.llm.as_ref().map(|l| l.name().to_owned()))
            .field("max_active", &self.max_active)
            .finish_non_exhaustive()
    }
}

impl ScrapeJobs {
    /// Jobs on the current runtime, with `llm` when given.
    pub fn new(llm: Option<Arc<dyn LlmProvider>>, max_active: u64) -> Self {
        Self {
            owner: uuid::Uuid::new_v4().to_string(),
            llm,
            max_active,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Starts the stored, queued job `id`.
    pub fn start(&self, app: &AppState, tenant: String, id: String, spec: ScrapeSpec) {
        let app = app.clone();
        self.runtime.spawn(async move {
            let outcome = match app
                .store
                .claim_scrape_job(&tenant, &id, &app.scrapes.owner, LEASE)
                .await
            {
                Ok(true) => run(&app, &tenant, &id, spec, None).await,
                Ok(false) => Ok(()), // cancelled before it started
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                tracing::warn!(job = %id, error = %causes(&e), "a scrape job's state could not be written");
            }
        });
    }

    /// Runs a job this process has taken over after its runner stopped.
    fn resume(&self, app: &AppState, job: TakenJob) {
        let app = app.clone();
        self.runtime.spawn(async move {
            let TakenJob {
                tenant,
                id,
                request,
                created_at,
            } = job;
            let outcome = match crate::api::scrape::stored_spec(&app, &request) {
                Ok(spec) => run(&app, &tenant, &id, spec, Some(created_at)).await,
                Err(error) => app
                    .store
                    .finish_scrape_job(
                        &tenant,
                        &id,
                        &app.scrapes.owner,
                        JobOutcome::Failed(&format!("interrupted, and not resumed: {error}")),
                        &Step::default().to_json(),
                    )
                    .await
                    .map(drop),
            };
            if let Err(e) = outcome {
                tracing::warn!(job = %id, error = %causes(&e), "a resumed scrape job's state could not be written");
            }
        });
    }
}

/// The progress shown while a job runs.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    stage: &'static str,
    pages_fetched: usize,
    pages_total: usize,
}

impl Step {
    fn to_json(self) -> Value {
        json!({"stage": self.stage, "pagesFetched": self.pages_fetched, "pagesTotal": self.pages_total})
    }
}

/// The progress of a job that has not started.
pub fn queued_progress(pages_total: usize) -> Value {
    Step {
        stage: "queued",
        pages_fetched: 0,
        pages_total,
    }
    .to_json()
}

/// Runs a job this process holds the lease of. `resumed_from` is set when an
/// interrupted run is taken over: pages cached since then are reused.
async fn run(
    app: &AppState,
    tenant: &str,
    id: &str,
    spec: ScrapeSpec,
    resumed_from: Option<SystemTime>,
) -> Result<(), waygate_store::Error> {
    let jobs = &app.scrapes;
    let store = &app.store;
    let step = Arc::new(Mutex::new(Step {
        stage: "crawling",
        pages_fetched: 0,
        pages_total: spec.max_pages,
    }));
    let now = || *step.lock().unwrap_or_else(|e| e.into_inner());
    let seen = step.clone();
    let report = move |p: Progress| {
        let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Stage(stage) => s.stage = stage,
            Progress::Fetched {
                pages_fetched,
                pages_total,
                ..
            } => {
                s.pages_fetched = pages_fetched;
                s.pages_total = pages_total;
            }
            Progress::Skipped { .. } | Progress::SpecFound { .. } => {}
        }
    };
    let mut options = DiscoverOptions::new(spec.urls.clone());
    options.mode = spec.mode;
    options.max_pages = spec.max_pages;
    options.wishlist.clone_from(&spec.wishlist);
    options.policy = app.policy;
    options.llm.clone_from(&jobs.llm);
    options.pasted.clone_from(&spec.pasted);
    options.cache = Some(Arc::new(TenantPages {
        store: store.clone(),
        tenant: tenant.to_owned(),
        reuse_since: resumed_from,
    }));
    let discovery = discover(&options, &report);
    tokio::pin!(discovery);
    let deadline = tokio::time::sleep(JOB_TIMEOUT);
    tokio::pin!(deadline);
    let mut beat = tokio::time::interval(HEARTBEAT);
    let outcome = loop {
        tokio::select! {
            found = &mut discovery => break found.map_err(|e| e.to_string()),
            () = &mut deadline => break Err(format!("timed out after {} minutes", JOB_TIMEOUT.as_secs() / 60)),
            _ = beat.tick() => {
                match store.renew_scrape_job(tenant, id, &jobs.owner, LEASE, &now().to_json()).await {
                    Ok(true) => {}
                    // Cancelled, or failed by a sweep: the crawl is dropped here.
                    Ok(false) => return Ok(()),
                    Err(e) => tracing::warn!(job = %id, error = %causes(&e), "renewing a scrape job failed"),
                }
            }
        }
    };
    let mut last = now();
    last.stage = "done";
    match outcome {
        Ok(mut found) => {
            if resumed_from.is_some() {
                found.warnings.push(format!(
                    "resumed after the gateway running it stopped: {} pages fetched before were reused",
                    found.cache.reused
                ));
            }
            let result = result(app, tenant, &spec, found).await;
            store
                .finish_scrape_job(
                    tenant,
                    id,
                    &jobs.owner,
                    JobOutcome::Succeeded(&result),
                    &last.to_json(),
                )
                .await?;
        }
        Err(error) => {
            last.stage = "failed";
            tracing::info!(job = %id, %error, "a scrape job failed");
            store
                .finish_scrape_job(
                    tenant,
                    id,
                    &jobs.owner,
                    JobOutcome::Failed(&error),
                    &last.to_json(),
                )
                .await?;
        }
    }
    if let Err(e) = store
        .prune_page_cache(tenant, CACHED_PAGES_PER_TENANT)
        .await
    {
        tracing::warn!(error = %causes(&e), "pruning the page cache failed");
    }
    Ok(())
}

/// The stored result: the draft (bounded), what the crawl saw, and the diff
/// against the stored integration when the request named one.
async fn result(app: &AppState, tenant: &str, spec: &ScrapeSpec, found: Discovery) -> Value {
    let mut warnings = found.warnings;
    let integration = bounded(found.integration, MAX_RESULT_BYTES, &mut warnings);
    let diff = match &spec.integration {
        Some(slug) => match app.integrations.integration(tenant, slug).await {
            Ok(Some(stored)) => Some(diff::diff(&stored.def, &integration)),
            Ok(None) => {
                warnings.push(format!("integration '{slug}' no longer exists: no diff"));
                None
            }
            Err(e) => {
                warnings.push(format!("integration '{slug}' could not be read: {e}"));
                None
            }
        },
        None => None,
    };
    let cache = found.cache;
    let rate = found.rate_limits;
    let mut result = json!({
        "integration": integration,
        "pages": found.pages,
        "specs": found.specs,
        "warnings": warnings,
        "loginRequired": found.login_required,
        "cache": {
            "new": cache.new,
            "changed": cache.changed,
            "notModified": cache.not_modified,
            "sameHash": cache.same_hash,
            "reused": cache.reused,
        },
        "rateLimits": {
            "statements": rate.statements.iter().map(|s| json!({
                "requests": s.requests, "windowSeconds": s.window_secs, "sourceUrl": s.source_url,
            })).collect::<Vec<_>>(),
            "headers": rate.headers,
        },
    });
    if let Some(diff) = diff {
        result["diff"] = json!(diff);
    }
    result
}

/// `def` with as many of its actions (best ranked first) as fit in `max`
/// bytes of JSON; a warning says how many were left out.
fn bounded(mut def: IntegrationDef, max: usize, warnings: &mut Vec<String>) -> IntegrationDef {
    let actions = std::mem::take(&mut def.actions);
    // Measured as stored: compact JSON.
    let mut size = compact_len(&def);
    let total = actions.len();
    for a in actions {
        let more = compact_len(&a).saturating_add(usize::from(!def.actions.is_empty()));
        if size.saturating_add(more) > max {
            break;
        }
        size += more;
        def.actions.push(a);
    }
    // The estimate leaves out the list's own brackets when it starts empty.
    while compact_len(&def) > max && def.actions.pop().is_some() {}
    if def.actions.len() < total {
        warnings.push(format!(
            "the result is limited to {max} bytes: {} of {total} actions kept (use the wishlist or specific mode to choose)",
            def.actions.len()
        ));
    }
    def
}

fn compact_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value).map_or(usize::MAX, |t| t.len())
}

/// Jobs one sweep takes over at most.
const TAKE_OVER_PER_SWEEP: u64 = 4;

/// Now and every [`SWEEP`]: takes over jobs whose process is gone and runs them
/// again (once), fails those interrupted twice or never started, and purges jobs
/// finished more than [`KEEP_FINISHED`] ago.
pub fn sweep_abandoned(app: AppState) {
    tokio::spawn(async move {
        let store = app.store.clone();
        let mut tick = tokio::time::interval(SWEEP);
        loop {
            tick.tick().await;
            match store
                .take_over_abandoned_scrape_jobs(&app.scrapes.owner, LEASE, TAKE_OVER_PER_SWEEP)
                .await
            {
                Ok(taken) => {
                    for job in taken {
                        tracing::info!(job = %job.id, "resuming a scrape job whose gateway stopped");
                        app.scrapes.resume(&app, job);
                    }
                }
                Err(e) => tracing::warn!(error = %causes(&e), "taking over scrape jobs failed"),
            }
            match store.fail_abandoned_scrape_jobs(LEASE).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "failed scrape jobs whose gateway stopped"),
                Err(e) => tracing::warn!(error = %causes(&e), "sweeping scrape jobs failed"),
            }
            let cutoff = std::time::SystemTime::now() - KEEP_FINISHED;
            if let Err(e) = store.purge_scrape_jobs(cutoff).await {
                tracing::warn!(error = %causes(&e), "purging scrape jobs failed");
            }
        }
    });
}

/// The store's page cache for one tenant.
struct TenantPages {
    store: Store,
    tenant: String,
    /// A resumed job's creation: pages cached since are vouched reusable.
    reuse_since: Option<SystemTime>,
}

#[async_trait::async_trait]
impl PageCache for TenantPages {
    async fn get(&self, url: &str) -> Option<CachedPage> {
        match self.store.cached_page(&self.tenant, url).await {
            Ok(page) => page.map(|p| CachedPage {
                url: p.url,
                content_hash: p.content_hash,
                body: p.content,
                content_type: p.content_type,
                etag: p.etag,
                last_modified: p.last_modified,
                reusable: self.reuse_since.is_some_and(|since| p.fetched_at >= since),
            }),
            Err(e) => {
                tracing::warn!(error = %causes(&e), "reading the page cache failed");
                None
            }
        }
    }

    async fn put(&self, page: CachedPage) {
        let page = waygate_store::CachedPage {
            url: page.url,
            content_hash: page.content_hash,
            content: page.body,
            content_type: page.content_type,
            etag: page.etag,
            last_modified: page.last_modified,
            fetched_at: std::time::SystemTime::now(),
        };
        if let Err(e) = self.store.put_cached_page(&self.tenant, &page).await {
            tracing::warn!(error = %causes(&e), "writing the page cache failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use waygate_core::model::ActionDef;

    use super::*;

    #[test]
    fn results_keep_the_best_ranked_actions_that_fit() {
        let mut def = IntegrationDef::new("x", "X");
        for i in 0..100 {
            def.actions.push(ActionDef::new(
                format!("a{i}"),
                "GET",
                format!("/things/{i}"),
            ));
        }
        let whole = compact_len(&def);
        let mut warnings = Vec::new();
        let kept = bounded(def.clone(), whole, &mut warnings);
        assert_eq!(kept.actions.len(), 100);
        assert!(warnings.is_empty());
        let kept = bounded(def, whole / 2, &mut warnings);
        assert!(compact_len(&kept) <= whole / 2);
        assert!(
            (40..60).contains(&kept.actions.len()),
            "{}",
            kept.actions.len()
        );
        assert_eq!(kept.actions[0].slug, "a0");
        assert!(warnings[0].contains("actions kept"), "{warnings:?}");
    }
}
