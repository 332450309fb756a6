//! `waygate mcp --tenant T`: MCP over stdin/stdout for one tenant. Only protocol
//! messages go to stdout; the caller keeps logs on stderr.

use rmcp::ServiceExt;

use crate::scope::Caller;
use crate::server::McpServer;

/// Serves `caller`'s tools on stdin/stdout until the client closes them.
///
/// Tool-list changes are announced with `notifications/tools/list_changed`:
/// to a client of the 2025-11-25 era right away, to a 2026-07-28 client on
/// its `subscriptions/listen` request.
///
/// # Errors
/// A one-line reason when the transport fails.
pub async fn serve(server: McpServer, caller: Caller) -> Result<(), String> {
    let tenant = caller.tenant.clone();
    let mut seen = server
        .catalogs()
        .revisions(&tenant)
        .await
        .map_err(|e| format!("cannot read the tenant's integrations: {e}"))?;
    let running = server
        .handler(Some(caller))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP over stdio failed to start: {e}"))?;
    let peer = running.peer().clone();
    let watcher = tokio::spawn(async move {
        loop {
            if let Err(e) = server.next_change(&tenant, &mut seen).await {
                tracing::warn!(error = %e, "list-changed poll failed");
                continue;
            }
            // Legacy-era peers take unsolicited notifications; a failure only
            // means this peer does not (it subscribes instead).
            if let Err(e) = peer.notify_tool_list_changed().await {
                tracing::debug!(error = %e, "tools/list_changed not sent");
            }
        }
    });
    let quit = running.waiting().await;
    watcher.abort();
    quit.map(|_| ())
        .map_err(|e| format!("MCP over stdio stopped: {e}"))
}
