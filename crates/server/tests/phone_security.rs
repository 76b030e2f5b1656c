//! The phone path's front door with fake speech engines: Twilio's signature on the media
//! upgrade, Vonage's signed webhooks, sockets that never start, duplicate call ids and a
//! message far over the size cap.

mod phone_support;

use futures_util::StreamExt;
use phone_support::{until_mark, PhoneServer, RawCaller};
use sb_transport::vonage_sig::{query_payload, sign_vonage_webhook};
use sb_transport::{caller_codec, twilio_signature, Inbound, Platform};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

const WAIT: Duration = Duration::from_secs(10);

fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

/// Connects a media socket with extra upgrade headers; the HTTP status when refused.
async fn connect_with(
    url: &str,
    headers: &[(&str, &str)],
    platform: Platform,
) -> Result<RawCaller, u16> {
    let mut req = url.into_client_request().expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(RawCaller {
            platform,
            ws,
            codec: caller_codec(platform).expect("codec"),
        }),
        Err(tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The next close frame from the server (skipping data), with a deadline.
async fn close_of(c: &mut RawCaller) -> Option<(CloseCode, String)> {
    timeout(WAIT, async {
        while let Some(m) = c.ws.next().await {
            match m {
                Ok(Message::Close(f)) => return f.map(|f| (f.code, f.reason.to_string())),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("no close in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_twilio_media_upgrade_needs_a_valid_signature() {
    let s = PhoneServer::fake(
        "[connectors.sales.twilio]\naccount_sid = \"ACx\"\nauth_token = \"s3cret\"\n",
    )
    .await;
    let url = s.ws_url(Platform::Twilio);
    // Twilio signs the stream URL our TwiML gave it (wss://…, behind TLS termination).
    let public = format!("wss://{}/twilio/media", s.host);
    assert_eq!(
        connect_with(&url, &[], Platform::Twilio).await.err(),
        Some(403)
    );
    let bad = twilio_signature("wrong", &public, &[]);
    assert_eq!(
        connect_with(&url, &[("x-twilio-signature", &bad)], Platform::Twilio)
            .await
            .err(),
        Some(403)
    );
    let good = twilio_signature("s3cret", &public, &[]);
    let mut c = connect_with(&url, &[("x-twilio-signature", &good)], Platform::Twilio)
        .await
        .expect("a signed upgrade is accepted");
    c.start("CAsigned", &[("connector", "sales")]).await;
    let (mark, audio) = until_mark(&mut c).await;
    assert_eq!((mark.as_str(), audio), ("turn-0-end", true));
    // Refused upgrades took no call slot and no pending place.
    assert_eq!(
        sample(&s.metrics().await, "switchboard_calls_refused_total"),
        0
    );
    drop(c);
    s.stop().await;
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage_webhooks_need_a_valid_signature() {
    let s =
        PhoneServer::fake("[connectors.default.vonage]\nsignature_secret = \"v-secret\"\n").await;
    let query = [
        ("uuid", "u-1"),
        ("conversation_uuid", "CON-1"),
        ("from", "447700900000"),
    ];
    let qs = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let answer = format!("{}/vonage/answer?{qs}", s.base);
    let signed = sign_vonage_webhook("v-secret", query_payload(&query).as_bytes(), now());
    let get = |auth: Option<String>, url: String| {
        let mut r = s.http.get(url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    assert_eq!(
        get(None, answer.clone()).await.unwrap().status().as_u16(),
        403
    );
    let wrong = sign_vonage_webhook("other", query_payload(&query).as_bytes(), now());
    assert_eq!(
        get(Some(wrong), answer.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // The token of one request does not sign another (payload_hash).
    let tampered = answer.replace("447700900000", "447700900009");
    assert_eq!(
        get(Some(signed.clone()), tampered)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // A token from an hour ago is refused (replay).
    let old = sign_vonage_webhook("v-secret", query_payload(&query).as_bytes(), now() - 3_600);
    assert_eq!(
        get(Some(old), answer.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let r = get(Some(signed), answer).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ncco: Value = r.json().await.unwrap();
    assert_eq!(ncco[1]["action"], "connect", "{ncco}");

    let event = format!("{}/vonage/event", s.base);
    let body = json!({"status": "answered", "uuid": "u-1"}).to_string();
    let post = |auth: Option<String>, body: String| {
        let mut r = s
            .http
            .post(&event)
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    assert_eq!(
        post(None, body.clone()).await.unwrap().status().as_u16(),
        403
    );
    let signed = sign_vonage_webhook("v-secret", body.as_bytes(), now());
    let other = json!({"status": "disconnected", "uuid": "u-1"}).to_string();
    assert_eq!(
        post(Some(signed.clone()), other)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post(Some(signed), body).await.unwrap().status().as_u16(),
        200
    );
    s.stop().await;
}

/// Sockets that never send a start take no call slot: with `max_calls = 1`, a real call starts
/// beside three silent sockets (today's main refused the second socket with 503). They wait
/// under their own limit, which refuses the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_start_do_not_take_call_slots() {
    let s = PhoneServer::fake(
        "[phone]\nmax_calls = 1\nmax_pending_streams = 4\nstart_timeout_ms = 60000\n",
    )
    .await;
    let url = s.ws_url(Platform::Twilio);
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(RawCaller::connect(&url, Platform::Twilio).await);
    }
    let mut real = RawCaller::connect(&url, Platform::Twilio).await;
    real.start("CAreal", &[]).await;
    let (mark, audio) = until_mark(&mut real).await;
    assert_eq!((mark.as_str(), audio), ("turn-0-end", true));
    // While the call is live, a new socket is refused as a call (max_calls = 1).
    let refused = connect_with(&s.ws_url(Platform::Vonage), &[], Platform::Vonage).await;
    assert_eq!(refused.err(), Some(503));
    assert_eq!(
        sample(&s.metrics().await, "switchboard_calls_refused_total"),
        1
    );
    real.send(&Inbound::Stop).await;
    timeout(WAIT, real.until_closed())
        .await
        .expect("call ended");
    timeout(WAIT, async {
        while sample(&s.metrics().await, "switchboard_calls_live") > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the call's slot was released");
    // The real call left the pending pool at its start: one more silent socket fits, then the
    // pool is full.
    silent.push(RawCaller::connect(&url, Platform::Twilio).await);
    assert_eq!(
        connect_with(&url, &[], Platform::Twilio).await.err(),
        Some(503)
    );
    let m = s.metrics().await;
    assert_eq!(
        sample(&m, "switchboard_streams_pending_refused_total"),
        1,
        "{m}"
    );
    assert_eq!(sample(&m, "switchboard_calls_refused_total"), 1, "{m}");
    drop(silent);
    s.stop().await;
}

/// A socket that sends no start is closed at `start_timeout_ms` (1008), on the virtual clock.
#[tokio::test(start_paused = true)]
async fn a_socket_without_start_is_closed_at_the_start_timeout() {
    let s = PhoneServer::fake("[phone]\nstart_timeout_ms = 3000\n").await;
    let mut c = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    let t0 = tokio::time::Instant::now();
    let (code, reason) = timeout(Duration::from_secs(300), async {
        while let Some(m) = c.ws.next().await {
            if let Ok(Message::Close(Some(f))) = m {
                return (f.code, f.reason.to_string());
            }
        }
        panic!("closed without a close frame")
    })
    .await
    .expect("the socket stayed open");
    let took = t0.elapsed();
    assert_eq!(code, CloseCode::Policy, "{reason}");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(
        sample(
            &s.metrics().await,
            "switchboard_streams_start_timeouts_total"
        ),
        1
    );
    s.stop().await;
}

/// A second start with a live call's CallSid is refused (1008) and counted; the live call's
/// record is untouched. After the call, a replay of its stream is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_call_id_cannot_rewrite_the_record() {
    let s = PhoneServer::fake("").await;
    let url = s.ws_url(Platform::Twilio);
    let mut first = RawCaller::connect(&url, Platform::Twilio).await;
    first.start("CAdup", &[("who", "first")]).await;
    let (mark, _) = until_mark(&mut first).await;
    let mut dup = RawCaller::connect(&url, Platform::Twilio).await;
    dup.start("CAdup", &[("who", "second")]).await;
    let (code, _) = close_of(&mut dup).await.expect("a close frame");
    assert_eq!(code, CloseCode::Policy);
    // The first call goes on.
    first.send(&Inbound::Mark { name: mark }).await;
    for d in ['1', '#'] {
        first
            .send(&Inbound::Dtmf {
                digit: d,
                duration_ms: Some(100),
            })
            .await;
    }
    let (m, _) = until_mark(&mut first).await;
    assert_eq!(m, "turn-1-end");
    first.send(&Inbound::Stop).await;
    timeout(WAIT, first.until_closed())
        .await
        .expect("call ended");
    // Its record: its own stream and parameters, its own end.
    let call = timeout(WAIT, async {
        loop {
            let (st, call) = s.get_json("/v1/calls/CAdup").await;
            if st == 200 && call["endedAt"].is_string() {
                return call;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the call record");
    assert_eq!(call["parameters"]["who"], "first", "{call}");
    assert_eq!(call["hangup"], "caller", "{call}");
    assert_eq!(call["turns"].as_array().map(Vec::len), Some(2), "{call}");
    // A replay of the ended call's stream is refused as well.
    let mut replay = RawCaller::connect(&url, Platform::Twilio).await;
    replay.start("CAdup", &[]).await;
    let (code, _) = close_of(&mut replay).await.expect("a close frame");
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(
        sample(&s.metrics().await, "switchboard_calls_duplicate_total"),
        2
    );
    let (_, again) = s.get_json("/v1/calls/CAdup").await;
    assert_eq!(again, call);
    s.stop().await;
}

/// A 1 MB text frame (far over the socket's cap): the server closes with 1009, counts a bad
/// message and records that it ended the call (not the caller).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_text_frame_is_closed_with_1009() {
    let s = PhoneServer::fake("").await;
    let before = sample(&s.metrics().await, "switchboard_bad_messages_total");
    let mut c = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start("CAhuge1mb", &[]).await;
    until_mark(&mut c).await;
    let _ = c.send_raw(Message::Text("x".repeat(1 << 20).into())).await;
    let (code, reason) = close_of(&mut c).await.expect("a close frame");
    assert_eq!(code, CloseCode::Size, "{reason}");
    let after = sample(&s.metrics().await, "switchboard_bad_messages_total");
    assert_eq!(after, before + 1);
    let call = timeout(WAIT, async {
        loop {
            let (st, call) = s.get_json("/v1/calls/CAhuge1mb").await;
            if st == 200 && call["endedAt"].is_string() {
                return call;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the call record");
    assert_eq!(call["status"], "failed", "{call}");
    assert_eq!(call["hangup"], "failed", "{call}");
    assert!(
        call["error"].as_str().unwrap_or("").contains("too big"),
        "{call}"
    );
    s.stop().await;
}
