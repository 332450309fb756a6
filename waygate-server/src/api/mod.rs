//! The REST API of `API.md` under `/api/v1`, and its OpenAPI 3.1 description.
//!
//! Every route is authenticated first ([`auth::authenticate`]); every error,
//! including axum's own rejections, answers in the one error shape
//! ([`error::ApiError`], [`rejections`]).

pub mod actions;
pub mod auth;
pub mod catalog;
pub mod connections;
pub mod error;
pub mod integrations;
pub mod limit;
pub mod logs;
pub mod mappings;
pub mod oauth;
pub mod page;
pub mod rejections;
pub mod scrape;
pub mod tags;
pub mod tenants;
pub mod tools;

use axum::Router;
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::http::gate::Gate;

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
        (name = "scrape", description = "Documentation discovery jobs: crawl, review, apply"),
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

/// Answers any operation can give, added where an operation does not list them:
/// every call is authenticated, rate limited and parsed before its handler runs.
struct CommonResponses;

impl CommonResponses {
    const ANY: [(&'static str, &'static str); 6] = [
        ("400", "The request is malformed or breaks a rule"),
        ("401", "No valid API key"),
        ("403", "The key may not do this (operator vs tenant)"),
        (
            "429",
            "The tenant's gateway rate limit is spent; see Retry-After",
        ),
        ("500", "A gateway bug; the request id is in x-request-id"),
        ("503", "Storage is unavailable"),
    ];
    const WITH_BODY: (&'static str, &'static str) =
        ("413", "The request body is larger than the gateway accepts");
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let error = || {
            utoipa::openapi::ResponseBuilder::new().content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let has_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                let extra = has_body.then_some(Self::WITH_BODY);
                for (status, text) in Self::ANY.into_iter().chain(extra) {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error().description(text).build().into());
                }
            }
        }
    }
}

/// Where the API is served; its document names it as its server.
pub const PREFIX: &str = "/api/v1";

/// The API's routes at their full paths, and the document that describes them
/// with paths relative to its [`PREFIX`] server.
///
/// Not `Router::nest`: a nested route strips the prefix off every request's
/// URI (a new URI, allocated) and records where it was nested, on each call.
/// Routes at their full paths cost neither and still sit in one table with
/// the gateway's other routes, where any route is found in one lookup
/// (decision 110).
struct Routes {
    router: Router<AppState>,
    doc: OpenApiDoc,
}

impl Routes {
    /// Adds the operations of one `routes!` group: the handlers at their
    /// paths under [`PREFIX`], their paths and schemas to the document.
    fn routes(mut self, (schemas, paths, method_router): UtoipaMethodRouter<AppState>) -> Self {
        for path in paths.paths.keys() {
            self.router = self
                .router
                .route(&format!("{PREFIX}{path}"), method_router.clone());
        }
        self.doc.paths.merge(paths);
        self.doc
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(schemas);
        self
    }
}

fn routes() -> Routes {
    Routes {
        router: Router::new(),
        doc: ApiDoc::openapi(),
    }
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
    .routes(routes!(mappings::get, mappings::put))
    .routes(routes!(connections::create, connections::list))
    .routes(routes!(connections::update))
    .routes(routes!(connections::disconnect))
    .routes(routes!(oauth::connect))
    .routes(routes!(oauth::refresh))
    .routes(routes!(catalog::search))
    .routes(routes!(tags::list))
    .routes(routes!(tags::rename))
    .routes(routes!(actions::invoke))
    .routes(routes!(actions::test))
    .routes(routes!(actions::schema))
    .routes(routes!(logs::list))
    .routes(routes!(logs::get))
    .routes(routes!(logs::stats))
    .routes(routes!(tools::list))
    .routes(routes!(scrape::start))
    .routes(routes!(scrape::get))
    .routes(routes!(scrape::cancel))
    .routes(routes!(scrape::apply))
}

/// The routes and their document, completed with the common answers (which
/// need the paths, so they are added after the routes are collected).
fn routes_and_document() -> (Router<AppState>, OpenApiDoc) {
    let Routes { router, mut doc } = routes();
    CommonResponses.modify(&mut doc);
    (router, doc)
}

/// The API's routes at their full paths under [`PREFIX`], each behind
/// the [`auth::authenticate`] gate, and the OpenAPI document describing them.
pub fn router(state: AppState) -> (Router, OpenApiDoc) {
    let (router, openapi) = routes_and_document();
    let router = router
        .layer(Gate::new(state.clone(), auth::authenticate))
        .with_state(state);
    (router, openapi)
}

/// The OpenAPI document alone (for tests and tooling).
pub fn openapi() -> OpenApiDoc {
    routes_and_document().1
}
