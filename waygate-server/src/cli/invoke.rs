//! `waygate invoke INTEGRATION.ACTION --input JSON`: one call through the
//! engine, in this process, on the stored integrations and connections.

use std::sync::Arc;

use waygate_core::UrlPolicy;
use waygate_core::oauth2::OAuth2Resolver;
use waygate_core::pipeline::{Call, CallOptions, Executor};

use super::storage::{StorageArgs, tenant};
use crate::app::causes;

/// Options of `waygate invoke`.
#[derive(Debug, clap::Args)]
pub(super) struct InvokeArgs {
    /// `integration.action`, e.g. `slack.chat_postMessage`.
    action: String,
    /// The input object, as JSON.
    #[arg(long, default_value = "{}")]
    input: String,
    /// The tenant (needed when there are several).
    #[arg(long, env = "WAYGATE_TENANT")]
    tenant: Option<String>,
    /// The connection's name; `default` when absent.
    #[arg(long)]
    connection: Option<String>,
    /// Allow upstreams on loopback and private networks.
    #[arg(long, env = "WAYGATE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

pub(super) async fn run(args: InvokeArgs) -> Result<(), String> {
    let (integration, action) = args
        .action
        .split_once('.')
        .filter(|(i, a)| !i.is_empty() && !a.is_empty())
        .ok_or_else(|| format!("'{}' is not INTEGRATION.ACTION", args.action))?;
    let input: serde_json::Value =
        serde_json::from_str(&args.input).map_err(|e| format!("--input is not JSON: {e}"))?;
    let store = args.storage.open().await?;
    let tenant = tenant(&store, args.tenant).await?;
    let policy = if args.allow_private_networks {
        UrlPolicy::strict().allow_private_networks()
    } else {
        UrlPolicy::strict()
    };
    let shared = Arc::new(store.clone());
    let oauth = OAuth2Resolver::builder(shared.clone())
        .url_policy(policy)
        .build()
        .map_err(|e| format!("cannot build the OAuth2 client: {e}"))?;
    let executor = Executor::builder()
        .integration_store(shared.clone())
        .connection_store(shared)
        .credential_resolver(Arc::new(oauth))
        .url_policy(policy)
        .build()
        .map_err(|e| format!("cannot build the engine: {e}"))?;
    let call = Call {
        tenant,
        integration: integration.to_owned(),
        action: action.to_owned(),
        input,
        options: CallOptions {
            connection: args.connection,
            ..CallOptions::default()
        },
    };
    let result = executor.invoke(&call).await;
    store.close().await.map_err(|e| causes(&e))?;
    match result {
        Ok(invocation) => {
            let text = serde_json::to_string_pretty(&invocation)
                .map_err(|e| format!("cannot print the result: {e}"))?;
            println!("{text}");
            Ok(())
        }
        Err(e) => Err(format!("{}: {e}", e.code())),
    }
}
