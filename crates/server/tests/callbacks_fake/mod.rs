//! A fake HTTP receiver on 127.0.0.1:0 (the customer's app, or Twilio's / Vonage's REST API):
//! records every request on a channel and answers with scripted statuses.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::sync::{mpsc, Semaphore};

#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The form body decoded, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        let text = std::str::from_utf8(&self.body).expect("utf-8 form");
        text.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// `application/x-www-form-urlencoded` decoding.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

#[derive(Clone)]
struct Shared {
    tx: mpsc::UnboundedSender<Req>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    gate: Option<Arc<Semaphore>>,
}

pub struct Fake {
    pub addr: SocketAddr,
    pub rx: mpsc::UnboundedReceiver<Req>,
    /// With [`start_gated`]: one permit releases one held request.
    pub gate: Option<Arc<Semaphore>>,
}

impl Fake {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The next request (fails the test after 20 s rather than hanging).
    pub async fn next(&mut self) -> Req {
        tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("no request within 20 s")
            .expect("fake server gone")
    }

    /// No request is waiting right now.
    pub fn assert_idle(&mut self) {
        assert!(self.rx.try_recv().is_err(), "unexpected extra request");
    }
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let uri = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let _ = s.tx.send(Req {
        method,
        uri,
        headers,
        body,
    });
    if let Some(gate) = &s.gate {
        if let Ok(permit) = gate.acquire().await {
            permit.forget();
        }
    }
    let status = s.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

async fn serve(statuses: Vec<u16>, gate: Option<Arc<Semaphore>>) -> Fake {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Shared {
        tx,
        statuses: Arc::new(Mutex::new(statuses.into())),
        gate: gate.clone(),
    };
    let app = axum::Router::new().fallback(handle).with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Fake { addr, rx, gate }
}

/// Answers each request with the next of `statuses`, then 200.
pub async fn start(statuses: Vec<u16>) -> Fake {
    serve(statuses, None).await
}

/// Holds every request (after recording it) until a permit is added to `gate`.
pub async fn start_gated() -> Fake {
    serve(Vec::new(), Some(Arc::new(Semaphore::new(0)))).await
}
