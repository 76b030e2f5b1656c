//! Accepting a platform WebSocket: waiting for the start message (under the pending-socket
//! limit), then the call slot and the call id ([`super::admission`]), building the call
//! (connector, overrides) and handing it to the [`Driver`] loop.

use super::driver::Driver;
use super::setup::Phone;
use super::start::{self, transport_name};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
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

/// WebSocket close codes (RFC 6455 §7.4.1).
pub(crate) mod close {
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

pub(crate) fn close_frame(code: u16, reason: &str) -> Option<CloseFrame> {
    Some(CloseFrame {
        code,
        reason: reason.into(),
    })
}

/// `Some(description)` when a socket error is a message over the socket's size cap (the
/// stream cannot be read past it; the call ends with close code 1009).
pub(crate) fn oversized(e: &axum::Error) -> Option<String> {
    let inner = std::error::Error::source(e)?;
    match inner.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(c) => Some(format!("message too big: {c}")),
        _ => None,
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

/// Runs one platform WebSocket to the end. Never panics on platform input. `pending` is the
/// socket's place among those waiting for their start message.
pub async fn run_call(
    mut ws: impl MediaSocket,
    platform: Platform,
    phone: Arc<Phone>,
    pending: OwnedSemaphorePermit,
) {
    let t0 = Instant::now();
    let mut codec = match server_codec(platform) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot create codec");
            return;
        }
    };
    let waited = wait_start(&mut ws, &mut *codec, &phone, platform).await;
    drop(pending);
    let mut info = match waited {
        Ok(info) => info,
        Err(close) => {
            let _ = ws.send(Message::Close(close)).await;
            return;
        }
    };
    // Vonage names no stream: give each its own id, so the turns of a call that comes back on
    // a new stream (a resume) are recorded beside the earlier ones, not over them.
    if info.stream_id.is_empty() {
        info.stream_id = format!("WS{}", uuid::Uuid::new_v4().simple());
    }
    // A call from here on: it needs a call slot and its own call id.
    let Ok(slot) = phone.slots.clone().try_acquire_owned() else {
        phone
            .metrics
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(call = %info.call_id, "call refused: too many calls");
        let _ = ws
            .send(Message::Close(close_frame(
                close::TRY_AGAIN_LATER,
                "too many calls",
            )))
            .await;
        return;
    };
    let claim = match super::admission::claim(&phone, &info).await {
        Ok(c) => c,
        Err(why) => {
            tracing::warn!(call = %info.call_id, "start refused: {why}");
            let _ = ws
                .send(Message::Close(close_frame(
                    close::POLICY,
                    "duplicate call id",
                )))
                .await;
            return;
        }
    };
    phone.call_began();
    let _live = Live(phone.clone());
    let setup = match start::setup(&phone, platform, &info).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(call = %info.call_id, error = %e, "call refused");
            let _ = ws.send(Message::Close(None)).await;
            return;
        }
    };
    let session = CallSession::new(
        setup.engine.clone(),
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
    let close = driver.close_frame.take();
    // Handoff (a REST redirect of the live call) happens before our side closes the stream.
    driver.finish().await;
    // The platform may start the call's next stream (a resume) as soon as this one closes: its
    // call id and slot are free before the close goes out.
    drop(claim);
    drop(slot);
    let _ = ws.send(Message::Close(close)).await;
}

/// Reads until the start message. `Err(close frame)`: socket closed, too many bad messages, a
/// message over the socket's cap, or no start in time.
async fn wait_start(
    ws: &mut impl MediaSocket,
    codec: &mut (dyn Codec + std::marker::Send),
    phone: &Phone,
    platform: Platform,
) -> Result<StartInfo, Option<CloseFrame>> {
    let limits = &phone.file.phone;
    let deadline = Instant::now() + Duration::from_millis(limits.start_timeout_ms);
    let mut bad = 0u32;
    let count_bad = || {
        phone
            .metrics
            .bad_messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
    loop {
        let msg = tokio::select! {
            m = ws.recv() => m,
            _ = sleep_until(deadline) => {
                phone.admission.start_timeouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(transport = transport_name(platform), "no start message in time");
                return Err(close_frame(close::POLICY, "no start message in time"));
            }
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                return Err(oversized(&e).map(|why| {
                    count_bad();
                    tracing::warn!(transport = transport_name(platform), "{why} before start");
                    CloseFrame {
                        code: close::TOO_BIG,
                        reason: "message too big".into(),
                    }
                }))
            }
            None => return Err(None),
        };
        let Some(wire) = to_wire(msg, limits.max_message_bytes) else {
            continue;
        };
        match wire.and_then(|w| codec.decode(w).map_err(|e| e.to_string())) {
            Ok(events) => {
                for ev in events {
                    match ev {
                        Inbound::Start(info) => return Ok(info),
                        Inbound::Stop => return Err(None),
                        _ => {}
                    }
                }
            }
            Err(e) => {
                bad += 1;
                count_bad();
                tracing::debug!(error = %e, "bad message before start");
                if bad > limits.max_bad_messages {
                    tracing::warn!("too many bad messages before start");
                    return Err(close_frame(close::POLICY, "too many bad messages"));
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
