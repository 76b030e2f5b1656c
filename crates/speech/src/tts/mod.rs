//! Text-to-speech: a streaming [`Tts`] trait, the neural [`PiperTts`] voice (VITS ONNX model run
//! with onnxruntime, phonemes from libespeak-ng), the [`EspeakTts`] fallback voice, and a
//! [`PromptCache`] of pre-synthesised static responses.
//!
//! Synthesis is blocking CPU work: call it from a dedicated worker thread, never from an async
//! task.

mod bench;
mod espeak_voice;
mod flite;
mod ort_env;
pub mod phonemize;
mod phrase;
mod piper;
mod prompt_cache;
mod unit_cache;

pub use bench::{bench_tts, rss_kib, TtsBench};
pub use espeak_voice::EspeakTts;
pub use flite::{FliteTts, FLITE_VOICES};
pub use ort_env::ort_environment;
pub use phonemize::{Sentence, VoiceConfig};
pub use piper::{PiperOptions, PiperTts};
pub use prompt_cache::PromptCache;
pub use unit_cache::UnitCache;

use crate::error::SpeechError;

/// Synthesised audio for one sentence: 16-bit mono PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioChunk {
    pub samples: Vec<i16>,
    pub sample_rate: u32,
    /// The sentence this audio speaks.
    pub text: String,
}

impl AudioChunk {
    pub fn duration_secs(&self) -> f32 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.samples.len() as f32 / self.sample_rate as f32
        }
    }
}

/// Optional text normaliser run before phonemisation (e.g. "10:00" → "ten o'clock").
pub type Normalizer = std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>;

pub trait Tts: Send + Sync {
    /// Streams audio sentence by sentence: calls `sink` per sentence as soon as it's
    /// synthesised; `sink` returns false to cancel (remaining sentences are not synthesised).
    /// Empty or whitespace-only text yields `Ok(())` without chunks.
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError>;

    /// [`Self::synthesize`] at `rate` times the voice's speed (SSML `<prosody rate>`). Voices
    /// without a speed control speak at their own rate.
    fn synthesize_at(
        &self,
        text: &str,
        rate: f32,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let _ = rate;
        self.synthesize(text, sink)
    }

    fn sample_rate(&self) -> u32;

    /// Synthesise everything into one buffer (convenience for prompts and tests).
    fn synthesize_all(&self, text: &str) -> Result<Vec<i16>, SpeechError> {
        let mut out = Vec::new();
        self.synthesize(text, &mut |c| {
            out.extend_from_slice(&c.samples);
            true
        })?;
        Ok(out)
    }
}

/// A voice for simulated callers by spec: `flite:NAME` (CMU Flite, see [`FliteTts`]) or an
/// espeak-ng voice name, optionally written `espeak:NAME` (e.g. `en-us+f3`).
pub fn caller_voice(
    paths: &crate::models::ModelPaths,
    spec: &str,
) -> Result<std::sync::Arc<dyn Tts>, SpeechError> {
    Ok(match spec.split_once(':') {
        Some(("flite", v)) => std::sync::Arc::new(FliteTts::new(v)?),
        Some(("espeak", v)) => std::sync::Arc::new(EspeakTts::load_voice(paths, v)?),
        Some((kind, _)) => {
            return Err(SpeechError::Other(format!(
                "unknown voice kind {kind:?} (flite:NAME or espeak:NAME)"
            )))
        }
        None => std::sync::Arc::new(EspeakTts::load_voice(paths, spec)?),
    })
}

/// `n` samples of silence at `rate` for `ms` milliseconds.
pub(crate) fn silence(rate: u32, ms: u32) -> Vec<i16> {
    vec![0; (rate as u64 * ms as u64 / 1000) as usize]
}
