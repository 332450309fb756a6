//! Running SQL: one statement text for both backends.
//!
//! Statements use `$1, $2, …` placeholders, which PostgreSQL reads natively and
//! sqlx's SQLite driver binds by number, so every query is written once. Only
//! large multi-row inserts differ (see [`push_placeholders`]).

use std::fmt::Write as _;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait, TryGetable, Value,
};

use crate::error::{Error, Result};
use crate::store::Backend;

/// Starts a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN` (`IMMEDIATE`): a deferred transaction that reads first holds a
/// snapshot that cannot be upgraded once another connection has committed,
/// and fails at its first write with `SQLITE_BUSY` instead of waiting out the
/// busy timeout. PostgreSQL ignores the mode.
pub(crate) async fn write_transaction(
    db: &DatabaseConnection,
    context: &str,
) -> Result<DatabaseTransaction> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
    .map_err(|e| Error::db(context, e))
}

/// Executes a statement; returns the rows it affected.
pub(crate) async fn exec<C: ConnectionTrait>(
    conn: &C,
    context: &str,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64> {
    let stmt = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    conn.execute_raw(stmt)
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| Error::db(context, e))
}

/// Runs a query; returns all rows.
pub(crate) async fn all<C: ConnectionTrait>(
    conn: &C,
    context: &str,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    let stmt = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    conn.query_all_raw(stmt)
        .await
        .map_err(|e| Error::db(context, e))
}

/// Runs a query; returns the first row, if any.
pub(crate) async fn one<C: ConnectionTrait>(
    conn: &C,
    context: &str,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    let stmt = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    conn.query_one_raw(stmt)
        .await
        .map_err(|e| Error::db(context, e))
}

/// Reads column `col` of a row.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, col: &str) -> Result<T> {
    row.try_get::<T>("", col)
        .map_err(|e| Error::db(&format!("reading column {col}"), e))
}

/// Appends to `sql` the placeholders of one row of a multi-row `VALUES` list,
/// starting at parameter `first`: `($first, $first+1, …)` on PostgreSQL,
/// `(?, ?, …)` on SQLite. Written in place: a log batch has thousands.
///
/// SQLite resolves a named parameter (`$n`) by a linear search, so binding a
/// statement of n numbered parameters costs O(n²): with 6 000 of them per log
/// batch, inserts ran 4× slower (4 800 vs 20 600 rows/s in `benches/store.rs`).
/// Plain `?` parameters bind in order, in O(n).
pub(crate) fn push_placeholders(sql: &mut String, backend: Backend, first: usize, count: usize) {
    sql.push('(');
    for i in first..first + count {
        if i > first {
            sql.push_str(", ");
        }
        match backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                let _ = write!(sql, "${i}");
            }
        }
    }
    sql.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_the_first_on_postgres_only() {
        let mut sql = String::from("VALUES ");
        push_placeholders(&mut sql, Backend::Sqlite, 4, 3);
        sql.push_str(", ");
        push_placeholders(&mut sql, Backend::Postgres, 4, 3);
        assert_eq!(sql, "VALUES (?, ?, ?), ($4, $5, $6)");
    }
}
