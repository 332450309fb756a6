//! The crate's one error type, with a backend-neutral kind.

use std::fmt;

use sea_orm::{DbErr, SqlErr};
use waygate_core::storage::{StoreError, StoreErrorKind};

/// What kind of failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The thing (or the tenant or integration it belongs to) does not exist.
    NotFound,
    /// It conflicts with what is stored (a duplicate slug or action).
    Conflict,
    /// The database cannot be reached or failed.
    Unavailable,
    /// The configuration is unusable: a malformed URL or master key.
    Config,
    /// A credential failed to decrypt: wrong key, or a ciphertext moved to another row.
    Crypto,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn not_found(what: impl fmt::Display) -> Self {
        Self::new(ErrorKind::NotFound, format!("{what} not found"))
    }

    /// Its kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Maps a database error: constraint violations are conflicts (unique) or a
    /// missing parent (foreign key); anything else means the database failed.
    pub(crate) fn db(context: &str, err: DbErr) -> Self {
        let kind = match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ErrorKind::Conflict,
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => ErrorKind::NotFound,
            _ => ErrorKind::Unavailable,
        };
        let message = match kind {
            ErrorKind::Conflict => format!("{context}: it conflicts with a stored row"),
            ErrorKind::NotFound => format!("{context}: what it refers to does not exist"),
            _ => format!("{context}: database error"),
        };
        Self::new(kind, message).with_source(err)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::NotFound => StoreErrorKind::NotFound,
            ErrorKind::Conflict => StoreErrorKind::Conflict,
            _ => StoreErrorKind::Unavailable,
        };
        // The port's error carries text only: keep the cause's text with it.
        let message = match &e.source {
            Some(s) => format!("{}: {s}", e.message),
            None => e.message,
        };
        StoreError::new(kind, message)
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
