//! Operations: bounded CPU work, Prometheus metrics, request ids, logging and
//! span export.

pub mod cpu;
pub mod logging;
pub mod metrics;
pub mod otlp;
#[cfg(feature = "otlp")]
pub mod otlp_export;
pub mod request_id;
pub mod time;
