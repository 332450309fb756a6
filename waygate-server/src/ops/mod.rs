//! Operations: Prometheus metrics and request ids.

pub mod metrics;
pub mod request_id;
