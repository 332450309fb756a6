//! The HTTP surface: the root router and graceful serving.
//!
//! - `/api/v1/…` — the REST API ([`crate::api`]), authenticated.
//! - `/api/v1/openapi.json` and `/docs` — its OpenAPI 3.1 document and an
//!   offline Swagger UI (assets vendored into the binary).
//! - `/healthz` — liveness; `/metrics` — Prometheus text, for the operator
//!   key only (it names every tenant, integration and connection), or without
//!   authentication on a separate private address ([`spawn_metrics`]).
//! - `/oauth/callback` — where OAuth2 providers send the user back.
//! - `/mcp` — MCP over streamable HTTP ([`crate::mcp`]).
//! - `/` and the other page paths — the web dashboard ([`crate::dashboard`]).
//!
//! [`serve`] runs the [`Gateway`] service on one runtime per core ([`workers`]).

mod body;
pub mod cookie;
pub mod gate;
mod gateway;
mod workers;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::app::AppState;

pub use self::body::{BodyLimits, BodyWatch};
pub use self::gateway::Gateway;
pub use self::workers::serve;

/// The gateway's routes, in one table: the API's are merged in at their full
/// paths (decision 110), so that finding any route is one lookup. The
/// [`Gateway`] bounds the bodies they read.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router(state.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(operator_metrics))
        .route(api::oauth::CALLBACK_PATH, get(api::oauth::callback))
        .with_state(state.clone())
        .merge(api)
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", openapi))
        .merge(crate::mcp::router(state.clone()))
        .merge(crate::dashboard::router(state))
}

/// Liveness: the process serves requests.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// `/metrics` on the main address: for the operator key. Without one
/// configured it is not served here (404, with where to find it instead).
async fn operator_metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if app.settings.admin_key.is_none() {
        return api::error::ApiError::not_found("the route")
            .with_details(json!({"reason": "/metrics is served with the operator key (WAYGATE_ADMIN_KEY, unset) or on WAYGATE_METRICS_ADDR"}))
            .into_response();
    }
    match api::auth::operator(&app, &headers) {
        Ok(()) => prometheus(State(app)).await.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Serves `GET /metrics` without authentication on `listener` (the
/// `--metrics-addr` address, meant for a private network), on the main
/// runtime, until the process ends.
///
/// # Errors
/// When the bound address cannot be read.
pub fn spawn_metrics(listener: tokio::net::TcpListener, state: AppState) -> Result<(), String> {
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the metrics address: {e}"))?;
    let router = Router::new()
        .route("/metrics", get(prometheus))
        .with_state(state);
    tracing::info!(%addr, "serving /metrics without authentication on this address");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(())
}

/// Prometheus text exposition.
async fn prometheus(State(app): State<AppState>) -> impl IntoResponse {
    app.metrics
        .log_queue(app.logs.queued(), app.logs.written(), app.logs.dropped());
    // How much of the request body budget is reserved (decision 40).
    metrics::gauge!("waygate_request_body_reserved_bytes").set(app.bodies.reserved_bytes() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
