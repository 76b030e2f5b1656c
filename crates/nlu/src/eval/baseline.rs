//! The plain reference classifier every figure is compared with: TF-IDF over word unigrams and
//! bigrams (sublinear term frequency, smoothed IDF, L2-normalised rows) and an L2-regularised
//! multinomial logistic regression fitted by L-BFGS. No "none" class, no gazetteers, no
//! character n-grams: the textbook setup (scikit-learn's `TfidfVectorizer(ngram_range=(1, 2),
//! sublinear_tf=True)` + `LogisticRegression`).

use std::collections::HashMap;

use crate::classifier::lbfgs::{minimize, LbfgsParams};
use crate::text::tokenize;

/// Inverse regularisation strength, as scikit-learn's `C` (loss = Σ CE + ‖W‖² / 2C).
const C: f64 = 10.0;
const MAX_ITER: usize = 300;

#[derive(Debug, Clone)]
pub struct TfidfLr {
    vocab: HashMap<String, u32>,
    idf: Vec<f64>,
    k: usize,
    /// `[feature][class]`, then `k` biases.
    w: Vec<f64>,
}

fn terms(text: &str) -> Vec<String> {
    let ws: Vec<String> = tokenize(text)
        .into_iter()
        .filter(|t| t.norm.chars().any(char::is_alphanumeric))
        .map(|t| t.norm)
        .collect();
    let mut out = ws.clone();
    out.extend(ws.windows(2).map(|p| format!("{} {}", p[0], p[1])));
    out
}

impl TfidfLr {
    /// `examples`: (text, class < `n_classes`).
    pub fn train(examples: &[(String, usize)], n_classes: usize) -> TfidfLr {
        let k = n_classes.max(1);
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<usize> = Vec::new();
        let docs: Vec<Vec<String>> = examples.iter().map(|(t, _)| terms(t)).collect();
        for d in &docs {
            let mut seen: Vec<u32> = Vec::new();
            for t in d {
                let next = vocab.len() as u32;
                let id = *vocab.entry(t.clone()).or_insert(next);
                if id == next {
                    df.push(0);
                }
                if !seen.contains(&id) {
                    seen.push(id);
                    df[id as usize] += 1;
                }
            }
        }
        let n = docs.len() as f64;
        let idf: Vec<f64> = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0)
            .collect();
        let mut model = TfidfLr {
            vocab,
            idf,
            k,
            w: Vec::new(),
        };
        let vecs: Vec<Vec<(u32, f64)>> = examples.iter().map(|(t, _)| model.vector(t)).collect();
        let labels: Vec<usize> = examples.iter().map(|(_, c)| (*c).min(k - 1)).collect();
        let nf = model.idf.len();
        let mut x = vec![0.0; nf * k + k];
        let lambda = 1.0 / C;
        let mut p = vec![0.0; k];
        minimize(
            &mut x,
            LbfgsParams {
                max_iter: MAX_ITER,
                ..Default::default()
            },
            |w, g| {
                g.iter_mut().for_each(|v| *v = 0.0);
                let (gw, gb) = g.split_at_mut(nf * k);
                let (ww, wb) = w.split_at(nf * k);
                let mut loss = 0.0;
                for (v, &y) in vecs.iter().zip(&labels) {
                    logits(ww, wb, v, k, &mut p);
                    softmax(&mut p);
                    loss -= p[y].max(1e-300).ln();
                    p[y] -= 1.0;
                    for (b, d) in gb.iter_mut().zip(&p) {
                        *b += d;
                    }
                    for &(f, val) in v {
                        let row = f as usize * k;
                        for (gv, d) in gw[row..row + k].iter_mut().zip(&p) {
                            *gv += d * val;
                        }
                    }
                }
                for (gv, wv) in gw.iter_mut().zip(ww) {
                    *gv += lambda * wv;
                    loss += 0.5 * lambda * wv * wv;
                }
                loss
            },
        );
        model.w = x;
        model
    }

    fn vector(&self, text: &str) -> Vec<(u32, f64)> {
        let mut tf: HashMap<u32, f64> = HashMap::new();
        for t in terms(text) {
            if let Some(&id) = self.vocab.get(&t) {
                *tf.entry(id).or_default() += 1.0;
            }
        }
        let mut v: Vec<(u32, f64)> = tf
            .into_iter()
            .map(|(id, c)| (id, (1.0 + c.ln()) * self.idf[id as usize]))
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        let norm = v.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|e| e.1 /= norm);
        }
        v
    }

    /// Class probabilities.
    pub fn predict(&self, text: &str) -> Vec<f64> {
        let nf = self.idf.len();
        let mut p = vec![0.0; self.k];
        if self.w.len() == nf * self.k + self.k {
            let (ww, wb) = self.w.split_at(nf * self.k);
            logits(ww, wb, &self.vector(text), self.k, &mut p);
        }
        softmax(&mut p);
        p
    }
}

fn logits(w: &[f64], b: &[f64], v: &[(u32, f64)], k: usize, out: &mut [f64]) {
    out.copy_from_slice(b);
    for &(f, val) in v {
        let row = f as usize * k;
        for (o, wv) in out.iter_mut().zip(&w[row..row + k]) {
            *o += wv * val;
        }
    }
}

fn softmax(x: &mut [f64]) {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    x.iter_mut().for_each(|v| *v /= s);
}

/// Index of the largest value (0 for an empty slice).
pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if v.get(best).is_some_and(|b| x > b) {
            best = i;
        }
    }
    best
}
