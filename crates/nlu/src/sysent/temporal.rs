//! Date/time extraction: duckling on short windows, then DF values per requested entity type.

use super::datetime::{self, fix_hour, HourHints, Shape};
use super::windows::windows;
use super::{SysContext, SysExtractor};
use crate::text::tokenize;
use chrono::NaiveDate;
use duckling::{DimensionKind, DimensionValue, Grain, TimePoint, TimeValue};
use serde_json::Value;

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
    let wins = windows(text);
    // "tonight at 8", "tomorrow evening at 7.30": the day part said beside a time sets its half.
    let evening_groups: Vec<usize> = wins
        .iter()
        .filter(|w| {
            tokenize(text.get(w.start..w.end).unwrap_or_default())
                .iter()
                .any(|t| matches!(t.norm.as_str(), "tonight" | "evening" | "night"))
        })
        .map(|w| w.group)
        .collect();
    for w in wins {
        let Some(body) = text.get(w.start..w.end) else {
            continue;
        };
        for e in sys.duck_raw(body, DimensionKind::Time, ctx).iter() {
            let DimensionValue::Time(tv) = &e.value else {
                continue;
            };
            let (start, end) = (w.start + e.start, w.start + e.end);
            let sub = text.get(start..end).unwrap_or_default();
            // "1.30" left as written by the rewrite had no time cue: a number ("it costs 1.30").
            if is_decimal(sub) {
                continue;
            }
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
                hints: HourHints {
                    evening: evening_groups.contains(&w.group),
                    ..HourHints::of(sub)
                },
                explicit_date: instant || names_a_day(sub),
                instant,
            });
        }
    }
    out
}

/// "1.30", "12.45": digits, one dot, two digits.
fn is_decimal(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        (1..=2).contains(&a.len())
            && b.len() == 2
            && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
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

/// A part of a named day ("tonight", "tomorrow night", "Friday evening"): that day.
fn day_part(h: &TimeHit) -> Option<NaiveDate> {
    match h.shape {
        Shape::Interval {
            from: Some((f, fg)),
            to: Some((t, _)),
        } if h.explicit_date
            && datetime::is_time_grain(fg)
            && (t.date() == f.date() || t.date() == f.date().succ_opt()?) =>
        {
            Some(f.date())
        }
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
            _ => day_part(o),
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
                if let Some(d) = day(h).or_else(|| day_part(h)) {
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
                        && (matches!(
                            o.shape,
                            Shape::Point {
                                grain: Grain::Day,
                                ..
                            }
                        ) || day_part(o).is_some())
                });
                if let Some((j, o)) = partner {
                    if let Some(d) = day(o).or_else(|| day_part(o)) {
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
