//! The calendar vocabulary shared by the pre-check, the windowing and the date reading: names of
//! days, months and holidays.

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

/// Names a day: relative days, weekdays, months, holidays (full names and abbreviations).
pub(crate) fn is_day_name(w: &str) -> bool {
    [RELATIVE_DAYS, WEEKDAYS, MONTHS, HOLIDAYS]
        .iter()
        .any(|l| l.contains(&w))
}
