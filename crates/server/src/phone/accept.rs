//! Accepting a platform WebSocket: the call slot, waiting for the start message, building the
//! call (connector, overrides) and handing it to the [`Driver`] loop.

use super::driver::Driver;
use super::setup::Phone;
use super::start::{self, transport_name};
use axum::extract::ws::{Message, WebSocket};
use sb_call::CallSession;
use sb_speech::vad::EarshotVad;
use sb_transport::{server_codec, Codec, Inbound, Platform, StartInfo, WsMessage};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{sleep_until, Duration, Instant};
/// Marks the call live for [`Phone::drain`] until dropped.
struct Live(Arc<Phone>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.call_done();
    }
}

/// The platform's WebSocket as a call sees it: an axum [`WebSocket`] in production; a test may
/// run a call over an in-memory pair (e.g. on a paused tokio clock, where real sockets would
/// let time jump while bytes are in flight).
pub trait MediaSocket: std::marker::Send {
    /// The next message; `None` once the socket is closed.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Message, axum::Error>>> + Send;
    fn send(&mut self, msg: Message) -> impl Future<Output = Result<(), axum::Error>> + Send;
}

impl MediaSocket for WebSocket {
    async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        WebSocket::recv(self).await
    }

    async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        WebSocket::send(self, msg).await
    }
}

/// Runs one platform WebSocket to the end. Never panics on platform input.
pub async fn run_call(
    mut ws: impl MediaSocket,
    platform: Platform,
    phone: Arc<Phone>,
    _permit: OwnedSemaphorePermit,
) {
    phone.call_began();
    let _live = Live(phone.clone());
    let t0 = Instant::now();
    let mut codec = match server_codec(platform) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot create codec");
            return;
        }
    };
    let Some(info) = wait_start(&mut ws, &mut *codec, &phone, platform).await else {
        let _ = ws.send(Message::Close(None)).await;
        return;
    };
    let setup = match start::setup(&phone, platform, &info).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(call = %info.call_id, error = %e, "call refused");
            let _ = ws.send(Message::Close(None)).await;
            return;
        }
    };
    let session = CallSession::new(
        setup.connector.engine.clone(),
        Box::new(EarshotVad::new()),
        setup.cfg.clone(),
        &setup.info.call_id,
    );
    let mut session = match session {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(call = %setup.info.call_id, error = %e, "bad call configuration");
            let _ = ws.send(Message::Close(None)).await;
            return;
        }
    };
    if let Some(s) = &phone.sentiment {
        session = session.with_sentiment(s.clone());
    }
    tracing::info!(call = %setup.info.call_id, transport = transport_name(platform), connector = %setup.connector.name, "call started");
    let mut driver = Driver::new(phone.clone(), platform, setup, session, codec, t0);
    driver.run(&mut ws).await;
    // Handoff (a REST redirect of the live call) happens before our side closes the stream.
    driver.finish().await;
    let _ = ws.send(Message::Close(None)).await;
}

/// Reads until the start message. `None`: socket closed, too many bad messages, or timeout.
async fn wait_start(
    ws: &mut impl MediaSocket,
    codec: &mut (dyn Codec + std::marker::Send),
    phone: &Phone,
    platform: Platform,
) -> Option<StartInfo> {
    let limits = &phone.file.phone;
    let deadline = Instant::now() + Duration::from_millis(limits.start_timeout_ms);
    let mut bad = 0u32;
    loop {
        let msg = tokio::select! {
            m = ws.recv() => m,
            _ = sleep_until(deadline) => {
                tracing::warn!(transport = transport_name(platform), "no start message in time");
                return None;
            }
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            _ => return None,
        };
        let Some(wire) = to_wire(msg, limits.max_message_bytes) else {
            continue;
        };
        match wire.and_then(|w| codec.decode(w).map_err(|e| e.to_string())) {
            Ok(events) => {
                for ev in events {
                    match ev {
                        Inbound::Start(info) => return Some(info),
                        Inbound::Stop => return None,
                        _ => {}
                    }
                }
            }
            Err(e) => {
                bad += 1;
                phone
                    .metrics
                    .bad_messages
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(error = %e, "bad message before start");
                if bad > limits.max_bad_messages {
                    tracing::warn!("too many bad messages before start");
                    return None;
                }
            }
        }
    }
}

/// A WebSocket message as codec input: `None` for control frames, `Err` for oversized ones.
pub(crate) fn to_wire(msg: Message, max: usize) -> Option<Result<WsMessage, String>> {
    let w = match msg {
        Message::Text(t) => WsMessage::Text(t.to_string()),
        Message::Binary(b) => WsMessage::Binary(b.to_vec()),
        _ => return None,
    };
    let len = match &w {
        WsMessage::Text(t) => t.len(),
        WsMessage::Binary(b) => b.len(),
    };
    Some(if len > max {
        Err(format!("message of {len} bytes exceeds {max}"))
    } else {
        Ok(w)
    })
}

pub(crate) fn to_ws(m: WsMessage) -> Message {
    match m {
        WsMessage::Text(t) => Message::Text(t.into()),
        WsMessage::Binary(b) => Message::Binary(b.into()),
    }
}
