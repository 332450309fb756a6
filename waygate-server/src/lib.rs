//! # waygate-server
//!
//! The gateway around `waygate-core`, and the `waygate` command line.
//!
//! Today it serves the operational endpoints (`GET /healthz`); the REST API of
//! `API.md` (tenants, integrations, connections, invocation, logs) is added by
//! the gateway issue on top of the store.
//!
//! # Layout
//! - [`cli`]: the `waygate` command line (clap).
//! - [`http`]: the axum router and graceful serving.

pub mod cli;
pub mod http;
