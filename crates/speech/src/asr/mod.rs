//! Embedded speech recognition: Whisper (tiny.en) on CPU via whisper.cpp.
//!
//! The model ships in CTranslate2 (faster-whisper) format; [`WhisperAsr::load`]
//! converts it once into a whisper.cpp ggml file in a cache directory
//! ([`cache::ensure_ggml`]) and keeps the model loaded and shared. Each call
//! uses its own decoder state (pooled), so one `WhisperAsr` serves many
//! threads without a global lock.

pub mod bench;
pub mod cache;
pub mod ct2;
mod echo_stop;
pub mod ggml;
pub mod mel;
mod repeat;
mod vocab;
mod whisper;
mod years;

pub use bench::{bench_asr, BenchReport};
pub use ggml::WeightType;
pub use repeat::{collapse_repeats, kept_word_indices};
pub use vocab::vocabulary_prompt;
pub use whisper::{WhisperAsr, DEFAULT_SHORT_WINDOW_S, RECORDED_LEAD_IN_MS, SHORT_AUDIO_SAMPLES};

use crate::error::SpeechError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use sb_contracts::asr::{AsrFailure, AsrLoad, AsrPriority, Transcript, WordTiming};

/// Decoding options for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct AsrOptions {
    /// Text that biases recognition (e.g. expected names or phrases).
    pub initial_prompt: Option<String>,
    /// 1 = greedy (the default); > 1 = beam search of that width (max 8). Measured on the
    /// telephone-band caller set, beam 5 is not more accurate than greedy without a prompt
    /// (f16: 60.9 % vs 50.8 % WER; q8_0: 52.3 % vs 50.8 %) and costs 1.4–2× the time.
    pub beam_size: usize,
    /// Hard cap on decoded tokens; the engine also caps by audio length.
    pub max_tokens: usize,
    /// Compute threads for this recognition; 0 = the recogniser's own setting.
    pub threads: usize,
    /// Set from another thread to stop this recognition early (it then fails as cancelled).
    pub cancel: Option<CancelFlag>,
    /// Silence (ms) the recogniser ensures before the first sound, adding what is missing; 0 =
    /// none. For recorded audio that starts at once (a bot's reply, a trimmed clip): tiny.en
    /// drops the first words of audio whose sound starts in its first ~300 ms. The endpointer's
    /// utterances start with their own pre-roll and leave this at 0.
    pub lead_in_ms: u32,
}

/// A shared "stop now" flag for a recognition in progress.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// The flag's address, for engines that poll it from C.
    pub(crate) fn as_ptr(&self) -> *const AtomicBool {
        Arc::as_ptr(&self.0)
    }
}

impl PartialEq for CancelFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for AsrOptions {
    fn default() -> Self {
        Self {
            initial_prompt: None,
            beam_size: 1,
            max_tokens: 128,
            threads: 0,
            cancel: None,
            lead_in_ms: 0,
        }
    }
}

/// A speech recogniser for 16 kHz mono audio in `[-1, 1]`.
pub trait Asr: Send + Sync {
    fn transcribe(&self, pcm_16k: &[f32], opts: &AsrOptions) -> Result<Transcript, SpeechError>;
}

/// Longest accepted utterance.
pub const MAX_AUDIO_SECONDS: usize = 120;

/// Checks audio handed to a recogniser: non-empty, finite, not absurdly long.
pub fn validate_pcm(pcm_16k: &[f32]) -> Result<(), SpeechError> {
    if pcm_16k.is_empty() {
        return Err(SpeechError::BadAudio("no samples".into()));
    }
    if pcm_16k.len() > MAX_AUDIO_SECONDS * 16_000 {
        return Err(SpeechError::BadAudio(format!(
            "{} samples is longer than {MAX_AUDIO_SECONDS} s",
            pcm_16k.len()
        )));
    }
    if let Some(i) = pcm_16k.iter().position(|x| !x.is_finite()) {
        return Err(SpeechError::BadAudio(format!(
            "non-finite sample at index {i}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_bad_audio() {
        assert!(validate_pcm(&[]).is_err());
        assert!(validate_pcm(&[0.0, f32::NAN]).is_err());
        assert!(validate_pcm(&[f32::INFINITY]).is_err());
        assert!(validate_pcm(&vec![0.0; MAX_AUDIO_SECONDS * 16_000 + 1]).is_err());
        assert!(validate_pcm(&[0.0, 0.5, -1.0]).is_ok());
    }
}
