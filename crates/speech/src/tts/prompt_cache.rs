//! Pre-synthesised audio for fixed texts (an agent's static responses).

use std::collections::HashMap;
use std::sync::Arc;

use super::Tts;
use crate::error::SpeechError;

/// Audio of fixed prompts, synthesised once at load and shared without locks.
#[derive(Debug, Clone, Default)]
pub struct PromptCache {
    sample_rate: u32,
    audio: HashMap<String, Arc<[i16]>>,
}

/// Cache key: whitespace-collapsed, trimmed text (case is kept: it can change prosody).
fn key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl PromptCache {
    /// Synthesise every distinct non-empty text with `tts`.
    pub fn build<'a>(
        tts: &dyn Tts,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, SpeechError> {
        let mut audio = HashMap::new();
        for text in texts {
            let k = key(text);
            if k.is_empty() || audio.contains_key(&k) {
                continue;
            }
            let samples = tts.synthesize_all(&k)?;
            audio.insert(k, Arc::from(samples));
        }
        Ok(PromptCache {
            sample_rate: tts.sample_rate(),
            audio,
        })
    }

    /// The cached audio for `text` (matched after collapsing whitespace).
    pub fn get(&self, text: &str) -> Option<Arc<[i16]>> {
        self.audio.get(&key(text)).cloned()
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn len(&self) -> usize {
        self.audio.len()
    }

    pub fn is_empty(&self) -> bool {
        self.audio.is_empty()
    }
}
