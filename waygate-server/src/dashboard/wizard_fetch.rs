//! The wizard's remote documents, fetched once per flow: the review step
//! fetches a URL's document (and those its `$ref`s point to) and keeps them;
//! the create step imports that same copy instead of fetching it again, so
//! what was reviewed is what is stored (decision 126).
//!
//! Kept per session and URL (a tenant's other sessions, and other tenants,
//! never see them), for [`KEPT_FOR`], at most [`MAX_KIB`] in all; a flow that
//! outlives them simply fetches again.

use std::sync::Arc;
use std::time::Duration;

use waygate_core::ttl::TtlCache;

use super::session::Session;
use crate::api::integrations::FetchedDocuments;
use crate::app::AppState;

/// How long a review's documents wait for its create step.
pub const KEPT_FOR: Duration = Duration::from_secs(15 * 60);

/// KiB of documents kept for all flows together.
pub const MAX_KIB: u64 = 64 * 1024;

/// Session (its CSRF token, unique to it) and URL.
type Key = (String, String);

/// Fetched documents by session and URL.
pub struct WizardDocuments(TtlCache<Key, Arc<FetchedDocuments>>);

impl Default for WizardDocuments {
    fn default() -> Self {
        Self(TtlCache::weighed(
            KEPT_FOR,
            MAX_KIB,
            |(s, u): &Key, docs: &Arc<FetchedDocuments>| {
                let bytes = s.len() + u.len() + docs.bytes();
                u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
            },
        ))
    }
}

impl WizardDocuments {
    /// The documents this session's flow fetched from `url` so far (none yet:
    /// an empty set, which the import fills).
    pub fn get(&self, app: &AppState, session: &Session, url: &str) -> Arc<FetchedDocuments> {
        let key = (session.csrf.clone(), url.to_owned());
        self.0
            .get(&key, app.clock.instant())
            .map(|(_, docs)| docs)
            .unwrap_or_default()
    }

    /// Keeps what the flow fetched from `url` (weighed as it is now).
    pub fn keep(&self, app: &AppState, session: &Session, url: &str, docs: Arc<FetchedDocuments>) {
        let key = (session.csrf.clone(), url.to_owned());
        self.0.insert(key, docs, app.clock.instant());
    }

    /// The flow is over: its documents are not needed again.
    pub fn forget(&self, session: &Session, url: &str) {
        self.0.remove(&(session.csrf.clone(), url.to_owned()));
    }
}
