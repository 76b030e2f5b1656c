//! The server as a library function: `run(listener, state, shutdown)`.

use crate::settings::SettingsError;
use crate::state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves the API on `listener` until `shutdown` resolves, then drains in-flight requests, stops the
/// expiry sweeper and flushes and closes the store. The state's store cannot be used afterwards.
/// Refuses (`InvalidInput`) to serve a non-loopback address without API keys, unless the
/// configuration says `insecure_open`.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    check_exposure(&state, listener.local_addr()?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
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
    let web_state = state.clone();
    let shutdown = async move {
        shutdown.await;
        // Open server-sent event streams end, so the graceful shutdown is not held by them.
        web_state.web.close();
    };
    let served = crate::listen::serve(
        listener,
        app,
        &state.config.server,
        state.conns.clone(),
        shutdown,
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = sweeper.await;
    state.store.close().await;
    served
}

/// Keys are required unless the server is only reachable from this machine (or the operator
/// said `auth.insecure_open`).
pub fn check_exposure(state: &AppState, addr: SocketAddr) -> Result<(), SettingsError> {
    if state.guard.has_keys()
        || state.config.insecure_open
        || addr.ip().to_canonical().is_loopback()
    {
        return Ok(());
    }
    Err(SettingsError::OpenOnNetwork(addr))
}

/// Deletes expired sessions from the store and the cache, and expired paused calls from the
/// store. Returns how many session rows were deleted.
pub async fn sweep(state: &AppState) -> usize {
    let now = state.clock.now();
    let evicted = state.sessions.evict_expired(now);
    state.web.sweep(now, state.config.session_ttl).await;
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
