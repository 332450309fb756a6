//! `waygate discover URL…`: crawl API documentation and print a draft integration
//! definition (progress on stderr, the draft on stdout), without a server or database.

use std::io::Write as _;
use std::time::Duration;

use url::Url;
use waygate_core::UrlPolicy;
use waygate_discover::{DiscoverOptions, Mode, Progress, discover};

use super::llm::LlmArgs;

/// Options of `waygate discover`.
#[derive(Debug, clap::Args)]
pub(super) struct DiscoverArgs {
    /// Documentation URLs to start from (http or https).
    #[arg(required = true)]
    urls: Vec<String>,
    /// Read only the given pages instead of following same-site links.
    #[arg(long)]
    specific: bool,
    /// Phrases naming the actions wanted most ("send message,list users"): listed first.
    #[arg(long, value_delimiter = ',')]
    wishlist: Vec<String>,
    /// Pages fetched at most.
    #[arg(long, default_value_t = 20)]
    max_pages: usize,
    /// Link depth below the start URLs.
    #[arg(long, default_value_t = 3)]
    max_depth: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Minimum milliseconds between two requests to one host.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// Mebibytes read over the whole crawl at most.
    #[arg(long, default_value_t = 64)]
    max_total_mib: usize,
    /// Ignore robots.txt (only for sites you own).
    #[arg(long)]
    ignore_robots: bool,
    /// Print JSON instead of YAML.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    llm: LlmArgs,
    /// Chunks of text sent to the LLM at most (its cost budget).
    #[arg(long, default_value_t = 40)]
    llm_max_chunks: usize,
    /// Allow URLs on loopback and private networks.
    #[arg(long, env = "WAYGATE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
}

pub(super) async fn run(args: DiscoverArgs) -> Result<(), String> {
    let urls = args
        .urls
        .iter()
        .map(|u| Url::parse(u).map_err(|e| format!("'{u}' is not a URL: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if args.max_pages == 0 {
        return Err("--max-pages must be at least 1".into());
    }
    let mut options = DiscoverOptions::new(urls);
    options.mode = if args.specific {
        Mode::Specific
    } else {
        Mode::Auto
    };
    options.max_pages = args.max_pages;
    options.max_depth = args.max_depth;
    options.wishlist = args.wishlist;
    options.concurrency = args.concurrency.max(1);
    options.per_host_delay = Duration::from_millis(args.delay_ms);
    options.robots = !args.ignore_robots;
    options.max_total_bytes = args.max_total_mib.saturating_mul(1024 * 1024);
    options.policy = if args.allow_private_networks {
        UrlPolicy::strict().allow_private_networks()
    } else {
        UrlPolicy::strict()
    };
    if let Some(llm) = args.llm.settings() {
        options.llm = Some(llm.provider()?);
        options.llm_max_chunks = args.llm_max_chunks;
    }
    let report = |p: Progress| {
        let mut err = std::io::stderr().lock();
        let _ = match p {
            Progress::Stage(stage) => writeln!(err, "{stage}…"),
            Progress::Fetched {
                url,
                pages_fetched,
                pages_total,
            } => writeln!(err, "[{pages_fetched}/{pages_total}] {url}"),
            Progress::Skipped { url, reason } => writeln!(err, "skipped {url}: {reason}"),
            Progress::SpecFound { url } => writeln!(err, "found an API description at {url}"),
        };
    };
    let found = discover(&options, &report)
        .await
        .map_err(|e| e.to_string())?;
    let def = &found.integration;
    let text = if args.json {
        def.to_json()
    } else {
        def.to_yaml().map_err(|e| e.to_string())?
    };
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| format!("cannot write the definition: {e}"))?;
    let mut err = std::io::stderr().lock();
    for w in &found.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    let _ = writeln!(
        err,
        "{} actions from {} pages{} (a draft: review it, then `waygate import` it)",
        def.actions.len(),
        found.pages,
        if found.specs.is_empty() {
            String::new()
        } else {
            format!(" and {} API descriptions", found.specs.len())
        }
    );
    Ok(())
}
