//! End-to-end tests across crates, over real sockets (one test binary).

mod breaker;
mod cli;
mod cpu;
mod crash;
mod discover;
mod edge;
mod gateway;
mod hostile;
mod import;
mod keys;
mod lanes;
mod mcp;
mod names;
mod oauth;
mod oauth_local;
mod scrape;
mod secrets;
mod serve;
mod shutdown;
mod support;
mod surface;
