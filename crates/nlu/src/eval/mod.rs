//! NLU evaluation. [`run`] is the measurement to quote: the path `serve` runs (the training data
//! as a Dialogflow ES export, imported and trained by the engine) beside the direct path and a
//! TF-IDF + logistic-regression baseline, on seeded splits (see [`paths`] for the scoring).
//!
//! [`run_snips`] is the older fixed benchmark (first `train_per_intent` queries), kept as a
//! regression guard of the direct path: one joint intent classifier over all intents, trained on the first `train_per_intent` queries
//! of each `train_<Intent>.json`; one slot tagger per intent on the same queries (with the slot
//! values annotated in the *other* intents' training queries as gazetteers, as an agent's entity
//! types are shared by its intents). The classifier gets every annotated slot value as an entity
//! list (see [`crate::classifier::Gazetteers`]). Every `validate_<Intent>.json` query is parsed: the tagger
//! of the predicted intent produces the slots, scored by exact span and slot name.

pub mod baseline;
mod dataset;
pub mod export;
pub mod paths;
mod report;
pub mod run;
pub mod split;

use std::path::PathBuf;
use std::time::Instant;

pub use dataset::{load, parse_file, Dataset, Query};
use report::{quantile, SlotCounts};
pub use report::{EvalReport, IntentScore, Misclassified, SlotScore};
pub use run::{run, RunConfig, RunReport};

use crate::entities::EntityMatch;
use crate::sysent::{SysContext, SysExtractor};
use crate::NluError;

#[derive(Debug, Clone)]
pub struct EvalConfig {
    pub dataset_dir: PathBuf,
    pub train_per_intent: usize,
}

/// Variants of the benchmark run.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Give the classifier the annotated slot values as entity lists (`ENT:<slot>` features).
    pub classifier_gazetteers: bool,
    /// `@sys.*` entities extracted from every query and passed to the taggers as hints.
    pub sys_hints: Vec<String>,
}

impl Default for EvalOptions {
    /// The configuration of the reported figures: classifier gazetteers on, no `@sys` hints
    /// (the hints leave slot F1 unchanged and cost about 1 ms per query at p99).
    fn default() -> Self {
        EvalOptions {
            classifier_gazetteers: true,
            sys_hints: Vec::new(),
        }
    }
}

/// Trains on the benchmark's training files and scores on all validation files.
pub fn run_snips(cfg: &EvalConfig) -> Result<EvalReport, NluError> {
    run_snips_with(cfg, &EvalOptions::default())
}

/// [`run_snips`] with explicit options.
pub fn run_snips_with(cfg: &EvalConfig, opts: &EvalOptions) -> Result<EvalReport, NluError> {
    let data = load(&cfg.dataset_dir)?;
    let n = cfg.train_per_intent;
    let t0 = Instant::now();
    let sys = SysExtractor::new();
    // Fixed reference time (2017-06-01 12:00 UTC), so runs are reproducible.
    let ctx = SysContext {
        now: chrono::DateTime::from_timestamp(1_496_318_400, 0).unwrap_or_default(),
        tz: chrono_tz::UTC,
    };
    let types: Vec<&str> = opts.sys_hints.iter().map(String::as_str).collect();
    let hints = |text: &str| -> Vec<EntityMatch> {
        if types.is_empty() {
            Vec::new()
        } else {
            sys.extract(text, &types, &ctx)
        }
    };
    let train: split::Labelled = data
        .intents
        .iter()
        .map(|(name, tr, _)| (name.clone(), tr.iter().take(n).cloned().collect()))
        .collect();
    let n_train = train.iter().map(|(_, q)| q.len()).sum::<usize>();
    let (classifier, taggers) = paths::train_direct(&train, opts.classifier_gazetteers, &hints)?;
    let train_time = t0.elapsed();

    let mut counts = SlotCounts::default();
    let mut per_intent = Vec::new();
    let mut latencies = Vec::new();
    let (mut correct, mut n_test) = (0usize, 0usize);
    let mut errors = Vec::new();
    for (gold_intent, (name, _, val)) in data.intents.iter().enumerate() {
        let mut score = IntentScore {
            intent: name.clone(),
            n: 0,
            correct: 0,
        };
        for q in val {
            let t = Instant::now();
            let probs = classifier.predict(&q.text);
            let pred = probs
                .iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |b, (i, p)| {
                    if *p > b.1 {
                        (i, *p)
                    } else {
                        b
                    }
                })
                .0;
            let spans = taggers
                .get(pred)
                .map(|t| t.tag(&q.text, &hints(&q.text)))
                .unwrap_or_default();
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
            counts.add(&q.spans, &spans);
            score.n += 1;
            if pred == gold_intent {
                score.correct += 1;
            } else {
                errors.push(Misclassified {
                    text: q.text.clone(),
                    gold: name.clone(),
                    predicted: data.intents.get(pred).map_or("", |x| x.0.as_str()).into(),
                    p_gold: probs.get(gold_intent).copied().unwrap_or(0.0),
                    p_predicted: probs.get(pred).copied().unwrap_or(0.0),
                });
            }
        }
        correct += score.correct;
        n_test += score.n;
        per_intent.push(score);
    }
    latencies.sort_by(f64::total_cmp);
    let (per_slot, (slot_precision, slot_recall, slot_f1), slot_f1_macro) = counts.scores();
    Ok(EvalReport {
        train_per_intent: n,
        n_train,
        n_test,
        intent_accuracy: if n_test == 0 {
            0.0
        } else {
            correct as f64 / n_test as f64
        },
        slot_precision,
        slot_recall,
        slot_f1,
        slot_f1_macro,
        per_slot,
        per_intent,
        errors,
        train_time,
        parse_p50_us: quantile(&latencies, 0.5),
        parse_p99_us: quantile(&latencies, 0.99),
    })
}

#[cfg(test)]
mod tests;
