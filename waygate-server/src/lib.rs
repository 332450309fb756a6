//! # waygate-server
//!
//! The multi-tenant REST gateway around `waygate-core` and `waygate-store`,
//! and the `waygate` command line. `API.md` is its contract.
//!
//! # Layout
//! - [`cli`]: the `waygate` command line (clap): serve, migrate, tenant, import, invoke.
//! - [`app`]: shared state: the store, the engine wired to it, settings.
//! - [`http`]: the root router (`/healthz`, `/metrics`, `/docs`) and graceful serving.
//! - [`api`]: `/api/v1`: authentication, tenant limits, one module per resource,
//!   the error shape, the OpenAPI document.
//! - [`dashboard`]: the web dashboard at `/`: sessions, pages, embedded assets.
//! - [`jobs`]: background jobs for tenants (scrape jobs).
//! - [`ops`]: Prometheus metrics, request ids and access records.

pub mod api;
pub mod app;
pub mod cli;
pub mod dashboard;
pub mod http;
pub mod jobs;
pub mod mcp;
pub mod ops;
pub mod writes;
