//! Two servers on one PostgreSQL (a schema of its own per test; `scripts/start-postgres.sh`): a
//! detectIntent session started on node A continues on node B and back, slot filling and contexts
//! intact; a call paused on node A resumes on node B. Real servers, real store; the phone calls use
//! fake speech engines and DTMF for the caller's turns.

mod common;
mod phone_support;

use common::{example_agent, fulfillment, intent_name, TestServer};
use phone_support::{FakeAsr, FakeTts, PhoneServer, RawCaller};
use sb_transport::{Inbound, Outbound, Platform};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchboard::clock::SystemClock;
use switchboard::config::ServerConfig;
use switchboard::store::testing::fresh_postgres;

fn shared(url: &switchboard::store::StoreUrl) -> ServerConfig {
    ServerConfig {
        store_url: Some(url.clone()),
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_started_on_one_node_continues_on_the_other() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let Some(agent) = example_agent("restaurant") else {
        return;
    };
    let engine = common::engine(&agent, None);
    let a = TestServer::start(engine.clone(), shared(&url), Arc::new(SystemClock)).await;
    let b = TestServer::start(engine, shared(&url), Arc::new(SystemClock)).await;

    let (st, v) = a.text("split", "I'd like to book a table for Tanya").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(intent_name(&v), "Table Booker");
    assert_eq!(fulfillment(&v), "On which date would you like the table?");
    // Node B has never seen this session: it reads A's state, date prompt pending.
    let (st, v) = b.text("split", "tomorrow").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(fulfillment(&v), "At what time would you like the table?");
    // Back on A, whose cached copy is one turn old: it must read B's turn, not its cache.
    let (st, v) = a.text("split", "at 7 pm").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(intent_name(&v), "Table Booker");
    assert_eq!(v["queryResult"]["allRequiredParamsPresent"], true, "{v}");
    let reply = fulfillment(&v);
    assert!(
        reply.starts_with("Table booked for Tanya at ") && reply.ends_with("Thank you!"),
        "{reply}"
    );
    let booking = v["queryResult"]["outputContexts"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["name"].as_str().unwrap_or("").ends_with("/booking"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(booking["parameters"]["person"]["name"], "Tanya", "{v}");
    // Every turn is recorded once, whichever node served it.
    let turns = b
        .state
        .store
        .turns("projects/test-project/agent/sessions/split")
        .await
        .expect("turns");
    let served: Vec<_> = turns.iter().filter_map(|t| t.query.as_deref()).collect();
    assert_eq!(
        served,
        ["I'd like to book a table for Tanya", "tomorrow", "at 7 pm"]
    );
    a.stop().await;
    b.stop().await;
}

fn write(dir: &Path, name: &str, v: Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(&v).expect("json")).expect("write");
}

/// An intent in Dialogflow's export layout: `phrase` is what DTMF sends (the digits as text).
fn intent(dir: &Path, name: &str, events: &[&str], phrase: Option<&str>, response: Value) {
    write(
        &dir.join("intents"),
        &format!("{name}.json"),
        json!({
            "id": format!("id-{name}"), "name": name,
            "events": events.iter().map(|e| json!({"name": e})).collect::<Vec<_>>(),
            "responses": [response],
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

fn speech(text: &str) -> Value {
    json!({"type": 0, "lang": "en", "speech": text})
}

/// Key 1 starts a booking for Tanya (context `booking`), key 2 pauses the call, the event
/// RESUME_BOOKING welcomes the caller back by the name in that context.
fn pausing_agent() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("intents")).expect("intents dir");
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
        json!({"messages": [speech("Hello")]}),
    );
    intent(
        d,
        "Start Booking",
        &[],
        Some("1"),
        json!({
            "affectedContexts": [{"name": "booking", "lifespan": 5}],
            "parameters": [{"name": "person", "dataType": "@sys.any", "value": "$person",
                            "defaultValue": "Tanya"}],
            "messages": [speech("Booking for $person")],
        }),
    );
    intent(
        d,
        "Pause",
        &[],
        Some("2"),
        json!({"messages": [
            speech("Call us back"),
            {"type": 4, "lang": "en", "payload": {"TWILIO_ACTION": "PAUSE"}},
        ]}),
    );
    intent(
        d,
        "Resume",
        &["RESUME_BOOKING"],
        None,
        json!({
            "parameters": [{"name": "person", "dataType": "@sys.any", "value": "$person",
                            "defaultValue": "#booking.person"}],
            "messages": [speech("Welcome back, $person")],
        }),
    );
    dir
}

/// Waits for the end of the bot's turn (its mark, echoed back as a platform does).
async fn bot_turn(c: &mut RawCaller) -> String {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let outs = c.next_outputs().await.expect("socket closed before a mark");
            for o in outs {
                if let Outbound::Mark(name) = o {
                    c.send(&Inbound::Mark { name: name.clone() }).await;
                    return name;
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

/// The caller hangs up (closes the media WebSocket).
async fn hang_up(c: &mut RawCaller) {
    let _ = c.ws.close(None).await;
    c.until_closed().await;
}

fn bot_texts(call: &Value) -> Vec<String> {
    call["turns"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["botText"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_paused_on_one_node_resumes_on_the_other() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let agent = pausing_agent();
    let toml = format!(
        "[connectors.default]\nagent = \"{}\"\n",
        agent.path().display()
    );
    let node = || {
        PhoneServer::start_with(
            &toml,
            Arc::new(FakeAsr("unused".into())),
            Arc::new(FakeTts),
            shared(&url),
        )
    };
    let a = node().await;
    let b = node().await;

    // On A: the booking starts, then the caller has to check something: paused.
    let mut c = RawCaller::connect(&a.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start("CApaused", &[]).await;
    assert_eq!(bot_turn(&mut c).await, "turn-0-end");
    keys(&mut c, "1#").await;
    bot_turn(&mut c).await;
    keys(&mut c, "2#").await;
    c.until_closed().await;
    // Node A goes away (drained: the pause is stored before its call ends).
    a.stop().await;
    // B sees A's call, paused.
    let (st, call) = b.get_json("/v1/calls/CApaused").await;
    assert_eq!((st, &call["status"]), (200, &json!("paused")), "{call}");
    assert_eq!(
        bot_texts(&call),
        ["Hello", "Booking for Tanya", "Call us back"],
        "{call}"
    );

    // Twilio comes back to the bot on the same CallSid (a new stream), here landing on B, which
    // resumes A's session, context and all. The record then holds both streams' turns.
    let mut c = RawCaller::connect(&b.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start_stream(
        "CApaused",
        "MZresumed",
        &[
            ("resumeEndUserId", "CApaused"),
            ("resumeEventName", "RESUME_BOOKING"),
        ],
    )
    .await;
    bot_turn(&mut c).await;
    hang_up(&mut c).await;
    let (st, call) = b.get_json("/v1/calls/CApaused").await;
    assert_eq!(st, 200, "{call}");
    assert_eq!(call["turns"][3]["inputKind"], "event", "{call}");
    assert_eq!(bot_texts(&call)[3], "Welcome back, Tanya", "{call}");

    // The paused session is used up: resuming it again is refused, with the reason.
    let mut c = RawCaller::connect(&b.ws_url(Platform::Twilio), Platform::Twilio).await;
    c.start_stream(
        "CApaused",
        "MZagain",
        &[
            ("resumeEndUserId", "CApaused"),
            ("resumeEventName", "RESUME_BOOKING"),
        ],
    )
    .await;
    c.until_closed().await;
    let (_, call) = b.get_json("/v1/calls/CApaused").await;
    let error = call["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("no paused session of end user `CApaused`"),
        "{call}"
    );
    b.stop().await;
}
