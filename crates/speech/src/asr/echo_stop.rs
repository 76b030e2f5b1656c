//! Stops the decoder as soon as it starts echoing its own transcript.
//!
//! tiny.en sometimes finishes a sentence and then starts it over ("… for Tanya. I'd like to
//! book a table …") until the token budget runs out: ~20 wasted decoder steps, 80–150 ms on the
//! reply path. [`repeat`](super::repeat) removes the echo from the text afterwards; this hook,
//! run by whisper.cpp before each token is chosen, forces the end of text once the tokens after
//! a sentence end repeat the transcript's first two words (which the text clean-up then drops).

use std::ffi::c_void;
use whisper_rs_sys::{whisper_context, whisper_state, whisper_token_data};

/// What the hook needs to know of the vocabulary.
pub(crate) struct EchoStop {
    eot: i32,
    n_vocab: usize,
    /// Token ids whose text ends a sentence ("." "?" "!", possibly with a quote).
    sentence_end: Vec<bool>,
    /// Token ids whose text starts a word (a leading space).
    word_start: Vec<bool>,
}

/// Words of an echo that must match before the decoder is stopped.
const MIN_ECHO_WORDS: usize = 2;

impl EchoStop {
    /// `token_text(id)` is the text of token `id` (`None` for special tokens).
    pub(crate) fn new(
        eot: i32,
        n_vocab: usize,
        token_text: impl Fn(i32) -> Option<String>,
    ) -> Self {
        let texts: Vec<Option<String>> = (0..n_vocab as i32)
            .map(|id| if id < eot { token_text(id) } else { None })
            .collect();
        let sentence_end = texts
            .iter()
            .map(|t| {
                t.as_deref()
                    .is_some_and(|t| t.trim_end_matches(['"', '\'']).ends_with(['.', '?', '!']))
            })
            .collect();
        let word_start = texts
            .iter()
            .map(|t| t.as_deref().is_some_and(|t| t.starts_with(' ')))
            .collect();
        Self {
            eot,
            n_vocab,
            sentence_end,
            word_start,
        }
    }

    /// Whether the text tokens `ids` end with an echo of their own start (two words or more)
    /// after a sentence end.
    pub(crate) fn echoing(&self, ids: &[i32]) -> bool {
        let n = ids.len();
        (1..n).any(|p| {
            let tail = &ids[p..];
            self.is_sentence_end(ids[p - 1])
                && tail.len() <= p
                && *tail == ids[..tail.len()]
                && 1 + tail
                    .iter()
                    .skip(1)
                    .filter(|&&id| self.starts_word(id))
                    .count()
                    >= MIN_ECHO_WORDS
        })
    }

    fn flag(v: &[bool], id: i32) -> bool {
        usize::try_from(id)
            .ok()
            .and_then(|i| v.get(i))
            .copied()
            .unwrap_or(false)
    }

    fn is_sentence_end(&self, id: i32) -> bool {
        Self::flag(&self.sentence_end, id)
    }

    fn starts_word(&self, id: i32) -> bool {
        Self::flag(&self.word_start, id)
    }
}

/// whisper.cpp's logits hook: when the text so far echoes its start, only the end of text may
/// follow.
///
/// # Safety
/// `user_data` must point to a live [`EchoStop`]; `tokens` to `n_tokens` token records and
/// `logits` to the model's `n_vocab` logits (whisper.cpp's contract for this hook).
pub(crate) unsafe extern "C" fn stop_echo(
    _ctx: *mut whisper_context,
    _state: *mut whisper_state,
    tokens: *const whisper_token_data,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    if user_data.is_null() || logits.is_null() || tokens.is_null() || n_tokens <= 0 {
        return;
    }
    // SAFETY: see the function's contract.
    let stop = unsafe { &*(user_data as *const EchoStop) };
    let tokens = unsafe { std::slice::from_raw_parts(tokens, n_tokens as usize) };
    let ids: Vec<i32> = tokens
        .iter()
        .map(|t| t.id)
        .filter(|&id| id < stop.eot)
        .collect();
    if !stop.echoing(&ids) {
        return;
    }
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, stop.n_vocab) };
    for (i, l) in logits.iter_mut().enumerate() {
        if i as i32 != stop.eot {
            *l = f32::NEG_INFINITY;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop() -> EchoStop {
        // 3 is "." ; 4 is " Tanya." ; 7 is "'d" (inside a word); 9 is EOT.
        EchoStop::new(9, 12, |id| match id {
            3 => Some(".".into()),
            4 => Some(" Tanya.".into()),
            5 => Some(" 10.5".into()),
            7 => Some("'d".into()),
            i if i < 9 => Some(format!(" w{i}")),
            _ => None,
        })
    }

    #[test]
    fn an_echo_after_a_sentence_end_is_caught_at_its_second_word() {
        let s = stop();
        assert!(!s.echoing(&[1, 2, 4]));
        assert!(
            !s.echoing(&[1, 2, 4, 1]),
            "one word may start a new sentence"
        );
        assert!(s.echoing(&[1, 2, 4, 1, 2]));
        assert!(s.echoing(&[1, 2, 3, 1, 2]));
        // " I" + "'d" is one word: the echo needs the next word too.
        assert!(!s.echoing(&[1, 7, 2, 4, 1, 7]));
        assert!(s.echoing(&[1, 7, 2, 4, 1, 7, 2]));
        assert!(
            !s.echoing(&[1, 2, 6, 1, 2]),
            "no sentence end before the repeat"
        );
        assert!(!s.echoing(&[1, 2, 4, 2, 1]), "not the start");
        assert!(!s.echoing(&[]));
        assert!(s.is_sentence_end(3) && s.is_sentence_end(4) && !s.is_sentence_end(5));
        assert!(!s.is_sentence_end(9) && !s.is_sentence_end(-1) && !s.is_sentence_end(40));
    }
}
