//! System entities (`@sys.*`) in Dialogflow's value formats.
//!
//! Dates, times, numbers, durations, phone numbers, e-mails, URLs and money come from the
//! `duckling` crate (guarded: pre-checks, short windows, word boundaries, cache); names from US
//! Census lists with context cues; places, languages and colours from an embedded gazetteer.
//! See [`datetime`] for the date/time value conventions. Recogniser forms of times and dates
//! ("8.30pm", "10, M", "9 January", "twenty twenty-two") are rewritten first ([`spoken`]) and
//! matches mapped back to the user's words; spoken phone numbers are read by [`phone`].

mod calendar;
mod datetime;
mod duck;
mod gazetteer;
mod names;
mod phone;
mod rewrite;
mod spoken;
mod temporal;
#[cfg(test)]
mod tests;
mod windows;
mod words;

use crate::entities::phrase::longest_first;
use crate::entities::EntityMatch;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use duckling::{DimensionKind, DimensionValue, Entity, Grain, MeasurementValue};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// When the query happens and in which time zone relative dates resolve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SysContext {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl SysContext {
    /// A fixed instant (2017-06-01 12:00 UTC) in `tz`, for work whose outcome does not depend
    /// on the date (reading training phrases, ranking intents) and for reproducible runs: the
    /// NLU never reads the wall clock; a turn's time comes with its request.
    pub fn reference(tz: Tz) -> Self {
        SysContext {
            now: DateTime::from_timestamp(1_496_318_400, 0).unwrap_or_default(),
            tz,
        }
    }
}

/// System entity extractor; built once, shared by `Arc` across threads.
#[derive(Debug, Default)]
pub struct SysExtractor {
    /// Duckling results per (dimension, text, reference minute, zone): the same text is often
    /// asked about several times in one turn.
    cache: Mutex<HashMap<CacheKey, Arc<Vec<Entity>>>>,
    /// The date/time reading of the last text: one turn asks for it several times (templates,
    /// parameters, answers).
    last_temporal: Mutex<Option<(CacheKey, Arc<Temporal>)>>,
}

type CacheKey = (u8, String, i64, Tz);
const CACHE_MAX: usize = 2048;

/// Every `@sys.*` entity this extractor resolves.
pub const SUPPORTED: &[&str] = &[
    "@sys.date",
    "@sys.time",
    "@sys.date-time",
    "@sys.date-period",
    "@sys.time-period",
    "@sys.number",
    "@sys.number-integer",
    "@sys.cardinal",
    "@sys.ordinal",
    "@sys.duration",
    "@sys.phone-number",
    "@sys.email",
    "@sys.url",
    "@sys.person",
    "@sys.given-name",
    "@sys.last-name",
    "@sys.geo-country",
    "@sys.geo-city",
    "@sys.geo-state",
    "@sys.geo-city-us",
    "@sys.geo-state-us",
    "@sys.color",
    "@sys.language",
    "@sys.unit-currency",
    "@sys.any",
];

impl SysExtractor {
    pub fn new() -> Self {
        SysExtractor::default()
    }

    /// Whether `entity` (`@sys.date`, with or without `@`) is supported.
    pub fn supports(entity: &str) -> bool {
        let e = entity.trim_start_matches('@');
        SUPPORTED.iter().any(|s| &s[1..] == e)
    }

    /// All non-overlapping matches of each requested system entity type in `text` (byte
    /// offsets), sorted by start. `@sys.any` is only resolved by [`Self::resolve_answer`].
    pub fn extract(&self, text: &str, entities: &[&str], ctx: &SysContext) -> Vec<EntityMatch> {
        let mut out = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut temporal: Option<Arc<Temporal>> = None;
        for e in entities {
            let tag = format!("@{}", e.trim_start_matches('@'));
            if seen.contains(&tag) || !Self::supports(&tag) {
                continue;
            }
            let found = self.extract_one(text, &tag, ctx, &mut temporal);
            let spans: Vec<(usize, usize)> = found.iter().map(|(s, e, _)| (*s, *e)).collect();
            for i in longest_first(&spans) {
                if let Some((start, end, value)) = found.get(i) {
                    let original = text.get(*start..*end).unwrap_or_default().to_string();
                    out.push(EntityMatch {
                        start: *start,
                        end: *end,
                        entity: tag.clone(),
                        value: value.clone(),
                        original,
                    });
                }
            }
            seen.push(tag);
        }
        out.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        out
    }

    /// The value when the whole (trimmed) text answers a prompt for `entity`: the match covering
    /// most of the text ("tomorrow", "at ten", "it's Tanya"). For `@sys.any`, the whole text.
    pub fn resolve_answer(
        &self,
        text: &str,
        entity: &str,
        ctx: &SysContext,
    ) -> Option<EntityMatch> {
        let tag = format!("@{}", entity.trim_start_matches('@'));
        let trimmed = text.trim();
        let offset = text.len() - text.trim_start().len();
        if trimmed.is_empty() {
            return None;
        }
        if tag == "@sys.any" {
            let s = trimmed.to_string();
            return Some(EntityMatch {
                start: offset,
                end: offset + trimmed.len(),
                entity: tag,
                value: Value::String(s.clone()),
                original: s,
            });
        }
        let best = self
            .extract(text, &[tag.as_str()], ctx)
            .into_iter()
            .max_by_key(|m| (m.end - m.start, std::cmp::Reverse(m.start)));
        if best.is_some() {
            return best;
        }
        // Lenient readings of bare answers.
        match tag.as_str() {
            "@sys.person" | "@sys.given-name" | "@sys.last-name" => {
                let h = names::answer(text)?;
                let (s, e) = match tag.as_str() {
                    "@sys.given-name" => h.given.unwrap_or((h.start, h.end)),
                    "@sys.last-name" => h.last.or(h.given).unwrap_or((h.start, h.end)),
                    _ => (h.start, h.end),
                };
                let raw = names::display(text.get(s..e)?);
                let value = if tag == "@sys.person" {
                    json!({ "name": raw })
                } else {
                    Value::String(raw)
                };
                Some(EntityMatch {
                    start: s,
                    end: e,
                    entity: tag,
                    value,
                    original: text.get(s..e)?.to_string(),
                })
            }
            "@sys.time" | "@sys.date-time" => {
                // "ten", "7": a bare number answering a time prompt is an hour.
                let n = self
                    .extract(text, &["@sys.number-integer"], ctx)
                    .into_iter()
                    .next()?;
                let h = n.value.as_i64().filter(|h| (1..=12).contains(h))?;
                let at = temporal::bare_hour(h as u32, ctx)?;
                Some(EntityMatch {
                    value: at,
                    entity: tag,
                    ..n
                })
            }
            _ => None,
        }
    }

    fn extract_one(
        &self,
        text: &str,
        tag: &str,
        ctx: &SysContext,
        temporal: &mut Option<Arc<Temporal>>,
    ) -> Vec<(usize, usize, Value)> {
        match tag {
            "@sys.date" | "@sys.time" | "@sys.date-time" | "@sys.date-period"
            | "@sys.time-period" => {
                let t = temporal.get_or_insert_with(|| self.temporal(text, ctx));
                let (rewritten, hits) = (&t.0, &t.1);
                back_to_original(rewritten.as_ref(), temporal::values(hits, tag, ctx))
            }
            "@sys.number" | "@sys.number-integer" | "@sys.cardinal" => self.numbers(text, tag, ctx),
            "@sys.ordinal" => {
                let rw = spoken::ordinals(text);
                let read = rw.as_ref().map_or(text, |r| r.text.as_str());
                let found = self
                    .duck(read, DimensionKind::Ordinal, ctx)
                    .iter()
                    .filter_map(|e| match e.value {
                        DimensionValue::Ordinal(n) => Some((e.start, e.end, json!(n))),
                        _ => None,
                    })
                    .collect();
                back_to_original(rw.as_ref(), found)
            }
            "@sys.duration" => self
                .duck(text, DimensionKind::Duration, ctx)
                .iter()
                .filter_map(|e| match e.value {
                    DimensionValue::Duration { value, grain, .. } => {
                        duration(value, grain).map(|v| (e.start, e.end, v))
                    }
                    _ => None,
                })
                .collect(),
            "@sys.phone-number" => self
                .duck(text, DimensionKind::PhoneNumber, ctx)
                .iter()
                .filter_map(|e| match &e.value {
                    DimensionValue::PhoneNumber(p) => {
                        Some((e.start, e.end, json!(phone_digits(p))))
                    }
                    _ => None,
                })
                .chain(phone::spoken_phone(text))
                .collect(),
            "@sys.email" => self
                .duck(text, DimensionKind::Email, ctx)
                .iter()
                .filter_map(|e| match &e.value {
                    DimensionValue::Email(s) => Some((e.start, e.end, json!(s))),
                    _ => None,
                })
                .collect(),
            "@sys.url" => self
                .duck(text, DimensionKind::Url, ctx)
                .iter()
                .filter_map(|e| match &e.value {
                    DimensionValue::Url { value, .. }
                        if !value.contains('@') && !after_at(text, e.start) =>
                    {
                        Some((e.start, e.end, json!(value)))
                    }
                    _ => None,
                })
                .collect(),
            "@sys.unit-currency" => self
                .duck(text, DimensionKind::AmountOfMoney, ctx)
                .iter()
                .filter_map(|e| match &e.value {
                    DimensionValue::AmountOfMoney(MeasurementValue::Value { value, unit }) => {
                        Some((
                            e.start,
                            e.end,
                            json!({"amount": number_json(*value), "currency": unit}),
                        ))
                    }
                    _ => None,
                })
                .collect(),
            "@sys.person" | "@sys.given-name" | "@sys.last-name" => names::find(text)
                .into_iter()
                .filter_map(|h| {
                    let (s, e) = match tag {
                        "@sys.given-name" => h.given?,
                        "@sys.last-name" => h.last?,
                        _ => (h.start, h.end),
                    };
                    let raw = names::display(text.get(s..e)?);
                    let v = if tag == "@sys.person" {
                        json!({ "name": raw })
                    } else {
                        Value::String(raw)
                    };
                    Some((s, e, v))
                })
                .collect(),
            _ => match gazetteer::Kind::from_entity(tag) {
                Some(kind) => gazetteer::Gazetteer::get()
                    .find_text(text, kind)
                    .into_iter()
                    .map(|h| (h.start, h.end, Value::String(h.value.to_string())))
                    .collect(),
                None => Vec::new(),
            },
        }
    }

    fn numbers(&self, text: &str, tag: &str, ctx: &SysContext) -> Vec<(usize, usize, Value)> {
        self.duck(text, DimensionKind::Numeral, ctx)
            .iter()
            .filter_map(|e| {
                let DimensionValue::Numeral(n) = e.value else {
                    return None;
                };
                if !plausible_number(text, e) || (tag != "@sys.number" && n.fract() != 0.0) {
                    return None;
                }
                Some((e.start, e.end, number_json(n)))
            })
            .collect()
    }

    /// The recogniser forms of `text` rewritten and the date/time matches of the result.
    fn temporal(&self, text: &str, ctx: &SysContext) -> Arc<Temporal> {
        let key: CacheKey = (u8::MAX, text.to_string(), ctx.now.timestamp() / 60, ctx.tz);
        if let Ok(last) = self.last_temporal.lock() {
            if let Some((_, t)) = last.as_ref().filter(|(k, _)| *k == key) {
                return t.clone();
            }
        }
        let rw = spoken::temporal(text);
        let read = rw.as_ref().map_or(text, |r| r.text.as_str());
        let hits = temporal::hits(self, read, ctx);
        let t = Arc::new((rw, hits));
        if let Ok(mut last) = self.last_temporal.lock() {
            *last = Some((key, t.clone()));
        }
        t
    }

    /// Cached, pre-checked duckling parse of the whole text for one dimension.
    fn duck(&self, text: &str, dim: DimensionKind, ctx: &SysContext) -> Arc<Vec<Entity>> {
        if !duck::Precheck::of(text).allows(dim) {
            return Arc::new(Vec::new());
        }
        self.duck_raw(text, dim, ctx)
    }

    /// Cached duckling parse without the pre-check (the caller chose the span).
    fn duck_raw(&self, text: &str, dim: DimensionKind, ctx: &SysContext) -> Arc<Vec<Entity>> {
        let key: CacheKey = (
            dim as u8,
            text.to_string(),
            ctx.now.timestamp() / 60,
            ctx.tz,
        );
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let found = Arc::new(duck::parse(text, dim, &duck::context(ctx), false));
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_MAX {
                c.clear();
            }
            c.insert(key, found.clone());
        }
        found
    }
}

/// The rewritten text of the temporal types (if any rewrite) and its date/time matches, shared
/// by the temporal types asked for in one call.
type Temporal = (Option<rewrite::Rewritten>, Vec<temporal::TimeHit>);

/// Matches in a rewritten text, mapped to the original's offsets.
fn back_to_original(
    rw: Option<&rewrite::Rewritten>,
    found: Vec<(usize, usize, Value)>,
) -> Vec<(usize, usize, Value)> {
    match rw {
        None => found,
        Some(r) => found
            .into_iter()
            .map(|(s, e, v)| {
                let (s, e) = r.to_original(s, e);
                (s, e, v)
            })
            .collect(),
    }
}

/// Integers as JSON integers, others as floats.
fn number_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Drops duckling's nonsense numerals: single letters ("l" = 100000, "k", "m") and digits that
/// are part of a clock time, date or code ("10:00", "01/09/2022", "1.2.3").
fn plausible_number(text: &str, e: &Entity) -> bool {
    let body = text.get(e.start..e.end).unwrap_or_default();
    let has_digit = body.chars().any(|c| c.is_ascii_digit());
    let has_word = body
        .split(|c: char| !c.is_alphabetic())
        .any(|w| w.chars().count() >= 3);
    if !has_digit && !has_word {
        return false;
    }
    let before = text.get(..e.start).and_then(|s| s.chars().next_back());
    let after = text.get(e.end..).and_then(|s| s.chars().next());
    let glued = |c: Option<char>| matches!(c, Some(':' | '/' | '@' | '_'));
    !(glued(before) || glued(after))
}

/// Whether the span at `start` continues an e-mail address ("bob@example.com" is no URL).
fn after_at(text: &str, start: usize) -> bool {
    text.get(..start).is_some_and(|s| {
        s.rsplit(char::is_whitespace)
            .next()
            .is_some_and(|w| w.contains('@'))
    })
}

/// DF duration value; units s, min, h, day, wk, mo, yr.
fn duration(value: i64, grain: Grain) -> Option<Value> {
    let (amount, unit) = match grain {
        Grain::Second => (value, "s"),
        Grain::Minute => (value, "min"),
        Grain::Hour => (value, "h"),
        Grain::Day => (value, "day"),
        Grain::Week => (value, "wk"),
        Grain::Month => (value, "mo"),
        Grain::Quarter => (value.checked_mul(3)?, "mo"),
        Grain::Year => (value, "yr"),
        Grain::NoGrain => return None,
    };
    Some(json!({"amount": amount, "unit": unit}))
}

/// Phone number as digits, keeping a leading `+` ("(+1) 4153333333" → "+14153333333").
fn phone_digits(p: &str) -> String {
    let plus = p.trim_start().starts_with(['+', '(']) && p.contains('+');
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    if plus {
        format!("+{digits}")
    } else {
        digits
    }
}
