//! Who is calling: every `/api/v1` request is authenticated before anything
//! else, by the operator key (`WAYGATE_ADMIN_KEY`) or a tenant's `wg_live_` key.
//!
//! A key is looked up by its HMAC digest (one indexed read) and the answer is
//! kept for a few seconds, so that a busy client costs no database read per
//! request. Revoking a key through this process drops it from the cache at
//! once; other replicas stop accepting it within [`AUTH_TTL`]. Both periods
//! read the injected clock (`AppState::clock`).

use std::time::Duration;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use tokio::time::Instant;
use waygate_core::ttl::TtlCache;
use waygate_store::API_KEY_PREFIX;

use super::error::ApiError;
use crate::app::AppState;

/// How long an authenticated key is trusted without reading the store again.
pub const AUTH_TTL: Duration = Duration::from_secs(5);

/// How often `last_used_at` is written for a busy key.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Keys kept at most (moka evicts the least used beyond).
const MAX_ENTRIES: u64 = 10_000;

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The operator (tenant management).
    Operator,
    /// A tenant, by one of its API keys.
    Tenant(TenantKey),
}

/// A tenant authenticated by an API key.
#[derive(Debug, Clone)]
pub struct TenantKey {
    /// The tenant's id.
    pub tenant: String,
    /// The key's id.
    pub key_id: String,
    /// The tenant's own gateway rate limit, when the operator set one.
    pub rate_limit: Option<u32>,
}

/// A key as authenticated: trusted for [`AUTH_TTL`] from when the store was
/// read (the cache's stored-at instant).
#[derive(Debug, Clone)]
struct Entry {
    key: TenantKey,
    /// When `last_used_at` was last written for it.
    touched: Instant,
}

/// Recently authenticated keys, by digest; bounded, timed by the injected clock.
pub struct AuthCache {
    entries: TtlCache<Vec<u8>, Entry>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").finish_non_exhaustive()
    }
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            entries: TtlCache::new(AUTH_TTL, MAX_ENTRIES),
        }
    }
}

impl AuthCache {
    /// The entry of `digest` and when the store was read for it, unless that
    /// is [`AUTH_TTL`] before `now`.
    fn get(&self, digest: &[u8], now: Instant) -> Option<(Instant, Entry)> {
        self.entries.get(digest, now)
    }

    /// Forgets every cached key of `tenant` (after a revocation or a settings change).
    pub fn forget_tenant(&self, tenant: &str) {
        self.entries.remove_where(|_, e| e.key.tenant == tenant);
    }
}

/// The gate in front of every `/api/v1` route ([`Gate`](crate::http::gate::Gate),
/// decision 124): authenticates the caller, applies the tenant's rate limit
/// ([`admit`]) and puts the [`Principal`] into the request's extensions,
/// before the route's extractors read anything, so an anonymous caller is
/// answered from its headers and holds no body.
pub async fn authenticate(app: AppState, mut request: Request) -> Result<Request, Response> {
    match admit(&app, request.headers()).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            Ok(request)
        }
        Err(e) => Err(e.into_response()),
    }
}

/// Who may make a request with `headers`: the authenticated caller, once the
/// tenant's rate limit has admitted the request (this counts it).
///
/// # Errors
/// 401 without a valid key, 429 when the tenant's limit is spent, 503 when
/// the store cannot be read.
pub async fn admit(app: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let header = headers.get(header::AUTHORIZATION).map(HeaderValue::to_str);
    let principal = principal(app, header).await?;
    if let Principal::Tenant(key) = &principal
        && let Err(wait) = app.limits.check(&key.tenant, key.rate_limit)
    {
        app.metrics.tenant_rate_limited(&key.tenant);
        return Err(ApiError::rate_limited(wait.as_millis() as u64));
    }
    Ok(principal)
}

/// The caller named by the `Authorization` header's value (absent, or not text).
async fn principal(
    app: &AppState,
    header: Option<Result<&str, header::ToStrError>>,
) -> Result<Principal, ApiError> {
    let token = bearer(header)?;
    if is_operator_key(app, token) {
        return Ok(Principal::Operator);
    }
    if !token.starts_with(API_KEY_PREFIX) {
        return Err(ApiError::unauthorized("the API key is not valid"));
    }
    let digest = app.pepper.digest(token);
    let now = app.clock.instant();
    if let Some((checked, entry)) = app.auth.get(&digest, now) {
        if now.saturating_duration_since(entry.touched) >= TOUCH_EVERY {
            // Written back as of when it was checked: touching trusts it no longer.
            touch(app, digest, entry.clone(), checked);
        }
        return Ok(Principal::Tenant(entry.key));
    }
    let info = app
        .store
        .authenticate_api_key(&app.pepper, token)
        .await
        .map_err(|e| ApiError::unavailable("authenticating the API key", &e))?
        .ok_or_else(|| ApiError::unauthorized("the API key is not valid or was revoked"))?;
    let tenant = app
        .store
        .tenant(&info.tenant)
        .await
        .map_err(|e| ApiError::unavailable("reading the tenant", &e))?
        .ok_or_else(|| ApiError::unauthorized("the API key's tenant no longer exists"))?;
    let key = TenantKey {
        rate_limit: super::tenants::rate_limit_setting(&tenant.settings),
        tenant: info.tenant,
        key_id: info.id,
    };
    let entry = Entry {
        key: key.clone(),
        touched: now,
    };
    touch(app, digest, entry, now);
    Ok(Principal::Tenant(key))
}

/// The key in an `Authorization: Bearer <key>` header's value.
fn bearer(header: Option<Result<&str, header::ToStrError>>) -> Result<&str, ApiError> {
    let value = header
        .ok_or_else(|| ApiError::unauthorized("missing 'Authorization: Bearer <key>' header"))?;
    value
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <key>'"))
}

fn is_operator_key(app: &AppState, token: &str) -> bool {
    app.settings
        .admin_key
        .as_ref()
        .is_some_and(|admin| constant_time_eq(token.as_bytes(), admin.expose_secret().as_bytes()))
}

/// Admits only the operator (`Authorization: Bearer <WAYGATE_ADMIN_KEY>`),
/// from the headers alone: no store read, no tenant rate limit, so a tenant
/// key is refused like any other.
///
/// # Errors
/// 401 without the operator key (also when none is configured).
pub fn operator(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let header = headers.get(header::AUTHORIZATION).map(HeaderValue::to_str);
    if is_operator_key(app, bearer(header)?) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("this needs the operator key"))
    }
}

/// Records `last_used_at` in the background, at most once a minute per key;
/// caches `entry` as read from the store at `checked`.
fn touch(app: &AppState, digest: Vec<u8>, mut entry: Entry, checked: Instant) {
    let store = app.store.clone();
    let (tenant, id) = (entry.key.tenant.clone(), entry.key.key_id.clone());
    entry.touched = app.clock.instant();
    app.auth.entries.insert(digest, entry, checked);
    tokio::spawn(async move {
        if let Err(e) = store.touch_api_key(&tenant, &id).await {
            tracing::warn!(error = %crate::app::causes(&e), "recording API key use failed");
        }
    });
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A handler argument: the calling tenant's id. The operator is refused (403),
/// since tenant resources belong to one tenant.
#[derive(Debug, Clone)]
pub struct Tenant(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Principal>() {
            Some(principal) => Self::of(principal),
            None => Err(ApiError::unauthorized("not authenticated")),
        }
    }
}

impl Tenant {
    /// The tenant `principal` acts for.
    ///
    /// # Errors
    /// 403 for the operator, who acts for no tenant.
    pub fn of(principal: &Principal) -> Result<Self, ApiError> {
        match principal {
            Principal::Tenant(key) => Ok(Self(key.tenant.clone())),
            Principal::Operator => Err(ApiError::forbidden(
                "this endpoint acts for one tenant: use a tenant API key",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("not authenticated"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn keys_are_trusted_for_the_ttl_on_the_given_clock_and_forgotten_per_tenant() {
        let cache = AuthCache::default();
        let t0 = Instant::now();
        let entry = |tenant: &str| Entry {
            key: TenantKey {
                tenant: tenant.into(),
                key_id: "k".into(),
                rate_limit: None,
            },
            touched: t0,
        };
        cache.entries.insert(b"a".to_vec(), entry("t1"), t0);
        cache.entries.insert(b"b".to_vec(), entry("t2"), t0);
        let almost = t0 + AUTH_TTL - Duration::from_millis(1);
        assert_eq!(cache.get(b"a", almost).map(|(at, _)| at), Some(t0));
        assert!(cache.get(b"a", t0 + AUTH_TTL).is_none(), "expired");
        cache.forget_tenant("t1");
        assert!(cache.get(b"a", t0).is_none());
        assert!(cache.get(b"b", t0).is_some(), "other tenants stay");
    }
}
