//! WER + latency benchmark of the speech stack on generated telephone-band callers.
//!
//! ```text
//! cargo run --release -p sb-speech --example speech_bench -- \
//!     [--threads 1,2] [--weights f16,q8_0] [--beams 1,5] [--no-prompt] [--stride 3] \
//!     [--short-window 6] [--sweep WINDOW_S:LEAD_MS:MIN_MS,…] [--no-tts] [--verbose]
//! ```
//! Models come from the model store (`$SWITCHBOARD_MODELS`, fetched on first use);
//! `$SWITCHBOARD_WHISPER_DIR` points the ASR at another Whisper model in CTranslate2 format.

use sb_speech::asr::WeightType;
use sb_speech::eval::{asr_benchmark, AsrEvalConfig, ShortStrategy};
use sb_speech::models::ModelStore;

fn list(v: &str) -> Vec<usize> {
    v.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn main() {
    let mut cfg = AsrEvalConfig::default();
    let mut verbose = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        let mut takes = true;
        match args[i].as_str() {
            "--threads" => cfg.threads = list(&val),
            "--beams" => cfg.beams = list(&val),
            "--stride" => cfg.multi_thread_stride = val.parse().unwrap_or(3),
            "--short-window" => cfg.short_window_s = val.parse().unwrap_or(6),
            "--sweep" => {
                // window_s:lead_ms:min_ms,…
                cfg.short_sweep = val
                    .split(',')
                    .filter_map(|t| {
                        let v: Vec<u32> = t.split(':').filter_map(|x| x.parse().ok()).collect();
                        Some(ShortStrategy {
                            window_s: *v.first()? as usize,
                            lead_ms: v.get(1).copied().unwrap_or(0),
                            min_ms: v.get(2).copied().unwrap_or(1000),
                        })
                    })
                    .collect()
            }
            "--weights" => {
                cfg.weights = val
                    .split(',')
                    .filter_map(|w| match w {
                        "f16" => Some(WeightType::F16),
                        "q8_0" => Some(WeightType::Q8_0),
                        _ => None,
                    })
                    .collect()
            }
            "--no-prompt" => (cfg.prompts, takes) = (Vec::new(), false),
            "--no-tts" => (cfg.tts_sentences, takes) = (Vec::new(), false),
            "--verbose" => (verbose, takes) = (true, false),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += if takes { 2 } else { 1 };
    }
    let mut paths = ModelStore::from_env()
        .ensure(&|l| eprintln!("{l}"))
        .expect("models");
    // Another Whisper model in CTranslate2 format (base, small.en, …).
    if let Some(dir) = std::env::var_os("SWITCHBOARD_WHISPER_DIR") {
        paths.whisper_dir = dir.into();
    }
    let report = asr_benchmark(&paths, &cfg, &|l| eprintln!("{l}")).expect("benchmark");
    println!("{report}");
    if verbose {
        for c in &report.configs {
            println!("\n{}:", c.label);
            for i in &c.items {
                println!(
                    "  {:<26} {:.2}s {:5.0} ms  err {}/{}  {:?} -> {:?}",
                    i.id,
                    i.audio_s,
                    i.ms,
                    i.counts.errors,
                    i.counts.ref_words,
                    i.reference,
                    i.hypothesis
                );
            }
        }
    }
}
