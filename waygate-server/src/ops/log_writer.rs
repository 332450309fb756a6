//! Log lines to stderr in batches: a request appends its line to a shared
//! buffer, and a background thread writes the buffer out every
//! [`FLUSH_EVERY`] or as soon as it holds [`HIGH_WATER`] bytes. A busy gateway
//! makes one `write(2)` per batch instead of one per request line (nginx's
//! `access_log … buffer= flush=` does the same). [`LogFlush`] writes what is
//! left when the server stops, so no line is lost on a clean exit.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Longest a line waits in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Buffered bytes that wake the writer early.
const HIGH_WATER: usize = 64 * 1024;

/// Buffered bytes past which a line is written at once by its caller: the
/// writer has fallen behind (stderr blocked), and memory must stay bounded.
const HARD_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    pending: Mutex<Vec<u8>>,
    /// Held while writing, so batches and direct writes keep their order.
    out: Mutex<()>,
    wake: Condvar,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes everything buffered so far.
    fn write_out(&self) {
        let _order = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = std::mem::take(&mut *self.pending());
        if !batch.is_empty() {
            // Nowhere to report a failed write to stderr.
            let _ = std::io::stderr().lock().write_all(&batch);
        }
    }
}

/// A [`MakeWriter`] for `tracing_subscriber` that batches lines to stderr.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Writes the lines still buffered when dropped (or [`flush`](Self::flush)ed).
pub struct LogFlush {
    shared: Arc<Shared>,
}

impl BatchedStderr {
    /// The writer and its flush guard; starts the background writer thread.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start() -> std::io::Result<(Self, LogFlush)> {
        let shared = Arc::new(Shared::default());
        let background = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("waygate-log".into())
            .spawn(move || {
                loop {
                    {
                        let pending = background.pending();
                        // Woken early by a full buffer, else on the tick.
                        let _ = background
                            .wake
                            .wait_timeout_while(pending, FLUSH_EVERY, |p| p.len() < HIGH_WATER);
                    }
                    background.write_out();
                }
            })?;
        Ok((
            Self {
                shared: Arc::clone(&shared),
            },
            LogFlush { shared },
        ))
    }
}

impl LogFlush {
    /// Writes every buffered line now.
    pub fn flush(&self) {
        self.shared.write_out();
    }
}

impl Drop for LogFlush {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One event's writer: the formatter writes a whole line through it.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.pending();
        if pending.len() + line.len() > HARD_LIMIT {
            drop(pending);
            self.shared.write_out();
            let _order = self
                .shared
                .out
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            return std::io::stderr().lock().write(line);
        }
        pending.extend_from_slice(line);
        if pending.len() >= HIGH_WATER {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_until_written() {
        let (writer, flush) = BatchedStderr::start().unwrap();
        for i in 0..100 {
            let mut w = writer.make_writer();
            w.write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        let buffered = String::from_utf8(writer.shared.pending().clone()).unwrap();
        // The background thread may have written some already; what is left is the tail, in order.
        let lines: Vec<&str> = buffered.lines().collect();
        let tail: Vec<String> = (100 - lines.len()..100)
            .map(|i| format!("line {i}"))
            .collect();
        assert_eq!(lines, tail);
        flush.flush();
        assert!(writer.shared.pending().is_empty());
    }
}
