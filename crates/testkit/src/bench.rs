//! The voice benchmark: levels of N concurrent simulated calls, latency percentiles, CPU per
//! call and memory of the server, the largest N within a p95 budget.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sb_transport::Platform;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::call::{place_call, platform_name, CallOptions};
use crate::procstat::{cpu_seconds, memory_kib};
use crate::report::CallReport;
use crate::script::Script;
use crate::voices::Voices;
use crate::TestkitError;

/// Progress lines for a CLI (`level 4: 12 calls, p95 640 ms`).
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// What to benchmark and how hard.
#[derive(Clone)]
pub struct BenchOptions {
    pub url: String,
    pub transport: Platform,
    /// Each simulated call follows this script (its `expect_bot_contains` is not checked:
    /// the benchmark runs without ASR to leave the CPU to the server).
    pub script: Script,
    /// Concurrent calls per level, e.g. `[1, 2, 4, 8, 12, 16, 24]`.
    pub levels: Vec<usize>,
    /// Calls keep being placed back-to-back for this long per level (calls started before
    /// the end run to completion).
    pub duration_per_level: Duration,
    pub p95_threshold_ms: u64,
    /// The server's process for CPU and memory; `None` = the server runs in this process.
    pub server_pid: Option<u32>,
    /// Where to write `bench-voice.json` and `bench-voice.svg`.
    pub out_dir: Option<PathBuf>,
    /// Stop after this many consecutive levels above the threshold (0 = run every level).
    pub stop_after_failed_levels: usize,
    /// Template for each call (transport/url are taken from above).
    pub call: CallOptions,
    pub progress: Option<Progress>,
}

impl BenchOptions {
    pub fn new(transport: Platform, url: impl Into<String>, script: Script) -> Self {
        let url = url.into();
        BenchOptions {
            call: CallOptions::new(transport, url.clone()),
            url,
            transport,
            script,
            levels: vec![1, 2, 4, 8, 12, 16, 24],
            duration_per_level: Duration::from_secs(60),
            p95_threshold_ms: 1000,
            server_pid: None,
            out_dir: None,
            stop_after_failed_levels: 2,
            progress: None,
        }
    }
}

/// Nearest-rank percentiles of a set of latencies (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    pub p99: Option<u64>,
    pub max: Option<u64>,
}

impl Percentiles {
    pub fn of(values: &[u64]) -> Self {
        let mut v = values.to_vec();
        v.sort_unstable();
        Percentiles {
            count: v.len(),
            p50: percentile(&v, 50.0),
            p95: percentile(&v, 95.0),
            p99: percentile(&v, 99.0),
            max: v.last().copied(),
        }
    }
}

/// Nearest-rank percentile `p` (0–100) of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// One level of the benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchLevel {
    pub concurrent: usize,
    pub calls_completed: usize,
    pub calls_with_problems: usize,
    /// Reply latencies; a missing reply counts as the reply timeout.
    pub reply: Percentiles,
    pub missed_replies: usize,
    pub greeting: Percentiles,
    pub wall_seconds: f64,
    /// Sum of the calls' durations.
    pub call_seconds: f64,
    /// Server CPU (user + system) during the level.
    pub cpu_seconds: Option<f64>,
    /// Server CPU seconds per call-second: the cores one concurrent call costs.
    pub cpu_per_call: Option<f64>,
    pub server_rss_kib: Option<u64>,
    pub server_hwm_kib: Option<u64>,
    /// A few distinct problems seen in the level's calls.
    pub problems: Vec<String>,
    pub within_threshold: bool,
}

/// The whole benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub transport: String,
    pub url: String,
    pub p95_threshold_ms: u64,
    pub duration_per_level_s: f64,
    pub levels: Vec<BenchLevel>,
    /// The largest level whose reply p95 stayed within the threshold.
    pub max_concurrent_within_threshold: Option<usize>,
    pub json_path: Option<PathBuf>,
    pub svg_path: Option<PathBuf>,
}

/// Runs the benchmark. The caller's utterances are synthesised once up front; bot-side ASR is
/// off. Errors are the testkit's own (voice, output files); server misbehaviour shows up as
/// problems and latencies.
pub async fn bench_voice(opts: BenchOptions, voices: &Voices) -> Result<BenchReport, TestkitError> {
    if opts.levels.is_empty() || opts.levels.contains(&0) {
        return Err(TestkitError::Bench(
            "levels must be non-empty and > 0".into(),
        ));
    }
    opts.script.validate()?;
    let voices = voices.without_asr();
    voices.prepare(&opts.script).await?;
    let say = |msg: &str| {
        tracing::info!("{msg}");
        if let Some(p) = &opts.progress {
            p(msg);
        }
    };
    let mut report = BenchReport {
        transport: platform_name(opts.transport).into(),
        url: opts.url.clone(),
        p95_threshold_ms: opts.p95_threshold_ms,
        duration_per_level_s: opts.duration_per_level.as_secs_f64(),
        levels: Vec::new(),
        max_concurrent_within_threshold: None,
        json_path: None,
        svg_path: None,
    };
    let mut failed_in_row = 0;
    // Until a level has measured how long one call lasts, first calls are spread over 3 s.
    let mut spread = Duration::from_secs(3);
    for &n in &opts.levels {
        say(&format!(
            "level {n}: running {n} concurrent call(s) for {:?}…",
            opts.duration_per_level
        ));
        let level = run_level(&opts, &voices, n, spread).await;
        if let Some(d) = typical_call_ms(&level) {
            spread = Duration::from_millis(d);
        }
        say(&format!(
            "level {n}: {} call(s), reply p50 {} / p95 {} / p99 {} ms, greeting p95 {} ms, \
             cpu/call {}, {} call(s) with problems",
            level.calls_completed,
            show(level.reply.p50),
            show(level.reply.p95),
            show(level.reply.p99),
            show(level.greeting.p95),
            level
                .cpu_per_call
                .map_or("n/a".into(), |c| format!("{c:.3}")),
            level.calls_with_problems
        ));
        if level.within_threshold {
            failed_in_row = 0;
            let best = report.max_concurrent_within_threshold.unwrap_or(0);
            report.max_concurrent_within_threshold = Some(best.max(n));
        } else {
            failed_in_row += 1;
        }
        report.levels.push(level);
        if opts.stop_after_failed_levels > 0 && failed_in_row >= opts.stop_after_failed_levels {
            say("stopping: latency above the threshold");
            break;
        }
    }
    if let Some(dir) = &opts.out_dir {
        write_outputs(dir, &mut report)?;
    }
    Ok(report)
}

fn show(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// Mean length of one call at a level (ms), once calls completed there.
fn typical_call_ms(level: &BenchLevel) -> Option<u64> {
    (level.calls_completed > 0)
        .then(|| (level.call_seconds * 1000.0 / level.calls_completed as f64) as u64)
        .filter(|&ms| ms > 0)
}

/// Runs `n` callers, each placing calls back to back for the level's duration. Their first calls
/// start evenly over `spread` (one call's length once known), so at any moment the calls are at
/// different points of the dialogue, as on a real line, rather than all speaking at once.
async fn run_level(opts: &BenchOptions, voices: &Voices, n: usize, spread: Duration) -> BenchLevel {
    let cpu0 = cpu_seconds(opts.server_pid);
    let start = Instant::now();
    let end = start + opts.duration_per_level;
    let stagger = (spread / n as u32).min(opts.duration_per_level / (2 * n as u32));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let mut call = opts.call.clone();
        call.transport = opts.transport;
        call.url = opts.url.clone();
        call.record_dir = None;
        let script = opts.script.clone();
        let voices = voices.clone();
        let begin = start + stagger * i as u32;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(begin).await;
            let mut reports = Vec::new();
            while Instant::now() < end {
                reports.push(place_call(call.clone(), script.clone(), &voices).await);
            }
            reports
        }));
    }
    let mut reports: Vec<CallReport> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for t in tasks {
        match t.await {
            Ok(r) => reports.extend(r),
            Err(e) => problems.push(format!("a caller task failed: {e}")),
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_seconds(opts.server_pid)).map(|(a, b)| b - a);
    let mem = memory_kib(opts.server_pid);
    summarize(opts, n, &reports, problems, wall, cpu, mem)
}

fn summarize(
    opts: &BenchOptions,
    n: usize,
    reports: &[CallReport],
    mut problems: Vec<String>,
    wall: f64,
    cpu: Option<f64>,
    mem: Option<(u64, u64)>,
) -> BenchLevel {
    let timeout_ms = opts.call.reply_timeout.as_millis() as u64;
    let mut reply = Vec::new();
    let mut greeting = Vec::new();
    let mut missed = 0;
    for r in reports {
        for t in &r.turns {
            match t.latency_ms {
                Some(l) => reply.push(l),
                None if t.caller.starts_with("[silence") => {}
                None => {
                    missed += 1;
                    reply.push(timeout_ms);
                }
            }
        }
        if let Some(l) = r.greeting.as_ref().and_then(|g| g.latency_ms) {
            greeting.push(l);
        }
        for p in &r.problems {
            if problems.len() < 5 && !problems.contains(p) {
                problems.push(p.clone());
            }
        }
    }
    let call_seconds: f64 = reports.iter().map(|r| r.duration_ms as f64 / 1000.0).sum();
    let reply = Percentiles::of(&reply);
    BenchLevel {
        concurrent: n,
        calls_completed: reports.len(),
        calls_with_problems: reports.iter().filter(|r| !r.problems.is_empty()).count(),
        within_threshold: reply.p95.is_some_and(|p| p <= opts.p95_threshold_ms),
        reply,
        missed_replies: missed,
        greeting: Percentiles::of(&greeting),
        wall_seconds: wall,
        call_seconds,
        cpu_seconds: cpu,
        cpu_per_call: cpu.filter(|_| call_seconds > 0.0).map(|c| c / call_seconds),
        server_rss_kib: mem.map(|m| m.0),
        server_hwm_kib: mem.map(|m| m.1),
        problems,
    }
}

fn write_outputs(dir: &std::path::Path, report: &mut BenchReport) -> Result<(), TestkitError> {
    let io = |path: &std::path::Path| {
        let path = path.to_owned();
        move |source| TestkitError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let json_path = dir.join("bench-voice.json");
    let svg_path = dir.join("bench-voice.svg");
    report.json_path = Some(json_path.clone());
    report.svg_path = Some(svg_path.clone());
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| TestkitError::Bench(format!("serialising the report: {e}")))?;
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    std::fs::write(&svg_path, crate::plot::latency_svg(report)).map_err(io(&svg_path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        let p = Percentiles::of(&[300, 100, 200]);
        assert_eq!(
            (p.count, p.p50, p.p95, p.max),
            (3, Some(200), Some(300), Some(300))
        );
    }
}
