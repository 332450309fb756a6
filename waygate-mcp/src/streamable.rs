//! `/mcp`: MCP over streamable HTTP, stateless (any replica answers any
//! request), JSON responses, with Host and Origin allow-lists and a body limit.
//!
//! The gateway authenticates the request first and puts a [`Caller`](crate::Caller)
//! into its extensions; the handler reads it from there.

use std::sync::Arc;

use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::tower::StreamableHttpServerConfig;

use crate::server::{McpHandler, McpServer};

/// The tower service answering `/mcp`.
pub type McpHttpService = StreamableHttpService<McpHandler, NeverSessionManager>;

/// What the HTTP endpoint accepts.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// `Host` values accepted (names, or `host:port`); protects against DNS
    /// rebinding. Empty refuses nothing (do not deploy that way).
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted (`scheme://host[:port]`); requests without an
    /// `Origin` (non-browser clients) pass. Empty: every `Origin` is refused.
    pub allowed_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The `/mcp` service of `server`.
pub fn service(server: &McpServer, options: &HttpOptions) -> McpHttpService {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation();
    config = if options.allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(options.allowed_hosts.clone())
    };
    let server = server.clone();
    StreamableHttpService::new(
        move || Ok(server.handler(None)),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}
