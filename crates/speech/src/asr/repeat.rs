//! Repetition-loop cleanup for decoder output.
//!
//! Small Whisper models sometimes loop ("a table a table a table …") on short
//! or noisy input. A phrase of 4+ words repeated twice in a row, a phrase of
//! 2–3 words repeated 3+ times, or a single word repeated 4+ times is collapsed
//! to one occurrence. Natural doubles ("no no", "very very") are kept.

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
