//! The phone path's configurable limits against the real server with fake speech engines:
//! message rate, message size, concurrent calls, a socket dying mid-sentence and the longest
//! call. A misbehaving call ends only itself, never a concurrent one, and nothing panics.

mod phone_support;

use futures_util::StreamExt;
use phone_support::{until_mark, PhoneServer, RawCaller};
use sb_transport::{Inbound, Outbound, Platform, WsMessage};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{self, Message};

/// Longest wait for anything the server should do promptly.
const WAIT: Duration = Duration::from_secs(10);

/// Panics on server threads (any thread that is not a test's own thread).
static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);

const TESTS: [&str; 6] = [
    "flood_fails_only_the_flooding_call",
    "oversized_message_is_counted_and_the_call_continues",
    "huge_message_ends_only_its_own_call",
    "calls_beyond_max_calls_are_refused_with_503",
    "socket_dropped_mid_greeting_ends_the_call_cleanly",
    "max_call_duration_hangs_up",
];

fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_string();
            if !TESTS.iter().any(|t| name.ends_with(t)) {
                SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

fn assert_no_server_panic() {
    assert_eq!(
        SERVER_PANICS.load(Ordering::SeqCst),
        0,
        "a server thread panicked"
    );
}

async fn metrics(s: &PhoneServer) -> String {
    s.http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// The value of the sample `series` (name with labels) in `text`.
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

/// Asks `/metrics` until no call is active (the server ends a call whose socket vanished
/// without telling anyone, so there is nothing else to wait on).
async fn until_no_active_calls(s: &PhoneServer) -> String {
    timeout(WAIT, async {
        loop {
            let m = metrics(s).await;
            if sample(&m, "switchboard_calls_active{transport=\"twilio\"}") == 0
                && sample(&m, "switchboard_calls_active{transport=\"vonage\"}") == 0
            {
                return m;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("calls still active")
}

/// Echoes `mark`, keys `digit` + `#` and waits for the reply's mark, which must follow audio.
async fn dtmf_turn(c: &mut RawCaller, mark: String, digit: char) -> String {
    c.send(&Inbound::Mark { name: mark }).await;
    for d in [digit, '#'] {
        c.send(&Inbound::Dtmf {
            digit: d,
            duration_ms: Some(100),
        })
        .await;
    }
    let (m, audio) = until_mark(c).await;
    assert!(audio, "reply {m} without audio");
    m
}

/// Reads until the socket is gone: the server's close frame and then the end of the TCP stream
/// (the server has dropped its side, and with it the call's slot).
async fn until_eof(c: &mut RawCaller) -> Vec<Outbound> {
    timeout(WAIT, async {
        let mut all = c.until_closed().await;
        while let Some(Ok(m)) = c.ws.next().await {
            let w = match m {
                Message::Text(t) => WsMessage::Text(t.to_string()),
                Message::Binary(b) => WsMessage::Binary(b.to_vec()),
                _ => continue,
            };
            all.extend(c.codec.decode(w).unwrap_or_default());
        }
        all
    })
    .await
    .expect("socket not closed in time")
}

/// The caller hangs up (Twilio: `stop`; Vonage: a close frame) and waits for the end.
async fn hang_up(c: &mut RawCaller) {
    if c.platform == Platform::Twilio {
        c.send(&Inbound::Stop).await;
    } else {
        let _ = c.ws.close(None).await;
    }
    until_eof(c).await;
}

/// One valid 20 ms media message of silence (the next in sequence).
fn media(c: &mut RawCaller) -> Vec<Message> {
    c.codec
        .encode(&Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 0,
        })
        .expect("encode")
        .into_iter()
        .map(|m| match m {
            WsMessage::Text(t) => Message::Text(t.into()),
            WsMessage::Binary(b) => Message::Binary(b.into()),
        })
        .collect()
}

async fn call_json(s: &PhoneServer, id: &str) -> serde_json::Value {
    let (status, call) = s.get_json(&format!("/v1/calls/{id}")).await;
    assert_eq!(status, 200, "{call}");
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_fails_only_the_flooding_call() {
    watch_panics();
    let s = PhoneServer::fake("[phone]\nmax_messages_per_sec = 60\nmax_bad_messages = 5\n").await;
    for (platform, flood_id, calm_id) in [
        (Platform::Twilio, "CAflood", "CAcalm"),
        (Platform::Vonage, "vflood", "vcalm"),
    ] {
        let mut calm = RawCaller::connect(&s.ws_url(platform), platform).await;
        calm.start(calm_id, &[]).await;
        let mut flood = RawCaller::connect(&s.ws_url(platform), platform).await;
        flood.start(flood_id, &[]).await;
        let (calm_mark, audio) = until_mark(&mut calm).await;
        assert_eq!((calm_mark.as_str(), audio), ("turn-0-end", true));

        // As fast as it can: far more than 60 messages in a second.
        let mut sent = 0;
        'flood: for _ in 0..500 {
            for m in media(&mut flood) {
                if !flood.send_raw(m).await {
                    break 'flood;
                }
                sent += 1;
            }
        }
        assert!(sent > 66, "only {sent} messages sent");
        until_eof(&mut flood).await;

        // The other call is unaffected: a DTMF turn, then a normal hang-up.
        let m = dtmf_turn(&mut calm, calm_mark, '1').await;
        assert_eq!(m, "turn-1-end");
        calm.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut calm).await;

        let call = call_json(&s, flood_id).await;
        assert_eq!(call["status"], "failed", "{call}");
        assert_eq!(call["hangup"], "failed", "{call}");
        assert_eq!(
            call["error"], "too many bad platform messages (last: message rate limit exceeded)",
            "{call}"
        );
        let call = call_json(&s, calm_id).await;
        assert_eq!(call["status"], "completed", "{call}");
        assert_eq!(call["hangup"], "caller", "{call}");
        assert!(call["error"].is_null(), "{call}");
        let turns = call["turns"].as_array().expect("turns");
        assert_eq!(turns.len(), 2, "{call}");
        assert_eq!(turns[1]["inputKind"], "dtmf");
        assert_eq!(turns[1]["callerText"], "1");
    }
    let m = until_no_active_calls(&s).await;
    for (t, o) in [
        ("twilio", "failed"),
        ("twilio", "completed"),
        ("vonage", "failed"),
        ("vonage", "completed"),
    ] {
        let series = format!("switchboard_calls_total{{transport=\"{t}\",outcome=\"{o}\"}}");
        assert_eq!(sample(&m, &series), 1, "{series}");
    }
    // Exactly max_bad_messages + 1 over-rate messages per flood were counted before the abort.
    assert_eq!(sample(&m, "switchboard_bad_messages_total"), 12);
    s.stop().await;
    assert_no_server_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_is_counted_and_the_call_continues() {
    watch_panics();
    let s = PhoneServer::fake("[phone]\nmax_message_bytes = 1024\nmax_bad_messages = 5\n").await;
    for (platform, id) in [(Platform::Twilio, "CAbig"), (Platform::Vonage, "vbig")] {
        let before = sample(&metrics(&s).await, "switchboard_bad_messages_total");
        let mut c = RawCaller::connect(&s.ws_url(platform), platform).await;
        c.start(id, &[]).await;
        let (mark, _) = until_mark(&mut c).await;
        let big = match platform {
            // Valid JSON of a message type the server would otherwise ignore.
            Platform::Twilio => Message::Text(
                format!(
                    r#"{{"event":"mark","streamSid":"MZ{id}","mark":{{"name":"{}"}}}}"#,
                    "x".repeat(2_000)
                )
                .into(),
            ),
            // 2 000 bytes of silence: a valid but oversized L16 frame.
            Platform::Vonage => Message::Binary(vec![0u8; 2_000].into()),
        };
        assert!(c.send_raw(big).await);
        let m = dtmf_turn(&mut c, mark, '4').await;
        assert_eq!(m, "turn-1-end");
        let after = sample(&metrics(&s).await, "switchboard_bad_messages_total");
        assert_eq!(after, before + 1);
        c.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut c).await;
        let call = call_json(&s, id).await;
        assert_eq!(call["status"], "completed", "{call}");
        assert_eq!(call["turns"].as_array().map(Vec::len), Some(2), "{call}");
    }
    s.stop().await;
    assert_no_server_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_message_ends_only_its_own_call() {
    watch_panics();
    let s = PhoneServer::fake("[phone]\nmax_message_bytes = 1024\n").await;
    for (platform, big_id, calm_id) in [
        (Platform::Twilio, "CAhuge", "CAquiet"),
        (Platform::Vonage, "vhuge", "vquiet"),
    ] {
        let mut calm = RawCaller::connect(&s.ws_url(platform), platform).await;
        calm.start(calm_id, &[]).await;
        let mut c = RawCaller::connect(&s.ws_url(platform), platform).await;
        c.start(big_id, &[]).await;
        until_mark(&mut c).await;
        let (mark, _) = until_mark(&mut calm).await;
        // Far beyond any cap: the server closes this socket (close frame, then EOF).
        assert!(
            c.send_raw(Message::Binary(vec![0u8; 256 * 1024].into()))
                .await
        );
        until_eof(&mut c).await;
        // The other call goes on.
        let m = dtmf_turn(&mut calm, mark, '8').await;
        assert_eq!(m, "turn-1-end");
        calm.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut calm).await;
        let call = call_json(&s, big_id).await;
        assert!(call["endedAt"].is_string(), "{call}");
        let call = call_json(&s, calm_id).await;
        assert_eq!(call["status"], "completed", "{call}");
        assert_eq!(call["turns"].as_array().map(Vec::len), Some(2), "{call}");
    }
    until_no_active_calls(&s).await;
    s.stop().await;
    assert_no_server_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_max_calls_are_refused_with_503() {
    watch_panics();
    let s = PhoneServer::fake("[phone]\nmax_calls = 1\n").await;
    let mut first = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    first.start("CAfirst", &[]).await;
    let (mark, _) = until_mark(&mut first).await;
    // A second media socket (either platform) is refused at the upgrade.
    for platform in [Platform::Twilio, Platform::Vonage] {
        match tokio_tungstenite::connect_async(s.ws_url(platform)).await {
            Err(tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 503);
                let body = resp.body().as_deref().unwrap_or_default();
                assert_eq!(String::from_utf8_lossy(body), "too many calls\n");
            }
            Err(e) => panic!("expected HTTP 503, got {e}"),
            Ok(_) => panic!("a call beyond max_calls was accepted"),
        }
    }
    assert_eq!(
        sample(&metrics(&s).await, "switchboard_calls_refused_total"),
        2
    );
    // The refusals didn't disturb the live call.
    let m = dtmf_turn(&mut first, mark, '2').await;
    first.send(&Inbound::Mark { name: m }).await;
    hang_up(&mut first).await;
    // Its slot is free again.
    let mut next = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    next.start("vnext", &[]).await;
    let (mark, audio) = until_mark(&mut next).await;
    assert_eq!((mark.as_str(), audio), ("turn-0-end", true));
    let m = dtmf_turn(&mut next, mark, '3').await;
    next.send(&Inbound::Mark { name: m }).await;
    hang_up(&mut next).await;
    for id in ["CAfirst", "vnext"] {
        let call = call_json(&s, id).await;
        assert_eq!(call["status"], "completed", "{call}");
        assert_eq!(call["turns"].as_array().map(Vec::len), Some(2), "{call}");
    }
    let m = metrics(&s).await;
    assert_eq!(sample(&m, "switchboard_calls_refused_total"), 2);
    s.stop().await;
    assert_no_server_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_dropped_mid_greeting_ends_the_call_cleanly() {
    watch_panics();
    // The least lead: the greeting goes out paced in real time, so it is still being sent.
    let s = PhoneServer::fake("[phone]\nplayout_lead_ms = 100\n").await;
    for (platform, id, other_id) in [
        (Platform::Twilio, "CAdrop", "CAafter"),
        (Platform::Vonage, "vdrop", "vafter"),
    ] {
        let mut other = RawCaller::connect(&s.ws_url(platform), platform).await;
        other.start(&format!("{other_id}-0"), &[]).await;
        let mut c = RawCaller::connect(&s.ws_url(platform), platform).await;
        c.start(id, &[]).await;
        // The first audio of the greeting; with a 100 ms lead the rest is still to be paced out.
        let outs = timeout(WAIT, c.next_outputs())
            .await
            .expect("no greeting")
            .expect("closed");
        assert!(
            outs.iter().any(|o| matches!(o, Outbound::Audio(_))),
            "{outs:?}"
        );
        // Gone: no close frame, no stop.
        drop(c);
        // The concurrent call goes on.
        let (mark, _) = until_mark(&mut other).await;
        let m = dtmf_turn(&mut other, mark, '5').await;
        other.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut other).await;

        until_no_active_calls(&s).await;
        let call = call_json(&s, id).await;
        assert_eq!(call["status"], "completed", "{call}");
        assert_eq!(call["hangup"], "caller", "{call}");
        assert!(call["error"].is_null(), "{call}");
        assert!(call["endedAt"].is_string(), "{call}");

        // A new call works.
        let mut next = RawCaller::connect(&s.ws_url(platform), platform).await;
        next.start(other_id, &[]).await;
        let (mark, audio) = until_mark(&mut next).await;
        assert_eq!((mark.as_str(), audio), ("turn-0-end", true));
        let m = dtmf_turn(&mut next, mark, '6').await;
        next.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut next).await;
        let call = call_json(&s, other_id).await;
        assert_eq!(call["status"], "completed", "{call}");
    }
    let m = until_no_active_calls(&s).await;
    assert_eq!(
        sample(
            &m,
            "switchboard_calls_total{transport=\"twilio\",outcome=\"completed\"}"
        ),
        3
    );
    assert_eq!(
        sample(
            &m,
            "switchboard_calls_total{transport=\"vonage\",outcome=\"completed\"}"
        ),
        3
    );
    assert!(!m.contains("outcome=\"failed\""), "{m}");
    s.stop().await;
    assert_no_server_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_call_duration_hangs_up() {
    watch_panics();
    let s = PhoneServer::fake("[connectors.default]\nmax_call_ms = 1500\n").await;
    let mut c = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    let t0 = Instant::now();
    c.start("CAlong", &[]).await;
    let (mark, _) = until_mark(&mut c).await;
    c.send(&Inbound::Mark { name: mark }).await;
    // The caller stays on the line, silent; the server ends the call by itself.
    until_eof(&mut c).await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_millis(5_000),
        "{took:?}"
    );
    let call = call_json(&s, "CAlong").await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["hangup"], "max-duration", "{call}");
    assert!(call["error"].is_null(), "{call}");
    s.stop().await;
    assert_no_server_panic();
}
