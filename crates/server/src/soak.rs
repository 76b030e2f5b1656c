//! `switchboard bench soak`: simulated callers call a `switchboard serve` child (or `--url`) back
//! to back for N minutes — Twilio and Vonage alternating, text `detectIntent` turns between calls,
//! now and then a misbehaving call (malformed frames, a call dropped mid-turn) — while the
//! server's RSS, open files, threads and live calls / sessions / tokio tasks are sampled every
//! `--interval`; at the end, the leak verdict (see [`sb_testkit::soak`]), a JSON report and an
//! SVG plot. Exits non-zero when RSS grew by 5 % or more after warm-up, or when fds, threads,
//! live calls, sessions or tasks did not return to the idle baseline.

use crate::config::parse_duration;
use crate::demo::{free_port, spawn_server_with, ServerProcess};
use crate::sim_cli::{caller_voices, platform};
use anyhow::Context;
use clap::Args;
use sb_testkit::procstat::{memory_kib, open_fds, thread_count};
use sb_testkit::soak::{
    default_warmup, fmt_header, fmt_row, not_returned, place_bad_call, prometheus_value, soak_svg,
    verdict, BadCall, Limits, Phase, Sample, Verdict,
};
use sb_testkit::{place_call, CallOptions, CallReport, Percentiles, Platform, Script, Voices};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

#[derive(Debug, Args)]
pub struct BenchSoakArgs {
    /// How long the callers keep calling, in minutes (fractions allowed).
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// The same in seconds (overrides --minutes).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Seconds between samples.
    #[arg(long, default_value_t = 30.0)]
    pub interval: f64,
    /// Seconds of load before the RSS reference (default: 10 % of the run, at most 120).
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Concurrent callers, each placing one call after another.
    #[arg(long, default_value_t = 2)]
    pub calls: usize,
    /// `twilio`, `vonage` or `both` (alternating call by call).
    #[arg(long, default_value = "both")]
    pub transport: String,
    /// Soak an already running server (its base URL, `http://host:port`) instead of a child.
    #[arg(long)]
    pub url: Option<String>,
    /// The pid of the `--url` server, for its RSS, fds and threads (from /proc).
    #[arg(long, requires = "url")]
    pub pid: Option<u32>,
    #[arg(long, default_value = "examples/restaurant")]
    pub agent: PathBuf,
    /// Caller script (default: greeting, the one-sentence booking, the bot hangs up).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Session TTL of the child server: short, so that the session cache turns over during the
    /// run and must be back at its baseline once the callers stop.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Every Nth conversation of each caller is followed by a misbehaving call (0 = none).
    #[arg(long, default_value_t = 5)]
    pub bad_every: usize,
    /// No text detectIntent turns between calls.
    #[arg(long)]
    pub no_text: bool,
    /// RSS growth (after warm-up → end) at or above which the run fails, in percent.
    #[arg(long, default_value_t = 5.0)]
    pub max_rss_growth_pct: f64,
    /// Open fds, threads and tokio tasks may end this much above their idle baseline.
    #[arg(long, default_value_t = 0)]
    pub slack: u64,
    /// Seconds to wait after the callers stop for the server to return to its baseline
    /// (default: session TTL + sweep interval + 30).
    #[arg(long)]
    pub settle: Option<f64>,
    /// Where `bench-soak.json` and `bench-soak.svg` go.
    #[arg(long, default_value = "bench-soak")]
    pub out: PathBuf,
    /// No run: re-read a saved `bench-soak.json`, print its table and verdict and redraw its
    /// `bench-soak.svg` beside it.
    #[arg(long)]
    pub replot: Option<PathBuf>,
}

/// What `--replot` reads back from a report.
#[derive(Debug, serde::Deserialize)]
struct Saved {
    samples: Vec<Sample>,
    warmup_s: f64,
    limits: Limits,
    concurrent_calls: usize,
    duration_s: f64,
    transports: Vec<String>,
}

fn title(calls: usize, run_s: f64, transports: &[impl AsRef<str>]) -> String {
    let t: Vec<&str> = transports.iter().map(AsRef::as_ref).collect();
    format!(
        "Soak: {calls} caller(s), {:.0} min, {}",
        run_s / 60.0,
        t.join("+")
    )
}

fn replot(json: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(json).with_context(|| format!("cannot read {}", json.display()))?;
    let r: Saved = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a bench-soak report", json.display()))?;
    println!("{}", fmt_header());
    for s in r.samples.iter().filter(|s| s.phase != Phase::Settle) {
        show(s);
    }
    if let Some(s) = r.samples.last().filter(|s| s.phase == Phase::Settle) {
        show(s);
    }
    let v = verdict(&r.samples, r.warmup_s, &r.limits);
    let svg_path = json.with_file_name("bench-soak.svg");
    let t = title(r.concurrent_calls, r.duration_s, &r.transports);
    std::fs::write(&svg_path, soak_svg(&r.samples, &v, &t))?;
    print_verdict(&v);
    println!("plot: {}", svg_path.display());
    if v.pass {
        Ok(())
    } else {
        anyhow::bail!("soak failed: {}", v.failures.join("; "))
    }
}

/// The JSON report.
#[derive(Debug, Serialize)]
struct SoakReport {
    url: String,
    server_pid: Option<u32>,
    server_log: Option<PathBuf>,
    started_at: String,
    transports: Vec<&'static str>,
    concurrent_calls: usize,
    duration_s: f64,
    interval_s: f64,
    warmup_s: f64,
    session_ttl_s: Option<f64>,
    sweep_interval_s: Option<f64>,
    bad_every: usize,
    text_turns: bool,
    limits: Limits,
    verdict: Verdict,
    samples: Vec<Sample>,
}

/// Traffic since the last sample.
#[derive(Default)]
struct Acc {
    reply: Vec<u64>,
    text: Vec<u64>,
    calls_completed: u64,
    calls_failed: u64,
    bad_calls: u64,
    text_turns: u64,
    text_failed: u64,
    problems: Vec<String>,
}

impl Acc {
    fn problem(&mut self, p: String) {
        if self.problems.len() < 5 && !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn call(&mut self, r: &CallReport, timeout_ms: u64) {
        for t in &r.turns {
            match t.latency_ms {
                Some(l) => self.reply.push(l),
                None if t.caller.starts_with("[silence") => {}
                None => self.reply.push(timeout_ms),
            }
        }
        if r.ok {
            self.calls_completed += 1;
        } else {
            self.calls_failed += 1;
            for p in &r.problems {
                self.problem(format!("{} call: {p}", r.transport));
            }
        }
    }
}

struct Probe {
    client: reqwest::Client,
    base: String,
    pid: Option<u32>,
}

impl Probe {
    /// The server's figures now, with the traffic of `acc` since the last sample.
    async fn sample(&self, t_s: f64, phase: Phase, acc: Option<&Mutex<Acc>>) -> Sample {
        let mem = memory_kib(self.pid);
        let metrics = async {
            let r = self
                .client
                .get(format!("{}/metrics", self.base))
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .ok()?;
            r.text().await.ok()
        }
        .await
        .unwrap_or_default();
        let gauge = |name: &str| prometheus_value(&metrics, name).map(|v| v.max(0.0) as u64);
        let mut s = Sample {
            t_s,
            phase,
            rss_kib: mem.map(|m| m.0),
            hwm_kib: mem.map(|m| m.1),
            fds: self.pid.and_then(|p| open_fds(Some(p))),
            threads: self.pid.and_then(|p| thread_count(Some(p))),
            live_calls: gauge("switchboard_calls_live")
                .or_else(|| gauge("switchboard_calls_active")),
            sessions: gauge("switchboard_sessions_cached"),
            tasks: gauge("switchboard_tokio_alive_tasks"),
            ..Sample::default()
        };
        if let Some(acc) = acc {
            let a = std::mem::take(&mut *acc.lock().unwrap_or_else(|p| p.into_inner()));
            s.calls_completed = a.calls_completed;
            s.calls_failed = a.calls_failed;
            s.bad_calls = a.bad_calls;
            s.text_turns = a.text_turns;
            s.text_failed = a.text_failed;
            s.reply = Percentiles::of(&a.reply);
            s.text = Percentiles::of(&a.text);
            s.problems = a.problems;
        }
        s
    }
}

fn show(s: &Sample) {
    println!("{}", fmt_row(s));
    for p in &s.problems {
        eprintln!("        problem: {p}");
    }
}

pub async fn soak(a: BenchSoakArgs) -> anyhow::Result<()> {
    if let Some(json) = &a.replot {
        return replot(json);
    }
    let run_s = a.seconds.unwrap_or(a.minutes * 60.0);
    anyhow::ensure!(
        run_s.is_finite() && run_s > 0.0,
        "--minutes/--seconds must be > 0"
    );
    anyhow::ensure!(a.calls > 0, "--calls must be at least 1");
    anyhow::ensure!(
        a.interval.is_finite() && a.interval >= 0.5,
        "--interval must be at least 0.5 s"
    );
    let run = Duration::from_secs_f64(run_s);
    let interval = Duration::from_secs_f64(a.interval);
    let warmup = a
        .warmup
        .map(Duration::from_secs_f64)
        .unwrap_or_else(|| default_warmup(run));
    let transports: Vec<Platform> = match a.transport.to_ascii_lowercase().as_str() {
        "both" => vec![Platform::Twilio, Platform::Vonage],
        other => vec![platform(other)?],
    };
    let limits = Limits {
        max_rss_growth: a.max_rss_growth_pct / 100.0,
        slack: a.slack,
    };

    let paths = tokio::task::spawn_blocking(|| crate::speech_cli::model_paths(None)).await??;
    let voices = tokio::task::spawn_blocking(move || {
        caller_voices(&paths, crate::sim_cli::DEFAULT_CALLER_VOICE, false)
    })
    .await??;
    let script = match &a.script {
        Some(p) => Script::load(p)?,
        None => Script::from_toml_str(&format!(
            "[call]\ngreeting = true\n[[turn]]\nsay = \"{BOOKING}\"\nexpect_hangup = true\n"
        ))?,
    };
    script.validate()?;
    voices.prepare(&script).await?;
    let bad_speech = voices.say(BOOKING).await?;

    let sweep = (a.session_ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let (server, base, pid): (Option<ServerProcess>, String, Option<u32>) = match &a.url {
        Some(u) => (None, u.trim_end_matches('/').to_string(), a.pid),
        None => {
            let dir =
                std::env::temp_dir().join(format!("switchboard-bench-soak-{}", std::process::id()));
            let extra = [
                "--session-ttl".to_string(),
                format!("{}ms", a.session_ttl.as_millis()),
                "--sweep-interval".to_string(),
                format!("{}ms", sweep.as_millis()),
            ];
            let s = spawn_server_with(&a.agent, free_port()?, &dir, &extra).await?;
            let (b, p) = (s.http(), Some(s.pid()));
            (Some(s), b, p)
        }
    };
    anyhow::ensure!(
        base.starts_with("http://") || base.starts_with("https://"),
        "--url must be the server's base URL (http://host:port)"
    );
    let ws_base = base.replacen("http", "ws", 1);
    let settle = a
        .settle
        .map(Duration::from_secs_f64)
        .unwrap_or_else(|| a.session_ttl + sweep + Duration::from_secs(30));
    eprintln!(
        "soak: {} concurrent caller(s) over {} for {:.1} min against {base}{}; sample every {:.0} s, \
         warm-up {:.0} s, session TTL {:?}",
        a.calls,
        transports.iter().map(|p| name(*p)).collect::<Vec<_>>().join("+"),
        run_s / 60.0,
        server
            .as_ref()
            .map_or(String::new(), |s| format!(" (log {})", s.log.display())),
        interval.as_secs_f64(),
        warmup.as_secs_f64(),
        a.session_ttl,
    );

    let probe = Probe {
        client: reqwest::Client::builder()
            .pool_idle_timeout(None)
            .pool_max_idle_per_host(1)
            .build()?,
        base: base.clone(),
        pid,
    };
    let mut samples = Vec::new();
    println!("{}", fmt_header());
    // The idle baseline, once the server's start-up connections are gone: two samples in a row
    // that agree.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut baseline = probe.sample(0.0, Phase::Baseline, None).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = probe.sample(0.0, Phase::Baseline, None).await;
        let same = (s.fds, s.threads, s.tasks, s.sessions, s.live_calls)
            == (
                baseline.fds,
                baseline.threads,
                baseline.tasks,
                baseline.sessions,
                baseline.live_calls,
            );
        baseline = s;
        if same {
            break;
        }
    }
    show(&baseline);
    samples.push(baseline.clone());

    let acc = Arc::new(Mutex::new(Acc::default()));
    let start = Instant::now();
    let end = start + run;
    let text_client = reqwest::Client::new();
    let bad_count = Arc::new(AtomicUsize::new(0));
    let stagger = (Duration::from_secs(3)).min(run / (2 * a.calls as u32));
    let mut callers = Vec::new();
    for i in 0..a.calls {
        let ctx = Caller {
            voices: voices.without_asr(),
            script: script.clone(),
            ws_base: ws_base.clone(),
            base: base.clone(),
            transports: transports.clone(),
            bad_count: bad_count.clone(),
            bad_speech: bad_speech.clone(),
            bad_every: a.bad_every,
            text: (!a.no_text).then(|| text_client.clone()),
            acc: acc.clone(),
            index: i,
        };
        let begin = start + stagger * i as u32;
        callers.push(tokio::spawn(async move {
            tokio::time::sleep_until(begin).await;
            ctx.run(end).await
        }));
    }
    drop(text_client);

    let mut k = 1u32;
    loop {
        let at = (start + interval * k).min(end);
        tokio::time::sleep_until(at).await;
        let s = probe
            .sample(
                at.duration_since(start).as_secs_f64(),
                Phase::Load,
                Some(&acc),
            )
            .await;
        show(&s);
        samples.push(s);
        if at >= end {
            break;
        }
        k += 1;
    }
    for c in callers {
        if let Err(e) = c.await {
            eprintln!("a caller task failed: {e}");
        }
    }
    let s = probe
        .sample(start.elapsed().as_secs_f64(), Phase::Drain, Some(&acc))
        .await;
    show(&s);
    samples.push(s.clone());

    // Settle: poll until every count is back at the baseline, or `settle` has passed.
    let settle_end = Instant::now() + settle;
    let step = Duration::from_secs(1);
    let mut last_kept = start.elapsed().as_secs_f64();
    let mut last = s;
    while !not_returned(&baseline, &last, &limits).is_empty() && Instant::now() < settle_end {
        tokio::time::sleep(step).await;
        let s = probe
            .sample(start.elapsed().as_secs_f64(), Phase::Settle, None)
            .await;
        let returned = not_returned(&baseline, &s, &limits).is_empty();
        if returned || s.t_s - last_kept >= interval.as_secs_f64() {
            last_kept = s.t_s;
            samples.push(s.clone());
        }
        last = s;
    }
    if samples.last() != Some(&last) {
        samples.push(last.clone());
    }
    if last.phase == Phase::Settle {
        show(&last);
    }

    let v = verdict(&samples, warmup.as_secs_f64(), &limits);
    let report = SoakReport {
        url: base.clone(),
        server_pid: pid,
        server_log: server.as_ref().map(|s| s.log.clone()),
        started_at: chrono::Utc::now().to_rfc3339(),
        transports: transports.iter().map(|p| name(*p)).collect(),
        concurrent_calls: a.calls,
        duration_s: run_s,
        interval_s: interval.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        session_ttl_s: server.as_ref().map(|_| a.session_ttl.as_secs_f64()),
        sweep_interval_s: server.as_ref().map(|_| sweep.as_secs_f64()),
        bad_every: a.bad_every,
        text_turns: !a.no_text,
        limits,
        verdict: v.clone(),
        samples,
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let json_path = a.out.join("bench-soak.json");
    let svg_path = a.out.join("bench-soak.svg");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    let t = title(a.calls, run_s, &report.transports);
    std::fs::write(&svg_path, soak_svg(&report.samples, &v, &t))?;
    print_verdict(&v);
    println!(
        "report: {}  plot: {}",
        json_path.display(),
        svg_path.display()
    );
    drop(server);
    if v.pass {
        Ok(())
    } else {
        anyhow::bail!("soak failed: {}", v.failures.join("; "))
    }
}

fn name(p: Platform) -> &'static str {
    match p {
        Platform::Twilio => "twilio",
        Platform::Vonage => "vonage",
    }
}

fn print_verdict(v: &Verdict) {
    let mib = |k: Option<u64>| k.map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    let o = |x: Option<u64>| x.map_or("-".into(), |x| x.to_string());
    let p =
        |p: Option<Percentiles>| p.map_or("-".into(), |p| format!("{}/{} ms", o(p.p50), o(p.p95)));
    println!(
        "\nRSS: {} idle before, {} after warm-up ({:.0} s), {} at the end of load: growth {} \
         (slope after warm-up {})",
        mib(v.rss_baseline_kib),
        mib(v.rss_after_warmup_kib),
        v.warmup_s,
        mib(v.rss_end_kib),
        v.rss_growth
            .map_or("-".into(), |g| format!("{:+.2} %", g * 100.0)),
        v.rss_slope_kib_per_min
            .map_or("-".into(), |s| format!("{s:+.0} KiB/min")),
    );
    println!("               idle before  after warm-up  end of load  end (idle)");
    for (label, c) in [
        ("open fds", v.fds),
        ("threads", v.threads),
        ("live calls", v.live_calls),
        ("sessions", v.sessions),
        ("tokio tasks", v.tasks),
    ] {
        println!(
            "{label:<12} {:>12} {:>14} {:>12} {:>11}",
            o(c.baseline),
            o(c.after_warmup),
            o(c.end_of_load),
            o(c.end)
        );
    }
    println!(
        "calls: {} completed, {} failed; {} misbehaving call(s); text turns: {} answered, {} failed",
        v.calls_completed, v.calls_failed, v.bad_calls, v.text_turns, v.text_failed
    );
    println!(
        "reply latency p50/p95: first interval {}, last interval {}",
        p(v.reply_first),
        p(v.reply_last)
    );
    if v.pass {
        println!("verdict: PASS");
    } else {
        println!("verdict: FAIL");
        for f in &v.failures {
            println!("  - {f}");
        }
    }
}

/// One simulated caller: a call, a text conversation, sometimes a misbehaving call; again.
struct Caller {
    voices: Voices,
    script: Script,
    ws_base: String,
    base: String,
    transports: Vec<Platform>,
    bad_count: Arc<AtomicUsize>,
    bad_speech: sb_testkit::Pcm,
    bad_every: usize,
    text: Option<reqwest::Client>,
    acc: Arc<Mutex<Acc>>,
    index: usize,
}

impl Caller {
    fn acc(&self) -> std::sync::MutexGuard<'_, Acc> {
        self.acc.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn url(&self, p: Platform) -> String {
        match p {
            Platform::Twilio => format!("{}/twilio/media", self.ws_base),
            Platform::Vonage => format!("{}/vonage/media", self.ws_base),
        }
    }

    async fn run(self, end: Instant) {
        let mut n = 0usize;
        while Instant::now() < end {
            // Each caller alternates (caller 0 starts with Twilio, caller 1 with Vonage, …), so
            // both transports run side by side and each follows the other.
            let p = self.transports[(self.index + n) % self.transports.len()];
            let opts = CallOptions::new(p, self.url(p));
            let timeout_ms = opts.reply_timeout.as_millis() as u64;
            let report = place_call(opts, self.script.clone(), &self.voices).await;
            self.acc().call(&report, timeout_ms);
            if let Some(client) = &self.text {
                let session = format!("soak-{}-{}-{n}", std::process::id(), self.index);
                self.text_conversation(client, &session).await;
            }
            n += 1;
            // A caller's first cycle always ends with its misbehaving call (when one is due),
            // so a short run on a slow machine still exercises every kind of call once.
            if self.bad_every > 0
                && n.is_multiple_of(self.bad_every)
                && (n == 1 || Instant::now() < end)
            {
                let b = self.bad_count.fetch_add(1, Ordering::Relaxed);
                let kind = if b.is_multiple_of(2) {
                    BadCall::MalformedFrames
                } else {
                    BadCall::DropMidTurn
                };
                let p = self.transports[b / 2 % self.transports.len()];
                let r = place_bad_call(p, &self.url(p), &self.bad_speech, kind).await;
                let mut acc = self.acc();
                acc.bad_calls += 1;
                if let Err(e) = r {
                    acc.problem(format!("misbehaving {} call ({kind:?}): {e}", name(p)));
                }
            }
        }
    }

    /// A booking by text (four turns), then two requests the server must refuse with a 4xx.
    async fn text_conversation(&self, client: &reqwest::Client, session: &str) {
        let url = format!(
            "{}/v2/projects/soak/agent/sessions/{session}:detectIntent",
            self.base
        );
        let turns = [
            json!({"queryInput": {"event": {"name": "WELCOME", "languageCode": "en"}}}),
            json!({"queryInput": {"text": {"text": "I'd like to book a table for tomorrow", "languageCode": "en"}}}),
            json!({"queryInput": {"text": {"text": "Tanya", "languageCode": "en"}}}),
            json!({"queryInput": {"text": {"text": "at 7 pm", "languageCode": "en"}}}),
        ];
        for body in turns {
            let t0 = Instant::now();
            let r = client
                .post(&url)
                .json(&body)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let ok = match r {
                Ok(r) if r.status().is_success() => r
                    .json::<serde_json::Value>()
                    .await
                    .map(|v| v["queryResult"].is_object())
                    .unwrap_or(false),
                Ok(r) => {
                    self.acc()
                        .problem(format!("detectIntent answered {}", r.status()));
                    false
                }
                Err(e) => {
                    self.acc().problem(format!("detectIntent failed: {e}"));
                    false
                }
            };
            let ms = t0.elapsed().as_millis() as u64;
            let mut acc = self.acc();
            if ok {
                acc.text_turns += 1;
                acc.text.push(ms);
            } else {
                acc.text_failed += 1;
            }
        }
        let long = "a".repeat(300);
        let bad: [(&str, String); 2] = [
            ("malformed JSON", "{\"queryInput\": {\"text\": ".to_string()),
            (
                "over-long text",
                json!({"queryInput": {"text": {"text": long, "languageCode": "en"}}}).to_string(),
            ),
        ];
        for (what, body) in bad {
            let r = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let refused = match r {
                Ok(r) => {
                    let ok = r.status().is_client_error();
                    let _ = r.bytes().await;
                    ok
                }
                Err(_) => false,
            };
            if !refused {
                let mut acc = self.acc();
                acc.text_failed += 1;
                acc.problem(format!("{what} was not refused with a 4xx"));
            }
        }
    }
}
