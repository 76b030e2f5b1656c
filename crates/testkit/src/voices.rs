//! The caller's voice (TTS), the optional ear for the bot (ASR), and a cache of the caller's
//! utterances so repeated calls (the benchmark) synthesise each line once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sb_speech::asr::{Asr, AsrOptions};
use sb_speech::tts::Tts;

use crate::playback::{trim_silence, RATE};
use crate::script::{Action, Script};
use crate::TestkitError;

/// 16 kHz mono caller audio, shared.
pub type Pcm = Arc<Vec<i16>>;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Say(String),
    Wav(PathBuf),
}

/// The simulated caller's speech stack.
#[derive(Clone)]
pub struct Voices {
    /// The caller's voice (e.g. `EspeakTts`: a different voice than the bot's).
    pub tts: Arc<dyn Tts>,
    /// Transcribes the bot's replies; `None` = latency only.
    pub asr: Option<Arc<dyn Asr>>,
    cache: Arc<Mutex<HashMap<Key, Pcm>>>,
}

impl Voices {
    pub fn new(tts: Arc<dyn Tts>, asr: Option<Arc<dyn Asr>>) -> Self {
        Voices {
            tts,
            asr,
            cache: Arc::default(),
        }
    }

    /// The same voice and cache without ASR (for load tests).
    pub fn without_asr(&self) -> Self {
        Voices {
            asr: None,
            ..self.clone()
        }
    }

    /// The caller audio of every turn (`None` for turns without audio), synthesising or
    /// loading what the cache does not have yet. Synthesis runs off the async runtime.
    pub async fn prepare(&self, script: &Script) -> Result<Vec<Option<Pcm>>, TestkitError> {
        let mut out = Vec::with_capacity(script.turns.len());
        for t in &script.turns {
            out.push(match &t.action {
                Action::Say(text) => Some(self.say(text).await?),
                Action::Wav(path) => Some(self.wav(path).await?),
                _ => None,
            });
        }
        Ok(out)
    }

    /// `text` in the caller's voice at 16 kHz, leading/trailing silence trimmed.
    pub async fn say(&self, text: &str) -> Result<Pcm, TestkitError> {
        let key = Key::Say(text.to_owned());
        if let Some(p) = self.cached(&key) {
            return Ok(p);
        }
        let tts = self.tts.clone();
        let owned = text.to_owned();
        let pcm = tokio::task::spawn_blocking(move || -> Result<Vec<i16>, TestkitError> {
            let raw = tts
                .synthesize_all(&owned)
                .map_err(|e| TestkitError::Voice(format!("synthesising {owned:?}: {e}")))?;
            let pcm = to_16k(&raw, tts.sample_rate())?;
            Ok(trim_silence(&pcm).to_vec())
        })
        .await
        .map_err(|e| TestkitError::Voice(format!("synthesis task failed: {e}")))??;
        if pcm.is_empty() {
            return Err(TestkitError::Voice(format!(
                "the caller's voice produced no audio for {text:?}"
            )));
        }
        Ok(self.store(key, pcm))
    }

    /// A WAV file as 16 kHz mono.
    pub async fn wav(&self, path: &Path) -> Result<Pcm, TestkitError> {
        let key = Key::Wav(path.to_owned());
        if let Some(p) = self.cached(&key) {
            return Ok(p);
        }
        let owned = path.to_owned();
        let pcm = tokio::task::spawn_blocking(move || -> Result<Vec<i16>, TestkitError> {
            let bytes = std::fs::read(&owned)
                .map_err(|e| TestkitError::Voice(format!("reading {}: {e}", owned.display())))?;
            let wav = sb_audio::read_wav(&bytes)
                .map_err(|e| TestkitError::Voice(format!("{}: {e}", owned.display())))?;
            let pcm = sb_audio::resample(&wav.samples, wav.rate, RATE)
                .map_err(|e| TestkitError::Voice(format!("{}: {e}", owned.display())))?;
            Ok(sb_audio::f32_to_i16(&pcm))
        })
        .await
        .map_err(|e| TestkitError::Voice(format!("wav task failed: {e}")))??;
        Ok(self.store(key, pcm))
    }

    /// Transcribes a bot reply off the async runtime (`None` without ASR or audio).
    pub async fn transcribe(&self, pcm: Vec<i16>) -> Option<Result<String, String>> {
        let asr = self.asr.clone()?;
        if pcm.is_empty() {
            return None;
        }
        let res = tokio::task::spawn_blocking(move || {
            let max = sb_speech::asr::MAX_AUDIO_SECONDS.saturating_sub(1) * RATE as usize;
            let f = sb_audio::i16_to_f32(&pcm[..pcm.len().min(max)]);
            // The recording starts with the bot's first audio frame: no silence in front.
            let opts = AsrOptions {
                lead_in_ms: sb_speech::asr::RECORDED_LEAD_IN_MS,
                ..AsrOptions::default()
            };
            asr.transcribe(&f, &opts)
                .map(|t| t.text)
                .map_err(|e| e.to_string())
        })
        .await;
        Some(res.unwrap_or_else(|e| Err(format!("ASR task failed: {e}"))))
    }

    fn cached(&self, key: &Key) -> Option<Pcm> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn store(&self, key: Key, pcm: Vec<i16>) -> Pcm {
        let pcm = Arc::new(pcm);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, pcm.clone());
        pcm
    }
}

fn to_16k(pcm: &[i16], rate: u32) -> Result<Vec<i16>, TestkitError> {
    if rate == RATE {
        return Ok(pcm.to_vec());
    }
    let f = sb_audio::i16_to_f32(pcm);
    let r = sb_audio::resample(&f, rate, RATE)
        .map_err(|e| TestkitError::Voice(format!("resampling the caller's voice: {e}")))?;
    Ok(sb_audio::f32_to_i16(&r))
}
