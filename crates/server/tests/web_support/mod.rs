//! Helpers of the web chat and console tests: a signed-in console client, SSE readers, a chat
//! client, and a local test double of Twilio's REST API.
#![allow(dead_code)]

pub mod webdriver;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::web::auth;
use switchboard::web::model::User;
use tokio::sync::mpsc;

pub const PASSWORD: &str = "a long enough password";

/// Adds a console user straight into the server's user store.
pub async fn add_user(state: &switchboard::AppState, name: &str, phone: Option<&str>) {
    let user = User {
        name: name.into(),
        password_hash: auth::hash_password(PASSWORD).expect("hash"),
        admin: true,
        phone: phone.map(str::to_string),
        created_at: chrono::Utc::now(),
    };
    state.web.users.add_user(&user).await.expect("add user");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `name=value` of a `Set-Cookie` header named `name`.
pub fn set_cookie(h: &reqwest::header::HeaderMap, name: &str) -> Option<(String, String)> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let first = v.split(';').next().unwrap_or_default();
            (first.to_string(), v.to_string())
        })
}

pub fn between<'a>(s: &'a str, a: &str, b: &str) -> Option<&'a str> {
    let i = s.find(a)? + a.len();
    let j = s[i..].find(b)? + i;
    Some(&s[i..j])
}

/// A signed-in agent.
pub struct Console {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
    pub client: reqwest::Client,
}

/// Signs in through the real form: GET the page (double-submit cookie + hidden field), POST it.
/// Returns the response's `Location` and the session cookie if any.
pub async fn sign_in_raw(base: &str, name: &str, password: &str) -> (String, Option<String>) {
    let c = no_redirects();
    let r = c
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("login page");
    let (login_cookie, _) = set_cookie(r.headers(), auth::LOGIN_COOKIE).expect("login cookie");
    let html = r.text().await.expect("html");
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"")
        .expect("csrf field")
        .to_string();
    let r = c
        .post(format!("{base}/console/login"))
        .header("cookie", login_cookie)
        .header("origin", base)
        .form(&[("name", name), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("login post");
    assert_eq!(r.status().as_u16(), 303);
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        loc,
        set_cookie(r.headers(), auth::SESSION_COOKIE).map(|(c, _)| c),
    )
}

impl Console {
    pub async fn sign_in(base: &str, name: &str) -> Console {
        let (loc, cookie) = sign_in_raw(base, name, PASSWORD).await;
        assert_eq!(loc, "/console");
        let cookie = cookie.expect("session cookie");
        let client = no_redirects();
        let html = client
            .get(format!("{base}/console"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("console")
            .text()
            .await
            .expect("html");
        let csrf = between(&html, "name=\"csrf-token\" content=\"", "\"")
            .expect("csrf meta")
            .to_string();
        Console {
            base: base.into(),
            cookie,
            csrf,
            client,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}/console/api/{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("get");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/console/api/{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await
            .expect("post");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// The console's event stream (after its `ready` event).
    pub async fn events(&self) -> Sse {
        Sse::open(
            &self.client,
            &format!("{}/console/api/events", self.base),
            Some(&self.cookie),
        )
        .await
    }
}

/// One SSE event: name and JSON data.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub data: Value,
    pub at: Instant,
}

/// Reads an SSE stream on a task; events arrive on a channel stamped with their arrival time.
pub struct Sse {
    pub rx: mpsc::UnboundedReceiver<SseEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sse {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sse {
    pub async fn open(client: &reqwest::Client, url: &str, cookie: Option<&str>) -> Sse {
        let mut req = client.get(url).header("accept", "text/event-stream");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let mut res = req.send().await.expect("sse");
        assert_eq!(res.status().as_u16(), 200, "SSE {url}");
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut buf = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                let at = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = buf.find("\n\n") {
                    let block: String = buf.drain(..i + 2).collect();
                    let mut event = "message".to_string();
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().into();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if data.is_empty() {
                        continue;
                    }
                    let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                    if tx.send(SseEvent { event, data, at }).is_err() {
                        return;
                    }
                }
            }
        });
        let mut s = Sse { rx, task };
        let first = s.next().await;
        assert_eq!(first.event, "ready");
        s
    }

    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("an SSE event within 10 s")
            .expect("SSE stream open")
    }

    /// The next event whose data satisfies `f` (others are skipped).
    pub async fn until(&mut self, f: impl Fn(&Value) -> bool) -> SseEvent {
        loop {
            let e = self.next().await;
            if f(&e.data) {
                return e;
            }
        }
    }
}

/// A customer's chat through the JSON API (what the widget does).
pub struct Chat {
    pub base: String,
    pub id: String,
    pub key: String,
    pub client: reqwest::Client,
}

impl Chat {
    pub async fn start(base: &str) -> (Chat, Value) {
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{base}/chat/api/start"))
            .json(&json!({}))
            .send()
            .await
            .expect("start");
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("json");
        let chat = Chat {
            base: base.into(),
            id: v["id"].as_str().expect("id").into(),
            key: v["key"].as_str().expect("key").into(),
            client,
        };
        (chat, v)
    }

    pub async fn call(&self, what: &str, mut body: Value) -> (u16, Value) {
        body["id"] = json!(self.id);
        body["key"] = json!(self.key);
        let r = self
            .client
            .post(format!("{}/chat/api/{what}", self.base))
            .json(&body)
            .send()
            .await
            .expect("chat api");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn say(&self, text: &str) -> Value {
        let (s, v) = self.call("say", json!({"text": text})).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn events(&self) -> Sse {
        Sse::open(
            &self.client,
            &format!(
                "{}/chat/api/events?id={}&key={}",
                self.base, self.id, self.key
            ),
            None,
        )
        .await
    }
}

/// The bot's texts among a say/start response's entries.
pub fn bot_texts(v: &Value) -> Vec<String> {
    v["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["who"] == "bot")
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect()
}

/// What a Twilio REST test double received.
#[derive(Debug, Clone)]
pub struct TwilioRequest {
    pub path: String,
    pub authorization: String,
    pub form: Vec<(String, String)>,
}

impl TwilioRequest {
    pub fn get(&self, k: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Clone)]
pub struct TwilioDouble {
    pub requests: Arc<Mutex<Vec<TwilioRequest>>>,
    /// How many requests arrived so far (wait on it with `subscribe().wait_for`).
    pub count: Arc<tokio::sync::watch::Sender<usize>>,
}

/// A local stand-in for `api.twilio.com`: answers `Calls.json` with 201 and a CallSid.
pub async fn twilio_double() -> (String, TwilioDouble) {
    let d = TwilioDouble {
        requests: Arc::default(),
        count: Arc::new(tokio::sync::watch::channel(0).0),
    };
    async fn calls(
        State(d): State<TwilioDouble>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let mut reqs = d.requests.lock().expect("lock");
        reqs.push(TwilioRequest {
            path: uri.path().to_string(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            form,
        });
        let sid = format!("CA{:032}", reqs.len());
        d.count.send_replace(reqs.len());
        (
            StatusCode::CREATED,
            axum::Json(json!({"sid": sid, "status": "queued"})),
        )
            .into_response()
    }
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls.json",
            axum::routing::post(calls),
        )
        .with_state(d.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (base, d)
}

/// A dialer on the Twilio double, calling back to `public_url`.
pub fn twilio_dialer(api_base: &str, public_url: &str) -> switchboard::web::dial::Dialer {
    let toml = format!(
        "[console]\nprovider = \"twilio\"\nfrom = \"+15005550006\"\npublic_url = \"{public_url}\"\n\
         greeting = \"Hello from the Demonstration Restaurant. Connecting you to our team.\"\n\
         [console.twilio]\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"test-auth-token\"\napi_base = \"{api_base}\"\n"
    );
    let dir = std::env::temp_dir().join(format!("sb-dialer-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join("switchboard.toml");
    std::fs::write(&p, toml).expect("write");
    let d = switchboard::web::dial::Dialer::from_file(&p, None)
        .expect("dialer")
        .expect("[console]");
    let _ = std::fs::remove_dir_all(&dir);
    d
}

pub const TWILIO_ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "test-auth-token";
