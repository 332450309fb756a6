//! Background jobs the gateway runs for tenants.
//!
//! - `scrape` — documentation discovery as a job: leases, progress, cancel, bounded results.

pub mod scrape;
