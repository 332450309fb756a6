//! OAuth 2.0: tokens that refresh themselves, exactly once.
//!
//! [`OAuth2Resolver`] is a [`ResolveCredential`](crate::credential::ResolveCredential)
//! for the executor. Before a call it refreshes an access token that expires
//! within the refresh buffer (5 minutes by default): one refresh per credential
//! at a time, within the process (concurrent callers await the same refresh)
//! and across processes (the [`TokenStore`]'s non-blocking lock, then a re-read,
//! because another replica may have refreshed meanwhile). Client-credentials
//! connections fetch their token on demand and cache it until near expiry.
//!
//! The authorization code flow's two halves are here too: [`begin_authorization`]
//! builds the provider's URL (scopes, `state`, PKCE S256 challenge), and
//! [`OAuth2Resolver::exchange_code`] turns the code and verifier into tokens.
//!
//! # Layout
//! - `port` — [`TokenStore`], what the resolver needs from storage (load, lock, save, mark).
//! - `config` — [`RefreshConfig`]: buffer, retries, lock waits.
//! - `pkce` — PKCE verifiers, S256 challenges and `state` values.
//! - `authorize_url` — the authorization URL of the code flow.
//! - `endpoint` — token endpoint requests (form posts, no redirects) and their errors.
//! - `events` — [`TokenEvent`]s for an observer (the gateway's metrics).
//! - `single_flight` — one async mutex per credential key.
//! - `client_credentials` — the in-process token cache of client-credentials connections.
//! - `refresh` — the refresh protocol: in-process flight, store lock, re-read, persist.
//! - `resolver` — [`OAuth2Resolver`]: the port implementation and the server's entry points.

mod authorize_url;
mod client_credentials;
mod config;
mod endpoint;
mod events;
mod pkce;
mod port;
mod refresh;
mod resolver;
mod single_flight;

pub use authorize_url::{AuthorizationStart, begin_authorization};
pub use config::RefreshConfig;
pub use events::{TokenEvent, TokenObserver};
pub use pkce::PkceVerifier;
pub use port::{CredentialKey, StoredTokens, TokenLock, TokenStore};
pub use resolver::{OAuth2Resolver, OAuth2ResolverBuilder, SweepReport};
