//! What the resolver tells an observer about token refreshes: the gateway
//! counts them in its metrics; core itself depends on no metrics crate.

use std::sync::Arc;

/// One outcome of a refresh attempt (a token request for a stored credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEvent {
    /// New tokens were obtained and saved.
    Refreshed,
    /// The provider could not be reached or refused for a transient reason.
    RefreshFailed,
    /// The connection was marked `needs_reauth` (an alert).
    NeedsReauth,
}

/// Receives [`TokenEvent`]s; called on the refreshing task, so it must return at once.
pub type TokenObserver = Arc<dyn Fn(TokenEvent) + Send + Sync>;
