//! English text normalisation before TTS: dates, times, ISO 8601 values rendered by
//! Dialogflow templates, currency, phone numbers, percentages, ordinals, numbers,
//! abbreviations and symbols become words.
//!
//! Rules (applied in this order, each on the output of the previous one):
//! 1. ISO 8601 date-times `2022-01-09T10:00:00+00:00`: converted to `tz` when both an offset and
//!    a valid IANA `tz` are given. A time of exactly 12:00:00 is how Dialogflow renders a
//!    `@sys.date`, so it is spoken as a date, "Sunday the ninth of January"; any other time is a
//!    `@sys.time` and is spoken as the time only, "ten a m" (no date: Dialogflow gives times the
//!    current date, which would be noise). A bare ISO date `2022-01-09` is a full date (3).
//! 2. Numeric dates `01/09/2022` (or `/22`): month first for en-US and other locales, day first
//!    for en-GB, en-AU, en-NZ, en-IE, en-IN, en-ZA. Invalid dates are left to the number rules.
//! 3. Dates are spoken "January ninth, twenty twenty-two" (month first) or
//!    "the ninth of January twenty twenty-two" (day first).
//! 4. Times `10:00` → "ten o'clock", `10:30` → "ten thirty", `10:05` → "ten oh five",
//!    24-hour `13:00` → "one p m", `00:15` → "twelve fifteen a m"; `1 pm` / `10:30 a.m.` →
//!    "one p m" / "ten thirty a m". "a m"/"p m" are spelled with a space so every TTS voice
//!    says the letters.
//! 5. Currency `$12.50` → "twelve dollars and fifty cents", `£3` → "three pounds", `€0.99` →
//!    "ninety-nine cents".
//! 6. Phone numbers (a `+` country code followed by 7+ digits, or 10–15 digits in groups or in
//!    one run) → digits one by one, groups separated by commas: "plus one, four one five, …".
//!    Consequently a bare run of 10–15 digits is always read as a phone number.
//! 7. Percentages, ordinals (`10th` → "tenth"), decimals (`3.5` → "three point five"),
//!    integers (`1,234`, `-5` → "minus five"); integers longer than 18 digits are read digit by digit.
//! 8. Abbreviations (`Dr.` → "Doctor", or "Drive" after a capitalised street name; `St.` →
//!    "Saint" before a capitalised name unless it follows a capitalised word or number, else
//!    "Street"; `e.g.`, `i.e.`, `etc.`, `approx.`, `Mr.`, `Mrs.`, `vs.`, `Ave.`, …) and symbols
//!    (`&`, `@`, `+`, `=`, `%`; `#` or `No.` before a number → "number").

mod words;

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use regex::{Captures, Regex};

pub use words::{cardinal, ordinal, year};

/// Longest input normalised; longer text is truncated (at a char boundary).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn re(pattern: &str) -> Regex {
    // Patterns are compile-time constants covered by the tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in regex {pattern}: {e}"))
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\b",
    )
});
static NUM_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"));
static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?:\s*([AaPp])\.?\s?[Mm]\b(\.)?)?")
});
static AMPM: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(1[0-2]|0?[1-9])\s*([AaPp])\.?\s?[Mm]\b(\.)?"));
static CURRENCY: LazyLock<Regex> =
    LazyLock::new(|| re(r"([$£€])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\b"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\+\d{8,15}\b|\b\d{10,15}\b|",
        r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){0,4}"
    ))
});
static PERCENT: LazyLock<Regex> = LazyLock::new(|| re(r"(\d+(?:\.\d+)?)\s?%"));
static ORDINAL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(\d+)(st|nd|rd|th)\b"));
static HASH_NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"(?:#|\bNo\.)\s?(\d)"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d+)\.(\d+)\b"));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| re(r"(^|\s)?(-)?\b(\d{1,3}(?:,\d{3})+|\d+)\b"));
static ABBREV: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i:\be\.g\.|\bi\.e\.|\betc\.|\bapprox\.|\bvs\.)|\b(?:Dr|St|Mr|Mrs|Ms|Prof|Mt|Ave|Rd|Blvd|Jr|Sr|Apt|Dept)\.",
    )
});
static SPACES: LazyLock<Regex> = LazyLock::new(|| re(r"[ \t]{2,}"));

/// Replaces every match of `re` in `text` with `f(captures, text_before, text_after)`.
fn replace(
    re: &Regex,
    text: &str,
    mut f: impl FnMut(&Captures, &str, &str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        let before = &text[..m.start()];
        let after = &text[m.end()..];
        if let Some(rep) = f(&caps, before, after) {
            out.push_str(&text[last..m.start()]);
            out.push_str(&rep);
            last = m.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

fn cap<'t>(c: &Captures<'t>, i: usize) -> &'t str {
    c.get(i).map_or("", |m| m.as_str())
}

/// True for locales that write dates day first.
fn day_first(locale: &str) -> bool {
    let l = locale.to_ascii_lowercase().replace('_', "-");
    [
        "en-gb", "en-au", "en-nz", "en-ie", "en-in", "en-za", "en-uk",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

/// "January ninth, twenty twenty-two" / "the ninth of January twenty twenty-two".
fn spoken_date(d: NaiveDate, day_first: bool) -> String {
    let month = MONTHS.get(d.month0() as usize).copied().unwrap_or("");
    let day = words::ordinal(u64::from(d.day()));
    let y = words::year(d.year().unsigned_abs().into());
    if day_first {
        format!("the {day} of {month} {y}")
    } else {
        format!("{month} {day}, {y}")
    }
}

/// "Sunday the ninth of January".
fn spoken_weekday_date(d: NaiveDate) -> String {
    let month = MONTHS.get(d.month0() as usize).copied().unwrap_or("");
    format!(
        "{} the {} of {month}",
        d.weekday_name(),
        words::ordinal(u64::from(d.day()))
    )
}

trait WeekdayName {
    fn weekday_name(&self) -> &'static str;
}

impl WeekdayName for NaiveDate {
    fn weekday_name(&self) -> &'static str {
        use chrono::Weekday::*;
        match self.weekday() {
            Mon => "Monday",
            Tue => "Tuesday",
            Wed => "Wednesday",
            Thu => "Thursday",
            Fri => "Friday",
            Sat => "Saturday",
            Sun => "Sunday",
        }
    }
}

/// Hour and minute on a 12-hour clock: "ten a m", "ten thirty p m", "twelve oh five a m".
fn spoken_time_12h(h: u32, m: u32, pm: bool) -> String {
    let h12 = match h % 12 {
        0 => 12,
        x => x,
    };
    format!("{} {}", hour_minute(h12, m), if pm { "p m" } else { "a m" })
}

fn hour_minute(h: u32, m: u32) -> String {
    let hw = words::cardinal(h.into());
    match m {
        0 => hw,
        1..=9 => format!("{hw} oh {}", words::cardinal(m.into())),
        _ => format!("{hw} {}", words::cardinal(m.into())),
    }
}

fn parse_offset(s: &str) -> Option<chrono::FixedOffset> {
    if s == "Z" {
        return chrono::FixedOffset::east_opt(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let h: i32 = digits.get(0..2)?.parse().ok()?;
    let m: i32 = digits.get(2..4)?.parse().ok()?;
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn iso(c: &Captures, day_first: bool, tz: Option<chrono_tz::Tz>) -> Option<String> {
    let num = |i: usize| cap(c, i).parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(cap(c, 1).parse().ok()?, num(2)?, num(3)?)?;
    let Some(h) = num(4) else {
        return Some(spoken_date(date, day_first));
    };
    let time = NaiveTime::from_hms_opt(h, num(5)?, num(6).unwrap_or(0))?;
    let mut local = NaiveDateTime::new(date, time);
    if let (Some(off), Some(tz)) = (c.get(7).and_then(|m| parse_offset(m.as_str())), tz) {
        if let Some(dt) = off.from_local_datetime(&local).single() {
            local = dt.with_timezone(&tz).naive_local();
        }
    }
    if local.time() == NaiveTime::from_hms_opt(12, 0, 0)? {
        Some(spoken_weekday_date(local.date()))
    } else {
        Some(spoken_time_12h(
            local.hour(),
            local.minute(),
            local.hour() >= 12,
        ))
    }
}

fn numeric_date(c: &Captures, day_first: bool) -> Option<String> {
    let a: u32 = cap(c, 1).parse().ok()?;
    let b: u32 = cap(c, 2).parse().ok()?;
    let y_str = cap(c, 3);
    let mut y: i32 = y_str.parse().ok()?;
    if y_str.len() == 2 {
        y += 2000;
    }
    let (m, d) = if day_first { (b, a) } else { (a, b) };
    NaiveDate::from_ymd_opt(y, m, d).map(|date| spoken_date(date, day_first))
}

/// Keeps a sentence-final period that a pattern swallowed (e.g. "… at 10 a.m.").
fn final_period(swallowed: bool, after: &str) -> &'static str {
    if swallowed && after.trim().is_empty() {
        "."
    } else {
        ""
    }
}

fn clock(c: &Captures, after: &str) -> Option<String> {
    let h: u32 = cap(c, 1).parse().ok()?;
    let m: u32 = cap(c, 2).parse().ok()?;
    let dot = final_period(c.get(4).is_some(), after);
    let words = match cap(c, 3).to_ascii_lowercase().as_str() {
        "a" if h <= 12 => spoken_time_12h(h, m, false),
        "p" if h <= 12 => spoken_time_12h(h, m, true),
        _ if h == 0 || h >= 13 => spoken_time_12h(h, m, h >= 12),
        _ if m == 0 => format!("{} o'clock", words::cardinal(h.into())),
        _ => hour_minute(h, m),
    };
    Some(format!("{words}{dot}"))
}

fn currency(c: &Captures) -> Option<String> {
    let whole = words::parse_int(cap(c, 2))?;
    let frac = match cap(c, 3) {
        "" => 0,
        f if f.len() == 1 => f.parse::<u64>().ok()? * 10,
        f => f.parse::<u64>().ok()?,
    };
    let (one, many, sub_one, sub_many) = match cap(c, 1) {
        "$" => ("dollar", "dollars", "cent", "cents"),
        "£" => ("pound", "pounds", "penny", "pence"),
        _ => ("euro", "euros", "cent", "cents"),
    };
    let main = format!(
        "{} {}",
        words::cardinal(whole),
        if whole == 1 { one } else { many }
    );
    let sub = format!(
        "{} {}",
        words::cardinal(frac),
        if frac == 1 { sub_one } else { sub_many }
    );
    Some(match (whole, frac) {
        (_, 0) => main,
        (0, _) => sub,
        _ => format!("{main} and {sub}"),
    })
}

fn phone(c: &Captures) -> Option<String> {
    let m = cap(c, 0);
    let n_digits = m.chars().filter(char::is_ascii_digit).count();
    let plus = m.starts_with('+');
    let grouped = m.chars().any(|ch| !ch.is_ascii_digit() && ch != '+');
    let ok = if plus {
        (8..=15).contains(&n_digits)
    } else {
        (10..=15).contains(&n_digits)
    };
    if !ok || (grouped && !plus && m.split([' ', '.', '-']).count() < 3 && !m.contains('(')) {
        return None;
    }
    let mut groups: Vec<String> = m
        .split(|ch: char| !ch.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    if groups.len() == 1 {
        // One run of digits: NANP 3-3-4 (with a leading 1 for 11 digits), else 3s with a 4 at the end.
        let d = groups.remove(0);
        let mut sizes: Vec<usize> = match d.len() {
            10 => vec![3, 3, 4],
            11 if d.starts_with('1') => vec![1, 3, 3, 4],
            n => {
                let mut v = vec![3; n / 3];
                match n % 3 {
                    0 => {}
                    1 => {
                        if let Some(last) = v.last_mut() {
                            *last = 4;
                        }
                    }
                    r => v.push(r),
                }
                v
            }
        };
        sizes.retain(|&s| s > 0);
        let mut rest = d.as_str();
        for s in sizes {
            let (g, r) = rest.split_at(s.min(rest.len()));
            groups.push(g.to_string());
            rest = r;
        }
    }
    let spoken: Vec<String> = groups.iter().map(|g| words::digits(g)).collect();
    Some(format!(
        "{}{}",
        if plus { "plus " } else { "" },
        spoken.join(", ")
    ))
}

fn abbreviation(c: &Captures, before: &str, after: &str) -> Option<String> {
    let m = cap(c, 0);
    let next_cap = after
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_uppercase);
    let prev_word = before.split_whitespace().last().unwrap_or("");
    let prev_proper = prev_word
        .chars()
        .next()
        .is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit());
    let end = if after.trim().is_empty() { "." } else { "" };
    let word = match m.to_ascii_lowercase().as_str() {
        "e.g." => "for example",
        "i.e." => "that is",
        "etc." => "et cetera",
        "approx." => "approximately",
        "vs." => "versus",
        _ => match m {
            "Dr." if prev_proper && !next_cap => "Drive",
            "Dr." => "Doctor",
            "St." if next_cap && !prev_proper => "Saint",
            "St." => "Street",
            "Mr." => "Mister",
            "Mrs." => "Missus",
            "Ms." => "Miz",
            "Prof." => "Professor",
            "Mt." => "Mount",
            "Ave." => "Avenue",
            "Rd." => "Road",
            "Blvd." => "Boulevard",
            "Jr." => "Junior",
            "Sr." => "Senior",
            "Apt." => "Apartment",
            "Dept." => "Department",
            _ => return None,
        },
    };
    Some(format!("{word}{end}"))
}

fn symbols(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for &ch in &chars {
        let word = match ch {
            '&' => Some(" and "),
            '@' => Some(" at "),
            '=' => Some(" equals "),
            '+' => Some(" plus "),
            '%' => Some(" percent "),
            _ => None,
        };
        match word {
            Some(w) => out.push_str(w),
            None => out.push(ch),
        }
    }
    out
}

/// Rewrites `text` so a TTS voice reads it naturally (see the module docs for the rules).
/// `locale` selects date order (e.g. "en-US", "en-GB"); `tz` (IANA name) converts ISO
/// date-times that carry an offset. Never fails: unrecognised text is left as is.
pub fn normalize_for_speech(text: &str, locale: &str, tz: Option<&str>) -> String {
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    let df = day_first(locale);
    let tz: Option<chrono_tz::Tz> = tz.and_then(|t| t.parse().ok());
    let s = replace(&ISO, text, |c, _, _| iso(c, df, tz));
    let s = replace(&NUM_DATE, &s, |c, _, _| numeric_date(c, df));
    let s = replace(&CLOCK, &s, |c, _, a| clock(c, a));
    let s = replace(&AMPM, &s, |c, _, a| {
        let h: u32 = cap(c, 1).parse().ok()?;
        let pm = cap(c, 2).eq_ignore_ascii_case("p");
        let dot = final_period(c.get(3).is_some(), a);
        Some(format!("{}{dot}", spoken_time_12h(h, 0, pm)))
    });
    let s = replace(&CURRENCY, &s, |c, _, _| currency(c));
    let s = replace(&PHONE, &s, |c, _, _| phone(c));
    let s = replace(&PERCENT, &s, |c, _, _| {
        let n = cap(c, 1);
        let spoken = match n.split_once('.') {
            Some((i, f)) => format!("{} point {}", words::number(i), words::digits(f)),
            None => words::number(n),
        };
        Some(format!("{spoken} percent"))
    });
    let s = replace(&ORDINAL, &s, |c, _, _| {
        words::parse_int(cap(c, 1)).map(words::ordinal)
    });
    let s = HASH_NUMBER.replace_all(&s, "number $1");
    let s = replace(&DECIMAL, &s, |c, _, _| {
        Some(format!(
            "{} point {}",
            words::number(cap(c, 1)),
            words::digits(cap(c, 2))
        ))
    });
    let s = replace(&INTEGER, &s, |c, _, _| {
        let lead = cap(c, 1);
        let minus = if c.get(2).is_some() {
            if lead.is_empty() && c.get(0).is_some_and(|m| m.start() > 0) {
                "-" // a hyphen between words/numbers, not a sign
            } else {
                "minus "
            }
        } else {
            ""
        };
        Some(format!("{lead}{minus}{}", words::number(cap(c, 3))))
    });
    let s = replace(&ABBREV, &s, abbreviation);
    let s = symbols(&s);
    SPACES.replace_all(&s, " ").trim().to_string()
}

#[cfg(test)]
mod tests;
