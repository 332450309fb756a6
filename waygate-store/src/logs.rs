//! Request logs: written off the hot path in batches, listed with filters and
//! keyset pagination, removed by retention.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sea_orm::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use waygate_core::pipeline::{LogEntry, LogSink};

use crate::db::{self, get, push_placeholders};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::{duration_ms, from_ms, to_ms};

/// Columns of one log row, in insert order.
const LOG_COLUMNS: usize = 12;

/// How an [`SqlLogSink`] queues and batches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogSinkOptions {
    /// Entries the queue holds before new ones are dropped (and counted). Default 10 000.
    pub capacity: usize,
    /// Rows per insert, at most. Default 500.
    pub batch_size: usize,
    /// How long the first entry of a batch waits for more. Default 50 ms.
    pub max_delay: Duration,
}

impl Default for LogSinkOptions {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            batch_size: 500,
            max_delay: Duration::from_millis(50),
        }
    }
}

enum Msg {
    Entry(Box<LogEntry>),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// Core's [`LogSink`] on the SQL store: `record` only queues (it never waits);
/// a background task inserts the queue in batches.
///
/// When the queue is full, or a batch cannot be written after retries, entries
/// are counted in [`SqlLogSink::dropped`] (and a warning is logged) rather than
/// slowing down invocations.
#[derive(Debug)]
pub struct SqlLogSink {
    tx: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    written: AtomicU64,
    warned: AtomicBool,
}

impl Counters {
    fn drop_entries(&self, n: u64, why: &str) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        // One warning per process; the counter carries the rest to metrics.
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(entries = n, reason = why, "request log entries dropped");
        }
    }
}

impl SqlLogSink {
    /// Starts the background writer on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(store: Store, options: LogSinkOptions) -> Self {
        let (tx, rx) = mpsc::channel(options.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(write_loop(store, options, rx, counters.clone()));
        Self {
            tx,
            counters,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Entries not stored: the queue was full, the sink was shut down, or the
    /// database refused a batch after retries.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Entries waiting in the queue now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Entries stored so far.
    pub fn written(&self) -> u64 {
        self.counters.written.load(Ordering::Relaxed)
    }

    /// Waits until every entry recorded before this call is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Writes what is queued and stops the writer; entries recorded afterwards
    /// are counted as dropped.
    pub async fn shutdown(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(ack)).await.is_ok() {
            let _ = done.await;
        }
        let task = self.task.lock().expect("log sink lock poisoned").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl LogSink for SqlLogSink {
    fn record(&self, entry: LogEntry) {
        match self.tx.try_send(Msg::Entry(Box::new(entry))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.counters.drop_entries(1, "queue full"),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.counters.drop_entries(1, "log sink shut down")
            }
        }
    }
}

async fn write_loop(
    store: Store,
    options: LogSinkOptions,
    mut rx: mpsc::Receiver<Msg>,
    counters: Arc<Counters>,
) {
    let batch_size = options.batch_size.max(1);
    let mut batch: Vec<LogEntry> = Vec::with_capacity(batch_size);
    let mut msgs: Vec<Msg> = Vec::with_capacity(batch_size);
    let mut deadline = tokio::time::Instant::now();
    loop {
        let received = if batch.is_empty() {
            rx.recv_many(&mut msgs, batch_size).await
        } else {
            // A batch is open: let it fill until its deadline without being woken
            // by every entry (each wake-up is a cross-thread futex call on a busy
            // gateway), unless a full batch is queued already.
            let room = batch_size - batch.len();
            if rx.len() < room {
                tokio::time::sleep_until(deadline).await;
            }
            if rx.is_empty() {
                write(&store, &mut batch, &counters).await;
                continue;
            }
            // Returns at once: messages are queued.
            rx.recv_many(&mut msgs, room).await
        };
        if received == 0 {
            // Every sender is gone: write what is left and stop.
            write(&store, &mut batch, &counters).await;
            return;
        }
        let mut acks = Vec::new();
        let mut stop = None;
        for msg in msgs.drain(..) {
            match msg {
                Msg::Entry(entry) => {
                    if batch.is_empty() {
                        deadline = tokio::time::Instant::now() + options.max_delay;
                    }
                    batch.push(*entry);
                    if batch.len() >= batch_size {
                        write(&store, &mut batch, &counters).await;
                    }
                }
                Msg::Flush(ack) => {
                    write(&store, &mut batch, &counters).await;
                    acks.push(ack);
                }
                Msg::Shutdown(ack) => {
                    write(&store, &mut batch, &counters).await;
                    stop = Some(ack);
                    break;
                }
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
        if let Some(ack) = stop {
            // Refuse new entries, then write any that slipped in before closing.
            rx.close();
            while let Ok(msg) = rx.try_recv() {
                match msg {
                    Msg::Entry(entry) => batch.push(*entry),
                    Msg::Flush(a) | Msg::Shutdown(a) => {
                        let _ = a.send(());
                    }
                }
            }
            write(&store, &mut batch, &counters).await;
            let _ = ack.send(());
            return;
        }
    }
}

/// Inserts and empties `batch`, retrying a failed insert twice.
async fn write(store: &Store, batch: &mut Vec<LogEntry>, counters: &Counters) {
    if batch.is_empty() {
        return;
    }
    let mut last = None;
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        match store.insert_logs(batch).await {
            Ok(()) => {
                counters
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                batch.clear();
                return;
            }
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        tracing::error!(error = %e, entries = batch.len(), "writing request logs failed");
    }
    counters.drop_entries(batch.len() as u64, "database write failed");
    batch.clear();
}

/// Which invocations to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogOutcome {
    /// Those that returned data.
    Success,
    /// Those that ended in an error.
    Error,
}

/// Filters and page of a log listing. All filters are optional.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LogQuery {
    /// Only this integration.
    pub integration: Option<String>,
    /// Only this action (with `integration`).
    pub action: Option<String>,
    /// Only successes or only errors.
    pub outcome: Option<LogOutcome>,
    /// Only this upstream HTTP status.
    pub upstream_status: Option<u16>,
    /// Only the invocation with this request id.
    pub request_id: Option<String>,
    /// Only invocations started at or after this time.
    pub since: Option<SystemTime>,
    /// Entries per page (1–1000; default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl LogQuery {
    /// A query without filters.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogRecord {
    /// Row id (orders entries that started in the same millisecond).
    pub id: i64,
    /// The invocation's request id.
    pub request_id: String,
    /// Integration slug.
    pub integration: String,
    /// Action slug.
    pub action: String,
    /// Connection name.
    pub connection: Option<String>,
    /// When it started (millisecond precision).
    pub started_at: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Requests sent upstream.
    pub attempts: u32,
    /// The last upstream status.
    pub upstream_status: Option<u16>,
    /// The error code, `None` on success.
    pub error_code: Option<String>,
    /// The sanitized request, as JSON text.
    pub request: Option<String>,
    /// The sanitized response preview.
    pub response: Option<String>,
}

/// A page of log entries, newest first.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogPage {
    /// The entries.
    pub entries: Vec<LogRecord>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

fn parse_cursor(text: &str) -> Result<(i64, i64)> {
    let bad = || Error::new(ErrorKind::Config, "the log cursor is not valid");
    let (at, id) = text.split_once('.').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

impl Store {
    pub(crate) async fn insert_logs(&self, entries: &[LogEntry]) -> Result<()> {
        let mut sql = String::from(
            "INSERT INTO request_logs (tenant_id, request_id, integration, action, connection, started_at, duration_ms, attempts, upstream_status, error_code, request, response) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(entries.len() * LOG_COLUMNS);
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push_placeholders(&mut sql, self.backend(), i * LOG_COLUMNS + 1, LOG_COLUMNS);
            let request = e
                .request
                .as_ref()
                .and_then(|r| serde_json::to_string(r).ok());
            values.extend([
                e.tenant.as_str().into(),
                e.request_id.as_str().into(),
                e.integration.as_str().into(),
                e.action.as_str().into(),
                e.connection.clone().into(),
                to_ms(e.started_at).into(),
                duration_ms(e.duration).into(),
                i64::from(e.attempts).into(),
                e.upstream_status.map(i64::from).into(),
                e.error_code.clone().into(),
                request.into(),
                e.response.clone().into(),
            ]);
        }
        db::exec(self.db(), "writing request logs", &sql, values)
            .await
            .map(drop)
    }

    /// The tenant's log entries matching `query`, newest first, one page.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a malformed cursor.
    pub async fn list_logs(&self, tenant: &str, query: &LogQuery) -> Result<LogPage> {
        let limit = query.limit.unwrap_or(50).clamp(1, 1000);
        let mut sql = String::from(
            "SELECT id, request_id, integration, action, connection, started_at, duration_ms, attempts, upstream_status, error_code, request, response
             FROM request_logs WHERE tenant_id = $1",
        );
        let mut values: Vec<Value> = vec![tenant.into()];
        let mut bind = |sql: &mut String, clause: &str, v: Value| {
            values.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", values.len())));
        };
        if let Some(i) = &query.integration {
            bind(&mut sql, " AND integration = ?", i.as_str().into());
        }
        if let Some(a) = &query.action {
            bind(&mut sql, " AND action = ?", a.as_str().into());
        }
        if let Some(r) = &query.request_id {
            bind(&mut sql, " AND request_id = ?", r.as_str().into());
        }
        match query.outcome {
            Some(LogOutcome::Success) => sql.push_str(" AND error_code IS NULL"),
            Some(LogOutcome::Error) => sql.push_str(" AND error_code IS NOT NULL"),
            None => {}
        }
        if let Some(s) = query.upstream_status {
            bind(&mut sql, " AND upstream_status = ?", i64::from(s).into());
        }
        if let Some(t) = query.since {
            bind(&mut sql, " AND started_at >= ?", to_ms(t).into());
        }
        if let Some(c) = &query.cursor {
            let (at, id) = parse_cursor(c)?;
            bind(&mut sql, " AND (started_at < ?", at.into());
            bind(&mut sql, " OR (started_at = ?", at.into());
            bind(&mut sql, " AND id < ?))", id.into());
        }
        bind(
            &mut sql,
            " ORDER BY started_at DESC, id DESC LIMIT ?",
            (i64::from(limit) + 1).into(),
        );
        let rows = db::all(self.db(), "listing request logs", &sql, values).await?;
        let mut entries = rows
            .iter()
            .map(|r| {
                Ok(LogRecord {
                    id: get(r, "id")?,
                    request_id: get(r, "request_id")?,
                    integration: get(r, "integration")?,
                    action: get(r, "action")?,
                    connection: get(r, "connection")?,
                    started_at: from_ms(get(r, "started_at")?),
                    duration: Duration::from_millis(
                        u64::try_from(get::<i64>(r, "duration_ms")?).unwrap_or(0),
                    ),
                    attempts: u32::try_from(get::<i64>(r, "attempts")?).unwrap_or(u32::MAX),
                    upstream_status: get::<Option<i64>>(r, "upstream_status")?
                        .and_then(|s| u16::try_from(s).ok()),
                    error_code: get(r, "error_code")?,
                    request: get(r, "request")?,
                    response: get(r, "response")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries
                .last()
                .map(|e| format!("{}.{}", to_ms(e.started_at), e.id))
        } else {
            None
        };
        Ok(LogPage {
            entries,
            next_cursor,
        })
    }

    /// Deletes log entries (of every tenant) that started before `cutoff`, in
    /// chunks so that SQLite's writer is never held for long. Returns how many.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn delete_logs_older_than(&self, cutoff: SystemTime) -> Result<u64> {
        const CHUNK: i64 = 5_000;
        let mut total = 0;
        loop {
            let n = db::exec(
                self.db(),
                "deleting old request logs",
                "DELETE FROM request_logs WHERE id IN
                   (SELECT id FROM request_logs WHERE started_at < $1 LIMIT $2)",
                vec![to_ms(cutoff).into(), CHUNK.into()],
            )
            .await?;
            total += n;
            if n < CHUNK as u64 {
                return Ok(total);
            }
        }
    }
}
