//! Connections as the gateway lists them: status, health and credential
//! metadata, never the credential itself.

use std::time::SystemTime;

use crate::db::{self, get};
use crate::error::Result;
use crate::store::Store;
use crate::time::from_ms;

/// A connection without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Its id.
    pub id: String,
    /// The integration's slug.
    pub integration: String,
    /// Its name, unique per integration.
    pub name: String,
    /// The base URL override, if any.
    pub base_url: Option<String>,
    /// The auth scheme the connection names, if any.
    pub auth_scheme: Option<String>,
    /// `active`, `expired`, `needs_reauth` or `error`.
    pub status: String,
    /// The last health check's verdict (`unknown` before the first).
    pub health: String,
    /// The credential's type (`api_key`, `oauth2_tokens`, …); `none` without one.
    pub credential_type: String,
    /// When the credential (an OAuth2 access token) expires, when known.
    pub expires_at: Option<SystemTime>,
    /// Granted or requested OAuth2 scopes.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was last written.
    pub updated_at: SystemTime,
}

const INFO_QUERY: &str =
    "SELECT c.id, i.slug AS integration, c.name, c.base_url, c.auth_scheme, c.status, c.health,
        COALESCE(k.kind, 'none') AS kind, k.expires_at, COALESCE(k.scopes, '[]') AS scopes,
        c.created_at, c.updated_at
     FROM connections c
     JOIN integrations i ON i.id = c.integration_id AND i.tenant_id = c.tenant_id
     LEFT JOIN credentials k ON k.connection_id = c.id
     WHERE c.tenant_id = $1";

impl Store {
    /// The connections of one integration, by name.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn list_connections(
        &self,
        tenant: &str,
        integration: &str,
    ) -> Result<Vec<ConnectionInfo>> {
        let rows = db::all(
            self.db(),
            "listing connections",
            &format!("{INFO_QUERY} AND i.slug = $2 ORDER BY c.name"),
            vec![tenant.into(), integration.into()],
        )
        .await?;
        rows.iter().map(info).collect()
    }

    /// One connection of an integration, by name.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn connection_info(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<ConnectionInfo>> {
        let row = db::one(
            self.db(),
            "reading a connection",
            &format!("{INFO_QUERY} AND i.slug = $2 AND c.name = $3"),
            vec![tenant.into(), integration.into(), name.into()],
        )
        .await?;
        row.as_ref().map(info).transpose()
    }

    /// One connection of the tenant, by id.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn connection_info_by_id(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ConnectionInfo>> {
        let row = db::one(
            self.db(),
            "reading a connection",
            &format!("{INFO_QUERY} AND c.id = $2"),
            vec![tenant.into(), id.into()],
        )
        .await?;
        row.as_ref().map(info).transpose()
    }
}

fn info(row: &sea_orm::QueryResult) -> Result<ConnectionInfo> {
    let scopes: String = get(row, "scopes")?;
    Ok(ConnectionInfo {
        id: get(row, "id")?,
        integration: get(row, "integration")?,
        name: get(row, "name")?,
        base_url: get(row, "base_url")?,
        auth_scheme: get(row, "auth_scheme")?,
        status: get(row, "status")?,
        health: get(row, "health")?,
        credential_type: get(row, "kind")?,
        expires_at: get::<Option<i64>>(row, "expires_at")?.map(from_ms),
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        created_at: from_ms(get(row, "created_at")?),
        updated_at: from_ms(get(row, "updated_at")?),
    })
}

impl Store {
    /// How many connections, across all tenants, need re-authorization: an
    /// operator's alert (like the refresh sweep, the one count without a tenant).
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn connections_needing_reauth(&self) -> Result<u64> {
        let row = db::one(
            self.db(),
            "counting connections that need re-authorization",
            "SELECT COUNT(*) AS n FROM connections WHERE status = 'needs_reauth'",
            vec![],
        )
        .await?;
        let n: i64 = row.as_ref().map(|r| get(r, "n")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
