//! The three systems one evaluation run compares, each trained on the same split:
//!
//! - **engine**: the path `serve` runs. The training queries become a Dialogflow ES export
//!   ([`super::export`]), which is imported and trained by [`Engine::new`]; a test query gets
//!   what detectIntent would answer: the top-ranked intent if its confidence reaches the agent's
//!   `mlMinConfidence`, else the fallback intent, and that intent's parameters from
//!   [`Engine::extract`]. detectIntent returns parameter values, not spans, so slots are scored
//!   on `(parameter name, original text)` pairs — the span text the engine took for the value
//!   (`$param.original`) — against `(slot, annotated span text)`, case-insensitively, each gold
//!   pair matched at most once.
//! - **direct**: the classifier and one slot tagger per intent trained straight from the queries
//!   (the Snips benchmark's original setup); slots scored by exact span.
//! - **baseline**: TF-IDF + logistic regression ([`super::baseline`]), intents only.
//!
//! Every system also gets an "in scope" accuracy (correct and confident enough not to fall
//! back) and, given out-of-domain queries, the OOS recall (share that falls back), all with the
//! same threshold (the export's `mlMinConfidence`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use super::baseline::{argmax, TfidfLr};
use super::export::{write_export, ExportOptions};
use super::report::{quantile, SlotCounts};
use super::split::Labelled;
use crate::classifier::{Gazetteers, IntentClassifier};
use crate::engine::Engine;
use crate::sysent::SysContext;
use crate::tagger::{SlotTagger, TaggedExample};
use crate::NluError;

/// Scores of one system on one split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// Top-1 intent accuracy (no threshold).
    pub accuracy: f64,
    /// Correct and at or above the threshold (the engine path: what detectIntent answers).
    pub in_scope: f64,
    /// Share of out-of-domain queries below the threshold (`None` without OOS queries).
    pub oos_recall: Option<f64>,
    /// `None` for systems without slots or data without annotations.
    pub slots: Option<SlotFigures>,
    /// Wall-clock training time (the engine path: export import + `Engine::new`), s.
    pub train_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SlotFigures {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub f1_macro: f64,
}

fn slot_figures(c: &SlotCounts) -> SlotFigures {
    let (_, (precision, recall, f1), f1_macro) = c.scores();
    SlotFigures {
        precision,
        recall,
        f1,
        f1_macro,
    }
}

fn has_slots(data: &Labelled) -> bool {
    data.iter()
        .any(|(_, qs)| qs.iter().any(|q| !q.spans.is_empty()))
}

/// Fixed reference time (2017-06-01 12:00 UTC), so runs are reproducible.
pub(crate) fn fixed_ctx() -> SysContext {
    SysContext::reference(chrono_tz::UTC)
}

/// Accumulates intent decisions, latencies and OOS decisions.
#[derive(Default)]
struct Tally {
    n: usize,
    correct: usize,
    confident_correct: usize,
    lat: Vec<f64>,
    oos_n: usize,
    oos_fallback: usize,
}

impl Tally {
    fn finish(mut self, slots: Option<SlotFigures>, train_s: f64) -> Scores {
        self.lat.sort_by(f64::total_cmp);
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Scores {
            accuracy: share(self.correct, self.n),
            in_scope: share(self.confident_correct, self.n),
            oos_recall: (self.oos_n > 0).then(|| share(self.oos_fallback, self.oos_n)),
            slots,
            train_s,
            p50_us: quantile(&self.lat, 0.5),
            p99_us: quantile(&self.lat, 0.99),
        }
    }
}

/// A unique scratch folder for one export (removed on drop).
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Result<Scratch, NluError> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sb-eval-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).map_err(|source| NluError::Io {
            path: p.display().to_string(),
            source,
        })?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn value_pairs(v: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, val) in v {
        match val {
            serde_json::Value::Array(a) => out.extend(
                a.iter()
                    .filter_map(|x| x.as_str())
                    .map(|s| (k.clone(), s.trim().to_lowercase())),
            ),
            serde_json::Value::String(s) if !s.trim().is_empty() => {
                out.push((k.clone(), s.trim().to_lowercase()))
            }
            _ => {}
        }
    }
    out
}

/// The engine path: export → import → [`Engine::new`] → what detectIntent answers.
pub fn engine_path(
    train: &Labelled,
    test: &Labelled,
    oos: &[String],
    opts: &ExportOptions,
) -> Result<Scores, NluError> {
    let scratch = Scratch::new("export")?;
    write_export(&scratch.0, train, opts)?;
    let t0 = Instant::now();
    let engine = Engine::load(&scratch.0)?;
    let train_s = t0.elapsed().as_secs_f64();
    let threshold = engine.agent.ml_min_confidence;
    let ctx = fixed_ctx();
    let active = HashSet::new();
    // The intent detectIntent answers: (intent name, confident?).
    let decide = |text: &str| -> (Option<usize>, bool) {
        let ranked = engine.rank(text, &active, &ctx);
        let top = ranked.iter().find(|s| !engine.intent(s.intent).is_fallback);
        match top {
            Some(s) => (Some(s.intent), s.confidence >= threshold),
            None => (None, false),
        }
    };
    let mut t = Tally::default();
    let mut counts = SlotCounts::default();
    for (gold, qs) in test {
        for q in qs {
            let start = Instant::now();
            let (pred, confident) = decide(&q.text);
            let params = match pred {
                Some(i) if confident => value_pairs(&engine.extract(i, &q.text, &ctx).originals),
                _ => Vec::new(),
            };
            t.lat.push(start.elapsed().as_secs_f64() * 1e6);
            let ok = pred.is_some_and(|i| engine.intent(i).name == *gold);
            t.n += 1;
            t.correct += usize::from(ok);
            t.confident_correct += usize::from(ok && confident);
            let gold_pairs: Vec<(String, String)> = q
                .spans
                .iter()
                .filter_map(|s| {
                    let v = q.text.get(s.start..s.end)?;
                    Some((s.slot.clone(), v.trim().to_lowercase()))
                })
                .collect();
            counts.add_pairs(&gold_pairs, &params);
        }
    }
    for text in oos {
        t.oos_n += 1;
        t.oos_fallback += usize::from(!decide(text).1);
    }
    let slots = has_slots(train).then(|| slot_figures(&counts));
    Ok(t.finish(slots, train_s))
}

/// Gazetteers for intent `skip`'s tagger: slot name → values annotated in the other intents.
fn cross_gazetteers(data: &Labelled, skip: usize) -> Vec<(String, Vec<String>)> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, (_, train)) in data.iter().enumerate() {
        if i == skip {
            continue;
        }
        for q in train {
            for s in &q.spans {
                if let Some(v) = q.text.get(s.start..s.end) {
                    map.entry(s.slot.clone()).or_default().push(v.to_string());
                }
            }
        }
    }
    map.into_iter().collect()
}

/// Classifier gazetteers: every slot value annotated in the training queries, per slot name.
fn classifier_gazetteers(data: &Labelled) -> Gazetteers {
    let mut g = Gazetteers::new();
    for (_, train) in data {
        for q in train {
            for s in &q.spans {
                if let Some(v) = q.text.get(s.start..s.end) {
                    g.add_annotated(&s.slot, v);
                }
            }
        }
    }
    g
}

/// Trains the direct path: one joint classifier (with the annotated values as entity lists when
/// `gazetteers`) and one tagger per intent, the taggers on two threads beside the classifier.
pub(crate) fn train_direct(
    train: &Labelled,
    gazetteers: bool,
    hints: &(dyn Fn(&str) -> Vec<crate::entities::EntityMatch> + Sync),
) -> Result<(IntentClassifier, Vec<SlotTagger>), NluError> {
    let mut cls_examples = Vec::new();
    for (i, (_, qs)) in train.iter().enumerate() {
        cls_examples.extend(qs.iter().map(|q| (q.text.clone(), i)));
    }
    let n_intents = train.len();
    let slots: Vec<Mutex<Option<Result<SlotTagger, NluError>>>> =
        (0..n_intents).map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    let classifier = std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = {
                    let Ok(mut g) = next.lock() else { return };
                    let i = *g;
                    *g += 1;
                    i
                };
                let Some((_, qs)) = train.get(i) else {
                    return;
                };
                let examples: Vec<TaggedExample> = qs
                    .iter()
                    .map(|q| TaggedExample {
                        text: q.text.clone(),
                        spans: q.spans.clone(),
                        hints: hints(&q.text),
                    })
                    .collect();
                let tagger = SlotTagger::train(&examples, &cross_gazetteers(train, i));
                if let Some(slot) = slots.get(i) {
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(tagger);
                    }
                }
            });
        }
        if gazetteers {
            IntentClassifier::train_with(&cls_examples, n_intents, &classifier_gazetteers(train))
        } else {
            IntentClassifier::train(&cls_examples, n_intents)
        }
    })?;
    let mut taggers = Vec::with_capacity(n_intents);
    for s in slots {
        let t = s
            .into_inner()
            .ok()
            .flatten()
            .ok_or_else(|| NluError::Other("tagger training thread failed".into()))?;
        taggers.push(t?);
    }
    Ok((classifier, taggers))
}

/// The direct path (classifier + per-intent taggers trained from the queries).
pub fn direct_path(
    train: &Labelled,
    test: &Labelled,
    oos: &[String],
    threshold: f32,
) -> Result<Scores, NluError> {
    let t0 = Instant::now();
    let (classifier, taggers) = if has_slots(train) {
        train_direct(train, true, &|_| Vec::new())?
    } else {
        let mut ex = Vec::new();
        for (i, (_, qs)) in train.iter().enumerate() {
            ex.extend(qs.iter().map(|q| (q.text.clone(), i)));
        }
        (IntentClassifier::train(&ex, train.len())?, Vec::new())
    };
    let train_s = t0.elapsed().as_secs_f64();
    let mut t = Tally::default();
    let mut counts = SlotCounts::default();
    for (gold, (_, qs)) in test.iter().enumerate() {
        for q in qs {
            let start = Instant::now();
            let probs = classifier.predict(&q.text);
            let pred = argmax(&probs);
            let spans = taggers
                .get(pred)
                .map(|tg| tg.tag(&q.text, &[]))
                .unwrap_or_default();
            t.lat.push(start.elapsed().as_secs_f64() * 1e6);
            let confident = probs.get(pred).is_some_and(|p| *p >= threshold);
            t.n += 1;
            t.correct += usize::from(pred == gold);
            t.confident_correct += usize::from(pred == gold && confident);
            counts.add(&q.spans, &spans);
        }
    }
    for text in oos {
        let probs = classifier.predict(text);
        t.oos_n += 1;
        t.oos_fallback += usize::from(probs.get(argmax(&probs)).is_none_or(|p| *p < threshold));
    }
    let slots = has_slots(train).then(|| slot_figures(&counts));
    Ok(t.finish(slots, train_s))
}

/// The TF-IDF + logistic regression baseline (intents only).
pub fn baseline_path(train: &Labelled, test: &Labelled, oos: &[String], threshold: f32) -> Scores {
    let t0 = Instant::now();
    let mut ex = Vec::new();
    for (i, (_, qs)) in train.iter().enumerate() {
        ex.extend(qs.iter().map(|q| (q.text.clone(), i)));
    }
    let model = TfidfLr::train(&ex, train.len());
    let train_s = t0.elapsed().as_secs_f64();
    let mut t = Tally::default();
    for (gold, (_, qs)) in test.iter().enumerate() {
        for q in qs {
            let start = Instant::now();
            let p = model.predict(&q.text);
            let pred = argmax(&p);
            t.lat.push(start.elapsed().as_secs_f64() * 1e6);
            let confident = p.get(pred).is_some_and(|v| *v >= f64::from(threshold));
            t.n += 1;
            t.correct += usize::from(pred == gold);
            t.confident_correct += usize::from(pred == gold && confident);
        }
    }
    for text in oos {
        let p = model.predict(text);
        t.oos_n += 1;
        t.oos_fallback += usize::from(p.get(argmax(&p)).is_none_or(|v| *v < f64::from(threshold)));
    }
    t.finish(None, train_s)
}
