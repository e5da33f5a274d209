//! A primal–dual interior-point method for equilibria with large supports
//! (perturbed Condorcet cycles: hundreds of responses, nearly all played).
//!
//! A symmetric equilibrium is a solution of the complementarity problem
//!
//! ```text
//! s = c·1 − g(π) ≥ 0,   π ≥ 0,   π ∘ s = 0,   Σ π = 1
//! ```
//!
//! (`c = 1/(k+1)` then follows from the sum rule). The method keeps π and
//! the slacks s strictly positive and solves `π ∘ s = σμ` by Newton steps
//! with Mehrotra's predictor–corrector choice of σ, so that μ = πᵀs/n falls
//! by orders of magnitude per step, whatever the support; a step never
//! crosses the boundary (fraction to the boundary). Once μ is small the
//! support is read off (`π_y > s_y`) and handed to the active-set Newton
//! method (`newton.rs`), which makes the result exact; that Newton result,
//! re-evaluated in f64, is the only thing the caller keeps.
//!
//! Why not the active-set Newton method from the uniform policy alone: near
//! uniform the support system of a perturbed cycle is badly conditioned, so
//! the first full step sends about half the masses below zero and the active
//! set then wanders through hundreds of supports. The interior point never
//! leaves the interior, and it needs about as many Newton steps (each one
//! dense `(n+1) × (n+1)` LU) for n = 32 as for n = 1,024.

use super::jacobian::jacobian;
use super::newton::{support_newton, NewtonResult};
use crate::cpu::{deviation_into, Scratch};
use crate::linalg::{lu_factor_in_place, lu_solve_in_place};
use crate::population::Population;

/// Interior-point iterations before giving up (the path is then the homotopy's).
const MAX_ITERATIONS: usize = 80;
/// Fraction of the way to the boundary a step may go.
const TO_BOUNDARY: f64 = 0.99;
/// μ at which the support is first handed to Newton (then after every
/// further fall by [`HANDOVER_FALL`]).
const FIRST_HANDOVER: f64 = 1e-8;
const HANDOVER_FALL: f64 = 1e-2;
/// μ below which the support is read off even with responses undecided.
const UNDECIDED_HANDOVER: f64 = 1e-11;
/// How far apart π_y and s_y must be for every y before the support is read off.
const SEPARATION: f64 = 100.0;

/// What the interior-point method did.
#[derive(Clone, Debug)]
pub struct InteriorResult {
    /// The exact equilibrium Newton reached from the interior point, if any.
    pub finish: Option<NewtonResult>,
    /// Interior-point iterations (each one Jacobian and one LU factorisation).
    pub iterations: usize,
}

/// Runs the interior-point method from the uniform policy; see the module docs.
pub fn solve(pop: &Population, k: usize, tol: f64) -> InteriorResult {
    let n = pop.responses;
    let mut scratch = Scratch::default();
    let mut pi = vec![1.0 / n as f64; n];
    let mut g = vec![0.0; n];
    deviation_into(pop, &pi, k, &mut g, &mut scratch);
    // Slacks of the size of g's spread (at least 1/n), so π ∘ s starts balanced.
    let top = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut c = top + 1.0 / n as f64;
    let mut s: Vec<f64> = g.iter().map(|g| c - g).collect();
    let (mut jac, mut system, mut pivots) = (Vec::new(), Vec::new(), Vec::new());
    let dim = n + 1;
    let mut next_handover = FIRST_HANDOVER;
    let mut iterations = 0;
    for iteration in 0..MAX_ITERATIONS {
        iterations = iteration;
        let mu = dot(&pi, &s) / n as f64;
        if !mu.is_finite() {
            break;
        }
        // Hand over once μ is small and every response is clearly on one side
        // (π_y and s_y a hundredfold apart): a support guessed while some are
        // still undecided sends Newton through many wrong supports, each a
        // dense solve (2.7 s wasted at n = 512 before this test).
        let decided = pi.iter().zip(&s).all(|(&p, &s)| p.max(s) >= SEPARATION * p.min(s));
        // Without strict complementarity (a response with π_y = s_y = 0 at
        // the equilibrium: ties, common in real data) some stay undecided
        // for ever; once μ is tiny the support is read off all the same.
        if mu <= next_handover && (decided || mu <= UNDECIDED_HANDOVER) {
            next_handover = mu * HANDOVER_FALL;
            let guess: Vec<f64> = pi.iter().zip(&s).map(|(&p, &s)| if p > s { p } else { 0.0 }).collect();
            if let Some(done) = support_newton(pop, k, &guess, None, tol) {
                return InteriorResult { finish: Some(done), iterations: iteration };
            }
        }
        // Residuals: r1 = s − c + g, r2 = Σπ − 1.
        let r1: Vec<f64> = (0..n).map(|y| s[y] - c + g[y]).collect();
        let r2 = pi.iter().sum::<f64>() - 1.0;
        jacobian(pop, &pi, k, &mut jac);
        // Eliminating ds = −r1 + dc·1 − J dπ from S dπ + Π ds = −r3 leaves
        // [S − ΠJ, π; 1ᵀ, 0] (dπ, dc) = (Π r1 − r3, −r2).
        system.clear();
        system.resize(dim * dim, 0.0);
        for y in 0..n {
            let row = &mut system[y * dim..(y + 1) * dim];
            for (entry, j) in row[..n].iter_mut().zip(&jac[y * n..(y + 1) * n]) {
                *entry = -pi[y] * j;
            }
            row[y] += s[y];
            row[n] = pi[y];
        }
        system[n * dim..n * dim + n].iter_mut().for_each(|v| *v = 1.0);
        if !lu_factor_in_place(&mut system, dim, &mut pivots) {
            break;
        }
        let direction = |r3: &dyn Fn(usize) -> f64| {
            let mut rhs: Vec<f64> = (0..n).map(|y| pi[y] * r1[y] - r3(y)).collect();
            rhs.push(-r2);
            lu_solve_in_place(&system, dim, &pivots, &mut rhs);
            let dc = rhs[n];
            rhs.truncate(n);
            let ds: Vec<f64> = (0..n).map(|y| -r1[y] + dc - dot(&jac[y * n..(y + 1) * n], &rhs)).collect();
            (rhs, dc, ds)
        };
        // Predictor (σ = 0), then the corrector aimed at σμ with σ = (μ_aff/μ)³.
        let (dp, _, ds) = direction(&|y| pi[y] * s[y]);
        let alpha = step_to_boundary(&pi, &dp, &s, &ds, 1.0);
        let mu_aff = (0..n).map(|y| (pi[y] + alpha * dp[y]) * (s[y] + alpha * ds[y])).sum::<f64>() / n as f64;
        let sigma = (mu_aff / mu).clamp(0.0, 1.0).powi(3);
        let (dp, dc, ds) = direction(&|y| pi[y] * s[y] + dp[y] * ds[y] - sigma * mu);
        let alpha = step_to_boundary(&pi, &dp, &s, &ds, TO_BOUNDARY);
        if !(alpha.is_finite() && alpha > 0.0) {
            break;
        }
        (0..n).for_each(|y| {
            pi[y] += alpha * dp[y];
            s[y] += alpha * ds[y];
        });
        c += alpha * dc;
        deviation_into(pop, &pi, k, &mut g, &mut scratch);
    }
    InteriorResult { finish: None, iterations }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// The largest step ≤ 1 that keeps π and s positive, times `fraction`
/// (a full step when it stays inside).
fn step_to_boundary(pi: &[f64], dp: &[f64], s: &[f64], ds: &[f64], fraction: f64) -> f64 {
    let limit = |x: &[f64], dx: &[f64]| {
        x.iter().zip(dx).filter(|(_, d)| **d < 0.0).map(|(x, d)| -x / d).fold(f64::INFINITY, f64::min)
    };
    let to_boundary = limit(pi, dp).min(limit(s, ds));
    if to_boundary > 1.0 {
        1.0
    } else {
        fraction * to_boundary
    }
}
