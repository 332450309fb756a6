//! [`TokenStore`] for [`MemoryStore`]: OAuth2 refresh for embedded use without
//! a database. One process only; locks are a set of held keys.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{MemoryStore, StoreError, poisoned};
use crate::credential::{Connection, ConnectionStatus, Credential};
use crate::oauth2::{CredentialKey, StoredTokens, TokenLock, TokenStore};

/// Keys whose refresh lock is held, shared with the guards.
pub(super) type HeldLocks = Arc<Mutex<HashSet<CredentialKey>>>;

struct MemoryLock {
    held: HeldLocks,
    key: Option<CredentialKey>,
}

impl MemoryLock {
    fn unlock(&mut self) {
        if let (Some(key), Ok(mut held)) = (self.key.take(), self.held.lock()) {
            held.remove(&key);
        }
    }
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.unlock();
    }
}

#[async_trait]
impl TokenLock for MemoryLock {
    async fn release(mut self: Box<Self>) {
        self.unlock();
    }
}

impl MemoryStore {
    /// Replaces the stored connection of `key` with `change` applied to a copy.
    fn update(
        &self,
        key: &CredentialKey,
        change: impl FnOnce(&mut Connection),
    ) -> Result<(), StoreError> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let slot = tenants
            .get_mut(&key.tenant)
            .and_then(|d| d.connections.get_mut(&key.integration))
            .and_then(|c| c.get_mut(&key.connection))
            .ok_or_else(|| {
                StoreError::new(
                    super::StoreErrorKind::NotFound,
                    format!("connection '{}'", key.connection),
                )
            })?;
        let mut next = Connection::clone(slot);
        change(&mut next);
        *slot = Arc::new(next);
        Ok(())
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load_tokens(&self, key: &CredentialKey) -> Result<Option<StoredTokens>, StoreError> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        Ok(tenants
            .get(&key.tenant)
            .and_then(|d| d.connections.get(&key.integration))
            .and_then(|c| c.get(&key.connection))
            .map(|c| StoredTokens {
                credential: c.credential.clone(),
                status: c.status,
                auth_scheme: c.auth_scheme.clone(),
            }))
    }

    async fn try_lock(
        &self,
        key: &CredentialKey,
        _lease: Duration,
    ) -> Result<Option<Box<dyn TokenLock>>, StoreError> {
        let mut held = self.refresh_locks.lock().map_err(|_| poisoned())?;
        if !held.insert(key.clone()) {
            return Ok(None);
        }
        Ok(Some(Box::new(MemoryLock {
            held: Arc::clone(&self.refresh_locks),
            key: Some(key.clone()),
        })))
    }

    async fn save_tokens(
        &self,
        key: &CredentialKey,
        credential: &Credential,
    ) -> Result<(), StoreError> {
        self.update(key, |c| {
            c.credential = credential.clone();
            c.status = ConnectionStatus::Active;
        })?;
        self.refresh_failures
            .lock()
            .map_err(|_| poisoned())?
            .remove(key);
        Ok(())
    }

    async fn record_failure(&self, key: &CredentialKey) -> Result<u32, StoreError> {
        let mut failures = self.refresh_failures.lock().map_err(|_| poisoned())?;
        let n = failures.entry(key.clone()).or_default();
        *n += 1;
        Ok(*n)
    }

    async fn set_status(
        &self,
        key: &CredentialKey,
        status: ConnectionStatus,
    ) -> Result<(), StoreError> {
        self.update(key, |c| c.status = status)
    }

    async fn expiring(&self, limit: SystemTime) -> Result<Vec<CredentialKey>, StoreError> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        let mut due = Vec::new();
        for (tenant, data) in tenants.iter() {
            for (integration, connections) in &data.connections {
                for (name, c) in connections {
                    let expiring = matches!(
                        &c.credential,
                        Credential::Oauth2Tokens { expires_at: Some(at), .. } if *at <= limit
                    );
                    if expiring && c.status == ConnectionStatus::Active {
                        due.push((
                            c.credential.clone(),
                            CredentialKey::new(tenant, integration, name),
                        ));
                    }
                }
            }
        }
        due.sort_by_key(|(c, _)| match c {
            Credential::Oauth2Tokens { expires_at, .. } => *expires_at,
            _ => None,
        });
        Ok(due.into_iter().map(|(_, k)| k).collect())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn tokens(access: &str, expires_in: Duration) -> Credential {
        Credential::Oauth2Tokens {
            client_id: "c".into(),
            client_secret: SecretString::from("s".to_owned()),
            access_token: SecretString::from(access.to_owned()),
            refresh_token: Some(SecretString::from("r".to_owned())),
            expires_at: Some(SystemTime::now() + expires_in),
            scopes: vec![],
        }
    }

    #[tokio::test]
    async fn the_memory_token_port() {
        let store = MemoryStore::new();
        let soon = Connection::default_with(tokens("a1", Duration::from_secs(60)));
        store.insert_connection("t1", "acme", soon).unwrap();
        let later = Connection::default_with(tokens("x", Duration::from_secs(3600)));
        store.insert_connection("t2", "acme", later).unwrap();
        let key = CredentialKey::new("t1", "acme", "default");
        let window = Duration::from_secs(300);
        assert_eq!(
            store.expiring(SystemTime::now() + window).await.unwrap(),
            vec![key.clone()]
        );

        let lock = store.try_lock(&key, window).await.unwrap().expect("free");
        assert!(store.try_lock(&key, window).await.unwrap().is_none());
        lock.release().await;
        drop(
            store
                .try_lock(&key, window)
                .await
                .unwrap()
                .expect("released"),
        );
        assert!(
            store.try_lock(&key, window).await.unwrap().is_some(),
            "drop releases"
        );

        assert_eq!(store.record_failure(&key).await.unwrap(), 1);
        assert_eq!(store.record_failure(&key).await.unwrap(), 2);
        store
            .save_tokens(&key, &tokens("a2", Duration::from_secs(3600)))
            .await
            .unwrap();
        assert_eq!(
            store.record_failure(&key).await.unwrap(),
            1,
            "reset by saving"
        );
        let loaded = store.load_tokens(&key).await.unwrap().unwrap();
        assert_eq!(loaded.credential.secrets()[1], "a2");
        assert!(
            store
                .expiring(SystemTime::now() + window)
                .await
                .unwrap()
                .is_empty()
        );

        store
            .set_status(&key, ConnectionStatus::NeedsReauth)
            .await
            .unwrap();
        let c = super::super::ConnectionStore::connection(&store, "t1", "acme", "default")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.status, ConnectionStatus::NeedsReauth);
        let missing = CredentialKey::new("t1", "acme", "other");
        assert!(
            store
                .set_status(&missing, ConnectionStatus::Active)
                .await
                .is_err()
        );
    }
}
