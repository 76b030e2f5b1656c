//! Times and dates as recognisers write them, rewritten into forms the date/time grammar reads.
//!
//! Whisper and other recognisers write "eight thirty p m" as "8.30pm", "830pm", "8:30 p.m.",
//! "8, 30 pm" or "8 30 pm"; "ten a m" as "10 a m", "10m" or "10, M"; "half seven" (British for
//! 7:30); "9 January" (read by the grammar as "9 o'clock in January"); spoken years ("twenty
//! twenty-two", "two thousand and twenty two", or split at the decade: "2020-22"). Each form is
//! rewritten only where it cannot be something else:
//! - a meridiem ("pm", "p.m.", "p m", glued or spaced) makes digits a time;
//! - without one, "1.30" / "1930" / "8 30" are times only after a time cue ("at", "around",
//!   "by", a weekday or "tomorrow"…), before "tonight" / "in the evening", or when they are the
//!   whole answer: elsewhere "1.30" stays the number 1.3 ("it costs 1.30") and "1930" a year;
//! - a lone "m" for "am" ("at 10m") needs such a cue or a capital after a comma ("10, M"):
//!   "10m" elsewhere is ten metres or minutes;
//! - spoken years only right after a month or a day of the month ("January 9th, twenty twenty-two").
//!
//! Only the forms the grammar misreads are rewritten; the rest ("8:30 pm", "half past seven",
//! "January the ninth") goes to it as written.

mod clock;
mod dates;

use super::calendar;
use super::rewrite::{Edit, Rewritten};
use crate::text::{tokenize, Token};
use clock::{clock_digits, clock_words, half_hour};
use dates::{coming_weekday, day_before_month, hyphen_ordinal, spaced_ordinal, spoken_year};

const UNITS: &[&str] = &[
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
];
const TENS: &[&str] = &[
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn unit(w: &str) -> Option<u32> {
    UNITS.iter().position(|u| *u == w).map(|i| i as u32)
}

fn tens(w: &str) -> Option<u32> {
    TENS.iter()
        .position(|t| *t == w)
        .map(|i| 20 + 10 * i as u32)
}

/// Words before a time that make digits a clock time.
const CUE_BEFORE: &[&str] = &[
    "at",
    "around",
    "about",
    "by",
    "until",
    "till",
    "til",
    "from",
    "before",
    "after",
    "between",
    "approximately",
    "roughly",
    "for",
];

/// Words that carry no content around a short answer ("um, 7.30 please").
const FILLERS: &[&str] = &[
    "um", "uh", "er", "erm", "hmm", "oh", "yes", "yeah", "ok", "okay", "so", "well", "just",
    "please", "maybe", "sure", "thanks", "thank", "you", "and",
];

/// Words after a number that make it a quantity, not a time ("about 1.30 kilos").
const UNITS_AFTER: &[&str] = &[
    "kilo", "kilos", "kg", "km", "miles", "mile", "metres", "meters", "percent", "pounds",
    "dollars", "euros", "litres", "liters", "hours", "minutes", "mins", "points", "people",
    "persons", "guests", "seconds", "grams", "days", "weeks",
];

struct Cx<'a> {
    text: &'a str,
    toks: &'a [Token],
}

impl Cx<'_> {
    fn norm(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.norm.as_str())
    }
    fn raw(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .and_then(|t| self.text.get(t.start..t.end))
            .unwrap_or_default()
    }
    /// Tokens `i` and `i + 1` touch (no space between them).
    fn glued(&self, i: usize) -> bool {
        matches!((self.toks.get(i), self.toks.get(i + 1)), (Some(a), Some(b)) if a.end == b.start)
    }
    fn is_punct(&self, i: usize) -> bool {
        !self.norm(i).chars().any(char::is_alphanumeric)
    }
    /// The word before token `i`, skipping commas.
    fn word_before(&self, i: usize) -> Option<&str> {
        (0..i)
            .rev()
            .find(|&j| self.norm(j) != ",")
            .map(|j| self.norm(j))
    }
    /// Nothing but fillers and punctuation before token `i`.
    fn starts(&self, i: usize) -> bool {
        (0..i).all(|j| self.is_punct(j) || FILLERS.contains(&self.norm(j)))
    }
    /// Nothing but fillers and punctuation from token `j` on.
    fn ends(&self, j: usize) -> bool {
        (j..self.toks.len()).all(|k| self.is_punct(k) || FILLERS.contains(&self.norm(k)))
    }
    /// A time cue before token `i`: "at", "around", a weekday, "tomorrow"…
    fn cue_before(&self, i: usize) -> bool {
        self.word_before(i)
            .is_some_and(|w| CUE_BEFORE.contains(&w) || calendar::is_weekday_or_relative(w))
    }
    /// A time-of-day cue at token `j`: "tonight", "in the evening", "this morning", "o'clock".
    fn cue_after(&self, j: usize) -> bool {
        let day_part =
            |k: usize| matches!(self.norm(k), "morning" | "afternoon" | "evening" | "night");
        match self.norm(j) {
            "tonight" | "o'clock" | "oclock" => true,
            "in" => self.norm(j + 1) == "the" && day_part(j + 2),
            "this" | "tomorrow" => day_part(j + 1),
            _ => false,
        }
    }
    /// The whole text is the time (a bare answer), `i..j` being the time's tokens.
    fn alone(&self, i: usize, j: usize) -> bool {
        self.starts(i) && self.ends(j)
    }
}

fn starts_digit(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// Digits and what is glued after them: "830pm" → ("830", "pm").
fn split_digits(w: &str) -> (&str, &str) {
    let n = w.bytes().take_while(u8::is_ascii_digit).count();
    (&w[..n], &w[n..])
}

/// The temporal forms of `text` rewritten; `None` when there is nothing to rewrite.
pub(crate) fn temporal(text: &str) -> Option<Rewritten> {
    let toks = tokenize(text);
    let cx = Cx { text, toks: &toks };
    let mut edits = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let w = toks[i].norm.as_str();
        // Most words start none of the forms: test the cheap conditions first.
        let found = if starts_digit(w) {
            clock_digits(&cx, i)
                .or_else(|| spoken_year(&cx, i))
                .or_else(|| day_before_month(&cx, i))
        } else if w == "half" {
            half_hour(&cx, i)
        } else if unit(w).is_some() || w == "twenty" || w.contains('-') {
            spoken_year(&cx, i)
                .or_else(|| clock_words(&cx, i))
                .or_else(|| spaced_ordinal(&cx, i))
                .or_else(|| day_before_month(&cx, i))
                .or_else(|| hyphen_ordinal(&toks[i]).map(|e| (e, i + 1)))
        } else if tens(w).is_some() {
            spaced_ordinal(&cx, i).or_else(|| day_before_month(&cx, i))
        } else if w == "coming" {
            coming_weekday(&cx, i)
        } else {
            None
        };
        match found {
            Some((e, next)) => {
                if text.get(e.start..e.end) != Some(e.with.as_str()) {
                    edits.push(e);
                }
                i = next.max(i + 1);
            }
            None => i += 1,
        }
    }
    (!edits.is_empty()).then(|| Rewritten::new(text, edits))
}

/// Ordinals written with a hyphen ("twenty-first") rewritten for the ordinal grammar.
pub(crate) fn ordinals(text: &str) -> Option<Rewritten> {
    let edits: Vec<Edit> = tokenize(text).iter().filter_map(hyphen_ordinal).collect();
    (!edits.is_empty()).then(|| Rewritten::new(text, edits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(t: &str) -> String {
        temporal(t).map_or_else(|| t.to_string(), |r| r.text)
    }

    #[test]
    fn clock_times_with_digits() {
        for (from, to) in [
            ("8.30pm", "8:30 pm"),
            ("at 8.30 p.m.", "at 8:30 pm"),
            ("830pm", "8:30 pm"),
            ("1030 a.m.", "10:30 am"),
            ("10 a m", "10 am"),
            ("at 10m", "at 10 am"),
            ("a table at 10, M please", "a table at 10 am please"),
            ("at 8, 30 pm", "at 8:30 pm"),
            ("at 8 30 pm", "at 8:30 pm"),
            ("at 1930", "at 19:30"),
            ("20.30", "20:30"),
            ("at 7.30", "at 7:30"),
            ("7.30 tonight", "7:30 tonight"),
            ("8.00pm.", "8:00 pm."),
        ] {
            assert_eq!(rw(from), to, "{from}");
        }
    }

    #[test]
    fn numbers_that_are_no_times_stay() {
        for t in [
            "it costs 1.30",
            "I ran 10m today",
            "1930 was a good year",
            "about 1.30 kilos",
            "on 01.09.2022",
            "10am",
            "at 8:30 pm",
            "version 2.30 is out",
            "for 2 people",
            "a table for two thirty people",
        ] {
            assert_eq!(rw(t), t, "{t}");
        }
    }

    #[test]
    fn clock_times_in_words() {
        assert_eq!(rw("eight thirty"), "8:30");
        assert_eq!(rw("at seven-thirty"), "at 7:30");
        assert_eq!(rw("ten fifteen am"), "10:15 am");
        assert_eq!(rw("at eleven forty-five"), "at 11:45");
        assert_eq!(rw("half seven"), "7:30");
        assert_eq!(rw("an hour and a half"), "an hour and a half");
        assert_eq!(rw("half past seven"), "half past seven");
    }

    #[test]
    fn dates_and_years() {
        assert_eq!(rw("on 9 January at 8pm"), "on 9th January at 8pm");
        assert_eq!(rw("on the 9th at 8 pm."), "on the 9th at 8 pm.");
        assert_eq!(rw("nine January"), "9th January");
        assert_eq!(rw("the twenty-first"), "the 21st");
        assert_eq!(rw("January 9th, twenty twenty-two"), "January 9th, 2022");
        assert_eq!(
            rw("9 January two thousand and twenty two"),
            "9th January 2022"
        );
        assert_eq!(rw("January 9th, 2020-22"), "January 9th, 2022");
        assert_eq!(rw("January 9th, 2020, 22"), "January 9th, 2022");
        assert_eq!(rw("twenty twenty-two people"), "twenty twenty-two people");
    }
}
