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

/// What a recognition is for. The one place the early-recognition policy is decided: the call
/// core says which kind it asks for, the recogniser's driver asks [`AsrPriority::runs`] and
/// [`AsrPriority::preempts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsrPriority {
    /// The utterance ended: the caller waits for this one.
    Final,
    /// The first, shortest report of a pause, where callers most often go on: a guess that is
    /// worth only an otherwise idle recogniser. If skipped, the pause's late report asks again.
    EarlyGuess,
    /// A pause that lasted: a guess that may take a spare worker.
    LateGuess,
}

/// How loaded the shared recogniser is when a recognition is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsrLoad {
    /// Nothing runs or waits.
    Idle,
    /// Something runs, and a worker is free.
    Spare,
    /// Every worker is taken, or requests wait.
    Busy,
}

impl AsrPriority {
    /// A guess may be skipped ([`AsrLoad`]) or stopped by another call's final recognition.
    pub fn is_guess(self) -> bool {
        self != AsrPriority::Final
    }

    /// Whether to run now: guesses yield to the recognitions of other callers.
    pub fn runs(self, load: AsrLoad) -> bool {
        match self {
            AsrPriority::Final => true,
            AsrPriority::EarlyGuess => load == AsrLoad::Idle,
            AsrPriority::LateGuess => load != AsrLoad::Busy,
        }
    }

    /// Whether, finding no free worker, it may stop another call's guess: that call's utterance
    /// is then heard at its own end, while this caller, who has finished, waits one less.
    pub fn preempts(self) -> bool {
        self == AsrPriority::Final
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_yield_and_finals_always_run() {
        use AsrLoad::*;
        use AsrPriority::*;
        let table = [
            (Final, [true, true, true]),
            (LateGuess, [true, true, false]),
            (EarlyGuess, [true, false, false]),
        ];
        for (p, want) in table {
            let got = [Idle, Spare, Busy].map(|l| p.runs(l));
            assert_eq!(got, want, "{p:?}");
            assert_eq!(p.preempts(), p == Final);
            assert_eq!(p.is_guess(), p != Final);
        }
    }
}
