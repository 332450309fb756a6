//! Multi-file descriptions over HTTP: the [`HttpLoader`] fetches the documents a
//! remote description's `$ref`s point to, through the outbound URL policy, within
//! limits on documents, bytes and total time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::Instant;
use url::Url;

use super::error::{ImportError, ImportErrorKind};
use super::load::{LoadError, Loader};
use super::{ImportOptions, ImportResult};
use crate::url_policy::UrlPolicy;

/// Bounds on what one remote import may fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Documents fetched, the root included (default 3,000: DigitalOcean's
    /// description needs 1,448 of its 2,850 files).
    pub max_documents: usize,
    /// Bytes of one document (default [`MAX_DOCUMENT_BYTES`](crate::limits::MAX_DOCUMENT_BYTES)).
    pub max_document_bytes: usize,
    /// Bytes of all documents together (default 64 MiB).
    pub max_total_bytes: usize,
    /// Time for the whole import's fetching, from the loader's creation (default 60 s).
    pub total_time: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_documents: 3_000,
            max_document_bytes: crate::limits::MAX_DOCUMENT_BYTES,
            max_total_bytes: 64 * 1024 * 1024,
            total_time: Duration::from_secs(60),
        }
    }
}

/// Fetches `http(s)` documents through a [`UrlPolicy`] for one import.
///
/// The importer is synchronous (it is CPU work, run on a blocking thread), so
/// each fetch runs as a task on `runtime` and the importing thread waits for
/// it: call [`from_url`] (or [`from_source`](super::from_source) with this
/// loader) from a blocking thread (`tokio::task::spawn_blocking`), never from
/// async code. Every URL is checked by the policy, names resolve through it and
/// every redirect hop is re-checked; `file:` and other schemes are refused, so a
/// remote document cannot make the importer read local files.
#[derive(Debug)]
pub struct HttpLoader {
    runtime: Handle,
    client: reqwest::Client,
    policy: UrlPolicy,
    limits: HttpLimits,
    deadline: Instant,
    spent: Arc<Mutex<Spent>>,
}

#[derive(Debug, Default)]
struct Spent {
    documents: usize,
    bytes: usize,
}

impl HttpLoader {
    /// A loader whose fetches run on `runtime`; the time limit starts now.
    ///
    /// # Errors
    /// The HTTP client cannot be built (no TLS roots, say).
    pub fn new(runtime: Handle, policy: UrlPolicy, limits: HttpLimits) -> Result<Self, LoadError> {
        // The total time bound is kept around every fetch (`timeout_at`).
        let client = policy.client_builder().build()?;
        Ok(Self {
            runtime,
            client,
            policy,
            limits,
            deadline: Instant::now() + limits.total_time,
            spent: Arc::default(),
        })
    }

    /// Documents fetched so far, the root included.
    pub fn documents(&self) -> usize {
        self.spent.lock().map_or(0, |s| s.documents)
    }

    /// Counts one more document, or refuses it past the limit; returns the
    /// bytes it may have.
    fn admit(&self) -> Result<usize, LoadError> {
        let mut spent = self.spent.lock().map_err(|_| "loader state poisoned")?;
        if spent.documents >= self.limits.max_documents {
            return Err(format!(
                "more than {} documents: the description is too large to fetch",
                self.limits.max_documents
            )
            .into());
        }
        spent.documents += 1;
        Ok(self
            .limits
            .max_document_bytes
            .min(self.limits.max_total_bytes.saturating_sub(spent.bytes)))
    }
}

impl Loader for HttpLoader {
    fn load(&self, url: &Url) -> Result<String, LoadError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "'{}' is not an http(s) URL: a remote description refers only to http(s) documents",
                url.scheme()
            )
            .into());
        }
        self.policy.check_url(url)?;
        let budget = self.admit()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let fetch = fetch(self.client.clone(), url.clone(), budget);
        let deadline = self.deadline;
        let total = self.limits.total_time;
        self.runtime.spawn(async move {
            let result = match tokio::time::timeout_at(deadline, fetch).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "fetching the description took longer than {} ms",
                    total.as_millis()
                )
                .into()),
            };
            let _ = tx.send(result);
        });
        let text = rx
            .blocking_recv()
            .map_err(|_| LoadError::from("the runtime stopped during the fetch"))??;
        if let Ok(mut spent) = self.spent.lock() {
            spent.bytes += text.len();
        }
        Ok(text)
    }
}

/// GETs `url` and reads at most `budget` bytes of UTF-8 text.
async fn fetch(client: reqwest::Client, url: Url, budget: usize) -> Result<String, LoadError> {
    let mut response = client
        .get(url)
        .header(
            reqwest::header::ACCEPT,
            "application/yaml, application/json;q=0.9, */*;q=0.1",
        )
        .send()
        .await
        .map_err(reqwest::Error::without_url)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}").into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(reqwest::Error::without_url)?
    {
        if body.len() + chunk.len() > budget {
            return Err(format!("larger than the {budget} bytes left for the description").into());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "not UTF-8 text".into())
}

/// Imports the description at `url`, fetching it and the documents its refs
/// point to (relative to the document holding each ref) through `loader`: an
/// [`HttpLoader`], or a loader in front of one (the gateway's wizard keeps
/// what it fetched, to import it again without fetching).
///
/// # Errors
/// The document cannot be fetched (with the reason), or as
/// [`from_source`](super::from_source).
pub fn from_url(
    url: &Url,
    loader: &dyn Loader,
    options: &ImportOptions,
) -> Result<ImportResult, ImportError> {
    let text = loader.load(url).map_err(|e| {
        ImportError::new(ImportErrorKind::Load, format!("cannot fetch {url}: {e}"))
            .in_file(Some(url.to_string()))
            .caused_by(e)
    })?;
    super::from_source(&text, url, loader, options)
}
