//! The calendar vocabulary shared by the pre-check, the windowing and the date reading: names of
//! days, months and holidays, and the ordinal words of days of the month.

const RELATIVE_DAYS: &[&str] = &["today", "tomorrow", "tonight", "yesterday"];
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];
const HOLIDAYS: &[&str] = &["christmas", "easter", "thanksgiving", "halloween"];

/// A month's name or abbreviation ("january", "jan", "sept").
pub(crate) fn is_month(w: &str) -> bool {
    MONTHS.contains(&w)
}

/// A weekday or a relative day ("friday", "fri", "tomorrow", "tonight").
pub(crate) fn is_weekday_or_relative(w: &str) -> bool {
    WEEKDAYS.contains(&w) || RELATIVE_DAYS.contains(&w)
}

/// Names a day: relative days, weekdays, months, holidays (full names and abbreviations).
pub(crate) fn is_day_name(w: &str) -> bool {
    [RELATIVE_DAYS, WEEKDAYS, MONTHS, HOLIDAYS]
        .iter()
        .any(|l| l.contains(&w))
}

/// Ordinal words of a day of the month, "first" to "thirtieth" (compounds such as
/// "twenty-first" are split at the hyphen by their readers).
const DAY_ORDINALS: &[&str] = &[
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
];

/// Whether `w` (lower-case) is a day-of-month ordinal word ("ninth", "twentieth").
pub(crate) fn is_day_ordinal(w: &str) -> bool {
    DAY_ORDINALS.contains(&w)
}

/// The number of a day ordinal word: "ninth" → 9, "twentieth" → 20, "thirtieth" → 30.
pub(crate) fn day_ordinal_value(w: &str) -> Option<u32> {
    let i = DAY_ORDINALS.iter().position(|o| *o == w)?;
    Some(match i {
        20 => 30,
        i => i as u32 + 1,
    })
}
