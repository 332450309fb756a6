//! How eagerly and how persistently tokens are refreshed.

use std::time::Duration;

/// Refresh settings; [`Default`] gives DESIGN.md §5's values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshConfig {
    /// A token expiring within this is refreshed before use (5 min).
    pub buffer: Duration,
    /// Token requests per refresh when the endpoint fails transiently (3).
    pub attempts: u32,
    /// Backoff before the second attempt, doubled each time (200 ms).
    pub backoff: Duration,
    /// Failed refreshes in a row (across calls) after which the connection
    /// needs re-authorisation (5).
    pub max_failures: u32,
    /// How long a caller that did not get the cross-process lock waits for the
    /// holder's result before giving up (10 s).
    pub lock_wait: Duration,
    /// Pause between re-reads while waiting for another process (100 ms).
    pub poll_interval: Duration,
    /// How long a lock lasts if its holder dies without releasing it (30 s).
    pub lock_lease: Duration,
    /// Lifetime assumed for a client-credentials token without `expires_in` (10 min).
    pub unknown_lifetime: Duration,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        Self {
            buffer: Duration::from_secs(300),
            attempts: 3,
            backoff: Duration::from_millis(200),
            max_failures: 5,
            lock_wait: Duration::from_secs(10),
            poll_interval: Duration::from_millis(100),
            lock_lease: Duration::from_secs(30),
            unknown_lifetime: Duration::from_secs(600),
        }
    }
}
