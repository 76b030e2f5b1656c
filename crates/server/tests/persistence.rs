//! Sessions and turns persist in SQLite, survive a restart, and expire after the idle TTL.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::Value;
use std::sync::Arc;
use switchboard::clock::{ManualClock, SystemClock};
use switchboard::config::ServerConfig;
use switchboard::store::{Location, Store};

const ASK_DATE: &str = "What day do you want to come in?";
const ASK_TIME: &str = "What time works for you?";
const BOOKED: &str = "Ok, let me see if we can fit you in. Tomorrow at 3pm is fine! Do you need a repair or just a tune-up?";
const SESSION: &str = "projects/test-project/agent/sessions/persist-1";

fn config(dir: &TempDir) -> ServerConfig {
    ServerConfig {
        data_dir: Some(dir.0.clone()),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn slot_filling_survives_a_restart_and_turns_are_recorded() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let engine = engine(&agent, None);
    let dir = TempDir::new("restart");

    let s = TestServer::start(engine.clone(), config(&dir), Arc::new(SystemClock)).await;
    let (st, v1) = s.text("persist-1", "I'd like to make an appointment").await;
    assert_eq!(st, 200, "{v1}");
    assert_eq!(intent_name(&v1), "Make Appointment");
    assert_eq!(fulfillment(&v1), ASK_DATE);
    assert_eq!(v1["queryResult"]["allRequiredParamsPresent"], false);
    let (st, v2) = s.text("persist-1", "tomorrow").await;
    assert_eq!(st, 200, "{v2}");
    assert_eq!(fulfillment(&v2), ASK_TIME);
    s.stop().await;

    // A new server on the same data directory continues the slot filling.
    let s = TestServer::start(engine.clone(), config(&dir), Arc::new(SystemClock)).await;
    let (st, v3) = s.text("persist-1", "at 3pm").await;
    assert_eq!(st, 200, "{v3}");
    assert_eq!(intent_name(&v3), "Make Appointment");
    assert_eq!(v3["queryResult"]["allRequiredParamsPresent"], true);
    assert_eq!(fulfillment(&v3), BOOKED);
    let ctxs = v3["queryResult"]["outputContexts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        ctxs.iter()
            .any(|c| c["name"] == format!("{SESSION}/contexts/makeappointment-followup")),
        "follow-up context set: {ctxs:?}"
    );
    s.stop().await;

    // Every turn is in the turns table, with its response as returned.
    let store = Store::open(&Location::Dir(dir.0.clone()), 4)
        .await
        .expect("open store");
    let rows = store.turns(SESSION).await.expect("turns");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].query.as_deref(),
        Some("I'd like to make an appointment")
    );
    assert_eq!(rows[0].event, None);
    assert_eq!(rows[0].intent.as_deref(), Some("Make Appointment"));
    assert_eq!(rows[0].reply.as_deref(), Some(ASK_DATE));
    let json = |s: &Option<String>| -> Value {
        serde_json::from_str(s.as_deref().unwrap_or("")).expect("json column")
    };
    assert_eq!(json(&rows[0].response), v1);
    assert_eq!(rows[2].reply.as_deref(), Some(BOOKED));
    assert_eq!(json(&rows[2].response), v3);
    let params = json(&rows[2].parameters);
    assert!(
        params.get("date").is_some() && params.get("time").is_some(),
        "{params}"
    );
    let session = store
        .load(SESSION)
        .await
        .expect("load")
        .expect("session row");
    assert_eq!(
        session.expires_at - session.updated_at,
        Duration::minutes(30),
        "default TTL 30 min"
    );
    assert_eq!(session.state.turns, 3);
    assert_eq!(session.version, 3, "one write per turn");
    store.close().await;
}

#[tokio::test]
async fn idle_sessions_expire_after_the_ttl() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let dir = TempDir::new("ttl");
    let start = Utc
        .with_ymd_and_hms(2024, 5, 1, 10, 0, 0)
        .single()
        .expect("date");
    let clock = Arc::new(ManualClock::new(start));
    let cfg = ServerConfig {
        session_ttl: std::time::Duration::from_secs(30 * 60),
        ..config(&dir)
    };
    let s = TestServer::start(engine(&agent, None), cfg, clock.clone()).await;

    // Within the TTL the slot filling continues.
    let (_, v) = s.text("ttl-live", "I'd like to make an appointment").await;
    assert_eq!(fulfillment(&v), ASK_DATE);
    clock.advance(Duration::minutes(29));
    let (_, v) = s.text("ttl-live", "tomorrow").await;
    assert_eq!(
        fulfillment(&v),
        ASK_TIME,
        "29 idle minutes: still the same session"
    );

    // After 30 idle minutes the session starts afresh: "tomorrow" is no longer an answer to a prompt.
    let (_, v) = s.text("ttl-dead", "I'd like to make an appointment").await;
    assert_eq!(fulfillment(&v), ASK_DATE);
    clock.advance(Duration::minutes(31));
    let (_, v) = s.text("ttl-dead", "at 3pm").await;
    assert_ne!(fulfillment(&v), ASK_TIME, "{v}");
    assert_ne!(fulfillment(&v), BOOKED, "{v}");

    // The sweep deletes sessions idle for longer than the TTL: now ttl-live (idle 31 min) expired,
    // ttl-dead was just used.
    s.state.store.flush().await.expect("flush");
    let deleted = switchboard::server::sweep(&s.state).await;
    assert_eq!(deleted, 1);
    let live = s
        .state
        .store
        .load("projects/test-project/agent/sessions/ttl-live")
        .await
        .expect("load");
    assert!(live.is_none());
    let dead = s
        .state
        .store
        .load("projects/test-project/agent/sessions/ttl-dead")
        .await
        .expect("load");
    let dead = dead.expect("recently used session kept");
    assert_eq!(
        dead.state.turns, 1,
        "the expired session's state was replaced by a fresh one"
    );
    assert_eq!(
        dead.created_at,
        start + Duration::minutes(60),
        "a fresh session has a new creation time"
    );
    assert_eq!(dead.expires_at, start + Duration::minutes(90));
    s.stop().await;
}
