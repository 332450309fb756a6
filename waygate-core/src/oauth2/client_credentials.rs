//! The token cache of client-credentials connections. Tokens are cheap to get
//! again, so they live in process memory only, never in the database: a
//! [`TtlCache`] bounded in entries, each token trusted until it is due for
//! renewal by the resolver's clock.

use std::time::Duration;

use tokio::time::Instant;

use super::port::CredentialKey;
use super::single_flight::KeyedLocks;
use crate::credential::Credential;
use crate::ttl::TtlCache;

/// Cache key: the connection and the client id (a replaced client gets new tokens).
pub(crate) type ClientKey = (CredentialKey, String);

/// Connections whose tokens are kept at most (moka evicts the least used beyond).
const MAX_TOKENS: u64 = 4096;

/// The lifetime the cache would give a token stored without one; every token
/// is stored with its own, so this is never used.
const NO_DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// Fetched tokens per connection and client, plus one flight per key so that
/// concurrent callers wait for one token request.
pub(crate) struct ClientTokens {
    entries: TtlCache<ClientKey, Credential>,
    pub(crate) flights: KeyedLocks<ClientKey>,
}

impl Default for ClientTokens {
    fn default() -> Self {
        Self {
            entries: TtlCache::new(NO_DEFAULT_TTL, MAX_TOKENS),
            flights: KeyedLocks::default(),
        }
    }
}

impl ClientTokens {
    /// The cached token of `key` when it is not yet due for renewal at `now`.
    pub(crate) fn fresh(&self, key: &ClientKey, now: Instant) -> Option<Credential> {
        self.entries.get(key, now).map(|(_, credential)| credential)
    }

    /// Caches `credential`, fetched at `now`, for `renew_in`.
    pub(crate) fn put(
        &self,
        key: ClientKey,
        credential: Credential,
        now: Instant,
        renew_in: Duration,
    ) {
        self.entries.insert_for(key, credential, now, renew_in);
    }

    /// Forgets the token of `key` (a forced refresh).
    pub(crate) fn forget(&self, key: &ClientKey) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use secrecy::SecretString;

    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn key(connection: &str) -> ClientKey {
        (
            CredentialKey::new("t", "i", connection),
            "client".to_owned(),
        )
    }

    fn token() -> Credential {
        Credential::Oauth2Tokens {
            client_id: "client".to_owned(),
            client_secret: SecretString::from("s".to_owned()),
            access_token: SecretString::from("a".to_owned()),
            refresh_token: None,
            expires_at: None,
            scopes: Vec::new(),
        }
    }

    #[test]
    fn a_token_is_handed_out_until_due_and_the_cache_is_bounded() {
        let clock = ManualClock::new(UNIX_EPOCH);
        let tokens = ClientTokens::default();
        tokens.put(key("a"), token(), clock.instant(), Duration::from_secs(30));
        clock.advance(Duration::from_secs(29));
        assert!(tokens.fresh(&key("a"), clock.instant()).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(tokens.fresh(&key("a"), clock.instant()).is_none(), "due");
        tokens.put(key("a"), token(), clock.instant(), Duration::from_secs(30));
        tokens.forget(&key("a"));
        assert!(
            tokens.fresh(&key("a"), clock.instant()).is_none(),
            "forgotten"
        );

        for i in 0..3 * MAX_TOKENS {
            tokens.put(
                key(&format!("c{i}")),
                token(),
                clock.instant(),
                Duration::from_secs(60),
            );
        }
        assert!(tokens.entries.entry_count() <= MAX_TOKENS);
    }
}
