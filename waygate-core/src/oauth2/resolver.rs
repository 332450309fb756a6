//! [`OAuth2Resolver`]: the executor's credential resolver for OAuth2
//! connections, and the entry points of the gateway's OAuth2 endpoints and jobs.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use secrecy::SecretString;

use super::client_credentials::ClientTokens;
use super::config::RefreshConfig;
use super::endpoint::{GrantError, TokenEndpoint};
use super::events::TokenObserver;
use super::pkce::PkceVerifier;
use super::port::{CredentialKey, TokenStore};
use super::refresh::{Want, grant_error, token_url};
use super::single_flight::KeyedLocks;
use crate::clock::{SharedClock, SystemClock};
use crate::credential::{Connection, ConnectionStatus, Credential, ResolveCredential};
use crate::error::Error;
use crate::model::{AuthSpec, IntegrationDef};
use crate::pipeline::auth_scheme;
use crate::storage::IntegrationStore;
use crate::url_policy::UrlPolicy;

/// Resolves OAuth2 credentials to usable access tokens: refreshes tokens within
/// the buffer (once across processes), fetches client-credentials tokens (once
/// per process until near expiry); other credentials pass through unchanged.
/// Cheap to clone.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<dyn waygate_core::oauth2::TokenStore>) -> Result<(), waygate_core::Error> {
/// use std::sync::Arc;
/// use waygate_core::oauth2::OAuth2Resolver;
/// use waygate_core::pipeline::Executor;
///
/// let resolver = OAuth2Resolver::builder(store).build()?;
/// let executor = Executor::builder()
///     .credential_resolver(Arc::new(resolver.clone()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuth2Resolver {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) endpoint: TokenEndpoint,
    pub(crate) clock: SharedClock,
    pub(crate) config: RefreshConfig,
    pub(crate) flights: KeyedLocks<CredentialKey>,
    client_tokens: ClientTokens,
    pub(crate) observer: Option<TokenObserver>,
}

impl fmt::Debug for OAuth2Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Resolver")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// What one background sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepReport {
    /// Credentials due for refresh.
    pub due: usize,
    /// Refreshed (by this process or, meanwhile, by another).
    pub refreshed: usize,
    /// Failed (the connection may now be `needs_reauth`).
    pub failed: usize,
}

impl OAuth2Resolver {
    /// A builder over `store`, with the system clock, the strict URL policy and
    /// [`RefreshConfig::default`].
    pub fn builder(store: Arc<dyn TokenStore>) -> OAuth2ResolverBuilder {
        OAuth2ResolverBuilder {
            store,
            clock: Arc::new(SystemClock),
            url_policy: UrlPolicy::strict(),
            config: RefreshConfig::default(),
            timeout: Duration::from_secs(30),
            observer: None,
        }
    }

    /// The refresh settings in use.
    pub fn config(&self) -> &RefreshConfig {
        &self.inner.config
    }

    /// Refreshes a connection's tokens now (`POST /connections/{id}/refresh`),
    /// even when they are fresh, and returns the new expiry. A client-credentials
    /// connection fetches a new token. Concurrent calls in other processes are
    /// serialised by the store's lock; one that finds the token already
    /// replaced takes that result.
    ///
    /// # Errors
    /// `NOT_FOUND` without such a connection; `CREDENTIALS_ERROR` (suggesting
    /// `REFRESH_CREDENTIALS`) when it needs re-authorisation or the provider
    /// refuses; a transport error when the provider cannot be reached.
    pub async fn refresh_now(
        &self,
        tenant: &str,
        integration: &IntegrationDef,
        connection: &str,
    ) -> Result<Option<SystemTime>, Error> {
        let key = CredentialKey::new(tenant, &integration.slug, connection);
        let stored = self.inner.store.load_tokens(&key).await?.ok_or_else(|| {
            Error::not_found(format!(
                "connection '{connection}' of integration '{}'",
                integration.slug
            ))
        })?;
        if stored.status == ConnectionStatus::NeedsReauth {
            return Err(Error::needs_reauth(connection));
        }
        let auth = stored.auth(integration)?;
        let fresh = match &stored.credential {
            Credential::Oauth2Tokens { access_token, .. } => {
                let want = Want::Replacing(access_token.clone());
                self.inner.refresh(&key, auth, want).await?
            }
            Credential::Oauth2ClientCredentials { client_id, .. } => {
                let cache_key = (key.clone(), client_id.clone());
                self.inner.client_tokens.forget(&cache_key);
                self.inner
                    .client_token(key, auth, &stored.credential)
                    .await?
            }
            other => {
                return Err(Error::config(format!(
                    "connection '{connection}' holds a {} credential, which has no tokens to refresh",
                    other.kind()
                )));
            }
        };
        Ok(expires_at(&fresh))
    }

    /// The background sweep: refreshes every stored token that expires within
    /// the buffer, reading integrations from `integrations`. Call it every 60 s
    /// from each replica; the store's lock makes one of them do the work.
    ///
    /// # Errors
    /// `STORAGE_ERROR` when the expiring credentials cannot be listed; failures
    /// of single refreshes are counted in the report and logged.
    pub async fn refresh_expiring(
        &self,
        integrations: &dyn IntegrationStore,
    ) -> Result<SweepReport, Error> {
        let before = self.inner.clock.now() + self.inner.config.buffer;
        let due = self.inner.store.expiring(before).await?;
        let mut report = SweepReport {
            due: due.len(),
            ..SweepReport::default()
        };
        for key in due {
            let result = match integrations
                .integration(&key.tenant, &key.integration)
                .await
            {
                Ok(Some(stored)) => match self.inner.store.load_tokens(&key).await {
                    Ok(Some(tokens)) => match tokens.auth(&stored.def) {
                        Ok(auth) => self.inner.refresh(&key, auth, Want::Fresh).await,
                        Err(e) => Err(e),
                    },
                    Ok(None) => Err(Error::not_found(format!(
                        "connection '{}' of integration '{}'",
                        key.connection, key.integration
                    ))),
                    Err(e) => Err(e.into()),
                },
                Ok(None) => Err(Error::not_found(format!(
                    "integration '{}'",
                    key.integration
                ))),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(c) if self.inner.is_fresh(&c) => report.refreshed += 1,
                Ok(_) => report.failed += 1,
                Err(e) => {
                    tracing::warn!(
                        tenant = %key.tenant, integration = %key.integration,
                        connection = %key.connection, error = %e,
                        "background token refresh failed"
                    );
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// The second half of the authorization code flow: exchanges `code` (and
    /// the PKCE verifier) at the token endpoint and returns the credential to
    /// store on the connection. Sent once: a code is single-use, so a retry
    /// could only fail.
    ///
    /// # Errors
    /// `CREDENTIALS_ERROR` when the provider refuses the code (expired, used,
    /// wrong verifier or redirect URI); a transport error when it cannot be
    /// reached; `CONFIGURATION_ERROR` without a `tokenUrl`.
    pub async fn exchange_code(
        &self,
        auth: &AuthSpec,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&PkceVerifier>,
    ) -> Result<Credential, Error> {
        let url = token_url(auth)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v.secret()));
        }
        let answer = self
            .inner
            .endpoint
            .request(url, client_id, client_secret, &form)
            .await
            .map_err(|e| match e {
                GrantError::InvalidGrant => Error::credentials(
                    "the provider refused the authorization code (expired, used, or a wrong verifier or redirect URI)",
                ),
                other => grant_error("(authorizing)", other),
            })?;
        let granted = answer
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect());
        Ok(Credential::Oauth2Tokens {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            access_token: answer.access_token,
            refresh_token: answer.refresh_token,
            expires_at: answer.expires_in.map(|s| self.inner.expiry(s)),
            scopes: granted.unwrap_or_else(|| match auth {
                AuthSpec::Oauth2 { scopes, .. } => scopes.clone(),
                _ => Vec::new(),
            }),
        })
    }
}

#[async_trait]
impl ResolveCredential for OAuth2Resolver {
    async fn resolve(
        &self,
        tenant: &str,
        integration: &IntegrationDef,
        connection: &Connection,
    ) -> Result<Credential, Error> {
        if connection.status == ConnectionStatus::NeedsReauth {
            return Err(Error::needs_reauth(&connection.name));
        }
        let credential = &connection.credential;
        match credential {
            Credential::Oauth2Tokens { .. } if self.inner.is_fresh(credential) => {
                Ok(credential.clone())
            }
            Credential::Oauth2Tokens { .. } => {
                let key = CredentialKey::new(tenant, &integration.slug, &connection.name);
                let (_, auth) =
                    auth_scheme(integration, connection.auth_scheme.as_deref(), credential)?;
                self.inner.refresh(&key, auth, Want::Fresh).await
            }
            Credential::Oauth2ClientCredentials { .. } => {
                let key = CredentialKey::new(tenant, &integration.slug, &connection.name);
                let (_, auth) =
                    auth_scheme(integration, connection.auth_scheme.as_deref(), credential)?;
                self.inner.client_token(key, auth, credential).await
            }
            other => Ok(other.clone()),
        }
    }
}

impl Inner {
    /// A client-credentials token: cached until near expiry; one request for
    /// all concurrent callers of a connection.
    async fn client_token(
        &self,
        key: CredentialKey,
        auth: &AuthSpec,
        credential: &Credential,
    ) -> Result<Credential, Error> {
        let Credential::Oauth2ClientCredentials {
            client_id,
            client_secret,
            scopes,
        } = credential
        else {
            unreachable!("called for client credentials only")
        };
        let cache_key = (key, client_id.clone());
        if let Some(hit) = self.client_tokens.fresh(&cache_key, self.clock.instant()) {
            return Ok(hit);
        }
        let _flight = self.client_tokens.flights.lock(&cache_key).await;
        if let Some(hit) = self.client_tokens.fresh(&cache_key, self.clock.instant()) {
            return Ok(hit);
        }
        let url = token_url(auth)?;
        let scope = scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let answer = self
            .grant_with_retry(url, client_id, client_secret, &form)
            .await
            .map_err(|e| grant_error(&cache_key.0.connection, e))?;
        let now = self.clock.now();
        let lifetime = answer
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(self.config.unknown_lifetime);
        // A token shorter-lived than the buffer is still used for half its life.
        let renew_in = lifetime - self.config.buffer.min(lifetime / 2);
        let token = Credential::Oauth2Tokens {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            access_token: answer.access_token,
            refresh_token: None,
            expires_at: Some(now + lifetime),
            scopes: scopes.clone(),
        };
        self.client_tokens
            .put(cache_key, token.clone(), self.clock.instant(), renew_in);
        Ok(token)
    }
}

fn expires_at(credential: &Credential) -> Option<SystemTime> {
    match credential {
        Credential::Oauth2Tokens { expires_at, .. } => *expires_at,
        _ => None,
    }
}

/// Builds an [`OAuth2Resolver`]. Setters store; [`build`](Self::build) checks.
#[must_use]
pub struct OAuth2ResolverBuilder {
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    url_policy: UrlPolicy,
    config: RefreshConfig,
    timeout: Duration,
    observer: Option<TokenObserver>,
}

impl fmt::Debug for OAuth2ResolverBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2ResolverBuilder")
            .field("url_policy", &self.url_policy)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OAuth2ResolverBuilder {
    /// The source of time (expiry checks, backoff, lock waits).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Which token endpoints may be reached (strict by default: public addresses only).
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.url_policy = policy;
        self
    }

    /// Refresh settings.
    pub fn config(mut self, config: RefreshConfig) -> Self {
        self.config = config;
        self
    }

    /// Total time allowed per token request (30 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Tells `observer` how every refresh ends (for metrics and alerts).
    pub fn observer(mut self, observer: TokenObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Builds the resolver.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when the HTTP client cannot be built.
    pub fn build(self) -> Result<OAuth2Resolver, Error> {
        Ok(OAuth2Resolver {
            inner: Arc::new(Inner {
                store: self.store,
                endpoint: TokenEndpoint::new(self.url_policy, self.timeout, self.clock.clone())?,
                clock: self.clock,
                config: self.config,
                flights: KeyedLocks::default(),
                client_tokens: ClientTokens::default(),
                observer: self.observer,
            }),
        })
    }
}
