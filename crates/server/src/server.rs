//! The server as a library function: `run(listener, state, shutdown)`.

use crate::state::AppState;
use axum::serve::ListenerExt;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves the API on `listener` until `shutdown` resolves, then drains in-flight requests, stops the
/// expiry sweeper and flushes and closes the store. The state's store cannot be used afterwards.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.sweep_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => { sweep(&state).await; }
                    _ = stop_rx.changed() => break,
                }
            }
        })
    };
    let app = crate::api::router(state.clone());
    // Replies are written at once; disabling Nagle avoids delayed-ACK stalls on keep-alive connections.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = sweeper.await;
    state.store.close().await;
    served
}

/// Deletes expired sessions from the store and the cache, and expired paused calls from the
/// store. Returns how many session rows were deleted.
pub async fn sweep(state: &AppState) -> usize {
    let now = state.clock.now();
    let evicted = state.sessions.evict_expired(now);
    match state.store.sweep_paused(now.timestamp_millis()).await {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "expired paused calls swept"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "paused call sweep failed"),
    }
    match state.store.sweep(now).await {
        Ok(n) => {
            if n > 0 || evicted > 0 {
                tracing::info!(deleted = n, evicted, "expired sessions swept");
            }
            n
        }
        Err(e) => {
            tracing::error!(error = %e, "session sweep failed");
            0
        }
    }
}
