//! Measure TTS: model load time, time to first audio, real-time factor, RSS.
//!
//! ```text
//! cargo run --release -p sb-speech --example tts_bench -- ["text to speak"] [--runs N] [--wav out.wav]
//!     [--threads N] [--split-first-clause] [--head-threads N]
//! ```
//! Models come from the store (`$SWITCHBOARD_MODELS` or the default cache), fetched on first use.

use std::time::Instant;

use sb_speech::models::ModelStore;
use sb_speech::tts::{bench_tts, rss_kib, EspeakTts, PiperOptions, PiperTts, Tts};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = "Thanks for calling, how can I help you today?".to_string();
    let mut runs = 5usize;
    let mut wav: Option<String> = None;
    let mut opts = PiperOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--wav" => wav = Some(args.next().ok_or("--wav needs a path")?),
            "--threads" => {
                opts.intra_threads = args.next().ok_or("--threads needs a value")?.parse()?
            }
            "--split-first-clause" => opts.split_first_clause = true,
            "--head-threads" => {
                opts.head_threads = args.next().ok_or("--head-threads needs a value")?.parse()?
            }
            _ => text = a,
        }
    }
    let store = ModelStore::from_env();
    let t0 = Instant::now();
    let paths = store.ensure(&|line| eprintln!("{line}"))?;
    println!(
        "models verified in {:.0} ms ({})",
        ms(t0),
        store.root.display()
    );

    let rss0 = rss_kib().map_or(0, |r| r.0);
    let t0 = Instant::now();
    let piper = PiperTts::load_with(&paths, opts)?;
    println!("piper load: {:.0} ms", ms(t0));
    report("piper", &piper, &text, runs)?;
    let two = format!("{text} Please say the name of the department you need.");
    report("piper (2 sentences)", &piper, &two, runs)?;

    let t0 = Instant::now();
    let espeak = EspeakTts::load(&paths)?;
    println!("espeak load: {:.0} ms", ms(t0));
    report("espeak", &espeak, &text, runs)?;

    if let Some((rss, peak)) = rss_kib() {
        println!(
            "RSS: {} MiB (before load {} MiB), peak {} MiB",
            rss / 1024,
            rss0 / 1024,
            peak / 1024
        );
    }
    if let Some(path) = wav {
        let samples = piper.synthesize_all(&text)?;
        write_wav(&path, &samples, piper.sample_rate())?;
        println!("wrote {path}");
    }
    Ok(())
}

fn report(
    name: &str,
    tts: &dyn Tts,
    text: &str,
    runs: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let b = bench_tts(tts, text, runs)?;
    println!(
        "{name}: first audio {:.0} ms, total {:.0} ms for {:.2} s audio in {} chunk(s), RTF {:.3}",
        b.time_to_first_audio.as_secs_f64() * 1e3,
        b.total.as_secs_f64() * 1e3,
        b.audio_secs,
        b.chunks,
        b.rtf
    );
    Ok(())
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1e3
}

/// Minimal 16-bit mono PCM WAV writer (for listening checks).
fn write_wav(path: &str, samples: &[i16], rate: u32) -> std::io::Result<()> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b)
}
