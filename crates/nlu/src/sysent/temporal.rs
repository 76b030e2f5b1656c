//! Date/time extraction: duckling on short windows, then DF values per requested entity type.

use super::datetime::{self, fix_hour, HourHints, Shape};
use super::windows::windows;
use super::{SysContext, SysExtractor};
use crate::text::tokenize;
use chrono::NaiveDate;
use duckling::{DimensionKind, DimensionValue, Grain, TimePoint, TimeValue};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub(crate) struct TimeHit {
    pub start: usize,
    pub end: usize,
    pub group: usize,
    pub shape: Shape,
    pub hints: HourHints,
    /// The phrase names a day (weekday, month, "tomorrow", "01/09") or an exact instant.
    pub explicit_date: bool,
    /// An exact moment ("in 2 hours", "now"): no am/pm guessing.
    pub instant: bool,
}

const DATE_WORDS: &[&str] = &["week", "weekend", "month", "year", "days", "day"];

fn names_a_day(body: &str) -> bool {
    let toks = tokenize(body);
    toks.iter().any(|t| {
        (super::calendar::is_day_name(&t.norm) || DATE_WORDS.contains(&t.norm.as_str()))
            || t.norm == "/"
            || (t.norm.chars().next().is_some_and(|c| c.is_ascii_digit())
                && (t.norm.ends_with("th")
                    || t.norm.ends_with("st")
                    || t.norm.ends_with("nd")
                    || t.norm.ends_with("rd")))
            || matches!(
                t.norm.as_str(),
                "first" | "second" | "third" | "fourth" | "fifth" | "tenth" | "twentieth"
            )
    })
}

/// Time matches in `text`: each candidate window parsed on its own.
pub(crate) fn hits(sys: &SysExtractor, text: &str, ctx: &SysContext) -> Vec<TimeHit> {
    let mut out = Vec::new();
    for w in windows(text) {
        let Some(body) = text.get(w.start..w.end) else {
            continue;
        };
        for e in sys.duck_raw(body, DimensionKind::Time, ctx).iter() {
            let DimensionValue::Time(tv) = &e.value else {
                continue;
            };
            let (start, end) = (w.start + e.start, w.start + e.end);
            let sub = text.get(start..end).unwrap_or_default();
            let instant = matches!(
                tv,
                TimeValue::Single {
                    value: TimePoint::Instant { .. },
                    ..
                }
            );
            out.push(TimeHit {
                start,
                end,
                group: w.group,
                shape: datetime::shape(tv, ctx.tz),
                hints: HourHints::of(sub),
                explicit_date: instant || names_a_day(sub),
                instant,
            });
        }
    }
    out
}

fn today(ctx: &SysContext) -> NaiveDate {
    ctx.now.with_timezone(&ctx.tz).date_naive()
}

/// A point with a time of day.
fn clock(h: &TimeHit) -> Option<chrono::NaiveDateTime> {
    match h.shape {
        Shape::Point { at, grain } if datetime::is_time_grain(grain) => Some(if h.instant {
            at
        } else {
            at.date().and_time(fix_hour(at.time(), h.hints))
        }),
        _ => None,
    }
}

/// A point that is a day.
fn day(h: &TimeHit) -> Option<NaiveDate> {
    match h.shape {
        Shape::Point {
            at,
            grain: Grain::Day,
        } => Some(at.date()),
        Shape::Point { at, grain } if datetime::is_time_grain(grain) && h.explicit_date => {
            Some(at.date())
        }
        _ => None,
    }
}

/// The date a time belongs to: said in its own phrase, else a day in the same window group,
/// else today.
fn date_for_time(h: &TimeHit, all: &[TimeHit], ctx: &SysContext) -> NaiveDate {
    if h.explicit_date {
        if let Some(c) = clock(h) {
            return c.date();
        }
    }
    all.iter()
        .filter(|o| o.group == h.group && !std::ptr::eq(*o, h))
        .find_map(|o| match o.shape {
            Shape::Point {
                at,
                grain: Grain::Day,
            } => Some(at.date()),
            _ => None,
        })
        .unwrap_or_else(|| today(ctx))
}

/// Values of one entity type from the hits.
pub(crate) fn values(hits: &[TimeHit], tag: &str, ctx: &SysContext) -> Vec<(usize, usize, Value)> {
    let tz = ctx.tz;
    let mut out = Vec::new();
    match tag {
        "@sys.date" => {
            for h in hits {
                if let Some(d) = day(h) {
                    out.push((h.start, h.end, datetime::date_value(d, tz)));
                }
            }
        }
        "@sys.time" => {
            for h in hits {
                if let Some(c) = clock(h) {
                    let d = date_for_time(h, hits, ctx);
                    out.push((h.start, h.end, datetime::time_value(d, c.time(), tz)));
                }
            }
        }
        "@sys.date-period" => {
            out.extend(
                hits.iter().filter_map(|h| {
                    datetime::period_value(&h.shape, tz).map(|v| (h.start, h.end, v))
                }),
            );
        }
        "@sys.time-period" => {
            out.extend(hits.iter().filter_map(|h| {
                datetime::time_period_value(&h.shape, tz).map(|v| (h.start, h.end, v))
            }));
        }
        "@sys.date-time" => {
            let mut used = vec![false; hits.len()];
            // A day and a clock time in one window group make one date-time ("tomorrow at 7pm").
            for (i, h) in hits.iter().enumerate() {
                let Some(c) = clock(h).filter(|_| !h.explicit_date) else {
                    continue;
                };
                let partner = hits.iter().enumerate().find(|(j, o)| {
                    !used[*j]
                        && *j != i
                        && o.group == h.group
                        && matches!(
                            o.shape,
                            Shape::Point {
                                grain: Grain::Day,
                                ..
                            }
                        )
                });
                if let Some((j, o)) = partner {
                    if let Some(d) = day(o) {
                        used[i] = true;
                        used[j] = true;
                        out.push((
                            h.start.min(o.start),
                            h.end.max(o.end),
                            datetime::time_value(d, c.time(), tz),
                        ));
                    }
                }
            }
            for (i, h) in hits.iter().enumerate() {
                if used[i] {
                    continue;
                }
                let v = if let Some(c) = clock(h) {
                    Some(datetime::time_value(
                        date_for_time(h, hits, ctx),
                        c.time(),
                        tz,
                    ))
                } else if let Some(d) = day(h) {
                    Some(datetime::date_value(d, tz))
                } else {
                    datetime::datetime_period_value(&h.shape, tz)
                        .or_else(|| datetime::period_value(&h.shape, tz))
                };
                if let Some(v) = v {
                    out.push((h.start, h.end, v));
                }
            }
        }
        _ => {}
    }
    out
}

/// A bare hour answering a time prompt ("ten" → 10:00 today, "7" → 19:00 today).
pub(crate) fn bare_hour(h: u32, ctx: &SysContext) -> Option<Value> {
    let t = chrono::NaiveTime::from_hms_opt(h, 0, 0)?;
    Some(datetime::time_value(
        today(ctx),
        fix_hour(t, HourHints::default()),
        ctx.tz,
    ))
}

/// Spoken digit sequences ("four one five three three three …", 7–15 digits) as phone numbers.
pub(crate) fn spoken_phone(text: &str) -> Vec<(usize, usize, Value)> {
    let digit = |w: &str| -> Option<&'static str> {
        Some(match w {
            "zero" | "oh" | "o" => "0",
            "one" => "1",
            "two" => "2",
            "three" => "3",
            "four" => "4",
            "five" => "5",
            "six" => "6",
            "seven" => "7",
            "eight" => "8",
            "nine" => "9",
            _ => return None,
        })
    };
    let toks = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (mut j, mut digits) = (i, String::new());
        while let Some(t) = toks.get(j) {
            if let Some(d) = digit(&t.norm) {
                digits.push_str(d);
            } else if t.norm == "-" || t.norm == "," {
                // separators inside the sequence
            } else if t.norm == "double" || t.norm == "triple" {
                let times = if t.norm == "double" { 2 } else { 3 };
                match toks.get(j + 1).and_then(|n| digit(&n.norm)) {
                    Some(d) => {
                        digits.push_str(&d.repeat(times));
                        j += 1;
                    }
                    None => break,
                }
            } else {
                break;
            }
            j += 1;
        }
        // Trailing separators are not part of the number.
        while j > i
            && toks.get(j - 1).is_some_and(|t| {
                digit(&t.norm).is_none() && t.norm != "double" && t.norm != "triple"
            })
        {
            j -= 1;
        }
        if (7..=15).contains(&digits.len()) && j > i {
            if let (Some(a), Some(b)) = (toks.get(i), toks.get(j - 1)) {
                out.push((a.start, b.end, json!(digits)));
            }
        }
        i = j.max(i + 1);
    }
    out
}
