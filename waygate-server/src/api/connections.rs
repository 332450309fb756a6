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
use super::integrations::{definition, find};
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
    /// The integration's auth scheme the connection names; absent: the one its
    /// credential suits (the integration's `auth` when it has no others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<String>,
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
            auth_scheme: c.auth_scheme,
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
    /// Which of the integration's auth schemes the credential is for: `default`
    /// (its `auth`) or a key of its `authSchemes`; absent: the one the
    /// credential suits.
    #[serde(default)]
    pub auth_scheme: Option<String>,
    /// The credential: `{"type": "api_key"|"basic"|"bearer"|"custom_headers"|"none"|"oauth2_client_credentials"|"oauth2_tokens", …}`.
    #[schema(value_type = Object)]
    pub credential: Value,
}

/// Body of `PATCH /integrations/{idOrSlug}/connections/{name}`: the fields
/// given are set (`null` clears one), the others kept; the credential is
/// replaced only by creating the connection again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateConnection {
    /// Base URL override; `null` removes it.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub base_url: Option<Option<String>>,
    /// The integration's auth scheme to use; `null`: the one the credential suits.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub auth_scheme: Option<Option<String>>,
}

/// A field that is present (`Some`), possibly `null` (`Some(None)`).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
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

fn check_base_url(url: &str) -> ApiResult<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| ApiError::bad_request(format!("baseUrl '{url}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(
            "baseUrl must be an http or https URL",
        ));
    }
    Ok(())
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
        check_base_url(url)?;
    }
    let credential = credential(body.credential)?;
    let def = definition(&app, &tenant, &integration.slug).await?;
    waygate_core::pipeline::credential_fits(&def, body.auth_scheme.as_deref(), &credential)
        .map_err(|e| ApiError::bad_request(format!("credential: {e}")))?;
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
    connection.auth_scheme = body.auth_scheme;
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

/// Change a connection's base URL override or auth scheme.
#[utoipa::path(
    patch,
    operation_id = "updateConnection", path = "/integrations/{idOrSlug}/connections/{name}", tag = "connections",
    params(("idOrSlug" = String, Path, description = "Integration id or slug"),
        ("name" = String, Path, description = "Connection name")),
    request_body = UpdateConnection,
    responses((status = 200, body = ConnectionView), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn update(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((id, name)): Path<(String, String)>,
    Json(body): Json<UpdateConnection>,
) -> ApiResult<Json<ConnectionView>> {
    let integration = find(&app, &tenant, &id).await?;
    let slug = &integration.slug;
    let mut connection = app
        .store
        .load_connection(&tenant, slug, &name)
        .await
        .map_err(|e| store_error("reading the connection", &e))?
        .ok_or_else(|| ApiError::not_found(format!("connection '{name}'")))?;
    if let Some(url) = body.base_url {
        if let Some(url) = &url {
            check_base_url(url)?;
        }
        connection.base_url = url;
    }
    if let Some(scheme) = body.auth_scheme {
        connection.auth_scheme = scheme;
    }
    let def = definition(&app, &tenant, slug).await?;
    waygate_core::pipeline::credential_fits(
        &def,
        connection.auth_scheme.as_deref(),
        &connection.credential,
    )
    .map_err(|e| ApiError::bad_request(format!("credential: {e}")))?;
    let found = app
        .store
        .update_connection(
            &tenant,
            slug,
            &name,
            connection.base_url.as_deref(),
            connection.auth_scheme.as_deref(),
        )
        .await
        .map_err(|e| store_error("updating the connection", &e))?;
    app.connections.invalidate(&tenant, slug, &name);
    let info = match found {
        true => app
            .store
            .connection_info(&tenant, slug, &name)
            .await
            .map_err(|e| store_error("reading the connection", &e))?,
        false => None,
    };
    info.map(|i| Json(i.into()))
        .ok_or_else(|| ApiError::not_found(format!("connection '{name}'")))
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
