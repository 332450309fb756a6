//! The token cache of client-credentials connections. Tokens are cheap to get
//! again, so they live in process memory only, never in the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use super::port::CredentialKey;
use super::single_flight::KeyedLocks;
use crate::credential::Credential;

/// Cache key: the connection and the client id (a replaced client gets new tokens).
pub(crate) type ClientKey = (CredentialKey, String);

struct Cached {
    credential: Credential,
    /// From here on the token is too close to expiry to hand out.
    renew_at: SystemTime,
}

/// Fetched tokens per connection and client, plus one flight per key so that
/// concurrent callers wait for one token request.
#[derive(Default)]
pub(crate) struct ClientTokens {
    entries: Mutex<HashMap<ClientKey, Cached>>,
    pub(crate) flights: KeyedLocks<ClientKey>,
}

impl ClientTokens {
    /// The cached token of `key` when it is not yet due for renewal at `now`.
    pub(crate) fn fresh(&self, key: &ClientKey, now: SystemTime) -> Option<Credential> {
        let entries = self.entries.lock().expect("token cache poisoned");
        entries
            .get(key)
            .filter(|c| now < c.renew_at)
            .map(|c| c.credential.clone())
    }

    /// Caches `credential` until `renew_at`; drops stale entries when the cache grows.
    pub(crate) fn put(
        &self,
        key: ClientKey,
        credential: Credential,
        renew_at: SystemTime,
        now: SystemTime,
    ) {
        let mut entries = self.entries.lock().expect("token cache poisoned");
        if entries.len() > 4096 {
            entries.retain(|_, c| c.renew_at > now);
        }
        entries.insert(
            key,
            Cached {
                credential,
                renew_at,
            },
        );
    }

    /// Forgets the token of `key` (a forced refresh).
    pub(crate) fn forget(&self, key: &ClientKey) {
        self.entries
            .lock()
            .expect("token cache poisoned")
            .remove(key);
    }
}
