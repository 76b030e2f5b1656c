//! Limited-memory BFGS minimiser with a backtracking (Armijo) line search, shared by the intent
//! classifier (multinomial logistic regression) and the slot tagger (linear-chain CRF).
//! Both objectives are smooth and convex, so the simple line search is enough.

use std::collections::VecDeque;

/// Stopping rules and memory size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbfgsParams {
    pub memory: usize,
    pub max_iter: usize,
    /// Stop when the relative decrease of the objective over `past` iterations is below this.
    pub delta: f64,
    pub past: usize,
    /// Stop when ‖g‖ ≤ epsilon · max(1, ‖x‖).
    pub epsilon: f64,
}

impl Default for LbfgsParams {
    fn default() -> Self {
        LbfgsParams {
            memory: 8,
            max_iter: 200,
            delta: 1e-5,
            past: 5,
            epsilon: 1e-5,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` starting from `x` (updated in place). `f(x, grad)` returns the objective and
/// writes the gradient into `grad`. Returns the final objective value.
pub(crate) fn minimize<F>(x: &mut [f64], params: LbfgsParams, mut f: F) -> f64
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    if n == 0 || !fx.is_finite() {
        return fx;
    }
    let mut hist: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(params.memory);
    let mut past_f: VecDeque<f64> = VecDeque::with_capacity(params.past + 1);
    past_f.push_back(fx);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = vec![0.0; params.memory];

    for iter in 0..params.max_iter {
        let gnorm = dot(&g, &g).sqrt();
        let xnorm = dot(x, x).sqrt();
        if gnorm <= params.epsilon * xnorm.max(1.0) {
            break;
        }
        // Two-loop recursion: d = -H·g.
        for (di, gi) in d.iter_mut().zip(&g) {
            *di = -gi;
        }
        for (k, (s, y, rho)) in hist.iter().enumerate().rev() {
            let a = rho * dot(s, &d);
            alpha[k] = a;
            for (di, yi) in d.iter_mut().zip(y) {
                *di -= a * yi;
            }
        }
        if let Some((s, y, _)) = hist.back() {
            let yy = dot(y, y);
            if yy > 0.0 {
                let gamma = dot(s, y) / yy;
                d.iter_mut().for_each(|v| *v *= gamma);
            }
        }
        for (k, (s, y, rho)) in hist.iter().enumerate() {
            let b = rho * dot(y, &d);
            let a = alpha[k];
            for (di, si) in d.iter_mut().zip(s) {
                *di += (a - b) * si;
            }
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            hist.clear();
            for (di, gi) in d.iter_mut().zip(&g) {
                *di = -gi;
            }
            slope = -gnorm * gnorm;
        }
        let mut step = if iter == 0 && hist.is_empty() {
            1.0 / gnorm.max(1e-12)
        } else {
            1.0
        };
        let mut accepted = false;
        for _ in 0..40 {
            for ((xn, xi), di) in x_new.iter_mut().zip(x.iter()).zip(&d) {
                *xn = xi + step * di;
            }
            let f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                // The oldest pair's buffers are reused: on large models each is tens of MB.
                let (mut s, mut y) = if hist.len() == params.memory {
                    hist.pop_front()
                        .map_or_else(|| (vec![0.0; n], vec![0.0; n]), |(s, y, _)| (s, y))
                } else {
                    (vec![0.0; n], vec![0.0; n])
                };
                for ((si, a), b) in s.iter_mut().zip(&x_new).zip(x.iter()) {
                    *si = a - b;
                }
                for ((yi, a), b) in y.iter_mut().zip(&g_new).zip(&g) {
                    *yi = a - b;
                }
                let sy = dot(&s, &y);
                if sy > 1e-12 {
                    hist.push_back((s, y, 1.0 / sy));
                }
                x.copy_from_slice(&x_new);
                g.copy_from_slice(&g_new);
                fx = f_new;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
        past_f.push_back(fx);
        if past_f.len() > params.past {
            if let Some(old) = past_f.pop_front() {
                if (old - fx).abs() / fx.abs().max(1.0) < params.delta {
                    break;
                }
            }
        }
    }
    fx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_quadratic() {
        // f(x) = (x0 - 3)^2 + 10 (x1 + 1)^2
        let mut x = vec![0.0, 0.0];
        let fx = minimize(
            &mut x,
            LbfgsParams {
                epsilon: 1e-9,
                delta: 0.0,
                ..Default::default()
            },
            |x, g| {
                g[0] = 2.0 * (x[0] - 3.0);
                g[1] = 20.0 * (x[1] + 1.0);
                (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
            },
        );
        assert!(fx < 1e-10, "{fx}");
        assert!(
            (x[0] - 3.0).abs() < 1e-5 && (x[1] + 1.0).abs() < 1e-5,
            "{x:?}"
        );
    }
}
