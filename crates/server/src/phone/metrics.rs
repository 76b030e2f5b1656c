//! Prometheus text metrics of the phone path (`GET /metrics`): a small hand-written registry.
//!
//! Counters and histograms are atomics; labelled call counters sit behind a mutex that is only
//! held to bump or read a map entry (never across an await).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Histogram bucket upper bounds in milliseconds.
const BUCKETS_MS: [u64; 14] = [
    25, 50, 100, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
];

/// Per-turn stages, each a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// True end of caller speech → utterance handed to ASR (end-pointing silence).
    Endpointing,
    /// ASR request → transcript.
    Asr,
    /// Query ready → engine result, webhook included.
    NluWebhook,
    /// Engine result → first synthesised audio.
    TtsFirstAudio,
    /// True end of caller speech → first bot audio frame written to the socket.
    ReplyLatency,
}

const STAGES: [(Stage, &str, &str); 5] = [
    (
        Stage::Endpointing,
        "switchboard_turn_endpointing_seconds",
        "End of caller speech to the utterance being sent to ASR.",
    ),
    (
        Stage::Asr,
        "switchboard_turn_asr_seconds",
        "ASR request to transcript.",
    ),
    (
        Stage::NluWebhook,
        "switchboard_turn_nlu_webhook_seconds",
        "Query to engine result, fulfillment webhook included.",
    ),
    (
        Stage::TtsFirstAudio,
        "switchboard_turn_tts_first_audio_seconds",
        "Engine result to first synthesised audio.",
    ),
    (
        Stage::ReplyLatency,
        "switchboard_turn_reply_latency_seconds",
        "End of caller speech to the first bot audio frame written to the socket.",
    ),
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS_MS.len()],
    count: AtomicU64,
    sum_ms: AtomicU64,
}

impl Histogram {
    fn observe(&self, ms: u64) {
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            let v = self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {v}", secs(*b));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            secs(self.sum_ms.load(Ordering::Relaxed))
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

fn secs(ms: u64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

/// Every phone metric.
#[derive(Default)]
pub struct Metrics {
    hists: [Histogram; 5],
    /// transport → active calls.
    active: Mutex<BTreeMap<String, i64>>,
    /// (transport, outcome) → ended calls.
    ended: Mutex<BTreeMap<(String, String), u64>>,
    /// queue → dropped items.
    dropped: Mutex<BTreeMap<&'static str, u64>>,
    /// Calls refused because `max_calls` were active.
    pub refused: AtomicU64,
    /// Undecodable or over-limit messages.
    pub bad_messages: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, stage: Stage, ms: u64) {
        if let Some(i) = STAGES.iter().position(|(s, _, _)| *s == stage) {
            self.hists[i].observe(ms);
        }
    }

    pub fn call_started(&self, transport: &str) {
        if let Ok(mut m) = self.active.lock() {
            *m.entry(transport.to_string()).or_default() += 1;
        }
    }

    /// `outcome`: completed, live-agent-handoff, paused, failed.
    pub fn call_ended(&self, transport: &str, outcome: &str) {
        if let Ok(mut m) = self.active.lock() {
            *m.entry(transport.to_string()).or_default() -= 1;
        }
        if let Ok(mut m) = self.ended.lock() {
            *m.entry((transport.to_string(), outcome.to_string()))
                .or_default() += 1;
        }
    }

    /// Counts one item dropped from a full queue.
    pub fn dropped(&self, queue: &'static str) {
        if let Ok(mut m) = self.dropped.lock() {
            *m.entry(queue).or_default() += 1;
        }
    }

    pub fn dropped_count(&self, queue: &str) -> u64 {
        self.dropped
            .lock()
            .ok()
            .and_then(|m| m.get(queue).copied())
            .unwrap_or(0)
    }

    /// Calls now active on `transport`.
    pub fn active(&self, transport: &str) -> i64 {
        self.active
            .lock()
            .ok()
            .and_then(|m| m.get(transport).copied())
            .unwrap_or(0)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let active = self.active.lock().map(|m| m.clone()).unwrap_or_default();
        out.push_str("# HELP switchboard_calls_active Calls in progress.\n# TYPE switchboard_calls_active gauge\n");
        for t in ["twilio", "vonage"] {
            let v = active.get(t).copied().unwrap_or(0);
            let _ = writeln!(out, "switchboard_calls_active{{transport=\"{t}\"}} {v}");
        }
        let ended = self.ended.lock().map(|m| m.clone()).unwrap_or_default();
        out.push_str("# HELP switchboard_calls_total Calls ended, by transport and outcome.\n# TYPE switchboard_calls_total counter\n");
        for ((t, o), v) in &ended {
            let _ = writeln!(
                out,
                "switchboard_calls_total{{transport=\"{t}\",outcome=\"{o}\"}} {v}"
            );
        }
        out.push_str("# HELP switchboard_calls_refused_total Calls refused at the concurrency limit.\n# TYPE switchboard_calls_refused_total counter\n");
        let _ = writeln!(
            out,
            "switchboard_calls_refused_total {}",
            self.refused.load(Ordering::Relaxed)
        );
        out.push_str("# HELP switchboard_bad_messages_total Platform messages that could not be decoded or broke a limit.\n# TYPE switchboard_bad_messages_total counter\n");
        let _ = writeln!(
            out,
            "switchboard_bad_messages_total {}",
            self.bad_messages.load(Ordering::Relaxed)
        );
        let dropped = self.dropped.lock().map(|m| m.clone()).unwrap_or_default();
        out.push_str("# HELP switchboard_queue_dropped_total Items dropped because a bounded queue was full.\n# TYPE switchboard_queue_dropped_total counter\n");
        for q in ["asr", "tts", "work", "outbound_audio", "transcripts"] {
            let v = dropped.get(q).copied().unwrap_or(0);
            let _ = writeln!(out, "switchboard_queue_dropped_total{{queue=\"{q}\"}} {v}");
        }
        out.push_str("# HELP switchboard_early_asr_skipped_total Recognitions at a pause skipped because recognition was busy (the utterance is recognised at its end).\n# TYPE switchboard_early_asr_skipped_total counter\n");
        let skipped = dropped.get("early_asr").copied().unwrap_or(0);
        let _ = writeln!(out, "switchboard_early_asr_skipped_total {skipped}");
        out.push_str("# HELP switchboard_audio_clips_skipped_total Reply audio clips that could not be fetched or decoded (the rest of the reply played).\n# TYPE switchboard_audio_clips_skipped_total counter\n");
        let clips = dropped.get("audio_clip").copied().unwrap_or(0);
        let _ = writeln!(out, "switchboard_audio_clips_skipped_total {clips}");
        out.push_str("# HELP switchboard_handoffs_failed_total Handoffs and transfers the platform did not make.\n# TYPE switchboard_handoffs_failed_total counter\n");
        let failed = dropped.get("handoff").copied().unwrap_or(0);
        let _ = writeln!(out, "switchboard_handoffs_failed_total {failed}");
        for (i, (_, name, help)) in STAGES.iter().enumerate() {
            self.hists[i].render(&mut out, name, help);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_histograms_and_counters() {
        let m = Metrics::default();
        m.observe(Stage::ReplyLatency, 420);
        m.call_started("twilio");
        m.call_ended("twilio", "completed");
        m.dropped("asr");
        let t = m.render();
        assert!(t.contains("switchboard_turn_reply_latency_seconds_bucket{le=\"0.4\"} 0\n"));
        assert!(t.contains("switchboard_turn_reply_latency_seconds_bucket{le=\"0.5\"} 1\n"));
        assert!(t.contains("switchboard_turn_reply_latency_seconds_sum 0.42\n"));
        assert!(t.contains("switchboard_calls_active{transport=\"twilio\"} 0\n"));
        assert!(
            t.contains("switchboard_calls_total{transport=\"twilio\",outcome=\"completed\"} 1\n")
        );
        assert!(t.contains("switchboard_queue_dropped_total{queue=\"asr\"} 1\n"));
    }
}
