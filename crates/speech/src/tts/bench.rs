//! Latency / throughput measurement for a [`Tts`].

use std::time::{Duration, Instant};

use super::Tts;
use crate::error::SpeechError;

/// Figures from [`bench_tts`] (medians over the runs).
#[derive(Debug, Clone)]
pub struct TtsBench {
    /// From the call to the first chunk reaching the sink.
    pub time_to_first_audio: Duration,
    /// Whole synthesis.
    pub total: Duration,
    /// Seconds of audio produced.
    pub audio_secs: f32,
    /// Real-time factor: synthesis time / audio duration (lower is faster).
    pub rtf: f32,
    pub chunks: usize,
}

/// Synthesise `text` `runs` times (after one warm-up run) and report median figures.
pub fn bench_tts(tts: &dyn Tts, text: &str, runs: usize) -> Result<TtsBench, SpeechError> {
    tts.synthesize_all(text)?; // warm-up
    let mut results = Vec::new();
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let mut first = None;
        let mut samples = 0usize;
        let mut chunks = 0usize;
        let mut rate = tts.sample_rate();
        tts.synthesize(text, &mut |c| {
            first.get_or_insert_with(|| t0.elapsed());
            samples += c.samples.len();
            chunks += 1;
            rate = c.sample_rate;
            true
        })?;
        let total = t0.elapsed();
        let audio_secs = samples as f32 / rate.max(1) as f32;
        results.push(TtsBench {
            time_to_first_audio: first.unwrap_or(total),
            total,
            audio_secs,
            rtf: if audio_secs > 0.0 {
                total.as_secs_f32() / audio_secs
            } else {
                f32::INFINITY
            },
            chunks,
        });
    }
    results.sort_by_key(|r| r.time_to_first_audio);
    let mut median = results[results.len() / 2].clone();
    let mut totals: Vec<Duration> = results.iter().map(|r| r.total).collect();
    totals.sort();
    median.total = totals[totals.len() / 2];
    if median.audio_secs > 0.0 {
        median.rtf = median.total.as_secs_f32() / median.audio_secs;
    }
    Ok(median)
}

/// (current RSS, peak RSS) of this process in KiB, from /proc/self/status (Linux only).
pub fn rss_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
