//! Webhooks written with Google's own Node fulfillment libraries (`dialogflow-fulfillment`'s
//! WebhookClient, `actions-on-google` v2's `dialogflow()` app), served by `tests/fulfillment/app.js`,
//! fulfilling the Parcel Desk agent (`tests/fulfillment/agent`) through detectIntent over HTTP.

mod common;
#[path = "fulfillment/support.rs"]
mod support;

use common::*;
use sb_nlu::agent::WebhookConfig;
use sb_nlu::webhook::WebhookFormat;
use serde_json::{json, Value};
use std::path::Path;
use support::{test_path, NodeApp};

const PROJECT_SESSIONS: &str = "projects/test-project/agent/sessions";

/// The Parcel Desk agent with its webhook at `url` in `format`.
fn desk_engine(
    dir: &Path,
    url: String,
    format: WebhookFormat,
) -> std::sync::Arc<sb_nlu::engine::Engine> {
    let cfg = WebhookConfig {
        url,
        format,
        ..WebhookConfig::default()
    };
    engine(dir, Some(cfg))
}

async fn desk(app: &NodeApp, route: &str, format: WebhookFormat) -> TestServer {
    let url = format!("{}/{route}", app.base);
    TestServer::simple(desk_engine(&test_path("fulfillment/agent"), url, format)).await
}

/// A text turn sent with `queryParams.payload` (the webhook sees it as the original request's payload).
async fn ask(s: &TestServer, session: &str, text: &str) -> Value {
    let body = json!({
        "queryInput": {"text": {"text": text, "languageCode": "en"}},
        "queryParams": {"payload": {"channel": "web"}}
    });
    let (status, v) = s.post_raw(&s.detect_url(session), body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    v
}

fn texts(v: &Value) -> Vec<String> {
    v["queryResult"]["fulfillmentMessages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.pointer("/text/text/0").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn context(v: &Value, session: &str, name: &str) -> Value {
    let full = format!("{PROJECT_SESSIONS}/{session}/contexts/{name}");
    v["queryResult"]["outputContexts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == full)
        .cloned()
        .unwrap_or_else(|| panic!("no context {full} in {v}"))
}

fn webhook_ok(v: &Value) {
    assert_eq!(
        v["webhookStatus"]["message"], "Webhook execution successful",
        "{v}"
    );
}

#[tokio::test]
async fn dialogflow_fulfillment_replies_and_context_reach_the_client() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let s = desk(&app, "fulfillment", WebhookFormat::V2).await;
    let v = ask(&s, "dff-1", "where is my order 12345").await;
    webhook_ok(&v);
    assert_eq!(intent_name(&v), "Track Order");
    let t = texts(&v);
    assert_eq!(t.len(), 2, "{v}");
    assert_eq!(t[0], "Order 12345 is on the van.");
    // The library read every field it needs from the V2 request.
    assert_eq!(
        t[1],
        "intent=Track Order action=order.track query=where is my order 12345 locale=en \
         parameters={\"order\":12345} contexts=order-desk:2 source=switchboard channel=web version=2"
    );
    assert_eq!(
        fulfillment(&v),
        format!("{} {}", t[0], t[1]),
        "fulfillmentText joins the webhook's messages"
    );
    let c = context(&v, "dff-1", "order-tracking");
    assert_eq!(c["lifespanCount"], 3);
    assert_eq!(c["parameters"], json!({"order": 12345, "van": "V7"}));
    // The agent's own output context is still there beside the webhook's.
    assert_eq!(context(&v, "dff-1", "order-desk")["lifespanCount"], 2);
    s.stop().await;
}

#[tokio::test]
async fn dialogflow_fulfillment_followup_event_runs_the_event_intent() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let s = desk(&app, "fulfillment", WebhookFormat::V2).await;
    let v = ask(&s, "dff-2", "when are you open").await;
    assert_eq!(intent_name(&v), "Order Shipped", "{v}");
    assert_eq!(fulfillment(&v), "Good news: order 31 left the depot.");
    assert_eq!(v["queryResult"]["parameters"]["order"], 31);
    s.stop().await;
}

#[tokio::test]
async fn dialogflow_fulfillment_sees_event_queries() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let s = desk(&app, "fulfillment", WebhookFormat::V2).await;
    let (status, v) = s.event("dff-3", "WELCOME").await;
    assert_eq!(status, 200, "{v}");
    webhook_ok(&v);
    assert_eq!(intent_name(&v), "Welcome");
    assert_eq!(
        fulfillment(&v),
        "intent=Welcome action=null query=WELCOME locale=en parameters={} contexts= \
         source=switchboard channel=undefined version=2"
    );
    s.stop().await;
}

#[tokio::test]
async fn actions_on_google_ask_and_contexts_set_reach_the_client() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let s = desk(&app, "assistant", WebhookFormat::V2).await;
    let v = ask(&s, "aog-1", "track order 555").await;
    webhook_ok(&v);
    assert_eq!(intent_name(&v), "Track Order");
    // conv.ask answers in the Google payload; its words are the reply's text.
    assert_eq!(fulfillment(&v), "Assistant here: order 555 is on the van.");
    let google = &v["queryResult"]["webhookPayload"]["google"];
    assert_eq!(google["expectUserResponse"], true, "{v}");
    assert_eq!(
        google["richResponse"]["items"][0]["simpleResponse"]["textToSpeech"],
        "Assistant here: order 555 is on the van."
    );
    let c = context(&v, "aog-1", "order-tracking");
    assert_eq!(c["lifespanCount"], 4);
    assert_eq!(c["parameters"]["van"], "V9");
    s.stop().await;
}

#[tokio::test]
async fn actions_on_google_followup_runs_the_event_intent() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let s = desk(&app, "assistant", WebhookFormat::V2).await;
    let v = ask(&s, "aog-2", "what are your opening hours").await;
    assert_eq!(intent_name(&v), "Order Shipped", "{v}");
    assert_eq!(fulfillment(&v), "Good news: order 58 left the depot.");
    s.stop().await;
}

/// The Parcel Desk export marked as a V1 agent, in a temporary folder.
fn v1_export() -> TempDir {
    let tmp = TempDir::new("v1-desk");
    let src = test_path("fulfillment/agent");
    std::fs::create_dir_all(tmp.0.join("intents")).expect("mkdir");
    for entry in std::fs::read_dir(src.join("intents")).expect("intents") {
        let p = entry.expect("entry").path();
        let name = p.file_name().expect("file name");
        std::fs::copy(&p, tmp.0.join("intents").join(name)).expect("copy");
    }
    let agent = std::fs::read_to_string(src.join("agent.json")).expect("agent.json");
    let mut agent: Value = serde_json::from_str(&agent).expect("agent.json is JSON");
    agent["onePlatformApiVersion"] = json!("v1legacy");
    std::fs::write(tmp.0.join("agent.json"), agent.to_string()).expect("write");
    tmp
}

#[tokio::test]
async fn v1_agent_export_is_fulfilled_by_dialogflow_fulfillment_in_v1_mode() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let dir = v1_export();
    let agent = sb_nlu::import::load(&dir.0).expect("load V1 export");
    let wh = agent.webhook.clone().expect("webhook configured");
    assert_eq!(
        wh.format,
        WebhookFormat::V1,
        "onePlatformApiVersion v1legacy"
    );
    // Keep the export's format, only point it at the app.
    let s = TestServer::simple(desk_engine(
        &dir.0,
        format!("{}/fulfillment", app.base),
        wh.format,
    ))
    .await;

    let v = ask(&s, "v1-1", "where is my order 12345").await;
    webhook_ok(&v);
    let t = texts(&v);
    assert_eq!(t.len(), 2, "{v}");
    assert_eq!(t[0], "Order 12345 is on the van.");
    assert_eq!(
        t[1],
        "intent=Track Order action=order.track query=where is my order 12345 locale=en \
         parameters={\"order\":12345} contexts=order-desk:2 source=switchboard channel=web version=1"
    );
    let c = context(&v, "v1-1", "order-tracking");
    assert_eq!(c["lifespanCount"], 3);
    assert_eq!(c["parameters"], json!({"order": 12345, "van": "V7"}));

    let v = ask(&s, "v1-2", "when are you open").await;
    assert_eq!(intent_name(&v), "Order Shipped", "V1 followupEvent: {v}");
    assert_eq!(fulfillment(&v), "Good news: order 31 left the depot.");

    // A V1 client asking through /v1/query gets the webhook's answer in V1's shape.
    let body = json!({"query": "track order 555", "lang": "en", "sessionId": "v1-3",
                      "originalRequest": {"source": "kiosk", "data": {"channel": "lobby"}}});
    let (status, v) = s
        .post_raw(&format!("{}/v1/query", s.base), body.to_string())
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["status"],
        json!({"code": 200, "errorType": "success", "webhookTimedOut": false})
    );
    let r = &v["result"];
    assert_eq!(r["metadata"]["intentName"], "Track Order");
    assert_eq!(
        r["fulfillment"]["messages"][0],
        json!({"type": 0, "speech": "Order 555 is on the van."})
    );
    let seen = r["fulfillment"]["messages"][1]["speech"]
        .as_str()
        .unwrap_or("");
    assert!(
        seen.contains("source=kiosk channel=lobby version=1"),
        "{seen}"
    );
    let tracking = r["contexts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "order-tracking")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(tracking["lifespan"], 3);
    s.stop().await;
}

#[tokio::test]
async fn v1_agent_is_fulfilled_by_actions_on_google_in_v1_mode() {
    let Some(app) = NodeApp::start().await else {
        return;
    };
    let url = format!("{}/assistant", app.base);
    let s = TestServer::simple(desk_engine(
        &test_path("fulfillment/agent"),
        url,
        WebhookFormat::V1,
    ))
    .await;
    let v = ask(&s, "aog-v1", "track order 555").await;
    webhook_ok(&v);
    assert_eq!(fulfillment(&v), "Assistant here: order 555 is on the van.");
    assert_eq!(
        v["queryResult"]["webhookPayload"]["google"]["expectUserResponse"], true,
        "V1 `data` is the webhook payload: {v}"
    );
    assert_eq!(context(&v, "aog-v1", "order-tracking")["lifespanCount"], 4);
    s.stop().await;
}
