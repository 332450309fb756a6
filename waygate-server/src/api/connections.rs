//! Connections of an integration: created with a credential (write-only),
//! listed with status and health, deleted; a credential never appears in an answer.

use crate::ops::time::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use waygate_core::{Connection, Credential};
use waygate_store::ConnectionInfo;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::integrations::find;
use super::page::Page;
use crate::app::AppState;

/// A connection as answered: never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// Its id.
    pub id: String,
    /// Its name, unique per integration (`default` unless named).
    pub name: String,
    /// The integration's slug.
    pub integration: String,
    /// The base URL override, if any.
    pub base_url: Option<String>,
    /// `active`, `expired`, `needs_reauth` or `error`.
    pub status: String,
    /// The last health check's verdict.
    pub health: String,
    /// The credential's type.
    pub credential_type: String,
    /// When the credential expires, RFC 3339.
    pub expires_at: Option<String>,
    /// OAuth2 scopes.
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<ConnectionInfo> for ConnectionView {
    fn from(c: ConnectionInfo) -> Self {
        Self {
            id: c.id,
            name: c.name,
            integration: c.integration,
            base_url: c.base_url,
            status: c.status,
            health: c.health,
            credential_type: c.credential_type,
            expires_at: c.expires_at.map(rfc3339),
            scopes: c.scopes,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// Body of `POST /integrations/{idOrSlug}/connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConnection {
    /// Name, unique per integration; `default` when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Base URL override for this connection.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The credential: `{"type": "api_key"|"basic"|"bearer"|"custom_headers"|"none"|"oauth2_client_credentials"|"oauth2_tokens", …}`.
    #[schema(value_type = Object)]
    pub credential: Value,
}

/// Body of `POST /integrations/{idOrSlug}/disconnect`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Disconnect {
    /// The connection; `default` when absent.
    #[serde(default)]
    pub connection: Option<String>,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reads a credential body. The error names what is wrong without echoing values.
fn credential(value: Value) -> ApiResult<Credential> {
    serde_json::from_value::<Credential>(value).map_err(|e| {
        // serde's message names the field or variant; values are not secret-bearing
        // in these messages except for `invalid type` ones, which quote a value.
        let text = e.to_string();
        let safe = if text.starts_with("invalid type") || text.starts_with("invalid value") {
            "a field has the wrong type (secrets must be strings)".to_owned()
        } else {
            text
        };
        ApiError::bad_request(format!("credential: {safe}"))
    })
}

/// Create a connection with its credential.
#[utoipa::path(
    post,
    operation_id = "createConnection", path = "/integrations/{idOrSlug}/connections", tag = "connections",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    request_body = CreateConnection,
    responses((status = 201, body = ConnectionView), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn create(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    Json(body): Json<CreateConnection>,
) -> ApiResult<(StatusCode, Json<ConnectionView>)> {
    let integration = find(&app, &tenant, &id).await?;
    let name = body.name.unwrap_or_else(|| Connection::DEFAULT.to_owned());
    if !valid_name(&name) {
        return Err(ApiError::bad_request(
            "name must be 1–64 characters of [A-Za-z0-9._-]",
        ));
    }
    if let Some(url) = &body.base_url {
        let parsed = url::Url::parse(url)
            .map_err(|e| ApiError::bad_request(format!("baseUrl '{url}' is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::bad_request(
                "baseUrl must be an http or https URL",
            ));
        }
    }
    let credential = credential(body.credential)?;
    let existing = app
        .store
        .connection_info(&tenant, &integration.slug, &name)
        .await
        .map_err(|e| store_error("reading the connection", &e))?;
    if existing.is_some() {
        return Err(ApiError::conflict(format!(
            "connection '{name}' exists: disconnect it first"
        )));
    }
    let mut connection = Connection::new(name.clone(), credential);
    connection.base_url = body.base_url;
    app.writes()
        .store_connection(&tenant, &integration.slug, &connection)
        .await
        .map_err(|e| store_error("storing the connection", &e))?;
    let info = app
        .store
        .connection_info(&tenant, &integration.slug, &name)
        .await
        .map_err(|e| store_error("reading the connection", &e))?
        .ok_or_else(|| ApiError::not_found(format!("connection '{name}'")))?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// List an integration's connections.
#[utoipa::path(
    get,
    operation_id = "listConnections", path = "/integrations/{idOrSlug}/connections", tag = "connections",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    responses((status = 200, body = Page<ConnectionView>), (status = 404, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<ConnectionView>>> {
    let integration = find(&app, &tenant, &id).await?;
    let all = app
        .store
        .list_connections(&tenant, &integration.slug)
        .await
        .map_err(|e| store_error("listing connections", &e))?;
    Ok(Json(Page::all(all.into_iter().map(Into::into).collect())))
}

/// Revoke and delete a connection's credential (and the connection).
#[utoipa::path(
    post,
    operation_id = "disconnect", path = "/integrations/{idOrSlug}/disconnect", tag = "connections",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    request_body = Disconnect,
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn disconnect(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    body: Option<Json<Disconnect>>,
) -> ApiResult<StatusCode> {
    let integration = find(&app, &tenant, &id).await?;
    let name = body
        .and_then(|Json(b)| b.connection)
        .unwrap_or_else(|| Connection::DEFAULT.to_owned());
    let removed = app
        .writes()
        .remove_connection(&tenant, &integration.slug, &name)
        .await
        .map_err(|e| store_error("deleting the connection", &e))?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("connection '{name}'")))
    }
}
