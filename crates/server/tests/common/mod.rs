//! Test helpers: agents on disk, a server on 127.0.0.1:0, temp data dirs, JSON requests.
#![allow(dead_code)]

use sb_nlu::agent::WebhookConfig;
use sb_nlu::engine::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard::clock::Clock;
use switchboard::config::ServerConfig;
use switchboard::AppState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A missing test dependency: a failure that says how to install it; only
/// `SWITCHBOARD_TEST_ALLOW_SKIP=1` (a developer opt-out CI never sets) makes it a skip.
pub fn missing<T>(what: &str) -> Option<T> {
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what}");
        return None;
    }
    panic!("{what}");
}

/// `../shared/agents/NAME` beside the repository (or `$SB_TEST_AGENTS_DIR/NAME`); see [`missing`].
pub fn shared_agent(name: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("SB_TEST_AGENTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/agents"),
    };
    let p = dir.join(name);
    if p.join("agent.json").is_file() {
        Some(p)
    } else {
        missing(&format!(
            "shared agent {} not found: check out ../shared beside the repository (or set SB_TEST_AGENTS_DIR)",
            p.display()
        ))
    }
}

/// `examples/NAME` at the repository root; see [`missing`].
pub fn example_agent(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    if p.join("agent.json").is_file() {
        Some(p)
    } else {
        missing(&format!("example agent {} not found", p.display()))
    }
}

pub fn engine(path: &Path, webhook: Option<WebhookConfig>) -> Arc<Engine> {
    let mut agent =
        sb_nlu::import::load(path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
    if webhook.is_some() {
        agent.webhook = webhook;
    }
    Arc::new(Engine::new(agent).unwrap_or_else(|e| panic!("train {}: {e}", path.display())))
}

/// A unique temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sb-test-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestServer {
    pub base: String,
    pub state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    pub client: reqwest::Client,
}

impl TestServer {
    pub async fn start(
        engine: Arc<Engine>,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        let state = Arc::new(AppState::new(engine, config, clock).await.expect("state"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(switchboard::run(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        TestServer {
            base,
            state,
            stop: Some(stop),
            handle: Some(handle),
            client: reqwest::Client::new(),
        }
    }

    /// Default config (in-memory store) and the system clock.
    pub async fn simple(engine: Arc<Engine>) -> TestServer {
        TestServer::start(
            engine,
            ServerConfig::default(),
            Arc::new(switchboard::clock::SystemClock),
        )
        .await
    }

    pub fn detect_url(&self, session: &str) -> String {
        format!(
            "{}/v2/projects/test-project/agent/sessions/{session}:detectIntent",
            self.base
        )
    }

    /// POSTs a raw body; returns (status, JSON body).
    pub async fn post_raw(&self, url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let bytes = r.bytes().await.expect("body");
        let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, v)
    }

    pub async fn text(&self, session: &str, text: &str) -> (u16, Value) {
        let body =
            serde_json::json!({"queryInput": {"text": {"text": text, "languageCode": "en"}}});
        self.post_raw(&self.detect_url(session), body.to_string())
            .await
    }

    pub async fn event(&self, session: &str, name: &str) -> (u16, Value) {
        let body =
            serde_json::json!({"queryInput": {"event": {"name": name, "languageCode": "en"}}});
        self.post_raw(&self.detect_url(session), body.to_string())
            .await
    }

    /// Graceful stop: drains, flushes and closes the store.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server result");
        }
    }
}

pub fn intent_name(v: &Value) -> &str {
    v["queryResult"]["intent"]["displayName"]
        .as_str()
        .unwrap_or("")
}

pub fn fulfillment(v: &Value) -> &str {
    v["queryResult"]["fulfillmentText"].as_str().unwrap_or("")
}
