//! Recognises the telephone-band corpus with 1 and 2 threads, and with 1 thread while another
//! recognition runs beside it, and prints every utterance whose text differs.
//!
//! `cargo run --release -p sb-speech --example asr_determinism`

use sb_speech::asr::{Asr, AsrOptions, WhisperAsr};
use sb_speech::eval::build_corpus;
use sb_speech::models::ModelStore;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = ModelStore::from_env();
    let paths = store.ensure(&|l: &str| eprintln!("{l}"))?;
    let corpus = build_corpus(&paths)?;
    let asr = Arc::new(WhisperAsr::load(
        &paths.whisper_dir,
        &store.root.join("cache"),
        1,
    )?);
    let run = |pcm: &[f32], threads: usize| {
        let opts = AsrOptions {
            threads,
            ..AsrOptions::default()
        };
        asr.transcribe(pcm, &opts)
            .map(|t| t.text)
            .unwrap_or_else(|e| format!("ERR {e}"))
    };
    let (mut diff_threads, mut diff_load, mut diff_repeat) = (0, 0, 0);
    for u in &corpus {
        let a = run(&u.pcm_16k, 1);
        let b = run(&u.pcm_16k, 2);
        let a2 = run(&u.pcm_16k, 1);
        // The same recognition with another one running beside it (shared pool, busy cores).
        let other = corpus[(corpus.len() - 1).min(3)].pcm_16k.clone();
        let asr2 = asr.clone();
        let h = std::thread::spawn(move || asr2.transcribe(&other, &AsrOptions::default()).ok());
        let c = run(&u.pcm_16k, 1);
        let _ = h.join();
        if a != b {
            diff_threads += 1;
            println!("{} threads: 1t {a:?} | 2t {b:?}", u.id);
        }
        if a != c {
            diff_load += 1;
            println!("{} load: alone {a:?} | beside another {c:?}", u.id);
        }
        if a != a2 {
            diff_repeat += 1;
            println!("{} repeat: {a:?} | {a2:?}", u.id);
        }
    }
    println!(
        "{} utterances: differ by threads {diff_threads}, by load {diff_load}, on repeat {diff_repeat}",
        corpus.len()
    );
    Ok(())
}
