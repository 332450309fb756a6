//! Operations: bounded CPU work, Prometheus metrics, request ids, the log lines' JSON format and
//! their batched writer.

pub mod cpu;
pub mod log_format;
pub mod log_writer;
pub mod metrics;
pub mod request_id;
pub mod time;
