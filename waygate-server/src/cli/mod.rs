//! The `waygate` command line (API.md § CLI).

mod import;
mod keys;
mod storage;

use std::net::SocketAddr;

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
    /// Serve the gateway.
    Serve(ServeArgs),
    /// Import an OpenAPI or Swagger document (a file or an http(s) URL).
    Import(import::ImportArgs),
    /// Create or upgrade the database schema (forward-only migrations).
    Migrate(storage::StorageArgs),
    /// Manage the master key that encrypts stored credentials.
    Keys(keys::KeysArgs),
}

/// Options of `waygate serve`.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WAYGATE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

impl Cli {
    /// Runs the command.
    ///
    /// # Errors
    /// A one-line reason, printed by `main` before exiting non-zero.
    pub async fn run(self) -> Result<(), String> {
        match self.command {
            Command::Serve(args) => serve(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Migrate(args) => migrate(args).await,
            Command::Keys(args) => keys::run(args).await,
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    init_tracing();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    println!("waygate listening on http://{addr}");
    crate::http::serve(listener, crate::http::shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

async fn migrate(args: storage::StorageArgs) -> Result<(), String> {
    let store = args.open().await?;
    println!(
        "database {} is up to date ({:?})",
        redact_url(&args.url()),
        store.backend()
    );
    store.close().await.map_err(|e| storage::with_causes(&e))
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

/// Structured JSON logs on stderr; `RUST_LOG` filters (default `info`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
