//! Dialogflow ES values for `@sys.date`, `@sys.time`, `@sys.date-time`, `@sys.date-period` and
//! `@sys.time-period` from duckling time values.
//!
//! Conventions (documented for webhook authors):
//! - dates are ISO date-times at 12:00 in the agent's time zone, offset of that date (`+00:00`, never `Z`);
//! - times carry a real date: the date said in the same phrase ("10 am on 01/09/2022" → that
//!   date), else today in the agent's time zone — as Dialogflow does — even when that hour has passed;
//! - an hour said without am/pm ("at 4", "half past seven", "7 o'clock") is read as business
//!   hours: 1–7 → afternoon/evening (16:00, 19:30), 8–11 → morning, 12 → noon; with "tonight" or
//!   "evening" beside it ("tonight at 8") → evening; 24-hour forms are kept;
//! - periods are `{"startDate","endDate"}` (00:00:00 … 23:59:59) or `{"startDateTime","endDateTime"}`
//!   / `{"startTime","endTime"}`; a date-time that is only a date is that date at 12:00.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use duckling::{Grain, TimePoint, TimeValue};
use serde_json::{json, Value};

/// A duckling time match reduced to local wall-clock terms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Point {
        at: NaiveDateTime,
        grain: Grain,
    },
    Interval {
        from: Option<(NaiveDateTime, Grain)>,
        to: Option<(NaiveDateTime, Grain)>,
    },
}

fn local_point(p: &TimePoint, tz: Tz) -> (NaiveDateTime, Grain) {
    match p {
        TimePoint::Naive { value, grain } => (*value, *grain),
        TimePoint::Instant { value, grain } => (value.with_timezone(&tz).naive_local(), *grain),
    }
}

pub(crate) fn shape(v: &TimeValue, tz: Tz) -> Shape {
    match v {
        TimeValue::Single { value, .. } => {
            let (at, grain) = local_point(value, tz);
            Shape::Point { at, grain }
        }
        TimeValue::Interval { from, to, .. } => Shape::Interval {
            from: from.as_ref().map(|p| local_point(p, tz)),
            to: to.as_ref().map(|p| local_point(p, tz)),
        },
    }
}

pub(crate) fn is_time_grain(g: Grain) -> bool {
    matches!(
        g,
        Grain::NoGrain | Grain::Second | Grain::Minute | Grain::Hour
    )
}

/// ISO string of a local wall-clock time in `tz` (DST gaps move forward by the gap).
pub(crate) fn fmt_local(dt: NaiveDateTime, tz: Tz) -> String {
    let resolved = tz.from_local_datetime(&dt).earliest().or_else(|| {
        tz.from_local_datetime(&(dt + Duration::hours(1)))
            .earliest()
    });
    match resolved {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

pub(crate) fn date_value(d: NaiveDate, tz: Tz) -> Value {
    Value::String(fmt_local(
        d.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()),
        tz,
    ))
}

fn day_start(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

fn day_end(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
}

/// How the words of a phrase constrain the hour.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HourHints {
    /// am/pm, noon, midnight, morning, evening, tonight…
    pub meridiem: bool,
    /// "13:00", "08:30": a 24-hour clock.
    pub clock24: bool,
    /// "tonight", "evening" said with the time: an hour without am/pm is after noon.
    pub evening: bool,
}

impl HourHints {
    pub fn of(body: &str) -> HourHints {
        let lower = body.to_lowercase();
        let meridiem = [
            "am",
            "pm",
            "a.m",
            "p.m",
            "noon",
            "midnight",
            "midday",
            "morning",
            "afternoon",
            "evening",
            "night",
            "tonight",
        ]
        .iter()
        .any(|m| {
            crate::text::tokenize(&lower).iter().any(|t| {
                t.norm == *m
                    || t.norm.ends_with(m) && t.norm.starts_with(|c: char| c.is_ascii_digit())
            })
        });
        let clock24 = lower
            .split(|c: char| !c.is_ascii_digit() && c != ':')
            .any(|w| {
                let mut parts = w.split(':');
                match (parts.next(), parts.next()) {
                    (Some(h), Some(m)) if !h.is_empty() && m.len() == 2 => {
                        h.starts_with('0') || h.parse::<u32>().is_ok_and(|h| h >= 13)
                    }
                    _ => false,
                }
            });
        HourHints {
            meridiem,
            clock24,
            evening: false,
        }
    }
}

/// Business-hours reading of an hour said without am/pm.
pub(crate) fn fix_hour(t: NaiveTime, hints: HourHints) -> NaiveTime {
    // "quarter to 10 am evening": a recogniser's "am" for "in"; nobody dines at 9:45 in the
    // morning of an evening. The day part wins over a morning hour from 5 on (1–4 am stays:
    // "1 am tonight" is after midnight).
    if hints.evening && !hints.clock24 && (5..12).contains(&t.hour()) {
        return t.with_hour(t.hour() + 12).unwrap_or(t);
    }
    if hints.meridiem || hints.clock24 {
        return t;
    }
    let h12 = t.hour() % 12;
    let h = match h12 {
        0 => 12,
        1..=11 if hints.evening => h12 + 12,
        1..=7 => h12 + 12,
        _ => h12,
    };
    t.with_hour(h).unwrap_or(t)
}

pub(crate) fn time_value(d: NaiveDate, t: NaiveTime, tz: Tz) -> Value {
    Value::String(fmt_local(d.and_time(t), tz))
}

/// Start and inclusive end of the grain period containing `at` (week starts Monday).
fn grain_period(at: NaiveDateTime, grain: Grain) -> (NaiveDate, NaiveDate) {
    let d = at.date();
    match grain {
        Grain::Week => {
            let start = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
            (start, start + Duration::days(6))
        }
        Grain::Month => (d.with_day(1).unwrap_or(d), last_of_month(d)),
        Grain::Quarter => {
            let m0 = (d.month0() / 3) * 3 + 1;
            let start = NaiveDate::from_ymd_opt(d.year(), m0, 1).unwrap_or(d);
            let end_month = NaiveDate::from_ymd_opt(d.year(), m0 + 2, 1).unwrap_or(d);
            (start, last_of_month(end_month))
        }
        Grain::Year => (
            NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
            NaiveDate::from_ymd_opt(d.year(), 12, 31).unwrap_or(d),
        ),
        _ => (d, d),
    }
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .map(|n| n - Duration::days(1))
        .unwrap_or(d)
}

/// Inclusive end of an interval whose duckling end is exclusive by one unit of its grain.
fn inclusive_end(to: NaiveDateTime, grain: Grain) -> NaiveDateTime {
    let step = match grain {
        Grain::Second | Grain::NoGrain => Duration::seconds(1),
        Grain::Minute => Duration::minutes(1),
        Grain::Hour => Duration::hours(1),
        _ => Duration::days(1),
    };
    to.checked_sub_signed(step).unwrap_or(to)
}

pub(crate) fn date_period(start: NaiveDate, end: NaiveDate, tz: Tz) -> Value {
    json!({"startDate": fmt_local(day_start(start), tz), "endDate": fmt_local(day_end(end), tz)})
}

/// `@sys.date-period` / date part of `@sys.date-time` for periods.
pub(crate) fn period_value(s: &Shape, tz: Tz) -> Option<Value> {
    match s {
        Shape::Point { at, grain }
            if matches!(
                grain,
                Grain::Week | Grain::Month | Grain::Quarter | Grain::Year
            ) =>
        {
            let (a, b) = grain_period(*at, *grain);
            Some(date_period(a, b, tz))
        }
        Shape::Interval {
            from: Some((f, fg)),
            to: Some((t, tg)),
        } if !is_time_grain(*fg) && !is_time_grain(*tg) => {
            Some(date_period(f.date(), inclusive_end(*t, *tg).date(), tz))
        }
        _ => None,
    }
}

/// `@sys.time-period`: an interval within a day.
pub(crate) fn time_period_value(s: &Shape, tz: Tz) -> Option<Value> {
    match s {
        Shape::Interval {
            from: Some((f, fg)),
            to: Some((t, tg)),
        } if is_time_grain(*fg) && is_time_grain(*tg) => {
            let end = inclusive_end(*t, *tg);
            Some(json!({"startTime": fmt_local(*f, tz), "endTime": fmt_local(end, tz)}))
        }
        _ => None,
    }
}

/// `@sys.date-time` for intervals with a time of day.
pub(crate) fn datetime_period_value(s: &Shape, tz: Tz) -> Option<Value> {
    match s {
        Shape::Interval {
            from: Some((f, fg)),
            to: Some((t, tg)),
        } if is_time_grain(*fg) || is_time_grain(*tg) => {
            let end = inclusive_end(*t, *tg);
            Some(json!({"startDateTime": fmt_local(*f, tz), "endDateTime": fmt_local(end, tz)}))
        }
        Shape::Interval {
            from: Some((f, _)),
            to: None,
        } => Some(Value::String(fmt_local(*f, tz))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_zone_offsets() {
        let d = NaiveDate::from_ymd_opt(2022, 1, 9).unwrap();
        assert_eq!(
            date_value(d, chrono_tz::UTC),
            json!("2022-01-09T12:00:00+00:00")
        );
        assert_eq!(
            date_value(d, chrono_tz::America::Los_Angeles),
            json!("2022-01-09T12:00:00-08:00")
        );
        let summer = NaiveDate::from_ymd_opt(2022, 7, 9).unwrap();
        assert_eq!(
            date_value(summer, chrono_tz::America::Los_Angeles),
            json!("2022-07-09T12:00:00-07:00")
        );
    }

    #[test]
    fn business_hours_for_bare_hours() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let none = HourHints::default();
        assert_eq!(fix_hour(t(22), none), t(10));
        assert_eq!(fix_hour(t(4), none), t(16));
        assert_eq!(fix_hour(t(4), HourHints::of("4 am")), t(4));
        assert!(
            HourHints::of("13:00").clock24
                && HourHints::of("08:30").clock24
                && !HourHints::of("8:30").clock24
        );
        assert!(HourHints::of("at 4pm").meridiem && !HourHints::of("at 4").meridiem);
    }

    #[test]
    fn grain_periods() {
        let at = NaiveDate::from_ymd_opt(2022, 1, 10)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let s = Shape::Point {
            at,
            grain: Grain::Week,
        };
        assert_eq!(
            period_value(&s, chrono_tz::UTC),
            Some(
                json!({"startDate": "2022-01-10T00:00:00+00:00", "endDate": "2022-01-16T23:59:59+00:00"})
            )
        );
    }
}
