//! Server-sent event streams over a hub broadcast: a `ready` event first (the subscription is in
//! place), then one `message` per event, `resync` when the subscriber fell behind.

use super::hub::Event;
use axum::response::sse::{self, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

pub type OnLag = Box<dyn Fn(u64) + Send + Sync>;
/// Checked before each event; the stream ends when it says no (e.g. the session expired).
pub type Alive = Box<dyn Fn() -> bool + Send + Sync>;

struct St {
    rx: broadcast::Receiver<Event>,
    closing: watch::Receiver<bool>,
    on_lag: Option<OnLag>,
    alive: Option<Alive>,
    started: bool,
}

/// Ends when `closing` turns true (server shutdown), so graceful shutdown is not held up.
pub fn stream(
    rx: broadcast::Receiver<Event>,
    closing: watch::Receiver<bool>,
    on_lag: Option<OnLag>,
    alive: Option<Alive>,
) -> Sse<impl Stream<Item = Result<sse::Event, Infallible>>> {
    let st = St {
        rx,
        closing,
        on_lag,
        alive,
        started: false,
    };
    let s = futures_util::stream::unfold(st, |mut st| async move {
        if !st.started {
            st.started = true;
            return Some((Ok(sse::Event::default().event("ready").data("{}")), st));
        }
        let got = tokio::select! {
            r = st.rx.recv() => r,
            _ = st.closing.wait_for(|c| *c) => return None,
        };
        let ev = match got {
            Ok(ev) => sse::Event::default().data(&*ev),
            Err(RecvError::Lagged(n)) => {
                if let Some(f) = &st.on_lag {
                    f(n);
                }
                sse::Event::default().event("resync").data("{}")
            }
            Err(RecvError::Closed) => return None,
        };
        if st.alive.as_ref().is_some_and(|a| !a()) {
            return None;
        }
        Some((Ok(ev), st))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
