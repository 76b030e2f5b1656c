//! A phrase break in a long opening clause, so the first audio chunk is short.
//!
//! Time to first audio grows with the first chunk's length (Piper's RTF is ~0.08 here: a 4 s
//! opening costs ~330 ms before anything plays). "Table booked for Tanya at ten a.m. on Sunday…"
//! has no comma to split at, so a comma goes where a speaker could breathe: before the first
//! preposition or conjunction after the second word ("Table booked, for Tanya at ten…"). The
//! chunk then ends like a comma phrase. Two words of head (~0.7 s of speech, ~70 ms of Piper
//! on one core) rather than four (~110 ms) were chosen for latency: the phrase still reads
//! naturally.

/// Words a phrase may start with.
const BREAK_BEFORE: &[&str] = &[
    "at", "on", "for", "in", "from", "with", "to", "and", "but", "because", "which", "when",
    "until", "before", "after",
];
/// A clause shorter than this (in words) is left alone: it is already quick to synthesise.
const MIN_CLAUSE_WORDS: usize = 7;
/// The head keeps at least this many words, and at least two words follow the break.
const MIN_HEAD_WORDS: usize = 2;
const MIN_TAIL_WORDS: usize = 2;
/// The break is looked for among the first words only.
const MAX_HEAD_WORDS: usize = 8;

/// `text` with a comma inserted at the first phrase break of a long opening clause, or `None`
/// when the opening clause is short or has no natural break.
pub fn break_long_opening(text: &str) -> Option<String> {
    let words: Vec<(usize, &str)> = word_spans(text);
    let clause_len = words
        .iter()
        .position(|(_, w)| ends_clause(w))
        .map_or(words.len(), |i| i + 1);
    if clause_len < MIN_CLAUSE_WORDS {
        return None;
    }
    let last_head = MAX_HEAD_WORDS.min(clause_len.saturating_sub(MIN_TAIL_WORDS));
    let at = (MIN_HEAD_WORDS..=last_head).find(|&i| {
        let w = words[i].1.to_lowercase();
        BREAK_BEFORE.contains(&w.as_str())
    })?;
    let (start, prev) = words[at - 1];
    let cut = start + prev.len();
    Some(format!("{},{}", &text[..cut], &text[cut..]))
}

fn word_spans(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// A word ending in clause punctuation ("a.m." and other dotted abbreviations do not count).
fn ends_clause(w: &str) -> bool {
    if w.ends_with([',', ';', ':', '?', '!']) {
        return true;
    }
    w.ends_with('.') && !w[..w.len() - 1].contains('.')
}

#[cfg(test)]
mod tests {
    use super::break_long_opening;

    #[test]
    fn breaks_before_the_first_preposition_after_two_words() {
        assert_eq!(
            break_long_opening(
                "Table booked for Tanya at ten a.m. on Sunday the ninth of January. Thank you!"
            )
            .as_deref(),
            Some("Table booked, for Tanya at ten a.m. on Sunday the ninth of January. Thank you!")
        );
        assert_eq!(
            break_long_opening("I can put you through to one of our staff right away.").as_deref(),
            Some("I can put you through, to one of our staff right away.")
        );
    }

    #[test]
    fn short_or_already_broken_openings_are_left_alone() {
        for text in [
            "For whom should I book the table?",
            "Welcome, when and for whom would you like to book a table today?",
            "Sure thing. At what time would you like to come in tonight?",
            "Absolutely wonderful splendid marvellous fantastic terrific great news.",
            "",
        ] {
            assert_eq!(break_long_opening(text), None, "{text}");
        }
    }
}
