//! Tenants and their API keys: created by the operator, read by the operator
//! or the tenant itself.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use waygate_store::{ApiKeyInfo, TenantInfo};

use super::auth::Principal;
use super::error::{ApiError, ApiResult, store_error};
use super::page::Page;
use crate::app::AppState;
use crate::ops::time::rfc3339;

/// The tenant setting that overrides `WAYGATE_TENANT_RATE_LIMIT`.
const RATE_LIMIT_SETTING: &str = "rateLimitPerMinute";

/// A tenant as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `active` unless changed.
    pub status: String,
    /// Operator settings, e.g. `rateLimitPerMinute`.
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<TenantInfo> for TenantView {
    fn from(t: TenantInfo) -> Self {
        Self {
            id: t.id,
            name: t.name,
            status: t.status,
            settings: t.settings,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// `POST /tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// Display name.
    pub name: String,
    /// Id (`[a-z0-9-]`, at most 64); generated when absent.
    #[serde(default)]
    pub id: Option<String>,
}

/// A tenant just created, with its first key (shown only now).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTenant {
    /// The tenant.
    pub tenant: TenantView,
    /// Its first API key; it cannot be shown again.
    pub api_key: String,
}

/// `PATCH /tenants/{id}`: fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// Settings to set; a `null` value removes one. `rateLimitPerMinute`: a
    /// whole number ≥ 0 (0 = no limit).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Map<String, Value>>,
}

/// `POST /tenants/{id}/api-keys`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// A name to tell keys apart.
    #[serde(default)]
    pub name: Option<String>,
}

/// An API key without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    /// Its id (to revoke it).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when it was last used.
    pub last_used_at: Option<String>,
    /// RFC 3339, when it was revoked.
    pub revoked_at: Option<String>,
}

impl From<ApiKeyInfo> for ApiKeyView {
    fn from(k: ApiKeyInfo) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
        }
    }
}

/// A key just issued: the only answer that contains it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedKey {
    /// The key; store it now, it cannot be shown again.
    pub api_key: String,
    /// The key's id (to revoke it).
    pub id: String,
    /// Its first characters.
    pub prefix: String,
}

/// The tenant's own rate limit setting, when set to a valid number.
pub fn rate_limit_setting(settings: &Map<String, Value>) -> Option<u32> {
    settings.get(RATE_LIMIT_SETTING).and_then(rate_limit_value)
}

/// A `rateLimitPerMinute` value: a whole number that fits a `u32`.
fn rate_limit_value(value: &Value) -> Option<u32> {
    value.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn require_operator(p: &Principal) -> ApiResult<()> {
    match p {
        Principal::Operator => Ok(()),
        Principal::Tenant(_) => Err(ApiError::forbidden("only the operator key may do this")),
    }
}

/// The operator, or the tenant acting on itself; any other tenant gets 404.
fn require_self_or_operator(p: &Principal, id: &str) -> ApiResult<()> {
    match p {
        Principal::Operator => Ok(()),
        Principal::Tenant(k) if k.tenant == id => Ok(()),
        Principal::Tenant(_) => Err(ApiError::not_found(format!("tenant '{id}'"))),
    }
}

/// Whether `id` can name a tenant: 1–64 characters of `[a-z0-9-]`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Create a tenant and its first API key (operator).
#[utoipa::path(
    post,
    operation_id = "createTenant", path = "/tenants", tag = "tenants",
    request_body = CreateTenant,
    responses((status = 201, body = CreatedTenant), (status = 400, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn create_tenant(
    State(app): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateTenant>,
) -> ApiResult<(StatusCode, Json<CreatedTenant>)> {
    require_operator(&principal)?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_request("name must be 1–200 characters"));
    }
    let id = match body.id {
        Some(id) if !valid_id(&id) => {
            return Err(ApiError::bad_request(
                "id must be 1–64 characters of [a-z0-9-]",
            ));
        }
        Some(id) => id,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let (tenant, key) = app
        .store
        .create_tenant_with_key(&id, name, &app.pepper)
        .await
        .map_err(|e| store_error(&format!("tenant '{id}'"), &e))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTenant {
            tenant: tenant.into(),
            api_key: key.key.expose_secret().to_owned(),
        }),
    ))
}

async fn load_tenant(app: &AppState, id: &str) -> ApiResult<TenantInfo> {
    app.store
        .tenant(id)
        .await
        .map_err(|e| store_error("reading the tenant", &e))?
        .ok_or_else(|| ApiError::not_found(format!("tenant '{id}'")))
}

/// Read a tenant (operator, or the tenant itself).
#[utoipa::path(
    get,
    operation_id = "getTenant", path = "/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, body = TenantView), (status = 404, body = super::ErrorBody)))]
pub async fn get_tenant(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    require_self_or_operator(&principal, &id)?;
    Ok(Json(load_tenant(&app, &id).await?.into()))
}

/// Change a tenant's name or settings (operator).
#[utoipa::path(
    patch,
    operation_id = "updateTenant", path = "/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    request_body = UpdateTenant,
    responses((status = 200, body = TenantView), (status = 400, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn update_tenant(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<UpdateTenant>,
) -> ApiResult<Json<TenantView>> {
    require_operator(&principal)?;
    let current = load_tenant(&app, &id).await?;
    if let Some(name) = &body.name
        && (name.trim().is_empty() || name.len() > 200)
    {
        return Err(ApiError::bad_request("name must be 1–200 characters"));
    }
    let settings = body
        .settings
        .map(|changes| merge_settings(current.settings, changes))
        .transpose()?;
    let updated = app
        .writes()
        .update_tenant(&id, body.name.as_deref().map(str::trim), settings.as_ref())
        .await
        .map_err(|e| store_error("updating the tenant", &e))?
        .ok_or_else(|| ApiError::not_found(format!("tenant '{id}'")))?;
    Ok(Json(updated.into()))
}

fn merge_settings(
    mut settings: Map<String, Value>,
    changes: Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    for (key, value) in changes {
        if key == RATE_LIMIT_SETTING && !value.is_null() && rate_limit_value(&value).is_none() {
            return Err(ApiError::bad_request(format!(
                "settings.{RATE_LIMIT_SETTING} must be a whole number from 0 to {}",
                u32::MAX
            )));
        }
        if value.is_null() {
            settings.remove(&key);
        } else {
            settings.insert(key, value);
        }
    }
    Ok(settings)
}

/// Delete a tenant and everything it owns (operator).
#[utoipa::path(
    delete,
    operation_id = "deleteTenant", path = "/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn delete_tenant(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_operator(&principal)?;
    let deleted = app
        .writes()
        .delete_tenant(&id)
        .await
        .map_err(|e| store_error("deleting the tenant", &e))?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("tenant '{id}'")))
    }
}

/// List a tenant's API keys, without their secrets.
#[utoipa::path(
    get,
    operation_id = "listApiKeys", path = "/tenants/{id}/api-keys", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, body = Page<ApiKeyView>), (status = 404, body = super::ErrorBody)))]
pub async fn list_api_keys(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    require_self_or_operator(&principal, &id)?;
    load_tenant(&app, &id).await?;
    let keys = app
        .store
        .list_api_keys(&id)
        .await
        .map_err(|e| store_error("listing API keys", &e))?;
    Ok(Json(Page::all(keys.into_iter().map(Into::into).collect())))
}

/// Issue another API key (operator, or the tenant itself); shown only in this answer.
#[utoipa::path(
    post,
    operation_id = "createApiKey", path = "/tenants/{id}/api-keys", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    request_body = CreateApiKey,
    responses((status = 201, body = IssuedKey), (status = 404, body = super::ErrorBody)))]
pub async fn create_api_key(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Option<Json<CreateApiKey>>,
) -> ApiResult<(StatusCode, Json<IssuedKey>)> {
    require_self_or_operator(&principal, &id)?;
    let name = body
        .and_then(|Json(b)| b.name)
        .unwrap_or_else(|| "default".to_owned());
    if name.len() > 200 {
        return Err(ApiError::bad_request("name must be at most 200 characters"));
    }
    let issued = app
        .store
        .issue_api_key(&id, &name, &app.pepper)
        .await
        .map_err(|e| store_error(&format!("tenant '{id}'"), &e))?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedKey {
            api_key: issued.key.expose_secret().to_owned(),
            id: issued.id,
            prefix: issued.prefix,
        }),
    ))
}

/// Revoke an API key (operator, or the tenant itself).
#[utoipa::path(
    delete,
    operation_id = "revokeApiKey", path = "/tenants/{id}/api-keys/{keyId}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id"), ("keyId" = String, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn revoke_api_key(
    State(app): State<AppState>,
    principal: Principal,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    require_self_or_operator(&principal, &id)?;
    let revoked = app
        .writes()
        .revoke_api_key(&id, &key_id)
        .await
        .map_err(|e| store_error("revoking the API key", &e))?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("API key '{key_id}'")))
    }
}
