//! Calls into the `duckling` crate, guarded: a cheap pre-check decides whether a dimension can
//! occur at all, long texts are parsed in chunks, every match is filtered to word boundaries and
//! panics inside the parser are contained.

use super::SysContext;
use crate::text::{on_word_boundaries, tokenize};
use duckling::{Context, DimensionKind, Entity, Lang, Locale, Options};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Longest chunk handed to the parser in one call (bytes); longer texts are split at spaces.
const CHUNK: usize = 400;

const NUMBER_WORDS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
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
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "billion",
    "dozen",
    "couple",
    "half",
    "quarter",
    "single",
    "pair",
    "oh",
    "none",
    "nil",
];

/// Ordinal words besides the day ordinals of [`super::calendar::is_day_ordinal`].
const ORDINAL_WORDS: &[&str] = &["last", "next"];

fn is_ordinal_word(w: &str) -> bool {
    super::calendar::is_day_ordinal(w) || ORDINAL_WORDS.contains(&w)
}

const TIME_WORDS: &[&str] = &[
    "now",
    "noon",
    "midnight",
    "midday",
    "morning",
    "afternoon",
    "evening",
    "night",
    "weekend",
    "week",
    "month",
    "year",
    "valentine's",
    "o'clock",
    "oclock",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "ago",
    "later",
    "past",
    "eve",
    "am",
    "pm",
    "a.m.",
    "p.m.",
];

const DURATION_WORDS: &[&str] = &[
    "second",
    "seconds",
    "sec",
    "secs",
    "minute",
    "minutes",
    "min",
    "mins",
    "hour",
    "hours",
    "hr",
    "hrs",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "fortnight",
    "quarter",
];

/// Which groups the pre-check found possible in a text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Precheck {
    pub digits: usize,
    pub number_word: bool,
    pub ordinal_word: bool,
    pub time_word: bool,
    pub duration_word: bool,
    pub at_sign: bool,
    pub url_like: bool,
    pub money_like: bool,
}

impl Precheck {
    pub fn of(text: &str) -> Precheck {
        let mut p = Precheck {
            digits: text.bytes().filter(u8::is_ascii_digit).count(),
            at_sign: text.contains('@'),
            url_like: text.contains("://") || text.contains("www.") || text.contains('.'),
            money_like: text.contains(['$', '€', '£', '¥']),
            ..Precheck::default()
        };
        for t in tokenize(text) {
            let w = t.norm.as_str();
            let base = w.trim_end_matches('s');
            p.number_word |= NUMBER_WORDS.contains(&w)
                || NUMBER_WORDS.contains(&base)
                || w.contains('-')
                    && w.split('-')
                        .all(|x| NUMBER_WORDS.contains(&x) || is_ordinal_word(x));
            p.ordinal_word |= is_ordinal_word(w);
            p.time_word |= super::calendar::is_day_name(w) || TIME_WORDS.contains(&w);
            p.duration_word |= DURATION_WORDS.contains(&w);
            p.money_like |= matches!(
                w,
                "dollar"
                    | "dollars"
                    | "euro"
                    | "euros"
                    | "pound"
                    | "pounds"
                    | "cents"
                    | "bucks"
                    | "usd"
                    | "eur"
                    | "gbp"
            );
        }
        p
    }

    /// Whether `dim` may match at all.
    pub fn allows(&self, dim: DimensionKind) -> bool {
        let numeric = self.digits > 0 || self.number_word;
        match dim {
            DimensionKind::Numeral => numeric,
            DimensionKind::Ordinal => self.digits > 0 || self.ordinal_word,
            DimensionKind::Time => self.digits > 0 || self.time_word || self.ordinal_word,
            DimensionKind::Duration => self.duration_word,
            DimensionKind::PhoneNumber => self.digits >= 6,
            DimensionKind::Email => self.at_sign,
            DimensionKind::Url => self.url_like,
            DimensionKind::AmountOfMoney => numeric && self.money_like,
            _ => numeric,
        }
    }
}

/// Duckling's reference context for `ctx`: now as a fixed offset in the agent's time zone, so that
/// naive (wall-clock) results are local times of that zone.
pub(crate) fn context(ctx: &SysContext) -> Context {
    let local = ctx.now.with_timezone(&ctx.tz).fixed_offset();
    Context::new(local, Locale::new(Lang::EN, None))
}

/// Parses `text` for one dimension; results on word boundaries only, sorted by start.
pub(crate) fn parse(text: &str, dim: DimensionKind, dctx: &Context, latent: bool) -> Vec<Entity> {
    let locale = Locale::new(Lang::EN, None);
    let opts = Options {
        with_latent: latent,
    };
    let mut out = Vec::new();
    for (offset, chunk) in chunks(text) {
        let found = catch_unwind(AssertUnwindSafe(|| {
            duckling::parse(chunk, &locale, &[dim], dctx, &opts)
        }));
        for mut e in found.unwrap_or_default() {
            e.start += offset;
            e.end += offset;
            if e.value.dim_kind() == dim
                && e.start < e.end
                && on_word_boundaries(text, e.start, e.end)
            {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| (e.start, std::cmp::Reverse(e.end)));
    out
}

/// Splits long texts into chunks of at most [`CHUNK`] bytes at whitespace (or char boundaries).
fn chunks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + CHUNK).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end < text.len() {
            if let Some(sp) = text
                .get(start..end)
                .and_then(|s| s.rfind(char::is_whitespace))
            {
                if sp > 0 {
                    end = start + sp;
                }
            }
        }
        if end <= start {
            end = text[start..]
                .chars()
                .next()
                .map_or(text.len(), |c| start + c.len_utf8());
        }
        if let Some(c) = text.get(start..end) {
            out.push((start, c));
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_text_on_char_boundaries() {
        let t = "é word ".repeat(200);
        let cs = chunks(&t);
        assert!(cs.len() > 2);
        let joined: String = cs.iter().map(|(_, c)| *c).collect();
        assert_eq!(joined, t);
        assert!(cs.iter().all(|(_, c)| c.len() <= CHUNK));
    }

    #[test]
    fn precheck_skips_plain_words() {
        let p = Precheck::of("my bike needs service");
        assert!(
            !p.allows(DimensionKind::Numeral)
                && !p.allows(DimensionKind::Time)
                && !p.allows(DimensionKind::Email)
        );
        assert!(Precheck::of("for four people").allows(DimensionKind::Numeral));
        assert!(Precheck::of("next friday").allows(DimensionKind::Time));
    }
}
