//! Intent classifier trained at load time from training phrases.
//!
//! Multinomial logistic regression (L2, L-BFGS) over TF-IDF word, bigram and character n-gram
//! features, with an implicit extra "none" class trained on built-in out-of-domain text (generic
//! sentences, word salad, gibberish) in which words unseen in the agent's phrases collapse to an
//! `<unk>` feature. Out-of-domain queries therefore land on "none", whose probability is not
//! reported, so every real class scores low. Features never seen in training still count in the
//! vector norm, which flattens the scores of texts unlike anything seen.

mod features;
mod gazetteer;
pub(crate) mod lbfgs;
pub(crate) mod noise;

use std::collections::{HashMap, HashSet};

use features::{raw_features, word_hash, words, FeatureSpace};
pub use gazetteer::Gazetteers;
use lbfgs::{minimize, LbfgsParams};

use crate::NluError;

/// Hyper-parameters (fixed; chosen on held-out Snips training queries and the out-of-domain
/// unit tests).
const L2: f64 = 1e-5;
/// Words seen fewer times than this in training are treated as unknown.
const MIN_WORD_COUNT: usize = 2;
const MAX_ITER: usize = 100;
const NONE_SEED: u64 = 0x5eed_0001;
/// Size of the none class relative to the mean in-domain class size (bounds below).
const NONE_FACTOR: f64 = 1.0;
const NONE_MIN: usize = 120;
const NONE_MAX: usize = 400;
/// Total training weight of the none class relative to one in-domain class.
const NONE_WEIGHT: f64 = 1.0;
/// Examples × classes above which training uses several threads.
const PARALLEL_MIN_WORK: usize = 200_000;
const MAX_THREADS: usize = 4;

/// Immutable after training; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct IntentClassifier {
    space: FeatureSpace,
    known_words: HashSet<u64>,
    gaz: Gazetteers,
    n_classes: usize,
    /// Classes that had training examples (the others are never predicted).
    active: Vec<bool>,
    /// Row-major `[feature][class]`, `n_classes + 1` columns (the last one is "none").
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl IntentClassifier {
    /// Deterministic (fixed seed). `examples`: (text, class index).
    pub fn train(examples: &[(String, usize)], n_classes: usize) -> Result<Self, NluError> {
        Self::train_with(examples, n_classes, &Gazetteers::new())
    }

    /// Like [`Self::train`], with entity value lists as features (kept for [`Self::predict`]).
    pub fn train_with(
        examples: &[(String, usize)],
        n_classes: usize,
        gazetteers: &Gazetteers,
    ) -> Result<Self, NluError> {
        let gaz = gazetteers.clone();
        if n_classes == 0 {
            return Err(NluError::Other(
                "intent classifier needs at least one class".into(),
            ));
        }
        if let Some((t, c)) = examples.iter().find(|(_, c)| *c >= n_classes) {
            return Err(NluError::Other(format!(
                "training phrase {t:?} has class {c}, but there are only {n_classes} classes"
            )));
        }
        let k = n_classes + 1;
        let none = n_classes;
        let mut active = vec![false; n_classes];
        let mut known_words = HashSet::new();
        let mut docs: Vec<Vec<u64>> = Vec::new();
        let mut labels: Vec<usize> = Vec::new();
        let mut raw = Vec::new();
        // Words seen once in training count as unknown (to learn how in-domain text with new
        // words, such as names, looks); the others are the known vocabulary.
        let tokenised: Vec<(Vec<String>, usize)> = examples
            .iter()
            .map(|(t, c)| (words(t), *c))
            .filter(|(w, _)| !w.is_empty())
            .collect();
        let mut freq: HashMap<u64, usize> = HashMap::new();
        for (ws, _) in &tokenised {
            for w in ws {
                *freq.entry(word_hash(w)).or_default() += 1;
            }
        }
        known_words.extend(
            freq.iter()
                .filter(|(_, c)| **c >= MIN_WORD_COUNT)
                .map(|(h, _)| *h),
        );
        let mut ents = Vec::new();
        for (ws, class) in &tokenised {
            gaz.find(ws, true, &mut ents);
            raw_features(ws, Some(&known_words), &ent_spans(&gaz, &ents), &mut raw);
            docs.push(raw.clone());
            labels.push(*class);
            if let Some(a) = active.get_mut(*class) {
                *a = true;
            }
        }
        let n_active = active.iter().filter(|a| **a).count();
        let n_in = docs.len();
        let mean = if n_active == 0 {
            0.0
        } else {
            n_in as f64 / n_active as f64
        };
        let n_none = ((mean * NONE_FACTOR) as usize).clamp(NONE_MIN, NONE_MAX);
        for text in noise::none_texts(n_none, NONE_SEED) {
            let ws = words(&text);
            gaz.find(&ws, false, &mut ents);
            raw_features(&ws, Some(&known_words), &ent_spans(&gaz, &ents), &mut raw);
            docs.push(raw.clone());
            labels.push(none);
        }
        let space = FeatureSpace::fit(&docs);
        let mut vecs = Vec::with_capacity(docs.len());
        for d in &docs {
            let mut v = Vec::new();
            space.vectorize(d, &mut v);
            vecs.push(v);
        }
        // Balanced sample weights: each active class (and "none") weighs the same in total.
        let mut counts = vec![0usize; k];
        for &l in &labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        let total_w = n_active as f64 + NONE_WEIGHT;
        let sw: Vec<f64> = labels
            .iter()
            .map(|&l| {
                let c = counts.get(l).copied().unwrap_or(1).max(1) as f64;
                let cw = if l == none { NONE_WEIGHT } else { 1.0 };
                cw / c / total_w
            })
            .collect();
        let mut mask = active.clone();
        mask.push(true);
        let n_feat = space.idf.len();

        let mut x = vec![0.0f64; n_feat * k + k];
        let examples: Vec<Example> = vecs
            .iter()
            .zip(&labels)
            .zip(&sw)
            .map(|((v, &y), &s)| Example { v, y, s })
            .collect();
        // Large agents split the examples over the cores; each part sums into its own gradient
        // buffer and the parts are added in a fixed order, so training stays deterministic.
        let parts = if examples.len() * k >= PARALLEL_MIN_WORK {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, MAX_THREADS)
        } else {
            1
        };
        let chunk = examples.len().div_ceil(parts).max(1);
        let mut extra: Vec<Vec<f64>> = (1..parts).map(|_| vec![0.0; x.len()]).collect();
        minimize(
            &mut x,
            LbfgsParams {
                max_iter: MAX_ITER,
                ..Default::default()
            },
            |w, g| {
                let mask = &mask;
                let mut chunks = examples.chunks(chunk);
                let first = chunks.next().unwrap_or(&[]);
                let mut loss = std::thread::scope(|scope| {
                    let handles: Vec<_> = chunks
                        .zip(extra.iter_mut())
                        .map(|(part, buf)| {
                            scope.spawn(move || data_gradient(w, part, mask, k, n_feat, buf))
                        })
                        .collect();
                    let mut loss = data_gradient(w, first, mask, k, n_feat, g);
                    for h in handles {
                        // A worker only does arithmetic on slices it owns; a panic there is a bug.
                        loss += h.join().unwrap_or(f64::NAN);
                    }
                    loss
                });
                for buf in &extra {
                    for (gv, b) in g.iter_mut().zip(buf) {
                        *gv += b;
                    }
                }
                let (gw, _) = g.split_at_mut(n_feat * k);
                let (ww, _) = w.split_at(n_feat * k);
                for (gv, wv) in gw.iter_mut().zip(ww) {
                    *gv += L2 * wv;
                    loss += 0.5 * L2 * wv * wv;
                }
                loss
            },
        );
        let weights = x.iter().take(n_feat * k).map(|v| *v as f32).collect();
        let bias = x.iter().skip(n_feat * k).map(|v| *v as f32).collect();
        Ok(IntentClassifier {
            space,
            known_words,
            gaz,
            n_classes,
            active,
            weights,
            bias,
        })
    }

    /// Number of (real) classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Calibrated probability per class (sums to ≤ 1; the rest is the implicit "none" class).
    /// Classes without training examples get 0.
    pub fn predict(&self, text: &str) -> Vec<f32> {
        let k = self.n_classes + 1;
        let ws = words(text);
        if ws.is_empty() || !self.active.iter().any(|a| *a) {
            return vec![0.0; self.n_classes];
        }
        let mut raw = Vec::with_capacity(ws.len() * 12);
        let mut ents = Vec::new();
        self.gaz.find(&ws, false, &mut ents);
        raw_features(
            &ws,
            Some(&self.known_words),
            &ent_spans(&self.gaz, &ents),
            &mut raw,
        );
        let mut v = Vec::with_capacity(raw.len());
        self.space.vectorize(&raw, &mut v);
        let mut logits: Vec<f64> = self.bias.iter().map(|b| *b as f64).collect();
        for &(f, val) in &v {
            let row = f as usize * k;
            if let Some(r) = self.weights.get(row..row + k) {
                for (l, w) in logits.iter_mut().zip(r) {
                    *l += (*w * val) as f64;
                }
            }
        }
        for (l, a) in logits.iter_mut().zip(&self.active) {
            if !a {
                *l = f64::NEG_INFINITY;
            }
        }
        softmax_in_place(&mut logits);
        logits.truncate(self.n_classes);
        logits.into_iter().map(|p| p as f32).collect()
    }
}

fn ent_spans<'a>(
    gaz: &'a Gazetteers,
    ents: &[gazetteer::EntMatch],
) -> Vec<(usize, usize, &'a str)> {
    ents.iter()
        .filter_map(|m| Some((m.start, m.end, gaz.name(m.list)?)))
        .collect()
}

/// One training example: its TF-IDF vector, class and sample weight.
struct Example<'a> {
    v: &'a [(u32, f32)],
    y: usize,
    s: f64,
}

/// Cross-entropy of `part` under weights `w`; writes its gradient into `g` (overwritten).
fn data_gradient(
    w: &[f64],
    part: &[Example],
    mask: &[bool],
    k: usize,
    n_feat: usize,
    g: &mut [f64],
) -> f64 {
    g.iter_mut().for_each(|v| *v = 0.0);
    let (gw, gb) = g.split_at_mut(n_feat * k);
    let (ww, wb) = w.split_at(n_feat * k);
    let mut logits = vec![0.0f64; k];
    let mut loss = 0.0;
    for ex in part {
        scores(ww, wb, ex.v, mask, k, &mut logits);
        softmax_in_place(&mut logits);
        loss -= ex.s * logits.get(ex.y).copied().unwrap_or(1.0).max(1e-300).ln();
        // logits now holds probabilities; turn them into the loss derivative.
        for (c, p) in logits.iter_mut().enumerate() {
            *p = ex.s * (*p - if c == ex.y { 1.0 } else { 0.0 });
        }
        for (b, d) in gb.iter_mut().zip(logits.iter()) {
            *b += d;
        }
        for &(f, val) in ex.v {
            let row = f as usize * k;
            if let Some(r) = gw.get_mut(row..row + k) {
                for (gv, d) in r.iter_mut().zip(logits.iter()) {
                    *gv += d * val as f64;
                }
            }
        }
    }
    loss
}

fn scores(w: &[f64], b: &[f64], v: &[(u32, f32)], mask: &[bool], k: usize, out: &mut [f64]) {
    out.copy_from_slice(b);
    for &(f, val) in v {
        let row = f as usize * k;
        if let Some(r) = w.get(row..row + k) {
            for (o, wv) in out.iter_mut().zip(r) {
                *o += wv * val as f64;
            }
        }
    }
    for (o, m) in out.iter_mut().zip(mask) {
        if !m {
            *o = f64::NEG_INFINITY;
        }
    }
}

fn softmax_in_place(x: &mut [f64]) {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        x.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let mut s = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    x.iter_mut().for_each(|v| *v /= s);
}

#[cfg(test)]
mod tests;
