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

use super::calendar;
use super::rewrite::{Edit, Rewritten};
use crate::text::{tokenize, Token};

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
    TENS.iter().position(|t| *t == w).map(|i| 20 + 10 * i as u32)
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
        let day_part = |k: usize| {
            matches!(
                self.norm(k),
                "morning" | "afternoon" | "evening" | "night"
            )
        };
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

/// A meridiem at token `k` (`glued`: letters glued to the digits before, "30p" → "p").
/// Returns (am/pm, index after it, whether it was a lone "m").
fn meridiem(cx: &Cx, glued: &str, k: usize) -> Option<(&'static str, usize, bool)> {
    let dots_then_m = |letter: &'static str, mut j: usize| {
        if cx.norm(j) == "." {
            j += 1;
        }
        (cx.norm(j) == "m").then(|| {
            let end = if cx.norm(j + 1) == "." && cx.glued(j) {
                j + 2
            } else {
                j + 1
            };
            (letter, end, false)
        })
    };
    match glued {
        "am" => return Some(("am", k, false)),
        "pm" => return Some(("pm", k, false)),
        "a" => return dots_then_m("am", k),
        "p" => return dots_then_m("pm", k),
        "m" => return Some(("am", k, true)),
        "" => {}
        _ => return None,
    }
    // "10, M" / "10, a.m.": one comma may come before the meridiem.
    let (k, comma) = if cx.norm(k) == "," {
        (k + 1, true)
    } else {
        (k, false)
    };
    match cx.norm(k) {
        "am" => Some(("am", k + 1, false)),
        "pm" => Some(("pm", k + 1, false)),
        "a" => dots_then_m("am", k + 1),
        "p" => dots_then_m("pm", k + 1),
        // A lone "M" after a comma is "a.m." only written as a capital ("10, M").
        "m" if !comma || cx.raw(k) == "M" => Some(("am", k + 1, true)),
        _ => None,
    }
}

/// Minutes written as two digits: "30", "05", "30pm" (→ (30, "pm")).
fn two_digit_minutes(w: &str) -> Option<(u32, &str)> {
    let (d, rest) = split_digits(w);
    (d.len() == 2)
        .then(|| d.parse().ok())
        .flatten()
        .filter(|m| *m < 60)
        .map(|m| (m, rest))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sep {
    /// "8.30", "8:30"
    Dot,
    /// "830", "1930"
    Compact,
    /// "8, 30", "8 30"
    Loose,
    /// "10" (with a meridiem to rewrite)
    None,
}

/// A clock time written with digits starting at token `i`.
fn clock_digits(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    let t = cx.toks.get(i)?;
    let (d, suffix) = split_digits(&t.norm);
    if d.is_empty() || d.len() > 4 {
        return None;
    }
    // Part of a longer number, price or date: "1.8.30", "$8.30", "01/09".
    if i > 0 && cx.glued(i - 1) && matches!(cx.norm(i - 1), "." | ":" | "/" | "$" | "£" | "€") {
        return None;
    }
    let (hour, minute, glued, sep, mut k): (u32, Option<u32>, &str, Sep, usize);
    if d.len() <= 2 {
        hour = d.parse().ok()?;
        let next = cx.norm(i + 1);
        if suffix.is_empty() && matches!(next, "." | ":") && cx.glued(i) && cx.glued(i + 1) {
            let (m, g) = two_digit_minutes(cx.norm(i + 2))?;
            // "01.09.2022" is a date.
            if cx.glued(i + 2)
                && matches!(cx.norm(i + 3), "." | "/")
                && cx.glued(i + 3)
                && starts_digit(cx.norm(i + 4))
            {
                return None;
            }
            (minute, glued, sep, k) = (Some(m), g, Sep::Dot, i + 3);
        } else if suffix.is_empty() && (next == "," || two_digit_minutes(next).is_some()) {
            let j = if next == "," { i + 2 } else { i + 1 };
            match two_digit_minutes(cx.norm(j)) {
                Some((m, g)) if cx.norm(j).len() >= 2 => {
                    (minute, glued, sep, k) = (Some(m), g, Sep::Loose, j + 1)
                }
                _ => (minute, glued, sep, k) = (None, suffix, Sep::None, i + 1),
            }
        } else {
            (minute, glued, sep, k) = (None, suffix, Sep::None, i + 1);
        }
    } else {
        // "1930.5", "1,930": part of a longer number.
        if suffix.is_empty() && cx.glued(i) && cx.glued(i + 1) && starts_digit(cx.norm(i + 2)) {
            return None;
        }
        hour = d[..d.len() - 2].parse().ok()?;
        minute = Some(d[d.len() - 2..].parse().ok()?);
        (glued, sep, k) = (suffix, Sep::Compact, i + 1);
    }
    if hour > 23 || minute.is_some_and(|m| m > 59) {
        return None;
    }
    let mer = meridiem(cx, glued, k);
    if let Some((_, end, lone_m)) = mer {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let capital_after_comma = cx.norm(end - 1) == "m" && cx.raw(end - 1) == "M";
        let lone_ok = !lone_m || cx.cue_before(i) || cx.alone(i, end) || capital_after_comma;
        if !lone_ok {
            return None;
        }
        // "10am" and "10 pm" are read as written.
        let standard = sep == Sep::None
            && (matches!(glued, "am" | "pm")
                || end == i + 2 && matches!(cx.norm(i + 1), "am" | "pm"));
        if standard {
            return None;
        }
        k = end;
    } else {
        if glued != "" {
            return None;
        }
        let unit_after = UNITS_AFTER.contains(&cx.norm(k));
        let ok = match sep {
            Sep::None => false,
            Sep::Dot => !unit_after && (cx.cue_before(i) || cx.cue_after(k) || cx.alone(i, k)),
            // "by 2030", "after 1990" are years: only "at"/"around"/"about" make a time.
            Sep::Compact => {
                !unit_after
                    && (matches!(cx.word_before(i), Some("at" | "around" | "about"))
                        || cx.cue_after(k)
                        || cx.alone(i, k))
            }
            Sep::Loose => {
                cx.norm(i.wrapping_sub(1)) == "at" && (cx.ends(k) || cx.cue_after(k))
            }
        };
        if !ok {
            return None;
        }
    }
    let mut with = match minute {
        Some(m) => format!("{hour}:{m:02}"),
        None => hour.to_string(),
    };
    if let Some((m, _, _)) = mer {
        with.push(' ');
        with.push_str(m);
    }
    let end = cx.toks.get(k - 1)?.end;
    Some((
        Edit {
            start: t.start,
            end,
            with,
        },
        k,
    ))
}

/// Minutes said in words at token `k`: "thirty", "forty five", "forty-five", "oh five",
/// "fifteen". Returns (minutes, index after).
fn minute_words(cx: &Cx, k: usize) -> Option<(u32, usize)> {
    let w = cx.norm(k);
    if let Some((a, b)) = w.split_once('-') {
        return Some((tens(a)? + unit(b).filter(|u| (1..10).contains(u))?, k + 1));
    }
    if matches!(w, "oh" | "o") {
        return Some((unit(cx.norm(k + 1)).filter(|u| (1..10).contains(u))?, k + 2));
    }
    if let Some(t) = tens(w).filter(|t| *t < 60) {
        return Some(match unit(cx.norm(k + 1)).filter(|u| (1..10).contains(u)) {
            Some(u) => (t + u, k + 2),
            None => (t, k + 1),
        });
    }
    unit(w).filter(|u| (10..20).contains(u)).map(|u| (u, k + 1))
}

/// "eight thirty", "seven-thirty", "ten fifteen am" → "8:30", "7:30", "10:15 am".
fn clock_words(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    let t = cx.toks.get(i)?;
    let w = t.norm.as_str();
    let (hour, minute, k) = match w.split_once('-') {
        Some((h, rest)) => {
            let hour = unit(h).filter(|h| (1..=12).contains(h))?;
            let minute = match rest.split_once('-') {
                Some((a, b)) => tens(a)? + unit(b).filter(|u| (1..10).contains(u))?,
                None => tens(rest).or_else(|| unit(rest).filter(|u| (10..20).contains(u)))?,
            };
            (hour, minute, i + 1)
        }
        None => {
            let hour = unit(w).filter(|h| (1..=12).contains(h))?;
            match minute_words(cx, i + 1) {
                Some((minute, k)) => (hour, minute, k),
                // "eight p.m.", "ten a m": the spelled meridiem breaks the phrase apart.
                None => {
                    let (m, end, lone) = meridiem(cx, "", i + 1)?;
                    if lone || matches!(cx.norm(i + 1), "am" | "pm") {
                        return None;
                    }
                    let last = cx.toks.get(end - 1)?;
                    let with = format!("{hour} {m}");
                    return Some((
                        Edit {
                            start: t.start,
                            end: last.end,
                            with,
                        },
                        end,
                    ));
                }
            }
        }
    };
    if minute > 59 || tens(cx.word_before(i).unwrap_or_default()).is_some() {
        return None;
    }
    let mer = meridiem(cx, "", k).filter(|(_, _, lone)| !lone);
    let ok = mer.is_some() || cx.cue_before(i) || cx.cue_after(k) || cx.alone(i, k);
    if !ok || UNITS_AFTER.contains(&cx.norm(k)) {
        return None;
    }
    let (with, k) = match mer {
        Some((m, end, _)) => (format!("{hour}:{minute:02} {m}"), end),
        None => (format!("{hour}:{minute:02}"), k),
    };
    let end = cx.toks.get(k - 1)?.end;
    Some((
        Edit {
            start: t.start,
            end,
            with,
        },
        k,
    ))
}

/// British "half seven" (= 7:30) → "7:30"; not "half past", "half an hour", "two and a half".
fn half_hour(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    if cx.norm(i) != "half" || matches!(cx.word_before(i), Some("a" | "an" | "and")) {
        return None;
    }
    let h = cx.norm(i + 1);
    let hour = unit(h).or_else(|| (h.len() <= 2).then(|| h.parse().ok()).flatten())?;
    if !(1..=12).contains(&hour) || matches!(cx.norm(i + 2), "hour" | "hours" | "dozen") {
        return None;
    }
    let (t, n) = (cx.toks.get(i)?, cx.toks.get(i + 1)?);
    Some((
        Edit {
            start: t.start,
            end: n.end,
            with: format!("{hour}:30"),
        },
        i + 2,
    ))
}

/// A day of the month in words or digits at token `i`: "9", "nine", "twenty-one", "twenty one".
fn day_number(cx: &Cx, i: usize) -> Option<(u32, usize)> {
    let w = cx.norm(i);
    let (d, rest) = split_digits(w);
    let (n, k) = if !d.is_empty() {
        if !rest.is_empty() || d.len() > 2 {
            return None;
        }
        (d.parse().ok()?, i + 1)
    } else if let Some((a, b)) = w.split_once('-') {
        (tens(a)? + unit(b)?, i + 1)
    } else if let Some(t) = tens(w) {
        match unit(cx.norm(i + 1)).filter(|u| (1..10).contains(u)) {
            Some(u) => (t + u, i + 2),
            None => (t, i + 1),
        }
    } else {
        (unit(w)?, i + 1)
    };
    (1..=31).contains(&n).then_some((n, k))
}

fn ordinal_suffix(n: u32) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// "9 January", "nine January" → "9th January" (the grammar reads "on 9 January" as
/// 9 o'clock in January).
fn day_before_month(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    if i > 0 && cx.glued(i - 1) && matches!(cx.norm(i - 1), "." | ":" | "/") {
        return None;
    }
    let (n, k) = day_number(cx, i)?;
    let m = if cx.norm(k) == "," { k + 1 } else { k };
    // "may" and "march" are also verbs: months only when capitalised ("10 May").
    let verb = matches!(cx.norm(m), "may" | "march" | "mar") && !cx.raw(m).starts_with(char::is_uppercase);
    if !calendar::is_month(cx.norm(m)) || verb {
        return None;
    }
    let (a, b) = (cx.toks.get(i)?, cx.toks.get(k - 1)?);
    Some((
        Edit {
            start: a.start,
            end: b.end,
            with: format!("{n}{}", ordinal_suffix(n)),
        },
        k,
    ))
}

/// "twenty-first" → "21st" (the grammar reads "twenty first" but not the hyphenated form).
fn hyphen_ordinal(t: &Token) -> Option<Edit> {
    let (a, b) = t.norm.split_once('-')?;
    let n = tens(a)? + calendar::day_ordinal_value(b).filter(|v| *v < 10)?;
    Some(Edit {
        start: t.start,
        end: t.end,
        with: format!("{n}{}", ordinal_suffix(n)),
    })
}

/// After a month or a day of the month (token `i` starts what may be a year).
fn after_date(cx: &Cx, i: usize) -> bool {
    let Some(j) = (0..i).rev().find(|&j| cx.norm(j) != ",") else {
        return false;
    };
    let w = cx.norm(j);
    let (d, suffix) = split_digits(w);
    calendar::is_month(w.trim_end_matches('.'))
        || calendar::is_day_ordinal(w)
        || w.split_once('-')
            .is_some_and(|(a, b)| tens(a).is_some() && calendar::is_day_ordinal(b))
        || (!d.is_empty() && matches!(suffix, "st" | "nd" | "rd" | "th"))
        || (!d.is_empty()
            && suffix.is_empty()
            && d.len() <= 2
            && j > 0
            && calendar::is_month(cx.norm(j - 1).trim_end_matches('.')))
        || (j > 0 && calendar::is_month(cx.norm(j - 1)) && unit(w).is_some())
}

/// Two-digit year words at `k`: "twenty-two", "twenty two", "ten", "oh five", "twenty".
fn year_tail(cx: &Cx, k: usize) -> Option<(u32, usize)> {
    let w = cx.norm(k);
    if let Some((a, b)) = w.split_once('-') {
        return Some((tens(a)? + unit(b).filter(|u| (1..10).contains(u))?, k + 1));
    }
    if matches!(w, "oh" | "o") {
        return Some((unit(cx.norm(k + 1)).filter(|u| (1..10).contains(u))?, k + 2));
    }
    if let Some(t) = tens(w) {
        return Some(match unit(cx.norm(k + 1)).filter(|u| (1..10).contains(u)) {
            Some(u) => (t + u, k + 2),
            None => (t, k + 1),
        });
    }
    unit(w).filter(|u| *u >= 10).map(|u| (u, k + 1))
}

/// A spoken year right after a date: "twenty twenty-two", "two thousand and twenty two",
/// "nineteen ninety", and Whisper's split "2020-22" / "2020, 22" → "2022".
fn spoken_year(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    if !after_date(cx, i) {
        return None;
    }
    let w = cx.norm(i);
    let (year, k) = match w {
        "twenty" | "nineteen" => {
            let century = if w == "twenty" { 2000 } else { 1900 };
            let (yy, k) = year_tail(cx, i + 1)?;
            (century + yy, k)
        }
        "two" if cx.norm(i + 1) == "thousand" => {
            let mut k = i + 2;
            if cx.norm(k) == "and" {
                k += 1;
            }
            match year_tail(cx, k).or_else(|| {
                unit(cx.norm(k))
                    .filter(|u| (1..10).contains(u))
                    .map(|u| (u, k + 1))
            }) {
                Some((n, k)) => (2000 + n, k),
                None => (2000, i + 2),
            }
        }
        _ => split_year(cx, i)?,
    };
    let (a, b) = (cx.toks.get(i)?, cx.toks.get(k - 1)?);
    Some((
        Edit {
            start: a.start,
            end: b.end,
            with: year.to_string(),
        },
        k,
    ))
}

/// "2020-22" or "2020, 22": a year `XYZ0` and two digits repeating its decade digit `Z` are one
/// spoken year (Whisper hears "twenty twenty" as 2020); a caller never says a range that way.
fn split_year(cx: &Cx, i: usize) -> Option<(u32, usize)> {
    let w = cx.norm(i);
    let (year, rest, k) = match w.split_once('-') {
        Some((y, r)) => (y, r, i + 1),
        None if cx.norm(i + 1) == "," => (w, cx.norm(i + 2), i + 3),
        None => return None,
    };
    let (y, r) = (year.as_bytes(), rest.as_bytes());
    let plausible = y.len() == 4
        && y.iter().all(u8::is_ascii_digit)
        && (year.starts_with("19") || year.starts_with("20"))
        && y[3] == b'0'
        && r.len() == 2
        && r.iter().all(u8::is_ascii_digit)
        && r[0] == y[2]
        && r[1] != b'0';
    plausible.then(|| format!("{}{rest}", &year[..2]).parse().ok())?
        .map(|n| (n, k))
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
                .or_else(|| day_before_month(&cx, i))
                .or_else(|| hyphen_ordinal(&toks[i]).map(|e| (e, i + 1)))
        } else if tens(w).is_some() {
            day_before_month(&cx, i)
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
    let edits: Vec<Edit> = tokenize(text)
        .iter()
        .filter_map(hyphen_ordinal)
        .collect();
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
        assert_eq!(
            rw("January 9th, twenty twenty-two"),
            "January 9th, 2022"
        );
        assert_eq!(
            rw("9 January two thousand and twenty two"),
            "9th January 2022"
        );
        assert_eq!(rw("January 9th, 2020-22"), "January 9th, 2022");
        assert_eq!(rw("January 9th, 2020, 22"), "January 9th, 2022");
        assert_eq!(rw("twenty twenty-two people"), "twenty twenty-two people");
    }
}
