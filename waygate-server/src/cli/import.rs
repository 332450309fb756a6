//! `waygate import FILE|URL`: an OpenAPI/Swagger document → an integration
//! definition, printed in API.md's format.

use std::io::Write as _;
use std::time::Duration;

use url::Url;

use super::storage::{StorageArgs, tenant};
use crate::app::causes;
use waygate_core::UrlPolicy;
use waygate_core::import::{ImportOptions, ImportResult, NoLoader, from_file, from_source};

/// Documents larger than this are refused when fetched.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// Options of `waygate import`.
#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    /// The document: a file path (relative `$ref`s to other files are followed)
    /// or an http(s) URL (refs inside the document only).
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
        let text = fetch(&url, policy).await?;
        from_source(&text, &url, &NoLoader, &options)
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

/// Fetches a document through the outbound URL policy.
async fn fetch(url: &Url, policy: UrlPolicy) -> Result<String, String> {
    policy
        .check_url(url)
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let client = policy
        .client_builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("cannot fetch {url}: {}", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read {url}: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| format!("{url} is not UTF-8 text"))
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
