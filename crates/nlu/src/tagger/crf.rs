//! Linear-chain conditional random field: L2-regularised maximum likelihood trained with L-BFGS
//! (scaled forward-backward in probability space), Viterbi decoding. Label transitions that are
//! not allowed (BIO: `I-x` only after `B-x`/`I-x`) have probability 0 in training and decoding.

use crate::classifier::lbfgs::{minimize, LbfgsParams};

/// One training sequence: active attribute ids per token and the gold label per token.
#[derive(Debug, Clone)]
pub(crate) struct Seq {
    pub attrs: Vec<Vec<u32>>,
    pub labels: Vec<usize>,
}

/// Which label transitions may occur.
#[derive(Debug, Clone)]
pub(crate) struct Constraints {
    /// `[prev * n + cur]`
    pub allowed: Vec<bool>,
    pub allowed_start: Vec<bool>,
}

#[derive(Debug, Clone)]
pub(crate) struct Crf {
    n: usize,
    /// `[attr * n + label]`
    state: Vec<f32>,
    /// `[prev * n + cur]`, −∞ where not allowed.
    trans: Vec<f32>,
    start: Vec<f32>,
    end: Vec<f32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainParams {
    pub c2: f64,
    pub max_iter: usize,
}

struct Buffers {
    psi: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    scale: Vec<f64>,
}

impl Crf {
    pub fn train(seqs: &[Seq], n_attr: usize, n: usize, cons: &Constraints, p: TrainParams) -> Crf {
        let n_state = n_attr * n;
        let n_params = n_state + n * n + 2 * n;
        let mut x = vec![0.0f64; n_params];
        let max_t = seqs.iter().map(|s| s.labels.len()).max().unwrap_or(0);
        let mut buf = Buffers {
            psi: vec![0.0; max_t * n],
            alpha: vec![0.0; max_t * n],
            beta: vec![0.0; max_t * n],
            scale: vec![0.0; max_t],
        };
        let mut exp_t = vec![0.0f64; n * n];
        let mut emit = vec![0.0f64; max_t * n];
        let params = LbfgsParams {
            max_iter: p.max_iter,
            ..Default::default()
        };
        minimize(&mut x, params, |w, g| {
            g.iter_mut().for_each(|v| *v = 0.0);
            let (ws, rest) = w.split_at(n_state);
            let (wt, rest) = rest.split_at(n * n);
            let (wst, wen) = rest.split_at(n);
            let (gs, grest) = g.split_at_mut(n_state);
            let (gt, grest) = grest.split_at_mut(n * n);
            let (gst, gen) = grest.split_at_mut(n);
            for ((e, t), ok) in exp_t.iter_mut().zip(wt).zip(&cons.allowed) {
                *e = if *ok { t.exp() } else { 0.0 };
            }
            let exp_s: Vec<f64> = wst
                .iter()
                .zip(&cons.allowed_start)
                .map(|(s, ok)| if *ok { s.exp() } else { 0.0 })
                .collect();
            let exp_e: Vec<f64> = wen.iter().map(|e| e.exp()).collect();
            let mut loss = 0.0;
            for seq in seqs {
                let t_len = seq.labels.len().min(seq.attrs.len());
                if t_len == 0 {
                    continue;
                }
                // Emission scores and the gold path score.
                let mut gold = 0.0;
                for (t, attrs) in seq.attrs.iter().take(t_len).enumerate() {
                    let row = &mut emit[t * n..(t + 1) * n];
                    row.iter_mut().for_each(|v| *v = 0.0);
                    for &a in attrs {
                        if let Some(wa) = ws.get(a as usize * n..(a as usize + 1) * n) {
                            row.iter_mut().zip(wa).for_each(|(r, v)| *r += v);
                        }
                    }
                }
                let mut prev = None;
                for (t, &y) in seq.labels.iter().take(t_len).enumerate() {
                    gold += emit.get(t * n + y).copied().unwrap_or(0.0);
                    gold += match prev {
                        None => wst.get(y).copied().unwrap_or(0.0),
                        Some(py) => wt.get(py * n + y).copied().unwrap_or(0.0),
                    };
                    prev = Some(y);
                }
                gold += prev.and_then(|y| wen.get(y)).copied().unwrap_or(0.0);
                let log_z = forward_backward(&emit, &exp_t, &exp_s, &exp_e, n, t_len, &mut buf);
                loss += log_z - gold;
                // Expected minus empirical counts.
                let z_end: f64 = buf.alpha[(t_len - 1) * n..t_len * n]
                    .iter()
                    .zip(&exp_e)
                    .map(|(a, e)| a * e)
                    .sum();
                for t in 0..t_len {
                    for y in 0..n {
                        let m = buf.alpha[t * n + y] * buf.beta[t * n + y] / z_end;
                        if m == 0.0 {
                            continue;
                        }
                        for &a in &seq.attrs[t] {
                            if let Some(gv) = gs.get_mut(a as usize * n + y) {
                                *gv += m;
                            }
                        }
                        if t == 0 {
                            gst[y] += m;
                        }
                        if t == t_len - 1 {
                            gen[y] += m;
                        }
                    }
                    if t > 0 {
                        let c = buf.scale[t];
                        for a in 0..n {
                            let al = buf.alpha[(t - 1) * n + a];
                            if al == 0.0 {
                                continue;
                            }
                            for b in 0..n {
                                let e = exp_t[a * n + b];
                                if e != 0.0 {
                                    gt[a * n + b] +=
                                        al * e * buf.psi[t * n + b] * buf.beta[t * n + b]
                                            / (c * z_end);
                                }
                            }
                        }
                    }
                }
                let mut prev = None;
                for (t, &y) in seq.labels.iter().take(t_len).enumerate() {
                    for &a in &seq.attrs[t] {
                        if let Some(gv) = gs.get_mut(a as usize * n + y) {
                            *gv -= 1.0;
                        }
                    }
                    match prev {
                        None => gst[y] -= 1.0,
                        Some(py) => gt[py * n + y] -= 1.0,
                    }
                    prev = Some(y);
                }
                if let Some(y) = prev {
                    gen[y] -= 1.0;
                }
            }
            for (gv, wv) in g.iter_mut().zip(w) {
                *gv += p.c2 * wv;
                loss += 0.5 * p.c2 * wv * wv;
            }
            loss
        });
        let state = x[..n_state].iter().map(|v| *v as f32).collect();
        let trans = x[n_state..n_state + n * n]
            .iter()
            .zip(&cons.allowed)
            .map(|(v, ok)| if *ok { *v as f32 } else { f32::NEG_INFINITY })
            .collect();
        let start = x[n_state + n * n..n_state + n * n + n]
            .iter()
            .zip(&cons.allowed_start)
            .map(|(v, ok)| if *ok { *v as f32 } else { f32::NEG_INFINITY })
            .collect();
        let end = x[n_state + n * n + n..].iter().map(|v| *v as f32).collect();
        Crf {
            n,
            state,
            trans,
            start,
            end,
        }
    }

    /// Best label sequence for the attribute ids of each token.
    pub fn decode(&self, attrs: &[Vec<u32>]) -> Vec<usize> {
        let n = self.n;
        let t_len = attrs.len();
        if t_len == 0 || n == 0 {
            return Vec::new();
        }
        let mut emit = vec![0.0f32; t_len * n];
        for (t, at) in attrs.iter().enumerate() {
            let row = &mut emit[t * n..(t + 1) * n];
            for &a in at {
                if let Some(wa) = self.state.get(a as usize * n..(a as usize + 1) * n) {
                    row.iter_mut().zip(wa).for_each(|(r, v)| *r += v);
                }
            }
        }
        let mut delta: Vec<f32> = self
            .start
            .iter()
            .zip(&emit[..n])
            .map(|(s, e)| s + e)
            .collect();
        let mut back = vec![0u16; t_len * n];
        let mut next = vec![0.0f32; n];
        for t in 1..t_len {
            for (b, nb) in next.iter_mut().enumerate() {
                let mut best = (f32::NEG_INFINITY, 0usize);
                for (a, d) in delta.iter().enumerate() {
                    let s = d + self.trans[a * n + b];
                    if s > best.0 {
                        best = (s, a);
                    }
                }
                *nb = best.0 + emit[t * n + b];
                back[t * n + b] = best.1 as u16;
            }
            std::mem::swap(&mut delta, &mut next);
        }
        let mut y = (0..n)
            .map(|b| (delta[b] + self.end[b], b))
            .fold(
                (f32::NEG_INFINITY, 0),
                |best, c| if c.0 > best.0 { c } else { best },
            )
            .1;
        let mut path = vec![0usize; t_len];
        for t in (0..t_len).rev() {
            path[t] = y;
            if t > 0 {
                y = back[t * n + y] as usize;
            }
        }
        path
    }
}

/// Scaled forward-backward over the first `t_len` positions. Fills `buf.alpha` (normalised per
/// position), `buf.beta`, `buf.psi` (exp of the emission minus its row max) and `buf.scale`;
/// returns log Z.
fn forward_backward(
    emit: &[f64],
    exp_t: &[f64],
    exp_s: &[f64],
    exp_e: &[f64],
    n: usize,
    t_len: usize,
    buf: &mut Buffers,
) -> f64 {
    let mut log_z = 0.0;
    for t in 0..t_len {
        let row = &emit[t * n..(t + 1) * n];
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (p, e) in buf.psi[t * n..(t + 1) * n].iter_mut().zip(row) {
            *p = (e - m).exp();
        }
        log_z += m;
    }
    for t in 0..t_len {
        let mut sum = 0.0;
        for b in 0..n {
            let inflow = if t == 0 {
                exp_s[b]
            } else {
                (0..n)
                    .map(|a| buf.alpha[(t - 1) * n + a] * exp_t[a * n + b])
                    .sum::<f64>()
            };
            let v = inflow * buf.psi[t * n + b];
            buf.alpha[t * n + b] = v;
            sum += v;
        }
        let sum = if sum > 0.0 { sum } else { f64::MIN_POSITIVE };
        buf.alpha[t * n..(t + 1) * n]
            .iter_mut()
            .for_each(|v| *v /= sum);
        buf.scale[t] = sum;
        log_z += sum.ln();
    }
    let z_end: f64 = buf.alpha[(t_len - 1) * n..t_len * n]
        .iter()
        .zip(exp_e)
        .map(|(a, e)| a * e)
        .sum();
    log_z += z_end.max(f64::MIN_POSITIVE).ln();
    buf.beta[(t_len - 1) * n..t_len * n].copy_from_slice(&exp_e[..n]);
    for t in (0..t_len.saturating_sub(1)).rev() {
        let c = buf.scale[t + 1];
        for a in 0..n {
            let s: f64 = (0..n)
                .map(|b| exp_t[a * n + b] * buf.psi[(t + 1) * n + b] * buf.beta[(t + 1) * n + b])
                .sum();
            buf.beta[t * n + a] = s / c;
        }
    }
    log_z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_tiny_sequence_task() {
        // Labels: 0 = O, 1 = B, 2 = I. Attr 0 = "the", 1 = "big", 2 = "dog", 3 = "cat".
        let seqs = vec![
            Seq {
                attrs: vec![vec![0], vec![1], vec![2]],
                labels: vec![0, 1, 2],
            },
            Seq {
                attrs: vec![vec![0], vec![3]],
                labels: vec![0, 1],
            },
            Seq {
                attrs: vec![vec![1], vec![3]],
                labels: vec![1, 2],
            },
        ];
        let mut allowed = vec![true; 9];
        allowed[2] = false; // O -> I
        let cons = Constraints {
            allowed,
            allowed_start: vec![true, true, false],
        };
        let crf = Crf::train(
            &seqs,
            4,
            3,
            &cons,
            TrainParams {
                c2: 0.01,
                max_iter: 100,
            },
        );
        assert_eq!(crf.decode(&[vec![0], vec![1], vec![3]]), [0, 1, 2]);
        assert_eq!(crf.decode(&[vec![0], vec![2]]), [0, 1]);
        assert_eq!(crf.decode(&[]), Vec::<usize>::new());
    }
}
