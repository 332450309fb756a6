//! Each tenant's tools, built once per change of its integrations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use waygate_core::Error;
use waygate_core::tools::ToolSet;

use crate::registry::Registry;

/// Tenants whose tool sets are kept; past this, the cache starts over (a tool
/// set is rebuilt from the registry on the next listing).
const MAX_TENANTS: usize = 1024;

/// The tool sets of tenants, keyed by their integrations' revisions: a listing
/// asks the registry only for `(slug, revision)` pairs and rebuilds the tools
/// when one changed, so a 10,000-action tenant pays the build once per change.
pub struct Catalogs {
    registry: Arc<dyn Registry>,
    cache: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone)]
struct Entry {
    revisions: Vec<(String, u64)>,
    tools: Arc<ToolSet>,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogs").finish_non_exhaustive()
    }
}

impl Catalogs {
    /// Tool sets read from `registry`.
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self {
            registry,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The registry behind.
    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    /// The tenant's revisions, the cheap fingerprint of its tools.
    ///
    /// # Errors
    /// `STORAGE_UNAVAILABLE` when the registry cannot be read.
    pub async fn revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>, Error> {
        Ok(self.registry.revisions(tenant).await?)
    }

    /// The tenant's current tools.
    ///
    /// # Errors
    /// `STORAGE_UNAVAILABLE` when the registry cannot be read;
    /// `CONFIGURATION_ERROR` when two actions share a portable name.
    pub async fn tools(&self, tenant: &str) -> Result<Arc<ToolSet>, Error> {
        let revisions = self.registry.revisions(tenant).await?;
        if let Some(entry) = self.lock().get(tenant)
            && entry.revisions == revisions
        {
            return Ok(entry.tools.clone());
        }
        let integrations = self.registry.integrations(tenant).await?;
        let tools = Arc::new(ToolSet::build(integrations.iter().map(|s| s.def.as_ref()))?);
        // Key the entry by what was actually loaded, so a write between the two
        // reads is noticed on the next listing.
        let loaded: Vec<(String, u64)> = integrations
            .iter()
            .map(|s| (s.def.slug.clone(), s.revision))
            .collect();
        let mut cache = self.lock();
        if cache.len() >= MAX_TENANTS && !cache.contains_key(tenant) {
            cache.clear();
        }
        cache.insert(
            tenant.to_owned(),
            Entry {
                revisions: loaded,
                tools: tools.clone(),
            },
        );
        Ok(tools)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
