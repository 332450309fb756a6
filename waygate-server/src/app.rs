//! The gateway's shared state: the store, the engine wired to it, and the
//! per-process parts of the gateway (auth cache, tenant limits, metrics).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use waygate_core::clock::{SharedClock, SystemClock};
use waygate_core::oauth2::OAuth2Resolver;
use waygate_core::pipeline::{Executor, MemoryResponseCache};
use waygate_core::storage::{CachedConnections, CachedIntegrations};
use waygate_core::{Transport, UrlPolicy};
use waygate_mcp::McpServer;
use waygate_store::{ApiKeyPepper, KeySource, LogSinkOptions, MasterKey, SqlLogSink, Store};

use crate::api::auth::AuthCache;
use crate::api::limit::TenantLimits;
use crate::http::BodyLimits;
use crate::jobs::scrape::ScrapeJobs;
use crate::mcp::StoreRegistry;
use crate::ops::cpu::CpuPool;
use crate::ops::metrics::Metrics;
use crate::ops::otlp::Propagators;
use crate::ops::propagation::Propagation;

/// How long a resolved definition or connection is trusted before it is read
/// again; writes through this process invalidate at once, this bounds
/// staleness across replicas (decisions 18 and 33).
const CACHE_TTL: Duration = Duration::from_secs(5);

/// How long a document waits for a CPU slot before the answer is 503.
const CPU_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Scrape jobs a tenant may have queued or running at once, by default.
pub const DEFAULT_SCRAPE_JOBS_PER_TENANT: u64 = 2;

/// The largest request body accepted by default.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a request body may take to arrive by default: generous for a
/// 16 MiB body on a slow link, short enough that trickled bodies are cut off.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The default body memory budget holds this many bodies of the largest size.
pub const DEFAULT_BODIES_PER_BUDGET: usize = 4;

/// Memory for cached responses by default (`WAYGATE_RESPONSE_CACHE_BYTES`).
pub const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Gateway settings (API.md § Environment).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Operator key for tenant management; `None` disables operator calls.
    pub admin_key: Option<SecretString>,
    /// Requests per minute per tenant on the gateway API; 0 turns the limit off.
    pub tenant_rate_limit: u32,
    /// Lets upstream base URLs reach loopback and private addresses.
    pub allow_private_networks: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for a whole request body, from its headers
    /// (`WAYGATE_BODY_TIMEOUT_SECS`).
    pub body_timeout: Duration,
    /// Bytes that request bodies received or held at once may reserve
    /// together (`WAYGATE_BODY_MEMORY_BYTES`); at least `max_body_bytes`.
    pub body_memory_bytes: usize,
    /// The gateway's public URL (`WAYGATE_PUBLIC_URL`): OAuth redirect URIs are
    /// built on it; the request's host is used when unset.
    pub public_url: Option<url::Url>,
    /// Documents parsed, imported or checked at once (`WAYGATE_CPU_JOBS`).
    pub cpu_jobs: usize,
    /// Memory for responses of actions with `cache: {ttlSeconds}`, per process
    /// (`WAYGATE_RESPONSE_CACHE_BYTES`); 0 keeps none.
    pub response_cache_bytes: u64,
    /// The LLM scrape jobs extract with (`WAYGATE_LLM_*`); heuristics only when unset.
    pub llm: Option<LlmSettings>,
    /// Scrape jobs a tenant may have queued or running at once (`WAYGATE_SCRAPE_JOBS_PER_TENANT`).
    pub scrape_jobs_per_tenant: u64,
    /// The trace context carried in and out (`OTEL_PROPAGATORS`, decision 122).
    pub propagators: Propagators,
}

/// Which LLM scrape jobs use (`WAYGATE_LLM_PROVIDER`, `…_BASE_URL`, `…_MODEL`, `…_API_KEY`).
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// `openai` (any OpenAI-compatible server), `gemini` or `anthropic`.
    pub provider: String,
    /// The provider's base URL; its public one by default.
    pub base_url: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// The provider's API key.
    pub api_key: Option<SecretString>,
}

impl LlmSettings {
    /// The provider these settings name.
    ///
    /// # Errors
    /// One line: an unknown provider, a missing model or key, a bad base URL.
    pub fn provider(&self) -> Result<Arc<dyn waygate_discover::llm::LlmProvider>, String> {
        use secrecy::ExposeSecret as _;
        waygate_discover::llm::configure(
            &self.provider,
            self.base_url.as_deref(),
            self.model.as_deref(),
            self.api_key.as_ref().map(|k| k.expose_secret().to_owned()),
        )
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_key: None,
            tenant_rate_limit: 100,
            allow_private_networks: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            body_memory_bytes: DEFAULT_BODIES_PER_BUDGET * DEFAULT_MAX_BODY_BYTES,
            public_url: None,
            cpu_jobs: CpuPool::default_jobs(),
            response_cache_bytes: DEFAULT_RESPONSE_CACHE_BYTES,
            llm: None,
            scrape_jobs_per_tenant: DEFAULT_SCRAPE_JOBS_PER_TENANT,
            propagators: Propagators::default(),
        }
    }
}

impl Settings {
    /// The bounds on request bodies these settings ask for.
    ///
    /// # Errors
    /// One line, when they contradict each other (a memory budget smaller
    /// than the largest body accepted).
    pub fn body_limits(&self) -> Result<BodyLimits, String> {
        BodyLimits::new(
            self.body_timeout,
            self.body_memory_bytes,
            self.max_body_bytes,
        )
        .map_err(|e| format!("{e} (WAYGATE_BODY_MEMORY_BYTES, WAYGATE_MAX_BODY_BYTES)"))
    }

    /// The outbound URL policy: upstream calls, token requests and fetched
    /// descriptions reach private networks only when allowed.
    pub fn url_policy(&self) -> UrlPolicy {
        if self.allow_private_networks {
            UrlPolicy::strict().allow_private_networks()
        } else {
            UrlPolicy::strict()
        }
    }
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct App {
    /// The system of record. Handlers read it directly and write what a
    /// cache holds through [`AppState::writes`](crate::writes), which drops
    /// the cached copies.
    pub store: Store,
    /// Definitions as the engine reads them, cached.
    pub integrations: Arc<CachedIntegrations<Store>>,
    /// Connections as the engine reads them, cached.
    pub connections: Arc<CachedConnections<Store>>,
    /// The invocation pipeline, on the store.
    pub executor: Executor,
    /// OAuth2 tokens: refreshed before calls, by the sweep and on request; one
    /// instance shared by all of them, so that a credential refreshes once.
    pub oauth: OAuth2Resolver,
    /// Request logs, written in batches off the hot path.
    pub logs: Arc<SqlLogSink>,
    /// Hashes gateway API keys.
    pub pepper: ApiKeyPepper,
    /// Settings from the environment and flags.
    pub settings: Settings,
    /// The one source of time: caches, budgets, token expiry and the engine's
    /// waits read it (the system clock; tests of the parts can inject another).
    pub clock: SharedClock,
    /// Recently authenticated keys.
    pub auth: AuthCache,
    /// Per-tenant request budgets on the gateway API.
    pub limits: TenantLimits,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Bounded CPU work (parsing and checking documents) off the serving threads.
    pub cpu: CpuPool,
    /// The deadline and memory budget of request bodies.
    pub bodies: BodyLimits,
    /// The MCP server of `/mcp` and `waygate mcp`: one per process, so every
    /// serving thread shares its tool catalogs.
    pub mcp: McpServer,
    /// The outbound URL policy (upstream calls and crawls).
    pub policy: UrlPolicy,
    /// Scrape jobs: their LLM, limits and runtime.
    pub scrapes: ScrapeJobs,
    /// W3C trace context in (the [`Gateway`](crate::http::Gateway)) and out
    /// (a layer on the upstream transport); `None` with `OTEL_PROPAGATORS=none`.
    pub trace_context: Option<Propagation>,
    /// Documents the dashboard's wizard fetched, from review to create.
    pub wizard_documents: crate::dashboard::wizard_fetch::WizardDocuments,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Wires the engine to an opened store whose master key is set.
    ///
    /// # Errors
    /// One line: what failed (the API key pepper cannot be read, the HTTP
    /// client cannot be built, the body limits contradict each other).
    pub async fn new(store: Store, settings: Settings, metrics: Metrics) -> Result<Self, String> {
        let bodies = settings.body_limits()?;
        let pepper = store
            .api_key_pepper()
            .await
            .map_err(|e| format!("cannot read the API key pepper: {}", causes(&e)))?;
        let clock: SharedClock = Arc::new(SystemClock);
        let integrations = Arc::new(CachedIntegrations::new(
            store.clone(),
            CACHE_TTL,
            clock.clone(),
        ));
        let connections = Arc::new(CachedConnections::new(
            store.clone(),
            CACHE_TTL,
            clock.clone(),
        ));
        let logs = Arc::new(SqlLogSink::start(store.clone(), LogSinkOptions::default()));
        let policy = settings.url_policy();
        let trace_context = Propagation::new(settings.propagators);
        let observed = metrics.clone();
        let oauth = OAuth2Resolver::builder(Arc::new(store.clone()))
            .observer(Arc::new(move |event| observed.oauth_token_event(event)))
            .url_policy(policy)
            .clock(clock.clone())
            .build()
            .map_err(|e| format!("cannot build the OAuth2 client: {e}"))?;
        let executor = Executor::builder()
            .integration_store(integrations.clone())
            .connection_store(connections.clone())
            .credential_resolver(Arc::new(oauth.clone()))
            .log_sink(logs.clone())
            .clock(clock.clone())
            .url_policy(policy)
            .transport(upstream_transport(trace_context.as_ref()))
            .response_cache(Arc::new(MemoryResponseCache::with_clock(
                settings.response_cache_bytes,
                clock.clone(),
            )))
            // Derived from the stored pepper: every replica accepts the
            // continuations of the others, and the pepper itself stays put.
            .continuation_key(&pepper.digest("waygate pagination continuations"))
            .build()
            .map_err(|e| format!("cannot build the engine: {e}"))?;
        let cpu = CpuPool::new(settings.cpu_jobs, CPU_QUEUE_WAIT);
        let mcp = McpServer::new(executor.clone(), Arc::new(StoreRegistry(store.clone())));
        let llm = settings
            .llm
            .as_ref()
            .map(LlmSettings::provider)
            .transpose()?;
        let scrapes = ScrapeJobs::new(llm, settings.scrape_jobs_per_tenant);
        Ok(Self(Arc::new(App {
            mcp,
            limits: TenantLimits::new(settings.tenant_rate_limit, clock.clone()),
            clock,
            store,
            integrations,
            connections,
            executor,
            oauth,
            logs,
            pepper,
            settings,
            auth: AuthCache::default(),
            metrics,
            cpu,
            bodies,
            policy,
            scrapes,
            trace_context,
            wizard_documents: Default::default(),
        })))
    }
}

/// Opens the store at `url` and sets its master key: `WAYGATE_MASTER_KEY`, else
/// the key file in `data_dir`, generated there on first run (with one warning
/// line on stderr, so that a newcomer knows to keep it).
///
/// # Errors
/// One line: a malformed key, an unreadable data directory, an unreachable database.
pub async fn open_store(url: &str, data_dir: &Path) -> Result<Store, String> {
    // A malformed key in the environment fails before anything is created; a
    // key is generated only once the database is known to work.
    MasterKey::from_env().map_err(|e| causes(&e))?;
    let store = Store::open(url).await.map_err(|e| causes(&e))?;
    match store.unlock(data_dir).await.map_err(|e| causes(&e))? {
        KeySource::Generated(path) => eprintln!(
            "waygate: generated a new master key in {} — back it up: without it stored credentials cannot be decrypted (or set WAYGATE_MASTER_KEY)",
            path.display()
        ),
        KeySource::RotationFinished { path, reencrypted } => eprintln!(
            "waygate: finished an interrupted master key rotation ({reencrypted} rows re-encrypted); the key is now {}",
            path.display()
        ),
        _ => {}
    }
    Ok(store)
}

/// The gateway's upstream transport: the per-thread pool, its fastest
/// (decisions 39, 95), unless the environment names a proxy, which only the
/// general transport honours (decision 97); under the layer that writes the
/// trace context into each request, unless none is propagated (decision 122).
fn upstream_transport(trace_context: Option<&Propagation>) -> Transport {
    let transport = if Transport::environment_names_a_proxy() {
        tracing::info!("upstream requests go through the proxy named in the environment");
        Transport::general()
    } else {
        Transport::pooled()
    };
    match trace_context {
        Some(propagation) => transport.layer(propagation.layer()),
        None => transport,
    }
}

/// An error and its causes on one line.
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text.replace('\n', " ")
}
