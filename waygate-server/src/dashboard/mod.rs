//! The web dashboard at `/`: server-rendered pages from askama templates
//! compiled into the binary (`templates/`), assets embedded with
//! `include_bytes!` (`assets/`), htmx for partial updates (decision 81).
//!
//! Every page acts for the tenant of its session ([`session`]) through the
//! same functions the REST handlers use (`crate::api`): the dashboard holds
//! no business rule of its own.
//!
//! # Layout
//! - [`session`]: sign in and out, the session cookie, CSRF tokens, the guard.
//! - [`security`]: the Content-Security-Policy and other headers of every page.
//! - [`assets`]: the embedded CSS, script, htmx and fonts.
//! - [`page`]: what every page shares (the chrome, errors, redirects).
//! - [`snippets`]: curl, TypeScript, Python and Rust code calling an action.
//! - [`schema_form`]: Try it's form from an input schema, and the input from it.
//! - [`oauth`]: OAuth2 Connect and Refresh token on the integration page.
//! - [`wizard_fetch`]: the wizard's remote documents, fetched once per flow.
//! - [`home`], [`integration`], [`action`], [`agents`], [`wizard`],
//!   [`wizard_scrape`], [`wizard_test`], [`logs`], [`log_detail`], [`settings`],
//!   [`health`]:
//!   one module per page.

pub mod action;
pub mod agents;
pub mod assets;
pub mod health;
pub mod home;
pub mod integration;
pub mod log_detail;
pub mod logs;
pub mod oauth;
pub mod page;
pub mod schema_form;
pub mod security;
pub mod session;
pub mod settings;
pub mod snippets;
pub mod wizard;
pub mod wizard_fetch;
pub mod wizard_scrape;
pub mod wizard_test;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::http::gate::Gate;

/// The dashboard's routes, beside `/api/v1`, `/docs`, `/healthz`, `/mcp`.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home::page))
        .route("/integrations/new", get(wizard::source))
        .route("/integrations/new/review", post(wizard::review))
        .route("/integrations/new/create", post(wizard::create))
        .route("/integrations/new/scrape", post(wizard_scrape::start))
        .route("/integrations/new/scrape/{job}", get(wizard_scrape::page))
        .route(
            "/integrations/new/scrape/{job}/progress",
            get(wizard_scrape::partial),
        )
        .route(
            "/integrations/new/scrape/{job}/review",
            get(wizard::review_draft),
        )
        .route(
            "/integrations/{slug}/test",
            get(wizard_test::page).post(wizard_test::run),
        )
        .route("/integrations/{slug}", get(integration::page))
        .route(
            "/integrations/{slug}/connections/new",
            get(integration::new_connection),
        )
        .route(
            "/integrations/{slug}/connections",
            post(integration::create_connection),
        )
        .route(
            "/integrations/{slug}/connections/{name}/delete",
            post(integration::delete_connection),
        )
        .route(
            "/integrations/{slug}/connections/{name}/refresh",
            post(oauth::refresh),
        )
        .route("/integrations/{slug}/connect", post(oauth::connect))
        .route(
            "/integrations/{slug}/export.yaml",
            get(settings::export_yaml),
        )
        .route("/integrations/{slug}/agents", get(agents::page))
        .route(
            "/integrations/{slug}/agents/tools/{format}",
            get(agents::tools),
        )
        .route(
            "/integrations/{slug}/settings",
            post(integration::update_settings),
        )
        .route("/integrations/{slug}/actions/{action}", get(action::page))
        .route(
            "/integrations/{slug}/actions/{action}/try",
            post(action::try_it),
        )
        .route(
            "/integrations/{slug}/actions/{action}/input",
            post(action::convert),
        )
        .route("/logs", get(logs::page))
        .route("/logs/{request_id}", get(log_detail::page))
        .route("/health", get(health::page))
        .route("/settings", get(settings::page))
        .route("/settings/keys", post(settings::create_key))
        .route("/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route("/signout", post(session::sign_out))
        .route_layer(Gate::new(state.clone(), session::guard));
    Router::new()
        .route("/signin", get(session::sign_in_page).post(session::sign_in))
        .merge(pages)
        .layer(security::layer())
        .route("/assets/{file}", get(assets::serve))
        .with_state(state)
}
