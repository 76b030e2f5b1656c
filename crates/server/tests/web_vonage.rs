//! "Call" from the console through Vonage: `POST /v1/calls` with an application JWT and an NCCO
//! that joins the customer and the agent into one named conversation; Vonage's events update the
//! placed calls.

mod common;
mod web_support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use common::{example_agent, TestServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use web_support::*;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

fn pem(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../transport/tests/data")
        .join(name)
}

async fn vonage_double() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn calls(
        State(seen): State<Seen>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (axum::http::StatusCode, axum::Json<Value>) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut s = seen.lock().expect("lock");
        s.push((auth, serde_json::from_slice(&body).unwrap_or(Value::Null)));
        let uuid = format!("00000000-0000-4000-8000-{:012}", s.len());
        (
            axum::http::StatusCode::CREATED,
            axum::Json(json!({"uuid": uuid, "status": "started", "direction": "outbound"})),
        )
    }
    let app = axum::Router::new()
        .route("/v1/calls", axum::routing::post(calls))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (base, seen)
}

#[tokio::test]
async fn vonage_calls_join_one_conversation_with_a_verified_jwt() {
    let Some(agent_dir) = example_agent("restaurant") else {
        return;
    };
    let s = TestServer::simple(common::engine(&agent_dir, None)).await;
    add_user(&s.state, "ada", Some("+447700900001")).await;
    let (api, seen) = vonage_double().await;
    let dir = std::env::temp_dir().join(format!("sb-vonage-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("switchboard.toml");
    std::fs::write(
        &cfg,
        format!(
            "[console]\nprovider = \"vonage\"\nfrom = \"+447700900000\"\npublic_url = \"{}\"\ndefault_country_code = \"44\"\n\
             [console.vonage]\napplication_id = \"app-123\"\nprivate_key = \"{}\"\napi_base = \"{api}\"\n",
            s.base,
            pem("test_only_vonage_private.pem").display()
        ),
    )
    .expect("write");
    s.state.web.configure(Some(&cfg), false).expect("dialer");
    let _ = std::fs::remove_dir_all(&dir);

    let agent = Console::sign_in(&s.base, "ada").await;
    let (chat, _) = Chat::start(&s.base).await;
    chat.say("can you call me").await;
    let r = chat.say("07700 900123").await;
    assert_eq!(r["status"], "queued", "{r}");
    let (code, placed) = agent
        .post(&format!("conversations/{}/call", chat.id), json!({}))
        .await;
    assert_eq!(code, 200, "{placed}");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(
        &std::fs::read(pem("test_only_vonage_public.pem")).expect("pem"),
    )
    .expect("key");
    let conv = format!("switchboard-{}", chat.id);
    for ((auth, body), (to, starts)) in seen
        .iter()
        .zip([("447700900123", false), ("447700900001", true)])
    {
        let jwt = auth.strip_prefix("Bearer ").expect("bearer");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.required_spec_claims = ["exp".to_owned()].into();
        let claims = jsonwebtoken::decode::<Value>(jwt, &key, &v)
            .expect("valid JWT")
            .claims;
        assert_eq!(claims["application_id"], "app-123");
        assert_eq!(body["to"], json!([{"type": "phone", "number": to}]));
        assert_eq!(
            body["from"],
            json!({"type": "phone", "number": "447700900000"})
        );
        assert_eq!(body["ncco"][0]["action"], "talk");
        assert_eq!(
            body["ncco"][1],
            json!({"action": "conversation", "name": conv, "startOnEnter": starts, "endOnExit": starts})
        );
        assert_eq!(
            body["event_url"],
            json!([format!("{}/console/vonage/event/{}", s.base, chat.id)])
        );
    }
    // Vonage's event for the customer's leg.
    let uuid = placed["calls"][0]["id"].as_str().expect("uuid").to_string();
    let r = s
        .client
        .post(format!("{}/console/vonage/event/{}", s.base, chat.id))
        .json(&json!({"uuid": uuid, "status": "answered"}))
        .send()
        .await
        .expect("event");
    assert_eq!(r.status().as_u16(), 204);
    let (_, c) = agent.get(&format!("conversations/{}", chat.id)).await;
    assert_eq!(c["calls"][0]["status"], "answered");
    assert_eq!(c["calls"][0]["provider"], "vonage");
    s.stop().await;
}
