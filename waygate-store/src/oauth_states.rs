//! Pending OAuth2 authorizations: the `state` of the authorization code flow,
//! stored between `/connect` and `/oauth/callback`.
//!
//! Only a SHA-256 digest of the state is stored (the state travels through the
//! user's browser; the digest cannot be turned back into a usable one). The
//! PKCE verifier is sealed by the vault, bound to the tenant and the digest.
//! Consuming is a compare-and-set on `used_at`, so a state works once, before
//! it expires, even when two callbacks race.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use waygate_core::oauth2::PkceVerifier;
use zeroize::{Zeroize, Zeroizing};

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::{duration_ms, now_ms};
use crate::vault::Envelope;

/// An authorization waiting for the provider's redirect.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    /// The tenant that started it.
    pub tenant: String,
    /// The integration's slug.
    pub integration: String,
    /// The connection the tokens will be stored on.
    pub connection: String,
    /// The redirect URI sent to the provider (the exchange must repeat it).
    pub redirect_uri: String,
    /// The PKCE verifier, when the flow uses PKCE.
    pub verifier: Option<PkceVerifier>,
    /// The OAuth client, when `/connect` received it (the connection has none
    /// yet); sealed with the verifier.
    pub client: Option<OAuthClient>,
    /// The integration's OAuth2 scheme the connection will use, when it is
    /// not the integration's `auth` (decision 86).
    pub auth_scheme: Option<String>,
}

/// An OAuth app's client id and secret.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: SecretString,
}

/// The sealed part of a state row.
#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// Not secret; kept with the rest so the table needs no new column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_scheme: Option<String>,
}

/// What consuming a `state` found.
#[derive(Debug)]
#[non_exhaustive]
pub enum StateOutcome {
    /// Valid and now used: continue with the exchange.
    Consumed(PendingAuthorization),
    /// No such state (forged, or removed after expiry).
    Unknown,
    /// Already used once (a replayed callback).
    Replayed,
    /// Expired before the provider redirected back.
    Expired,
}

fn digest(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

/// The vault row id of a state: the associated data binds the verifier to it.
pub(crate) fn row_id(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_state:{hex}")
}

impl Store {
    /// Stores a pending authorization under `state` for `ttl`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when the tenant has no such integration;
    /// [`ErrorKind::Conflict`] when the state exists already;
    /// [`ErrorKind::Config`] when no master key is set.
    pub async fn create_oauth_state(
        &self,
        state: &str,
        pending: &PendingAuthorization,
        ttl: Duration,
    ) -> Result<()> {
        let digest = digest(state);
        let secrets = Sealed {
            verifier: pending.verifier.as_ref().map(|v| v.secret().to_owned()),
            client_id: pending.client.as_ref().map(|c| c.id.clone()),
            client_secret: pending
                .client
                .as_ref()
                .map(|c| c.secret.expose_secret().to_owned()),
            auth_scheme: pending.auth_scheme.clone(),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&secrets).expect("serialising to memory"));
        let sealed = self
            .keyring()?
            .seal(&pending.tenant, &row_id(&digest), &plain)?;
        let now = now_ms();
        let n = db::exec(
            self.db(),
            "storing an OAuth2 state",
            "INSERT INTO oauth_states (state_digest, tenant_id, integration_id, connection_name,
               redirect_uri, key_id, nonce, ciphertext, created_at, expires_at)
             SELECT $1, $2, i.id, $4, $5, $6, $7, $8, $9, $10
             FROM integrations i WHERE i.tenant_id = $2 AND i.slug = $3",
            vec![
                digest.into(),
                pending.tenant.as_str().into(),
                pending.integration.as_str().into(),
                pending.connection.as_str().into(),
                pending.redirect_uri.as_str().into(),
                sealed.key_id.into(),
                sealed.nonce.into(),
                sealed.ciphertext.into(),
                now.into(),
                now.saturating_add(duration_ms(ttl)).into(),
            ],
        )
        .await?;
        if n == 0 {
            return Err(Error::not_found(format!(
                "integration '{}'",
                pending.integration
            )));
        }
        Ok(())
    }

    /// Uses `state` once: the first call before expiry gets the pending
    /// authorization; every later call, or one after expiry, does not.
    ///
    /// # Errors
    /// [`ErrorKind::Crypto`] when the verifier does not decrypt;
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn consume_oauth_state(&self, state: &str) -> Result<StateOutcome> {
        let digest = digest(state);
        let now = now_ms();
        let context = "consuming an OAuth2 state";
        let taken = db::one(
            self.db(),
            context,
            "UPDATE oauth_states SET used_at = $2
             WHERE state_digest = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING tenant_id, integration_id, connection_name, redirect_uri, key_id, nonce, ciphertext",
            vec![digest.clone().into(), now.into()],
        )
        .await?;
        let Some(row) = taken else {
            let found = db::one(
                self.db(),
                context,
                "SELECT used_at FROM oauth_states WHERE state_digest = $1",
                vec![digest.into()],
            )
            .await?;
            return Ok(match found {
                None => StateOutcome::Unknown,
                Some(r) if get::<Option<i64>>(&r, "used_at")?.is_some() => StateOutcome::Replayed,
                Some(_) => StateOutcome::Expired,
            });
        };
        let tenant: String = get(&row, "tenant_id")?;
        let integration_id: String = get(&row, "integration_id")?;
        let envelope = Envelope {
            key_id: get(&row, "key_id")?,
            nonce: get(&row, "nonce")?,
            ciphertext: get(&row, "ciphertext")?,
        };
        let plain = self.keyring()?.open(&tenant, &row_id(&digest), &envelope)?;
        let mut secrets: Sealed = serde_json::from_slice(&plain).map_err(|e| {
            Error::new(ErrorKind::Crypto, "a stored OAuth2 state is not readable").with_source(e)
        })?;
        let slug = db::one(
            self.db(),
            context,
            "SELECT slug FROM integrations WHERE tenant_id = $1 AND id = $2",
            vec![tenant.as_str().into(), integration_id.into()],
        )
        .await?
        .ok_or_else(|| Error::not_found("the state's integration"))?;
        Ok(StateOutcome::Consumed(PendingAuthorization {
            integration: get(&slug, "slug")?,
            connection: get(&row, "connection_name")?,
            redirect_uri: get(&row, "redirect_uri")?,
            verifier: secrets
                .verifier
                .take()
                .map(|v| PkceVerifier::from_secret(SecretString::from(v))),
            client: match (secrets.client_id.take(), secrets.client_secret.take()) {
                (Some(id), Some(secret)) => Some(OAuthClient {
                    id,
                    secret: SecretString::from(secret),
                }),
                _ => None,
            },
            auth_scheme: secrets.auth_scheme.take(),
            tenant,
        }))
    }

    /// Deletes states that expired more than `grace` ago; returns how many.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn purge_oauth_states(&self, grace: Duration) -> Result<u64> {
        db::exec(
            self.db(),
            "purging OAuth2 states",
            "DELETE FROM oauth_states WHERE expires_at < $1",
            vec![now_ms().saturating_sub(duration_ms(grace)).into()],
        )
        .await
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        self.verifier.zeroize();
        self.client_secret.zeroize();
    }
}
