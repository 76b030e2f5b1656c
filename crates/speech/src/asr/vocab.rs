//! Vocabulary biasing: an `initial_prompt` built from an agent's training phrases and entity
//! values, so Whisper favours the names and words the agent expects.

/// Builds a Whisper prompt of at most `max_chars` bytes from an agent's vocabulary.
///
/// Entity `values` (names, days, …) are the words Whisper most often gets wrong, so they get the
/// budget first; `phrases` (training phrases) fill what is left. Items are deduplicated
/// case-insensitively, control characters dropped, and only whole items are kept. The text
/// reads like a transcript — phrases as sentences, then the values as a comma list — which is
/// the style Whisper continues best (the most recent text weighs most).
pub fn vocabulary_prompt(phrases: &[&str], values: &[&str], max_chars: usize) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut seen = std::collections::HashSet::new();
    let mut budget = max_chars;
    let mut take = |items: &[&str], sep: usize, out: &mut Vec<String>| {
        for item in items {
            let item = clean(item);
            let item = item.trim_end_matches(['.', ',', '!', '?', ';']).to_string();
            if item.is_empty() || !seen.insert(item.to_lowercase()) {
                continue;
            }
            let cost = item.len() + sep;
            if cost > budget {
                continue;
            }
            budget -= cost;
            out.push(item);
        }
    };
    let (mut vals, mut phr) = (Vec::new(), Vec::new());
    take(values, 2, &mut vals);
    take(phrases, 2, &mut phr);
    let mut out = String::new();
    for p in &phr {
        let mut chars = p.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
        out.push_str(". ");
    }
    out.push_str(&vals.join(", "));
    if !vals.is_empty() {
        out.push('.');
    }
    let mut out = out.trim().to_string();
    while out.len() > max_chars {
        // Separators can overshoot the estimate by a byte; cut at a word boundary.
        let cut = out[..max_chars.min(out.len())].rfind(' ').unwrap_or(0);
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_first_within_budget_and_deduplicated() {
        let p = vocabulary_prompt(
            &[
                "I'd like to book a table.",
                "book a table",
                "speak to an agent",
            ],
            &["Tanya", "tanya", "Sunday", "Nicole\u{0}"],
            80,
        );
        assert_eq!(
            p,
            "I'd like to book a table. Book a table. Tanya, Sunday, Nicole."
        );
        assert_eq!(p.matches("Tanya").count(), 1);
        let small = vocabulary_prompt(&["a long phrase that does not fit"], &["Tanya"], 10);
        assert_eq!(small, "Tanya.");
        assert_eq!(vocabulary_prompt(&[], &[], 100), "");
        assert!(vocabulary_prompt(&["x"; 3], &["y"], 0).is_empty());
    }
}
