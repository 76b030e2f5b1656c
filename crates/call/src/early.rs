//! Early end of turn: recognition starts at a short pause, and the turn ends there when what the
//! caller said sounds finished; otherwise the session waits for the full end-of-speech silence.
//!
//! ```text
//! Heard::Paused ─► tentative turn: Output::Asr (audio so far)
//!   AsrResult, no speech since, sounds complete ─► Listener::commit, engine turn (turn.rs)
//!   AsrResult, sounds unfinished ("… on", "…,")  ─► held until Heard::Ended
//!   speech resumes                               ─► tentative turn dropped; the next pause
//!                                                   or the end recognises the whole utterance
//! Heard::Ended, no speech since the pause ─► the held result (or the one in flight) is used,
//!                                            unless it read as unfinished or failed (the
//!                                            server stops guesses under load): then the whole
//!                                            utterance is recognised again
//! ```

use crate::session::CallSession;
use crate::types::Output;
use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
use sb_nlu::dialog::{QueryInput, TurnStep};
use serde_json::Value;

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
    !dangling.iter().any(|w| *w == last)
}

impl CallSession {
    /// The open utterance paused: recognise what was said so far. The late report of a pause
    /// is for a recognition the driver skipped at its first report (recognition was busy);
    /// when that one runs or ran, the late report changes nothing.
    pub(crate) fn on_pause(&mut self, at: u64, end_ms: u64, pcm: Vec<i16>, late: bool) {
        if !self.utterance_counts || !self.is_live() {
            return;
        }
        if self.turn.as_ref().is_some_and(|t| !t.tentative) {
            return;
        }
        if late && self.turn.is_some() {
            return;
        }
        let priority = if late {
            AsrPriority::LateGuess
        } else {
            AsrPriority::EarlyGuess
        };
        self.speech_turn(at, end_ms, pcm, priority);
        if let Some(t) = self.turn.as_mut() {
            t.tentative = true;
        }
    }

    /// The caller went on after the pause: a tentative turn is stale. Its recognition, if still
    /// running, is cancelled so the whole utterance's gets the CPU.
    pub(crate) fn on_resumed(&mut self) {
        let Some(t) = self.turn.as_ref().filter(|t| t.tentative) else {
            return;
        };
        if t.held.is_none() {
            self.out.push_back(Output::CancelAsr { turn: t.id });
        }
        self.turn = None;
    }

    /// The driver skipped the tentative turn's recognition: the end of speech recognises the
    /// whole utterance, as when the caller goes on.
    pub(crate) fn on_asr_skipped(&mut self, turn: u64) {
        if self
            .turn
            .as_ref()
            .is_some_and(|t| t.id == turn && t.tentative)
        {
            self.turn = None;
        }
    }

    /// The result of a tentative turn's recognition.
    pub(crate) fn on_early_asr(&mut self, at: u64, result: Result<Transcript, AsrFailure>) {
        let Some(t) = self.turn.as_ref() else { return };
        if self.listener.last_speech_end_ms() != t.timings.speech_end_ms {
            self.turn = None; // the caller went on: the pause was not the end
            return;
        }
        let whole = matches!(&result, Ok(tr) if sounds_complete(&tr.text, &self.cfg.dangling_words)
            && self.engine_takes_whole(at, &tr.text));
        let Some(t) = self.turn.as_mut() else { return };
        if whole {
            t.tentative = false;
            self.listener.commit();
            self.utterance_counts = false;
            self.recognised(at, result);
        } else {
            t.held = Some(result);
        }
    }

    /// Whether the engine would take `text` as a whole turn (tried on a copy of the session):
    /// a non-fallback intent with every required parameter, or an answer that fills the parameter
    /// being asked for. A new intent still missing parameters ("I'd like to book a table at ten
    /// on January ninth," then a breath) may be cut mid-sentence, so it waits for the end.
    fn engine_takes_whole(&self, at: u64, text: &str) -> bool {
        let mut state = self.state.clone();
        let asking = state.slot_filling.as_ref().map(|sf| sf.asking.clone());
        let input = QueryInput::Text {
            text: text.to_string(),
            language_code: self.cfg.language.clone(),
        };
        let req = self.request(at, input, None);
        let qr = match self.engine.begin(&mut state, req) {
            TurnStep::Done(r) => r.query_result,
            TurnStep::Webhook(p) => p.request.query_result,
        };
        let Some(intent) = qr.get("intent") else {
            return false;
        };
        if intent.get("isFallback") == Some(&Value::Bool(true)) {
            return false;
        }
        if qr.get("allRequiredParamsPresent") == Some(&Value::Bool(true)) {
            return true;
        }
        asking.is_some_and(|p| {
            qr.get("parameters")
                .and_then(|ps| ps.get(&p))
                .is_some_and(|v| !is_empty_value(v))
        })
    }

    /// The utterance ended at `end_ms`. Returns whether a tentative turn took it over (no speech
    /// since its pause); otherwise any tentative turn is dropped.
    pub(crate) fn end_tentative(&mut self, at: u64, end_ms: u64, pcm: &[i16]) -> bool {
        let Some(t) = self.turn.as_mut().filter(|t| t.tentative) else {
            return false;
        };
        if t.timings.speech_end_ms != Some(end_ms) {
            self.turn = None;
            return false;
        }
        // A held result that read as unfinished ("… at 10D and") may have been cut short by the
        // early pause: the whole utterance, with its full tail of silence, is heard again. One
        // that read as finished but lacked parameters stands (it is the same speech).
        let cut = matches!(&t.held, Some(Ok(tr)) if !sounds_complete(&tr.text, &self.cfg.dangling_words))
            || matches!(&t.held, Some(Err(_)));
        if cut {
            self.turn = None;
            return false;
        }
        t.tentative = false;
        self.utterance_counts = false;
        match t.held.take() {
            Some(result) => self.recognised(at, result),
            None => t.whole = Some((end_ms, pcm.to_vec())),
        }
        true
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
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
