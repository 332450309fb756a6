//! `/mcp` on `waygate serve` and the stdio server's wiring: the MCP server of
//! `waygate-mcp` on this gateway's store and engine.
//!
//! Requests are authenticated like the REST API (a tenant API key as
//! `Authorization: Bearer`, counted against the tenant's rate limit); a 401
//! carries a `WWW-Authenticate` challenge. The tenant comes from the key, never
//! from the request, so another tenant's key sees and calls none of the tools.

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use waygate_core::storage::{StoreError, StoredIntegration};
use waygate_mcp::streamable::{self, HttpOptions};
use waygate_mcp::{Caller, Registry, Scope};
use waygate_store::Store;

use crate::api::auth::{Tenant, admit};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::http::gate::Gate;

/// Where MCP over streamable HTTP is served.
pub const PATH: &str = "/mcp";

/// The challenge of a 401 on `/mcp` (RFC 6750).
const CHALLENGE: &str = r#"Bearer realm="waygate", scope="mcp""#;

/// The tenant's integrations as the store holds them, searched by its index.
#[derive(Debug, Clone)]
pub struct StoreRegistry(pub Store);

#[async_trait]
impl Registry for StoreRegistry {
    async fn revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self.0.active_revisions(tenant).await?)
    }

    async fn integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        let mut all = self.0.load_integrations(tenant).await?;
        all.retain(|s| s.enabled);
        Ok(all)
    }

    async fn search(
        &self,
        tenant: &str,
        text: &str,
        limit: u32,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let hits = self.0.search_actions(tenant, text, limit).await?;
        Ok(Some(
            hits.into_iter()
                .map(|h| format!("{}.{}", h.integration, h.slug))
                .collect(),
        ))
    }
}

/// `Host`s and `Origin`s `/mcp` accepts: loopback names, the host of
/// `WAYGATE_PUBLIC_URL`, and those listed in `WAYGATE_MCP_ALLOWED_HOSTS`
/// (comma-separated names or `host:port`); browser origins: the public URL's
/// and `WAYGATE_MCP_ALLOWED_ORIGINS`.
pub fn http_options(app: &AppState) -> HttpOptions {
    let mut options = HttpOptions {
        max_body_bytes: app.settings.max_body_bytes,
        ..HttpOptions::default()
    };
    if let Some(public) = &app.settings.public_url {
        if let Some(host) = public.host_str() {
            options.allowed_hosts.push(host.to_owned());
        }
        options
            .allowed_origins
            .push(public.origin().ascii_serialization());
    }
    options
        .allowed_hosts
        .extend(list_env("WAYGATE_MCP_ALLOWED_HOSTS"));
    options
        .allowed_origins
        .extend(list_env("WAYGATE_MCP_ALLOWED_ORIGINS"));
    options
}

fn list_env(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `/mcp`: authentication, then the streamable HTTP service.
pub fn router(app: AppState) -> Router {
    let service = streamable::service(&app.mcp, &http_options(&app));
    Router::new()
        .route_service(PATH, service)
        .layer(Gate::new(app, gate))
}

/// Admits the caller and names it (tenant and scope) for the handler.
async fn gate(app: AppState, mut request: Request) -> Result<Request, Response> {
    let principal = admit(&app, request.headers()).await.map_err(challenge)?;
    let Tenant(tenant) = Tenant::of(&principal).map_err(IntoResponse::into_response)?;
    let scope = Scope::from_query(request.uri().query())
        .map_err(|e| ApiError::bad_request(format!("{PATH}: {e}")).into_response())?;
    request.extensions_mut().insert(Caller { tenant, scope });
    Ok(request)
}

/// The error's answer, with the Bearer challenge when it is a 401.
fn challenge(e: ApiError) -> Response {
    let mut response = e.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    response
}
