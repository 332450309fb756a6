//! # waygate-store
//!
//! SQL storage for Waygate (SQLite by default, PostgreSQL for replicas): it will
//! implement `waygate_core::storage`'s ports, the credential vault and the
//! cross-process locks. It holds no code yet; until it does, the engine runs on
//! `waygate_core::storage::MemoryStore`.
