//! The HTTP front door against the real server: connection limits and timeouts (on tokio's
//! virtual clock), API keys, rate limits, JSON-only bodies, CORS, exposure on the network,
//! Dialogflow's id rules and unknown events, and the database's file modes.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use switchboard::config::ServerConfig;
use switchboard::guard::ApiKey;
use switchboard::settings::ServerSection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

const KEY: &str = "test-key-0123456789";
const OTHER_KEY: &str = "other-key-0123456789";

fn restaurant() -> Option<Arc<sb_nlu::engine::Engine>> {
    example_agent("restaurant").map(|p| engine(&p, None))
}

fn with_server(server: ServerSection) -> ServerConfig {
    ServerConfig {
        server,
        ..ServerConfig::default()
    }
}

async fn start(config: ServerConfig) -> Option<TestServer> {
    let e = restaurant()?;
    Some(TestServer::start(e, config, Arc::new(switchboard::clock::SystemClock)).await)
}

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; what was read.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

fn error_of(v: &Value) -> (i64, &str) {
    (
        v["error"]["code"].as_i64().unwrap_or(0),
        v["error"]["status"].as_str().unwrap_or(""),
    )
}

const BODY: &str = r#"{"queryInput":{"text":{"text":"hi","languageCode":"en"}}}"#;

// ---- connections ----

/// A client sending its request head a byte a second is cut off at the header-read timeout
/// (today's main kept it forever: the head of 80 bytes never completes).
#[tokio::test(start_paused = true)]
async fn a_slow_request_head_is_cut_off() {
    let Some(s) = start(with_server(ServerSection {
        header_read_timeout_ms: 2_000,
        ..ServerSection::default()
    }))
    .await
    else {
        return;
    };
    let tcp = TcpStream::connect(addr(&s)).await.expect("connect");
    let (mut rd, mut wr) = tcp.into_split();
    let t0 = Instant::now();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok(n) = rd.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        Instant::now()
    });
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow-loris-slow-loris-slow\r\n";
    let writer = tokio::spawn(async move {
        for b in head {
            if wr.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        std::future::pending::<()>().await;
    });
    let closed_at = timeout(Duration::from_secs(300), reader)
        .await
        .expect("the slow connection was never closed")
        .expect("reader");
    writer.abort();
    let took = closed_at - t0;
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "closed after {took:?}"
    );
    assert_eq!(s.state.conns.header_timeouts.load(Ordering::Relaxed), 1);
    s.stop().await;
}

/// A connection that never sends anything, and a kept-alive one after its response, are
/// closed at the timeout too.
#[tokio::test(start_paused = true)]
async fn idle_and_kept_alive_connections_are_closed() {
    let Some(s) = start(with_server(ServerSection {
        header_read_timeout_ms: 3_000,
        ..ServerSection::default()
    }))
    .await
    else {
        return;
    };
    let t0 = Instant::now();
    let mut silent = TcpStream::connect(addr(&s)).await.expect("connect");
    timeout(Duration::from_secs(300), read_to_close(&mut silent))
        .await
        .expect("an idle connection stayed open");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "{took:?}"
    );

    let mut kept = TcpStream::connect(addr(&s)).await.expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let t1 = Instant::now();
    let got = timeout(Duration::from_secs(300), read_to_close(&mut kept))
        .await
        .expect("a kept-alive connection stayed open");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("ok"), "{text}");
    let took = t1.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(s.state.conns.header_timeouts.load(Ordering::Relaxed), 2);
    s.stop().await;
}

/// Beyond `max_connections`, a new connection is closed at once and counted; once one closes,
/// the server answers again, and `/metrics` shows the figures.
#[tokio::test]
async fn connections_beyond_the_cap_are_refused_and_counted() {
    let Some(s) = start(with_server(ServerSection {
        max_connections: 16,
        ..ServerSection::default()
    }))
    .await
    else {
        return;
    };
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(addr(&s)).await.expect("connect"));
    }
    let conns = s.state.conns.clone();
    timeout(Duration::from_secs(10), async {
        while conns.open.load(Ordering::Relaxed) < 16 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("16 connections open");
    let mut extra = TcpStream::connect(addr(&s)).await.expect("connect");
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let got = timeout(Duration::from_secs(10), read_to_close(&mut extra))
        .await
        .expect("the connection over the cap was not closed");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert_eq!(conns.refused.load(Ordering::Relaxed), 1);
    drop(held.pop());
    timeout(Duration::from_secs(10), async {
        while conns.open.load(Ordering::Relaxed) > 15 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the closed connection was released");
    let m = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        "switchboard_http_connections_refused_total 1",
        "switchboard_http_connections_max 16",
        "switchboard_http_connections_open 16",
    ] {
        assert!(m.contains(line), "no `{line}` in\n{m}");
    }
    drop(held);
    s.stop().await;
}

// ---- keys, rates, types, CORS ----

fn keyed(keys: Vec<ApiKey>) -> ServerConfig {
    ServerConfig {
        api_keys: keys,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn api_routes_need_a_key_when_keys_are_configured() {
    let Some(s) = start(keyed(vec![ApiKey::new("ops", KEY, 0.0, 1).unwrap()])).await else {
        return;
    };
    let url = s.detect_url("s1");
    let post = |auth: Option<(&'static str, String)>| {
        let mut r = s
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(BODY);
        if let Some((k, v)) = auth {
            r = r.header(k, v);
        }
        r.send()
    };
    let r = post(None).await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let v: Value = r.json().await.expect("json");
    assert_eq!(error_of(&v), (401, "UNAUTHENTICATED"));
    let r = post(Some((
        "authorization",
        "Bearer wrong-key-0123456789".into(),
    )))
    .await
    .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["error"]["message"],
        "Request had invalid authentication credentials."
    );
    for auth in [
        ("authorization", format!("Bearer {KEY}")),
        ("x-goog-api-key", KEY.to_string()),
    ] {
        let r = post(Some(auth)).await.expect("send");
        assert_eq!(r.status().as_u16(), 200);
    }
    // Every route that shows what the agent or callers said.
    for (method, path) in [
        ("POST", "/v1/query"),
        ("GET", "/v1/calls"),
        ("GET", "/v1/calls/CA1"),
        ("GET", "/metrics"),
    ] {
        let r = s
            .client
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 401, "{method} {path}");
    }
    let r = s
        .client
        .get(format!("{}/metrics", s.base))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let m = r.text().await.expect("text");
    assert!(
        m.contains("switchboard_api_refused_total{reason=\"unauthenticated\"} 6"),
        "{m}"
    );
    // Open: health.
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    s.stop().await;
}

/// A key's bucket empties at its burst and refills at its rate, on the virtual clock; another
/// key has its own bucket.
#[tokio::test(start_paused = true)]
async fn each_key_has_its_own_rate_limit() {
    let Some(s) = start(keyed(vec![
        ApiKey::new("slow", KEY, 1.0, 2).unwrap(),
        ApiKey::new("other", OTHER_KEY, 1.0, 2).unwrap(),
    ]))
    .await
    else {
        return;
    };
    // `/metrics` (guarded like detectIntent) touches no store, so nothing but the test moves
    // the virtual clock.
    let url = format!("{}/metrics", s.base);
    let send = |key: &'static str| s.client.get(&url).bearer_auth(key).send();
    for _ in 0..2 {
        assert_eq!(send(KEY).await.expect("send").status().as_u16(), 200);
    }
    let r = send(KEY).await.expect("send");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: Value = r.json().await.expect("json");
    assert_eq!(error_of(&v), (429, "RESOURCE_EXHAUSTED"));
    assert!(
        v["error"]["message"].as_str().unwrap().contains("`slow`"),
        "{v}"
    );
    assert_eq!(send(OTHER_KEY).await.expect("send").status().as_u16(), 200);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(send(KEY).await.expect("send").status().as_u16(), 200);
    assert_eq!(send(KEY).await.expect("send").status().as_u16(), 429);
    assert_eq!(s.state.guard.rate_limited.load(Ordering::Relaxed), 2);
    s.stop().await;
}

/// A page on another site can POST text/plain, forms and multipart without a preflight: JSON
/// routes refuse them (415, Google's error shape).
#[tokio::test]
async fn json_routes_refuse_other_content_types() {
    let Some(s) = start(ServerConfig::default()).await else {
        return;
    };
    for (url, ctype) in [
        (s.detect_url("ct"), Some("text/plain")),
        (
            s.detect_url("ct"),
            Some("application/x-www-form-urlencoded"),
        ),
        (s.detect_url("ct"), Some("multipart/form-data; boundary=x")),
        (s.detect_url("ct"), None),
        (
            format!("{}/v1/query", s.base),
            Some("text/plain;charset=UTF-8"),
        ),
    ] {
        let mut r = s.client.post(&url).body(BODY);
        if let Some(c) = ctype {
            r = r.header("content-type", c);
        }
        let r = r.send().await.expect("send");
        assert_eq!(r.status().as_u16(), 415, "{ctype:?}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(error_of(&v), (415, "INVALID_ARGUMENT"), "{v}");
    }
    let r = s
        .client
        .post(s.detect_url("ct"))
        .header("content-type", "application/json; charset=utf-8")
        .body(BODY)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(s.state.guard.wrong_type.load(Ordering::Relaxed), 5);
    s.stop().await;
}

async fn preflight(s: &TestServer, origin: &str) -> reqwest::Response {
    s.client
        .request(reqwest::Method::OPTIONS, s.detect_url("cors"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let Some(s) = start(with_server(ServerSection {
        cors_origins: vec!["https://app.example.com".into()],
        ..ServerSection::default()
    }))
    .await
    else {
        return;
    };
    let r = preflight(&s, "https://app.example.com").await;
    assert!(r.status().is_success());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = preflight(&s, "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = s
        .client
        .post(s.detect_url("cors"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .expect("send");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
    // Without origins: no CORS answer at all.
    let Some(s) = start(ServerConfig::default()).await else {
        return;
    };
    let r = preflight(&s, "https://app.example.com").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

/// Without keys the server serves loopback only, unless told `insecure_open`.
#[tokio::test]
async fn no_keys_no_network() {
    let Some(e) = restaurant() else {
        return;
    };
    for (config, refused) in [
        (ServerConfig::default(), true),
        (
            ServerConfig {
                insecure_open: true,
                ..ServerConfig::default()
            },
            false,
        ),
        (keyed(vec![ApiKey::new("k", KEY, 0.0, 1).unwrap()]), false),
    ] {
        let state = Arc::new(
            switchboard::AppState::new(
                e.clone(),
                config,
                Arc::new(switchboard::clock::SystemClock),
            )
            .await
            .expect("state"),
        );
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
            .await
            .expect("bind");
        let r = switchboard::run(listener, state, async {}).await;
        if refused {
            let e = r.expect_err("served on 0.0.0.0 without keys");
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("without API keys"), "{e}");
        } else {
            r.expect("served");
        }
    }
}

// ---- Dialogflow's rules ----

#[tokio::test]
async fn session_ids_follow_dialogflow() {
    let Some(s) = start(ServerConfig::default()).await else {
        return;
    };
    for bad in ["..", ".", "a:b", "a%20b", "a%2Fb", "caf%C3%A9"] {
        let (status, v) = s.post_raw(&s.detect_url(bad), BODY).await;
        assert_eq!(
            (status, error_of(&v)),
            (400, (400, "INVALID_ARGUMENT")),
            "{bad}: {v}"
        );
    }
    // Longer than Dialogflow's documented 36 (the Vonage sample sends 47), and usual shapes.
    for ok in [
        "CON-0f6d2c6e-1e3c-4a55-9c3e-4a5b6c7d8e9f-extra",
        "user@example.com",
        "+15551234567",
    ] {
        let (status, v) = s.post_raw(&s.detect_url(ok), BODY).await;
        assert_eq!(status, 200, "{ok}: {v}");
    }
    let (status, v) = s
        .post_raw(
            &format!("{}/v1/query", s.base),
            json!({"query": "hi", "sessionId": "a:b", "lang": "en"}).to_string(),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    s.stop().await;
}

/// Dialogflow answers an event no intent takes with the fallback intent.
#[tokio::test]
async fn an_unknown_event_gets_the_fallback_intent() {
    let Some(s) = start(ServerConfig::default()).await else {
        return;
    };
    let (status, v) = s.event("ev", "NO_SUCH_EVENT").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(intent_name(&v), "Default Fallback Intent", "{v}");
    assert_eq!(v["queryResult"]["queryText"], "NO_SUCH_EVENT");
    assert!(!fulfillment(&v).is_empty(), "{v}");
    // A known event still reaches its intent.
    let (_, v) = s.event("ev2", "WELCOME").await;
    assert_eq!(intent_name(&v), "Default Welcome Intent", "{v}");
    s.stop().await;
}

// ---- data on disk ----

#[cfg(unix)]
#[tokio::test]
async fn the_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("private");
    let data = dir.0.join("data");
    let Some(s) = start(ServerConfig {
        data_dir: Some(data.clone()),
        ..ServerConfig::default()
    })
    .await
    else {
        return;
    };
    let (status, _) = s.text("p1", "hello").await;
    assert_eq!(status, 200);
    s.stop().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in std::fs::read_dir(&data).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

// ---- the settings file at start ----

/// `serve` stops at once, naming the problem: an unknown key, a bad value, an unset key
/// variable, or a network address without keys.
#[test]
fn serve_refuses_bad_settings_clearly() {
    let Some(agent) = example_agent("restaurant") else {
        return;
    };
    let dir = TempDir::new("settings");
    let run = |toml: Option<&str>, listen: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args(["serve", "--no-phone", "--listen", listen, "--agent"])
            .arg(&agent)
            .arg("--data-dir")
            .arg(dir.0.join("data"))
            .env_remove("SWITCHBOARD_API_KEY")
            .env_remove("SWITCHBOARD_CONFIG");
        if let Some(t) = toml {
            let path = dir.0.join("switchboard.toml");
            std::fs::write(&path, t).expect("write toml");
            cmd.arg("--config").arg(path);
        }
        let out = cmd.output().expect("run switchboard");
        assert!(!out.status.success(), "{toml:?} {listen}: started");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run(Some("[server]\nmax_conections = 10\n"), "127.0.0.1:0");
    assert!(e.contains("unknown field `max_conections`"), "{e}");
    assert!(e.contains("switchboard.toml"), "{e}");
    let e = run(Some("[auth]\ninsecure = true\n"), "127.0.0.1:0");
    assert!(e.contains("unknown field `insecure`"), "{e}");
    let e = run(
        Some("[server]\nheader_read_timeout_ms = 0\n"),
        "127.0.0.1:0",
    );
    assert!(
        e.contains("server.header_read_timeout_ms must be between 100 and 600000"),
        "{e}"
    );
    let e = run(
        Some("[[auth.keys]]\nname = \"ops\"\nkey_env = \"SB_TEST_UNSET_KEY_VAR\"\n"),
        "127.0.0.1:0",
    );
    assert!(
        e.contains("environment variable SB_TEST_UNSET_KEY_VAR is not set"),
        "{e}"
    );
    let e = run(
        Some("[[auth.keys]]\nname = \"ops\"\nkey = \"short\"\n"),
        "127.0.0.1:0",
    );
    assert!(e.contains("at least 16 characters"), "{e}");
    let e = run(None, "0.0.0.0:0");
    assert!(e.contains("refusing to serve on 0.0.0.0"), "{e}");
    assert!(e.contains("insecure_open"), "{e}");
}
