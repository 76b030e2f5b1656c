//! Accuracy and latency evaluation of the speech stack on generated telephone-band callers:
//! [`asr_benchmark`] runs Whisper over the [`corpus`] in several configurations and reports
//! WER (normalised, see [`wer`]), per-category WER, latency by utterance length and RTF, plus
//! Piper time-to-first-audio and the per-frame media pipeline cost.

pub mod corpus;
mod report;
pub mod wer;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use corpus::{build_corpus, EvalUtterance, Noise, TEXTS, VOICES};
pub use wer::{normalize_words, wer_counts, WerCounts};

use crate::asr::{bench::percentile, vocabulary_prompt, Asr, AsrOptions, WeightType, WhisperAsr};
use crate::bench::{media_pipeline_breakdown, MediaPipelineTimes};
use crate::error::SpeechError;
use crate::models::ModelPaths;
use crate::tts::{bench_tts, PiperTts};

/// Categories of [`TEXTS`], in report order.
pub const CATEGORIES: [&str; 6] = ["booking", "answer", "handoff", "pause", "digits", "other"];
/// Utterance-length buckets (seconds, half-open) for latency figures.
pub const BUCKETS: [(f64, f64); 4] = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 120.0)];

/// What [`asr_benchmark`] runs.
#[derive(Debug, Clone)]
pub struct AsrEvalConfig {
    /// Where the converted whisper.cpp models are cached.
    pub cache_dir: PathBuf,
    pub weights: Vec<WeightType>,
    pub beams: Vec<usize>,
    pub threads: Vec<usize>,
    /// Named vocabulary prompts, each run besides "prompt off" (empty: prompt off only).
    pub prompts: Vec<(String, String)>,
    /// Encoder window for < 2 s audio in the main grid (see `WhisperAsr::with_short_window`).
    pub short_window_s: usize,
    /// Extra single-thread runs on the < 2 s utterances (first weight type and beam, prompt
    /// off) trying short-audio strategies.
    pub short_sweep: Vec<ShortStrategy>,
    /// Runs with more than one thread use every n-th utterance (≥ 1).
    pub multi_thread_stride: usize,
    /// Piper one-sentence replies timed for time-to-first-audio; empty skips Piper.
    pub tts_sentences: Vec<String>,
    pub tts_runs: usize,
    /// 20 ms frames pushed through `bench::media_pipeline`; 0 skips it.
    pub media_frames: usize,
}

impl Default for AsrEvalConfig {
    fn default() -> Self {
        Self {
            cache_dir: std::env::temp_dir().join("sb-speech-eval-cache"),
            weights: vec![WeightType::F16, WeightType::Q8_0],
            beams: vec![1, 5],
            threads: vec![1, 2],
            prompts: vec![
                ("names".into(), restaurant_names_prompt()),
                ("agent".into(), restaurant_prompt()),
            ],
            short_window_s: crate::asr::DEFAULT_SHORT_WINDOW_S,
            short_sweep: Vec::new(),
            multi_thread_stride: 3,
            tts_sentences: vec![
                "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?".into(),
                "Table booked for Tanya at ten a m on Sunday the ninth of January. Thank you!".into(),
                "Sure, what time would you like?".into(),
            ],
            tts_runs: 5,
            media_frames: 3_000,
        }
    }
}

/// Training phrases of the example restaurant agent (`examples/restaurant`), most specific
/// first.
pub const RESTAURANT_PHRASES: &[&str] = &[
    "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya",
    "book a table for Michael tomorrow at 7 pm",
    "can I reserve a table for Friday at 8pm under the name Sarah",
    "A table for Nicole on the 10th at 13:00, please.",
    "Could I book a slot at 14:00 on 10/12/2021 for Joseph?",
    "I'd like to book a table on the 10/09/2020 at 16:00 for Amanda",
    "I want to speak to an agent",
    "can I talk to a human",
    "representative please",
    "I need to check my calendar",
    "let me check my diary first",
    "hello, is this the restaurant?",
    "thank you, goodbye",
];
/// Entity values / names of the example restaurant agent, plus its domain words.
pub const RESTAURANT_VALUES: &[&str] = &[
    "Tanya",
    "Nicole",
    "Joseph",
    "Amanda",
    "Michael",
    "Sarah",
    "table",
    "reservation",
    "agent",
    "calendar",
    "restaurant",
];

/// Vocabulary prompt from the restaurant agent's training phrases and values (400 bytes).
/// Note the evaluation texts include some of these phrases, as real callers would.
pub fn restaurant_prompt() -> String {
    vocabulary_prompt(RESTAURANT_PHRASES, RESTAURANT_VALUES, 400)
}

/// Vocabulary prompt from the restaurant agent's values only (names and domain words).
pub fn restaurant_names_prompt() -> String {
    vocabulary_prompt(&[], RESTAURANT_VALUES, 400)
}

/// One utterance's outcome in one configuration.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub id: String,
    pub category: &'static str,
    /// Caller condition: voice, speed and noise (e.g. "en-us x1.1 white25").
    pub condition: (&'static str, f32, Noise),
    pub reference: &'static str,
    pub hypothesis: String,
    pub audio_s: f64,
    pub ms: f64,
    pub counts: WerCounts,
}

/// Latency of the utterances in one length bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketLatency {
    pub from_s: f64,
    pub to_s: f64,
    pub n: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
}

/// Results of one configuration.
#[derive(Debug, Clone)]
pub struct ConfigResult {
    pub label: String,
    pub total: WerCounts,
    pub per_category: Vec<(&'static str, WerCounts)>,
    pub buckets: Vec<BucketLatency>,
    /// Sum of processing time / sum of audio.
    pub rtf: f64,
    pub items: Vec<ItemResult>,
}

/// How audio under 2 s is presented to Whisper (see `WhisperAsr::with_short_window` and
/// `WhisperAsr::with_short_padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortStrategy {
    pub window_s: usize,
    pub lead_ms: u32,
    pub min_ms: u32,
}

/// Piper figures for one reply.
#[derive(Debug, Clone)]
pub struct TtsFigure {
    pub text: String,
    pub first_audio: Duration,
    pub rtf: f32,
}

/// Everything [`asr_benchmark`] measured; `Display` prints the tables.
#[derive(Debug, Clone)]
pub struct AsrEvalReport {
    pub utterances: usize,
    pub corpus_audio_s: f64,
    pub configs: Vec<ConfigResult>,
    pub tts: Vec<TtsFigure>,
    pub media: Option<MediaPipelineTimes>,
    /// `/proc/loadavg` before and after.
    pub load_before: String,
    pub load_after: String,
    pub prompts: Vec<(String, String)>,
    pub elapsed: Duration,
}

/// Transcribes every utterance once (after one warm-up call), timing each call.
pub fn evaluate(
    label: &str,
    asr: &dyn Asr,
    utts: &[&EvalUtterance],
    opts: &AsrOptions,
) -> Result<ConfigResult, SpeechError> {
    if let Some(u) = utts.first() {
        asr.transcribe(&u.pcm_16k, opts)?;
    }
    let mut items = Vec::with_capacity(utts.len());
    for u in utts {
        let t = Instant::now();
        let text = asr.transcribe(&u.pcm_16k, opts)?.text;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        items.push(ItemResult {
            id: u.id.clone(),
            category: u.category,
            condition: (u.voice, u.speed, u.noise),
            reference: u.text,
            counts: wer_counts(u.text, &text),
            hypothesis: text,
            audio_s: u.audio_s(),
            ms,
        });
    }
    Ok(summarise(label, items))
}

fn summarise(label: &str, items: Vec<ItemResult>) -> ConfigResult {
    let mut total = WerCounts::default();
    items.iter().for_each(|i| total.add(i.counts));
    let per_category = CATEGORIES
        .iter()
        .map(|&c| {
            let mut w = WerCounts::default();
            items
                .iter()
                .filter(|i| i.category == c)
                .for_each(|i| w.add(i.counts));
            (c, w)
        })
        .collect();
    let buckets = BUCKETS
        .iter()
        .map(|&(from_s, to_s)| {
            let ms: Vec<f64> = items
                .iter()
                .filter(|i| i.audio_s >= from_s && i.audio_s < to_s)
                .map(|i| i.ms)
                .collect();
            BucketLatency {
                from_s,
                to_s,
                n: ms.len(),
                median_ms: percentile(&ms, 50.0),
                p95_ms: percentile(&ms, 95.0),
            }
        })
        .collect();
    let audio: f64 = items.iter().map(|i| i.audio_s).sum();
    let ms: f64 = items.iter().map(|i| i.ms).sum();
    ConfigResult {
        label: label.to_string(),
        total,
        per_category,
        buckets,
        rtf: if audio > 0.0 {
            ms / 1000.0 / audio
        } else {
            0.0
        },
        items,
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Builds the corpus and runs every configuration of `cfg`: weights × beams × prompt off/on
/// × threads (multi-thread runs on a subset), then the short-window sweep, Piper and the media
/// pipeline. `progress` gets one line per finished step.
pub fn asr_benchmark(
    paths: &ModelPaths,
    cfg: &AsrEvalConfig,
    progress: &dyn Fn(&str),
) -> Result<AsrEvalReport, SpeechError> {
    let started = Instant::now();
    let load_before = loadavg();
    let corpus = build_corpus(paths)?;
    let all: Vec<&EvalUtterance> = corpus.iter().collect();
    let stride = cfg.multi_thread_stride.max(1);
    let subset: Vec<&EvalUtterance> = corpus.iter().step_by(stride).collect();
    progress(&format!(
        "corpus: {} utterances, {:.0} s of audio",
        corpus.len(),
        corpus.iter().map(|u| u.audio_s()).sum::<f64>()
    ));
    let mut prompts: Vec<(&str, Option<String>)> = vec![("off", None)];
    prompts.extend(
        cfg.prompts
            .iter()
            .map(|(n, p)| (n.as_str(), Some(p.clone()))),
    );
    let mut configs = Vec::new();
    for &threads in &cfg.threads {
        for &wtype in &cfg.weights {
            let asr = WhisperAsr::load_with(&paths.whisper_dir, &cfg.cache_dir, threads, wtype)?
                .with_short_window(cfg.short_window_s);
            for &beam in &cfg.beams {
                for (name, prompt) in &prompts {
                    let label = format!(
                        "{} beam{beam} prompt-{name} {threads}t{}",
                        wtype.tag(),
                        if threads > 1 {
                            format!(" (1/{stride})")
                        } else {
                            String::new()
                        }
                    );
                    let opts = AsrOptions {
                        initial_prompt: prompt.clone(),
                        beam_size: beam,
                        ..AsrOptions::default()
                    };
                    let utts = if threads > 1 { &subset } else { &all };
                    let r = evaluate(&label, &asr, utts, &opts)?;
                    progress(&format!("{label}: WER {:.1} %", r.total.wer() * 100.0));
                    configs.push(r);
                }
            }
        }
    }
    if let (Some(&wtype), Some(&beam)) = (cfg.weights.first(), cfg.beams.first()) {
        let short: Vec<&EvalUtterance> = corpus.iter().filter(|u| u.audio_s() < 2.0).collect();
        for st in &cfg.short_sweep {
            let asr = WhisperAsr::load_with(&paths.whisper_dir, &cfg.cache_dir, 1, wtype)?
                .with_short_window(st.window_s)
                .with_short_padding(st.lead_ms, st.min_ms);
            let label = format!(
                "{} beam{beam} w{}s lead{} min{} <2s-only",
                wtype.tag(),
                st.window_s,
                st.lead_ms,
                st.min_ms
            );
            let opts = AsrOptions {
                beam_size: beam,
                ..AsrOptions::default()
            };
            let r = evaluate(&label, &asr, &short, &opts)?;
            progress(&format!("{label}: WER {:.1} %", r.total.wer() * 100.0));
            configs.push(r);
        }
    }
    let mut tts = Vec::new();
    if !cfg.tts_sentences.is_empty() {
        let piper = PiperTts::load(paths)?;
        for text in &cfg.tts_sentences {
            let b = bench_tts(&piper, text, cfg.tts_runs)?;
            tts.push(TtsFigure {
                text: text.clone(),
                first_audio: b.time_to_first_audio,
                rtf: b.rtf,
            });
        }
        progress("piper done");
    }
    let media = (cfg.media_frames > 0).then(|| media_pipeline_breakdown(cfg.media_frames));
    Ok(AsrEvalReport {
        utterances: corpus.len(),
        corpus_audio_s: corpus.iter().map(|u| u.audio_s()).sum(),
        configs,
        tts,
        media,
        load_before,
        load_after: loadavg(),
        prompts: cfg.prompts.clone(),
        elapsed: started.elapsed(),
    })
}
