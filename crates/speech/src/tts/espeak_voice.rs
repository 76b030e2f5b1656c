//! Fallback voice: libespeak-ng's own formant synthesiser (no neural model needed).

use super::{AudioChunk, Tts};
use crate::error::SpeechError;
use crate::espeak::Espeak;
use crate::models::ModelPaths;

/// espeak-ng synthesis, sentence by sentence. Robotic but tiny and fast; it holds the global
/// espeak lock while it synthesises, so it serialises with Piper's phonemisation.
pub struct EspeakTts {
    espeak: &'static Espeak,
    voice: String,
}

impl EspeakTts {
    /// Load with the `en-us` voice.
    pub fn load(paths: &ModelPaths) -> Result<Self, SpeechError> {
        Self::load_voice(paths, "en-us")
    }

    /// Load with any espeak-ng voice name (`en-gb`, `de`, …).
    pub fn load_voice(paths: &ModelPaths, voice: &str) -> Result<Self, SpeechError> {
        let espeak = Espeak::load(&paths.espeak_lib, &paths.espeak_data)?;
        // Fail early on an unknown voice.
        espeak.clauses(voice, "")?;
        Ok(EspeakTts {
            espeak,
            voice: voice.to_string(),
        })
    }
}

impl Tts for EspeakTts {
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        // Sentence boundaries as espeak itself sees them.
        let mut sentences = Vec::new();
        let mut current = String::new();
        for clause in self.espeak.clauses(&self.voice, text)? {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&clause.text);
            if clause.end_of_sentence {
                sentences.push(std::mem::take(&mut current));
            }
        }
        if !current.trim().is_empty() {
            sentences.push(current);
        }
        for sentence in sentences {
            if sentence.trim().is_empty() {
                continue;
            }
            let mut samples = Vec::new();
            self.espeak.synth(&self.voice, &sentence, &mut |s| {
                samples.extend_from_slice(s);
                true
            })?;
            let chunk = AudioChunk {
                samples,
                sample_rate: self.espeak.sample_rate(),
                text: sentence,
            };
            if !sink(chunk) {
                break;
            }
        }
        Ok(())
    }

    fn sample_rate(&self) -> u32 {
        self.espeak.sample_rate()
    }
}
