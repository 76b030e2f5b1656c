//! Pause and resume on the same call, as Twilio's `<VirtualAgent>` does it: a booking pauses for
//! payment (`TWILIO_ACTION: PAUSE`), the stream closes, Twilio asks the customer's TwiML app
//! (a local server) what next, runs its IVR `<Gather>`, follows the app's `<Redirect>` back to
//! our TwiML with `<Config name="resumeEndUserId">` and `resumeEventName`, and the booking
//! completes with the party size given before the pause. A resume is refused on another call
//! id, after the paused session's TTL, and a second time; paused sessions outlive a restart.
//! Vonage: the same through the NCCO websocket's headers. Real server, platform-side callers
//! keying DTMF, fake speech engines.

mod phone_support;

use phone_support::agents::dtmf_agent;
use phone_support::customer::{Customer, GATHER, HANGUP};
use phone_support::twilio::{
    fetch_twiml, follow_redirect, request_action, run_caller, run_caller_stream, run_stream,
    submit_gather, Twiml,
};
use phone_support::{FakeAsr, FakeTts, PhoneServer};
use sb_transport::Platform;
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard::clock::ManualClock;
use switchboard::config::ServerConfig;

fn toml(agent: &std::path::Path, app: &Customer, extra: &str) -> String {
    format!(
        "[phone]\npaused_ttl_s = 600\n{extra}[connectors.default]\nagent = \"{}\"\naction = \"{}/after\"\n",
        agent.display(),
        app.base
    )
}

async fn server(toml: &str, config: ServerConfig, clock: Arc<ManualClock>) -> PhoneServer {
    PhoneServer::start_clocked(
        toml,
        Arc::new(FakeAsr("hello".into())),
        Arc::new(FakeTts),
        config,
        clock,
    )
    .await
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(chrono::Utc::now()))
}

fn bot_texts(call: &Value) -> Vec<String> {
    call["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .map(|t| t["botText"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The first stream of `sid`: books for 4 and pauses; the app answers the pause with its
/// `<Gather>`. Returns the paused session's `EndUserId`.
async fn book_and_pause(s: &PhoneServer, app: &mut Customer, sid: &str) -> (Twiml, String) {
    let twiml = fetch_twiml(s, "/twilio/twiml/default", sid).await;
    run_stream(&twiml, sid, &["4#"]).await;
    let (status, body) = request_action(s, &twiml, sid).await;
    assert_eq!((status, body.as_str()), (200, GATHER));
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "paused");
    let data: Value = serde_json::from_str(seen.field("VirtualAgentProviderData")).unwrap();
    assert_eq!(data["PauseParameters"], json!({"step": "payment"}));
    (
        twiml,
        data["EndUserId"].as_str().expect("EndUserId").to_string(),
    )
}

/// Twilio: pause → the app's `<Gather>` → its `<Redirect>` to a resuming `<Connect>` → the
/// booking completes with the party size given before the pause (a context parameter); the
/// app's answer to that completion runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_booking_resumes_on_the_same_call() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let clock = clock();
    let s = server(
        &toml(agent.path(), &app, ""),
        ServerConfig::default(),
        clock.clone(),
    )
    .await;
    app.set_switchboard(&s.base);
    let sid = "CA00000000000000000000000000000401";
    let (_, end_user) = book_and_pause(&s, &mut app, sid).await;
    assert_eq!(end_user, sid);
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "paused", "{call}");
    clock.advance(chrono::Duration::minutes(2));

    // Twilio runs the `<Gather>`; the app sends the call back to the bot.
    let (status, resume) = submit_gather(&s, &app.base, GATHER, sid, "4242").await;
    assert_eq!(status, 200);
    let seen = app.next().await;
    assert_eq!(
        (seen.path.as_str(), seen.field("Digits")),
        ("/paid", "4242")
    );
    let twiml = follow_redirect(&s, &resume, sid).await;
    assert_eq!(twiml.param("config.resumeEndUserId"), Some(sid));
    assert_eq!(twiml.param("config.resumeEventName"), Some("PAID"));
    run_caller_stream(
        Platform::Twilio,
        &twiml.stream_url,
        sid,
        "MZresumed",
        &twiml.params,
        &[],
        None,
    )
    .await;
    let (status, body) = request_action(&s, &twiml, sid).await;
    assert_eq!((status, body.as_str()), (200, HANGUP));
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "completed", "{seen:?}");
    let data: Value = serde_json::from_str(seen.field("VirtualAgentProviderData")).unwrap();
    assert_eq!(data["EndUserId"], sid);

    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "completed", "{call}");
    let said = bot_texts(&call);
    assert_eq!(
        said.last().map(String::as_str),
        Some("Your table for 4 is confirmed"),
        "{said:?}"
    );
    assert!(
        said.iter().any(|t| t.starts_with("A table for 4.")),
        "{said:?}"
    );
    s.stop().await;
}

/// A paused session resumes only on its own CallSid, once, within its TTL; every refusal is a
/// failed session whose error says why, and a refused attempt leaves the session in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_is_refused_on_another_call_twice_or_late() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let clock = clock();
    let s = server(
        &toml(agent.path(), &app, ""),
        ServerConfig::default(),
        clock.clone(),
    )
    .await;
    app.set_switchboard(&s.base);
    let sid = "CA00000000000000000000000000000402";
    let (_, end_user) = book_and_pause(&s, &mut app, sid).await;

    let resume = format!(
        "/twilio/twiml/default?config.resumeEndUserId={end_user}&config.resumeEventName=PAID"
    );
    let refused = |other: &str| {
        format!(
            "no paused session of end user `{end_user}` on call `{other}` (a session resumes only \
             on the call that paused it, within 600 s of the pause)"
        )
    };
    // Another call names it: refused, and the session stays for its own call.
    let other = "CA00000000000000000000000000000403";
    let twiml = fetch_twiml(&s, &resume, other).await;
    run_stream(&twiml, other, &[]).await;
    request_action(&s, &twiml, other).await;
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "failed");
    assert_eq!(seen.field("VirtualAgentError"), refused(other));
    let (_, call) = s.get_json(&format!("/v1/calls/{other}")).await;
    assert_eq!(call["error"], refused(other).as_str(), "{call}");

    // Its own call resumes it within the TTL (9 minutes later)…
    clock.advance(chrono::Duration::minutes(9));
    let twiml = fetch_twiml(&s, &resume, sid).await;
    run_caller_stream(
        Platform::Twilio,
        &twiml.stream_url,
        sid,
        "MZsecond",
        &twiml.params,
        &[],
        None,
    )
    .await;
    request_action(&s, &twiml, sid).await;
    assert_eq!(app.next().await.field("VirtualAgentStatus"), "completed");
    // …once.
    let twiml = fetch_twiml(&s, &resume, sid).await;
    run_caller_stream(
        Platform::Twilio,
        &twiml.stream_url,
        sid,
        "MZthird",
        &twiml.params,
        &[],
        None,
    )
    .await;
    request_action(&s, &twiml, sid).await;
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentError"), refused(sid));

    // A session paused 10 minutes ago (the TTL here) is gone.
    let late = "CA00000000000000000000000000000404";
    let (_, end_user) = book_and_pause(&s, &mut app, late).await;
    clock.advance(chrono::Duration::minutes(10));
    let twiml = fetch_twiml(
        &s,
        &format!("/twilio/twiml/default?config.resumeEndUserId={end_user}"),
        late,
    )
    .await;
    run_caller_stream(
        Platform::Twilio,
        &twiml.stream_url,
        late,
        "MZlate",
        &twiml.params,
        &[],
        None,
    )
    .await;
    request_action(&s, &twiml, late).await;
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "failed");
    assert!(
        seen.field("VirtualAgentError")
            .starts_with("no paused session of end user"),
        "{seen:?}"
    );
    s.stop().await;
}

/// A paused session is in the data directory's database: a restarted server resumes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_session_outlives_a_restart() {
    let agent = dtmf_agent();
    let data = tempfile::tempdir().unwrap();
    let config = || ServerConfig {
        data_dir: Some(data.path().to_path_buf()),
        ..ServerConfig::default()
    };
    let mut app = Customer::start().await;
    let toml = toml(agent.path(), &app, "");
    let s = server(&toml, config(), clock()).await;
    let sid = "CA00000000000000000000000000000405";
    let (_, end_user) = book_and_pause(&s, &mut app, sid).await;
    s.stop().await;

    let later = clock();
    later.advance(chrono::Duration::minutes(2));
    let s = server(&toml, config(), later).await;
    let twiml = fetch_twiml(
        &s,
        &format!(
            "/twilio/twiml/default?config.resumeEndUserId={end_user}&config.resumeEventName=PAID"
        ),
        sid,
    )
    .await;
    run_caller_stream(
        Platform::Twilio,
        &twiml.stream_url,
        sid,
        "MZafter",
        &twiml.params,
        &[],
        None,
    )
    .await;
    request_action(&s, &twiml, sid).await;
    assert_eq!(app.next().await.field("VirtualAgentStatus"), "completed");
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(
        bot_texts(&call).last().map(String::as_str),
        Some("Your table for 4 is confirmed"),
        "{call}"
    );
    s.stop().await;
}

/// The websocket headers of the NCCO our answer URL gives for `query` (as Vonage requests it),
/// but `uuid` (the call id: the simulated caller sends it itself).
async fn ncco_headers(s: &PhoneServer, query: &str) -> Vec<(String, String)> {
    let r = s
        .http
        .get(format!("{}/vonage/answer?{query}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ncco: Value = r.json().await.unwrap();
    let headers = ncco[1]["endpoint"][0]["headers"]
        .as_object()
        .expect("websocket headers")
        .iter()
        .filter(|(k, _)| k.as_str() != "uuid")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    headers
}

/// Vonage: the answer URL's per-call `action`/`statusCallback` (GET) and `<Config>`s travel as
/// the NCCO websocket's headers; the call's `uuid` plays the CallSid. A pause is reported to the
/// call's action URL; the NCCO that resumes (after the app's payment step) carries
/// `config.resumeEndUserId`, and works on that call only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage_resumes_through_websocket_headers() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let clock = clock();
    let s = server(
        &toml(agent.path(), &app, ""),
        ServerConfig::default(),
        clock.clone(),
    )
    .await;
    let url = s.ws_url(Platform::Vonage);
    let uuid = "6c1d6a6e-0000-4000-8000-000000000406";
    let base = &app.base;
    let headers = ncco_headers(
        &s,
        &format!(
            "uuid={uuid}&from=447700900000&to=447700900001&action={base}/vonage-after&method=GET\
             &statusCallback={base}/status&statusCallbackMethod=GET"
        ),
    )
    .await;
    run_caller(Platform::Vonage, &url, uuid, &headers, &["4#"], None).await;
    let (_, call) = s.get_json(&format!("/v1/calls/{uuid}")).await;
    assert_eq!(call["status"], "paused", "{call}");
    let mut status = Vec::new();
    let after = loop {
        let r = app.next().await;
        if r.path == "/status" {
            status.push(r);
        } else {
            break r;
        }
    };
    assert!(!status.is_empty());
    for r in &status {
        assert_eq!((r.method.as_str(), r.field("CallSid")), ("GET", uuid));
        assert_eq!(r.field("StatusCallbackEvent"), "intent");
    }
    assert_eq!(
        (after.path.as_str(), after.method.as_str()),
        ("/vonage-after", "GET")
    );
    assert_eq!(after.field("VirtualAgentStatus"), "paused");
    let data: Value = serde_json::from_str(after.field("VirtualAgentProviderData")).unwrap();
    assert_eq!(data["EndUserId"], uuid);
    assert_eq!(data["PauseParameters"], json!({"step": "payment"}));

    // Another call's websocket cannot take it.
    let other = "6c1d6a6e-0000-4000-8000-000000000407";
    let resume = format!("config.resumeEndUserId={uuid}&config.resumeEventName=PAID");
    let h = ncco_headers(&s, &format!("uuid={other}&{resume}")).await;
    run_caller(Platform::Vonage, &url, other, &h, &[], None).await;
    let (_, call) = s.get_json(&format!("/v1/calls/{other}")).await;
    assert_eq!(call["status"], "failed", "{call}");
    assert!(
        call["error"].as_str().unwrap_or("").starts_with(&format!(
            "no paused session of end user `{uuid}` on call `{other}`"
        )),
        "{call}"
    );

    // The call's next websocket (the NCCO after the payment step) resumes it.
    clock.advance(chrono::Duration::minutes(2));
    let h = ncco_headers(&s, &format!("uuid={uuid}&{resume}")).await;
    assert!(
        h.contains(&("config.resumeEndUserId".to_string(), uuid.to_string())),
        "{h:?}"
    );
    run_caller(Platform::Vonage, &url, uuid, &h, &[], None).await;
    let (_, call) = s.get_json(&format!("/v1/calls/{uuid}")).await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(
        bot_texts(&call).last().map(String::as_str),
        Some("Your table for 4 is confirmed"),
        "{call}"
    );
    s.stop().await;
}

/// The server's sweep deletes paused sessions once their TTL is over, not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_paused_sessions_are_swept() {
    use switchboard::clock::Clock;
    use switchboard::phone::start::paused_key;
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let clock = clock();
    let s = server(
        &toml(agent.path(), &app, ""),
        ServerConfig::default(),
        clock.clone(),
    )
    .await;
    let paused_at = clock.now().timestamp_millis();
    let (a, b) = (
        "CA00000000000000000000000000000408",
        "CA00000000000000000000000000000409",
    );
    let (_, user_a) = book_and_pause(&s, &mut app, a).await;
    clock.advance(chrono::Duration::minutes(5));
    let (_, user_b) = book_and_pause(&s, &mut app, b).await;
    // 10 minutes after the first pause: only the first has expired.
    clock.advance(chrono::Duration::minutes(5));
    switchboard::server::sweep(&s.state).await;
    // Taken as if it were still the pause's time: only a deleted row is gone.
    let paused = &s.phone.paused;
    assert!(paused
        .take(&paused_key(a, &user_a), paused_at)
        .await
        .unwrap()
        .is_none());
    assert!(paused
        .take(&paused_key(b, &user_b), paused_at)
        .await
        .unwrap()
        .is_some());
    s.stop().await;
}
