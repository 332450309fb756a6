//! Scrape jobs and the page cache, on SQLite always and on PostgreSQL when
//! `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use std::time::{Duration, SystemTime};

use serde_json::json;
use support::TestDb;
use waygate_store::{CachedPage, JobOutcome, JobStatus};

const LEASE: Duration = Duration::from_secs(60);

async fn jobs_move_by_compare_and_set(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("a", "A").await.unwrap();
    s.create_tenant("b", "B").await.unwrap();
    let request = json!({"urls": ["http://docs.example.com/"]});
    let progress = json!({"stage": "queued"});
    assert!(
        s.create_scrape_job("a", "j1", &request, &progress, 2)
            .await
            .unwrap()
    );
    assert!(
        s.create_scrape_job("a", "j2", &request, &progress, 2)
            .await
            .unwrap()
    );
    // The tenant's limit: a third active job is refused; another tenant is not affected.
    assert!(
        !s.create_scrape_job("a", "j3", &request, &progress, 2)
            .await
            .unwrap()
    );
    assert!(s.scrape_job("a", "j3").await.unwrap().is_none());
    assert!(
        s.create_scrape_job("b", "k1", &request, &progress, 2)
            .await
            .unwrap()
    );
    // Tenants never see each other's jobs.
    assert!(s.scrape_job("b", "j1").await.unwrap().is_none());
    assert!(s.cancel_scrape_job("b", "j1").await.unwrap().is_none());
    assert!(!s.claim_scrape_job("b", "j1", "p", LEASE).await.unwrap());

    let job = s.scrape_job("a", "j1").await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.request, request);
    assert!(s.claim_scrape_job("a", "j1", "p1", LEASE).await.unwrap());
    assert!(
        !s.claim_scrape_job("a", "j1", "p2", LEASE).await.unwrap(),
        "claimed once"
    );
    let step = json!({"stage": "crawling", "pagesFetched": 3});
    assert!(
        s.renew_scrape_job("a", "j1", "p1", LEASE, &step)
            .await
            .unwrap()
    );
    assert!(
        !s.renew_scrape_job("a", "j1", "p2", LEASE, &step)
            .await
            .unwrap(),
        "not the owner"
    );
    assert_eq!(
        s.scrape_job("a", "j1").await.unwrap().unwrap().progress,
        step
    );
    let result = json!({"integration": {"slug": "x"}});
    assert!(
        s.finish_scrape_job("a", "j1", "p1", JobOutcome::Succeeded(&result), &step)
            .await
            .unwrap()
    );
    let done = s.scrape_job("a", "j1").await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.result, Some(result.clone()));
    // A finished job stays finished; the limit counts active jobs only.
    assert_eq!(
        s.cancel_scrape_job("a", "j1")
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Succeeded
    );
    assert!(
        s.create_scrape_job("a", "j3", &request, &progress, 2)
            .await
            .unwrap()
    );

    // A cancelled job ignores its runner's later writes.
    assert!(s.claim_scrape_job("a", "j2", "p1", LEASE).await.unwrap());
    let cancelled = s.cancel_scrape_job("a", "j2").await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(
        !s.renew_scrape_job("a", "j2", "p1", LEASE, &step)
            .await
            .unwrap()
    );
    assert!(
        !s.finish_scrape_job("a", "j2", "p1", JobOutcome::Succeeded(&result), &step)
            .await
            .unwrap()
    );
    assert_eq!(
        s.scrape_job("a", "j2").await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );

    // A runner whose lease ran out (its process died) is taken over once, by
    // one of the processes sweeping; one with a live lease is not.
    assert!(
        s.claim_scrape_job("a", "j3", "dead", Duration::ZERO)
            .await
            .unwrap()
    );
    assert!(s.claim_scrape_job("b", "k1", "alive", LEASE).await.unwrap());
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(s.fail_abandoned_scrape_jobs(LEASE).await.unwrap(), 0);
    let (first, second) = tokio::join!(
        s.take_over_abandoned_scrape_jobs("heir", Duration::ZERO, 10),
        s.take_over_abandoned_scrape_jobs("rival", Duration::ZERO, 10),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.len() + second.len(), 1, "{first:?} {second:?}");
    let taken = first.iter().chain(&second).next().unwrap();
    let heir = if first.is_empty() { "rival" } else { "heir" };
    assert_eq!((taken.tenant.as_str(), taken.id.as_str()), ("a", "j3"));
    assert_eq!(taken.request, request);
    // The dead runner's late writes are refused; the heir's are taken.
    assert!(
        !s.renew_scrape_job("a", "j3", "dead", LEASE, &step)
            .await
            .unwrap()
    );
    assert!(
        s.renew_scrape_job("a", "j3", heir, Duration::ZERO, &step)
            .await
            .unwrap()
    );
    // Interrupted again (the heir's lease ran out too): no third run, failed.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        s.take_over_abandoned_scrape_jobs("third", LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.fail_abandoned_scrape_jobs(LEASE).await.unwrap(), 1);
    let failed = s.scrape_job("a", "j3").await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(
        failed.error.unwrap().contains("again after it was resumed"),
        "interrupted twice"
    );
    assert!(
        !s.finish_scrape_job("a", "j3", heir, JobOutcome::Succeeded(&result), &step)
            .await
            .unwrap()
    );
    assert_eq!(
        s.scrape_job("b", "k1").await.unwrap().unwrap().status,
        JobStatus::Running
    );
    // A queued job nobody claimed within the grace is failed too.
    assert!(
        s.create_scrape_job("a", "j4", &request, &progress, 2)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        s.fail_abandoned_scrape_jobs(Duration::ZERO).await.unwrap(),
        1
    );
    assert_eq!(
        s.scrape_job("a", "j4").await.unwrap().unwrap().status,
        JobStatus::Failed
    );
    // Ended jobs are purged; running ones stay.
    let later = SystemTime::now() + Duration::from_secs(1);
    assert_eq!(s.purge_scrape_jobs(later).await.unwrap(), 4);
    assert!(s.scrape_job("b", "k1").await.unwrap().is_some());
}

fn page(url: &str, content: &str, at: u64) -> CachedPage {
    CachedPage {
        url: url.into(),
        content_hash: format!("hash-{content}"),
        content: content.into(),
        content_type: "text/html".into(),
        etag: Some(format!("\"{content}\"")),
        last_modified: None,
        fetched_at: SystemTime::UNIX_EPOCH + Duration::from_secs(at),
    }
}

async fn pages_are_cached_per_tenant_and_bounded(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("a", "A").await.unwrap();
    s.create_tenant("b", "B").await.unwrap();
    s.put_cached_page("a", &page("http://d/1", "one", 1))
        .await
        .unwrap();
    s.put_cached_page("a", &page("http://d/1", "uno", 2))
        .await
        .unwrap();
    assert_eq!(
        s.cached_page("a", "http://d/1").await.unwrap(),
        Some(page("http://d/1", "uno", 2))
    );
    assert!(s.cached_page("b", "http://d/1").await.unwrap().is_none());
    s.put_cached_page("b", &page("http://d/1", "bee", 1))
        .await
        .unwrap();
    for i in 2..6 {
        s.put_cached_page("a", &page(&format!("http://d/{i}"), "x", 2 + i))
            .await
            .unwrap();
    }
    assert_eq!(s.prune_page_cache("a", 3).await.unwrap(), 2);
    assert!(s.cached_page("a", "http://d/1").await.unwrap().is_none());
    assert!(s.cached_page("a", "http://d/5").await.unwrap().is_some());
    assert_eq!(s.prune_page_cache("a", 3).await.unwrap(), 0);
    assert!(s.cached_page("b", "http://d/1").await.unwrap().is_some());
}

mod backends {
    crate::on_every_backend!(
        jobs_move_by_compare_and_set,
        pages_are_cached_per_tenant_and_bounded
    );
}
