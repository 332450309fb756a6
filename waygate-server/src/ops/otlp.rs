//! OpenTelemetry settings from the standard `OTEL_*` variables (decisions 94,
//! 122): trace export and trace context propagation. Spans are exported only
//! when an endpoint is set (or `OTEL_TRACES_EXPORTER=otlp` asks for the
//! default one), over OTLP/HTTP with protobuf bodies; `OTEL_PROPAGATORS`
//! names the headers that carry a trace in and out (`tracecontext` unless it
//! says otherwise). Every `OTEL_*` variable is read here: one this gateway
//! does not act on, or a value it cannot use (gRPC, gzip, a sampler ratio of
//! 2, a `b3` propagator), fails the start with a line naming the variable.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};

/// The spec's default endpoint for OTLP/HTTP.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// The service name when `OTEL_SERVICE_NAME` is unset.
const DEFAULT_SERVICE: &str = "waygate";

/// Every variable this module understands; any other `OTEL_*` is refused.
const KNOWN: &[&str] = &[
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_PROPAGATORS",
];

/// What the `OTEL_*` variables ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSettings {
    /// Span export; `None` when nothing is exported.
    pub export: Option<OtlpSettings>,
    /// The trace context propagated, exported or not (decision 123).
    pub propagators: Propagators,
}

/// Which W3C headers carry a trace in and out (`OTEL_PROPAGATORS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Propagators {
    /// `traceparent` and `tracestate` (`tracecontext`).
    pub trace_context: bool,
    /// `baggage` (`baggage`; not by default: decision 123).
    pub baggage: bool,
}

impl Propagators {
    /// No header crosses (`none`, or `OTEL_SDK_DISABLED=true`).
    pub const NONE: Self = Self {
        trace_context: false,
        baggage: false,
    };
}

impl Default for Propagators {
    /// `tracecontext`.
    fn default() -> Self {
        Self {
            trace_context: true,
            baggage: false,
        }
    }
}

/// Which spans are kept (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Every trace.
    AlwaysOn,
    /// None.
    AlwaysOff,
    /// This share of traces, by trace id.
    Ratio(f64),
}

/// How spans are exported: where to, with what, and how they are batched.
#[derive(Clone, PartialEq)]
pub struct OtlpSettings {
    /// The full traces URL (`…/v1/traces`).
    pub endpoint: url::Url,
    /// Headers sent with every export (an API key of a vendor, say): never printed.
    pub headers: BTreeMap<String, String>,
    /// Time allowed for one export request.
    pub timeout: Duration,
    /// `service.name`.
    pub service_name: String,
    /// Further resource attributes.
    pub resource: BTreeMap<String, String>,
    /// Which traces are kept.
    pub sampling: Sampling,
    /// Whether the sampler follows a sampled parent (`parentbased_*`).
    pub parent_based: bool,
    /// Longest a finished span waits before it is sent.
    pub schedule_delay: Duration,
    /// Spans held at most; more are dropped (and counted by the SDK).
    pub max_queue_size: usize,
    /// Spans sent in one request at most.
    pub max_export_batch_size: usize,
}

impl fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpSettings")
            .field("endpoint", &self.endpoint.as_str())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("service_name", &self.service_name)
            .field("sampling", &self.sampling)
            .finish_non_exhaustive()
    }
}

/// The `OTEL_*` variables of an environment, read once.
struct Vars(BTreeMap<String, String>);

impl Vars {
    /// The value of `name`, `None` when unset or blank (a deployment
    /// template's empty variable).
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The traces-specific variable, else the general one, with the name it came from.
    fn signal(&self, general: &str) -> Option<(String, &str)> {
        let specific = general.replacen("OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_TRACES_", 1);
        match self.get(&specific) {
            Some(v) => Some((specific, v)),
            None => self.get(general).map(|v| (general.to_owned(), v)),
        }
    }

    /// A whole number within `range`, when set.
    fn number<T>(&self, name: &str, range: (T, T)) -> Result<Option<T>, String>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        match text.parse::<T>() {
            Ok(n) if n >= range.0 && n <= range.1 => Ok(Some(n)),
            _ => Err(format!(
                "{name}={text:?}: expected a whole number from {} to {}",
                range.0, range.1
            )),
        }
    }
}

/// The settings of the process environment.
///
/// # Errors
/// A line naming the variable that is unknown or holds a value that cannot be used.
pub fn from_env() -> Result<OtelSettings, String> {
    let mut vars = BTreeMap::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str().filter(|n| n.starts_with("OTEL_")) else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|_| format!("{name} is not valid UTF-8"))?;
        vars.insert(name.to_owned(), value);
    }
    settings(vars)
}

/// The settings of these `OTEL_*` variables.
fn settings(vars: BTreeMap<String, String>) -> Result<OtelSettings, String> {
    if let Some(name) = vars.keys().find(|n| !KNOWN.contains(&n.as_str())) {
        return Err(format!(
            "{name} is not supported (the OTEL_* variables waygate reads: {})",
            KNOWN.join(", ")
        ));
    }
    let vars = Vars(vars);
    for name in ["OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"] {
        if let Some(v) = vars.get(name).filter(|v| *v != "none") {
            return Err(format!(
                "{name}={v:?}: only \"none\" (metrics are served at /metrics for Prometheus, logs are JSON lines on stderr)"
            ));
        }
    }
    let disabled = match vars.get("OTEL_SDK_DISABLED") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => return Err(format!("OTEL_SDK_DISABLED={v:?}: expected true or false")),
    };
    let exporter = match vars.get("OTEL_TRACES_EXPORTER") {
        None => None,
        Some(v @ ("otlp" | "none")) => Some(v),
        Some(v) => {
            return Err(format!("OTEL_TRACES_EXPORTER={v:?}: expected otlp or none"));
        }
    };
    let endpoint = endpoint(&vars)?;
    let wanted = match exporter {
        Some("none") => false,
        Some(_) => true,
        None => endpoint.is_some(),
    };
    let rest = rest_of_settings(&vars)?;
    let chosen = propagators(&vars)?;
    let propagators = if disabled { Propagators::NONE } else { chosen };
    if disabled || !wanted {
        return Ok(OtelSettings {
            export: None,
            propagators,
        });
    }
    let endpoint = match endpoint {
        Some(url) => url,
        None => traces_url(DEFAULT_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT")?,
    };
    let (headers, timeout, service_name, resource, (sampling, parent_based), batch) = rest;
    let export = Some(OtlpSettings {
        endpoint,
        headers,
        timeout,
        service_name,
        resource,
        sampling,
        parent_based,
        schedule_delay: batch.0,
        max_queue_size: batch.1,
        max_export_batch_size: batch.2,
    });
    Ok(OtelSettings {
        export,
        propagators,
    })
}

/// `OTEL_PROPAGATORS`: a comma-separated list of `tracecontext` and
/// `baggage`, or `none`; the ones of other formats (`b3`, `jaeger`, `xray`…)
/// are not built in and refused.
fn propagators(vars: &Vars) -> Result<Propagators, String> {
    const NAME: &str = "OTEL_PROPAGATORS";
    let Some(text) = vars.get(NAME) else {
        return Ok(Propagators::default());
    };
    let mut chosen = Propagators::NONE;
    let mut none = false;
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item {
            "tracecontext" => chosen.trace_context = true,
            "baggage" => chosen.baggage = true,
            "none" => none = true,
            other => {
                return Err(format!(
                    "{NAME}={text:?}: {other:?} is not built in (expected tracecontext, baggage, or none)"
                ));
            }
        }
    }
    if none && chosen != Propagators::NONE {
        return Err(format!(
            "{NAME}={text:?}: none cannot be combined with a propagator"
        ));
    }
    Ok(chosen)
}

type Rest = (
    BTreeMap<String, String>,
    Duration,
    String,
    BTreeMap<String, String>,
    (Sampling, bool),
    (Duration, usize, usize),
);

/// Everything but the endpoint, checked even when nothing is exported: a
/// wrong value fails now, not when export is turned on.
fn rest_of_settings(vars: &Vars) -> Result<Rest, String> {
    if let Some((name, v)) = vars.signal("OTEL_EXPORTER_OTLP_PROTOCOL")
        && v != "http/protobuf"
    {
        return Err(format!(
            "{name}={v:?}: only http/protobuf is built in (OTLP over HTTP; no gRPC, no JSON)"
        ));
    }
    if let Some((name, v)) = vars.signal("OTEL_EXPORTER_OTLP_COMPRESSION")
        && v != "none"
    {
        return Err(format!("{name}={v:?}: only none is built in"));
    }
    let headers = match vars.signal("OTEL_EXPORTER_OTLP_HEADERS") {
        Some((name, v)) => {
            let headers = pairs(&name, v)?;
            for (key, value) in &headers {
                HeaderName::try_from(key.as_str())
                    .map_err(|_| format!("{name}: {key:?} is not a header name"))?;
                // The value is a secret, maybe: named by its key only.
                HeaderValue::try_from(value.as_str())
                    .map_err(|_| format!("{name}: the value of {key:?} is not a header value"))?;
            }
            headers
        }
        None => BTreeMap::new(),
    };
    let timeout = match vars.signal("OTEL_EXPORTER_OTLP_TIMEOUT") {
        Some((name, _)) => vars.number::<u64>(&name, (1, 600_000))?,
        None => None,
    };
    let timeout = Duration::from_millis(timeout.unwrap_or(10_000));
    let resource = match vars.get("OTEL_RESOURCE_ATTRIBUTES") {
        Some(v) => pairs("OTEL_RESOURCE_ATTRIBUTES", v)?,
        None => BTreeMap::new(),
    };
    // OTEL_SERVICE_NAME wins over a `service.name` among the attributes.
    let service_name = vars
        .get("OTEL_SERVICE_NAME")
        .or(resource.get("service.name").map(String::as_str))
        .unwrap_or(DEFAULT_SERVICE)
        .to_owned();
    let sampling = sampler(vars)?;
    let delay = vars.number::<u64>("OTEL_BSP_SCHEDULE_DELAY", (1, 3_600_000))?;
    let queue = vars.number::<usize>("OTEL_BSP_MAX_QUEUE_SIZE", (1, 1_000_000))?;
    let queue = queue.unwrap_or(2048);
    let batch = vars.number::<usize>("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", (1, queue))?;
    Ok((
        headers,
        timeout,
        service_name,
        resource,
        sampling,
        (
            Duration::from_millis(delay.unwrap_or(5000)),
            queue,
            batch.unwrap_or(512.min(queue)),
        ),
    ))
}

/// The traces URL: the traces variable as it is, or the general one with
/// `v1/traces` appended (the spec's rule).
fn endpoint(vars: &Vars) -> Result<Option<url::Url>, String> {
    const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    if let Some(v) = vars.get(TRACES) {
        return http_url(TRACES, v).map(Some);
    }
    match vars.get("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Some(v) => traces_url(v, "OTEL_EXPORTER_OTLP_ENDPOINT").map(Some),
        None => Ok(None),
    }
}

fn traces_url(base: &str, name: &str) -> Result<url::Url, String> {
    let base = http_url(name, base)?;
    let path = format!("{}/v1/traces", base.path().trim_end_matches('/'));
    let mut url = base;
    url.set_path(&path);
    Ok(url)
}

fn http_url(name: &str, text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{name}: not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{name}: expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{name}: no query, fragment or user in the URL (headers go in OTEL_EXPORTER_OTLP_HEADERS)"
        ));
    }
    Ok(url)
}

/// `key=value,key=value` with percent-encoded values (the W3C baggage form
/// the spec uses for headers and resource attributes).
fn pairs(name: &str, text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "{name}: expected key=value pairs separated by commas"
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("{name}: a pair has no key"));
        }
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| format!("{name}: the value of {key:?} is not UTF-8 once decoded"))?;
        out.insert(key.to_owned(), value.into_owned());
    }
    Ok(out)
}

fn sampler(vars: &Vars) -> Result<(Sampling, bool), String> {
    const ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
    let name = vars
        .get("OTEL_TRACES_SAMPLER")
        .unwrap_or("parentbased_always_on");
    let (base, parent_based) = match name.strip_prefix("parentbased_") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let sampling = match base {
        "always_on" => Sampling::AlwaysOn,
        "always_off" => Sampling::AlwaysOff,
        "traceidratio" => {
            let ratio = match vars.get(ARG) {
                None => 1.0,
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("{ARG}={v:?}: expected a ratio from 0 to 1"))?,
            };
            Sampling::Ratio(ratio)
        }
        _ => {
            return Err(format!(
                "OTEL_TRACES_SAMPLER={name:?}: expected always_on, always_off, traceidratio, or one of them after parentbased_"
            ));
        }
    };
    if !matches!(sampling, Sampling::Ratio(_)) && vars.get(ARG).is_some() {
        return Err(format!(
            "{ARG} is set, but only traceidratio samplers take it"
        ));
    }
    Ok((sampling, parent_based))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<OtlpSettings>, String> {
        all(pairs).map(|s| s.export)
    }

    fn all(pairs: &[(&str, &str)]) -> Result<OtelSettings, String> {
        settings(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint_or_when_disabled() {
        assert_eq!(read(&[]).unwrap(), None);
        assert_eq!(read(&[("OTEL_SERVICE_NAME", "gw")]).unwrap(), None);
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
        assert!(read(&on).unwrap().is_some());
        for off in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            assert_eq!(read(&[on[0], off]).unwrap(), None, "{off:?}");
        }
        let default = read(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap().unwrap();
        assert_eq!(default.endpoint.as_str(), "http://localhost:4318/v1/traces");
    }

    #[test]
    fn the_endpoint_and_the_rest_follow_the_spec() {
        let s = read(&[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector:4318/base/",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-api-key=s%3Dcret, tenant = a b",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"),
            ("OTEL_SERVICE_NAME", "edge-gw"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=api",
            ),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.endpoint.as_str(), "https://collector:4318/base/v1/traces");
        assert_eq!(s.headers["x-api-key"], "s=cret");
        assert_eq!(s.headers["tenant"], "a b");
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.service_name, "edge-gw");
        assert_eq!(s.resource["deployment.environment"], "prod");
        assert_eq!((s.sampling, s.parent_based), (Sampling::Ratio(0.25), true));
        assert_eq!(s.schedule_delay, Duration::from_millis(100));
        assert_eq!((s.max_queue_size, s.max_export_batch_size), (100, 100));
        assert!(!format!("{s:?}").contains("s=cret"), "{s:?}");
        let traces = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:9999/custom"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(traces.endpoint.as_str(), "http://b:9999/custom");
    }

    #[test]
    fn propagators_are_tracecontext_unless_the_variable_says_otherwise() {
        let chosen = |pairs: &[(&str, &str)]| all(pairs).unwrap().propagators;
        let both = Propagators {
            trace_context: true,
            baggage: true,
        };
        assert_eq!(chosen(&[]), Propagators::default());
        assert!(Propagators::default().trace_context && !Propagators::default().baggage);
        assert_eq!(chosen(&[("OTEL_PROPAGATORS", " ")]), Propagators::default());
        assert_eq!(chosen(&[("OTEL_PROPAGATORS", "none")]), Propagators::NONE);
        assert_eq!(
            chosen(&[("OTEL_PROPAGATORS", "baggage, tracecontext,baggage")]),
            both
        );
        let baggage_only = chosen(&[("OTEL_PROPAGATORS", "baggage")]);
        assert!(baggage_only.baggage && !baggage_only.trace_context);
        // Propagated whether spans are exported or not; nothing when the SDK is off.
        let exported = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_PROPAGATORS", "tracecontext,baggage"),
        ];
        assert_eq!(chosen(&exported), both);
        assert_eq!(
            chosen(&[exported[1], ("OTEL_SDK_DISABLED", "true")]),
            Propagators::NONE
        );
        // Checked even then: a wrong value fails now, not when it is turned on.
        assert!(all(&[("OTEL_SDK_DISABLED", "true"), ("OTEL_PROPAGATORS", "xray")]).is_err());
    }

    #[test]
    fn unknown_variables_and_unusable_values_are_refused_by_name() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("OTEL_PROPAGATORS", "tracecontext,b3")],
                "OTEL_PROPAGATORS=\"tracecontext,b3\": \"b3\" is not built in",
            ),
            (
                &[("OTEL_PROPAGATORS", "none,baggage")],
                "none cannot be combined",
            ),
            (
                &[("OTEL_PROPAGATOR", "none")],
                "OTEL_PROPAGATOR is not supported",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
                "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\"",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")],
                "only http/protobuf",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")],
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c/")],
                "http:// or https://",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:p@c/")],
                "no query, fragment or user",
            ),
            (
                &[endpoint, ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")],
                "OTEL_EXPORTER_OTLP_TIMEOUT=\"soon\"",
            ),
            (&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")], "key=value"),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "bad header=1")],
                "not a header name",
            ),
            (
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER=\"sometimes\"",
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ],
                "from 0 to 1",
            ),
            (&[("OTEL_TRACES_SAMPLER_ARG", "0.5")], "only traceidratio"),
            (
                &[("OTEL_TRACES_EXPORTER", "jaeger")],
                "expected otlp or none",
            ),
            (&[("OTEL_METRICS_EXPORTER", "otlp")], "/metrics"),
            (&[("OTEL_SDK_DISABLED", "yes")], "OTEL_SDK_DISABLED"),
            (
                &[
                    ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
                    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "20"),
                ],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            ),
        ];
        for (vars, expected) in cases {
            let err = read(vars).unwrap_err();
            assert!(err.contains(expected), "{vars:?}: {err}");
        }
        // A header value never appears in an error.
        let err = read(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-key=sec\nret")]).unwrap_err();
        assert!(!err.contains("sec"), "{err}");
    }
}
