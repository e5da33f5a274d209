//! The ridge Bradley–Terry fit behind the RLHF baseline (see
//! [`super::rlhf_rewards`] for the objective and the stopping rule): damped
//! Newton steps on the strictly concave objective, all buffers in one
//! allocation.
//!
//! What a step costs: the objective, gradient and Hessian at a point take `n`
//! exponentials (`σ(r_x − r_y) = u_x / (u_x + u_y)` with `u_x = e^{r_x − c}`;
//! one exponential per pair only when the rewards span more than
//! [`RATIO_RANGE`], and none at equal rewards, the start), a division per
//! pair, and one logarithm per 1,000 pairs (the `ln(1 + e^{−|d|})` of every
//! pair share the weight `W`, so their sum is the logarithm of a product).
//! Nothing branches on the sign of `r_x − r_y`. The first Newton step, from
//! `r = 0`, is `grad / (λ + nW/4)` in closed form (the Hessian there is
//! `λI + (W/4)(nI − 11ᵀ)` and the gradient sums to zero); the others solve by
//! an `LDLᵀ` factorisation.

use super::{Pairwise, BT_RIDGE};
use crate::linalg::ldl_solve_in_place;

/// Newton steps at most (unanimous pairs take about `ln(1/λ)` damped steps
/// before the quadratic phase).
const MAX_NEWTON: usize = 200;

/// Relative rounding level of the objective.
const NOISE: f64 = 1e-14;

/// Widest reward range for which `e^{−|r_x − r_y|}` is taken as a ratio of
/// per-response exponentials (centred, so neither overflows nor underflows);
/// wider ranges take one exponential per pair.
const RATIO_RANGE: f64 = 600.0;

/// Factors of `Π (1 + e^{−|d|}) ≤ 2^k` multiplied before taking a logarithm.
const PRODUCT_RUN: usize = 1000;

/// The fitted rewards, mean zero.
pub(super) fn fit(pairwise: &Pairwise) -> Vec<f64> {
    let n = pairwise.n;
    // Every buffer of the fit in one allocation: two points, the factor, the
    // step, the factorisation's scratch row and the scaled exponentials.
    let mut buffer = vec![0.0; 3 * n * n + 8 * n];
    let (at, rest) = Point::split_from(&mut buffer, n);
    let (trial, rest) = Point::split_from(rest, n);
    let (factor, rest) = rest.split_at_mut(n * n);
    let (delta, rest) = rest.split_at_mut(n);
    let (work, rest) = rest.split_at_mut(n);
    let (scaled, inverse) = rest.split_at_mut(n);
    let (mut at, mut trial) = (at, trial);
    let mut eval = Evaluator { pairwise, scaled, inverse };
    let mut f = eval.state(&mut at);
    for newton in 0..MAX_NEWTON {
        delta.copy_from_slice(at.grad);
        if newton == 0 {
            let curvature = BT_RIDGE + n as f64 * pairwise.weight / 4.0;
            delta.iter_mut().for_each(|d| *d /= curvature);
        } else {
            factor.copy_from_slice(at.hess);
            if !ldl_solve_in_place(factor, n, delta, work) {
                break;
            }
        }
        let decrement: f64 = at.grad.iter().zip(delta.iter()).map(|(g, d)| g * d).sum();
        let noise = NOISE * (1.0 + f.abs());
        if !(decrement > noise) {
            // Quadratic convergence: this step leaves an error far below its own size.
            if decrement.is_finite() {
                at.r.iter_mut().zip(delta.iter()).for_each(|(v, d)| *v += d);
            }
            break;
        }
        let mut step = 1.0;
        let mut accepted = false;
        while step > 1e-12 {
            trial.r.iter_mut().zip(at.r.iter().zip(delta.iter())).for_each(|(t, (v, d))| *t = v + step * d);
            let f_trial = eval.state(&mut trial);
            if f_trial >= f + 0.25 * step * decrement - noise {
                std::mem::swap(&mut at, &mut trial);
                f = f_trial;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    let mean = at.r.iter().sum::<f64>() / n as f64;
    at.r.iter().map(|v| v - mean).collect()
}

/// Rewards with the gradient and the negated Hessian (lower triangle only,
/// which is all the `LDLᵀ` factorisation reads) of the objective there.
struct Point<'a> {
    r: &'a mut [f64],
    grad: &'a mut [f64],
    hess: &'a mut [f64],
}

impl<'a> Point<'a> {
    /// A point on the first `n² + 2n` values of `buffer`, and the rest.
    fn split_from(buffer: &'a mut [f64], n: usize) -> (Point<'a>, &'a mut [f64]) {
        let (r, rest) = buffer.split_at_mut(n);
        let (grad, rest) = rest.split_at_mut(n);
        let (hess, rest) = rest.split_at_mut(n * n);
        (Point { r, grad, hess }, rest)
    }
}

struct Evaluator<'a> {
    pairwise: &'a Pairwise,
    /// `e^{r_x − c}` for the current point, and its inverse.
    scaled: &'a mut [f64],
    inverse: &'a mut [f64],
}

impl Evaluator<'_> {
    /// The ridge log-likelihood at `point.r` (returned), with its gradient and
    /// negated Hessian written into `point`.
    fn state(&mut self, point: &mut Point) -> f64 {
        let Point { r, .. } = point;
        let (lo, hi) = r.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        if lo == hi {
            // Equal rewards (the start, r = 0): σ(0) = 1/2 without exponentials.
            accumulate(self.pairwise, point, |_, _, _| (0.5, 0.5, 2.0))
        } else if hi - lo <= RATIO_RANGE {
            let centre = 0.5 * (lo + hi);
            for ((u, v), &rx) in self.scaled.iter_mut().zip(self.inverse.iter_mut()).zip(r.iter()) {
                *u = (rx - centre).exp();
                *v = 1.0 / *u;
            }
            let (u, v) = (&self.scaled, &self.inverse);
            // σ(r_x − r_y) = u_x / (u_x + u_y), and 1 + e^{−|d|} is that sum over the larger.
            accumulate(self.pairwise, point, |x, y, _| {
                let sum = u[x] + u[y];
                let inverse = 1.0 / sum;
                (u[x] * inverse, u[y] * inverse, sum * v[x].min(v[y]))
            })
        } else {
            accumulate(self.pairwise, point, |_, _, d| {
                let e = (-d.abs()).exp();
                let big = 1.0 / (1.0 + e); // σ(|d|)
                let small = e * big; // σ(−|d|)
                let (sxy, syx) = if d >= 0.0 { (big, small) } else { (small, big) };
                (sxy, syx, 1.0 + e)
            })
        }
    }
}

/// The objective at `point.r`, with its gradient and negated Hessian written
/// into `point`, from `sigmoids(x, y, r_x − r_y) = (σ(d), σ(−d), 1 + e^{−|d|})`.
/// With `a = P(x≻y)` and `W − a` for `P(y≻x)`, a pair contributes
/// `a log σ(d) + (W − a) log σ(−d) = −W ln(1 + e^{−|d|}) − a·max(−d, 0) − (W − a)·max(d, 0)`
/// to the objective, `±(a σ(−d) − (W − a) σ(d))` (that is `±(a − W σ(d))`,
/// in a form that keeps its relative precision for unanimous pairs) to the
/// gradient and `W σ(d) σ(−d)` to the Hessian's Laplacian; nothing in it
/// branches on the sign of `d`.
fn accumulate(pairwise: &Pairwise, point: &mut Point, sigmoids: impl Fn(usize, usize, f64) -> (f64, f64, f64)) -> f64 {
    let Pairwise { n, ref p, weight: w } = *pairwise;
    let Point { r, grad, hess } = point;
    let mut f = 0.0;
    for x in 0..n {
        grad[x] = -BT_RIDGE * r[x];
        hess[x * n + x] = BT_RIDGE;
        f -= 0.5 * BT_RIDGE * r[x] * r[x];
    }
    let (mut logs, mut product, mut run) = (0.0, 1.0, 0);
    let mut losses = 0.0;
    for x in 0..n {
        let (mut grad_x, mut hess_x) = (grad[x], hess[x * n + x]);
        for y in x + 1..n {
            let d = r[x] - r[y];
            let (sxy, syx, one_plus_e) = sigmoids(x, y, d);
            let (a, b) = (p[x * n + y], w - p[x * n + y]);
            losses += a * (-d).max(0.0) + b * d.max(0.0);
            let t = a * syx - b * sxy;
            grad_x += t;
            grad[y] -= t;
            let c = w * sxy * syx;
            hess_x += c;
            hess[y * n + y] += c;
            hess[y * n + x] = -c;
            product *= one_plus_e;
            run += 1;
            if run == PRODUCT_RUN {
                logs += product.ln();
                (product, run) = (1.0, 0);
            }
        }
        (grad[x], hess[x * n + x]) = (grad_x, hess_x);
    }
    f - w * (logs + product.ln()) - losses
}
