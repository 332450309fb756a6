//! `waygate serve`: the gateway on a socket, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use super::llm::LlmArgs;
use super::storage::StorageArgs;
use crate::app::{
    AppState, DEFAULT_BODIES_PER_BUDGET, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RESPONSE_CACHE_BYTES, DEFAULT_SCRAPE_JOBS_PER_TENANT, Settings, causes,
};
use crate::ops::cpu::CpuPool;
use crate::ops::metrics::Metrics;

/// The shortest operator key accepted: it guards every tenant.
const MIN_ADMIN_KEY_LEN: usize = 24;

/// How often tokens about to expire are refreshed in the background.
const TOKEN_SWEEP: Duration = Duration::from_secs(60);

/// How long expired OAuth states are kept (to answer "expired", not "unknown").
const STATE_GRACE: Duration = Duration::from_secs(24 * 3600);

/// How often old request logs are deleted.
const RETENTION_SWEEP: Duration = Duration::from_secs(3600);

/// Options of `waygate serve`.
#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WAYGATE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    storage: StorageArgs,
    /// Requests per minute per tenant on the gateway API; 0 turns the limit off.
    #[arg(long, env = "WAYGATE_TENANT_RATE_LIMIT", default_value_t = 100)]
    tenant_rate_limit: u32,
    /// Let upstream base URLs reach loopback and private addresses.
    #[arg(long, env = "WAYGATE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "WAYGATE_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Seconds a whole request body may take to arrive after its headers;
    /// slower bodies are answered 408.
    #[arg(long, env = "WAYGATE_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout_secs: u64,
    /// Bytes that request bodies being received or held at once may take
    /// together (each reserves its Content-Length); at least --max-body-bytes.
    /// Default: 4 × --max-body-bytes.
    #[arg(long, env = "WAYGATE_BODY_MEMORY_BYTES")]
    body_memory_bytes: Option<usize>,
    /// A second address serving only `GET /metrics`, without authentication,
    /// for a Prometheus inside a private network. Without it, `/metrics` on
    /// the main address takes the operator key as Bearer.
    #[arg(long, env = "WAYGATE_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// The gateway's public URL, for OAuth redirect URIs (the request's host by default).
    #[arg(long, env = "WAYGATE_PUBLIC_URL")]
    public_url: Option<url::Url>,
    /// Days request logs are kept; 0 keeps them forever.
    #[arg(long, env = "WAYGATE_LOG_RETENTION_DAYS", default_value_t = 30)]
    log_retention_days: u64,
    /// Documents (definitions, OpenAPI imports) parsed and checked at once, off
    /// the serving threads; every core but one by default.
    #[arg(long, env = "WAYGATE_CPU_JOBS")]
    cpu_jobs: Option<usize>,
    /// Bytes of memory for responses of actions with `cache: {ttlSeconds}`
    /// (per process: replicas keep their own); 0 keeps none.
    #[arg(long, env = "WAYGATE_RESPONSE_CACHE_BYTES", default_value_t = DEFAULT_RESPONSE_CACHE_BYTES)]
    response_cache_bytes: u64,
    /// Scrape jobs a tenant may have queued or running at once; more answer 429.
    #[arg(long, env = "WAYGATE_SCRAPE_JOBS_PER_TENANT", default_value_t = DEFAULT_SCRAPE_JOBS_PER_TENANT,
        value_parser = clap::value_parser!(u64).range(1..=100))]
    scrape_jobs_per_tenant: u64,
    #[command(flatten)]
    llm: LlmArgs,
}

/// The operator key from `WAYGATE_ADMIN_KEY` (never a flag: flags show in
/// `ps`). Empty counts as unset (a deployment template's blank variable).
fn admin_key() -> Result<Option<SecretString>, String> {
    match std::env::var("WAYGATE_ADMIN_KEY") {
        Ok(key) if key.trim().is_empty() => Ok(None),
        Ok(key) if key.trim().len() < MIN_ADMIN_KEY_LEN => Err(format!(
            "WAYGATE_ADMIN_KEY must be at least {MIN_ADMIN_KEY_LEN} characters"
        )),
        Ok(key) => Ok(Some(SecretString::from(key.trim().to_owned()))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("WAYGATE_ADMIN_KEY is not valid UTF-8".into())
        }
    }
}

pub(super) async fn run(args: ServeArgs) -> Result<(), String> {
    // Dropped on every way out of here: queued spans and log lines are written then.
    let telemetry = crate::ops::logging::init()?;
    let settings = Settings {
        admin_key: admin_key()?,
        tenant_rate_limit: args.tenant_rate_limit,
        allow_private_networks: args.allow_private_networks,
        max_body_bytes: args.max_body_bytes,
        body_timeout: Duration::from_secs(args.body_timeout_secs),
        body_memory_bytes: args.body_memory_bytes.unwrap_or_else(|| {
            args.max_body_bytes
                .saturating_mul(DEFAULT_BODIES_PER_BUDGET)
        }),
        public_url: args.public_url,
        cpu_jobs: args.cpu_jobs.unwrap_or_else(CpuPool::default_jobs),
        response_cache_bytes: args.response_cache_bytes,
        llm: args.llm.settings(),
        scrape_jobs_per_tenant: args.scrape_jobs_per_tenant,
        propagators: telemetry.propagators(),
    };
    // A provider that cannot be configured fails before anything is bound.
    if let Some(llm) = &settings.llm {
        llm.provider()?;
    }
    // Settings that contradict each other fail before anything is bound or created.
    settings.body_limits()?;
    // Bind first: a taken address fails before any file is created.
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let metrics_listener = match args.metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (--metrics-addr): {e}"))?,
        ),
        None => None,
    };
    let store = args.storage.open().await?;
    let state = AppState::new(store, settings, Metrics::install()).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    if args.log_retention_days > 0 {
        spawn_retention(
            &state,
            Duration::from_secs(args.log_retention_days * 86_400),
        );
    }
    spawn_token_sweep(&state);
    crate::jobs::scrape::sweep_abandoned(state.clone());
    if let Some(listener) = metrics_listener {
        crate::http::spawn_metrics(listener, state.clone())?;
    }
    println!("waygate listening on http://{addr}");
    crate::http::serve(listener, state, crate::http::shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

/// Deletes request logs older than `keep`, now and every hour.
fn spawn_retention(state: &AppState, keep: Duration) {
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETENTION_SWEEP);
        loop {
            tick.tick().await;
            let cutoff = std::time::SystemTime::now() - keep;
            match store.delete_logs_older_than(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "request log retention"),
                Err(e) => tracing::warn!(error = %causes(&e), "request log retention failed"),
            }
        }
    });
}

/// Refreshes OAuth2 tokens about to expire, every minute (each replica runs
/// it; the store's lock makes one of them refresh each credential), and
/// forgets authorization states long expired.
fn spawn_token_sweep(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TOKEN_SWEEP);
        loop {
            tick.tick().await;
            // Each refresh is counted by the resolver's observer (app.rs).
            match state.oauth.refresh_expiring(&*state.integrations).await {
                Ok(report) if report.due > 0 => tracing::info!(
                    due = report.due,
                    refreshed = report.refreshed,
                    failed = report.failed,
                    "token sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the token sweep failed"),
            }
            match state.store.connections_needing_reauth().await {
                Ok(n) => state.metrics.connections_needing_reauth(n),
                Err(e) => {
                    tracing::warn!(error = %causes(&e), "counting connections to re-authorize failed")
                }
            }
            if let Err(e) = state.store.purge_oauth_states(STATE_GRACE).await {
                tracing::warn!(error = %causes(&e), "purging OAuth states failed");
            }
        }
    });
}
