//! Schema migrations: forward only, run at open and by [`crate::Store::migrate`].
//!
//! Each migration is a module `mYYYYMMDD_NNNNNN_name` with a list of statements.
//! A released migration is never edited; a change is a new migration.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000001_initial;
mod m20261122_000002_gateway;
mod m20261123_000001_action_search;
mod m20261203_000001_scrape_jobs;
mod m20261204_000001_dashboard_sessions;
mod m20261204_000201_connection_auth_scheme;

/// The list of migrations, oldest first.
pub(crate) struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_gateway::Migration),
            Box::new(m20261123_000001_action_search::Migration),
            Box::new(m20261203_000001_scrape_jobs::Migration),
            Box::new(m20261204_000001_dashboard_sessions::Migration),
            Box::new(m20261204_000201_connection_auth_scheme::Migration),
        ]
    }
}
