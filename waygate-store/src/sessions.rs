//! Dashboard sessions (decision 80): a browser signed in with a tenant API key.
//!
//! The session token is 32 random bytes shown once, to go into an HttpOnly
//! cookie; only its HMAC digest under the API key pepper is stored. A session
//! is valid while its row exists, before `expires_at`, and while the API key
//! it was opened with is not revoked: signing out deletes the row, so a copied
//! cookie stops working at once.

use std::time::{Duration, SystemTime};

use rand::RngCore as _;
use secrecy::SecretString;

use crate::db::{self, get};
use crate::error::Result;
use crate::store::Store;
use crate::tenants::ApiKeyPepper;
use crate::time::{duration_ms, from_ms, now_ms};

/// A live dashboard session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The tenant signed in.
    pub tenant: String,
    /// The API key the session was opened with.
    pub key_id: String,
    /// When the session ends by itself.
    pub expires_at: SystemTime,
}

/// Every session token starts with this (tells it apart from an API key).
const TOKEN_PREFIX: &str = "wg_session_";

impl Store {
    /// Opens a session for `tenant`, signed in with the key `key_id`, for
    /// `ttl`; returns its token (the only time it exists in clear). Sessions
    /// past their expiry are removed on the way.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure; a conflict
    /// when the tenant or the key does not exist.
    pub async fn open_dashboard_session(
        &self,
        tenant: &str,
        key_id: &str,
        pepper: &ApiKeyPepper,
        ttl: Duration,
    ) -> Result<SecretString> {
        let now = now_ms();
        db::exec(
            self.db(),
            "removing expired dashboard sessions",
            "DELETE FROM dashboard_sessions WHERE expires_at <= $1",
            vec![now.into()],
        )
        .await?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("{TOKEN_PREFIX}{hex}");
        db::exec(
            self.db(),
            "opening a dashboard session",
            "INSERT INTO dashboard_sessions (digest, tenant_id, key_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                pepper.digest(&token).into(),
                tenant.into(),
                key_id.into(),
                now.into(),
                now.saturating_add(duration_ms(ttl)).into(),
            ],
        )
        .await?;
        Ok(SecretString::from(token))
    }

    /// The live session of `token`: `None` when it is unknown, ended,
    /// expired, or its API key was revoked.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn dashboard_session(
        &self,
        pepper: &ApiKeyPepper,
        token: &str,
    ) -> Result<Option<SessionInfo>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = db::one(
            self.db(),
            "reading a dashboard session",
            "SELECT s.tenant_id, s.key_id, s.expires_at FROM dashboard_sessions s
             JOIN api_keys k ON k.id = s.key_id AND k.tenant_id = s.tenant_id
             WHERE s.digest = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL",
            vec![pepper.digest(token).into(), now_ms().into()],
        )
        .await?;
        row.map(|row| {
            Ok(SessionInfo {
                tenant: get(&row, "tenant_id")?,
                key_id: get(&row, "key_id")?,
                expires_at: from_ms(get(&row, "expires_at")?),
            })
        })
        .transpose()
    }

    /// Ends the session of `token` (signing out); `false` when there was none.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn end_dashboard_session(&self, pepper: &ApiKeyPepper, token: &str) -> Result<bool> {
        let n = db::exec(
            self.db(),
            "ending a dashboard session",
            "DELETE FROM dashboard_sessions WHERE digest = $1",
            vec![pepper.digest(token).into()],
        )
        .await?;
        Ok(n > 0)
    }
}
