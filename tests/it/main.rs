//! End-to-end tests across crates, over real sockets (one test binary).

mod cli;
mod cpu;
mod crash;
mod gateway;
mod import;
mod keys;
mod lanes;
mod mcp;
mod oauth;
mod secrets;
mod serve;
mod shutdown;
mod support;
mod surface;
