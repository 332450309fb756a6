//! The storage port of the refresh protocol; `waygate-store` implements it.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::credential::{ConnectionStatus, Credential};
use crate::error::Error;
use crate::model::{AuthSpec, IntegrationDef};
use crate::storage::StoreError;

/// Which credential: a tenant's connection of an integration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialKey {
    /// The tenant.
    pub tenant: String,
    /// The integration's slug.
    pub integration: String,
    /// The connection's name.
    pub connection: String,
}

impl CredentialKey {
    /// The key of `tenant`'s `connection` of `integration`.
    pub fn new(
        tenant: impl Into<String>,
        integration: impl Into<String>,
        connection: impl Into<String>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            integration: integration.into(),
            connection: connection.into(),
        }
    }
}

/// A credential as stored now, with its connection's status.
#[derive(Debug, Clone)]
pub struct StoredTokens {
    /// The decrypted credential.
    pub credential: Credential,
    /// The connection's status.
    pub status: ConnectionStatus,
    /// The auth scheme the connection names, if any (its OAuth2 endpoints).
    pub auth_scheme: Option<String>,
}

impl StoredTokens {
    /// The auth spec of `integration` these tokens belong to: the scheme the
    /// connection names, else the one its credential suits.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` for a scheme the integration does not have.
    pub fn auth<'d>(&self, integration: &'d IntegrationDef) -> Result<&'d AuthSpec, Error> {
        crate::pipeline::auth_scheme(integration, self.auth_scheme.as_deref(), &self.credential)
            .map(|(_, auth)| auth)
    }
}

/// A held cross-process refresh lock.
#[async_trait]
pub trait TokenLock: Send {
    /// Releases the lock (dropping it releases it too, later).
    async fn release(self: Box<Self>);
}

/// What the refresh protocol needs from storage. Every method takes the
/// tenant through the [`CredentialKey`]. `waygate-store`'s `Store` implements
/// it on SQL; [`MemoryStore`](crate::storage::MemoryStore) in memory (one process).
///
/// ```
/// # use waygate_core::oauth2::TokenStore;
/// fn takes_any_store(_: std::sync::Arc<dyn TokenStore>) {}
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The credential and status of a connection; `None` when there is none.
    async fn load_tokens(&self, key: &CredentialKey) -> Result<Option<StoredTokens>, StoreError>;

    /// Tries to take the cross-process refresh lock without waiting; `None`
    /// when another holder has it. `lease` bounds a lock whose holder died.
    async fn try_lock(
        &self,
        key: &CredentialKey,
        lease: Duration,
    ) -> Result<Option<Box<dyn TokenLock>>, StoreError>;

    /// Stores refreshed tokens (the new refresh token with the new access
    /// token), marks the connection active and clears the failure count, in
    /// one transaction.
    async fn save_tokens(
        &self,
        key: &CredentialKey,
        credential: &Credential,
    ) -> Result<(), StoreError>;

    /// Counts one failed refresh; returns the failures in a row so far.
    async fn record_failure(&self, key: &CredentialKey) -> Result<u32, StoreError>;

    /// Sets the connection's status (`needs_reauth` after `invalid_grant`).
    async fn set_status(
        &self,
        key: &CredentialKey,
        status: ConnectionStatus,
    ) -> Result<(), StoreError>;

    /// Active `oauth2_tokens` credentials that expire at or before `before`
    /// (soonest first), for the background sweep. The caller reads `before`
    /// from its injected clock: the store keeps no time of its own here.
    async fn expiring(&self, before: SystemTime) -> Result<Vec<CredentialKey>, StoreError>;
}
