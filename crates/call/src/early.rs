//! Early end of turn: what a guess is worth. Recognition may start at a short pause of an
//! utterance that is still open (a *guess*, [`AsrPriority::EarlyGuess`], or
//! [`AsrPriority::LateGuess`] when the driver skipped the first for load); this file is the
//! one place that judges its result. The turn state machine ([`crate::turn`]) acts on the
//! verdict:
//!
//! ```text
//!                      utterance still open        utterance ended (its audio kept)
//! Verdict::Whole     → take the turn at the pause   use it
//! Verdict::Finished  → hold it until the end        use it (same speech, lacks parameters)
//! Verdict::Cut       → hold it until the end        recognise the whole utterance again
//! ```
//!
//! `Whole` needs the words to sound finished ([`sounds_complete`]) and the engine's side-effect
//! free [`sb_nlu::engine::Engine::preview`] to read them as a whole turn; an utterance that
//! already ended asks only whether the words sound finished. Speech after the pause drops the
//! guess (and cancels its recognition) wherever it is.

use crate::session::CallSession;
use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
use sb_nlu::dialog::QueryInput;

/// English words after which a caller is rarely done ("a table for", "at ten and"): the
/// default of [`crate::CallConfig::dangling_words`].
pub const DEFAULT_DANGLING_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "so", "for", "to", "at", "on", "in", "of", "with",
    "from", "by", "about", "my", "our", "your", "is", "are", "was", "i", "i'd", "i'm", "it's",
    "we", "we'd", "like", "want", "uh", "um", "er", "erm", "hmm", "because", "then", "this",
    "that", "me", "be", "book", "please,", "number", "is,",
];

/// Whether a transcript reads as a finished turn: not empty, not ending in a comma, dash or
/// ellipsis (Whisper's mark of a trailing-off sentence), nor in one of the `dangling` words
/// (lower case) that need more after them.
pub fn sounds_complete(text: &str, dangling: &[String]) -> bool {
    let t = text.trim();
    if t.is_empty()
        || t.ends_with(',')
        || t.ends_with('-')
        || t.ends_with("...")
        || t.ends_with('…')
    {
        return false;
    }
    let last = t
        .split_whitespace()
        .last()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_lowercase();
    !dangling.contains(&last)
}

/// What a guess's result is worth (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Sounds finished and the engine takes it as a whole turn.
    Whole,
    /// Sounds finished, but the engine would ask for more: the caller may go on.
    Finished,
    /// Reads as unfinished, or recognition failed: the pause may have cut the words short.
    Cut,
}

/// The priority of a guess at a pause: the first report of a pause, or the late one for a
/// guess the driver skipped at the first (recognition was busy).
pub(crate) fn guess_priority(late: bool) -> AsrPriority {
    if late {
        AsrPriority::LateGuess
    } else {
        AsrPriority::EarlyGuess
    }
}

impl CallSession {
    /// Judges a guess's `result` at `at`. While the utterance is `open` the engine is asked
    /// whether the words make a whole turn; after its end only whether they sound finished.
    pub(crate) fn judge(
        &self,
        at: u64,
        result: &Result<Transcript, AsrFailure>,
        open: bool,
    ) -> Verdict {
        let Ok(tr) = result else {
            return Verdict::Cut;
        };
        if !sounds_complete(&tr.text, &self.cfg.dangling_words) {
            return Verdict::Cut;
        }
        if !open {
            return Verdict::Finished;
        }
        let input = QueryInput::Text {
            text: tr.text.clone(),
            language_code: self.cfg.language.clone(),
        };
        let req = self.request(at, input, None, None);
        if self.engine.preview(&self.state, &req).is_whole_turn() {
            Verdict::Whole
        } else {
            Verdict::Finished
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sounds_complete;
    use crate::CallConfig;

    #[test]
    fn completeness_reads_punctuation_and_dangling_words() {
        let words = CallConfig::default().dangling_words;
        let sounds_complete = |t: &str| sounds_complete(t, &words);
        for done in [
            "Yes.",
            "for Tanya",
            "At ten a.m. on Sunday.",
            "Can I speak to an agent?",
        ] {
            assert!(sounds_complete(done), "{done}");
        }
        for open in [
            "",
            "  ",
            "I'd like to book a table for",
            "At ten,",
            "On the...",
            "Um",
            "I'd",
        ] {
            assert!(!sounds_complete(open), "{open}");
        }
    }

    #[test]
    fn the_dangling_words_come_from_the_config() {
        let german = ["für".to_string(), "und".to_string()];
        assert!(!sounds_complete("einen Tisch für", &german));
        assert!(sounds_complete("a table for", &german));
        assert!(!sounds_complete(
            "a table for",
            &CallConfig::default().dangling_words
        ));
    }
}
