//! Tenants and their gateway API keys.
//!
//! An API key is `wg_live_` and 32 random bytes in hex. Only its HMAC-SHA-256
//! under a server pepper is stored, under a unique index, so authenticating a
//! request is one indexed lookup. A slow password hash would add tens of
//! milliseconds per request and buys nothing for a key of 256 random bits.

use std::fmt;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use rand::RngCore as _;
use secrecy::SecretString;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::{from_ms, now_ms};

/// Every Waygate API key starts with this.
pub const API_KEY_PREFIX: &str = "wg_live_";

/// Characters of a key kept in clear to tell keys apart in lists.
const SHOWN_PREFIX_LEN: usize = API_KEY_PREFIX.len() + 6;

/// The server secret API keys are hashed with. `Debug` never prints it.
#[derive(Clone)]
pub struct ApiKeyPepper(Zeroizing<Vec<u8>>);

impl fmt::Debug for ApiKeyPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyPepper([redacted])")
    }
}

impl ApiKeyPepper {
    /// A pepper of at least 32 bytes.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when it is shorter.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < 32 {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "the API key pepper must be at least 32 bytes, it is {}",
                    bytes.len()
                ),
            ));
        }
        Ok(Self(bytes))
    }

    /// The HMAC-SHA-256 of `key` under this pepper: what is stored and looked up.
    pub fn digest(&self, key: &str) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any size");
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// A key just issued: the only time its full text exists outside the caller.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedApiKey {
    /// The key's id (to revoke it).
    pub id: String,
    /// Its first characters, stored in clear to tell keys apart.
    pub prefix: String,
    /// The full key, to show once.
    pub key: SecretString,
}

/// A stored API key, without anything secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiKeyInfo {
    /// The key's id.
    pub id: String,
    /// The tenant it authenticates.
    pub tenant: String,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was issued.
    pub created_at: SystemTime,
    /// When it was last used, if recorded.
    pub last_used_at: Option<SystemTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<SystemTime>,
}

const KEY_COLUMNS: &str = "id, tenant_id, name, prefix, created_at, last_used_at, revoked_at";

fn key_info(row: &sea_orm::QueryResult) -> Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: get(row, "id")?,
        tenant: get(row, "tenant_id")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        created_at: from_ms(get(row, "created_at")?),
        last_used_at: get::<Option<i64>>(row, "last_used_at")?.map(from_ms),
        revoked_at: get::<Option<i64>>(row, "revoked_at")?.map(from_ms),
    })
}

impl Store {
    /// Creates a tenant.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] when the id is taken.
    pub async fn create_tenant(&self, id: &str, name: &str) -> Result<()> {
        db::exec(
            self.db(),
            "creating a tenant",
            "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)",
            vec![id.into(), name.into(), now_ms().into()],
        )
        .await
        .map(drop)
    }

    /// Whether the tenant exists.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn tenant_exists(&self, id: &str) -> Result<bool> {
        let row = db::one(
            self.db(),
            "reading a tenant",
            "SELECT id FROM tenants WHERE id = $1",
            vec![id.into()],
        )
        .await?;
        Ok(row.is_some())
    }

    /// Deletes a tenant and everything it owns (request logs stay until retention
    /// removes them); `false` when there was none.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn delete_tenant(&self, id: &str) -> Result<bool> {
        let n = db::exec(
            self.db(),
            "deleting a tenant",
            "DELETE FROM tenants WHERE id = $1",
            vec![id.into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// Issues an API key for the tenant. The returned key is not stored and
    /// cannot be shown again.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown tenant.
    pub async fn issue_api_key(
        &self,
        tenant: &str,
        name: &str,
        pepper: &ApiKeyPepper,
    ) -> Result<IssuedApiKey> {
        let mut random = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(&mut random[..]);
        let mut key = Zeroizing::new(String::with_capacity(API_KEY_PREFIX.len() + 64));
        key.push_str(API_KEY_PREFIX);
        for b in random.iter() {
            key.push_str(&format!("{b:02x}"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let prefix = key[..SHOWN_PREFIX_LEN].to_owned();
        db::exec(
            self.db(),
            "issuing an API key",
            "INSERT INTO api_keys (id, tenant_id, name, prefix, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                id.as_str().into(),
                tenant.into(),
                name.into(),
                prefix.as_str().into(),
                pepper.digest(&key).into(),
                now_ms().into(),
            ],
        )
        .await?;
        Ok(IssuedApiKey {
            id,
            prefix,
            key: SecretString::from(key.as_str()),
        })
    }

    /// The live (not revoked) key with this text: one lookup by digest.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn authenticate_api_key(
        &self,
        pepper: &ApiKeyPepper,
        key: &str,
    ) -> Result<Option<ApiKeyInfo>> {
        if !key.starts_with(API_KEY_PREFIX) {
            return Ok(None);
        }
        let digest = pepper.digest(key);
        let row = db::one(
            self.db(),
            "authenticating an API key",
            &format!(
                "SELECT {KEY_COLUMNS}, digest FROM api_keys WHERE digest = $1 AND revoked_at IS NULL"
            ),
            vec![digest.clone().into()],
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        // The index matched on equality already; compare again in constant time
        // so that no byte-by-byte timing of this process depends on the key.
        let stored: Vec<u8> = get(&row, "digest")?;
        let same = stored.len() == digest.len()
            && stored
                .iter()
                .zip(&digest)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Ok(None);
        }
        key_info(&row).map(Some)
    }

    /// The tenant's keys, newest first (revoked ones included).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKeyInfo>> {
        let rows = db::all(
            self.db(),
            "listing API keys",
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id"
            ),
            vec![tenant.into()],
        )
        .await?;
        rows.iter().map(key_info).collect()
    }

    /// Revokes a key; `false` when the tenant has no live key with this id.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn revoke_api_key(&self, tenant: &str, id: &str) -> Result<bool> {
        let n = db::exec(
            self.db(),
            "revoking an API key",
            "UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
            vec![tenant.into(), id.into(), now_ms().into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// Records that a key was used now.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn touch_api_key(&self, tenant: &str, id: &str) -> Result<()> {
        db::exec(
            self.db(),
            "recording API key use",
            "UPDATE api_keys SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2",
            vec![tenant.into(), id.into(), now_ms().into()],
        )
        .await
        .map(drop)
    }
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TenantInfo {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// `active` unless an operator changed it.
    pub status: String,
    /// Settings the operator set (a JSON object, e.g. `rateLimitPerMinute`).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// When it was created.
    pub created_at: SystemTime,
}

fn tenant_info(row: &sea_orm::QueryResult) -> Result<TenantInfo> {
    let settings: String = get(row, "settings")?;
    Ok(TenantInfo {
        id: get(row, "id")?,
        name: get(row, "name")?,
        status: get(row, "status")?,
        settings: serde_json::from_str(&settings).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "stored tenant settings are not JSON",
            )
            .with_source(e)
        })?,
        created_at: from_ms(get(row, "created_at")?),
    })
}

impl Store {
    /// The tenant with this id.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn tenant(&self, id: &str) -> Result<Option<TenantInfo>> {
        let row = db::one(
            self.db(),
            "reading a tenant",
            "SELECT id, name, status, settings, created_at FROM tenants WHERE id = $1",
            vec![id.into()],
        )
        .await?;
        row.as_ref().map(tenant_info).transpose()
    }

    /// Changes a tenant's name and/or replaces its settings; the updated
    /// tenant, or `None` when there is none with this id.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn update_tenant(
        &self,
        id: &str,
        name: Option<&str>,
        settings: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Option<TenantInfo>> {
        let settings = settings.map(|s| serde_json::Value::Object(s.clone()).to_string());
        db::exec(
            self.db(),
            "updating a tenant",
            "UPDATE tenants SET name = COALESCE($2, name), settings = COALESCE($3, settings) WHERE id = $1",
            vec![id.into(), name.map(str::to_owned).into(), settings.into()],
        )
        .await?;
        self.tenant(id).await
    }
}

impl Store {
    /// Creates a tenant and issues its first key (named `default`). When the
    /// key cannot be issued the tenant is removed again, so that no tenant is
    /// left without a way in.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] when the id is taken; [`ErrorKind::Unavailable`]
    /// on database failure.
    pub async fn create_tenant_with_key(
        &self,
        id: &str,
        name: &str,
        pepper: &ApiKeyPepper,
    ) -> Result<(TenantInfo, IssuedApiKey)> {
        self.create_tenant(id, name).await?;
        let issued = match self.issue_api_key(id, "default", pepper).await {
            Ok(k) => k,
            Err(e) => {
                let _ = self.delete_tenant(id).await;
                return Err(e);
            }
        };
        let tenant = self
            .tenant(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("tenant '{id}'")))?;
        Ok((tenant, issued))
    }

    /// Every tenant, by id.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn list_tenants(&self) -> Result<Vec<TenantInfo>> {
        let rows = db::all(
            self.db(),
            "listing tenants",
            "SELECT id, name, status, settings, created_at FROM tenants ORDER BY id",
            vec![],
        )
        .await?;
        rows.iter().map(tenant_info).collect()
    }
}
