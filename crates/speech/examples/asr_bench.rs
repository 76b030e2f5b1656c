//! Whisper tiny.en latency on telephone-band utterances (1–6 s).
//!
//! ```text
//! cargo run --release -p sb-speech --example asr_bench -- [MODEL_DIR] [REPS]
//! ```
//! MODEL_DIR defaults to `$SB_WHISPER_DIR`, else the model store's whisper dir.
//! Prints load time (cold conversion and cached), per-utterance median/p95
//! and RTF for f16 and q8_0 weights × 1 and 2 threads × greedy and beam 5,
//! and peak RSS.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sb_speech::asr::{bench_asr, AsrOptions, WeightType, WhisperAsr};
use sb_speech::models::ModelStore;

fn fixture(name: &str) -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.wav"));
    let wav = sb_audio::read_wav(&std::fs::read(&path).expect("fixture")).expect("wav");
    sb_audio::resample(&wav.samples, wav.rate, 16_000).expect("resample")
}

fn join(parts: &[&[f32]]) -> Vec<f32> {
    let gap = vec![0.0f32; 3_200];
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&gap);
        }
        out.extend_from_slice(p);
    }
    out
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let model_dir = args
        .next()
        .filter(|a| !a.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SB_WHISPER_DIR").map(PathBuf::from))
        .unwrap_or_else(|| ModelStore::from_env().layout().whisper_dir);
    let reps: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);

    let cold_cache = std::env::temp_dir().join(format!("sb-asr-bench-{}", std::process::id()));
    let t = Instant::now();
    let asr = WhisperAsr::load(&model_dir, &cold_cache, 1).expect("load");
    println!("load, cold (convert CT2 -> ggml + load): {:.0} ms", ms(t));
    let t = Instant::now();
    drop(asr);
    let asr = WhisperAsr::load(&model_dir, &cold_cache, 1).expect("load");
    println!(
        "load, cached: {:.0} ms; RSS after load {} MB",
        ms(t),
        status_kb("VmRSS:") / 1024
    );
    drop(asr);

    let (yes, cancel, hours) = (
        fixture("asr_yes"),
        fixture("asr_cancel"),
        fixture("asr_hours"),
    );
    let (account, booking) = (fixture("asr_account"), fixture("asr_booking"));
    let utts: Vec<(String, Vec<f32>)> = vec![
        ("yes".into(), yes.clone()),
        ("cancel".into(), cancel.clone()),
        ("account".into(), account.clone()),
        ("cancel+yes".into(), join(&[&cancel, &yes])),
        ("booking".into(), booking.clone()),
        ("hours+account".into(), join(&[&hours, &account])),
        ("booking+cancel".into(), join(&[&booking, &cancel])),
    ];
    let configs = [
        (WeightType::F16, 1, 1),
        (WeightType::F16, 1, 5),
        (WeightType::F16, 2, 1),
        (WeightType::F16, 2, 5),
        (WeightType::Q8_0, 1, 1),
        (WeightType::Q8_0, 1, 5),
        (WeightType::Q8_0, 2, 5),
    ];
    for (wtype, threads, beam) in configs {
        let asr = WhisperAsr::load_with(&model_dir, &cold_cache, threads, wtype).expect("load");
        let opts = AsrOptions {
            beam_size: beam,
            ..AsrOptions::default()
        };
        let r = bench_asr(&asr, &utts, &opts, reps).expect("bench");
        println!(
            "\n{} threads={threads} beam={beam} reps={reps}: all median {:.0} ms, p95 {:.0} ms, RTF {:.3}",
            wtype.tag(),
            r.median_ms,
            r.p95_ms,
            r.rtf
        );
        for u in &r.utterances {
            println!(
                "  {:>15} {:4.2}s  median {:5.0} ms  p95 {:5.0} ms  RTF {:.3}  {:?}",
                u.name, u.audio_s, u.median_ms, u.p95_ms, u.rtf, u.text
            );
        }
    }
    println!("\npeak RSS (VmHWM): {} MB", status_kb("VmHWM:") / 1024);
    let _ = std::fs::remove_dir_all(&cold_cache);
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
