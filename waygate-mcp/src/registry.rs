//! Where the MCP server reads a tenant's integrations from.

use std::sync::Arc;

use async_trait::async_trait;
use waygate_core::storage::{IntegrationStore, StoreError, StoredIntegration};

/// A tenant's integrations, as the MCP server needs them.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// `(slug, revision)` of each enabled integration, by slug: cheap, asked on
    /// every listing to know whether the cached tools are still current.
    async fn revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>, StoreError>;

    /// The enabled integrations with their definitions, by slug.
    async fn integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError>;

    /// Action ids (`integration.action`) matching `text`, best first, from an
    /// index; `None` when there is no index (then the tool names and
    /// descriptions are searched in memory).
    async fn search(
        &self,
        tenant: &str,
        text: &str,
        limit: u32,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let _ = (tenant, text, limit);
        Ok(None)
    }
}

/// A [`Registry`] over any [`IntegrationStore`] (the in-memory one, for
/// instance), without a search index.
pub struct StoreRegistry<S: ?Sized>(pub Arc<S>);

#[async_trait]
impl<S: IntegrationStore + ?Sized> Registry for StoreRegistry<S> {
    async fn revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .integrations(tenant)
            .await?
            .iter()
            .map(|s| (s.def.slug.clone(), s.revision))
            .collect())
    }

    async fn integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        let mut all = self.0.list_integrations(tenant).await?;
        all.retain(|s| s.enabled);
        Ok(all)
    }
}
