//! Operations: bounded CPU work, Prometheus metrics, request ids, logging,
//! span export and trace context propagation.

pub mod cpu;
pub mod logging;
pub mod metrics;
pub mod otlp;
#[cfg(feature = "otlp")]
pub mod otlp_export;
pub mod propagation;
pub mod request_id;
pub mod time;
