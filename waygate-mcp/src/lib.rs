//! Waygate's MCP server: a tenant's actions as MCP tools, on the official Rust
//! SDK (`rmcp`), over stdio (`waygate mcp --tenant T`) and streamable HTTP
//! (`/mcp` on `waygate serve`).
//!
//! - Tools are [`waygate_core::tools::ToolSpec`]s: portable names, input
//!   schemas without credential fields, object-rooted output schemas,
//!   annotations from the action's method and metadata, the canonical id in
//!   `_meta` (accepted on calls too).
//! - `tools/list` is sorted and paginated with an opaque cursor; `tools/call`
//!   runs the action through the gateway's [`Executor`](waygate_core::pipeline::Executor),
//!   so validation, auth, retry, limits and logging are the gateway's own.
//! - [`Mode::Meta`] serves three tools instead (`search_actions`,
//!   `get_action_schema`, `call_action`) for registries too large to list.
//! - Tool-list changes are noticed by polling the integrations' revisions and
//!   sent as `notifications/tools/list_changed` (see [`stdio`] and the
//!   `subscriptions/listen` support of [`McpHandler`]).
//!
//! Credentials never pass through: the gateway applies the connection's
//! credential upstream; a client's own token is never forwarded.

mod catalog;
mod cursor;
mod meta;
mod registry;
mod scope;
mod server;
pub mod stdio;
pub mod streamable;

pub use catalog::Catalogs;
pub use registry::{Registry, StoreRegistry};
pub use scope::{Caller, Mode, Scope, ScopeError, parse_integrations};
pub use server::{DEFAULT_PAGE_SIZE, DEFAULT_POLL, McpHandler, McpServer};

/// The server's name in `serverInfo`.
pub const SERVER_NAME: &str = "waygate";
