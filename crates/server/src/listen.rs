//! The accept loop: HTTP/1.1 connections with a header-read timeout and a connection cap.
//!
//! `axum::serve` has neither (no timer, no limit), so idle and slowloris connections lived
//! forever and a flood of them used up the process's file descriptors. Here each connection
//! takes a permit of [`ServerSection::max_connections`] (beyond, it is closed at once and
//! counted) and hyper's header-read timer, which runs whenever the connection waits for a
//! request head — after the accept and after every response — closes slow and idle ones.

use crate::settings::ServerSection;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

/// Connection counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub open: AtomicUsize,
    pub accepted: AtomicU64,
    /// Closed at accept because `max_connections` were open.
    pub refused: AtomicU64,
    /// Closed because a request head did not arrive in time (slow or idle).
    pub header_timeouts: AtomicU64,
    /// The cap in force (configured, lowered to fit the open-file limit).
    pub cap: AtomicUsize,
}

impl ConnStats {
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            out,
            "# HELP switchboard_http_connections_open HTTP connections open (WebSockets included).\n\
             # TYPE switchboard_http_connections_open gauge\nswitchboard_http_connections_open {}\n\
             # HELP switchboard_http_connections_max The connection cap in force.\n\
             # TYPE switchboard_http_connections_max gauge\nswitchboard_http_connections_max {}\n\
             # HELP switchboard_http_connections_accepted_total HTTP connections accepted.\n\
             # TYPE switchboard_http_connections_accepted_total counter\nswitchboard_http_connections_accepted_total {}\n\
             # HELP switchboard_http_connections_refused_total Connections closed at accept because the cap was reached.\n\
             # TYPE switchboard_http_connections_refused_total counter\nswitchboard_http_connections_refused_total {}\n\
             # HELP switchboard_http_header_timeouts_total Connections closed because no complete request head came in time.\n\
             # TYPE switchboard_http_header_timeouts_total counter\nswitchboard_http_header_timeouts_total {}",
            self.open.load(Ordering::Relaxed),
            self.cap.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.header_timeouts.load(Ordering::Relaxed),
        );
    }
}

/// File descriptors kept free of connections: the database, models, outgoing webhooks.
const FD_RESERVE: u64 = 256;

/// `configured`, lowered so that connections alone cannot use up the open-file limit.
pub fn effective_cap(configured: usize) -> usize {
    let mut cap = configured;
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0
            && lim.rlim_cur != libc::RLIM_INFINITY
        {
            // `rlim_t` is not u64 on every platform.
            #[allow(clippy::unnecessary_cast)]
            let soft = lim.rlim_cur as u64;
            let room = soft.saturating_sub(FD_RESERVE).max(16);
            if (cap as u64) > room {
                tracing::warn!(
                    configured,
                    fd_limit = soft,
                    "server.max_connections lowered to {room} to fit the open-file limit (raise it with ulimit -n)"
                );
                cap = room as usize;
            }
        }
    }
    cap
}

/// Accept errors that concern one connection only (the listener itself is fine).
fn per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets every
/// connection finish its request in flight (idle ones close at once) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerSection,
    stats: Arc<ConnStats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cap = effective_cap(limits.max_connections);
    stats.cap.store(cap, Ordering::Relaxed);
    let permits = Arc::new(Semaphore::new(cap));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (tcp, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) if per_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors or similar: wait rather than spin.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            drop(tcp);
            continue;
        };
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        // Replies are written at once; disabling Nagle avoids delayed-ACK stalls on keep-alive
        // connections.
        let _ = tcp.set_nodelay(true);
        let io = Counted {
            tcp,
            _slot: Slot::new(permit, stats.clone()),
        };
        let conn = builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(app.clone()))
            .with_upgrades();
        let stats = stats.clone();
        let mut stop = stop_rx.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() {
                    stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Each connection task holds a sender until its HTTP exchange ends (an upgraded WebSocket
    // lives on in its own task; the phone path drains those before `shutdown` resolves).
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(())
}

/// A connection's place under the cap, held by its socket: an upgraded WebSocket keeps it
/// until the socket is dropped.
struct Slot {
    _permit: OwnedSemaphorePermit,
    stats: Arc<ConnStats>,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, stats: Arc<ConnStats>) -> Slot {
        stats.open.fetch_add(1, Ordering::Relaxed);
        Slot {
            _permit: permit,
            stats,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream with its [`Slot`].
struct Counted {
    tcp: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
