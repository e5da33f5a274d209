//! The logit quantal-response-equilibrium homotopy (McKelvey–Palfrey 1995;
//! path following as in Turocy 2005 and Gambit's `logit` tool), restricted
//! to symmetric profiles.
//!
//! A symmetric logit QRE at precision λ ≥ 0 is a fixed point
//! `π = softmax(λ g(π))`. In log coordinates `v = ln π` it is a zero of
//!
//! ```text
//! H(v, λ) = v − λ g(π) + LSE(λ g(π)) · 1,   π = softmax(v),
//! ```
//!
//! n equations in n + 1 unknowns. At λ = 0 the only zero is the uniform
//! policy, and for generic games the zeros form a smooth curve from it whose
//! λ grows without bound along it (it may fold back in λ on the way); its
//! limit points as λ → ∞ are Nash equilibria, here symmetric ones because
//! every point on it is symmetric (a fixed point of a continuous map of the
//! simplex, so the curve never ends). We follow the curve by arclength with
//! an Euler predictor along the tangent and a Newton corrector on the
//! hyperplane orthogonal to it, and hand the current point to the support
//! Newton method each time λ has doubled; it finishes as soon as the path
//! has revealed the equilibrium's support.

use super::jacobian::jacobian;
use super::newton::{support_newton, NewtonResult};
use crate::cpu::{deviation_into, Scratch};
use crate::linalg::least_squares;
use crate::population::Population;

/// Corrector: the residual at which a point counts as on the path.
const ON_PATH: f64 = 1e-9;
/// Corrector iterations before the step is halved.
const MAX_CORRECTOR: usize = 8;
/// The shortest arclength step before the path is given up.
const MIN_STEP: f64 = 1e-10;
/// λ at which the first polish is tried (then each time λ doubles).
const FIRST_POLISH: f64 = 1.0;
/// λ beyond which the path is abandoned (the support never settled).
const MAX_LAMBDA: f64 = 1e14;

/// Where the path ended.
#[derive(Clone, Debug)]
pub struct PathResult {
    /// The equilibrium Newton reached, if any.
    pub finish: Option<NewtonResult>,
    /// Predictor–corrector steps taken.
    pub steps: usize,
    /// λ of the last point on the path.
    pub lambda: f64,
    /// The last point on the path, as a policy (a QRE, a near-equilibrium).
    pub policy: Vec<f64>,
}

struct Path<'a> {
    pop: &'a Population,
    k: usize,
    n: usize,
    g: Vec<f64>,
    pi: Vec<f64>,
    jac: Vec<f64>,
    scratch: Scratch,
}

impl Path<'_> {
    /// Sets `pi = softmax(v)` and `g = g(pi)`; returns `H(v, λ)`.
    fn residual(&mut self, x: &[f64]) -> Vec<f64> {
        let (v, lambda) = (&x[..self.n], x[self.n]);
        softmax_into(v, &mut self.pi);
        deviation_into(self.pop, &self.pi, self.k, &mut self.g, &mut self.scratch);
        let lse = log_sum_exp(self.g.iter().map(|g| lambda * g));
        v.iter().zip(&self.g).map(|(v, g)| v - lambda * g + lse).collect()
    }

    /// The n × (n+1) Jacobian of H at `x` (after `residual(x)`), row-major.
    fn jacobian(&mut self, x: &[f64]) -> Vec<f64> {
        let n = self.n;
        let lambda = x[n];
        jacobian(self.pop, &self.pi, self.k, &mut self.jac);
        // q = softmax(λ g): ∂LSE(λg)/∂g = λ q.
        let mut q: Vec<f64> = self.g.iter().map(|g| lambda * g).collect();
        let lse = log_sum_exp(q.iter().cloned());
        q.iter_mut().for_each(|t| *t = (*t - lse).exp());
        // M = G (diag π − π πᵀ) = ∂g/∂v.
        let g_pi: Vec<f64> = (0..n).map(|y| (0..n).map(|z| self.jac[y * n + z] * self.pi[z]).sum()).collect();
        let mut m = vec![0.0; n * n];
        for y in 0..n {
            for z in 0..n {
                m[y * n + z] = self.jac[y * n + z] * self.pi[z] - g_pi[y] * self.pi[z];
            }
        }
        // ∂H/∂v = I − λ (M − 1 qᵀM); ∂H/∂λ = −(g − ⟨q, g⟩).
        let q_m: Vec<f64> = (0..n).map(|z| (0..n).map(|y| q[y] * m[y * n + z]).sum()).collect();
        let q_g: f64 = q.iter().zip(&self.g).map(|(q, g)| q * g).sum();
        let cols = n + 1;
        let mut out = vec![0.0; n * cols];
        for y in 0..n {
            for z in 0..n {
                out[y * cols + z] = -lambda * (m[y * n + z] - q_m[z]) + if y == z { 1.0 } else { 0.0 };
            }
            out[y * cols + n] = -(self.g[y] - q_g);
        }
        out
    }
}

/// Solves `[J; tᵀ] d = rhs` for the square augmented system.
fn augmented_solve(jac: &[f64], t: &[f64], rhs: &[f64]) -> Option<Vec<f64>> {
    let mut a = jac.to_vec();
    a.extend_from_slice(t);
    least_squares(&a, t.len(), t.len(), rhs)
}

/// Unit tangent of the path at a point with Jacobian `jac`, oriented along `previous`.
fn tangent(jac: &[f64], previous: &[f64]) -> Option<Vec<f64>> {
    let dim = previous.len();
    let mut rhs = vec![0.0; dim];
    rhs[dim - 1] = 1.0;
    let mut t = augmented_solve(jac, previous, &rhs)?;
    let norm = t.iter().map(|v| v * v).sum::<f64>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return None;
    }
    let sign = if t.iter().zip(previous).map(|(a, b)| a * b).sum::<f64>() < 0.0 { -1.0 } else { 1.0 };
    t.iter_mut().for_each(|v| *v *= sign / norm);
    Some(t)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, r| m.max(r.abs()))
}

/// Follows the QRE path from λ = 0 until the support Newton method reaches
/// `E_k ≤ tol` (or `max_steps` predictor–corrector steps are spent).
pub fn follow(pop: &Population, k: usize, tol: f64, max_steps: usize) -> PathResult {
    let n = pop.responses;
    let mut path = Path { pop, k, n, g: vec![0.0; n], pi: vec![0.0; n], jac: Vec::new(), scratch: Scratch::default() };
    let mut x = vec![-(n as f64).ln(); n + 1];
    x[n] = 0.0;
    let mut direction = vec![0.0; n + 1];
    direction[n] = 1.0;
    let mut step = 0.1;
    let mut next_polish = FIRST_POLISH;
    let mut steps = 0;
    path.residual(&x);
    let end =
        |x: &[f64], path: &Path, finish, steps| PathResult { finish, steps, lambda: x[n], policy: path.pi.clone() };
    while steps < max_steps {
        let jac = path.jacobian(&x);
        let Some(t) = tangent(&jac, &direction) else { break };
        direction = t;
        // Predictor–corrector with step halving.
        let accepted = loop {
            if step < MIN_STEP {
                break None;
            }
            let mut y: Vec<f64> = x.iter().zip(&direction).map(|(a, d)| a + step * d).collect();
            let mut r = path.residual(&y);
            let mut ok = None;
            let mut previous = f64::INFINITY;
            for iteration in 0..MAX_CORRECTOR {
                let size = max_abs(&r);
                if !size.is_finite() || size > 0.5 * previous && iteration > 0 {
                    break;
                }
                if size <= ON_PATH {
                    ok = Some(iteration);
                    break;
                }
                previous = size;
                let jy = path.jacobian(&y);
                let mut rhs: Vec<f64> = r.iter().map(|v| -v).collect();
                rhs.push(0.0);
                let Some(d) = augmented_solve(&jy, &direction, &rhs) else { break };
                y.iter_mut().zip(&d).for_each(|(a, b)| *a += b);
                r = path.residual(&y);
            }
            match ok {
                Some(iterations) => break Some((y, r, iterations)),
                None => step *= 0.5,
            }
        };
        let Some((y, _, iterations)) = accepted else { break };
        steps += 1;
        x = y;
        // Few corrections: the path is straight here, lengthen the step.
        if iterations <= 2 {
            step *= 2.0;
        } else if iterations >= 5 {
            step *= 0.7;
        }
        if x[n] >= next_polish {
            next_polish = 2.0 * x[n].max(next_polish);
            if let Some(done) = support_newton(pop, k, &path.pi, None, tol) {
                return end(&x, &path, Some(done), steps);
            }
        }
        if x[n] > MAX_LAMBDA {
            break;
        }
    }
    // A rejected trial point may be loaded: go back to the last point on the path.
    path.residual(&x);
    let last = path.pi.clone();
    let finish = support_newton(pop, k, &last, None, tol);
    end(&x, &path, finish, steps)
}

fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let top = values.clone().fold(f64::NEG_INFINITY, f64::max);
    top + values.map(|v| (v - top).exp()).sum::<f64>().ln()
}

fn softmax_into(v: &[f64], out: &mut [f64]) {
    let lse = log_sum_exp(v.iter().cloned());
    out.iter_mut().zip(v).for_each(|(o, v)| *o = (v - lse).exp());
}
