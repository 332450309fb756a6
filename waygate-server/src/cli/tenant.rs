//! `waygate tenant create NAME`: bootstrap a tenant and its first API key.

use secrecy::ExposeSecret;

use super::storage::StorageArgs;
use crate::app::causes;

/// Tenant commands.
#[derive(Debug, clap::Subcommand)]
pub(super) enum TenantCommand {
    /// Create a tenant; prints its id and API key (shown only now).
    Create(CreateArgs),
}

/// Options of `waygate tenant create`.
#[derive(Debug, clap::Args)]
pub(super) struct CreateArgs {
    /// The tenant's display name.
    name: String,
    /// Its id (`[a-z0-9-]`); a UUID by default.
    #[arg(long)]
    id: Option<String>,
    /// Print `{"tenant": {"id", "name"}, "apiKey"}` as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

pub(super) async fn run(command: TenantCommand) -> Result<(), String> {
    match command {
        TenantCommand::Create(args) => create(args).await,
    }
}

async fn create(args: CreateArgs) -> Result<(), String> {
    let name = args.name.trim();
    if name.is_empty() {
        return Err("the tenant name is empty".into());
    }
    let id = args.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if !crate::api::tenants::valid_id(&id) {
        return Err(format!(
            "tenant id '{id}' must be 1–64 characters of [a-z0-9-]"
        ));
    }
    let store = args.storage.open().await?;
    let pepper = store.api_key_pepper().await.map_err(|e| causes(&e))?;
    let (tenant, key) = store
        .create_tenant_with_key(&id, name, &pepper)
        .await
        .map_err(|e| match e.kind() {
            waygate_store::ErrorKind::Conflict => format!("tenant '{id}' exists"),
            _ => causes(&e),
        })?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "tenant": {"id": tenant.id, "name": tenant.name},
                "apiKey": key.key.expose_secret(),
            })
        );
    } else {
        println!("tenant:  {}", tenant.id);
        println!("api key: {}", key.key.expose_secret());
        eprintln!("keep the API key now: it is stored only as a digest and cannot be shown again");
    }
    store.close().await.map_err(|e| causes(&e))
}
