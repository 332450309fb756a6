//! The OTLP/HTTP span exporter and the tracer provider built from
//! [`OtlpSettings`] (decision 94): protobuf bodies posted by a blocking
//! reqwest client on the batch processor's own thread, so exporting never
//! runs on a serving thread and needs no second HTTP stack.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};

use super::otlp::{OtlpSettings, Sampling};

/// A provider exporting to `settings.endpoint` in batches.
///
/// # Errors
/// When the exporter's HTTP client cannot be built.
pub fn tracer_provider(settings: &OtlpSettings) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.as_str())
        .with_timeout(settings.timeout)
        .with_headers(settings.headers.clone().into_iter().collect())
        .build()
        .map_err(|e| format!("cannot set up the OTLP span exporter: {e}"))?;
    let batch = BatchConfigBuilder::default()
        .with_scheduled_delay(settings.schedule_delay)
        .with_max_queue_size(settings.max_queue_size)
        .with_max_export_batch_size(settings.max_export_batch_size)
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    let sampler = match settings.sampling {
        Sampling::AlwaysOn => Sampler::AlwaysOn,
        Sampling::AlwaysOff => Sampler::AlwaysOff,
        Sampling::Ratio(ratio) => Sampler::TraceIdRatioBased(ratio),
    };
    let sampler = match settings.parent_based {
        true => Sampler::ParentBased(Box::new(sampler)),
        false => sampler,
    };
    let resource = Resource::builder_empty()
        .with_attributes(
            settings
                .resource
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(settings.service_name.clone())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sampler)
        .with_resource(resource)
        .build())
}
