//! `waygate import FILE|URL`: an OpenAPI/Swagger document → an integration
//! definition, printed in API.md's format.

use std::io::Write as _;

use tokio::runtime::Handle;
use url::Url;

use super::storage::{StorageArgs, tenant};
use crate::app::causes;
use waygate_core::UrlPolicy;
use waygate_core::import::{
    HttpLimits, HttpLoader, ImportOptions, ImportResult, from_file, from_url,
};

/// Options of `waygate import`.
#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    /// The document: a file path or an http(s) URL; relative `$ref`s to other
    /// files are followed (over HTTP through the outbound URL policy, within
    /// 3,000 documents, 64 MiB and 60 s).
    source: String,
    /// The integration's slug (from the document's title by default).
    #[arg(long)]
    slug: Option<String>,
    /// Print the definition and store nothing.
    #[arg(long)]
    dry_run: bool,
    /// The tenant to store it for (needed when there are several).
    #[arg(long, env = "WAYGATE_TENANT")]
    tenant: Option<String>,
    /// Print JSON instead of YAML.
    #[arg(long)]
    json: bool,
    /// Phrases naming the actions wanted most ("send message,list users"): listed first.
    #[arg(long, value_delimiter = ',')]
    wishlist: Vec<String>,
    /// Allow URLs on loopback and private networks.
    #[arg(long, env = "WAYGATE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

pub(super) async fn run(args: ImportArgs) -> Result<(), String> {
    let options = ImportOptions {
        slug: args.slug.clone(),
        wishlist: args.wishlist.clone(),
        ..Default::default()
    };
    let result = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        let policy = if args.allow_private_networks {
            UrlPolicy::strict().allow_private_networks()
        } else {
            UrlPolicy::strict()
        };
        let url =
            Url::parse(&args.source).map_err(|e| format!("'{}' is not a URL: {e}", args.source))?;
        let loader = HttpLoader::new(Handle::current(), policy, HttpLimits::default())
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        // The importer waits for each fetch: it runs on a blocking thread.
        tokio::task::spawn_blocking(move || from_url(&url, &loader, &options))
            .await
            .map_err(|e| format!("the import stopped: {e}"))?
    } else {
        from_file(&args.source, &options)
    }
    .map_err(|e| e.to_string())?;
    if args.dry_run {
        return print(&result, args.json);
    }
    store(&args, result).await
}

/// Checks the definition and stores it for the tenant, as one transaction.
async fn store(args: &ImportArgs, result: ImportResult) -> Result<(), String> {
    let def = result.integration;
    waygate_core::model::check(&def)
        .map_err(|e| format!("the imported definition is not valid: {e}"))?;
    let store = args.storage.open_unkeyed().await?;
    let tenant = tenant(&store, args.tenant.clone()).await?;
    store
        .create_integration(&tenant, &def)
        .await
        .map_err(|e| match e.kind() {
            waygate_store::ErrorKind::Conflict => format!(
                "tenant '{tenant}' has an integration '{}' already: choose another --slug",
                def.slug
            ),
            _ => causes(&e),
        })?;
    let mut err = std::io::stderr().lock();
    for w in &result.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    println!(
        "imported {} actions into '{}' for tenant '{tenant}'",
        def.actions.len(),
        def.slug
    );
    store.close().await.map_err(|e| causes(&e))
}

fn print(result: &ImportResult, json: bool) -> Result<(), String> {
    let def = &result.integration;
    let text = if json {
        def.to_json()
    } else {
        def.to_yaml().map_err(|e| e.to_string())?
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| format!("cannot write the definition: {e}"))?;
    let mut err = std::io::stderr().lock();
    for w in &result.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    let _ = writeln!(
        err,
        "{} actions in '{}' (dry run: nothing stored)",
        def.actions.len(),
        def.slug
    );
    Ok(())
}
