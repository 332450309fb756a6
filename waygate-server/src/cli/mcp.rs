//! `waygate mcp --tenant T` (MCP over stdio) and `waygate export tools`.

use waygate_core::tools::{ToolFormat, ToolSet};
use waygate_mcp::{Caller, Mode, Scope};

use super::storage::{StorageArgs, tenant};
use crate::app::{AppState, Settings};
use crate::ops::metrics::Metrics;

/// Options of `waygate mcp`.
#[derive(Debug, clap::Args)]
pub(super) struct McpArgs {
    /// The tenant whose actions are served (needed when there are several).
    #[arg(long, env = "WAYGATE_TENANT")]
    tenant: Option<String>,
    /// `direct` (one tool per action) or `meta` (search_actions,
    /// get_action_schema, call_action).
    #[arg(long, default_value = "direct", value_parser = parse_mode)]
    mode: Mode,
    /// Only these integrations (comma-separated slugs).
    #[arg(long, value_parser = parse_integrations)]
    integrations: Option<std::collections::BTreeSet<String>>,
    /// Allow upstreams on loopback and private networks.
    #[arg(long, env = "WAYGATE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    Mode::parse(value).map_err(|e| e.to_string())
}

fn parse_integrations(value: &str) -> Result<std::collections::BTreeSet<String>, String> {
    waygate_mcp::parse_integrations(value).map_err(|e| e.to_string())
}

pub(super) async fn run(args: McpArgs) -> Result<(), String> {
    // stdout carries the protocol only: logs go to stderr.
    let telemetry = crate::ops::logging::init()?;
    let store = args.storage.open().await?;
    let tenant = tenant(&store, args.tenant).await?;
    let settings = Settings {
        allow_private_networks: args.allow_private_networks,
        propagators: telemetry.propagators(),
        ..Settings::default()
    };
    let app = AppState::new(store, settings, Metrics::install()).await?;
    let caller = Caller {
        tenant,
        scope: Scope {
            mode: args.mode,
            integrations: args.integrations,
        },
    };
    let served = waygate_mcp::stdio::serve(app.mcp.clone(), caller).await;
    // Calls made are in the request log before the process ends.
    app.logs.shutdown().await;
    served
}

/// What `waygate export` exports.
#[derive(Debug, clap::Subcommand)]
pub(super) enum ExportCommand {
    /// The tenant's actions as LLM tool definitions (JSON on stdout).
    Tools(ExportToolsArgs),
}

/// Options of `waygate export tools`.
#[derive(Debug, clap::Args)]
pub(super) struct ExportToolsArgs {
    /// openai, openai-responses, anthropic, gemini or mcp.
    #[arg(long, value_parser = parse_format)]
    format: ToolFormat,
    /// Strict schemas (OpenAI, Anthropic) where the schema allows; the others
    /// are listed in `notes` with the reason.
    #[arg(long)]
    strict: bool,
    /// Only these integrations (comma-separated slugs).
    #[arg(long, value_parser = parse_integrations)]
    integrations: Option<std::collections::BTreeSet<String>>,
    /// The tenant (needed when there are several).
    #[arg(long, env = "WAYGATE_TENANT")]
    tenant: Option<String>,
    #[command(flatten)]
    storage: StorageArgs,
}

fn parse_format(value: &str) -> Result<ToolFormat, String> {
    value
        .parse()
        .map_err(|e: waygate_core::tools::UnknownFormat| e.to_string())
}

pub(super) async fn export(command: ExportCommand) -> Result<(), String> {
    let ExportCommand::Tools(args) = command;
    let store = args.storage.open_unkeyed().await?;
    let tenant = tenant(&store, args.tenant).await?;
    let mut stored = store
        .load_integrations(&tenant)
        .await
        .map_err(|e| crate::app::causes(&e))?;
    stored.retain(|s| {
        s.enabled
            && args
                .integrations
                .as_ref()
                .is_none_or(|o| o.contains(&s.def.slug))
    });
    let set = ToolSet::build(stored.iter().map(|s| s.def.as_ref())).map_err(|e| e.to_string())?;
    let export = set.export(args.format, args.strict);
    store.close().await.map_err(|e| crate::app::causes(&e))?;
    let text = serde_json::to_string_pretty(&export)
        .map_err(|e| format!("cannot print the tools: {e}"))?;
    println!("{text}");
    Ok(())
}
