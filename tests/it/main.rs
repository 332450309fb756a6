//! End-to-end tests across crates, over real sockets (one test binary).

mod auth_schemes;
mod breaker;
mod cache;
mod catalog;
mod cli;
mod cpu;
mod crash;
mod dashboard;
mod discover;
mod edge;
mod gateway;
mod hostile;
mod import;
mod invocation;
mod keys;
mod mcp;
mod names;
mod oauth;
mod oauth_local;
#[cfg(feature = "otlp")]
mod otlp;
mod paginate;
#[cfg(feature = "otlp")]
mod propagation;
mod scrape;
mod secrets;
mod serve;
mod shutdown;
mod support;
mod surface;
mod tags;
mod validation;
