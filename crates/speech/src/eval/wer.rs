//! Word error rate with a normaliser that makes spelling choices match: case, punctuation,
//! "10" vs "ten", "9th" vs "ninth", "7 p.m." vs "seven pm", "10:00" vs "ten", "415-333" vs
//! "four one five three three three".
//!
//! Numbers are canonicalised to digits; a run of adjacent numbers is merged and then counted
//! digit by digit ("twenty twenty two" = "2022" = 4 tokens), so a phone number with one wrong
//! digit costs one error, not the whole number. Ordinals stay one token ("9th").

/// Edit counts of one hypothesis against one reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WerCounts {
    /// Substitutions + deletions + insertions.
    pub errors: usize,
    /// Tokens in the normalised reference.
    pub ref_words: usize,
}

impl WerCounts {
    pub fn add(&mut self, o: WerCounts) {
        self.errors += o.errors;
        self.ref_words += o.ref_words;
    }

    /// errors / reference tokens (0 when both are empty, 1 per inserted token otherwise).
    pub fn wer(&self) -> f64 {
        if self.ref_words == 0 {
            self.errors as f64
        } else {
            self.errors as f64 / self.ref_words as f64
        }
    }
}

/// Word-level edit distance between the normalised texts.
pub fn wer_counts(reference: &str, hypothesis: &str) -> WerCounts {
    let r = normalize_words(reference);
    let h = normalize_words(hypothesis);
    WerCounts {
        errors: edit_distance(&r, &h),
        ref_words: r.len(),
    }
}

fn edit_distance(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

const UNITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const TEENS: [&str; 10] = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Value of a cardinal or ordinal number word and whether it is ordinal.
fn number_word(w: &str) -> Option<(u64, bool)> {
    let ordinal = |w: &str| -> Option<u64> {
        Some(match w {
            "first" => 1,
            "second" => 2,
            "third" => 3,
            "fifth" => 5,
            "eighth" => 8,
            "ninth" => 9,
            "twelfth" => 12,
            _ => {
                if let Some(stem) = w.strip_suffix("ieth") {
                    return number_word(&format!("{stem}y")).map(|v| v.0);
                }
                let stem = w.strip_suffix("th")?;
                return number_word(stem).filter(|v| !v.1).map(|v| v.0);
            }
        })
    };
    if w == "oh" || w == "nought" {
        return Some((0, false));
    }
    if let Some(i) = UNITS.iter().position(|&u| u == w) {
        return Some((i as u64, false));
    }
    if let Some(i) = TEENS.iter().position(|&u| u == w) {
        return Some((10 + i as u64, false));
    }
    if let Some(i) = TENS.iter().position(|&u| u == w) {
        return Some((20 + 10 * i as u64, false));
    }
    match w {
        "hundred" => return Some((100, false)),
        "thousand" => return Some((1000, false)),
        _ => {}
    }
    ordinal(w).map(|v| (v, true))
}

#[derive(Clone, Copy, PartialEq)]
enum Last {
    None,
    Unit,
    Tens,
    Scale,
}

/// Groups spelled-out numbers: "twenty two" → 22, "two thousand and twenty two" → 2022,
/// "four one five" → 4 1 5, "twenty twenty two" → 20 22, "ninth" → "9th".
fn numbers_to_digits(words: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let (mut total, mut cur, mut last) = (0u64, 0u64, Last::None);
    let flush = |out: &mut Vec<String>, total: &mut u64, cur: &mut u64, last: &mut Last| {
        if *last != Last::None {
            out.push((*total + *cur).to_string());
        }
        (*total, *cur, *last) = (0, 0, Last::None);
    };
    for (i, w) in words.iter().enumerate() {
        let next_is_number = words.get(i + 1).is_some_and(|n| number_word(n).is_some());
        if w == "and" && last == Last::Scale && next_is_number {
            continue;
        }
        // "oh" only counts as zero next to other numbers ("oh five", "five oh two").
        if w == "oh" && last == Last::None && !next_is_number {
            out.push(w.clone());
            continue;
        }
        let Some((v, ordinal)) = number_word(w) else {
            flush(&mut out, &mut total, &mut cur, &mut last);
            out.push(w.clone());
            continue;
        };
        if v == 100 || v == 1000 {
            if last == Last::None {
                cur = 1;
            }
            if v == 100 {
                cur *= 100;
            } else {
                total += cur * 1000;
                cur = 0;
            }
            last = Last::Scale;
        } else {
            let tens = (20..100).contains(&v) && v % 10 == 0;
            let joins = match last {
                Last::None | Last::Scale => true,
                Last::Tens => v < 10,
                Last::Unit => false,
            };
            if !joins {
                flush(&mut out, &mut total, &mut cur, &mut last);
            }
            cur += v;
            last = if tens && !ordinal {
                Last::Tens
            } else {
                Last::Unit
            };
        }
        if ordinal {
            out.push(format!("{}th", total + cur));
            (total, cur, last) = (0, 0, Last::None);
        }
    }
    flush(&mut out, &mut total, &mut cur, &mut last);
    out
}

/// Lower-cases, strips punctuation and canonicalises numbers (see the module docs).
pub fn normalize_words(text: &str) -> Vec<String> {
    let mut s = text.to_lowercase().replace(['’', '‘'], "'");
    for (from, to) in [
        ("a.m.", " am "),
        ("p.m.", " pm "),
        ("a. m.", " am "),
        ("p. m.", " pm "),
        ("o'clock", " "),
        ("oclock", " "),
    ] {
        s = s.replace(from, to);
    }
    // "10:00" → "10"; other ":" / "-" / "/" split digit groups.
    s = s.replace(":00", " ");
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<String> = cleaned
        .split_whitespace()
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .flat_map(split_digit_suffix)
        .map(|w| if w == "ok" { "okay".to_string() } else { w })
        .collect();
    let words = numbers_to_digits(words);
    // Merge adjacent digit runs, then count them digit by digit.
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut run = String::new();
    for w in words {
        if w.chars().all(|c| c.is_ascii_digit()) {
            run.push_str(&w);
            continue;
        }
        out.extend(run.chars().map(String::from));
        run.clear();
        out.push(w);
    }
    out.extend(run.chars().map(String::from));
    out
}

/// "9th" stays, "10am" → "10 am", "7pm" → "7 pm".
fn split_digit_suffix(w: &str) -> Vec<String> {
    let digits = w.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits == w.len() {
        return vec![w.to_string()];
    }
    let (n, rest) = w.split_at(digits);
    if matches!(rest, "st" | "nd" | "rd" | "th") {
        let v: u64 = n.parse().unwrap_or(0);
        return vec![format!("{v}th")];
    }
    vec![n.to_string(), rest.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize_words(s).join(" ")
    }

    #[test]
    fn spelled_and_written_numbers_match() {
        assert_eq!(n("Ten AM"), n("10 a.m."));
        assert_eq!(n("at 10:00 am"), "at 1 0 am");
        assert_eq!(n("the ninth of January"), n("the 9th of january"));
        assert_eq!(n("January 9th, 2022"), n("january ninth twenty twenty two"));
        assert_eq!(n("2022"), n("two thousand and twenty two"));
        assert_eq!(
            n("415-333-2198"),
            n("four one five three three three two one nine eight")
        );
        assert_eq!(n("at 7pm"), n("at seven p.m."));
        assert_eq!(n("twenty-first"), "21th");
        assert_eq!(n("one hundred and five"), "1 0 5");
        assert_eq!(n("seven thirty"), n("7:30"));
        assert_eq!(n("I'd like a table, please!"), "i'd like a table please");
        assert_eq!(n("oh no"), "oh no");
        assert_eq!(n("five oh two"), "5 0 2");
    }

    #[test]
    fn wer_counts_edits_over_reference_tokens() {
        let c = wer_counts("yes please", "Yes, please.");
        assert_eq!(
            c,
            WerCounts {
                errors: 0,
                ref_words: 2
            }
        );
        let c = wer_counts("yes please", "Kathleen");
        assert_eq!(
            c,
            WerCounts {
                errors: 2,
                ref_words: 2
            }
        );
        let c = wer_counts("four one five", "4 1 6 7");
        assert_eq!(
            c,
            WerCounts {
                errors: 2,
                ref_words: 3
            }
        );
        assert_eq!(wer_counts("", "").wer(), 0.0);
        assert_eq!(wer_counts("", "hello").wer(), 1.0);
        let mut t = WerCounts::default();
        t.add(WerCounts {
            errors: 1,
            ref_words: 4,
        });
        t.add(WerCounts {
            errors: 0,
            ref_words: 4,
        });
        assert_eq!(t.wer(), 0.125);
    }
}
