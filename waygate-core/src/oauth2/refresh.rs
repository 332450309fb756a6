//! The refresh protocol of one credential:
//!
//! 1. in the process, one caller at a time per credential ([`KeyedLocks`]); the
//!    ones queued behind it find its result and return;
//! 2. read the stored credential: fresh already (another replica refreshed) → done;
//! 3. take the store's non-blocking lock; without it, wait a little, re-read,
//!    and repeat until the token is fresh or `lock_wait` runs out;
//! 4. with it, re-read (the previous holder may have just finished), refresh,
//!    and save the new access and refresh token in one transaction.
//!
//! `invalid_grant`, or `max_failures` failures in a row, marks the connection
//! `needs_reauth`; after that calls fail fast without asking the provider.

use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};

use super::endpoint::{GrantError, TokenResponse};
use super::events::TokenEvent;
use super::port::CredentialKey;
use super::resolver::Inner;
use crate::credential::{ConnectionStatus, Credential};
use crate::error::{Error, ErrorKind};
use crate::model::AuthSpec;
use crate::pipeline::retry;

/// What the caller needs from the credential.
pub(crate) enum Want {
    /// An access token that is valid beyond the refresh buffer.
    Fresh,
    /// A different access token than this one (a forced refresh).
    Replacing(SecretString),
}

impl Inner {
    /// Whether `credential` can be handed out without refreshing.
    pub(crate) fn is_fresh(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Oauth2Tokens {
                expires_at: Some(at),
                ..
            } => *at > self.clock.now() + self.config.buffer,
            _ => true,
        }
    }

    fn satisfies(&self, want: &Want, credential: &Credential) -> bool {
        match (want, credential) {
            (Want::Fresh, c) => self.is_fresh(c),
            (Want::Replacing(old), Credential::Oauth2Tokens { access_token, .. }) => {
                access_token.expose_secret() != old.expose_secret()
            }
            (Want::Replacing(_), _) => false,
        }
    }

    /// Whether the access token still works, even if within the buffer.
    fn still_valid(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Oauth2Tokens {
                expires_at: Some(at),
                ..
            } => *at > self.clock.now(),
            _ => true,
        }
    }

    /// A credential that satisfies `want`, refreshed at most once across
    /// processes.
    pub(crate) async fn refresh(
        &self,
        key: &CredentialKey,
        auth: &AuthSpec,
        want: Want,
    ) -> Result<Credential, Error> {
        let _flight = self.flights.lock(key).await;
        let deadline = self.clock.instant() + self.config.lock_wait;
        loop {
            let current = self.load(key).await?;
            if self.satisfies(&want, &current) {
                return Ok(current);
            }
            if let Some(lock) = self.store.try_lock(key, self.config.lock_lease).await? {
                let result = self.refresh_locked(key, auth, &want).await;
                lock.release().await;
                return result;
            }
            if self.clock.instant() >= deadline {
                if self.still_valid(&current) && matches!(want, Want::Fresh) {
                    return Ok(current);
                }
                return Err(Error::new(ErrorKind::Transport {
                    message: format!(
                        "connection '{}': another process is refreshing its token and has not finished",
                        key.connection
                    ),
                }));
            }
            self.clock.sleep(self.config.poll_interval).await;
        }
    }

    /// The stored credential; fails fast on `needs_reauth`.
    async fn load(&self, key: &CredentialKey) -> Result<Credential, Error> {
        let stored = self.store.load_tokens(key).await?.ok_or_else(|| {
            Error::not_found(format!(
                "connection '{}' of integration '{}'",
                key.connection, key.integration
            ))
        })?;
        if stored.status == ConnectionStatus::NeedsReauth {
            return Err(Error::needs_reauth(&key.connection));
        }
        Ok(stored.credential)
    }

    /// Step 4, holding the store's lock.
    async fn refresh_locked(
        &self,
        key: &CredentialKey,
        auth: &AuthSpec,
        want: &Want,
    ) -> Result<Credential, Error> {
        let current = self.load(key).await?;
        if self.satisfies(want, &current) {
            return Ok(current);
        }
        let Credential::Oauth2Tokens {
            client_id,
            client_secret,
            refresh_token,
            ..
        } = &current
        else {
            return Err(Error::config(format!(
                "connection '{}' holds a {} credential, which has no tokens to refresh",
                key.connection,
                current.kind()
            )));
        };
        let Some(refresh_token) = refresh_token else {
            if self.still_valid(&current) && matches!(want, Want::Fresh) {
                return Ok(current);
            }
            self.mark_needs_reauth(key, "no refresh token").await?;
            return Err(Error::needs_reauth(&key.connection));
        };
        let token_url = refresh_url(auth)?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        match self
            .grant_with_retry(token_url, client_id, client_secret, &form)
            .await
        {
            Ok(answer) => {
                let fresh = self.rotated(&current, answer);
                // If this save fails, a rotated refresh token is lost with it;
                // the error says so instead of handing out an unsaved token.
                self.store.save_tokens(key, &fresh).await.map_err(|e| {
                    tracing::error!(
                        tenant = %key.tenant, integration = %key.integration,
                        connection = %key.connection, error = %e,
                        "refreshed OAuth2 tokens could not be saved"
                    );
                    Error::from(e)
                })?;
                self.tell(TokenEvent::Refreshed);
                Ok(fresh)
            }
            Err(GrantError::InvalidGrant) => {
                self.mark_needs_reauth(key, "invalid_grant").await?;
                Err(Error::needs_reauth(&key.connection))
            }
            Err(failure) => {
                self.tell(TokenEvent::RefreshFailed);
                let failures = self.store.record_failure(key).await?;
                if failures >= self.config.max_failures {
                    self.mark_needs_reauth(key, "repeated refresh failures")
                        .await?;
                    return Err(Error::needs_reauth(&key.connection));
                }
                tracing::warn!(
                    tenant = %key.tenant, integration = %key.integration,
                    connection = %key.connection, failures, reason = %failure,
                    "OAuth2 token refresh failed"
                );
                if self.still_valid(&current) && matches!(want, Want::Fresh) {
                    return Ok(current);
                }
                Err(grant_error(&key.connection, failure))
            }
        }
    }

    /// The credential after a refresh: a new refresh token replaces the old
    /// one (rotation); without one the old one stays.
    fn rotated(&self, old: &Credential, answer: TokenResponse) -> Credential {
        let Credential::Oauth2Tokens {
            client_id,
            client_secret,
            refresh_token,
            scopes,
            ..
        } = old
        else {
            unreachable!("only token credentials are refreshed")
        };
        Credential::Oauth2Tokens {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            access_token: answer.access_token,
            refresh_token: answer.refresh_token.or_else(|| refresh_token.clone()),
            expires_at: answer.expires_in.map(|s| self.expiry(s)),
            scopes: answer
                .scope
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_else(|| scopes.clone()),
        }
    }

    /// `now + expires_in` seconds, saturating: a token endpoint's huge
    /// `expires_in` must not overflow the clock.
    pub(crate) fn expiry(&self, expires_in: u64) -> SystemTime {
        crate::time::after(self.clock.now(), expires_in)
    }

    /// Persists `needs_reauth` and raises the alert: one ERROR line, no secret.
    async fn mark_needs_reauth(&self, key: &CredentialKey, reason: &str) -> Result<(), Error> {
        tracing::error!(
            tenant = %key.tenant, integration = %key.integration,
            connection = %key.connection, reason,
            "OAuth2 refresh refused; the connection needs re-authorization"
        );
        self.store
            .set_status(key, ConnectionStatus::NeedsReauth)
            .await?;
        self.tell(TokenEvent::NeedsReauth);
        Ok(())
    }

    fn tell(&self, event: TokenEvent) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }

    /// A token request, retried with exponential backoff and full jitter on
    /// transient failures.
    pub(crate) async fn grant_with_retry(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &SecretString,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, GrantError> {
        let mut attempt = 1;
        loop {
            match self
                .endpoint
                .request(token_url, client_id, client_secret, form)
                .await
            {
                Err(GrantError::Transient(reason)) if attempt < self.config.attempts => {
                    let base = self.config.backoff;
                    let wait = retry::full_jitter(base, 2.0, base.saturating_mul(1 << 16), attempt);
                    tracing::debug!(attempt, %reason, ?wait, "token request failed; retrying");
                    self.clock.sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Where refresh requests go: `refreshUrl`, else `tokenUrl`.
fn refresh_url(auth: &AuthSpec) -> Result<&str, Error> {
    match auth {
        AuthSpec::Oauth2 {
            refresh_url: Some(url),
            ..
        } => Ok(url),
        _ => token_url(auth),
    }
}

/// The spec's `tokenUrl`.
pub(crate) fn token_url(auth: &AuthSpec) -> Result<&str, Error> {
    match auth {
        AuthSpec::Oauth2 {
            token_url: Some(url),
            ..
        } => Ok(url),
        AuthSpec::Oauth2 { .. } => Err(Error::config("the oauth2 auth spec has no tokenUrl")),
        other => Err(Error::config(format!(
            "the connection holds OAuth2 credentials but the integration's auth is '{}'",
            other.kind()
        ))),
    }
}

/// The invocation error for a failed token request.
pub(crate) fn grant_error(connection: &str, failure: GrantError) -> Error {
    match failure {
        GrantError::Transient(_) => Error::new(ErrorKind::Transport {
            message: format!("connection '{connection}': {failure}"),
        }),
        GrantError::InvalidGrant | GrantError::Rejected(_) => {
            Error::credentials(format!("connection '{connection}': {failure}"))
        }
    }
}
