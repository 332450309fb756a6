//! The process's tracing subscriber (decisions 93, 94): events as JSON lines
//! on stderr through tracing-subscriber's JSON formatter, with the current
//! span and the list of spans an event happened in (so a line inside an
//! invocation carries its request id, tenant, integration and action),
//! filtered by `RUST_LOG` (default `info`); written off the calling thread by
//! tracing-appender's worker, which drains its queue into a buffer and writes
//! the buffer once the queue is empty (one `write(2)` per burst, not per line).
//! When the `OTEL_*` variables ask for it ([`super::otlp`]), spans are also
//! exported over OTLP: every span of `waygate_core` from `DEBUG` (each
//! pipeline step), `INFO` and up elsewhere, whatever `RUST_LOG` says. The
//! trace context propagators the variables chose are kept for the gateway
//! ([`Telemetry::propagators`], decision 122).

use std::io::BufWriter;
use std::time::SystemTime;

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::otlp::{self, OtlpSettings, Propagators};
use super::time::Micros;

/// The filter when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sea_orm_migration=warn";

/// Lines the writer's queue holds; past it a caller waits (lines are never dropped).
const QUEUED_LINES: usize = 128_000;

/// Bytes gathered before a write while the queue still has lines.
const WRITE_BUFFER: usize = 64 * 1024;

/// Keeps logging and span export running; dropped on the way out, it exports
/// the spans still queued, then writes the log lines still queued.
pub struct Telemetry {
    traces: Option<Provider>,
    propagators: Propagators,
    _logs: WorkerGuard,
}

impl Telemetry {
    /// The trace context `OTEL_PROPAGATORS` asks the gateway to carry.
    pub fn propagators(&self) -> Propagators {
        self.propagators
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            shut_down(provider);
        }
    }
}

/// Exports the spans still queued, and stops.
#[cfg(feature = "otlp")]
fn shut_down(provider: Provider) {
    if let Err(e) = provider.shutdown() {
        tracing::warn!(error = %e, "exporting the last spans failed");
    }
}

#[cfg(not(feature = "otlp"))]
fn shut_down(never: Provider) {
    match never {}
}

/// What exports spans: nothing can without the `otlp` feature.
#[cfg(feature = "otlp")]
type Provider = opentelemetry_sdk::trace::SdkTracerProvider;
#[cfg(not(feature = "otlp"))]
type Provider = std::convert::Infallible;

/// Log-line timestamps through jiff: UTC with microseconds, `…Z`.
struct LogTime;

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", Micros(SystemTime::now()))
    }
}

/// The JSON formatter: `{"timestamp","level","fields":{"message",…},"target",
/// "span":{the current one},"spans":[outermost first]}`, one line per event.
fn json_lines<S, W>(writer: W) -> fmt::Layer<S, JsonFields, Format<Json, LogTime>, W>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_timer(LogTime)
        .with_writer(writer)
}

/// Installs the subscriber: JSON log lines, and span export when configured.
///
/// # Errors
/// A bad `RUST_LOG` or `OTEL_*` variable, or a log writer or span exporter
/// that cannot be started.
pub fn init() -> Result<Telemetry, String> {
    let otel = otlp::from_env()?;
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => {
            EnvFilter::try_new(&text).map_err(|e| format!("RUST_LOG={text:?}: {e}"))?
        }
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let (writer, logs) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("waygate-log")
        .finish(BufWriter::with_capacity(WRITE_BUFFER, std::io::stderr()));
    let Some(export) = otel.export else {
        // One filter for the whole subscriber: callsites it rejects cost nothing.
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(json_lines(writer))
            .try_init();
        return Ok(Telemetry {
            traces: None,
            propagators: otel.propagators,
            _logs: logs,
        });
    };
    Ok(Telemetry {
        traces: Some(exporting(&export, filter, writer)?),
        propagators: otel.propagators,
        _logs: logs,
    })
}

/// Logs and span export, each with its own filter; the provider to shut down.
#[cfg(feature = "otlp")]
fn exporting(
    export: &OtlpSettings,
    filter: EnvFilter,
    writer: NonBlocking,
) -> Result<Provider, String> {
    use opentelemetry::trace::TracerProvider as _;
    use tracing::Level;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::Targets;

    let provider = super::otlp_export::tracer_provider(export)?;
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("waygate"))
        .with_filter(
            Targets::new()
                .with_target("waygate_core", Level::DEBUG)
                .with_default(Level::INFO),
        );
    let _ = tracing_subscriber::registry()
        .with(json_lines(writer).with_filter(filter))
        .with(spans)
        .try_init();
    Ok(provider)
}

/// Without the `otlp` feature, asking for export is a configuration error.
#[cfg(not(feature = "otlp"))]
fn exporting(_: &OtlpSettings, _: EnvFilter, _: NonBlocking) -> Result<Provider, String> {
    Err("OTEL_* asks for span export, but this waygate was built without the `otlp` feature".into())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    #[test]
    fn each_event_is_one_json_line_with_its_fields_and_spans() {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(json_lines(capture.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let invoke = tracing::info_span!("invoke", request_id = "id-1", tenant = "t1");
            let send = tracing::debug_span!(parent: &invoke, "send", attempt = 2u32);
            send.in_scope(|| {
                tracing::info!(
                    path = "/a\"b\\c\n\u{1}é",
                    status = 200u16,
                    ok = true,
                    "answer"
                );
            });
            tracing::warn!(duration_ms = 1.5, "outside");
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["target"], module_path!());
        assert!(
            first["timestamp"].as_str().unwrap().ends_with('Z'),
            "{first}"
        );
        let fields = &first["fields"];
        assert_eq!(fields["message"], "answer");
        assert_eq!(fields["path"], "/a\"b\\c\n\u{1}é");
        assert_eq!(fields["status"], 200);
        assert_eq!(fields["ok"], true);
        assert_eq!(first["span"]["name"], "send");
        assert_eq!(first["span"]["attempt"], 2);
        assert_eq!(first["spans"][0]["name"], "invoke");
        assert_eq!(first["spans"][0]["request_id"], "id-1");
        assert_eq!(first["spans"][0]["tenant"], "t1");
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["fields"]["duration_ms"], 1.5);
        assert!(lines[1].get("span").is_none(), "{}", lines[1]);
    }
}
