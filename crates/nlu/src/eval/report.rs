//! Scores and the printed table of the benchmark.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::tagger::SlotSpan;

/// Counts and scores of one slot name (over all intents).
#[derive(Debug, Clone, PartialEq)]
pub struct SlotScore {
    pub slot: String,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Intent accuracy of one intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentScore {
    pub intent: String,
    pub n: usize,
    pub correct: usize,
}

/// A validation query whose predicted intent is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Misclassified {
    pub text: String,
    pub gold: String,
    pub predicted: String,
    /// Classifier probabilities of the gold and the predicted intent.
    pub p_gold: f32,
    pub p_predicted: f32,
}

#[derive(Debug, Clone)]
pub struct EvalReport {
    pub train_per_intent: usize,
    pub n_train: usize,
    pub n_test: usize,
    pub intent_accuracy: f64,
    pub slot_precision: f64,
    pub slot_recall: f64,
    /// Micro-averaged over all slot occurrences (exact span and slot name).
    pub slot_f1: f64,
    /// Mean over slot names of the per-slot F1.
    pub slot_f1_macro: f64,
    pub per_slot: Vec<SlotScore>,
    pub per_intent: Vec<IntentScore>,
    /// Misclassified validation queries.
    pub errors: Vec<Misclassified>,
    /// Wall-clock time to train the classifier and all taggers.
    pub train_time: Duration,
    /// Time of one parse (classifier + tagger of the predicted intent), µs.
    pub parse_p50_us: f64,
    pub parse_p99_us: f64,
}

fn prf(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        0.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

/// Accumulates slot counts per slot name.
#[derive(Debug, Default)]
pub(crate) struct SlotCounts(BTreeMap<String, (usize, usize, usize)>);

impl SlotCounts {
    /// Exact match of span and slot name; each gold span matches at most once.
    pub fn add(&mut self, gold: &[SlotSpan], pred: &[SlotSpan]) {
        let mut used = vec![false; gold.len()];
        for p in pred {
            let hit = gold
                .iter()
                .enumerate()
                .find(|(i, g)| !used.get(*i).copied().unwrap_or(true) && *g == p);
            match hit {
                Some((i, _)) => {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    self.0.entry(p.slot.clone()).or_default().0 += 1;
                }
                None => self.0.entry(p.slot.clone()).or_default().1 += 1,
            }
        }
        for (g, u) in gold.iter().zip(&used) {
            if !u {
                self.0.entry(g.slot.clone()).or_default().2 += 1;
            }
        }
    }

    /// Pairs of (slot, value text): each gold pair matches at most one equal predicted pair.
    pub fn add_pairs(&mut self, gold: &[(String, String)], pred: &[(String, String)]) {
        let mut used = vec![false; gold.len()];
        for p in pred {
            match gold
                .iter()
                .zip(used.iter_mut())
                .find(|(g, u)| !**u && *g == p)
            {
                Some((_, u)) => {
                    *u = true;
                    self.0.entry(p.0.clone()).or_default().0 += 1;
                }
                None => self.0.entry(p.0.clone()).or_default().1 += 1,
            }
        }
        for (g, u) in gold.iter().zip(&used) {
            if !u {
                self.0.entry(g.0.clone()).or_default().2 += 1;
            }
        }
    }

    /// (per-slot scores, micro p/r/f1, macro f1 over slot names with gold occurrences or predictions).
    pub fn scores(&self) -> (Vec<SlotScore>, (f64, f64, f64), f64) {
        let mut per = Vec::new();
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (slot, &(t, p, n)) in &self.0 {
            tp += t;
            fp += p;
            fn_ += n;
            let (precision, recall, f1) = prf(t, p, n);
            per.push(SlotScore {
                slot: slot.clone(),
                tp: t,
                fp: p,
                fn_: n,
                precision,
                recall,
                f1,
            });
        }
        let macro_f1 = if per.is_empty() {
            0.0
        } else {
            per.iter().map(|s| s.f1).sum::<f64>() / per.len() as f64
        };
        (per, prf(tp, fp, fn_), macro_f1)
    }
}

/// Value at quantile `q` of sorted `v` (nearest rank).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Snips-2017 NLU benchmark — {} training queries per intent",
            self.train_per_intent
        )?;
        writeln!(
            f,
            "  train queries {:>6}   test queries {:>6}   train time {:.2} s",
            self.n_train,
            self.n_test,
            self.train_time.as_secs_f64()
        )?;
        writeln!(f, "  intent accuracy   {:.4}", self.intent_accuracy)?;
        writeln!(
            f,
            "  slots (micro)     P {:.4}  R {:.4}  F1 {:.4}     F1 macro {:.4}",
            self.slot_precision, self.slot_recall, self.slot_f1, self.slot_f1_macro
        )?;
        writeln!(
            f,
            "  parse latency     p50 {:.0} µs   p99 {:.0} µs",
            self.parse_p50_us, self.parse_p99_us
        )?;
        writeln!(f)?;
        writeln!(f, "  {:<24} {:>5} {:>8}", "intent", "n", "accuracy")?;
        for i in &self.per_intent {
            let acc = if i.n == 0 {
                0.0
            } else {
                i.correct as f64 / i.n as f64
            };
            writeln!(f, "  {:<24} {:>5} {:>8.4}", i.intent, i.n, acc)?;
        }
        if !self.errors.is_empty() {
            writeln!(f)?;
            writeln!(f, "  misclassified: gold (p) → predicted (p)")?;
            for e in &self.errors {
                writeln!(
                    f,
                    "  {:<20} {:.2} → {:<20} {:.2}  {}",
                    e.gold, e.p_gold, e.predicted, e.p_predicted, e.text
                )?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<28} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7}",
            "slot", "tp", "fp", "fn", "P", "R", "F1"
        )?;
        for s in &self.per_slot {
            writeln!(
                f,
                "  {:<28} {:>5} {:>5} {:>5} {:>7.4} {:>7.4} {:>7.4}",
                s.slot, s.tp, s.fp, s.fn_, s.precision, s.recall, s.f1
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(start: usize, end: usize, slot: &str) -> SlotSpan {
        SlotSpan {
            start,
            end,
            slot: slot.into(),
        }
    }

    #[test]
    fn counts_exact_matches() {
        let mut c = SlotCounts::default();
        c.add(
            &[sp(0, 4, "a"), sp(5, 9, "b")],
            &[sp(0, 4, "a"), sp(5, 8, "b"), sp(10, 12, "a")],
        );
        let (per, (p, r, f), m) = c.scores();
        assert_eq!(per.len(), 2);
        assert_eq!((per[0].tp, per[0].fp, per[0].fn_), (1, 1, 0));
        assert_eq!((per[1].tp, per[1].fp, per[1].fn_), (0, 1, 1));
        assert!(
            (p - 1.0 / 3.0).abs() < 1e-12 && (r - 0.5).abs() < 1e-12 && (f - 0.4).abs() < 1e-12
        );
        assert!((m - (2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.99), 4.0);
    }
}
