//! Clock times: digits with dots, commas, glued or spelled meridiems ("8.30pm", "830 p.m.",
//! "10, M", "8, 30 pm"), times in words ("eight thirty", "seven-thirty") and "half seven".

use super::{split_digits, starts_digit, tens, unit, Cx, UNITS_AFTER};
use crate::sysent::rewrite::Edit;

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
pub(super) fn clock_digits(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
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
        if !glued.is_empty() {
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
            Sep::Loose => cx.norm(i.wrapping_sub(1)) == "at" && (cx.ends(k) || cx.cue_after(k)),
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
pub(super) fn clock_words(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
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
pub(super) fn half_hour(cx: &Cx, i: usize) -> Option<(Edit, usize)> {
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
