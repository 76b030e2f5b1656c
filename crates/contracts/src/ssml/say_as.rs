//! `<say-as>` values as words. A value that does not read as its kind is kept as written (the
//! TTS normaliser then reads it like any text).

use crate::normalize::{cardinal, normalize_for_speech, ordinal, year};

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

/// The words for `value` read as `kind` (`interpret-as`), with `format` for dates.
pub(super) fn words(kind: &str, format: Option<&str>, value: &str) -> String {
    let v = value.trim();
    let read = match kind {
        "characters" | "spell-out" | "verbatim" | "letters" => Some(characters(v)),
        "cardinal" | "number" => number(v),
        "ordinal" => digits_only(v).and_then(|n| n.parse().ok()).map(ordinal),
        "digits" => digits_only(v).map(|d| digit_words(&d)),
        "date" => date(v, format),
        "time" => Some(normalize_for_speech(v, "en-US", None)),
        "telephone" => telephone(v),
        _ => None,
    };
    read.unwrap_or_else(|| v.to_string())
}

/// Letters one by one (capitals, so each is said as a letter), digits as words.
fn characters(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match c.to_digit(10) {
            Some(d) => cardinal(d.into()),
            None => c.to_uppercase().collect(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn digits_only(v: &str) -> Option<String> {
    let d: String = v.chars().filter(|c| *c != ',').collect();
    (!d.is_empty() && d.len() <= 18 && d.chars().all(|c| c.is_ascii_digit())).then_some(d)
}

fn digit_words(d: &str) -> String {
    d.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|n| cardinal(n.into()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "-12.5" → "minus twelve point five", "1,234" → "one thousand two hundred thirty-four".
fn number(v: &str) -> Option<String> {
    let (sign, rest) = match v.strip_prefix('-') {
        Some(r) => ("minus ", r),
        None => ("", v),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let int = digits_only(int)?;
    let mut out = format!("{sign}{}", cardinal(int.parse().ok()?));
    if let Some(f) = frac {
        if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.push_str(" point ");
        out.push_str(&digit_words(f));
    }
    Some(out)
}

/// A date in the order `format` gives (`ymd` when absent and the first field has four digits,
/// else `mdy`): "January ninth, twenty twenty-two", "January ninth", "January twenty twenty-two".
fn date(v: &str, format: Option<&str>) -> Option<String> {
    let fields: Vec<&str> = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|f| !f.is_empty())
        .collect();
    let format = match format.map(str::to_ascii_lowercase) {
        Some(f) if !f.is_empty() => f,
        _ if fields.first().is_some_and(|f| f.len() == 4) => "ymd".to_string(),
        _ => "mdy".to_string(),
    };
    if fields.len() != format.len() || fields.iter().any(|f| f.len() > 4) {
        return None;
    }
    let (mut y, mut m, mut d) = (None, None, None);
    for (k, f) in format.chars().zip(&fields) {
        let n: u64 = f.parse().ok()?;
        match k {
            'y' => y = Some(if f.len() == 2 { 2000 + n } else { n }),
            'm' => m = Some(n),
            'd' => d = Some(n),
            _ => return None,
        }
    }
    let month = match m {
        Some(m) => Some(*MONTHS.get(usize::try_from(m).ok()?.checked_sub(1)?)?),
        None => None,
    };
    if d.is_some_and(|d| !(1..=31).contains(&d)) {
        return None;
    }
    let parts: Vec<String> = match (month, d, y) {
        (Some(m), Some(d), Some(y)) => vec![format!("{m} {},", ordinal(d)), year(y)],
        (Some(m), Some(d), None) => vec![m.to_string(), ordinal(d)],
        (Some(m), None, Some(y)) => vec![m.to_string(), year(y)],
        (None, Some(d), None) => vec![format!("the {}", ordinal(d))],
        (Some(m), None, None) => vec![m.to_string()],
        (None, None, Some(y)) => vec![year(y)],
        _ => return None,
    };
    Some(parts.join(" "))
}

/// Digits one by one, groups (as written) separated by commas; a leading `+` is "plus".
fn telephone(v: &str) -> Option<String> {
    let mut groups: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            groups.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    if groups.is_empty() {
        return None;
    }
    let spoken = groups
        .iter()
        .map(|g| digit_words(g))
        .collect::<Vec<_>>()
        .join(", ");
    Some(if v.trim_start().starts_with('+') {
        format!("plus {spoken}")
    } else {
        spoken
    })
}
