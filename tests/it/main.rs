//! End-to-end tests across crates, over real sockets (one test binary).

mod import;
mod keys;
mod serve;
