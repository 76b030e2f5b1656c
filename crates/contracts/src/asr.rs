//! What a recogniser gives the call core.

/// Result of recognising one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// Recognised text, trimmed; empty when nothing was said.
    pub text: String,
    /// 0..1: `exp(mean log-probability)` of the emitted text tokens.
    pub confidence: f32,
    /// Per-word timings (approximate, from the recogniser's token timestamps);
    /// empty when the engine does not produce them.
    pub words: Vec<WordTiming>,
}

/// One word and where it was heard, relative to the start of the audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordTiming {
    pub word: String,
    pub start_ms: u32,
    pub end_ms: u32,
}

/// Why a recognition gave no transcript. The call core treats every failure as "nothing
/// heard"; the kind decides what is logged and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsrFailure {
    /// Every recogniser worker was busy and the queue full.
    #[error("speech recognition is overloaded")]
    Overloaded,
    /// Stopped because the result was no longer wanted.
    #[error("recognition cancelled")]
    Cancelled,
    /// The recogniser rejected the audio or failed while decoding it.
    #[error("{0}")]
    Failed(String),
}

impl From<crate::SpeechError> for AsrFailure {
    fn from(e: crate::SpeechError) -> Self {
        match e {
            crate::SpeechError::Cancelled => AsrFailure::Cancelled,
            e => AsrFailure::Failed(e.to_string()),
        }
    }
}
