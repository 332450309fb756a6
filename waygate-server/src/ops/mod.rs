//! Operations: Prometheus metrics, request ids and the batched log writer.

pub mod log_writer;
pub mod metrics;
pub mod request_id;
