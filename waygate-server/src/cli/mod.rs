//! The `waygate` command line (API.md § CLI).

mod discover;
mod import;
mod invoke;
mod keys;
mod llm;
mod mcp;
mod serve;
mod storage;
mod tenant;

use clap::{Parser, Subcommand};

/// Waygate: API documentation in, typed and resilient integrations out.
#[derive(Debug, Parser)]
#[command(name = "waygate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gateway (REST API, docs, metrics).
    Serve(serve::ServeArgs),
    /// Create or upgrade the database schema (forward-only migrations).
    Migrate(storage::StorageArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Import an OpenAPI or Swagger document (a file or an http(s) URL).
    Import(import::ImportArgs),
    /// Crawl API documentation and print a draft integration definition.
    Discover(discover::DiscoverArgs),
    /// Invoke an action in this process, against the stored integrations.
    Invoke(invoke::InvokeArgs),
    /// Manage the master key that encrypts stored credentials.
    Keys(keys::KeysArgs),
    /// Serve a tenant's actions as MCP tools over stdio (logs on stderr).
    Mcp(mcp::McpArgs),
    /// Export definitions (`tools`: actions as LLM tool definitions).
    #[command(subcommand)]
    Export(mcp::ExportCommand),
}

impl Cli {
    /// Runs the command.
    ///
    /// # Errors
    /// A one-line reason, printed by `main` before exiting non-zero.
    pub async fn run(self) -> Result<(), String> {
        match self.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Migrate(args) => migrate(args).await,
            Command::Tenant(command) => tenant::run(command).await,
            Command::Import(args) => import::run(args).await,
            Command::Discover(args) => discover::run(args).await,
            Command::Invoke(args) => invoke::run(args).await,
            Command::Keys(args) => keys::run(args).await,
            Command::Mcp(args) => mcp::run(args).await,
            Command::Export(command) => mcp::export(command).await,
        }
    }
}

async fn migrate(args: storage::StorageArgs) -> Result<(), String> {
    let store = args.open_unkeyed().await?;
    println!(
        "database {} is up to date ({:?})",
        redact_url(&args.url()),
        store.backend()
    );
    store.close().await.map_err(|e| crate::app::causes(&e))
}

/// A database URL without its password, for output.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
