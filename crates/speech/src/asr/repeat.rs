//! Repetition-loop cleanup for decoder output.
//!
//! Small Whisper models sometimes loop ("a table a table a table …") on short
//! or noisy input. A phrase of 4+ words repeated twice in a row, a phrase of
//! 2–3 words repeated 3+ times, or a single word repeated 4+ times is collapsed
//! to one occurrence. Natural doubles ("no no", "very very") are kept. A whole sentence
//! followed by itself, or by the start of itself where the decoder was cut off ("Next Friday.
//! Next Friday.", "Book it for Sarah. Book it for"), keeps the first copy only.

const MAX_NGRAM: usize = 32;

fn norm(w: &str) -> String {
    w.chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

fn min_copies(n: usize) -> usize {
    match n {
        1 => 4,
        2 | 3 => 3,
        _ => 2,
    }
}

/// Collapses runaway repetitions of words or phrases; other text is unchanged
/// except that whitespace is normalised to single spaces.
pub fn collapse_repeats(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    kept_word_indices(&words)
        .into_iter()
        .map(|i| words[i])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Indices of the words that survive [`collapse_repeats`], in order.
pub fn kept_word_indices(words: &[&str]) -> Vec<usize> {
    // Collapsing one loop can line up another ("A B. A B- B. A B." …): repeat until stable.
    let mut kept: Vec<usize> = (0..words.len()).collect();
    for _ in 0..4 {
        let view: Vec<&str> = kept.iter().map(|&i| words[i]).collect();
        let inner = collapse_loops(&view);
        if inner.len() == view.len() {
            break;
        }
        kept = inner.into_iter().map(|j| kept[j]).collect();
    }
    drop_echoed_sentence(words, kept)
}

fn ends_sentence(w: &str) -> bool {
    w.ends_with('.') || w.ends_with('?') || w.ends_with('!')
}

/// After a complete sentence, a tail (of ≥ 2 words, or the whole first sentence) that
/// repeats the transcript from its start is the decoder echoing itself: drop it.
/// ("Next Friday. Next Friday.", "Welcome to our restaurant. When would you like to come?
/// Welcome to").
fn drop_echoed_sentence(words: &[&str], kept: Vec<usize>) -> Vec<usize> {
    let keys: Vec<String> = kept.iter().map(|&i| norm(words[i])).collect();
    let Some(first_end) = kept.iter().position(|&i| ends_sentence(words[i])) else {
        return kept;
    };
    for end in (first_end..kept.len()).filter(|&e| ends_sentence(words[kept[e]])) {
        let tail = &keys[end + 1..];
        let echoes = !tail.is_empty()
            && tail.len() <= end + 1
            && (tail.len() >= 2 || tail.len() == first_end + 1)
            && repeats_start(&keys, tail);
        if echoes {
            return kept[..=end].to_vec();
        }
    }
    kept
}

/// Whether `tail` repeats the start of `keys`; its last word may be cut off ("for T" after
/// "for Tanya": the token budget ran out mid-word).
fn repeats_start(keys: &[String], tail: &[String]) -> bool {
    let Some((last, head)) = tail.split_last() else {
        return false;
    };
    keys[..head.len()] == *head && !last.is_empty() && keys[head.len()].starts_with(last.as_str())
}

fn collapse_loops(words: &[&str]) -> Vec<usize> {
    let keys: Vec<String> = words.iter().map(|w| norm(w)).collect();
    let mut out: Vec<usize> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        // Pick the n-gram whose run covers the most words from position i.
        let mut best: Option<(usize, usize)> = None; // (n, copies)
        for n in 1..=MAX_NGRAM.min(words.len() - i) {
            let gram = &keys[i..i + n];
            if gram.iter().all(String::is_empty) {
                continue;
            }
            let mut copies = 1;
            while i + (copies + 1) * n <= words.len()
                && keys[i + copies * n..i + (copies + 1) * n] == *gram
            {
                copies += 1;
            }
            let span = copies * n;
            if copies >= min_copies(n) && best.is_none_or(|(bn, bc)| span > bn * bc) {
                best = Some((n, copies));
            }
        }
        match best {
            Some((n, copies)) => {
                // Keep the last copy: it carries the final punctuation.
                let last = i + (copies - 1) * n;
                out.extend(last..last + n);
                i += copies * n;
            }
            None => {
                out.push(i);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_phrase_loops() {
        assert_eq!(
            collapse_repeats("I want a table, a table, a table, a table."),
            "I want a table."
        );
        assert_eq!(collapse_repeats("book book book book book now"), "book now");
        assert_eq!(
            collapse_repeats("Can I speak to someone? Can I speak to someone?"),
            "Can I speak to someone?"
        );
        assert_eq!(
            collapse_repeats(
                "I'd like to book a table at 10 am on January 9th for Tanya. \
                 I'd like to book a table at 10 am on January 9th for Tanya."
            ),
            "I'd like to book a table at 10 am on January 9th for Tanya."
        );
        assert_eq!(
            kept_word_indices(&["a", "b", "a", "b", "a", "b", "c"]),
            [4, 5, 6]
        );
    }

    #[test]
    fn drops_a_sentence_echoed_whole_or_cut_off() {
        assert_eq!(
            collapse_repeats("Next Friday. Next Friday."),
            "Next Friday."
        );
        assert_eq!(collapse_repeats("Okay. Okay."), "Okay.");
        assert_eq!(
            collapse_repeats(
                "January 9, 2022- 2022. January 9, 2022. January 9, 2022. January 9, 2022."
            ),
            "January 9, 2022- 2022."
        );
        let words = "January 9, 2022- 2022. January 9, 2022- 2022. January 9, 2022. January 9, \
                     2022- 2022. January 9, 2022. January 9, 2022. January 9, 2022.";
        assert_eq!(collapse_repeats(words), "January 9, 2022- 2022.");
        assert_eq!(
            collapse_repeats("Can I reserve a table for Sarah. Can I reserve a"),
            "Can I reserve a table for Sarah."
        );
        // Not an echo: a one-word tail, a different sentence, an unfinished first sentence.
        assert_eq!(collapse_repeats("Yes. Yes please."), "Yes. Yes please.");
        assert_eq!(collapse_repeats("Book it. Thanks."), "Book it. Thanks.");
        assert_eq!(collapse_repeats("Yes, yes."), "Yes, yes.");
        assert_eq!(collapse_repeats("A table for two. A"), "A table for two. A");
        // The echo may follow a later sentence: it repeats the start of the transcript.
        assert_eq!(
            collapse_repeats("Welcome to our restaurant. When would you like to come? Welcome to"),
            "Welcome to our restaurant. When would you like to come?"
        );
        assert_eq!(
            collapse_repeats(
                "A table at 10am on Jan. 9, 2022 for Tamiya. A table at 10am on Jan. 9, 2022 for T"
            ),
            "A table at 10am on Jan. 9, 2022 for Tamiya."
        );
        assert_eq!(
            collapse_repeats("Book it. Then call me. Book"),
            "Book it. Then call me. Book"
        );
    }

    #[test]
    fn keeps_natural_repetition() {
        assert_eq!(collapse_repeats("no no, not that"), "no no, not that");
        assert_eq!(
            collapse_repeats("thank you thank you"),
            "thank you thank you"
        );
        assert_eq!(
            collapse_repeats("very very very good"),
            "very very very good"
        );
        assert_eq!(
            collapse_repeats("  Book a table  for two. "),
            "Book a table for two."
        );
        assert_eq!(collapse_repeats(""), "");
    }
}
