//! Multi-file descriptions imported over HTTP (`import::from_url` with the
//! `HttpLoader`): the DigitalOcean description served from a local HTTP server
//! imports like it does from disk, within the loader's limits and the URL policy.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::{FileServer, Reply, Upstream};
use tokio::runtime::Handle;
use url::Url;
use waygate_core::UrlPolicy;
use waygate_core::import::{self, HttpLimits, HttpLoader, ImportError, ImportOptions};

const DIGITALOCEAN: &str = "specification/DigitalOcean-public.v2.yaml";

fn digitalocean() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/openapi/digitalocean")
}

/// Imports `url` over HTTP on a blocking thread, as the gateway and the CLI do;
/// returns the result and how many documents were fetched.
async fn import_url(
    url: String,
    policy: UrlPolicy,
    limits: HttpLimits,
) -> (Result<import::ImportResult, ImportError>, usize) {
    let runtime = Handle::current();
    tokio::task::spawn_blocking(move || {
        let loader = HttpLoader::new(runtime, policy, limits).unwrap();
        let url = Url::parse(&url).unwrap();
        let result = import::from_url(&url, &loader, &ImportOptions::default());
        (result, loader.documents())
    })
    .await
    .unwrap()
}

fn loopback() -> UrlPolicy {
    UrlPolicy::strict().allow_loopback()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_file_description_imports_over_http_as_from_disk() {
    let server = FileServer::start(digitalocean()).await;
    let url = format!("{}/{DIGITALOCEAN}", server.url());
    let (result, documents) = import_url(url, loopback(), HttpLimits::default()).await;
    let remote = result.unwrap().integration;
    let local = import::from_file(digitalocean().join(DIGITALOCEAN), &ImportOptions::default())
        .unwrap()
        .integration;
    assert_eq!(remote.actions.len(), 659);
    assert_eq!(remote, local);
    // Only the documents the actions need are fetched, each once.
    assert_eq!(server.requests(), documents);
    assert!(documents > 100 && documents < 2_850, "{documents}");
    println!("DigitalOcean over HTTP: {documents} documents fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_keeps_to_its_limits_and_the_url_policy() {
    let server = FileServer::start(digitalocean()).await;
    let url = format!("{}/{DIGITALOCEAN}", server.url());

    let few = HttpLimits {
        max_documents: 5,
        ..HttpLimits::default()
    };
    let (result, documents) = import_url(url.clone(), loopback(), few).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("more than 5 documents"), "{err}");
    assert_eq!((documents, server.requests()), (5, 5));

    let small = HttpLimits {
        max_total_bytes: 200_000,
        ..HttpLimits::default()
    };
    let err = import_url(url.clone(), loopback(), small)
        .await
        .0
        .unwrap_err();
    assert!(err.to_string().contains("bytes left"), "{err}");

    // The strict policy refuses loopback before anything is sent.
    let before = server.requests();
    let err = import_url(url, UrlPolicy::strict(), HttpLimits::default())
        .await
        .0
        .unwrap_err();
    assert!(err.to_string().contains("cannot fetch"), "{err}");
    assert_eq!(server.requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_description_cannot_reach_local_files_or_stall() {
    let upstream = Upstream::start().await;
    let root =
        "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {$ref: 'file:///etc/hostname'}\n";
    upstream.script([Reply {
        status: 200,
        headers: vec![],
        body: root.into(),
        delay: Duration::ZERO,
    }]);
    let (result, _) = import_url(
        format!("{}/openapi.yaml", upstream.url()),
        loopback(),
        HttpLimits::default(),
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("not an http(s) URL") && err.pointer() == Some("/paths"),
        "{err}"
    );

    upstream.script([Reply::json(200, serde_json::json!({})).delayed(Duration::from_secs(30))]);
    let quick = HttpLimits {
        total_time: Duration::from_millis(300),
        ..HttpLimits::default()
    };
    let err = import_url(format!("{}/slow.yaml", upstream.url()), loopback(), quick)
        .await
        .0
        .unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
}
