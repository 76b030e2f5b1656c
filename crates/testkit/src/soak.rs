//! The soak test's data and verdict: samples of the server process over time (RSS, open files,
//! threads, live calls / sessions / tokio tasks, turn latency, calls completed and failed), the
//! leak verdict computed from them, the SVG plot, and misbehaving callers (malformed frames, a
//! call dropped mid-turn) that exercise the error paths.
//!
//! The verdict is a pure function of the samples ([`verdict`]), so it is tested on synthetic
//! series; the loop that produces the samples lives with the CLI (`switchboard bench soak`).
//!
//! How the verdict reads the samples:
//! * **baseline** — the idle server before the first call;
//! * **after warm-up** — the first sample under load at or after the warm-up (by default the
//!   first 10 % of the run, at most 2 minutes: caches, allocator arenas and the sessions of the
//!   session TTL fill up in that time);
//! * **end of load** — the last sample taken while the callers were still calling;
//! * **end** — the last sample after the callers stopped and the server had time to settle
//!   (sessions past their TTL swept, idle blocking threads gone).
//!
//! It fails when RSS grew by the limit or more from after warm-up to the end of load, or when open
//! files, threads, live calls, cached sessions or live tokio tasks at the end are above the
//! baseline (plus a slack for fds, threads and tasks).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::SinkExt;
use sb_transport::{caller_codec, Inbound, Platform, StartInfo, WsMessage};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use crate::bench::Percentiles;
use crate::plot::escape;

/// Where a sample was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The idle server before the first call.
    Baseline,
    /// While the callers were calling.
    #[default]
    Load,
    /// Right after the callers stopped (their last calls included).
    Drain,
    /// Waiting for the server to return to its baseline.
    Settle,
}

/// One sample of the server and of the traffic since the previous sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sample {
    /// Seconds since the load started (the baseline is at 0 or before).
    pub t_s: f64,
    pub phase: Phase,
    pub rss_kib: Option<u64>,
    pub hwm_kib: Option<u64>,
    pub fds: Option<u64>,
    pub threads: Option<u64>,
    /// Calls in progress at the server (`switchboard_calls_live`).
    pub live_calls: Option<u64>,
    /// Sessions in the server's cache (`switchboard_sessions_cached`).
    pub sessions: Option<u64>,
    /// Live tokio tasks of the server (`switchboard_tokio_alive_tasks`).
    pub tasks: Option<u64>,
    /// Since the previous sample: scripted calls that went as expected / did not.
    pub calls_completed: u64,
    pub calls_failed: u64,
    /// Since the previous sample: misbehaving calls placed (malformed frames, dropped mid-turn).
    pub bad_calls: u64,
    /// Since the previous sample: text `detectIntent` turns answered / not.
    pub text_turns: u64,
    pub text_failed: u64,
    /// Reply latency of the calls that ended since the previous sample (a missing reply counts
    /// as the reply timeout, as in `bench voice`).
    pub reply: Percentiles,
    /// Latency of the text turns since the previous sample.
    pub text: Percentiles,
    /// A few distinct problems seen since the previous sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// What the verdict tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest RSS growth from after warm-up to the end of load that passes (fraction, 0.05).
    pub max_rss_growth: f64,
    /// Open files, threads and live tokio tasks at the end may exceed the baseline by this much.
    pub slack: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rss_growth: 0.05,
            slack: 0,
        }
    }
}

/// The leak verdict of a soak run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub warmup_s: f64,
    /// The limit the RSS growth was judged by.
    pub max_rss_growth: f64,
    pub rss_baseline_kib: Option<u64>,
    pub rss_after_warmup_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    /// (end of load − after warm-up) / after warm-up.
    pub rss_growth: Option<f64>,
    /// Least-squares slope of RSS over the samples under load after warm-up (KiB per minute).
    pub rss_slope_kib_per_min: Option<f64>,
    pub fds: Counts,
    pub threads: Counts,
    pub live_calls: Counts,
    pub sessions: Counts,
    pub tasks: Counts,
    pub calls_completed: u64,
    pub calls_failed: u64,
    pub bad_calls: u64,
    pub text_turns: u64,
    pub text_failed: u64,
    /// Reply latency of the first and the last interval with calls.
    pub reply_first: Option<Percentiles>,
    pub reply_last: Option<Percentiles>,
    /// Why the run failed (empty: it passed).
    pub failures: Vec<String>,
    pub pass: bool,
}

/// One count at the verdict's reference points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Counts {
    pub baseline: Option<u64>,
    pub after_warmup: Option<u64>,
    pub end_of_load: Option<u64>,
    /// After the callers stopped and the server settled.
    pub end: Option<u64>,
}

/// The default warm-up of a run: its first 10 %, at most 2 minutes.
pub fn default_warmup(run: Duration) -> Duration {
    (run / 10).min(Duration::from_secs(120))
}

/// What has not (yet) returned to the baseline in `now`, one line each (empty: all did).
pub fn not_returned(baseline: &Sample, now: &Sample, limits: &Limits) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, base: Option<u64>, end: Option<u64>, slack: u64| {
        if let (Some(b), Some(e)) = (base, end) {
            if e > b + slack {
                let allowed = if slack > 0 {
                    format!(" (+{slack} allowed)")
                } else {
                    String::new()
                };
                out.push(format!(
                    "{name}: {e} at the end vs {b} at the idle baseline{allowed}"
                ));
            }
        }
    };
    check("open fds", baseline.fds, now.fds, limits.slack);
    check("threads", baseline.threads, now.threads, limits.slack);
    check("live calls", baseline.live_calls, now.live_calls, 0);
    check("cached sessions", baseline.sessions, now.sessions, 0);
    check("live tokio tasks", baseline.tasks, now.tasks, limits.slack);
    out
}

/// The verdict of a run from its samples (`warmup`: seconds of load before the RSS reference).
pub fn verdict(samples: &[Sample], warmup_s: f64, limits: &Limits) -> Verdict {
    let baseline = samples.iter().find(|s| s.phase == Phase::Baseline);
    let load: Vec<&Sample> = samples.iter().filter(|s| s.phase == Phase::Load).collect();
    let after_warmup = load
        .iter()
        .find(|s| s.t_s >= warmup_s)
        .or_else(|| load.last())
        .copied();
    let end_of_load = load.last().copied();
    let end = samples
        .iter()
        .rev()
        .find(|s| matches!(s.phase, Phase::Settle | Phase::Drain));
    let counts = |f: fn(&Sample) -> Option<u64>| Counts {
        baseline: baseline.and_then(f),
        after_warmup: after_warmup.and_then(f),
        end_of_load: end_of_load.and_then(f),
        end: end.and_then(f),
    };
    let rss_after = after_warmup.and_then(|s| s.rss_kib);
    let rss_end = end_of_load.and_then(|s| s.rss_kib);
    let rss_growth = rss_after
        .zip(rss_end)
        .filter(|(a, _)| *a > 0)
        .map(|(a, e)| (e as f64 - a as f64) / a as f64);
    let steady: Vec<(f64, f64)> = load
        .iter()
        .filter(|s| s.t_s >= warmup_s)
        .filter_map(|s| s.rss_kib.map(|r| (s.t_s / 60.0, r as f64)))
        .collect();
    let with_calls: Vec<&Sample> = samples.iter().filter(|s| s.reply.count > 0).collect();
    let sum = |f: fn(&Sample) -> u64| samples.iter().map(f).sum::<u64>();
    let mut failures = Vec::new();
    if load.is_empty() {
        failures.push("no sample was taken under load".to_string());
    }
    match rss_growth {
        Some(g) if g >= limits.max_rss_growth => failures.push(format!(
            "RSS grew {:.1} % (limit {:.1} %): {} KiB after warm-up → {} KiB at the end",
            g * 100.0,
            limits.max_rss_growth * 100.0,
            rss_after.unwrap_or(0),
            rss_end.unwrap_or(0)
        )),
        Some(_) => {}
        None => failures.push("no RSS figures (is the server's pid known?)".to_string()),
    }
    match (baseline, end) {
        (Some(b), Some(e)) => failures.extend(not_returned(b, e, limits)),
        (None, _) => failures.push("no idle baseline sample".to_string()),
        (_, None) => failures.push("no sample after the callers stopped".to_string()),
    }
    let completed = sum(|s| s.calls_completed);
    if completed == 0 {
        failures.push("no call completed".to_string());
    }
    Verdict {
        warmup_s,
        max_rss_growth: limits.max_rss_growth,
        rss_baseline_kib: baseline.and_then(|s| s.rss_kib),
        rss_after_warmup_kib: rss_after,
        rss_end_kib: rss_end,
        rss_growth,
        rss_slope_kib_per_min: slope(&steady),
        fds: counts(|s| s.fds),
        threads: counts(|s| s.threads),
        live_calls: counts(|s| s.live_calls),
        sessions: counts(|s| s.sessions),
        tasks: counts(|s| s.tasks),
        calls_completed: completed,
        calls_failed: sum(|s| s.calls_failed),
        bad_calls: sum(|s| s.bad_calls),
        text_turns: sum(|s| s.text_turns),
        text_failed: sum(|s| s.text_failed),
        reply_first: with_calls.first().map(|s| s.reply),
        reply_last: with_calls.last().map(|s| s.reply),
        pass: failures.is_empty(),
        failures,
    }
}

/// Least-squares slope of `(x, y)` points (`None` for fewer than 2 distinct x).
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The value of a gauge or counter in a Prometheus text exposition, summed over its label sets
/// (`None` if it does not appear).
pub fn prometheus_value(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut it = line.split_whitespace();
        let (Some(series), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        if series.split('{').next() != Some(name) {
            continue;
        }
        if let Ok(v) = v.parse::<f64>() {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// How a misbehaving call misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadCall {
    /// Undecodable and unknown frames between valid ones, then a proper close.
    MalformedFrames,
    /// Speaks a sentence, then the TCP connection drops (no stop, no close frame) while the
    /// server is working on its reply.
    DropMidTurn,
}

/// Places one misbehaving call against `url` (a media WebSocket). `speech` is 16 kHz caller
/// audio. Errors are the caller's own (cannot connect, cannot encode), not the server's.
pub async fn place_bad_call(
    platform: Platform,
    url: &str,
    speech: &[i16],
    kind: BadCall,
) -> Result<(), String> {
    let mut codec = caller_codec(platform).map_err(|e| e.to_string())?;
    let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
    let (mut ws, _) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| format!("connecting to {url} timed out"))?
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let mut out: Vec<Message> = Vec::new();
    push(&mut *codec, &mut out, &Inbound::Connected)?;
    push(&mut *codec, &mut out, &Inbound::Start(start_info(platform)))?;
    let frame = 320; // 20 ms at 16 kHz
    let mut at_ms = 0;
    let mut frames: Vec<Vec<i16>> = speech.chunks(frame).map(<[i16]>::to_vec).collect();
    // Enough trailing silence for the server to end-point the utterance and start replying.
    frames.extend(std::iter::repeat_n(vec![0; frame], 60));
    if kind == BadCall::MalformedFrames {
        // A few valid frames first, so the call is under way.
        for f in frames.iter().take(10) {
            push(
                &mut *codec,
                &mut out,
                &Inbound::Audio {
                    pcm16k: f.clone(),
                    at_ms,
                },
            )?;
            at_ms += 20;
        }
        out.push(Message::text("{this is not json"));
        out.push(Message::text(
            r#"{"event":"media","media":{"payload":"%%%not base64%%%"}}"#,
        ));
        out.push(Message::text(r#"{"event":"no-such-event","x":1}"#));
        out.push(Message::binary(vec![0x7f; 3]));
        out.push(Message::text(""));
        for f in frames.iter().skip(10).take(25) {
            push(
                &mut *codec,
                &mut out,
                &Inbound::Audio {
                    pcm16k: f.clone(),
                    at_ms,
                },
            )?;
            at_ms += 20;
        }
    } else {
        for f in &frames {
            push(
                &mut *codec,
                &mut out,
                &Inbound::Audio {
                    pcm16k: f.clone(),
                    at_ms,
                },
            )?;
            at_ms += 20;
        }
    }
    // Paced at one message per 10 ms (twice real time, under the server's message-rate limit).
    for m in out {
        if ws.send(m).await.is_err() {
            break; // the server may close on bad input: that is its business
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    match kind {
        BadCall::MalformedFrames => {
            let _ = ws.close(None).await;
            let drain = async {
                use futures_util::StreamExt;
                while let Some(Ok(_)) = ws.next().await {}
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
        }
        BadCall::DropMidTurn => {
            // The reply is being recognised or synthesised now; drop the TCP stream unannounced.
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(ws);
        }
    }
    Ok(())
}

/// Appends the wire messages of `ev` to `out`.
fn push(
    codec: &mut (dyn sb_transport::CallerCodec + Send),
    out: &mut Vec<Message>,
    ev: &Inbound,
) -> Result<(), String> {
    for m in codec.encode(ev).map_err(|e| e.to_string())? {
        out.push(match m {
            WsMessage::Text(t) => Message::text(t),
            WsMessage::Binary(b) => Message::binary(b),
        });
    }
    Ok(())
}

fn start_info(platform: Platform) -> StartInfo {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let hex = format!(
        "{:08x}{:016x}{:08x}",
        std::process::id(),
        0xbad_ca11u64,
        n as u32
    );
    match platform {
        Platform::Twilio => StartInfo {
            call_id: format!("CA{hex}"),
            stream_id: format!("MZ{hex}"),
            account_id: "AC00000000000000000000000000000000".into(),
            sample_rate: 8000,
            encoding: "audio/x-mulaw".into(),
            ..StartInfo::default()
        },
        Platform::Vonage => StartInfo {
            call_id: format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
            sample_rate: 16_000,
            encoding: "audio/l16".into(),
            ..StartInfo::default()
        },
    }
}

/// One row of the per-interval table (`fmt_header` gives its header).
pub fn fmt_row(s: &Sample) -> String {
    let o = |v: Option<u64>| v.map_or("-".to_string(), |x| x.to_string());
    format!(
        "{:>7.1} {:>8} {:>7} {:>5} {:>7} {:>5} {:>8} {:>5} {:>5} {:>5} {:>5} {:>6}/{:<6} {:>5}",
        s.t_s / 60.0,
        format!("{:?}", s.phase).to_lowercase(),
        s.rss_kib
            .map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        o(s.fds),
        o(s.threads),
        o(s.live_calls),
        o(s.sessions),
        o(s.tasks),
        s.calls_completed,
        s.calls_failed,
        s.bad_calls,
        o(s.reply.p50),
        o(s.reply.p95),
        s.text_turns,
    )
}

pub fn fmt_header() -> String {
    format!(
        "{:>7} {:>8} {:>7} {:>5} {:>7} {:>5} {:>8} {:>5} {:>5} {:>5} {:>5} {:>13} {:>5}",
        "min",
        "phase",
        "RSS MiB",
        "fds",
        "threads",
        "calls",
        "sessions",
        "tasks",
        "done",
        "fail",
        "bad",
        "reply p50/p95",
        "text"
    )
}

const W: f64 = 760.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const PANEL_H: f64 = 170.0;
const GAP: f64 = 50.0;

type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// The RSS growth limit a verdict was judged by.
fn limits_growth(v: &Verdict) -> f64 {
    v.max_rss_growth
}

/// The soak run as a standalone SVG: RSS; open files and threads; live calls, sessions and
/// tasks; reply latency — each over time, with the end of warm-up marked.
pub fn soak_svg(samples: &[Sample], v: &Verdict, title: &str) -> String {
    let x_max = samples
        .iter()
        .map(|s| s.t_s / 60.0)
        .fold(0.0, f64::max)
        .max(0.1);
    let pts = |f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<(f64, f64)> {
        samples
            .iter()
            .filter_map(|s| f(s).map(|y| (s.t_s.max(0.0) / 60.0, y)))
            .collect()
    };
    let panels: [(&str, Vec<Series>); 4] = [
        (
            "server RSS (MiB)",
            vec![(
                "RSS",
                "#1f77b4",
                pts(&|s| s.rss_kib.map(|k| k as f64 / 1024.0)),
            )],
        ),
        (
            "open fds, threads",
            vec![
                ("open fds", "#2ca02c", pts(&|s| s.fds.map(|x| x as f64))),
                ("threads", "#9467bd", pts(&|s| s.threads.map(|x| x as f64))),
            ],
        ),
        (
            "live calls, sessions, tasks",
            vec![
                (
                    "live calls",
                    "#d62728",
                    pts(&|s| s.live_calls.map(|x| x as f64)),
                ),
                (
                    "cached sessions",
                    "#8c564b",
                    pts(&|s| s.sessions.map(|x| x as f64)),
                ),
                (
                    "tokio tasks",
                    "#7f7f7f",
                    pts(&|s| s.tasks.map(|x| x as f64)),
                ),
            ],
        ),
        (
            "reply latency (ms)",
            vec![
                (
                    "reply p50",
                    "#1f77b4",
                    pts(&|s| s.reply.p50.map(|x| x as f64)),
                ),
                (
                    "reply p95",
                    "#ff7f0e",
                    pts(&|s| s.reply.p95.map(|x| x as f64)),
                ),
            ],
        ),
    ];
    let h = 50.0 + panels.len() as f64 * (PANEL_H + GAP) + 10.0;
    let mut s = String::new();
    let verdict = match (v.pass, v.rss_growth) {
        (true, Some(g)) => format!("pass, RSS growth {:.1} %", g * 100.0),
        (false, Some(g)) => format!("FAIL, RSS growth {:.1} %", g * 100.0),
        (p, None) => (if p { "pass" } else { "FAIL" }).to_string(),
    };
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{:.1}" y="22" text-anchor="middle" font-size="15">{} — {}</text>"#,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        escape(title),
        escape(&verdict)
    );
    // RSS on a zoomed axis, with the reference after warm-up and the growth limit above it.
    let rss_lines: Vec<HLine> = v
        .rss_after_warmup_kib
        .map(|k| {
            let mib = k as f64 / 1024.0;
            vec![(
                mib * (1.0 + limits_growth(v)),
                format!("+{:.0} % limit", limits_growth(v) * 100.0),
            )]
        })
        .unwrap_or_default();
    for (i, (name, series)) in panels.iter().enumerate() {
        let top = 50.0 + i as f64 * (PANEL_H + GAP);
        let (zoom, lines) = if i == 0 {
            (true, rss_lines.as_slice())
        } else {
            (false, &[][..])
        };
        panel(
            &mut s,
            top,
            name,
            series,
            x_max,
            v.warmup_s / 60.0,
            zoom,
            lines,
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A horizontal reference line of a panel: (value, label).
type HLine = (f64, String);

/// The y range of a panel: from 0, or (`zoom`) around the data, on steps of a nice size.
fn y_range(lo: f64, hi: f64, zoom: bool) -> (f64, f64, f64) {
    let lo = if zoom { lo } else { 0.0 };
    let span = (hi - lo)
        .max(if zoom { hi.abs() * 0.02 } else { 4.0 })
        .max(1e-9);
    let step = nice_step(span / 4.0);
    let y0 = (lo / step).floor() * step;
    let mut y1 = (hi / step).ceil() * step;
    if y1 <= hi {
        y1 += step;
    }
    (y0, y1, step)
}

/// The smallest 1/2/2.5/5 × 10^k at or above `v`.
fn nice_step(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= v * (1.0 - 1e-9) {
            return m * mag;
        }
    }
    10.0 * mag
}

fn fmt_tick(v: f64, step: f64) -> String {
    if step.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[allow(clippy::too_many_arguments)]
fn panel(
    s: &mut String,
    top: f64,
    name: &str,
    series: &[Series],
    x_max: f64,
    warmup_min: f64,
    zoom: bool,
    hlines: &[HLine],
) {
    let plot_w = W - LEFT - RIGHT;
    let ys = series
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|q| q.1))
        .chain(hlines.iter().map(|h| h.0));
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let (y0, y1, step) = y_range(lo, hi, zoom);
    let px = |x: f64| LEFT + x / x_max * plot_w;
    let py = |y: f64| top + PANEL_H - ((y - y0) / (y1 - y0)) * PANEL_H;
    let mut v = y0;
    while v <= y1 + step * 1e-6 {
        let y = py(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(v, step)
        );
        v += step;
    }
    let x_step = nice_step(x_max / 6.0);
    let mut x = 0.0;
    while x <= x_max + x_step * 1e-6 {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            px(x),
            top + PANEL_H + 16.0,
            fmt_tick(x, x_step)
        );
        x += x_step;
    }
    let wx = px(warmup_min.min(x_max));
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" fill="none" stroke="#333"/>
<line x1="{wx:.1}" y1="{top}" x2="{wx:.1}" y2="{:.1}" stroke="#000" stroke-dasharray="4 4"/>
<text x="{LEFT}" y="{:.1}">{}</text>
<text x="{:.1}" y="{:.1}" text-anchor="middle">minutes</text>"##,
        top + PANEL_H,
        top - 6.0,
        escape(name),
        LEFT + plot_w / 2.0,
        top + PANEL_H + 32.0
    );
    for (value, _) in hlines {
        let y = py(*value);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#d62728" stroke-dasharray="6 3"/>"##,
            LEFT + plot_w
        );
    }
    let lx = LEFT + plot_w + 15.0;
    let mut ly = top + 10.0;
    for (label, color, points) in series {
        if !points.is_empty() {
            let line: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                line.join(" ")
            );
        }
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            lx + 22.0,
            lx + 28.0,
            ly + 4.0,
            escape(label)
        );
        ly += 20.0;
    }
    for (_, label) in hlines {
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="#d62728" stroke-dasharray="6 3"/><text x="{}" y="{}">{}</text>"##,
            lx + 22.0,
            lx + 28.0,
            ly + 4.0,
            escape(label)
        );
        ly += 20.0;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="#000" stroke-dasharray="4 4"/><text x="{}" y="{}">end of warm-up</text>"##,
        lx + 22.0,
        lx + 28.0,
        ly + 4.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_s: f64, phase: Phase, rss: u64, fds: u64, threads: u64) -> Sample {
        Sample {
            t_s,
            phase,
            rss_kib: Some(rss),
            hwm_kib: Some(rss),
            fds: Some(fds),
            threads: Some(threads),
            live_calls: Some(if phase == Phase::Load { 2 } else { 0 }),
            sessions: Some(0),
            tasks: Some(if phase == Phase::Load { 20 } else { 8 }),
            calls_completed: if phase == Phase::Load { 3 } else { 0 },
            reply: if phase == Phase::Load {
                Percentiles::of(&[400, 500, 600 + t_s as u64])
            } else {
                Percentiles::default()
            },
            ..Sample::default()
        }
    }

    /// A flat run: RSS rises in warm-up, then stays within 1 %; counts return to baseline.
    fn flat_run() -> Vec<Sample> {
        let mut v = vec![sample(0.0, Phase::Baseline, 300_000, 40, 20)];
        for i in 1..=20 {
            let t = i as f64 * 30.0;
            let rss = if t < 120.0 {
                320_000 + i * 5_000
            } else {
                340_000 + (i % 3) * 1_000
            };
            v.push(sample(t, Phase::Load, rss, 46, 24));
        }
        v.push(sample(605.0, Phase::Drain, 341_000, 43, 23));
        v.push(sample(640.0, Phase::Settle, 341_000, 40, 20));
        v
    }

    #[test]
    fn a_flat_run_passes() {
        let v = verdict(&flat_run(), 120.0, &Limits::default());
        assert!(v.pass, "{:?}", v.failures);
        // The first sample at or after 120 s (i = 4: 340 000 + 1 000) vs the last (i = 20).
        assert_eq!(v.rss_after_warmup_kib, Some(341_000));
        assert_eq!(v.rss_end_kib, Some(342_000));
        let g = v.rss_growth.unwrap();
        assert!((g - 1_000.0 / 341_000.0).abs() < 1e-12, "{g}");
        assert_eq!(
            v.fds,
            Counts {
                baseline: Some(40),
                after_warmup: Some(46),
                end_of_load: Some(46),
                end: Some(40)
            }
        );
        assert_eq!(v.threads.end, Some(20));
        assert_eq!(v.live_calls.end, Some(0));
        assert_eq!(v.calls_completed, 60);
        assert_eq!(v.reply_first.unwrap().p95, Some(630));
        assert_eq!(v.reply_last.unwrap().p95, Some(1200));
        assert!(v.rss_slope_kib_per_min.unwrap().abs() < 1_000.0);
    }

    #[test]
    fn steady_rss_growth_fails() {
        let mut run = flat_run();
        for s in run.iter_mut().filter(|s| s.phase == Phase::Load) {
            s.rss_kib = Some(340_000 + (s.t_s as u64) * 100); // +3 000 KiB per 30 s
        }
        let v = verdict(&run, 120.0, &Limits::default());
        // 352 000 (t = 120) → 400 000 (t = 600): 13.6 %.
        assert!(!v.pass);
        assert!((v.rss_growth.unwrap() - 48_000.0 / 352_000.0).abs() < 1e-12);
        assert!(
            v.failures[0].starts_with("RSS grew 13.6 %"),
            "{:?}",
            v.failures
        );
        assert!((v.rss_slope_kib_per_min.unwrap() - 6_000.0).abs() < 1e-6);
        // Just under the limit passes; at the limit fails.
        let lenient = Limits {
            max_rss_growth: 0.14,
            ..Limits::default()
        };
        assert!(verdict(&run, 120.0, &lenient).pass);
        let at = Limits {
            max_rss_growth: 48_000.0 / 352_000.0,
            ..Limits::default()
        };
        assert!(!verdict(&run, 120.0, &at).pass);
    }

    #[test]
    fn leaked_fds_threads_calls_sessions_and_tasks_fail() {
        let mut run = flat_run();
        let end = run.last_mut().unwrap();
        end.fds = Some(43);
        end.threads = Some(21);
        end.live_calls = Some(1);
        end.sessions = Some(5);
        end.tasks = Some(9);
        let v = verdict(&run, 120.0, &Limits::default());
        assert!(!v.pass);
        assert_eq!(
            v.failures,
            [
                "open fds: 43 at the end vs 40 at the idle baseline",
                "threads: 21 at the end vs 20 at the idle baseline",
                "live calls: 1 at the end vs 0 at the idle baseline",
                "cached sessions: 5 at the end vs 0 at the idle baseline",
                "live tokio tasks: 9 at the end vs 8 at the idle baseline",
            ]
        );
        // The slack covers fds, threads and tasks, never calls or sessions.
        let slack = Limits {
            slack: 3,
            ..Limits::default()
        };
        assert_eq!(verdict(&run, 120.0, &slack).failures.len(), 2);
        // Fewer than at the baseline is fine.
        let mut fewer = flat_run();
        fewer.last_mut().unwrap().fds = Some(39);
        assert!(verdict(&fewer, 120.0, &Limits::default()).pass);
    }

    #[test]
    fn warmup_reference_and_missing_data() {
        // Warm-up longer than the run: the last load sample is the reference (growth 0).
        let v = verdict(&flat_run(), 10_000.0, &Limits::default());
        assert_eq!(v.rss_growth, Some(0.0));
        // No samples at all.
        let v = verdict(&[], 0.0, &Limits::default());
        assert!(!v.pass);
        assert!(v
            .failures
            .contains(&"no sample was taken under load".to_string()));
        // Without the pid there is no RSS: a failure, not a pass.
        let mut run = flat_run();
        run.iter_mut().for_each(|s| s.rss_kib = None);
        let v = verdict(&run, 120.0, &Limits::default());
        assert!(v.failures.iter().any(|f| f.starts_with("no RSS")));
        // No completed call.
        let mut run = flat_run();
        run.iter_mut().for_each(|s| s.calls_completed = 0);
        assert!(verdict(&run, 120.0, &Limits::default())
            .failures
            .contains(&"no call completed".to_string()));
    }

    #[test]
    fn warmup_defaults_and_helpers() {
        assert_eq!(
            default_warmup(Duration::from_secs(3600)),
            Duration::from_secs(120)
        );
        assert_eq!(
            default_warmup(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some(2.0));
        assert_eq!(slope(&[(1.0, 1.0)]), None);
        let text = "# HELP x\nswitchboard_calls_live 2\nswitchboard_calls_active{transport=\"twilio\"} 1\n\
                    switchboard_calls_active{transport=\"vonage\"} 3\nswitchboard_calls_active_total 9\n";
        assert_eq!(prometheus_value(text, "switchboard_calls_live"), Some(2.0));
        assert_eq!(
            prometheus_value(text, "switchboard_calls_active"),
            Some(4.0)
        );
        assert_eq!(prometheus_value(text, "nope"), None);
    }

    #[test]
    fn plot_axes() {
        assert_eq!(nice_step(0.9), 1.0);
        assert_eq!(nice_step(2.2), 2.5);
        assert_eq!(nice_step(130.0), 200.0);
        assert_eq!(y_range(0.0, 8.0, false), (0.0, 10.0, 2.0));
        assert_eq!(y_range(650.0, 690.0, true), (650.0, 700.0, 10.0));
    }

    #[test]
    fn the_plot_and_table_show_every_series() {
        let run = flat_run();
        let v = verdict(&run, 120.0, &Limits::default());
        let svg = soak_svg(&run, &v, "soak <test>");
        for label in [
            "RSS",
            "open fds",
            "threads",
            "live calls",
            "cached sessions",
            "tokio tasks",
            "reply p95",
            "end of warm-up",
        ] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.contains("soak &lt;test&gt; — pass, RSS growth 0.3 %"));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let row = fmt_row(&run[1]);
        assert!(row.contains("load") && row.contains("317.4"), "{row}");
        assert_eq!(fmt_header().len(), row.len());
    }
}
