//! Server-wide secrets, sealed by the vault and shared by every replica that
//! uses the same database: today the pepper that API keys are hashed with.
//!
//! Keeping the pepper in the database (encrypted under the master key) rather
//! than in a file means that N replicas agree on it without another setting,
//! and that a copy of the database alone does not reveal it.

use rand::RngCore as _;

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::tenants::ApiKeyPepper;
use crate::time::now_ms;
use crate::vault::Envelope;

/// The row of the API key pepper.
const PEPPER: &str = "api_key_pepper";

/// The vault's "tenant" for server-wide rows: no tenant id is empty.
pub(crate) const SERVER_SCOPE: &str = "";

impl Store {
    /// The pepper gateway API keys are hashed with, generated on first use.
    /// Two processes starting at once agree on one: the first insert wins and
    /// both read it back.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] without a master key; [`ErrorKind::Crypto`] when the
    /// stored pepper was sealed with a key this process does not have.
    pub async fn api_key_pepper(&self) -> Result<ApiKeyPepper> {
        if let Some(pepper) = self.read_pepper().await? {
            return Ok(pepper);
        }
        let ring = self.keyring()?;
        let mut bytes = zeroize::Zeroizing::new(vec![0u8; 32]);
        rand::rng().fill_bytes(&mut bytes);
        let sealed = ring.seal(SERVER_SCOPE, PEPPER, &bytes)?;
        let now = now_ms();
        db::exec(
            self.db(),
            "storing the API key pepper",
            "INSERT INTO server_secrets (name, key_id, nonce, ciphertext, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
            vec![
                PEPPER.into(),
                sealed.key_id.into(),
                sealed.nonce.into(),
                sealed.ciphertext.into(),
                now.into(),
            ],
        )
        .await?;
        self.read_pepper().await?.ok_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                "the API key pepper was stored but cannot be read back",
            )
        })
    }

    async fn read_pepper(&self) -> Result<Option<ApiKeyPepper>> {
        let row = db::one(
            self.db(),
            "reading the API key pepper",
            "SELECT key_id, nonce, ciphertext FROM server_secrets WHERE name = $1",
            vec![PEPPER.into()],
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        let envelope = Envelope {
            key_id: get(&row, "key_id")?,
            nonce: get(&row, "nonce")?,
            ciphertext: get(&row, "ciphertext")?,
        };
        let plain = self.keyring()?.open(SERVER_SCOPE, PEPPER, &envelope)?;
        ApiKeyPepper::new(plain.to_vec()).map(Some)
    }
}
