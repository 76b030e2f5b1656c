//! `switchboard bench nlu|http`: in-process NLU latency and HTTP API throughput.

use crate::cli::{load_engine, BenchHttpArgs, BenchNluArgs};
use crate::config::ServerConfig;
use crate::state::AppState;
use crate::store::{Location, Store, StoreUrl};
use anyhow::Context;
use sb_nlu::dialog::{QueryInput, QueryParams, SessionState, TurnRequest, TurnStep};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Restaurant-domain queries (ordering, booking, hours, small talk, out of domain).
pub const RESTAURANT_SENTENCES: &[&str] = &[
    "I'd like to book a table for four tomorrow at 7pm",
    "can I reserve a table for two tonight",
    "what time do you open on sunday",
    "are you open now",
    "what are your opening hours",
    "I want to order a large pepperoni pizza",
    "can I get two burgers and a coke",
    "do you have vegetarian options",
    "is there anything gluten free on the menu",
    "where are you located",
    "what's your address",
    "do you deliver to my area",
    "how long does delivery take",
    "cancel my reservation",
    "I need to change my booking to 8pm",
    "table for 6 people on friday evening",
    "hi there",
    "hello",
    "thanks, that's all",
    "goodbye",
    "can I pay by card",
    "do you take reservations for large groups",
    "I'd like the pasta with a glass of red wine",
    "what's today's special",
    "is parking available",
    "make it for next saturday at noon",
    "yes please",
    "no thanks",
    "what is the weather like in paris",
    "play some jazz music",
];

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Queries for a bench: the restaurant sentences plus up to 100 of the agent's training phrases.
fn sentences(engine: &sb_nlu::engine::Engine) -> Vec<String> {
    let mut out: Vec<String> = RESTAURANT_SENTENCES.iter().map(|s| s.to_string()).collect();
    let phrases = engine
        .agent
        .intents
        .iter()
        .flat_map(|i| i.training_phrases.iter().map(|p| p.text()));
    out.extend(
        phrases
            .filter(|t| !t.trim().is_empty() && t.chars().count() <= 256)
            .take(100),
    );
    out
}

const NAMES: &[&str] = &[
    "Tanya", "Nicole", "Joseph", "Amanda", "Michael", "Sarah", "David", "Emma", "Olivia", "James",
    "Sophia", "Daniel", "Grace", "Henry", "Chloe", "Lucas", "Mia", "Noah", "Ava", "Ethan", "Zoe",
    "Liam", "Ella", "Jack",
];
const DATES: &[&str] = &[
    "tomorrow",
    "today",
    "next friday",
    "on monday",
    "the 10th",
    "the 3rd of March",
    "01/09/2022",
    "10/12/2021",
    "March 12th",
    "next saturday",
    "on the 21st",
    "June 5",
    "the day after tomorrow",
    "this sunday",
    "12/24/2022",
];
const TIMES: &[&str] = &[
    "7pm",
    "10:00 am",
    "13:00",
    "noon",
    "half past seven",
    "8 pm",
    "6:30 pm",
    "19:00",
    "9 am",
    "12:30",
    "1 pm",
    "quarter to eight",
    "11am",
    "five o'clock",
];
const TEMPLATES: &[&str] = &[
    "I'd like to book a table for {n} {d} at {t}",
    "could I book a slot at {t} on {d} for {n}?",
    "a table for {n} on {d} at {t}, please",
    "reserve a table {d} at {t} under the name {n}",
    "can {n} get a table at {t} {d}",
];

/// The i-th of many distinct booking sentences (so no per-text cache can hide the cost).
pub fn unique_sentence(i: usize) -> String {
    let t = TEMPLATES[i % TEMPLATES.len()];
    let j = i / TEMPLATES.len();
    t.replace("{n}", NAMES[j % NAMES.len()])
        .replace("{d}", DATES[(j / NAMES.len()) % DATES.len()])
        .replace(
            "{t}",
            TIMES[(j / (NAMES.len() * DATES.len())) % TIMES.len()],
        )
}

pub fn nlu(a: BenchNluArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let engine = load_engine(&a.agent, None)?;
    println!(
        "agent {} loaded and trained in {:.0} ms",
        engine.agent.name,
        t0.elapsed().as_secs_f64() * 1e3
    );
    let sentences = sentences(&engine);
    let n = a.queries.max(1);
    // Cold pass: every query is a sentence never seen before (no cache can help).
    let distinct = TEMPLATES.len() * NAMES.len() * DATES.len() * TIMES.len();
    let mut cold = Vec::with_capacity(n.min(distinct));
    for i in 0..n.min(distinct) {
        let text = unique_sentence(i * 7919 % distinct);
        let req = TurnRequest {
            session: "projects/bench/agent/sessions/nlu-cold".into(),
            input: QueryInput::Text {
                text,
                language_code: engine.agent.language.clone(),
            },
            params: QueryParams::default(),
            now: chrono::Utc::now(),
            sentiment: None,
            speech_confidence: None,
            source: "bench".into(),
        };
        let mut state = SessionState::default();
        let t = Instant::now();
        let step = engine.begin(&mut state, req);
        cold.push(t.elapsed().as_nanos() as u64 / 1_000);
        std::hint::black_box(step);
    }
    cold.sort_unstable();
    println!(
        "nlu cold: {} distinct booking sentences: mean {:.0} µs, p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
        cold.len(),
        cold.iter().sum::<u64>() as f64 / cold.len().max(1) as f64,
        percentile(&cold, 0.50),
        percentile(&cold, 0.90),
        percentile(&cold, 0.99),
        cold.last().copied().unwrap_or(0)
    );
    let mut lat = Vec::with_capacity(n);
    let mut webhook_turns = 0usize;
    let warmup = 200.min(n);
    for i in 0..n + warmup {
        let req = TurnRequest {
            session: "projects/bench/agent/sessions/nlu".into(),
            input: QueryInput::Text {
                text: sentences[i % sentences.len()].clone(),
                language_code: engine.agent.language.clone(),
            },
            params: QueryParams::default(),
            now: chrono::Utc::now(),
            sentiment: None,
            speech_confidence: None,
            source: "bench".into(),
        };
        let mut state = SessionState::default();
        let t = Instant::now();
        let step = engine.begin(&mut state, req);
        let us = t.elapsed().as_nanos() as u64 / 1_000;
        if i >= warmup {
            lat.push(us);
            if matches!(step, TurnStep::Webhook(_)) {
                webhook_turns += 1;
            }
        }
        std::hint::black_box(step);
    }
    lat.sort_unstable();
    let mean = lat.iter().sum::<u64>() as f64 / lat.len() as f64;
    println!(
        "nlu warm: {} queries ({} distinct, repeated, {} stopped at a webhook): mean {:.0} µs, p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
        lat.len(),
        sentences.len(),
        webhook_turns,
        mean,
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    Ok(())
}

pub async fn http(a: BenchHttpArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.seconds > 0 && a.seconds <= 3600,
        "--seconds must be 1..=3600"
    );
    anyhow::ensure!(
        a.connections > 0 && a.connections <= 1024,
        "--connections must be 1..=1024"
    );
    let engine = load_engine(&a.agent, None)?;
    let sentences = Arc::new(sentences(&engine));
    let (dir, temporary) = match &a.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("switchboard-bench-{}", uuid::Uuid::new_v4())),
            true,
        ),
    };
    // With `--api-key`, every request presents it (the rate limit is set out of reach, so the
    // figure is the cost of checking the key and the bucket).
    let api_keys = match &a.api_key {
        Some(k) => vec![crate::guard::ApiKey::new("bench", k, 1e12, u32::MAX)?],
        None => Vec::new(),
    };
    let bearer = a.api_key.as_ref().map(|k| format!("Bearer {k}"));
    let config = ServerConfig {
        data_dir: Some(dir.clone()),
        store_url: a.store_url.as_deref().map(StoreUrl::parse).transpose()?,
        api_keys,
        ..ServerConfig::default()
    };
    let location = config.store_location();
    let state = Arc::new(AppState::new(engine, config, Arc::new(crate::clock::SystemClock)).await?);
    // A shared database may hold turns of earlier runs: count this run's only.
    let turns_before = state.store.turn_count().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind")?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::run(listener, state, async move {
        let _ = stop_rx.await;
    }));

    let cpu_start = process_cpu_seconds();
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let sentences = sentences.clone();
        let bearer = bearer.clone();
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = 0usize;
            while Instant::now() < deadline {
                // A new session every 5 turns: distinct sessions per connection, some slot-filling state.
                let url = format!("http://{addr}/v2/projects/bench/agent/sessions/bench-{c}-{}:detectIntent", i / 5);
                let text = &sentences[(i * 7 + c) % sentences.len()];
                let body = serde_json::json!({"queryInput": {"text": {"text": text, "languageCode": "en"}}});
                let t = Instant::now();
                let mut req = client.post(&url).json(&body);
                if let Some(b) = &bearer {
                    req = req.header(reqwest::header::AUTHORIZATION, b);
                }
                let ok = match req.send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
                i += 1;
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.context("client task")?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds()
        .zip(cpu_start)
        .map(|(end, start)| end - start);
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    let persisted = count_turns(&location).await.unwrap_or(0) - turns_before;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    lat.sort_unstable();
    println!(
        "http: {} connections, {:.1} s: {} ok, {} errors, {:.0} req/s, p50 {} µs, p90 {} µs, p99 {} µs; {} turns persisted",
        a.connections,
        elapsed,
        lat.len(),
        errors,
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        persisted
    );
    if let Some(cpu) = cpu.filter(|_| !lat.is_empty()) {
        let per_req = cpu * 1e6 / lat.len() as f64;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "http: process CPU {cpu:.2} s = {per_req:.0} µs per request (server + clients + store); \
             {:.0}% of {cores} cores; {:.0} req/s if the process had all {cores} cores",
            cpu / elapsed / cores as f64 * 100.0,
            cores as f64 * 1e6 / per_req
        );
    }
    Ok(())
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, 100 ticks/s).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

async fn count_turns(location: &Location) -> anyhow::Result<i64> {
    let store = Store::open(location, 1).await?;
    let n = store.turn_count().await?;
    store.close().await;
    Ok(n)
}
