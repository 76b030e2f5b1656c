//! How fast a customer's message reaches an agent's console: from sending it (`/chat/api/say`)
//! to its `entry` event arriving on the console's SSE stream. One chat, then 200 concurrent
//! chats (no message may be lost). Prints p50/p95; fails on a lost message or a p95 beyond a
//! sanity bound (the targets, 100 ms and 250 ms, are reported, not asserted, on a shared CI host).

mod common;
mod web_support;

use common::{example_agent, TestServer};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use web_support::*;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sees_customer_messages_fast_and_loses_none_with_200_chats() {
    let Some(agent_dir) = example_agent("restaurant") else {
        return;
    };
    let s = TestServer::simple(common::engine(&agent_dir, None)).await;
    add_user(&s.state, "ada", None).await;
    let console = Console::sign_in(&s.base, "ada").await;
    let mut ev = console.events().await;

    // One chat, one message at a time.
    let (chat, _) = Chat::start(&s.base).await;
    let mut single = Vec::new();
    for i in 0..100 {
        let text = format!("single {i}: a table for two please");
        let t0 = Instant::now();
        let say = chat.say(&text);
        let seen = async {
            loop {
                let e = ev.next().await;
                if e.data["type"] == "entry" && e.data["entry"]["text"] == text.as_str() {
                    return e.at;
                }
            }
        };
        let (_, at) = tokio::join!(say, seen);
        single.push(at.duration_since(t0).as_secs_f64() * 1e3);
    }
    let (p50, p95) = (pct(&mut single, 0.5), pct(&mut single, 0.95));
    eprintln!("console latency, 1 chat: p50 {p50:.1} ms, p95 {p95:.1} ms (target p95 <= 100 ms)");

    // 200 chats at once, 5 messages each.
    const CHATS: usize = 200;
    const EACH: usize = 5;
    let mut chats = Vec::new();
    let mut first_reply = Vec::new();
    for _ in 0..CHATS {
        let t0 = Instant::now();
        let (c, _) = Chat::start(&s.base).await;
        first_reply.push(t0.elapsed().as_secs_f64() * 1e3);
        chats.push(Arc::new(c));
    }
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ev.rx.recv()).await {}
    let sent: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
    let collector = tokio::spawn(async move {
        let mut got = HashMap::new();
        while got.len() < CHATS * EACH {
            let e = ev.next().await;
            if e.event == "resync" {
                panic!("the console fell behind and had to resync");
            }
            if e.data["type"] == "entry" && e.data["entry"]["who"] == "customer" {
                if let Some(t) = e.data["entry"]["text"].as_str() {
                    got.insert(t.to_string(), e.at);
                }
            }
        }
        got
    });
    let mut tasks = Vec::new();
    for (n, c) in chats.iter().enumerate() {
        let c = c.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let text = format!("chat {n} message {i}: book a table for four");
                sent.lock()
                    .expect("lock")
                    .insert(text.clone(), Instant::now());
                c.say(&text).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("chat task");
    }
    let got = tokio::time::timeout(Duration::from_secs(60), collector)
        .await
        .expect("every message within 60 s")
        .expect("collector");
    let sent = sent.lock().expect("lock").clone();
    assert_eq!(got.len(), CHATS * EACH, "messages lost");
    let mut lat: Vec<f64> = sent
        .iter()
        .map(|(t, at)| got[t].duration_since(*at).as_secs_f64() * 1e3)
        .collect();
    let (c50, c95) = (pct(&mut lat, 0.5), pct(&mut lat, 0.95));
    let (f50, f95) = (pct(&mut first_reply, 0.5), pct(&mut first_reply, 0.95));
    eprintln!(
        "console latency, {CHATS} concurrent chats x {EACH}: p50 {c50:.1} ms, p95 {c95:.1} ms \
         (target p95 <= 250 ms), lost 0, console lags {}",
        s.state.web.hub.lagged()
    );
    eprintln!("chat start to first bot message (API): p50 {f50:.1} ms, p95 {f95:.1} ms");
    assert_eq!(s.state.web.hub.lagged(), 0);
    assert!(
        p95 < 1_000.0 && c95 < 2_000.0,
        "latency beyond the sanity bound"
    );
    s.stop().await;
}
