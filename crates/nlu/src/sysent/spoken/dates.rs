//! Days of the month before the month ("9 January"), hyphenated ordinals ("twenty-first") and
//! spoken or split years after a date ("twenty twenty-two", "2020-22").

use super::{split_digits, tens, unit, Cx};
use crate::sysent::calendar;
use crate::sysent::rewrite::Edit;
use crate::text::Token;

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
pub(super) fn day_before_month(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    if i > 0 && cx.glued(i - 1) && matches!(cx.norm(i - 1), "." | ":" | "/") {
        return None;
    }
    let (n, k) = day_number(cx, i)?;
    let m = if cx.norm(k) == "," { k + 1 } else { k };
    // "may" and "march" are also verbs: months only when capitalised ("10 May").
    let verb =
        matches!(cx.norm(m), "may" | "march" | "mar") && !cx.raw(m).starts_with(char::is_uppercase);
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
pub(super) fn hyphen_ordinal(t: &Token) -> Option<Edit> {
    let (a, b) = t.norm.split_once('-')?;
    let n = tens(a)? + calendar::day_ordinal_value(b).filter(|v| *v < 10)?;
    Some(Edit {
        start: t.start,
        end: t.end,
        with: format!("{n}{}", ordinal_suffix(n)),
    })
}

/// "twenty second" → "22nd": "second" alone is too common a word to start a date.
pub(super) fn spaced_ordinal(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    let n = tens(cx.norm(i))? + calendar::day_ordinal_value(cx.norm(i + 1)).filter(|v| *v < 10)?;
    let (a, b) = (cx.toks.get(i)?, cx.toks.get(i + 1)?);
    Some((
        Edit {
            start: a.start,
            end: b.end,
            with: format!("{n}{}", ordinal_suffix(n)),
        },
        i + 2,
    ))
}

/// "this coming Sunday" → "this Sunday" (the grammar reads it as the Sunday after).
pub(super) fn coming_weekday(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
    let next = cx.norm(i + 1);
    if cx.norm(i) != "coming" || !calendar::is_weekday_or_relative(next) || next.starts_with("to") {
        return None;
    }
    let first = if i > 0 && cx.norm(i - 1) == "this" {
        i - 1
    } else {
        i
    };
    let (a, b) = (cx.toks.get(first)?, cx.toks.get(i)?);
    Some((
        Edit {
            start: a.start,
            end: b.end,
            with: "this".into(),
        },
        i + 1,
    ))
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
pub(super) fn spoken_year(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
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
    plausible
        .then(|| format!("{}{rest}", &year[..2]).parse().ok())?
        .map(|n| (n, k))
}
