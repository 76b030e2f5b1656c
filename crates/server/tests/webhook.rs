//! Fulfillment webhook calls against a local axum test server.

mod common;

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use common::*;
use sb_nlu::agent::WebhookConfig;
use sb_nlu::webhook::WebhookFormat;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard::clock::SystemClock;
use switchboard::config::ServerConfig;
use tokio::sync::mpsc;

const HOURS: &str = "We are open every weekday from 9am to 5:30pm";

/// What the test webhook does with a request.
#[derive(Clone)]
enum Behaviour {
    Json(Value),
    Status(u16),
    Raw(&'static str),
    Big(usize),
    /// Replies only after this long (well past the client's timeout).
    Slow(Duration),
}

struct Hook {
    url: String,
    received: mpsc::Receiver<(HeaderMap, Value)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(b: Behaviour) -> Hook {
    let (tx, rx) = mpsc::channel(16);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let b = b.clone();
            let tx = tx.clone();
            async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let _ = tx.send((headers, v)).await;
                use axum::response::IntoResponse;
                match b {
                    Behaviour::Json(v) => axum::Json(v).into_response(),
                    Behaviour::Status(s) => (
                        axum::http::StatusCode::from_u16(s).unwrap_or_default(),
                        "oops",
                    )
                        .into_response(),
                    Behaviour::Raw(s) => {
                        ([("content-type", "application/json")], s).into_response()
                    }
                    Behaviour::Big(n) => {
                        axum::Json(json!({"fulfillmentText": "x".repeat(n)})).into_response()
                    }
                    Behaviour::Slow(d) => {
                        tokio::time::sleep(d).await;
                        axum::Json(json!({"fulfillmentText": "too late"})).into_response()
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind hook");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Hook {
        url,
        received: rx,
        task,
    }
}

async fn server_with_hook(h: &Hook, timeout: Duration) -> Option<TestServer> {
    server_with_hook_as(h, timeout, WebhookFormat::V2).await
}

async fn server_with_hook_as(
    h: &Hook,
    timeout: Duration,
    format: WebhookFormat,
) -> Option<TestServer> {
    let agent = shared_agent("bike-shop")?;
    let mut headers = BTreeMap::new();
    headers.insert("X-Api-Key".to_string(), "key-123".to_string());
    let cfg = WebhookConfig {
        url: h.url.clone(),
        username: Some("hookuser".into()),
        password: Some("s3cret-pass".into()),
        headers,
        format,
    };
    let config = ServerConfig {
        webhook_timeout: timeout,
        ..ServerConfig::default()
    };
    Some(TestServer::start(engine(&agent, Some(cfg)), config, Arc::new(SystemClock)).await)
}

#[tokio::test]
async fn webhook_reply_is_used_and_credentials_are_sent() {
    let session_path = "projects/test-project/agent/sessions/wh-ok";
    let mut h = hook(Behaviour::Json(json!({
        "fulfillmentText": "From the webhook: open 9 to 5.",
        "outputContexts": [{"name": format!("{session_path}/contexts/hours-asked"), "lifespanCount": 3,
                            "parameters": {"asked": "yes"}}],
        "unknownField": true
    })))
    .await;
    let Some(s) = server_with_hook(&h, Duration::from_secs(5)).await else {
        return;
    };
    let (status, v) = s.text("wh-ok", "What are your hours?").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Hours");
    assert_eq!(fulfillment(&v), "From the webhook: open 9 to 5.");
    assert_eq!(v["webhookStatus"]["code"].as_i64().unwrap_or(0), 0, "{v}");
    let ctx = v["queryResult"]["outputContexts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let hours = ctx
        .iter()
        .find(|c| c["name"] == format!("{session_path}/contexts/hours-asked"));
    let hours = hours.unwrap_or_else(|| panic!("webhook context applied: {ctx:?}"));
    assert_eq!(hours["lifespanCount"], 3);
    assert_eq!(hours["parameters"]["asked"], "yes");

    let (headers, body) = h.received.recv().await.expect("webhook was called");
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("hookuser:s3cret-pass")
    );
    assert_eq!(auth, expected);
    assert_eq!(
        headers.get("x-api-key").and_then(|v| v.to_str().ok()),
        Some("key-123")
    );
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(body["session"], session_path);
    assert_eq!(body["queryResult"]["queryText"], "What are your hours?");
    assert_eq!(body["queryResult"]["intent"]["displayName"], "Hours");
    assert!(body["responseId"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(body["originalDetectIntentRequest"]["source"], "switchboard");

    // The context the webhook set is active on the next turn.
    s.state.store.flush().await.expect("flush");
    let st = s
        .state
        .store
        .load(session_path)
        .await
        .expect("load")
        .expect("stored");
    assert!(
        st.state
            .contexts
            .iter()
            .any(|c| c.name == "hours-asked" && c.lifespan == 3),
        "{:?}",
        st.state.contexts
    );
    s.stop().await;
}

async fn failing(b: Behaviour, timeout: Duration) -> Option<Value> {
    let mut h = hook(b).await;
    let s = server_with_hook(&h, timeout).await?;
    let (status, v) = s.text("wh-fail", "What are your hours?").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Hours");
    assert_eq!(fulfillment(&v), HOURS, "static response used: {v}");
    assert!(h.received.recv().await.is_some(), "webhook was called");
    s.stop().await;
    Some(v["webhookStatus"].clone())
}

#[tokio::test]
async fn webhook_timeout_uses_static_response() {
    let started = std::time::Instant::now();
    let Some(ws) = failing(
        Behaviour::Slow(Duration::from_secs(30)),
        Duration::from_millis(200),
    )
    .await
    else {
        return;
    };
    assert_eq!(ws["code"], 4, "{ws}");
    assert_eq!(
        ws["message"],
        "Webhook call failed. Error: DEADLINE_EXCEEDED."
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not wait for the slow webhook"
    );
}

#[tokio::test]
async fn webhook_http_500_uses_static_response() {
    let Some(ws) = failing(Behaviour::Status(500), Duration::from_secs(5)).await else {
        return;
    };
    assert_eq!(ws["code"], 14, "{ws}");
    assert!(
        ws["message"].as_str().is_some_and(|m| m.contains("500")),
        "{ws}"
    );
}

#[tokio::test]
async fn webhook_garbage_body_uses_static_response() {
    let Some(ws) = failing(Behaviour::Raw("this is not json"), Duration::from_secs(5)).await else {
        return;
    };
    assert_eq!(ws["code"], 13, "{ws}");
    assert!(
        ws["message"].as_str().is_some_and(|m| m.contains("parse")),
        "{ws}"
    );
}

#[tokio::test]
async fn webhook_oversize_body_uses_static_response() {
    let Some(ws) = failing(Behaviour::Big(100 * 1024), Duration::from_secs(5)).await else {
        return;
    };
    assert_eq!(ws["code"], 13, "{ws}");
    assert!(
        ws["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large")),
        "{ws}"
    );
}

#[tokio::test]
async fn webhook_unreachable_uses_static_response() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cfg = WebhookConfig {
        url: format!("http://127.0.0.1:{port}/hook"),
        ..WebhookConfig::default()
    };
    let s = TestServer::start(
        engine(&agent, Some(cfg)),
        ServerConfig::default(),
        Arc::new(SystemClock),
    )
    .await;
    let (status, v) = s.text("wh-down", "What are your hours?").await;
    assert_eq!(status, 200);
    assert_eq!(fulfillment(&v), HOURS);
    assert_eq!(v["webhookStatus"]["code"], 14, "{v}");
    s.stop().await;
}

/// With one request held at a slow webhook, a second session is refused by the configured bound.
async fn second_session_while_first_is_busy(config: ServerConfig) -> Option<(u16, Value)> {
    let agent = shared_agent("bike-shop")?;
    let mut h = hook(Behaviour::Slow(Duration::from_secs(30))).await;
    let cfg = WebhookConfig {
        url: h.url.clone(),
        ..WebhookConfig::default()
    };
    let s = TestServer::start(engine(&agent, Some(cfg)), config, Arc::new(SystemClock)).await;
    let client = s.client.clone();
    let url = s.detect_url("busy-a");
    let first = tokio::spawn(async move {
        let body =
            json!({"queryInput":{"text":{"text":"What are your hours?","languageCode":"en"}}});
        client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // The first request is inside its turn once the webhook has received it.
    assert!(h.received.recv().await.is_some());
    let second = s.text("busy-b", "What are your hours?").await;
    assert_eq!(
        first.await.expect("join").expect("first request"),
        200,
        "first completes after its webhook timeout"
    );
    s.stop().await;
    Some(second)
}

#[tokio::test]
async fn session_cache_bound_refuses_new_sessions_when_all_are_busy() {
    let config = ServerConfig {
        max_sessions: 1,
        webhook_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let Some((status, v)) = second_session_while_first_is_busy(config).await else {
        return;
    };
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["status"], "UNAVAILABLE");
    assert_eq!(v["error"]["message"], "too many active sessions (limit 1)");
}

#[tokio::test]
async fn inflight_bound_refuses_excess_requests() {
    let config = ServerConfig {
        max_inflight: 1,
        webhook_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let Some((status, v)) = second_session_while_first_is_busy(config).await else {
        return;
    };
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
}

const BOOKING: &str = "Can I set up an appointment to service my bike tomorrow at 2pm";
const BOOKING_REPLY: &str =
    "Ok, let me see if we can fit you in. Tomorrow at 3pm is fine! Do you need a repair or just a tune-up?";
const MAKE_APPOINTMENT_ID: &str = "81dfa908-da80-43fc-8c70-e71299d1dcc2";

/// The booking turn, with a `queryParams.payload` the webhook must see.
async fn booking_turn(s: &TestServer, session: &str) -> Value {
    let body = json!({
        "queryInput": {"text": {"text": BOOKING, "languageCode": "en"}},
        "queryParams": {"payload": {"caller": "+15550100"}}
    });
    let (status, v) = s.post_raw(&s.detect_url(session), body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Make Appointment", "{v}");
    v
}

#[tokio::test]
async fn webhook_request_carries_every_v2_field() {
    let mut h = hook(Behaviour::Json(json!({}))).await;
    let Some(s) = server_with_hook(&h, Duration::from_secs(5)).await else {
        return;
    };
    let v = booking_turn(&s, "wh-v2").await;
    let (_, body) = h.received.recv().await.expect("webhook was called");
    let session = "projects/test-project/agent/sessions/wh-v2";
    assert_eq!(body["responseId"], v["responseId"], "one id for the turn");
    assert_eq!(body["session"], session);
    let q = &body["queryResult"];
    assert_eq!(q["queryText"], BOOKING);
    assert_eq!(q["languageCode"], "en");
    assert_eq!(q["allRequiredParamsPresent"], true);
    assert!(
        q["parameters"]["date"]
            .as_str()
            .is_some_and(|d| d.ends_with("T12:00:00-08:00")),
        "{q}"
    );
    assert!(
        q["parameters"]["time"]
            .as_str()
            .is_some_and(|t| t.ends_with("T14:00:00-08:00")),
        "{q}"
    );
    assert_eq!(q["fulfillmentText"], BOOKING_REPLY);
    assert_eq!(
        q["fulfillmentMessages"],
        json!([{"text": {"text": [BOOKING_REPLY]}}])
    );
    let ctx = &q["outputContexts"][0];
    assert_eq!(
        ctx["name"],
        format!("{session}/contexts/makeappointment-followup")
    );
    assert_eq!(ctx["lifespanCount"], 2);
    assert_eq!(ctx["parameters"]["time.original"], "at 2pm");
    assert_eq!(
        q["intent"],
        json!({"name": format!("projects/test-project/agent/intents/{MAKE_APPOINTMENT_ID}"),
               "displayName": "Make Appointment"})
    );
    let confidence = q["intentDetectionConfidence"].as_f64().unwrap_or(0.0);
    assert!(confidence > 0.5 && confidence <= 1.0, "{q}");
    assert_eq!(
        body["originalDetectIntentRequest"],
        json!({"source": "switchboard", "payload": {"caller": "+15550100"}})
    );
    // An empty reply keeps the static response.
    assert_eq!(fulfillment(&v), BOOKING_REPLY);
    s.stop().await;
}

#[tokio::test]
async fn v1_agent_webhook_gets_a_v1_request() {
    let mut h = hook(Behaviour::Json(json!({}))).await;
    let Some(s) = server_with_hook_as(&h, Duration::from_secs(5), WebhookFormat::V1).await else {
        return;
    };
    let v = booking_turn(&s, "wh-v1").await;
    let (headers, body) = h.received.recv().await.expect("webhook was called");
    assert!(
        headers.get("authorization").is_some(),
        "credentials sent in V1 too"
    );
    assert_eq!(body["id"], v["responseId"]);
    assert_eq!(body["sessionId"], "wh-v1");
    assert_eq!(body["lang"], "en");
    let ts = body["timestamp"].as_str().unwrap_or("");
    assert!(
        chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.ends_with('Z'),
        "{ts}"
    );
    assert_eq!(body["status"], json!({"code": 200, "errorType": "success"}));
    assert_eq!(
        body["originalRequest"],
        json!({"source": "switchboard", "data": {"caller": "+15550100"}})
    );
    let r = &body["result"];
    assert_eq!(r["source"], "agent");
    assert_eq!(r["resolvedQuery"], BOOKING);
    assert_eq!(r["action"], "");
    assert_eq!(r["actionIncomplete"], false);
    assert!(
        r["parameters"]["time"]
            .as_str()
            .is_some_and(|t| t.ends_with("T14:00:00-08:00")),
        "{r}"
    );
    assert_eq!(r["contexts"][0]["name"], "makeappointment-followup");
    assert_eq!(r["contexts"][0]["lifespan"], 2);
    assert_eq!(r["contexts"][0]["parameters"]["time.original"], "at 2pm");
    assert_eq!(
        r["metadata"],
        json!({"intentId": MAKE_APPOINTMENT_ID, "intentName": "Make Appointment",
               "webhookUsed": "true", "webhookForSlotFillingUsed": "false"})
    );
    assert_eq!(r["fulfillment"]["speech"], BOOKING_REPLY);
    assert_eq!(
        r["fulfillment"]["messages"],
        json!([{"type": 0, "speech": BOOKING_REPLY}])
    );
    assert!(r["score"].as_f64().is_some_and(|x| x > 0.5), "{r}");
    assert!(body.get("queryResult").is_none(), "no V2 fields: {body}");
    s.stop().await;
}

#[tokio::test]
async fn v1_webhook_reply_sets_text_contexts_and_payload() {
    let h = hook(Behaviour::Json(json!({
        "speech": "Booked for tomorrow at two.",
        "displayText": "Booked: tomorrow 2pm",
        "contextOut": [{"name": "booked", "lifespan": 4, "parameters": {"slot": "14:00"}}],
        "data": {"slack": {"text": "Booked"}}
    })))
    .await;
    let Some(s) = server_with_hook_as(&h, Duration::from_secs(5), WebhookFormat::V1).await else {
        return;
    };
    let v = booking_turn(&s, "wh-v1-reply").await;
    assert_eq!(
        v["webhookStatus"]["message"], "Webhook execution successful",
        "{v}"
    );
    assert_eq!(fulfillment(&v), "Booked for tomorrow at two.");
    assert_eq!(
        v["queryResult"]["webhookPayload"],
        json!({"slack": {"text": "Booked"}})
    );
    let ctx = v["queryResult"]["outputContexts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let booked = ctx
        .iter()
        .find(|c| c["name"] == "projects/test-project/agent/sessions/wh-v1-reply/contexts/booked")
        .unwrap_or_else(|| panic!("contextOut applied: {ctx:?}"));
    assert_eq!(booked["lifespanCount"], 4);
    assert_eq!(booked["parameters"]["slot"], "14:00");
    s.stop().await;
}

#[tokio::test]
async fn v1_webhook_failures_are_worded_as_v1() {
    let mut h = hook(Behaviour::Status(500)).await;
    let Some(s) = server_with_hook_as(&h, Duration::from_secs(5), WebhookFormat::V1).await else {
        return;
    };
    let v = booking_turn(&s, "wh-v1-500").await;
    assert!(h.received.recv().await.is_some());
    assert_eq!(fulfillment(&v), BOOKING_REPLY, "static response kept");
    assert_eq!(
        v["webhookStatus"],
        json!({"code": 14, "message": "Webhook call failed. Error: 500 Internal Server Error"})
    );
    s.stop().await;
}

/// `POST /v1/query` with a V1 body.
async fn v1_query(s: &TestServer, body: Value) -> (u16, Value) {
    s.post_raw(&format!("{}/v1/query", s.base), body.to_string())
        .await
}

#[tokio::test]
async fn v1_query_reports_a_failed_webhook_as_partial_content() {
    let mut h = hook(Behaviour::Status(500)).await;
    let Some(s) = server_with_hook_as(&h, Duration::from_secs(5), WebhookFormat::V1).await else {
        return;
    };
    let (status, v) = v1_query(
        &s,
        json!({"query": BOOKING, "lang": "en", "sessionId": "v1q-500", "timezone": "America/Los_Angeles"}),
    )
    .await;
    assert!(h.received.recv().await.is_some());
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["status"],
        json!({"code": 206, "errorType": "partial_content",
               "errorDetails": "Webhook call failed. Error: 500 Internal Server Error",
               "webhookTimedOut": false})
    );
    assert_eq!(v["sessionId"], "v1q-500");
    assert_eq!(v["lang"], "en");
    let r = &v["result"];
    assert_eq!(r["metadata"]["intentName"], "Make Appointment");
    assert_eq!(r["metadata"]["webhookUsed"], "true");
    assert_eq!(
        r["fulfillment"]["speech"], BOOKING_REPLY,
        "static response kept"
    );
    assert_eq!(r["contexts"][0]["name"], "makeappointment-followup");
    s.stop().await;
}

#[tokio::test]
async fn v1_query_without_webhook_succeeds_and_rejects_bad_bodies() {
    let h = hook(Behaviour::Status(500)).await;
    let Some(s) = server_with_hook_as(&h, Duration::from_secs(5), WebhookFormat::V1).await else {
        return;
    };
    let (status, v) = v1_query(
        &s,
        json!({"event": {"name": "WELCOME"}, "lang": "en", "sessionId": "v1q-ok"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], json!({"code": 200, "errorType": "success"}));
    assert_eq!(v["result"]["metadata"]["intentName"], "Welcome Intent");
    assert_eq!(v["result"]["metadata"]["webhookUsed"], "false");
    assert_eq!(v["result"]["action"], "input.welcome");

    let (status, v) = v1_query(&s, json!({"query": "hello", "lang": "en"})).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["status"],
        json!({"code": 400, "errorType": "bad_request", "errorDetails": "Field 'sessionId' is required."})
    );
    s.stop().await;
}
