//! Platform misbehaviour with fake speech engines: malformed frames, bad base64, missing start,
//! messages after stop — each skipped or ending only its own call, never a concurrent one.

mod phone_support;

use phone_support::{until_mark, PhoneServer, RawCaller};
use sb_transport::{Inbound, Platform};
use tokio_tungstenite::tungstenite::Message;

const TOML: &str = "[phone]\nmax_bad_messages = 5\nstart_timeout_ms = 300\n";

async fn garbage(c: &mut RawCaller, n: usize) {
    for i in 0..n {
        let m = match (c.platform, i % 3) {
            (Platform::Twilio, 0) => Message::Text("not json".into()),
            (Platform::Twilio, 1) => Message::Text(
                r#"{"event":"media","sequenceNumber":"9","streamSid":"MZa","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"!!!not-base64"}}"#.into(),
            ),
            (Platform::Twilio, _) => Message::Binary(vec![1, 2, 3].into()),
            (Platform::Vonage, 0) => Message::Text("{".into()),
            (Platform::Vonage, _) => Message::Binary(vec![0; 100].into()),
        };
        if !c.send_raw(m).await {
            return;
        }
    }
}

async fn hang_up(c: &mut RawCaller) {
    if c.platform == Platform::Twilio {
        c.send(&Inbound::Stop).await;
    } else {
        let _ = c.ws.close(None).await;
    }
    c.until_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_end_only_their_own_call() {
    let s = PhoneServer::fake(TOML).await;
    for platform in [Platform::Twilio, Platform::Vonage] {
        let (a_id, b_id) = match platform {
            Platform::Twilio => ("CAbad", "CAgood"),
            Platform::Vonage => ("vbad", "vgood"),
        };
        let mut a = RawCaller::connect(&s.ws_url(platform), platform).await;
        let mut b = RawCaller::connect(&s.ws_url(platform), platform).await;
        a.start(a_id, &[("customer", "Ann")]).await;
        b.start(b_id, &[]).await;
        let (mark_a, audio_a) = until_mark(&mut a).await;
        let (mark_b, audio_b) = until_mark(&mut b).await;
        assert_eq!((mark_a.as_str(), audio_a), ("turn-0-end", true));
        assert_eq!((mark_b.as_str(), audio_b), ("turn-0-end", true));
        // A few bad messages are skipped: A still answers.
        garbage(&mut a, 3).await;
        a.send(&Inbound::Mark { name: mark_a }).await;
        a.send(&Inbound::Dtmf {
            digit: '7',
            duration_ms: Some(100),
        })
        .await;
        a.send(&Inbound::Dtmf {
            digit: '#',
            duration_ms: Some(100),
        })
        .await;
        let (m, audio) = until_mark(&mut a).await;
        assert_eq!((m.as_str(), audio), ("turn-1-end", true));
        // Too many: A ends as failed.
        garbage(&mut a, 6).await;
        a.until_closed().await;
        // B is unaffected.
        b.send(&Inbound::Mark { name: mark_b }).await;
        b.send(&Inbound::Dtmf {
            digit: '1',
            duration_ms: Some(100),
        })
        .await;
        b.send(&Inbound::Dtmf {
            digit: '#',
            duration_ms: Some(100),
        })
        .await;
        let (m, audio) = until_mark(&mut b).await;
        assert_eq!((m.as_str(), audio), ("turn-1-end", true));
        b.send(&Inbound::Mark { name: m }).await;
        hang_up(&mut b).await;

        let (status, call) = s.get_json(&format!("/v1/calls/{a_id}")).await;
        assert_eq!(status, 200);
        assert_eq!(call["status"], "failed");
        let err = call["error"].as_str().unwrap_or_default();
        assert!(err.starts_with("too many bad platform messages"), "{err}");
        let id_param = match platform {
            Platform::Twilio => "CallSid",
            Platform::Vonage => "uuid",
        };
        assert_eq!(
            call["parameters"],
            serde_json::json!({"customer": "Ann", id_param: a_id})
        );
        assert_eq!(call["connector"], "default");
        let (_, call) = s.get_json(&format!("/v1/calls/{b_id}")).await;
        assert_eq!(call["status"], "completed");
        let turns = call["turns"].as_array().expect("turns");
        assert_eq!(turns.len(), 2, "{call}");
        assert_eq!(turns[0]["inputKind"], "event");
        assert_eq!(turns[0]["callerText"], "WELCOME");
        assert_eq!(turns[0]["intent"], "Default Welcome Intent");
        assert_eq!(turns[1]["inputKind"], "dtmf");
        assert_eq!(turns[1]["callerText"], "1");
        assert_eq!(turns[1]["intent"], "Default Fallback Intent");
    }
    let metrics = s.metrics().await;
    for needle in [
        "switchboard_calls_total{transport=\"twilio\",outcome=\"failed\"} 1\n",
        "switchboard_calls_total{transport=\"twilio\",outcome=\"completed\"} 1\n",
        "switchboard_calls_total{transport=\"vonage\",outcome=\"failed\"} 1\n",
        "switchboard_calls_total{transport=\"vonage\",outcome=\"completed\"} 1\n",
        "switchboard_calls_active{transport=\"twilio\"} 0\n",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_start_and_messages_after_stop() {
    let s = PhoneServer::fake(TOML).await;
    // Media before any start: bad messages, then closed.
    let mut c = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    for _ in 0..6 {
        let m = r#"{"event":"media","sequenceNumber":"3","streamSid":"MZx","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"AAAA"}}"#;
        if !c.send_raw(Message::Text(m.into())).await {
            break;
        }
    }
    assert!(c.until_closed().await.is_empty());
    // Silence after connecting: closed at the start timeout.
    let mut c = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    assert!(c.until_closed().await.is_empty());
    // Stop, then more messages: the call completes and nothing else happens.
    let mut c = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start("CAstop", &[]).await;
    until_mark(&mut c).await;
    c.send(&Inbound::Stop).await;
    let _ = c
        .send_raw(Message::Text("{\"event\":\"media\"}".into()))
        .await;
    let _ = c.send_raw(Message::Binary(vec![1].into())).await;
    c.until_closed().await;
    let (_, call) = s.get_json("/v1/calls/CAstop").await;
    assert_eq!(call["status"], "completed");
    assert_eq!(call["turns"].as_array().map(Vec::len), Some(1));
    let (_, list) = s.get_json("/v1/calls").await;
    assert_eq!(list["calls"].as_array().map(Vec::len), Some(1), "{list}");
    s.stop().await;
}
