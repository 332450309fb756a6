//! The HTTP surface: the root router and graceful serving.
//!
//! - `/api/v1/…` — the REST API ([`crate::api`]), authenticated.
//! - `/api/v1/openapi.json` and `/docs` — its OpenAPI 3.1 document and an
//!   offline Swagger UI (assets vendored into the binary).
//! - `/healthz` — liveness; `/metrics` — Prometheus text.
//! - `/oauth/callback` — where OAuth2 providers send the user back.
//! - `/mcp` — MCP over streamable HTTP ([`crate::mcp`]).
//!
//! [`serve`] runs the [`Gateway`] service on one runtime per core ([`workers`]).

mod gateway;
mod workers;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::app::AppState;

pub use self::gateway::Gateway;
pub use self::workers::serve;

/// The gateway's routes.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router(state.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(prometheus))
        .route(api::oauth::CALLBACK_PATH, get(api::oauth::callback))
        .with_state(state.clone())
        .nest("/api/v1", api)
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", openapi))
        .merge(crate::mcp::router(state.clone()))
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
}

/// Liveness: the process serves requests.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// Prometheus text exposition.
async fn prometheus(State(app): State<AppState>) -> impl IntoResponse {
    app.metrics
        .log_queue(app.logs.queued(), app.logs.written(), app.logs.dropped());
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
