//! The REST API of `API.md` under `/api/v1`, and its OpenAPI 3.1 description.
//!
//! Every route is authenticated first ([`auth::authenticate`]); every error,
//! including axum's own rejections, answers in the one error shape
//! ([`error::ApiError`], [`rejections`]).

pub mod actions;
pub mod auth;
pub mod connections;
pub mod error;
pub mod integrations;
pub mod limit;
pub mod logs;
pub mod page;
pub mod rejections;
pub mod tenants;

use axum::Router;
use axum::middleware;
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

/// The error shape of DESIGN.md §4, for the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The fields of an error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `VALIDATION_ERROR`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Structured details: violations, upstream status and body…
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The invocation's request id, when there was one.
    pub request_id: Option<String>,
    /// What to do next.
    pub suggested_resolution: Resolution,
}

/// What the caller should do next.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// `RETRY_WITH_MODIFIED_INPUT`, `RETRY_AFTER_DELAY`, `REFRESH_CREDENTIALS`,
    /// `CHECK_INTEGRATION_CONFIG`, `CONTACT_EXTERNAL_PROVIDER` or `ESCALATE_TO_ADMIN`.
    pub action: String,
    /// The same in words.
    pub description: String,
    /// Whether sending the same again may succeed.
    pub retryable: bool,
    /// How long to wait first, when known.
    pub retry_after_ms: Option<u64>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Waygate gateway API",
        description = "Invoke any integrated API's actions through one interface; manage tenants, integrations and connections.",
        license(name = "Apache-2.0")
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "tenants", description = "Tenants and their API keys"),
        (name = "integrations", description = "Integrations and their actions"),
        (name = "connections", description = "Connections and their credentials (write-only)"),
        (name = "actions", description = "Invoking actions"),
        (name = "logs", description = "Request logs and figures"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A tenant API key (wg_live_…) or the operator key (WAYGATE_ADMIN_KEY)",
                    ))
                    .build(),
            ),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tenants::create_tenant))
        .routes(routes!(
            tenants::get_tenant,
            tenants::update_tenant,
            tenants::delete_tenant
        ))
        .routes(routes!(tenants::list_api_keys, tenants::create_api_key))
        .routes(routes!(tenants::revoke_api_key))
        .routes(routes!(
            integrations::list,
            integrations::create_from_definition
        ))
        .routes(routes!(integrations::import_openapi))
        .routes(routes!(
            integrations::get,
            integrations::update,
            integrations::delete
        ))
        .routes(routes!(integrations::export))
        .routes(routes!(integrations::actions))
        .routes(routes!(integrations::health))
        .routes(routes!(connections::create, connections::list))
        .routes(routes!(connections::disconnect))
        .routes(routes!(actions::invoke))
        .routes(routes!(actions::test))
        .routes(routes!(actions::schema))
        .routes(routes!(logs::list))
        .routes(routes!(logs::stats))
}

/// The `/api/v1` router (authenticated) and the OpenAPI document describing it.
pub fn router(state: AppState) -> (Router, OpenApiDoc) {
    let (router, openapi) = routes().split_for_parts();
    let router = router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .with_state(state);
    (router, openapi)
}

/// The OpenAPI document alone (for tests and tooling).
pub fn openapi() -> OpenApiDoc {
    routes().split_for_parts().1
}
