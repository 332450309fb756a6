//! Serving: one acceptor hands each connection to one of N single-threaded
//! runtimes (one per core), which serves it with hyper's HTTP/1.1 server until
//! the client closes it.
//!
//! A connection, its requests, and the pooled upstream connections those
//! requests use all live on one thread, so a request wakes no other core on
//! its way; a work-stealing runtime moves them between cores (decision 35).
//! The process's main runtime keeps the acceptor and the background work (the
//! request-log writer, token sweeps, retention).

use std::future::Future;
use std::io;
use std::net::TcpStream as StdTcpStream;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

use super::Gateway;
use crate::app::AppState;

/// How long a client may take to send a request's headers (slow-loris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The open-connection count that marks a worker whose thread has stopped.
const STOPPED: usize = usize::MAX / 2;

/// How long the acceptor pauses after an error that is not the client's (too
/// many open files, say), rather than spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves the [`Gateway`] on `listener` until `shutdown` completes: then
/// stops accepting, lets in-flight requests finish, and writes the queued
/// request logs.
///
/// # Errors
/// A worker thread or runtime that cannot be started.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let count = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let workers = Workers::start(count, || Gateway::new(state.clone()))?;
    accept_until(&listener, &workers, shutdown).await;
    drop(listener);
    let workers = workers.drain().await;
    // The workers' runtimes still run: store connections they opened work.
    state.logs.shutdown().await;
    tracing::info!(
        written = state.logs.written(),
        dropped = state.logs.dropped(),
        "request logs flushed"
    );
    workers.stop().await;
    Ok(())
}

/// Hands accepted connections to the workers until `shutdown` completes.
async fn accept_until(
    listener: &TcpListener,
    workers: &Workers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => workers.dispatch(stream),
                // The client gave up before we took it: nothing to do.
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The serving threads, each with its own runtime and gateway service (and router).
struct Workers {
    workers: Vec<Worker>,
}

struct Worker {
    inbox: mpsc::UnboundedSender<StdTcpStream>,
    /// Connections handed to this worker and not yet closed.
    open: Arc<AtomicUsize>,
    drained: oneshot::Receiver<()>,
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// The workers once their connections are closed; their runtimes still run.
struct Drained {
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `count` threads, each serving a gateway made by `gateway`.
    fn start(count: usize, gateway: impl Fn() -> Gateway) -> io::Result<Self> {
        let mut workers = Vec::with_capacity(count);
        for index in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (inbox, connections) = mpsc::unbounded_channel();
            let (drained_tx, drained) = oneshot::channel();
            let (stop, stopped) = oneshot::channel();
            let open = Arc::new(AtomicUsize::new(0));
            let worker = WorkerLoop {
                connections,
                open: open.clone(),
                gateway: gateway(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("waygate-http-{index}"))
                .spawn(move || worker.run(&runtime, drained_tx, stopped))?;
            workers.push(Worker {
                inbox,
                open,
                drained,
                stop,
                thread,
            });
        }
        Ok(Self { workers })
    }

    /// Gives `stream` to the running worker with the fewest open connections.
    fn dispatch(&self, stream: TcpStream) {
        // Registered again with the worker's own reactor on arrival.
        let mut stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "an accepted connection could not be handed over");
                return;
            }
        };
        loop {
            let Some(worker) = self
                .workers
                .iter()
                .filter(|w| w.open.load(Ordering::Relaxed) < STOPPED)
                .min_by_key(|w| w.open.load(Ordering::Relaxed))
            else {
                tracing::error!("no serving thread is running; the connection was closed");
                return;
            };
            worker.open.fetch_add(1, Ordering::Relaxed);
            match worker.inbox.send(stream) {
                Ok(()) => return,
                // Its thread is gone (it panicked): never pick it again.
                Err(mpsc::error::SendError(back)) => {
                    worker.open.store(STOPPED, Ordering::Relaxed);
                    tracing::error!(
                        "a serving thread has stopped; the others take its connections"
                    );
                    stream = back;
                }
            }
        }
    }

    /// Stops handing out connections and waits until every worker has
    /// finished its in-flight requests and closed its connections.
    async fn drain(self) -> Drained {
        let mut drained = Drained {
            stops: Vec::with_capacity(self.workers.len()),
            threads: Vec::with_capacity(self.workers.len()),
        };
        let mut waits = Vec::with_capacity(self.workers.len());
        for worker in self.workers {
            drop(worker.inbox);
            waits.push(worker.drained);
            drained.stops.push(worker.stop);
            drained.threads.push(worker.thread);
        }
        for wait in waits {
            // An error means the worker is gone already: nothing left to wait for.
            let _ = wait.await;
        }
        drained
    }
}

impl Drained {
    /// Ends the workers' runtimes and waits for their threads.
    async fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        let threads = self.threads;
        let joined = tokio::task::spawn_blocking(move || {
            threads
                .into_iter()
                .filter_map(|thread| thread.join().err())
                .count()
        })
        .await;
        if !matches!(joined, Ok(0)) {
            tracing::error!("a serving thread panicked");
        }
    }
}

/// What runs on a worker's thread.
struct WorkerLoop {
    connections: mpsc::UnboundedReceiver<StdTcpStream>,
    open: Arc<AtomicUsize>,
    gateway: Gateway,
}

impl WorkerLoop {
    /// Serves connections until the inbox closes, drains them, reports that,
    /// and keeps the runtime up until told to stop.
    fn run(self, runtime: &Runtime, drained: oneshot::Sender<()>, stop: oneshot::Receiver<()>) {
        runtime.block_on(async move {
            let graceful = self.serve().await;
            graceful.shutdown().await;
            let _ = drained.send(());
            let _ = stop.await;
        });
    }

    async fn serve(mut self) -> GracefulShutdown {
        let graceful = GracefulShutdown::new();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        while let Some(stream) = self.connections.recv().await {
            let open = OpenConnection(self.open.clone());
            let stream = match TcpStream::from_std(stream) {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "an accepted connection could not be served");
                    continue;
                }
            };
            // Responses are written whole: waiting to coalesce them only adds latency.
            let _ = stream.set_nodelay(true);
            let service = self.gateway.clone();
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _open = open;
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
            });
        }
        graceful
    }
}

/// Counts a connection as open on its worker until dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker whose inbox is `inbox`; its thread does nothing.
    fn worker(inbox: mpsc::UnboundedSender<StdTcpStream>) -> Worker {
        let (_, drained) = oneshot::channel();
        let (stop, _) = oneshot::channel();
        Worker {
            inbox,
            open: Arc::default(),
            drained,
            stop,
            thread: std::thread::spawn(|| {}),
        }
    }

    async fn accepted(listener: &TcpListener) -> TcpStream {
        let addr = listener.local_addr().unwrap();
        let (_client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        accepted.unwrap().0
    }

    #[tokio::test]
    async fn connections_skip_a_stopped_worker_and_go_to_the_least_busy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (dead, gone) = mpsc::unbounded_channel();
        drop(gone);
        let (busy, mut busy_inbox) = mpsc::unbounded_channel();
        let (idle, mut idle_inbox) = mpsc::unbounded_channel();
        let workers = Workers {
            workers: vec![worker(dead), worker(busy), worker(idle)],
        };
        workers.workers[1].open.store(5, Ordering::Relaxed);

        workers.dispatch(accepted(&listener).await);
        assert_eq!(workers.workers[0].open.load(Ordering::Relaxed), STOPPED);
        assert!(idle_inbox.try_recv().is_ok(), "the idle worker got it");
        assert_eq!(workers.workers[2].open.load(Ordering::Relaxed), 1);

        // With the idle worker now busier, the next one goes to the other.
        workers.workers[2].open.store(9, Ordering::Relaxed);
        workers.dispatch(accepted(&listener).await);
        assert!(busy_inbox.try_recv().is_ok(), "the less busy worker got it");
        assert_eq!(workers.workers[1].open.load(Ordering::Relaxed), 6);
    }
}
