//! Sentiment analysis with Google Natural Language conventions: `score` in [-1, 1] and
//! `magnitude` ≥ 0 (sum of per-sentence |score|).
//!
//! [`VaderSentiment`] is a Rust implementation of the VADER rules (Hutto & Gilbert, 2014) over
//! the embedded VADER lexicon (MIT, see `NOTICE.md`): boosters/dampeners, negation, "but",
//! "least", ALL-CAPS emphasis, idioms and !/? emphasis. Not included: the emoji lexicon.

use std::collections::HashMap;

pub use sb_contracts::sentiment::{Sentiment, SentimentScore};

const LEXICON: &str = include_str!("vader_lexicon.tsv");
const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;
/// Longest text analysed; the rest is ignored (bounds CPU on hostile input).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOST_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOST_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

fn booster(word_lower: &str) -> Option<f64> {
    if BOOST_UP.contains(&word_lower) {
        Some(B_INCR)
    } else if BOOST_DOWN.contains(&word_lower) {
        Some(B_DECR)
    } else {
        None
    }
}

fn special_case(seq: &str) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(k, _)| *k == seq)
        .map(|(_, v)| *v)
}

fn is_negation(word_lower: &str) -> bool {
    NEGATE.contains(&word_lower) || word_lower.contains("n't")
}

/// Python's `str.isupper()`: at least one cased character and no lowercase ones.
fn is_upper(word: &str) -> bool {
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

/// Splits on whitespace and strips leading/trailing ASCII punctuation unless that leaves
/// ≤ 2 characters (keeps emoticons like ":)").
fn tokens(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|t| {
            let s = t.trim_matches(|c: char| c.is_ascii_punctuation());
            if s.chars().count() <= 2 {
                t
            } else {
                s
            }
        })
        .collect()
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// VADER over the embedded lexicon.
pub struct VaderSentiment {
    lexicon: HashMap<String, f64>,
}

impl Default for VaderSentiment {
    fn default() -> Self {
        Self::new()
    }
}

impl VaderSentiment {
    /// Parses the embedded lexicon (~7,500 entries, a few ms). Create once and share.
    pub fn new() -> Self {
        let lexicon = LEXICON
            .lines()
            .filter_map(|line| {
                let mut parts = line.split('\t');
                let word = parts.next()?.trim();
                let value: f64 = parts.next()?.trim().parse().ok()?;
                (!word.is_empty()).then(|| (word.to_string(), value))
            })
            .collect();
        Self { lexicon }
    }

    /// Number of lexicon entries.
    pub fn lexicon_len(&self) -> usize {
        self.lexicon.len()
    }

    fn in_lex(&self, w: &str) -> bool {
        self.lexicon.contains_key(w)
    }

    /// The VADER compound score of one piece of text, in [-1, 1].
    pub fn compound(&self, text: &str) -> f64 {
        let words = tokens(text);
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let upper_count = words.iter().filter(|w| is_upper(w)).count();
        let cap_diff = upper_count > 0 && upper_count < words.len();
        let mut sentiments: Vec<f64> = Vec::with_capacity(words.len());
        for (i, lw) in lower.iter().enumerate() {
            let lw = lw.as_str();
            let next = lower.get(i + 1).map(String::as_str);
            if booster(lw).is_some() || (lw == "kind" && next == Some("of")) {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.valence(&words, &lower, i, cap_diff));
        }
        if let Some(bi) = lower.iter().position(|w| w == "but") {
            for (si, s) in sentiments.iter_mut().enumerate() {
                if si < bi {
                    *s *= 0.5;
                } else if si > bi {
                    *s *= 1.5;
                }
            }
        }
        let mut sum: f64 = sentiments.iter().sum();
        let emphasis = punctuation_emphasis(text);
        if sum > 0.0 {
            sum += emphasis;
        } else if sum < 0.0 {
            sum -= emphasis;
        }
        normalize(sum)
    }

    fn valence(&self, words: &[&str], lower: &[String], i: usize, cap_diff: bool) -> f64 {
        let at = |k: usize| lower.get(k).map(String::as_str).unwrap_or("");
        let word = words.get(i).copied().unwrap_or("");
        let lw = at(i);
        let Some(&base) = self.lexicon.get(lw) else {
            return 0.0;
        };
        let mut v = base;
        if lw == "no" && i + 1 < lower.len() && self.in_lex(at(i + 1)) {
            v = 0.0;
        }
        let back = |k: usize| before(lower, i, k);
        if back(1) == "no"
            || back(2) == "no"
            || (back(3) == "no" && matches!(back(1), "or" | "nor"))
        {
            v = base * N_SCALAR;
        }
        if cap_diff && is_upper(word) {
            v += if v > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3usize {
            if i <= start {
                break;
            }
            let prev_idx = i - (start + 1);
            let prev = back(start + 1);
            if self.in_lex(prev) {
                continue;
            }
            let mut s = 0.0;
            if let Some(b) = booster(prev) {
                s = if v < 0.0 { -b } else { b };
                if cap_diff && is_upper(words.get(prev_idx).copied().unwrap_or("")) {
                    s += if v > 0.0 { C_INCR } else { -C_INCR };
                }
            }
            s *= [1.0, 0.95, 0.9][start];
            v += s;
            v = negation(v, lower, start, i);
            if start == 2 {
                v = idioms(v, lower, i);
            }
        }
        // "least" as a negator (but not "at least" / "very least").
        if before(lower, i, 1) == "least"
            && !self.in_lex("least")
            && (i == 1 || !matches!(before(lower, i, 2), "at" | "very"))
        {
            v *= N_SCALAR;
        }
        v
    }
}

/// Word `back` positions before `i` ("" when out of range).
fn before(lower: &[String], i: usize, back: usize) -> &str {
    i.checked_sub(back)
        .and_then(|k| lower.get(k))
        .map_or("", String::as_str)
}

fn negation(v: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let at = |back: usize| before(lower, i, back);
    match start {
        0 if is_negation(at(1)) => v * N_SCALAR,
        1 => {
            if at(2) == "never" && matches!(at(1), "so" | "this") {
                v * 1.25
            } else if at(2) == "without" && at(1) == "doubt" {
                v
            } else if is_negation(at(2)) {
                v * N_SCALAR
            } else {
                v
            }
        }
        2 => {
            if at(3) == "never"
                && (matches!(at(2), "so" | "this") || matches!(at(1), "so" | "this"))
            {
                v * 1.25
            } else if at(3) == "without" && (at(2) == "doubt" || at(1) == "doubt") {
                v
            } else if is_negation(at(3)) {
                v * N_SCALAR
            } else {
                v
            }
        }
        _ => v,
    }
}

fn idioms(mut v: f64, lower: &[String], i: usize) -> f64 {
    let at = |back: usize| before(lower, i, back);
    let ahead = |k: usize| lower.get(i + k).map_or("", String::as_str);
    let (w3, w2, w1, w0) = (at(3), at(2), at(1), at(0));
    let seqs = [
        format!("{w1} {w0}"),
        format!("{w2} {w1} {w0}"),
        format!("{w2} {w1}"),
        format!("{w3} {w2} {w1}"),
        format!("{w3} {w2}"),
    ];
    if let Some(x) = seqs.iter().find_map(|s| special_case(s)) {
        v = x;
    }
    if i + 1 < lower.len() {
        if let Some(x) = special_case(&format!("{w0} {}", ahead(1))) {
            v = x;
        }
    }
    if i + 2 < lower.len() {
        if let Some(x) = special_case(&format!("{w0} {} {}", ahead(1), ahead(2))) {
            v = x;
        }
    }
    for ngram in [&seqs[3], &seqs[4], &seqs[2]] {
        if let Some(b) = booster(ngram) {
            v += b;
        }
    }
    v
}

fn punctuation_emphasis(text: &str) -> f64 {
    let ep = text.matches('!').count().min(4) as f64 * 0.292;
    let qm = match text.matches('?').count() {
        0 | 1 => 0.0,
        n @ 2..=3 => n as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// Splits text into sentences after runs of `.`, `!` or `?` followed by whitespace.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_end_punct = false;
    for (idx, c) in text.char_indices() {
        if c.is_whitespace() && prev_end_punct {
            let s = text[start..idx].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = idx;
        }
        prev_end_punct = matches!(c, '.' | '!' | '?');
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

impl Sentiment for VaderSentiment {
    fn analyze(&self, text: &str) -> SentimentScore {
        let mut end = text.len().min(MAX_TEXT_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        if text.trim().is_empty() {
            return SentimentScore::default();
        }
        let score = self.compound(text) as f32;
        let magnitude = sentences(text)
            .iter()
            .map(|s| self.compound(s).abs())
            .sum::<f64>() as f32;
        SentimentScore {
            score,
            magnitude: magnitude.max(score.abs()),
        }
    }
}

#[cfg(test)]
mod tests;
