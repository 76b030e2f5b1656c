//! Dialogflow telephony rich responses on phone calls, over the real server with a platform-side
//! caller: SSML breaks as silence, `telephonyPlayAudio` clips fetched from a local HTTP server
//! (a failing one skipped), and `telephonyTransferCall` through the fake Twilio/Vonage REST APIs.
//! Speech engines are fakes (a known tone per synthesis, DTMF for the caller's turns), so what
//! the caller hears can be compared sample by sample.

mod callbacks_fake;
mod phone_support;

use axum::http::StatusCode;
use phone_support::{FakeAsr, FakeTts, PhoneServer, RawCaller};
use sb_transport::{Inbound, Outbound, Platform};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const NUMBER: &str = "+12023334444";
const SILENCE_MS: usize = 700;

/// A 1 kHz tone, 16 kHz, 400 ms: the clip the agent plays.
fn clip() -> Vec<i16> {
    (0..6_400)
        .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI / 16.0).sin() * 12_000.0) as i16)
        .collect()
}

/// Serves `/clip.wav`; every other path is a 404.
async fn clip_server() -> String {
    let wav = sb_audio::write_wav_i16(&clip(), 16_000).unwrap();
    let app = axum::Router::new()
        .route(
            "/clip.wav",
            axum::routing::get(move || {
                let wav = wav.clone();
                async move { ([("content-type", "audio/wav")], wav) }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn write(dir: &Path, name: &str, v: Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn intent(dir: &Path, name: &str, events: &[&str], phrase: Option<&str>, messages: Value) {
    write(
        &dir.join("intents"),
        &format!("{name}.json"),
        json!({
            "id": format!("id-{name}"), "name": name,
            "events": events.iter().map(|e| json!({"name": e})).collect::<Vec<_>>(),
            "responses": [{"messages": messages, "parameters": []}],
        }),
    );
    if let Some(p) = phrase {
        write(
            &dir.join("intents"),
            &format!("{name}_usersays_en.json"),
            json!([{"data": [{"text": p}], "isTemplate": false, "count": 0}]),
        );
    }
}

/// A small agent: a welcome, a rich reply (DTMF 1) and a transfer (DTMF 2), in Dialogflow's
/// export layout, with the shared telephony agent's message types.
fn agent(clips: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("intents")).unwrap();
    write(
        d,
        "agent.json",
        json!({"language": "en", "defaultTimezone": "UTC"}),
    );
    intent(
        d,
        "Welcome",
        &["WELCOME"],
        None,
        json!([{"type": 0, "lang": "en", "speech": "Hello"}]),
    );
    intent(
        d,
        "Rich",
        &[],
        Some("1"),
        json!([
            {"type": 14, "platform": "telephony", "lang": "en",
             "ssml": format!("<speak>Wait<break time=\"{SILENCE_MS}ms\"/>now</speak>")},
            {"type": 13, "platform": "telephony", "lang": "en", "audioUri": format!("{clips}/missing.wav")},
            {"type": 13, "platform": "telephony", "lang": "en", "audioUri": "gs://bucket/Piano.wav"},
            {"type": 13, "platform": "telephony", "lang": "en", "audioUri": format!("{clips}/clip.wav")},
            {"type": 0, "lang": "en", "speech": "Here it comes"},
        ]),
    );
    intent(
        d,
        "Transfer",
        &[],
        Some("2"),
        json!([
            {"type": 14, "platform": "telephony", "lang": "en", "ssml": "<speak>Transferring</speak>"},
            {"type": 15, "platform": "telephony", "lang": "en", "phoneNumber": NUMBER},
            {"type": 0, "lang": "en", "speech": "One moment"},
        ]),
    );
    dir
}

fn pem_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../transport/tests/data/test_only_vonage_private.pem")
}

async fn server(agent: &Path, rest: &str, twilio_creds: bool) -> PhoneServer {
    let twilio = if twilio_creds {
        format!(
            "[connectors.default.twilio]\naccount_sid = \"ACtest\"\nauth_token = \"tok\"\napi_base = \"{rest}\"\n"
        )
    } else {
        String::new()
    };
    let toml = format!(
        "[connectors.default]\nagent = \"{}\"\naction = \"{rest}/action\"\n{twilio}\
         [connectors.default.vonage]\napplication_id = \"app-1\"\nprivate_key = \"{}\"\napi_base = \"{rest}\"\n",
        agent.display(),
        pem_path().display()
    );
    PhoneServer::start(&toml, Arc::new(FakeAsr("unused".into())), Arc::new(FakeTts)).await
}

/// The audio of one bot turn, up to its end mark (echoed back, as a platform does).
async fn turn_audio(c: &mut RawCaller) -> (String, Vec<i16>) {
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut audio = Vec::new();
        loop {
            let outs = c.next_outputs().await.expect("socket closed before a mark");
            for o in outs {
                match o {
                    Outbound::Audio(pcm) => audio.extend(pcm),
                    Outbound::Mark(name) => {
                        c.send(&Inbound::Mark { name: name.clone() }).await;
                        return (name, audio);
                    }
                    Outbound::Clear => {}
                }
            }
        }
    })
    .await
    .expect("no mark in time")
}

async fn keys(c: &mut RawCaller, digits: &str) {
    for digit in digits.chars() {
        c.send(&Inbound::Dtmf {
            digit,
            duration_ms: Some(100),
        })
        .await;
    }
}

fn longest_zero_run(pcm: &[i16]) -> usize {
    let (mut best, mut run) = (0, 0);
    for &s in pcm {
        run = if s == 0 { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn find(hay: &[i16], needle: &[i16]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Power at `hz` (Goertzel) over 16 kHz samples.
fn power_at(pcm: &[i16], hz: f32) -> f32 {
    let k = 2.0 * (2.0 * std::f32::consts::PI * hz / 16_000.0).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in pcm {
        let s = x as f32 / 32_768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

/// 20 ms frames where the clip's 1 kHz tone is far stronger than the fake voice's ~255 Hz.
fn clip_frames(pcm: &[i16]) -> usize {
    pcm.chunks_exact(320)
        .filter(|f| power_at(f, 1_000.0) > 10.0 * power_at(f, 255.0).max(1e-3))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_reply_plays_break_silence_and_the_fetched_clip() {
    let clips = clip_server().await;
    let dir = agent(&clips);
    let rest = callbacks_fake::start(vec![]).await;
    let s = server(dir.path(), &rest.url(""), true).await;

    // Vonage streams 16-bit PCM at 16 kHz: the clip arrives sample for sample.
    let mut c = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    c.start("v-rich", &[]).await;
    let (mark, hello) = turn_audio(&mut c).await;
    assert_eq!(mark, "turn-0-end");
    assert!(!hello.is_empty());
    keys(&mut c, "1#").await;
    let (mark, audio) = turn_audio(&mut c).await;
    assert_eq!(mark, "turn-1-end");
    let at = find(&audio, &clip()).expect("the clip is played whole, after the words");
    assert_eq!(at + clip().len(), audio.len(), "the clip ends the reply");
    // "Here it comes Wait" (one synthesis), the break, "now", then the clip.
    let words = &audio[..at];
    let gap = longest_zero_run(words);
    assert!(
        (SILENCE_MS * 16..SILENCE_MS * 16 + 160).contains(&gap),
        "break of {} ms",
        gap / 16
    );
    assert_eq!(
        words.len(),
        2 * 3_200 + SILENCE_MS * 16,
        "two fake syntheses and the break"
    );
    let _ = c.ws.close(None).await;
    c.until_closed().await;

    // Twilio's 8 kHz μ-law: the clip's tone is heard (from the cache: the server fetched it once).
    let mut c =
        RawCaller::connect_signed(&s.ws_url(Platform::Twilio), Platform::Twilio, Some("tok")).await;
    c.start("CArich", &[]).await;
    turn_audio(&mut c).await;
    keys(&mut c, "1#").await;
    let (_, audio) = turn_audio(&mut c).await;
    let frames = clip_frames(&audio);
    assert!(
        (18..=21).contains(&frames),
        "{frames} frames of 1 kHz (400 ms expected)"
    );
    assert!(longest_zero_run(&audio) >= (SILENCE_MS - 20) * 16);
    c.send(&Inbound::Stop).await;
    c.until_closed().await;

    let metrics = s.metrics().await;
    assert!(
        metrics.contains("switchboard_audio_clips_skipped_total 4\n"),
        "two failing clips per call\n{metrics}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_clip_is_skipped_and_the_reply_still_plays() {
    let clips = clip_server().await;
    let dir = agent(&format!("{clips}/nowhere"));
    let rest = callbacks_fake::start(vec![]).await;
    let s = server(dir.path(), &rest.url(""), true).await;
    let mut c = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    c.start("v-noclip", &[]).await;
    turn_audio(&mut c).await;
    keys(&mut c, "1#").await;
    let (mark, audio) = turn_audio(&mut c).await;
    assert_eq!(mark, "turn-1-end");
    assert_eq!(
        audio.len(),
        2 * 3_200 + SILENCE_MS * 16,
        "words and break, no clip"
    );
    assert_eq!(clip_frames(&audio), 0);
    let _ = c.ws.close(None).await;
    c.until_closed().await;
    s.stop().await;
}

fn assert_transfer_callback(req: &callbacks_fake::Req, sid: &str) {
    assert_eq!(req.field("CallSid").as_deref(), Some(sid));
    assert_eq!(
        req.field("VirtualAgentStatus").as_deref(),
        Some("live-agent-handoff")
    );
    let data: Value =
        serde_json::from_str(&req.field("VirtualAgentProviderData").unwrap()).unwrap();
    assert_eq!(
        data["AgentHandoffParameters"],
        json!({"phoneNumber": NUMBER})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_call_dials_the_number_on_twilio_and_connects_it_on_vonage() {
    let dir = agent("http://127.0.0.1:9");
    let mut rest = callbacks_fake::start(vec![]).await;
    let s = server(dir.path(), &rest.url(""), true).await;

    let mut c =
        RawCaller::connect_signed(&s.ws_url(Platform::Twilio), Platform::Twilio, Some("tok")).await;
    c.start("CAxfer", &[]).await;
    turn_audio(&mut c).await;
    keys(&mut c, "2#").await;
    let (mark, audio) = turn_audio(&mut c).await;
    assert_eq!(mark, "turn-1-end");
    assert!(!audio.is_empty(), "the bot speaks before transferring");
    c.until_closed().await;
    let (mut update, mut action) = (None, None);
    while update.is_none() || action.is_none() {
        let r = rest.next().await;
        match r.uri.as_str() {
            "/2010-04-01/Accounts/ACtest/Calls/CAxfer.json" => update = Some(r),
            "/action" => action = Some(r),
            other => panic!("unexpected request to {other}"),
        }
    }
    assert_eq!(
        update.unwrap().form(),
        [(
            "Twiml".to_string(),
            format!("<Response><Dial>{NUMBER}</Dial></Response>")
        )]
    );
    assert_transfer_callback(&action.unwrap(), "CAxfer");
    let (_, call) = s.get_json("/v1/calls/CAxfer").await;
    assert_eq!(call["hangup"], "transferred", "{call}");
    assert_eq!(call["status"], "live-agent-handoff");
    assert_eq!(call["error"], Value::Null);

    let uuid = "63f61863-4a51-4f6b-86e1-46edebcf9356";
    let mut c = RawCaller::connect(&s.ws_url(Platform::Vonage), Platform::Vonage).await;
    c.start(uuid, &[]).await;
    turn_audio(&mut c).await;
    keys(&mut c, "2#").await;
    turn_audio(&mut c).await;
    c.until_closed().await;
    let (mut update, mut action) = (None, None);
    while update.is_none() || action.is_none() {
        let r = rest.next().await;
        if r.uri == format!("/v1/calls/{uuid}") {
            update = Some(r);
        } else {
            assert_eq!(r.uri, "/action");
            action = Some(r);
        }
    }
    let update = update.unwrap();
    assert_eq!(update.method, "PUT");
    assert_eq!(
        update.json(),
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [
            {"action": "connect", "endpoint": [{"type": "phone", "number": NUMBER}]}
        ]}})
    );
    assert_transfer_callback(&action.unwrap(), uuid);
    let (_, call) = s.get_json(&format!("/v1/calls/{uuid}")).await;
    assert_eq!(call["hangup"], "transferred", "{call}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_the_transport_cannot_make_is_a_clear_error() {
    let dir = agent("http://127.0.0.1:9");
    let mut rest = callbacks_fake::start(vec![]).await;
    let s = server(dir.path(), &rest.url(""), false).await;
    let mut c = RawCaller::connect(&s.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start("CAnocreds", &[]).await;
    turn_audio(&mut c).await;
    keys(&mut c, "2#").await;
    turn_audio(&mut c).await;
    c.until_closed().await;
    // Only the action callback: no call update without credentials.
    let r = rest.next().await;
    assert_eq!(r.uri, "/action");
    assert_transfer_callback(&r, "CAnocreds");
    let (_, call) = s.get_json("/v1/calls/CAnocreds").await;
    assert_eq!(call["hangup"], "handoff-failed", "{call}");
    assert_eq!(
        call["error"],
        format!("transfer to {NUMBER} failed: no Twilio credentials configured")
    );
    rest.assert_idle();
    assert!(s
        .metrics()
        .await
        .contains("switchboard_handoffs_failed_total 1\n"));
    s.stop().await;
}
